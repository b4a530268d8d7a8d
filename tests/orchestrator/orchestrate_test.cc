// A request through a policy on a scripted backend: routing chains, eligibility and its
// exclusions, cost ranking with hysteresis, the cascade's escalation and its bounds, fallback
// routes, outcomes, dry runs, and bad requests.
#include "orchestrator/orchestrate.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "fake_backend.h"
#include "orchestrator/decision_json.h"
#include "orchestrator/explain.h"

namespace tessera::orchestrator {
namespace {

using testing::Answer;
using testing::FakeBackend;
using testing::FakeThresholds;
using testing::Module;
using testing::Scores;

package::Policy MakePolicy() {
  Result<package::Policy> p = package::ParsePolicy(R"({
    "schema": "tessera.policy/v1",
    "routers": [
      {"name": "rules", "type": "rules",
       "rules": [{"route": "date", "keywords": ["iso"]}]},
      {"name": "classifier", "type": "classifier", "module": "dev.t.router",
       "labels": {"date": "date", "arith": "arith"}, "abstain_labels": ["none"],
       "threshold": 0.6}
    ],
    "routes": {
      "date": {"cascade": [["dev.t.date", "dev.t.date-lora"], "dev.t.general"],
               "fallback": "arith"},
      "arith": {"cascade": ["dev.t.arith"]}
    },
    "cascade": {"min_confidence": -0.5}
  })");
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return *p;
}

class OrchestrateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    package::IoType labels;
    labels.kind = package::IoKind::kEnum;
    labels.labels = {"arith", "date", "none"};
    ModuleFacts router = Module("dev.t.router", 300000, "route");
    router.contract.output = labels;
    backend_.Add(router);
    backend_.Add(Module("dev.t.date", 500000, "date-normalise"));
    backend_.Add(Module("dev.t.date-lora", 3600000, "date-normalise"));
    backend_.Add(Module("dev.t.general", 3300000, "general"));
    backend_.Add(Module("dev.t.arith", 900000, "arith"));
    backend_.SetScores("dev.t.router", Scores({"arith", "date", "none"}, {0.05, 0.9, 0.05}));
    backend_.SetAnswer("dev.t.date", Answer("2021-03-05", -0.1));
    backend_.SetAnswer("dev.t.date-lora", Answer("2021-03-05", -0.05));
    backend_.SetAnswer("dev.t.general", Answer("2021-03-05", -0.2));
    backend_.SetAnswer("dev.t.arith", Answer("1+2=3", -0.01));
  }

  Decision Ask(std::string_view request, OrchestrateOptions options = {}) {
    Result<std::vector<PreparedRouter>> routers =
        PrepareRouters(policy_, backend_, thresholds_,
                       [](const std::string&) -> Result<std::vector<package::Exemplar>> {
                         return NotFound("no exemplars");
                       });
    EXPECT_TRUE(routers.ok()) << routers.status().ToString();
    Result<Decision> d = Orchestrate(policy_, *routers, backend_, thresholds_, request, options);
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    return d.ok() ? *d : Decision{};
  }

  std::vector<std::string> Invoked() const {
    std::vector<std::string> out;
    for (const std::string& c : backend_.calls) {
      if (c.rfind("invoke ", 0) == 0) out.push_back(c.substr(7, c.find(' ', 7) - 7));
    }
    return out;
  }

  package::Policy policy_ = MakePolicy();
  FakeBackend backend_;
  FakeThresholds thresholds_;
};

TEST_F(OrchestrateTest, RoutesAndAnswersWithTheCheapestCandidate) {
  Decision d = Ask("  date: 5th of March, 2021\n");
  EXPECT_EQ(d.request, "date: 5th of March, 2021");
  ASSERT_EQ(d.routers.size(), 2u);
  EXPECT_EQ(d.routers[0].verdict, Verdict::kAbstain);  // no "iso"
  EXPECT_EQ(d.routers[1].verdict, Verdict::kRoute);
  EXPECT_EQ(d.routers[1].module, "dev.t.router@1.0.0");
  EXPECT_EQ(d.route, "date");
  EXPECT_EQ(d.outcome, Outcome::kAnswered);
  EXPECT_TRUE(d.accepted);
  EXPECT_EQ(d.answer, "2021-03-05");
  EXPECT_EQ(d.module, "dev.t.date@1.0.0");
  EXPECT_EQ(Invoked(), std::vector<std::string>{"dev.t.date"});
  ASSERT_EQ(d.steps.size(), 1u);
  EXPECT_EQ(d.steps[0].threshold_source, "policy");
  EXPECT_DOUBLE_EQ(d.steps[0].threshold, -0.5);
  // Step 1's two candidates and step... only the steps that were reached are ranked.
  ASSERT_EQ(d.candidates.size(), 2u);
  EXPECT_EQ(d.candidates[0].module, "dev.t.date@1.0.0");
  EXPECT_TRUE(d.candidates[0].eligible);
  EXPECT_LT(d.candidates[0].cost, d.candidates[1].cost);
}

TEST_F(OrchestrateTest, EscalatesOnLowConfidenceInvalidAnswersAndErrors) {
  backend_.SetAnswer("dev.t.date", Answer("2021-03-05", -0.9));  // below -0.5
  Decision d = Ask("date: 5th of March, 2021");
  EXPECT_EQ(Invoked(), (std::vector<std::string>{"dev.t.date", "dev.t.general"}));
  EXPECT_EQ(d.module, "dev.t.general@1.0.0");
  EXPECT_TRUE(d.accepted);
  EXPECT_NE(d.steps[0].verdict.find("below the threshold"), std::string::npos);

  backend_.calls.clear();
  backend_.SetAnswer("dev.t.date", Answer("03/05/2021", -0.01, /*valid=*/false));
  d = Ask("date: 5th of March, 2021");
  EXPECT_EQ(Invoked(), (std::vector<std::string>{"dev.t.date", "dev.t.general"}));
  EXPECT_NE(d.steps[0].verdict.find("invalid: "), std::string::npos);

  backend_.calls.clear();
  backend_.SetAnswer("dev.t.date", OutOfRange("input is 300 tokens, the contract allows 192"));
  d = Ask("date: 5th of March, 2021");
  EXPECT_EQ(d.steps[0].error, "out_of_range: input is 300 tokens, the contract allows 192");
  EXPECT_EQ(d.module, "dev.t.general@1.0.0");
}

TEST_F(OrchestrateTest, CalibratedThresholdsWin) {
  thresholds_.by_id["dev.t.date"] = {-0.05, "calibration #7"};
  Decision d = Ask("date: 5th of March, 2021");  // -0.1 < -0.05: escalate
  EXPECT_EQ(d.steps[0].threshold_source, "calibration #7");
  EXPECT_FALSE(d.steps[0].accepted);
  EXPECT_EQ(d.module, "dev.t.general@1.0.0");
  policy_.cascade.use_calibration = false;
  backend_.calls.clear();
  d = Ask("date: 5th of March, 2021");
  EXPECT_EQ(d.module, "dev.t.date@1.0.0");
}

TEST_F(OrchestrateTest, TheClassifierAbstainsBelowItsCalibratedThreshold) {
  // The router's calibration is on the log of its label probability: log(0.95).
  thresholds_.by_id["dev.t.router"] = {std::log(0.95), "calibration #3"};
  Decision d = Ask("date: 5th of March, 2021");  // p(date) = 0.9 < 0.95
  ASSERT_EQ(d.routers.size(), 2u);
  EXPECT_EQ(d.routers[1].verdict, Verdict::kAbstain);
  EXPECT_NEAR(d.routers[1].threshold, 0.95, 1e-12);
  EXPECT_EQ(d.reason, "no router was confident enough to choose a route");
  backend_.SetScores("dev.t.router", Scores({"arith", "date", "none"}, {0.01, 0.98, 0.01}));
  EXPECT_EQ(Ask("date: 5th of March, 2021").route, "date");
}

TEST_F(OrchestrateTest, AbstainsAndFallsBack) {
  backend_.SetAnswer("dev.t.date", Answer("x", -3));
  backend_.SetAnswer("dev.t.general", Answer("y", -2));
  backend_.SetAnswer("dev.t.arith", Answer("z", -1));
  Decision d = Ask("date: nothing");
  // date: both steps rejected, then the fallback route arith, rejected too.
  EXPECT_EQ(Invoked(), (std::vector<std::string>{"dev.t.date", "dev.t.general", "dev.t.arith"}));
  EXPECT_EQ(d.route_path, (std::vector<std::string>{"date", "arith"}));
  EXPECT_EQ(d.outcome, Outcome::kAbstained);
  EXPECT_NE(d.reason.find("the best was dev.t.arith@1.0.0's, confidence -1.000 < -0.500"),
            std::string::npos)
      << d.reason;
  policy_.cascade.on_exhausted = package::OnExhausted::kBest;
  backend_.calls.clear();
  d = Ask("date: nothing");
  EXPECT_EQ(d.outcome, Outcome::kAnswered);
  EXPECT_FALSE(d.accepted);
  EXPECT_EQ(d.answer, "z");
}

TEST_F(OrchestrateTest, FailsWhenEveryCandidateErrs) {
  backend_.SetAnswer("dev.t.date", Internal("engine broke"));
  backend_.SetAnswer("dev.t.general", Internal("engine broke"));
  backend_.SetAnswer("dev.t.arith", Internal("engine broke"));
  Decision d = Ask("date: x");
  EXPECT_EQ(d.outcome, Outcome::kFailed);
  EXPECT_NE(d.reason.find("internal: engine broke"), std::string::npos);
}

TEST_F(OrchestrateTest, OutOfDomainAndUnsureRouters) {
  backend_.SetScores("dev.t.router", Scores({"arith", "date", "none"}, {0.01, 0.01, 0.98}));
  Decision d = Ask("tell me a joke");
  EXPECT_EQ(d.outcome, Outcome::kAbstained);
  EXPECT_NE(d.reason.find("out of domain"), std::string::npos);
  EXPECT_TRUE(Invoked().empty());
  backend_.SetScores("dev.t.router", Scores({"arith", "date", "none"}, {0.4, 0.35, 0.25}));
  d = Ask("something");
  EXPECT_EQ(d.reason, "no router was confident enough to choose a route");
  // A router whose model fails passes to the next; here there is none.
  backend_.SetScores("dev.t.router", Scores({"arith", "date", "none"}, {0.9, 0.05, 0.05}));
  d = Ask("the iso date of today");  // the rules decide first: the classifier never runs
  EXPECT_EQ(d.routers.size(), 1u);
  EXPECT_EQ(d.route, "date");
}

TEST_F(OrchestrateTest, EligibilityExclusionsAreRecorded) {
  ModuleFacts date = Module("dev.t.date", 500000, "date-normalise");
  date.state = "installed";
  backend_.Add(date);
  ModuleFacts lora = Module("dev.t.date-lora", 3600000, "date-normalise");
  lora.license = "GPL-3.0";
  backend_.Add(lora);
  policy_.licenses = {"apache-2.0"};  // licences compare ignoring case
  policy_.routes["date"].capabilities = {"emit:text"};
  Decision d = Ask("date: x");
  EXPECT_EQ(d.module, "dev.t.general@1.0.0");
  auto reason = [&](const std::string& module) {
    for (const CandidateView& c : d.candidates) {
      if (c.module == module) return c.reason;
    }
    return std::string("absent");
  };
  EXPECT_EQ(reason("dev.t.date@1.0.0"), "state installed: not verified (run tessera verify)");
  EXPECT_EQ(reason("dev.t.date-lora@1.0.0"), "licence GPL-3.0 is not allowed by the policy");
  ModuleFacts general = Module("dev.t.general", 3300000, "general");
  general.granted = {"emit:json"};
  backend_.Add(general);
  backend_.calls.clear();
  d = Ask("date: x");
  EXPECT_EQ(reason("dev.t.general@1.0.0"), "capability emit:text not granted by the trust policy");
  // No candidate of the date route is eligible: the fallback route answers.
  EXPECT_EQ(d.route_path, (std::vector<std::string>{"date", "arith"}));
  EXPECT_EQ(d.module, "dev.t.arith@1.0.0");
}

TEST_F(OrchestrateTest, ResidencyDecidesWhatFitsAndWhatIsCheap) {
  ResidencyPreview refused;
  refused.fits = false;
  refused.refusal = "host 80 MB > budget 64 MB";
  backend_.SetResidency("dev.t.date", refused);
  Decision d = Ask("date: x");
  ASSERT_EQ(d.candidates.size(), 2u);
  EXPECT_EQ(d.candidates[1].module, "dev.t.date@1.0.0");  // excluded ones come last
  EXPECT_EQ(d.candidates[1].reason, "cannot become resident: host 80 MB > budget 64 MB");
  EXPECT_EQ(d.module, "dev.t.date-lora@1.0.0");
  // Hysteresis: a resident alternative within 25% of the cheapest cold one is kept.
  backend_.SetResidency("dev.t.date", ResidencyPreview{});
  ResidencyPreview resident;
  resident.resident = true;
  backend_.SetResidency("dev.t.date-lora", resident);
  policy_.load_cost_per_mb = 0;
  policy_.hysteresis = 10;  // 0.5 * 11 > 3.6
  backend_.calls.clear();
  d = Ask("date: x");
  EXPECT_EQ(d.module, "dev.t.date-lora@1.0.0");
  EXPECT_NE(d.candidates[0].reason.find("within the hysteresis"), std::string::npos);
  policy_.hysteresis = 0.25;
  backend_.calls.clear();
  d = Ask("date: x");
  EXPECT_EQ(d.module, "dev.t.date@1.0.0");
}

TEST_F(OrchestrateTest, BoundsStopTheCascade) {
  backend_.SetAnswer("dev.t.date", Answer("2021-03-05", -0.9));
  policy_.cascade.max_steps = 1;
  Decision d = Ask("date: x");
  EXPECT_EQ(d.stopped_by, "max_steps");
  EXPECT_EQ(d.outcome, Outcome::kAnswered);  // the best answer so far, said to be unaccepted
  EXPECT_FALSE(d.accepted);
  EXPECT_NE(d.reason.find("stopped by max_steps"), std::string::npos);
  policy_.cascade.max_steps = 3;
  policy_.cascade.max_wall_ms = 1;  // each invocation takes 1 ms on the fake clock
  backend_.calls.clear();
  d = Ask("date: x");
  EXPECT_EQ(d.stopped_by, "max_wall_ms");
  EXPECT_EQ(Invoked().size(), 1u);
  policy_.cascade.max_wall_ms = 30000;
  // date loads 1 MB, general would load 6.6 MB, the fallback's arith 1.8 MB.
  policy_.cascade.max_load_bytes = 3000000;
  backend_.calls.clear();
  d = Ask("date: x");
  EXPECT_EQ(Invoked(), (std::vector<std::string>{"dev.t.date", "dev.t.arith"}));
  EXPECT_EQ(d.module, "dev.t.arith@1.0.0");
  policy_.cascade.max_load_bytes = 2000000;  // now arith does not fit either
  backend_.calls.clear();
  d = Ask("date: x");
  EXPECT_EQ(Invoked(), (std::vector<std::string>{"dev.t.date"}));
  EXPECT_EQ(d.stopped_by, "max_load_bytes");
  EXPECT_FALSE(d.accepted);
  bool skipped = false;
  for (const CandidateView& c : d.candidates) {
    skipped |= c.reason.find("would pass the request's max_load_bytes") != std::string::npos;
  }
  EXPECT_TRUE(skipped);
}

TEST_F(OrchestrateTest, RoleCandidates) {
  Result<package::Policy> p = package::ParsePolicy(R"({
    "schema": "tessera.policy/v1",
    "routers": [{"name": "r", "type": "rules", "default": "date",
                 "rules": [{"route": "date", "keywords": ["iso"]}]}],
    "routes": {"date": {"cascade": [{"role": "date-normalise"}, {"role": "nothing"}]}}
  })");
  ASSERT_TRUE(p.ok());
  policy_ = *p;
  Decision d = Ask("anything");
  EXPECT_EQ(d.module, "dev.t.date@1.0.0");  // the cheaper of the two with the role
  backend_.SetAnswer("dev.t.date", Answer("?", -5));
  backend_.SetAnswer("dev.t.date-lora", Answer("?", -5));
  d = Ask("anything");
  EXPECT_EQ(d.candidates.back().reason, "no installed package has this contract role");
}

TEST_F(OrchestrateTest, RouteDomainsAndOutputTypes) {
  // date's domain: a month name; its answers must look like ISO dates.
  policy_.routes["date"].input_pattern = "\\b(january|february|march)\\b";
  package::IoType iso;
  iso.pattern = "^\\d{4}-\\d{2}-\\d{2}$";
  policy_.routes["date"].output = iso;
  policy_.routes["date"].fallback.clear();
  Decision d = Ask("date: 3/5/2021");  // routed to date by the classifier, outside its domain
  EXPECT_EQ(d.route, "date");
  EXPECT_TRUE(Invoked().empty());
  EXPECT_EQ(d.outcome, Outcome::kAbstained);
  EXPECT_EQ(d.reason, "the request is outside the declared domain of route date (its input_pattern)");
  backend_.calls.clear();
  backend_.SetAnswer("dev.t.date", Answer("202-03-05", -0.01));  // valid for its own contract
  d = Ask("date: 5th of MARCH, 2021");  // the domain is matched ignoring ASCII case
  EXPECT_EQ(Invoked(), (std::vector<std::string>{"dev.t.date", "dev.t.general"}));
  EXPECT_FALSE(d.steps[0].answer.valid);
  EXPECT_NE(d.steps[0].answer.failure.find("not the route's output type: \"202-03-05\""),
            std::string::npos)
      << d.steps[0].answer.failure;
  EXPECT_EQ(d.answer, "2021-03-05");
}

TEST_F(OrchestrateTest, AReplayForcesTheRecordedModules) {
  Decision first = Ask("date: x");
  EXPECT_EQ(first.module, "dev.t.date@1.0.0");
  // Residency changes: the adapter is resident and now the cheaper choice...
  ResidencyPreview resident;
  resident.resident = true;
  backend_.SetResidency("dev.t.date-lora", resident);
  policy_.load_cost_per_mb = 100;
  backend_.calls.clear();
  EXPECT_EQ(Ask("date: x").module, "dev.t.date-lora@1.0.0");
  // ...but a replay runs what the decision ran.
  backend_.calls.clear();
  OrchestrateOptions replay;
  replay.forced = {{"date", 1, "dev.t.date@1.0.0"}};
  Decision again = Ask("date: x", replay);
  EXPECT_EQ(again.module, "dev.t.date@1.0.0");
  EXPECT_EQ(DeterministicPart(DecisionJson(again)), DeterministicPart(DecisionJson(first)));
  // A forced module that is no longer eligible is said, and the step ranks as usual.
  ModuleFacts gone = Module("dev.t.date", 500000, "date-normalise");
  gone.state = "suspended";
  gone.usable = false;
  backend_.Add(gone);
  again = Ask("date: x", replay);
  EXPECT_EQ(again.module, "dev.t.date-lora@1.0.0");
  EXPECT_NE(std::find(again.fallbacks.begin(), again.fallbacks.end(),
                      "replay: dev.t.date@1.0.0 is not eligible now for route date step 1"),
            again.fallbacks.end());
}

TEST_F(OrchestrateTest, DryRunInvokesNothing) {
  Decision d = Ask("date: 5th of March, 2021", {.dry_run = true});
  EXPECT_TRUE(Invoked().empty());
  EXPECT_TRUE(d.dry_run);
  EXPECT_EQ(d.plan, "would run dev.t.date@1.0.0 (route date, step 1, first choice: cost 1.00 "
                    "(load 1.00 MB, 500000 parameters)): would load 1.00 MB, evicting nothing");
}

TEST_F(OrchestrateTest, BadRequestsAreErrors) {
  Result<std::vector<PreparedRouter>> routers = PrepareRouters(
      policy_, backend_, thresholds_,
      [](const std::string&) -> Result<std::vector<package::Exemplar>> { return NotFound("x"); });
  ASSERT_TRUE(routers.ok());
  auto ask = [&](std::string_view r) {
    return Orchestrate(policy_, *routers, backend_, thresholds_, r).status();
  };
  EXPECT_EQ(ask("").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ask(" \n\t ").message(), "request: is empty");
  EXPECT_EQ(ask(std::string(1 << 20, 'a')).message(),
            "request: 1048576 bytes, more than the 65536-byte limit");
  EXPECT_EQ(ask("caf\xc3").code(), StatusCode::kInvalidUtf8);
  EXPECT_TRUE(backend_.calls.empty() ||
              std::none_of(backend_.calls.begin(), backend_.calls.end(),
                           [](const std::string& c) { return c.rfind("score", 0) == 0; }));
}

TEST_F(OrchestrateTest, DecisionJsonSeparatesWhatReplaysFromWhatWasObserved) {
  backend_.SetAnswer("dev.t.date", Answer("2021-03-05", -0.9));
  Decision d = Ask("date: 5th of March, 2021");
  nlohmann::json body = DecisionJson(d);
  EXPECT_EQ(body["outcome"]["outcome"], "answered");
  EXPECT_EQ(body["outcome"]["module"], "dev.t.general@1.0.0");
  EXPECT_EQ(body["routing"]["route"], "date");
  EXPECT_EQ(body["routing"]["routers"][1]["scores"]["date"], 0.9);
  EXPECT_EQ(body["steps"].size(), 2u);
  EXPECT_EQ(body["steps"][0]["accepted"], false);
  EXPECT_EQ(body["observed"]["candidates"].size(), 3u);  // two in step 1, one in step 2
  nlohmann::json same = DeterministicPart(body);
  body["observed"]["steps"][0]["seconds"] = 99.0;
  EXPECT_EQ(DeterministicPart(body), same);
  body["steps"][0]["answer"] = "2021-03-06";
  EXPECT_NE(DeterministicPart(body), same);
  const std::string text = ExplainDecision(d, {"dev.t.policy@1.0.0", std::string(64, 'e'), 42});
  EXPECT_NE(text.find("Outcome: answered \"2021-03-05\" by dev.t.general@1.0.0"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("Evidence: #42"), std::string::npos);
  EXPECT_NE(text.find("classifier (classifier, dev.t.router@1.0.0): route date"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace tessera::orchestrator
