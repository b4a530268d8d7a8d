// HandleTable: ids with generation counters, stale after removal, slots reused safely.
#include "runtime/handle_table.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace tessera::runtime {
namespace {

TEST(HandleTable, IdsGoStaleWhenRemovedAndSlotsAreReused) {
  HandleTable<std::string> table("thing");
  EXPECT_EQ(table.Get(0).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(table.Get(1).status().code(), StatusCode::kFailedPrecondition);
  const std::uint64_t a = table.Add(std::make_shared<std::string>("a"));
  const std::uint64_t b = table.Add(std::make_shared<std::string>("b"));
  EXPECT_NE(a, 0u);
  EXPECT_NE(a, b);
  EXPECT_EQ(*table.Get(a).value(), "a");
  EXPECT_EQ(*table.Get(b).value(), "b");
  EXPECT_EQ(table.size(), 2u);
  std::shared_ptr<std::string> kept = table.Remove(a).value();
  EXPECT_EQ(*kept, "a");  // the caller still holds it
  Status stale = table.Get(a).status();
  EXPECT_EQ(stale.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(stale.message().find("thing handle"), std::string::npos) << stale.message();
  EXPECT_EQ(table.Remove(a).status().code(), StatusCode::kFailedPrecondition);
  const std::uint64_t c = table.Add(std::make_shared<std::string>("c"));  // a's slot again
  EXPECT_EQ(c & 0xffffffffu, a & 0xffffffffu);
  EXPECT_NE(c, a);
  EXPECT_EQ(table.Get(a).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(*table.Get(c).value(), "c");
  EXPECT_EQ(table.Get(c + 1).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(table.Get(~0ull).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(table.size(), 2u);
}

}  // namespace
}  // namespace tessera::runtime
