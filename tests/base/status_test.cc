#include "tessera/status.h"

#include <gtest/gtest.h>

#include <memory>

#include "base/sha256.h"
#include "base/utf8.h"

namespace tessera {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return InvalidArgument("odd: " + std::to_string(x));
  return x / 2;
}

Result<int> Quarter(int x) {
  TS_ASSIGN_OR_RETURN(int h, Half(x));
  TS_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

TEST(StatusTest, CodesHaveStableGroupsAndNames) {
  EXPECT_EQ(GroupOf(StatusCode::kMalformed), StatusGroup::kInput);
  EXPECT_EQ(GroupOf(StatusCode::kMissingTensor), StatusGroup::kAdmission);
  EXPECT_EQ(GroupOf(StatusCode::kResourceExhausted), StatusGroup::kResource);
  EXPECT_EQ(GroupOf(StatusCode::kCancelled), StatusGroup::kExecution);
  EXPECT_EQ(GroupOf(StatusCode::kPermissionDenied), StatusGroup::kPolicy);
  EXPECT_EQ(static_cast<int>(StatusCode::kTruncated), 103);
  EXPECT_EQ(CodeName(StatusCode::kShapeMismatch), "shape_mismatch");
  EXPECT_EQ(Status(StatusCode::kNotFound, "x").ToString(), "not_found: x");
  EXPECT_EQ(Status().ToString(), "ok");
}

TEST(StatusTest, WithContextKeepsCode) {
  Status s = Malformed("bad byte").WithContext("gguf");
  EXPECT_EQ(s.code(), StatusCode::kMalformed);
  EXPECT_EQ(s.message(), "gguf: bad byte");
}

TEST(ResultTest, PropagatesErrorsAndValues) {
  ASSERT_TRUE(Quarter(8).ok());
  EXPECT_EQ(*Quarter(8), 2);
  Result<int> r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "odd: 3");
}

TEST(ResultTest, HoldsMoveOnlyValues) {
  Result<std::unique_ptr<int>> r(std::make_unique<int>(7));
  ASSERT_TRUE(r.ok());
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 7);
}

TEST(ResultTest, OkStatusBecomesInternalError) {
  Result<int> r{Status()};
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
}

TEST(Sha256Test, KnownVectors) {
  std::string abc = "abc";
  EXPECT_EQ(base::Sha256Hex({reinterpret_cast<const std::uint8_t*>(abc.data()), abc.size()}),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(base::Sha256Hex({}),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Utf8Test, AcceptsValidAndNamesOffsetOfInvalid) {
  EXPECT_TRUE(base::ValidateUtf8("héllo 🦙 ▁").ok());
  EXPECT_TRUE(base::ValidateUtf8("").ok());
  Status s = base::ValidateUtf8(std::string("ab\xC3", 3));
  EXPECT_EQ(s.code(), StatusCode::kInvalidUtf8);
  EXPECT_NE(s.message().find("byte 2"), std::string::npos);
  EXPECT_FALSE(base::ValidateUtf8("\xC0\xAF").ok());          // overlong
  EXPECT_FALSE(base::ValidateUtf8("\xED\xA0\x80").ok());      // surrogate
  EXPECT_FALSE(base::ValidateUtf8("\xF4\x90\x80\x80").ok());  // above U+10FFFF
  EXPECT_FALSE(base::ValidateUtf8("\xFF").ok());
}

}  // namespace
}  // namespace tessera
