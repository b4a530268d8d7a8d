// Tests of Session::Embed (include/tessera/engine.h): length, a fresh context whatever the
// session held, the session's state afterwards, and input errors that leave the session as it
// was. (Values against the double-precision reference: tests/model/embed_reference_test.cc.)
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "tessera/engine.h"
#include "test_model.h"

namespace tessera::engine_test {
namespace {

class EmbedTest : public SharedModelTest<EmbedTest> {
 public:
  static constexpr const char* kModelName = "embed";
};

// 100 ids: two prefill batches of the session (64).
std::vector<std::int32_t> LongIds() {
  std::vector<std::int32_t> ids = {1};
  for (std::int32_t i = 0; i < 99; ++i) ids.push_back(260 + (i * 37) % 250);
  return ids;
}

TEST_F(EmbedTest, HasNEmbdFiniteValues) {
  auto s = NewSession(*model_);
  EXPECT_GT(model_->n_embd(), 0);
  Result<std::vector<float>> e = s->Embed(std::vector<std::int32_t>{1, 300, 301});
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  ASSERT_EQ(e->size(), static_cast<std::size_t>(model_->n_embd()));
  double norm = 0.0;
  for (float v : *e) {
    ASSERT_TRUE(std::isfinite(v));
    norm += static_cast<double>(v) * v;
  }
  EXPECT_GT(norm, 0.0);
}

// The same ids give the same vector, bit for bit, whatever the session held before, and
// different ids give a different one.
TEST_F(EmbedTest, EvaluatesInAFreshContext) {
  const std::vector<std::int32_t> ids = LongIds();
  auto fresh = NewSession(*model_);
  Result<std::vector<float>> want = fresh->Embed(ids);
  ASSERT_TRUE(want.ok());

  auto used = NewSession(*model_);
  GenerateOptions options;
  options.max_tokens = 10;
  ASSERT_TRUE(used->Generate(std::vector<std::int32_t>{1, 290, 291, 292}, options).ok());
  Result<std::vector<float>> got = used->Embed(ids);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, *want);
  Result<std::vector<float>> again = used->Embed(ids);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *want);

  std::vector<std::int32_t> other = ids;
  other.back() = 301;
  Result<std::vector<float>> changed = used->Embed(other);
  ASSERT_TRUE(changed.ok());
  EXPECT_NE(*changed, *want);
}

// Afterwards the session holds the ids, evaluated: generating after Embed(ids) equals
// generating from ids as a prompt.
TEST_F(EmbedTest, SessionHoldsTheIdsAfterwards) {
  const std::vector<std::int32_t> ids = LongIds();
  auto s = NewSession(*model_);
  ASSERT_TRUE(s->Embed(ids).ok());
  ASSERT_EQ(s->n_past(), static_cast<std::int32_t>(ids.size()));
  EXPECT_EQ(std::vector<std::int32_t>(s->tokens().begin(), s->tokens().end()), ids);

  GenerateOptions options;
  options.max_tokens = 12;
  options.top_n = 3;
  const std::vector<std::int32_t> next = {300, 301};
  Result<GenerateResult> continued = s->Generate(next, options);
  ASSERT_TRUE(continued.ok()) << continued.status().ToString();

  std::vector<std::int32_t> whole = ids;
  whole.insert(whole.end(), next.begin(), next.end());
  auto plain = NewSession(*model_);
  Result<GenerateResult> direct = plain->Generate(whole, options);
  ASSERT_TRUE(direct.ok());
  ASSERT_EQ(Ids(*continued), Ids(*direct));
  for (std::size_t i = 0; i < continued->tokens.size(); ++i) {
    EXPECT_NEAR(continued->tokens[i].logprob, direct->tokens[i].logprob, 1e-5) << i;
  }
}

TEST_F(EmbedTest, InputErrorsHaveSpecificCodesAndLeaveTheSessionUnchanged) {
  auto s = NewSession(*model_);
  GenerateOptions options;
  options.max_tokens = 3;
  ASSERT_TRUE(s->Generate(std::vector<std::int32_t>{1, 300}, options).ok());
  const std::vector<std::int32_t> before(s->tokens().begin(), s->tokens().end());

  Result<std::vector<float>> empty = s->Embed(std::vector<std::int32_t>{});
  EXPECT_EQ(empty.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(empty.status().message().find("empty"), std::string::npos);

  Result<std::vector<float>> bad_id = s->Embed(std::vector<std::int32_t>{1, 512});
  EXPECT_EQ(bad_id.status().code(), StatusCode::kOutOfRange);
  EXPECT_NE(bad_id.status().message().find("512"), std::string::npos);
  EXPECT_EQ(s->Embed(std::vector<std::int32_t>{-1}).status().code(), StatusCode::kOutOfRange);

  const std::vector<std::int32_t> too_long(static_cast<std::size_t>(s->n_ctx()) + 1, 300);
  Result<std::vector<float>> long_status = s->Embed(too_long);
  EXPECT_EQ(long_status.status().code(), StatusCode::kOutOfRange);
  EXPECT_NE(long_status.status().message().find(std::to_string(s->n_ctx())), std::string::npos);

  EXPECT_EQ(std::vector<std::int32_t>(s->tokens().begin(), s->tokens().end()), before);
  // Exactly n_ctx ids fit.
  const std::vector<std::int32_t> full(static_cast<std::size_t>(s->n_ctx()), 300);
  EXPECT_TRUE(s->Embed(full).ok());
}

}  // namespace
}  // namespace tessera::engine_test
