// tessera::Orchestrator on the shipped models: routing, the cascade with calibrated thresholds,
// per-request adapters on one base, abstention, dry runs, evidence, replay, and bad input.
#include "tessera/orchestrator.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "evidence/ledger.h"
#include "skills_fixture.h"
#include "sqlite/sqlite_db.h"

namespace tessera::testing {
namespace {

using Json = nlohmann::json;

class OrchestratorTest : public SkillsTest {
 protected:
  AskResult Ask(Orchestrator& o, std::string_view request, AskOptions options = {}) {
    Result<AskResult> r = o.Ask(request, options);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : AskResult{};
  }
  std::unique_ptr<evidence::Ledger> Ledger() {
    Result<std::unique_ptr<evidence::Ledger>> l =
        evidence::Ledger::Open(evidence::LedgerPath(home_));
    EXPECT_TRUE(l.ok()) << l.status().ToString();
    return std::move(*l);
  }
};

TEST_F(OrchestratorTest, RoutesAnswersAndRecordsEvidence) {
  std::unique_ptr<Runtime> rt = Open();
  std::unique_ptr<Orchestrator> o = OpenOrchestrator(*rt);
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->policy(), "dev.test.policy.skills@1.0.0");
  AskResult r = Ask(*o, "convert 7250 g to kg");
  EXPECT_EQ(r.outcome, "answered");
  EXPECT_TRUE(r.accepted);
  EXPECT_EQ(r.answer, "7.25");
  EXPECT_EQ(r.route, "unit");
  EXPECT_EQ(r.router, "classifier");
  EXPECT_GT(r.router_confidence, 0.5);
  EXPECT_EQ(r.module, "dev.test.skills.unit@1.0.0");  // cheaper than the adapter on the base
  ASSERT_EQ(r.steps.size(), 1u);
  ASSERT_GT(r.evidence, 0);
  Json body = Json::parse(r.decision_json);
  EXPECT_EQ(body["policy"]["id"], "dev.test.policy.skills");
  EXPECT_EQ(body["policy"]["manifest_sha256"], o->policy_sha256());
  EXPECT_EQ(body["request"]["text"], "convert 7250 g to kg");
  EXPECT_EQ(body["steps"][0]["sha256"], r.sha256);
  EXPECT_EQ(body["routing"]["routers"][0]["verdict"], "abstain");  // the rules know no units
  EXPECT_EQ(body["routing"]["routers"][1]["scores"].size(), 7u);
  EXPECT_EQ(body["observed"]["steps"][0]["loaded"][0], "dev.test.skills.unit@1.0.0");
  std::unique_ptr<evidence::Ledger> ledger = Ledger();
  Result<evidence::Record> rec = ledger->Get(r.evidence);
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->kind, "decision");
  EXPECT_TRUE(ledger->Verify()->ok);
  EXPECT_NE(r.explanation.find("Outcome: answered \"7.25\" by dev.test.skills.unit@1.0.0"),
            std::string::npos)
      << r.explanation;
  // The router's module is pinned: routing never evicts the candidates.
  bool pinned = false;
  for (const ResidentModuleInfo& m : rt->Report().modules) {
    if (m.module == "dev.test.router@1.0.0") pinned = m.pinned;
  }
  EXPECT_TRUE(pinned);
}

TEST_F(OrchestratorTest, EvictionsAreEvidence) {
  RuntimeBudgets budgets;
  budgets.max_active = 2;  // the pinned router and one skill
  std::unique_ptr<Runtime> rt = Open(budgets);
  std::unique_ptr<Orchestrator> o = OpenOrchestrator(*rt);
  ASSERT_EQ(Ask(*o, "convert 7250 g to kg").module, "dev.test.skills.unit@1.0.0");
  AskResult r = Ask(*o, "review: the staff were friendly");
  EXPECT_EQ(r.module, "dev.test.skills.sentiment@1.0.0");
  Json step = Json::parse(r.decision_json)["observed"]["steps"][0];
  EXPECT_EQ(step["loaded"], Json::array({"dev.test.skills.sentiment@1.0.0"}));
  EXPECT_EQ(step["evicted"], Json::array({"dev.test.skills.unit@1.0.0"}));
  EXPECT_GT(step["evicted_bytes"].get<std::uint64_t>(), 0u);
  EXPECT_NE(r.explanation.find("evicted dev.test.skills.unit@1.0.0 ("), std::string::npos)
      << r.explanation;
}

TEST_F(OrchestratorTest, AbstainsOutOfDomain) {
  std::unique_ptr<Runtime> rt = Open();
  std::unique_ptr<Orchestrator> o = OpenOrchestrator(*rt);
  AskResult r = Ask(*o, "write a poem about the sea");
  EXPECT_EQ(r.outcome, "abstained");
  EXPECT_FALSE(r.accepted);
  EXPECT_TRUE(r.answer.empty());
  EXPECT_NE(r.reason.find("out of domain"), std::string::npos) << r.reason;
  EXPECT_TRUE(r.steps.empty());
  EXPECT_GT(r.evidence, 0);
}

TEST_F(OrchestratorTest, EscalatesWhenTheCheapModuleIsNotConfident) {
  Json policy = SkillsPolicy();
  policy["cascade"] = {{"min_confidence", -1e-12}, {"use_calibration", false}};
  policy["routes"]["date"]["cascade"] = {"dev.test.skills.date", "dev.test.generalist"};
  ASSERT_TRUE(InstallPolicy("strict", policy).ok());
  std::unique_ptr<Runtime> rt = Open();
  std::unique_ptr<Orchestrator> o = OpenOrchestrator(*rt, "dev.test.policy.strict");
  AskResult r = Ask(*o, "normalize the date: March 3, 2021");
  // No answer can reach a threshold of -1e-12: both steps run, then it abstains, naming the
  // best rejected answer.
  ASSERT_EQ(r.steps.size(), 2u);
  EXPECT_EQ(r.steps[0].module, "dev.test.skills.date@1.0.0");
  EXPECT_EQ(r.steps[1].module, "dev.test.generalist@1.0.0");
  EXPECT_FALSE(r.steps[0].accepted);
  EXPECT_EQ(r.outcome, "abstained");
  EXPECT_NE(r.reason.find("no answer reached its threshold; the best was"), std::string::npos);
}

TEST_F(OrchestratorTest, CalibratedThresholdsAreSignedEvidence) {
  std::unique_ptr<Runtime> rt = Open();
  CalibrateOptions c;
  c.limit = 40;
  c.key = "";  // unsigned: listed, but a cascade ignores it
  Result<CalibrateResult> unsigned_cal = Calibrate(*rt, "dev.test.skills.date", c);
  ASSERT_TRUE(unsigned_cal.ok()) << unsigned_cal.status().ToString();
  EXPECT_EQ(unsigned_cal->cases, 40u);
  EXPECT_GT(unsigned_cal->evidence, 0);
  EXPECT_TRUE(unsigned_cal->reached) << unsigned_cal->accuracy_all << " " << unsigned_cal->threshold;
  EXPECT_FALSE(unsigned_cal->curve.empty());
  std::unique_ptr<Orchestrator> o = OpenOrchestrator(*rt);
  AskResult r = Ask(*o, "date: March 3, 2021");
  ASSERT_FALSE(r.steps.empty());
  Json body = Json::parse(r.decision_json);
  EXPECT_EQ(body["steps"][0]["threshold_source"], "policy");
  // Signed with a key the trust policy trusts for dev.test.: used.
  std::filesystem::create_directories(home_ + "/keys");
  ASSERT_TRUE(key_.Save(home_ + "/keys/tester.key").ok());
  c.key = "tester";
  Result<CalibrateResult> cal = Calibrate(*rt, "dev.test.skills.date", c);
  ASSERT_TRUE(cal.ok()) << cal.status().ToString();
  EXPECT_EQ(cal->signer, key_.public_key().KeyId());
  o = OpenOrchestrator(*rt);
  r = Ask(*o, "date: March 3, 2021");
  body = Json::parse(r.decision_json);
  EXPECT_EQ(body["steps"][0]["threshold_source"], "calibration #" + std::to_string(cal->evidence));
  EXPECT_DOUBLE_EQ(body["steps"][0]["threshold"].get<double>(), cal->threshold);
  EXPECT_EQ(Calibrate(*rt, "dev.test.skills.date", {.target_accuracy = 1.5}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(OrchestratorTest, OnlyTrustedCalibrationsOfTheseBytesCountAndNoneCrashes) {
  std::unique_ptr<Runtime> rt = Open();
  std::filesystem::create_directories(home_ + "/keys");
  ASSERT_TRUE(key_.Save(home_ + "/keys/tester.key").ok());
  Result<CalibrateResult> cal =
      Calibrate(*rt, "dev.test.skills.date", {.limit = 20, .key = "tester"});
  ASSERT_TRUE(cal.ok()) << cal.status().ToString();
  // Anyone may append: 150 unsigned calibrations with a lax threshold, one for other bytes,
  // one with a body of the wrong shape, one naming another version.
  std::unique_ptr<evidence::Ledger> ledger = Ledger();
  Json lax = {{"module", cal->module}, {"sha256", cal->sha256}, {"measure", cal->measure},
              {"threshold", -100.0}};
  for (int i = 0; i < 150; ++i) {
    ASSERT_TRUE(ledger->Append("calibration", cal->module, lax.dump()).ok());
  }
  Json other = lax;
  other["sha256"] = std::string(64, 'a');
  ASSERT_TRUE(ledger->Append("calibration", cal->module, other.dump()).ok());
  ASSERT_TRUE(ledger->Append("calibration", cal->module,
                             R"({"sha256": 1, "threshold": "x", "signature": 7})")
                  .ok());
  ASSERT_TRUE(ledger->Append("calibration", "dev.test.skills.date@9.9.9", lax.dump()).ok());
  std::unique_ptr<Orchestrator> o = OpenOrchestrator(*rt);
  AskResult r = Ask(*o, "date: March 3, 2021");
  Json body = Json::parse(r.decision_json);
  EXPECT_EQ(body["steps"][0]["threshold_source"], "calibration #" + std::to_string(cal->evidence));
}

TEST_F(OrchestratorTest, AdaptersAnswerPerRequestOnOneBase) {
  Json policy = SkillsPolicy();
  policy["routes"]["date"]["cascade"] = {"dev.test.date-lora"};
  policy["routes"]["unit"]["cascade"] = {"dev.test.unit-lora"};
  ASSERT_TRUE(InstallPolicy("lora", policy).ok());
  std::unique_ptr<Runtime> rt = Open();
  std::unique_ptr<Orchestrator> o = OpenOrchestrator(*rt, "dev.test.policy.lora");
  AskResult date = Ask(*o, "normalize the date: March 3, 2021");
  EXPECT_EQ(date.module, "dev.test.date-lora@1.0.0");
  EXPECT_EQ(date.answer, "2021-03-03");
  AskResult unit = Ask(*o, "convert 12 km to m");
  EXPECT_EQ(unit.module, "dev.test.unit-lora@1.0.0");
  EXPECT_EQ(unit.answer, "12000");
  // The second adapter loaded only its own bytes: the base was mapped once for both.
  Json body = Json::parse(unit.decision_json);
  const std::uint64_t loaded = body["observed"]["steps"][0]["loaded_bytes"].get<std::uint64_t>();
  EXPECT_GT(loaded, 0u) << body.dump(1);
  EXPECT_LT(loaded, 3'000'000u);  // the base is 6.7 MB
  std::uint64_t base_charges = 0;
  for (const ResidentModuleInfo& m : rt->Report().modules) {
    if (m.module.find("-lora@") != std::string::npos) base_charges += m.measured.artifact_bytes;
  }
  EXPECT_GT(base_charges, 0u);
}

TEST_F(OrchestratorTest, DryRunLoadsEvictsAndRecordsNothing) {
  std::unique_ptr<Runtime> rt = Open();
  std::unique_ptr<Orchestrator> o = OpenOrchestrator(*rt);
  const std::size_t resident = rt->Report().modules.size();  // the pinned router
  AskResult r = Ask(*o, "convert 7250 g to kg", {.dry_run = true});
  EXPECT_EQ(r.evidence, 0);
  EXPECT_TRUE(r.steps.empty());
  EXPECT_EQ(rt->Report().modules.size(), resident);
  Json body = Json::parse(r.decision_json);
  EXPECT_EQ(body["observed"]["plan"],
            "would run dev.test.skills.unit@1.0.0 (route unit, step 1, " +
                body["observed"]["candidates"][0]["reason"].get<std::string>() +
                "): would load " +
                [&] {
                  char buf[32];
                  std::snprintf(buf, sizeof(buf), "%.2f MB",
                                body["observed"]["candidates"][0]["load_bytes"].get<double>() / 1e6);
                  return std::string(buf);
                }() +
                ", evicting nothing");
  Result<evidence::Record> head = Ledger()->Head();
  EXPECT_EQ(head.status().code(), StatusCode::kNotFound);  // nothing appended
}

TEST_F(OrchestratorTest, ReplayReproducesTheDecision) {
  std::unique_ptr<Runtime> rt = Open();
  std::unique_ptr<Orchestrator> o = OpenOrchestrator(*rt);
  AskResult r = Ask(*o, "review: the staff were friendly", {.request_id = "req-7"});
  ASSERT_GT(r.evidence, 0);
  Result<ReplayResult> replay = o->Replay(r.evidence);
  ASSERT_TRUE(replay.ok()) << replay.status().ToString();
  EXPECT_TRUE(replay->same_answer);
  EXPECT_TRUE(replay->same_decision);
  EXPECT_TRUE(replay->differences.empty());
  EXPECT_GT(replay->replayed.evidence, r.evidence);
  EXPECT_EQ(Json::parse(replay->replayed.decision_json)["replay_of"], r.evidence);
  // In a fresh runtime (nothing resident) too: residency is observed, not decided.
  std::unique_ptr<Orchestrator> none;
  o.reset();
  rt.reset();
  rt = Open();
  o = OpenOrchestrator(*rt);
  replay = o->Replay(r.evidence);
  ASSERT_TRUE(replay.ok());
  EXPECT_TRUE(replay->same_decision);
  EXPECT_EQ(o->Replay(999).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(InstallPolicy("other", SkillsPolicy()).ok());
  std::unique_ptr<Orchestrator> other = OpenOrchestrator(*rt, "dev.test.policy.other");
  EXPECT_EQ(other->Replay(r.evidence).status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(OrchestratorTest, BadRequestsAreClearErrorsAndNothingIsLost) {
  std::unique_ptr<Runtime> rt = Open();
  std::unique_ptr<Orchestrator> o = OpenOrchestrator(*rt);
  AskResult good = Ask(*o, "convert 7250 g to kg");
  Result<AskResult> r = o->Ask("");
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "request: is empty");
  r = o->Ask(std::string(1 << 20, 'x'));
  EXPECT_EQ(r.status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(r.status().message(), "request: 1048576 bytes, more than the 65536-byte limit");
  r = o->Ask("convert 250 g to \xff\xfe kg");
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidUtf8);
  r = o->Ask("convert 7250 g to kg", {.request_id = "two\nlines"});  // refused before it runs
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("request id has the control character U+000A"),
            std::string::npos)
      << r.status().message();
  r = o->Ask("convert 7250 g to kg", {.request_id = "c1\xc2\x85"});  // U+0085, a C1 control
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  // Each refusal is on the record, and the chain still verifies.
  std::unique_ptr<evidence::Ledger> ledger = Ledger();
  evidence::ListFilter f;
  f.kind = "refusal";
  EXPECT_EQ(ledger->List(f)->size(), 3u);
  EXPECT_TRUE(ledger->Verify()->ok);
  EXPECT_EQ(ledger->Get(good.evidence)->kind, "decision");
}

TEST_F(OrchestratorTest, ATamperedLedgerIsDetected) {
  std::unique_ptr<Runtime> rt = Open();
  std::unique_ptr<Orchestrator> o = OpenOrchestrator(*rt);
  AskResult a = Ask(*o, "convert 7250 g to kg");
  Ask(*o, "review: the staff were friendly");
  o.reset();
  Result<std::unique_ptr<sqlite::Db>> db =
      sqlite::Db::Open(evidence::LedgerPath(home_), "test: ledger");
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  ASSERT_TRUE((*db)->Exec("DROP TRIGGER IF EXISTS records_no_update").ok());
  ASSERT_TRUE((*db)
                  ->Exec("UPDATE records SET body = replace(body, '7.25', '7.5') WHERE seq = " +
                         std::to_string(a.evidence))
                  .ok());
  db->reset();
  Result<evidence::VerifyReport> v = Ledger()->Verify();
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->ok);
  EXPECT_EQ(v->bad_seq, a.evidence);
}

TEST_F(OrchestratorTest, PoliciesAreFoundOrNamed) {
  std::unique_ptr<Runtime> rt = Open();
  OrchestratorOptions options;  // no policy named: the only one installed
  Result<std::unique_ptr<Orchestrator>> o = Orchestrator::Open(*rt, options);
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  ASSERT_TRUE(InstallPolicy("second", SkillsPolicy()).ok());
  o = Orchestrator::Open(*rt, options);
  EXPECT_EQ(o.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(o.status().message().find("several policies are installed"), std::string::npos);
  options.policy = "dev.test.skills.date";
  EXPECT_EQ(Orchestrator::Open(*rt, options).status().code(), StatusCode::kFailedPrecondition);
  options.policy = "dev.test.policy.nothing";
  EXPECT_EQ(Orchestrator::Open(*rt, options).status().code(), StatusCode::kNotFound);
  // A policy naming a package that is not installed never gets installed.
  Json missing = SkillsPolicy();
  missing["routes"]["date"]["cascade"].push_back("dev.test.skills.missing");
  Status s = InstallPolicy("missing", missing);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("names dev.test.skills.missing, which is not installed"),
            std::string::npos)
      << s.message();
  Json cycle = SkillsPolicy();
  cycle["routes"]["date"]["fallback"] = "unit";
  cycle["routes"]["unit"]["fallback"] = "date";
  s = InstallPolicy("cycle", cycle);
  EXPECT_EQ(s.code(), StatusCode::kMalformed);
  EXPECT_NE(s.message().find("fallbacks form a cycle"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace tessera::testing
