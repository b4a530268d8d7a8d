// The three routers' decisions: rules (keywords as whole words, patterns, length, first and
// scored modes, ties, defaults), labels scored by a classifier, and nearest exemplars.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "fake_backend.h"
#include "orchestrator/embedding_router.h"
#include "orchestrator/label_router.h"
#include "orchestrator/calibration.h"
#include "orchestrator/rule_router.h"
#include "package/policy.h"

namespace tessera::orchestrator {
namespace {

using package::RouterSpec;
using package::Rule;
using testing::Scores;

RouterSpec Rules(package::RuleMode mode) {
  RouterSpec s;
  s.name = "rules";
  s.mode = mode;
  Rule arith;
  arith.route = "arith";
  arith.patterns = {"\\d+\\s*[-+]\\s*\\d+"};
  Rule date;
  date.route = "date";
  date.keywords = {"ISO date", "normalize"};
  date.max_chars = 40;
  Rule reverse;
  reverse.route = "reverse";
  reverse.keywords = {"reverse", "backwards"};
  reverse.weight = 1;
  s.rules = {arith, date, reverse};
  return s;
}

RouterOutcome RouteRules(const RouterSpec& s, std::string_view text) {
  Result<RuleRouter> r = RuleRouter::Compile(s);
  EXPECT_TRUE(r.ok());
  return r->Route(text);
}

TEST(RuleRouterTest, FirstMatchDecides) {
  const RouterSpec s = Rules(package::RuleMode::kFirst);
  RouterOutcome o = RouteRules(s, "what is 12 + 7?");
  EXPECT_EQ(o.verdict, Verdict::kRoute);
  EXPECT_EQ(o.route, "arith");
  EXPECT_EQ(o.reason, "rule 0 (pattern \\d+\\s*[-+]\\s*\\d+) routes to arith");
  o = RouteRules(s, "Normalize March 3, 2021");  // keywords ignore ASCII case
  EXPECT_EQ(o.route, "date");
  EXPECT_NE(o.reason.find("keyword \"normalize\""), std::string::npos);
  o = RouteRules(s, "the reversed list");  // "reverse" inside a longer word is no keyword
  EXPECT_EQ(o.verdict, Verdict::kAbstain);
  EXPECT_EQ(o.reason, "no rule matched");
  o = RouteRules(s, "please normalize this long sentence about a date far beyond forty code points");
  EXPECT_EQ(o.verdict, Verdict::kAbstain);  // over the date rule's max_chars
}

TEST(RuleRouterTest, CaseSensitiveRules) {
  RouterSpec s = Rules(package::RuleMode::kFirst);
  s.case_sensitive = true;
  EXPECT_EQ(RouteRules(s, "Normalize it").verdict, Verdict::kAbstain);
  EXPECT_EQ(RouteRules(s, "give the ISO date").route, "date");
}

TEST(RuleRouterTest, ScoredModeWeighsAndAbstainsOnTies) {
  RouterSpec s = Rules(package::RuleMode::kScored);
  s.min_margin = 0.5;
  RouterOutcome o = RouteRules(s, "reverse 12+7");  // arith 1 vs reverse 1: a tie
  EXPECT_EQ(o.verdict, Verdict::kAbstain);
  EXPECT_NE(o.reason.find("rules disagree"), std::string::npos) << o.reason;
  s.rules[0].weight = 2;
  o = RouteRules(s, "reverse 12+7");
  EXPECT_EQ(o.verdict, Verdict::kRoute);
  EXPECT_EQ(o.route, "arith");
  EXPECT_DOUBLE_EQ(o.confidence, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(o.margin, 1.0);
  ASSERT_EQ(o.scores.size(), 2u);
  EXPECT_EQ(o.scores[1].first, "reverse");
}

TEST(RuleRouterTest, ATieAbstainsEvenWithoutAMargin) {
  RouterSpec s = Rules(package::RuleMode::kScored);  // min_margin 0
  RouterOutcome o = RouteRules(s, "reverse 12+7");
  EXPECT_EQ(o.verdict, Verdict::kAbstain);
  EXPECT_NE(o.reason.find("rules disagree"), std::string::npos) << o.reason;
}

TEST(RuleRouterTest, DefaultRoute) {
  RouterSpec s = Rules(package::RuleMode::kFirst);
  s.default_route = "general";
  RouterOutcome o = RouteRules(s, "hello");
  EXPECT_EQ(o.verdict, Verdict::kRoute);
  EXPECT_EQ(o.route, "general");
  EXPECT_EQ(o.confidence, 0);
}

RouterSpec Classifier() {
  RouterSpec s;
  s.name = "classifier";
  s.kind = package::RouterKind::kClassifier;
  s.labels = {{"arith", "arith"}, {"date", "date"}};
  s.abstain_labels = {"none"};
  s.min_margin = 0.2;
  return s;
}

TEST(LabelRouterTest, PicksTheMostProbableLabel) {
  RouterOutcome o =
      DecideByLabels(Classifier(), Scores({"arith", "date", "none"}, {0.1, 0.85, 0.05}), 0.5);
  EXPECT_EQ(o.verdict, Verdict::kRoute);
  EXPECT_EQ(o.route, "date");
  EXPECT_DOUBLE_EQ(o.confidence, 0.85);
  EXPECT_DOUBLE_EQ(o.margin, 0.75);
  EXPECT_EQ(o.scores.front().first, "date");
  EXPECT_EQ(o.tokens, 12);
}

TEST(LabelRouterTest, AbstainsBelowTheThresholdOrMargin) {
  RouterOutcome o =
      DecideByLabels(Classifier(), Scores({"arith", "date", "none"}, {0.45, 0.40, 0.15}), 0.5);
  EXPECT_EQ(o.verdict, Verdict::kAbstain);
  EXPECT_NE(o.reason.find("below the threshold 0.500"), std::string::npos) << o.reason;
  o = DecideByLabels(Classifier(), Scores({"arith", "date", "none"}, {0.55, 0.40, 0.05}), 0.5);
  EXPECT_EQ(o.verdict, Verdict::kAbstain);
  EXPECT_NE(o.reason.find("margin below 0.200"), std::string::npos) << o.reason;
}

TEST(LabelRouterTest, NotConfidentIsNeverOutOfDomain) {
  // "none" on top but too close to "date": abstain (a later router may know), not out of domain.
  RouterOutcome o =
      DecideByLabels(Classifier(), Scores({"arith", "date", "none"}, {0.0, 0.45, 0.55}), 0.5);
  EXPECT_EQ(o.verdict, Verdict::kAbstain);
  EXPECT_NE(o.reason.find("margin below"), std::string::npos) << o.reason;
  // A NaN probability is never confident.
  o = DecideByLabels(Classifier(), Scores({"arith", "date"}, {NAN, 0.5}), 0.5);
  EXPECT_NE(o.verdict, Verdict::kRoute);
}

TEST(LabelRouterTest, OutOfDomainAndUnmappedLabels) {
  RouterOutcome o =
      DecideByLabels(Classifier(), Scores({"arith", "date", "none"}, {0.02, 0.03, 0.95}), 0.5);
  EXPECT_EQ(o.verdict, Verdict::kOutOfDomain);
  o = DecideByLabels(Classifier(), Scores({"arith", "unit"}, {0.1, 0.9}), 0.5);
  EXPECT_EQ(o.verdict, Verdict::kAbstain);
  EXPECT_NE(o.reason.find("maps this label to no route"), std::string::npos);
  // Equal probabilities: the first label in the model's order wins, every time.
  o = DecideByLabels(Classifier(), Scores({"date", "arith"}, {0.5, 0.5}), 0.5);
  EXPECT_EQ(o.label, "date");
}

RouterSpec Nearest() {
  RouterSpec s;
  s.name = "nearest";
  s.kind = package::RouterKind::kEmbedding;
  s.labels = {{"arith", "arith"}, {"date", "date"}};
  s.abstain_labels = {"none"};
  s.top_k = 3;
  s.threshold = 0.8;
  return s;
}

EmbeddingIndex Index(const RouterSpec& s) {
  std::vector<package::Exemplar> ex = {{"arith", "a1"}, {"arith", "a2"}, {"date", "d1"},
                                       {"date", "d2"},  {"none", "n1"}};
  std::vector<std::vector<float>> v = {{1, 0, 0}, {0.9f, 0.1f, 0}, {0, 1, 0}, {0.1f, 2, 0}, {0, 0, 3}};
  Result<EmbeddingIndex> index = EmbeddingIndex::Build(s, ex, v);
  EXPECT_TRUE(index.ok()) << index.status().ToString();
  return std::move(index).value();
}

TEST(EmbeddingRouterTest, VotesAmongTheNearestExemplars) {
  const RouterSpec s = Nearest();
  EmbeddingIndex index = Index(s);
  std::vector<float> q = {0.2f, 4.0f, 0.1f};  // any norm
  Result<RouterOutcome> o = index.Route(q);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->verdict, Verdict::kRoute);
  EXPECT_EQ(o->route, "date");
  EXPECT_GT(o->confidence, 0.99);
  EXPECT_NE(o->reason.find("nearest exemplar \"d2\""), std::string::npos) << o->reason;
  o = index.Route(std::vector<float>{0, 0.05f, 1});
  EXPECT_EQ(o->verdict, Verdict::kOutOfDomain);
  o = index.Route(std::vector<float>{1, 1, 1});  // far from everything
  EXPECT_EQ(o->verdict, Verdict::kAbstain);
  EXPECT_NE(o->reason.find("below the threshold"), std::string::npos) << o->reason;
}

TEST(EmbeddingRouterTest, RefusesBadVectors) {
  const RouterSpec s = Nearest();
  EXPECT_EQ(EmbeddingIndex::Build(s, {{"arith", "a"}}, {{0, 0}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(EmbeddingIndex::Build(s, {{"arith", "a"}}, {}).status().code(),
            StatusCode::kInvalidArgument);
  EmbeddingIndex index = Index(s);
  EXPECT_EQ(index.Route(std::vector<float>{1, 0}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(index.Route(std::vector<float>{0, 0, 0}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(index.Route(std::vector<float>{NAN, 0, 0}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(CalibrationTest, ChoosesTheLowestThresholdThatReachesTheTarget) {
  std::vector<ScoredCase> cases = {{-0.01, true, true},  {-0.02, true, true},
                                   {-0.05, true, false}, {-0.10, true, true},
                                   {-0.50, true, false}, {0, false, false},
                                   {NAN, true, true}};  // a NaN score is ignored, not sorted
  Calibration c = Calibrate(cases, 0.75);
  EXPECT_TRUE(c.reached);
  EXPECT_DOUBLE_EQ(c.threshold, -0.10);  // 3 of the 4 most confident are right
  EXPECT_DOUBLE_EQ(c.coverage, 4.0 / 7.0);
  EXPECT_DOUBLE_EQ(c.accuracy, 0.75);
  EXPECT_DOUBLE_EQ(c.accuracy_all, 3.0 / 5.0);
  EXPECT_EQ(c.curve.front().threshold, -0.01);
  EXPECT_EQ(c.curve.back().threshold, -0.50);
  c = Calibrate(cases, 1.0);
  EXPECT_DOUBLE_EQ(c.threshold, -0.02);
  c = Calibrate({{-0.3, true, false}}, 0.9);
  EXPECT_FALSE(c.reached);  // nothing reaches it: only the most confident answer is accepted
  EXPECT_FALSE(Calibrate({}, 0.9).reached);
}

}  // namespace
}  // namespace tessera::orchestrator
