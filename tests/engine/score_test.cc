// Tests of Session::Score (include/tessera/engine.h): teacher forcing agrees with generation.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "tessera/engine.h"
#include "test_model.h"

namespace tessera::engine_test {
namespace {

class ScoreTest : public SharedModelTest<ScoreTest> {
 public:
  static constexpr const char* kModelName = "score";
};

// Generates `n` tokens with `options` and checks that Score reports the same log-probabilities
// and alternatives for them.
void ExpectScoreMatchesGenerate(const Model& model, std::int32_t n, GenerateOptions options) {
  options.max_tokens = n;
  auto gen = NewSession(model);
  const std::vector<std::int32_t> prompt = {1, 300, 301, 302};
  Result<GenerateResult> g = gen->Generate(prompt, options);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  ASSERT_EQ(g->stop_reason, StopReason::kMaxTokens) << "pick a prompt that does not hit EOS";
  const std::vector<std::int32_t> continuation = Ids(*g);

  auto scorer = NewSession(model);
  Result<ScoreResult> s = scorer->Score(prompt, continuation, options.top_n);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_EQ(s->tokens.size(), continuation.size());
  double sum = 0.0;
  for (std::size_t i = 0; i < continuation.size(); ++i) {
    EXPECT_EQ(s->tokens[i].id, continuation[i]);
    EXPECT_NEAR(s->tokens[i].logprob, g->tokens[i].logprob, 1e-4) << "token " << i;
    const auto sa = s->Alternatives(i);
    const auto ga = g->Alternatives(i);
    ASSERT_EQ(sa.size(), ga.size());
    for (std::size_t k = 0; k < sa.size(); ++k) {
      EXPECT_NEAR(sa[k].logprob, ga[k].logprob, 1e-4);
      // Ids agree unless two alternatives are too close to order reliably.
      if (k + 1 < sa.size() && std::fabs(ga[k].logprob - ga[k + 1].logprob) > 1e-3f) {
        EXPECT_EQ(sa[k].id, ga[k].id);
      }
    }
    sum += s->tokens[i].logprob;
  }
  EXPECT_NEAR(s->sum_logprob, sum, 1e-6);
  EXPECT_NEAR(s->perplexity, std::exp(-sum / static_cast<double>(continuation.size())), 1e-9);
  // The scoring session now holds prompt + continuation.
  EXPECT_EQ(scorer->n_past(), static_cast<std::int32_t>(prompt.size() + continuation.size()));
}

TEST_F(ScoreTest, MatchesGreedyGeneration) {
  GenerateOptions options;
  options.top_n = 4;
  ExpectScoreMatchesGenerate(*model_, 10, options);
}

TEST_F(ScoreTest, MatchesSampledGeneration) {
  GenerateOptions options;
  options.temperature = 1.0f;
  options.seed = 3;
  options.top_n = 5;
  ExpectScoreMatchesGenerate(*model_, 12, options);
}

TEST_F(ScoreTest, MatchesAcrossScoreChunks) {
  // More continuation tokens than one Forward chunk of Score (64).
  GenerateOptions options;
  options.temperature = 0.8f;
  options.seed = 9;
  options.top_n = 1;
  ExpectScoreMatchesGenerate(*model_, 150, options);
}

TEST_F(ScoreTest, SingleTokenPromptAndPerplexity) {
  auto s = NewSession(*model_);
  const std::vector<std::int32_t> prompt = {1};
  const std::vector<std::int32_t> continuation = {300, 301, 302, 303};
  Result<ScoreResult> r = s->Score(prompt, continuation);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->tokens.size(), 4u);
  EXPECT_TRUE(r->alternatives.empty());
  double sum = 0.0;
  for (const ScoredToken& t : r->tokens) {
    EXPECT_LT(t.logprob, 0.0f);
    sum += t.logprob;
  }
  EXPECT_NEAR(r->perplexity, std::exp(-sum / 4.0), 1e-9);
  EXPECT_GT(r->perplexity, 1.0);
  // Scoring twice gives the same numbers (the session is replaced, not appended to).
  Result<ScoreResult> again = s->Score(prompt, continuation);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->sum_logprob, r->sum_logprob);
}

TEST_F(ScoreTest, InputErrorsHaveSpecificCodes) {
  auto s = NewSession(*model_);
  const std::vector<std::int32_t> prompt = {1, 300};
  const std::vector<std::int32_t> continuation = {301};
  const std::vector<std::int32_t> none;
  Result<ScoreResult> empty_prompt = s->Score(none, continuation);
  EXPECT_EQ(empty_prompt.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s->Score(prompt, none).status().code(), StatusCode::kInvalidArgument);
  const std::vector<std::int32_t> bad = {301, 512};
  Result<ScoreResult> out_of_range = s->Score(prompt, bad);
  EXPECT_EQ(out_of_range.status().code(), StatusCode::kOutOfRange);
  EXPECT_NE(out_of_range.status().message().find("512"), std::string::npos);
  const std::vector<std::int32_t> negative = {-1};
  EXPECT_EQ(s->Score(negative, continuation).status().code(), StatusCode::kOutOfRange);
  const std::vector<std::int32_t> long_continuation(255, 300);
  EXPECT_EQ(s->Score(prompt, long_continuation).status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(s->Score(prompt, continuation, 101).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s->Score(prompt, continuation, -1).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s->n_past(), 0);
}

}  // namespace
}  // namespace tessera::engine_test
