// Tests of Session::ScoreChoices (include/tessera/engine.h): every result equals Score() of
// that choice bit for bit, on a random model (choices shorter and longer than a Score chunk),
// with a LoRA adapter, and on the shipped router with its seven labels; the session's state
// afterwards; and input errors that leave the session as it was.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "tessera/engine.h"
#include "test_model.h"

namespace tessera::engine_test {
namespace {

class ScoreChoicesTest : public SharedModelTest<ScoreChoicesTest> {
 public:
  static constexpr const char* kModelName = "score_choices";
};

// `got` equals `want` within 1e-5 per token log-probability, and in fact bit for bit.
void ExpectSameScore(const ScoreResult& got, const ScoreResult& want, const std::string& what) {
  ASSERT_EQ(got.tokens.size(), want.tokens.size()) << what;
  for (std::size_t i = 0; i < got.tokens.size(); ++i) {
    EXPECT_EQ(got.tokens[i].id, want.tokens[i].id) << what << " token " << i;
    EXPECT_NEAR(got.tokens[i].logprob, want.tokens[i].logprob, 1e-5) << what << " token " << i;
    EXPECT_EQ(got.tokens[i].logprob, want.tokens[i].logprob) << what << " token " << i;
    const auto ga = got.Alternatives(i);
    const auto wa = want.Alternatives(i);
    ASSERT_EQ(ga.size(), wa.size());
    for (std::size_t k = 0; k < ga.size(); ++k) {
      EXPECT_EQ(ga[k].id, wa[k].id) << what << " token " << i << " alternative " << k;
      EXPECT_EQ(ga[k].logprob, wa[k].logprob) << what << " token " << i << " alternative " << k;
    }
  }
  EXPECT_EQ(got.sum_logprob, want.sum_logprob) << what;
  EXPECT_EQ(got.perplexity, want.perplexity) << what;
}

// Each ScoreChoices result against Score of that choice on a fresh session.
void ExpectEqualsScore(const Model& model, const SessionOptions& so,
                       const std::vector<std::int32_t>& prompt,
                       const std::vector<std::vector<std::int32_t>>& choices, std::int32_t top_n) {
  auto session = model.NewSession(so);
  ASSERT_TRUE(session.ok());
  Result<std::vector<ScoreResult>> all = (*session)->ScoreChoices(prompt, choices, top_n);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), choices.size());
  auto scorer = model.NewSession(so);
  ASSERT_TRUE(scorer.ok());
  for (std::size_t i = 0; i < choices.size(); ++i) {
    Result<ScoreResult> one = (*scorer)->Score(prompt, choices[i], top_n);
    ASSERT_TRUE(one.ok()) << one.status().ToString();
    ExpectSameScore((*all)[i], *one, "choice " + std::to_string(i));
  }
}

// 70 ids: longer than a Score chunk (64).
std::vector<std::int32_t> LongChoice() {
  std::vector<std::int32_t> c;
  for (std::int32_t i = 0; i < 70; ++i) c.push_back(260 + (i * 41) % 250);
  return c;
}

TEST_F(ScoreChoicesTest, EachResultEqualsScoreOfThatChoice) {
  const std::vector<std::int32_t> prompt = {1, 300, 301, 302, 303};
  const std::vector<std::vector<std::int32_t>> choices = {
      {310}, {311, 2}, {320, 321, 322, 323, 2}, LongChoice(), {311, 2}, {400, 401}};
  ExpectEqualsScore(*model_, {}, prompt, choices, 0);
  ExpectEqualsScore(*model_, {}, prompt, choices, 5);
  // A one-token prompt (no prompt head to share) and a prompt longer than a prefill batch.
  ExpectEqualsScore(*model_, {}, {1}, choices, 2);
  std::vector<std::int32_t> long_prompt = {1};
  for (std::int32_t i = 0; i < 80; ++i) long_prompt.push_back(270 + i);
  ExpectEqualsScore(*model_, {}, long_prompt, choices, 2);
}

TEST_F(ScoreChoicesTest, SessionHoldsThePromptAndTheLastChoice) {
  const std::vector<std::int32_t> prompt = {1, 300, 301};
  const std::vector<std::vector<std::int32_t>> choices = {
      {310, 311, 312}, LongChoice(), {320, 321}};
  auto s = NewSession(*model_);
  ASSERT_TRUE(s->ScoreChoices(prompt, choices).ok());
  std::vector<std::int32_t> want = prompt;
  want.insert(want.end(), choices.back().begin(), choices.back().end());
  EXPECT_EQ(std::vector<std::int32_t>(s->tokens().begin(), s->tokens().end()), want);

  // Generating afterwards equals generating after Score(prompt, last choice).
  auto t = NewSession(*model_);
  ASSERT_TRUE(t->Score(prompt, choices.back()).ok());
  GenerateOptions options;
  options.max_tokens = 8;
  options.top_n = 3;
  Result<GenerateResult> a = s->Generate(std::vector<std::int32_t>{330}, options);
  Result<GenerateResult> b = t->Generate(std::vector<std::int32_t>{330}, options);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(Ids(*a), Ids(*b));
  for (std::size_t i = 0; i < a->tokens.size(); ++i) {
    EXPECT_EQ(a->tokens[i].logprob, b->tokens[i].logprob) << i;
  }
}

TEST_F(ScoreChoicesTest, InputErrorsHaveSpecificCodesAndLeaveTheSessionUnchanged) {
  auto s = NewSession(*model_);
  GenerateOptions options;
  options.max_tokens = 3;
  ASSERT_TRUE(s->Generate(std::vector<std::int32_t>{1, 300}, options).ok());
  const std::vector<std::int32_t> before(s->tokens().begin(), s->tokens().end());
  const std::vector<std::int32_t> prompt = {1, 300};
  using Choices = std::vector<std::vector<std::int32_t>>;

  auto expect = [&](const Choices& choices, const std::vector<std::int32_t>& p, std::int32_t top_n,
                    StatusCode code, const std::string& fragment) {
    Result<std::vector<ScoreResult>> r = s->ScoreChoices(p, choices, top_n);
    ASSERT_FALSE(r.ok()) << fragment;
    EXPECT_EQ(r.status().code(), code) << r.status().ToString();
    EXPECT_NE(r.status().message().find(fragment), std::string::npos) << r.status().ToString();
  };
  expect({{310}}, {}, 0, StatusCode::kInvalidArgument, "prompt is empty");
  expect({}, prompt, 0, StatusCode::kInvalidArgument, "no choices");
  expect({{310}, {311}, {}}, prompt, 0, StatusCode::kInvalidArgument, "choice 2 is empty");
  expect({{310}, {311, 512}}, prompt, 0, StatusCode::kOutOfRange, "choice 1 token id 512");
  expect({{310}}, {1, -4}, 0, StatusCode::kOutOfRange, "prompt token id -4");
  expect({{310}}, prompt, 101, StatusCode::kInvalidArgument, "top_n 101");
  const std::vector<std::int32_t> long_choice(static_cast<std::size_t>(s->n_ctx()) - 1, 300);
  expect({{310}, long_choice}, prompt, 0, StatusCode::kOutOfRange, "choice 1 (255 tokens)");
  const Choices too_many(static_cast<std::size_t>(Session::kMaxChoices) + 1, {310});
  expect(too_many, prompt, 0, StatusCode::kOutOfRange, "257 choices, more than the limit 256");
  EXPECT_EQ(std::vector<std::int32_t>(s->tokens().begin(), s->tokens().end()), before);

  // The limits themselves are accepted: 256 choices; prompt + longest choice == n_ctx.
  const Choices most(static_cast<std::size_t>(Session::kMaxChoices), {310});
  Result<std::vector<ScoreResult>> r = s->ScoreChoices(prompt, most);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->size(), most.size());
  const std::vector<std::int32_t> fits(static_cast<std::size_t>(s->n_ctx()) - prompt.size(), 300);
  EXPECT_TRUE(s->ScoreChoices(prompt, Choices{{310}, fits}).ok());
}

// The shipped router and base models, as the orchestrator uses them: each label's tokens + EOS.
class ShippedModelsTest : public ::testing::Test {
 protected:
  static std::string Dir() { return std::string(TESSERA_SOURCE_DIR) + "/models/"; }
  static std::unique_ptr<Model> Open(const std::string& name) {
    ModelOptions options;
    options.n_threads = 1;
    return OpenModel(Dir() + name, options);
  }
  static std::vector<std::vector<std::int32_t>> Labels(const Model& model,
                                                       const std::vector<std::string>& labels) {
    std::vector<std::vector<std::int32_t>> out;
    for (const std::string& label : labels) {
      Result<std::vector<std::int32_t>> ids = model.Tokenize(label, false, false);
      EXPECT_TRUE(ids.ok());
      out.push_back(ids.ok() ? *ids : std::vector<std::int32_t>{});
      out.back().push_back(model.eos_id());
    }
    return out;
  }
};

const std::vector<std::string> kRouteLabels = {"arith",   "date",      "extract", "none",
                                               "reverse", "sentiment", "unit"};

TEST_F(ShippedModelsTest, RouterLabelsEqualScoreAndPickTheSkill) {
  auto router = Open("router.gguf");
  ASSERT_NE(router, nullptr);
  const auto labels = Labels(*router, kRouteLabels);
  const std::vector<std::pair<std::string, std::string>> requests = {
      {"route: what is 12 plus 7?\n", "arith"}, {"route: how many m is 643 km?\n", "unit"}};
  for (const auto& [text, want] : requests) {
    Result<std::vector<std::int32_t>> prompt = router->Tokenize(text, true, false);
    ASSERT_TRUE(prompt.ok());
    ExpectEqualsScore(*router, {}, *prompt, labels, 0);
    auto s = router->NewSession();
    ASSERT_TRUE(s.ok());
    Result<std::vector<ScoreResult>> r = (*s)->ScoreChoices(*prompt, labels);
    ASSERT_TRUE(r.ok());
    std::size_t best = 0;
    for (std::size_t i = 1; i < r->size(); ++i) {
      if ((*r)[i].sum_logprob > (*r)[best].sum_logprob) best = i;
    }
    EXPECT_EQ(kRouteLabels[best], want) << text;
  }
}

TEST_F(ShippedModelsTest, BaseWithAnAdapterEqualsScore) {
  auto base = Open("base.gguf");
  ASSERT_NE(base, nullptr);
  Result<std::shared_ptr<const Adapter>> date =
      Adapter::Open(Dir() + "adapters/date.lora.gguf", *base);
  ASSERT_TRUE(date.ok()) << date.status().ToString();
  SessionOptions so;
  so.adapters.push_back({*date, 1.0f});
  Result<std::vector<std::int32_t>> prompt =
      base->Tokenize("date: 5th of March, 2021\n", true, false);
  ASSERT_TRUE(prompt.ok());
  std::vector<std::vector<std::int32_t>> answers;
  for (const char* a : {"2021-03-05", "2021-05-03", "1999-12-31"}) {
    Result<std::vector<std::int32_t>> ids = base->Tokenize(a, false, false);
    ASSERT_TRUE(ids.ok());
    answers.push_back(*ids);
  }
  ExpectEqualsScore(*base, so, *prompt, answers, 3);
}

}  // namespace
}  // namespace tessera::engine_test
