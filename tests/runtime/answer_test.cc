// Contracts are enforced: Runtime::Answer applies the template, refuses inputs over
// max_input_tokens or outside the input pattern, stops at max_output_tokens (a failure for a
// typed output), checks the output type and reports the confidence measure; enum outputs are
// answered by scoring their labels; ScoreLabels and Embed.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "skills_fixture.h"

namespace tessera::testing {
namespace {

using Json = nlohmann::json;

class AnswerTest : public SkillsTest {
 protected:
  // A session on `ref`'s module (the module handle released: the session leases it).
  SessionHandle Session(Runtime& rt, const std::string& ref) {
    Result<ModuleHandle> m = rt.Acquire(ref);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    Result<SessionHandle> s = rt.OpenSession(*m);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    EXPECT_TRUE(rt.Release(*m).ok());
    return *s;
  }
};

TEST_F(AnswerTest, AppliesTheTemplateAndChecksTheType) {
  std::unique_ptr<Runtime> rt = Open();
  SessionHandle s = Session(*rt, "dev.test.skills.date");
  // As a person types it: no trailing newline (the template adds it), surrounding spaces.
  Result<SkillAnswer> a = rt->Answer(s, "  date: 5th of March, 2021 ");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->text, "2021-03-05");
  EXPECT_TRUE(a->valid);
  EXPECT_EQ(a->stop_reason, "end_of_generation");
  EXPECT_EQ(a->measure, "mean-token-logprob");
  EXPECT_LE(a->confidence, 0.0);
  EXPECT_GT(a->confidence, -0.1);
  EXPECT_DOUBLE_EQ(a->confidence, a->mean_logprob);
  EXPECT_LE(a->min_logprob, a->mean_logprob);
  EXPECT_GT(a->min_margin, 0.0);
  EXPECT_EQ(a->output_tokens, 11);  // ten characters and EOS
  // The same request with its newline is the same prompt; each answer starts a fresh context.
  Result<SkillAnswer> again = rt->Answer(s, "date: 5th of March, 2021\n");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->text, a->text);
  EXPECT_EQ(again->prompt_tokens, a->prompt_tokens);
  EXPECT_DOUBLE_EQ(again->confidence, a->confidence);
  Result<std::vector<Turn>> turns = rt->Transcript(s);
  ASSERT_TRUE(turns.ok());
  EXPECT_EQ(turns->size(), 2u);
  EXPECT_TRUE(rt->CloseSession(s).ok());
}

TEST_F(AnswerTest, RefusesInputsTheContractDoesNotAdmit) {
  ASSERT_TRUE(InstallModel("dev.test.short.date", "specialists/date.gguf", "eval/keys/date.jsonl",
                           {{"schema", "tessera.package/v2"},
                            {"contract",
                             {{"max_input_tokens", 14},
                              {"prompt", "{input}\n"},
                              {"domain", "short dates"},
                              {"input", {{"type", "text"}, {"pattern", "^date: "}}},
                              {"examples", {{{"input", "date: 2003-1-2"}, {"output", "2003-01-02"}}}}}}})
                  .ok());
  std::unique_ptr<Runtime> rt = Open();
  SessionHandle s = Session(*rt, "dev.test.short.date");
  Result<SkillAnswer> a = rt->Answer(s, "date: 5th of March, 2021");
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), StatusCode::kOutOfRange);
  EXPECT_NE(a.status().message().find("tokens with its prompt template; the contract of "
                                      "dev.test.short.date@1.0.0 allows 14 (max_input_tokens)"),
            std::string::npos)
      << a.status().message();
  a = rt->Answer(s, "1/2/2003");
  EXPECT_EQ(a.status().code(), StatusCode::kOutOfRange);
  EXPECT_NE(a.status().message().find("does not match the contract's input pattern ^date: "),
            std::string::npos)
      << a.status().message();
  EXPECT_TRUE(rt->Answer(s, "date: 2003-1-2").ok());  // 14 tokens with BOS and newline
  EXPECT_EQ(rt->Answer(s, "   \n").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(rt->Answer(s, "date: caf\xc3").status().code(), StatusCode::kInvalidUtf8);
  EXPECT_TRUE(rt->CloseSession(s).ok());
}

TEST_F(AnswerTest, AMaxTokensStopOnATypedOutputIsAFailedAnswer) {
  ASSERT_TRUE(InstallModel("dev.test.terse.date", "specialists/date.gguf", "eval/keys/date.jsonl",
                           {{"schema", "tessera.package/v2"},
                            {"contract",
                             {{"max_output_tokens", 4},
                              {"prompt", "{input}\n"},
                              {"domain", "dates"},
                              {"output", {{"type", "text"}, {"pattern", "^\\d{4}-\\d{2}-\\d{2}$"}}},
                              {"examples", {{{"input", "date: 2003-1-2"}, {"output", "2003-01-02"}}}}}}})
                  .ok());
  ASSERT_TRUE(InstallModel("dev.test.odd.date", "specialists/date.gguf", "eval/keys/date.jsonl",
                           {{"schema", "tessera.package/v2"},
                            {"contract",
                             {{"prompt", "{input}\n"},
                              {"domain", "dates"},
                              {"output", {{"type", "text"}, {"pattern", "^\\d{2}/\\d{2}$"}}},
                              {"examples", {{{"input", "date: 1/2/2003"}, {"output", "01/02"}}}}}}})
                  .ok());
  std::unique_ptr<Runtime> rt = Open();
  SessionHandle terse = Session(*rt, "dev.test.terse.date");
  Result<SkillAnswer> a = rt->Answer(terse, "date: 5th of March, 2021");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->text, "2021");
  EXPECT_FALSE(a->valid);
  EXPECT_EQ(a->stop_reason, "max_tokens");
  EXPECT_EQ(a->failure, "stopped at max_output_tokens (4) before the answer ended");
  SessionHandle odd = Session(*rt, "dev.test.odd.date");
  a = rt->Answer(odd, "date: 5th of March, 2021");
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->valid);
  EXPECT_EQ(a->failure, "\"2021-03-05\" does not match the pattern ^\\d{2}/\\d{2}$");
  EXPECT_TRUE(rt->CloseSession(terse).ok());
  EXPECT_TRUE(rt->CloseSession(odd).ok());
}

TEST_F(AnswerTest, EnumOutputsAreScoredNotGenerated) {
  std::unique_ptr<Runtime> rt = Open();
  SessionHandle s = Session(*rt, "dev.test.skills.sentiment");
  Result<SkillAnswer> a = rt->Answer(s, "review: the food was great");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->text, "positive");
  EXPECT_TRUE(a->valid);
  EXPECT_EQ(a->stop_reason, "labels");
  EXPECT_EQ(a->measure, "label-probability");
  Result<LabelScores> scores = rt->ScoreLabels(s, "review: the food was great");
  ASSERT_TRUE(scores.ok()) << scores.status().ToString();
  ASSERT_EQ(scores->labels, (std::vector<std::string>{"negative", "positive"}));
  EXPECT_NEAR(std::accumulate(scores->probabilities.begin(), scores->probabilities.end(), 0.0),
              1.0, 1e-12);
  EXPECT_GT(scores->probabilities[1], 0.9);
  EXPECT_NEAR(a->confidence, std::log(scores->probabilities[1]), 1e-12);
  // The softmax is over the labels' sequence log-probabilities.
  const double z = std::exp(scores->logprobs[0]) + std::exp(scores->logprobs[1]);
  EXPECT_NEAR(scores->probabilities[0], std::exp(scores->logprobs[0]) / z, 1e-9);
  EXPECT_TRUE(rt->CloseSession(s).ok());
  SessionHandle date = Session(*rt, "dev.test.skills.date");
  EXPECT_EQ(rt->ScoreLabels(date, "date: 1/2/2003").status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_TRUE(rt->CloseSession(date).ok());
}

TEST_F(AnswerTest, TheRouterCanOnlyNameItsLabels) {
  std::unique_ptr<Runtime> rt = Open();
  SessionHandle s = Session(*rt, "dev.test.router");
  for (const auto& [request, label] :
       std::vector<std::pair<std::string, std::string>>{{"what is 12 plus 7", "arith"},
                                                        {"date: 5th of March, 2021", "date"},
                                                        {"how many m is 3 km?", "unit"},
                                                        {"write a poem about cats", "none"}}) {
    Result<SkillAnswer> a = rt->Answer(s, request);
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    EXPECT_EQ(a->text, label) << request;
  }
  EXPECT_TRUE(rt->CloseSession(s).ok());
}

TEST_F(AnswerTest, EmbeddingsAreDeterministicMeanHiddenStates) {
  std::unique_ptr<Runtime> rt = Open();
  SessionHandle s = Session(*rt, "dev.test.router");
  Result<std::vector<float>> a = rt->Embed(s, "convert 12 km to m");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_FALSE(a->empty());
  Result<std::vector<float>> b = rt->Embed(s, "convert 12 km to m");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*a, *b);
  Result<std::vector<float>> c = rt->Embed(s, "write a poem about the sea");
  ASSERT_TRUE(c.ok());
  EXPECT_NE(*a, *c);
  EXPECT_EQ(rt->Embed(s, "").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(rt->Embed(s, "\xff").status().code(), StatusCode::kInvalidUtf8);
  EXPECT_TRUE(rt->CloseSession(s).ok());
}

}  // namespace
}  // namespace tessera::testing
