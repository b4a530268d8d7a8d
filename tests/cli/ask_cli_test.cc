// End to end: `tessera ask`, `replay`, `calibrate`, `run --batch` with "auto" and the evidence
// they leave, on a store of the bundled packages and the bundled policy, as a new user runs
// them: everyday wordings, exit statuses, bad input.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "bundled_store.h"
#include "run_cli.h"

namespace tessera {
namespace {

using testing::CliRun;
using testing::RunCli;

class AskCommand : public ::testing::Test {
 protected:
  // One store per test process (ctest runs each test as its own process): a key, its trust,
  // the 16 bundled packages, as scripts/bootstrap makes it (without the calibrations).
  static void SetUpTestSuite() {
    work_ = ::testing::TempDir() + "tessera-ask-cli-" + std::to_string(::getpid());
    home_ = work_ + "/home";
    ASSERT_EQ(std::system(("rm -rf '" + work_ + "' && mkdir -p '" + work_ + "'").c_str()), 0);
    testing::MakeBundledStore(work_, home_);
  }

  static void TearDownTestSuite() { std::system(("rm -rf '" + work_ + "'").c_str()); }

  static CliRun Run(std::vector<std::string> args) {
    args.push_back("--home");
    args.push_back(home_);
    if (args[0] == "ask" || args[0] == "replay" || args[0] == "calibrate" || args[0] == "run") {
      args.push_back("-t");
      args.push_back("1");
    }
    return RunCli(args);
  }

  static std::string WriteFile(const std::string& name, const std::string& text) {
    const std::string path = work_ + "/" + name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  static std::size_t EvidenceCount() {
    CliRun r = Run({"evidence", "list", "--json", "--limit", "1000"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
    return j.is_array() ? j.size() : 0;
  }

  static inline std::string work_;
  static inline std::string home_;
};

TEST_F(AskCommand, AnswersExplainsAndReplays) {
  CliRun r = Run({"ask", "what is 12 plus 7"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "12+7=19\n");
  EXPECT_NE(r.err.find("[dev.tessera.skills.arith@2.0.0 "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("[evidence #1]"), std::string::npos) << r.err;

  CliRun explained = Run({"ask", "date: 5th of March, 2021", "--explain"});
  ASSERT_EQ(explained.exit_code, 0) << explained.err;
  for (const char* part : {"Request: \"date: 5th of March, 2021\"",
                           "Policy: dev.tessera.policy.skills@2.0.0", "Routing:", "Candidates:",
                           "Cascade:", "Outcome: answered \"2021-03-05\"", "Evidence: #2"}) {
    EXPECT_NE(explained.out.find(part), std::string::npos) << part << "\n" << explained.out;
  }

  CliRun json = Run({"ask", "how many ml is 2 l?", "--json", "--request-id", "mine"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  nlohmann::json j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j["id"], "mine");
  EXPECT_EQ(j["outcome"], "answered");
  EXPECT_EQ(j["answer"], "2000");
  EXPECT_EQ(j["route"], "unit");
  EXPECT_EQ(j["escalations"], 0);
  EXPECT_EQ(j["steps"][0]["module"], j["module"]);
  EXPECT_GT(j["steps"][0]["parameters"].get<int>(), 0);
  EXPECT_EQ(j["router"]["name"], "rules");  // "how many ml": a rule, no model tokens
  EXPECT_EQ(j["router"]["tokens"], 0);
  EXPECT_EQ(j["evidence"], 3);
  EXPECT_EQ(j["decision"]["request"]["id"], "mine");

  CliRun replay = Run({"replay", "2"});
  ASSERT_EQ(replay.exit_code, 0) << replay.err;
  EXPECT_EQ(replay.out, "replay of #2 (as #4): same answer, same decision\n");
  CliRun verify = Run({"evidence", "verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.err;
  EXPECT_NE(verify.out.find("4 records, chain verifies"), std::string::npos) << verify.out;

  CliRun show = Run({"show", "dev.tessera.skills.date"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find("prompt template: \"{input}\\n\""), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("domain: "), std::string::npos);
  EXPECT_NE(show.out.find("examples:"), std::string::npos);
}

TEST_F(AskCommand, AbstainsWithItsOwnExitStatusAndDryRunsTouchNothing) {
  CliRun r = Run({"ask", "what is the capital of France?"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("tessera: abstained: out of domain"), std::string::npos) << r.err;
  const std::size_t before = EvidenceCount();
  CliRun dry = Run({"ask", "convert 3 km to m", "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_NE(dry.out.find("Plan: would run dev.tessera.skills.unit@2.0.0"), std::string::npos)
      << dry.out;
  EXPECT_NE(dry.out.find("would load"), std::string::npos);
  EXPECT_EQ(EvidenceCount(), before);
  // A skill asked directly outside its contract's domain answers nothing with exit 0: a
  // five-digit operand is outside the arith specialist's declared input pattern.
  CliRun outside = Run({"run", "dev.tessera.skills.arith", "12345+6="});
  EXPECT_EQ(outside.exit_code, 1);
  EXPECT_NE(outside.err.find("out_of_range: runtime: the input is outside the domain"),
            std::string::npos)
      << outside.err;
}

// Issue 17: an adapter whose base is retired cannot load, so the cascade does not offer it;
// resuming the base makes it a candidate again.
TEST_F(AskCommand, AnAdapterOfARetiredBaseIsNoCandidate) {
  const std::string adapter = "dev.tessera.adapters.unit@2.0.0  ";
  ASSERT_EQ(Run({"retire", "dev.tessera.base@2.0.0"}).exit_code, 0);
  CliRun retired = Run({"ask", "convert 3 km to m", "--dry-run", "--explain"});
  ASSERT_EQ(retired.exit_code, 0) << retired.err;
  EXPECT_NE(retired.out.find(adapter + "excluded: adapter dev.tessera.adapters.unit@2.0.0 "
                                       "cannot be loaded: its base dev.tessera.base@2.0.0 is "
                                       "retired"),
            std::string::npos)
      << retired.out;
  ASSERT_EQ(Run({"resume", "dev.tessera.base@2.0.0"}).exit_code, 0);
  CliRun resumed = Run({"ask", "convert 3 km to m", "--dry-run", "--explain"});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_NE(resumed.out.find(adapter + "eligible"), std::string::npos) << resumed.out;
}

TEST_F(AskCommand, BadInputIsAClearErrorAndNothingIsLost) {
  CliRun empty = Run({"ask", "   "});
  EXPECT_EQ(empty.exit_code, 1);
  EXPECT_EQ(empty.err, "tessera: invalid_argument: request: is empty\n");
  CliRun bad_utf8 = Run({"ask", "what is 12 plus 7\xff"});
  EXPECT_EQ(bad_utf8.exit_code, 1);
  EXPECT_NE(bad_utf8.err.find("tessera: invalid_utf8: request"), std::string::npos) << bad_utf8.err;
  // A 1 MB request (argv cannot carry one) in a batch, between two good ones.
  const std::string big = std::string(1 << 20, 'a');
  const std::string batch = WriteFile(
      "big.jsonl",
      "{\"id\":\"a\",\"request\":\"what is 30 plus 12\"}\n{\"id\":\"big\",\"request\":\"" + big +
          "\"}\n{\"id\":\"c\",\"prompt\":\"date: 5th of March, 2021\\n\"}\n");
  CliRun r = Run({"ask", "--batch", batch, "--json"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  std::istringstream lines(r.out);
  std::vector<nlohmann::json> out;
  for (std::string line; std::getline(lines, line);) out.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0]["answer"], "30+12=42");
  EXPECT_EQ(out[1]["outcome"], "failed");
  EXPECT_EQ(out[1]["error"]["code"], "out_of_range");
  EXPECT_EQ(out[1]["error"]["message"], "request: 1048576 bytes, more than the 65536-byte limit");
  EXPECT_EQ(out[2]["answer"], "2021-03-05");
  // An error outranks an abstention whatever their order.
  const std::string late = WriteFile(
      "late.jsonl", "{\"request\":\"tell me a joke about trains\"}\n{\"request\":\"\"}\n");
  EXPECT_EQ(Run({"ask", "--batch", late, "--json"}).exit_code, 1);
  const std::string early = WriteFile(
      "early.jsonl", "{\"request\":\"\"}\n{\"request\":\"tell me a joke about trains\"}\n");
  EXPECT_EQ(Run({"ask", "--batch", early, "--json"}).exit_code, 1);
  // A line that is not JSON refuses the whole batch before anything runs.
  const std::size_t before = EvidenceCount();
  CliRun broken = Run({"ask", "--batch", WriteFile("broken.jsonl", "{\"request\":\"x\"}\nnope\n")});
  EXPECT_EQ(broken.exit_code, 1);
  EXPECT_NE(
      broken.err.find("broken.jsonl:2: not valid JSON (syntax error at byte 2: invalid literal)"),
      std::string::npos)
      << broken.err;
  EXPECT_EQ(EvidenceCount(), before);
  // Nothing asked of a missing policy, and a named policy that is not one.
  EXPECT_EQ(Run({"ask", "x", "--policy", "dev.tessera.policy.none"}).exit_code, 1);
  CliRun not_policy = Run({"ask", "x", "--policy", "dev.tessera.skills.date"});
  EXPECT_NE(not_policy.err.find("is a model, not a policy"), std::string::npos) << not_policy.err;
}

TEST_F(AskCommand, ATamperedLedgerFailsVerification) {
  ASSERT_EQ(Run({"ask", "what is 12 plus 7"}).exit_code, 0);
  ASSERT_EQ(Run({"ask", "review: the staff were friendly"}).exit_code, 0);
  const std::string py =
      "python3 -c \"import sqlite3; c = sqlite3.connect('" + home_ +
      "/evidence.db'); c.execute('DROP TRIGGER records_no_update'); "
      "c.execute(\\\"UPDATE records SET body = replace(body, '12+7=19', '12+7=20') WHERE seq = "
      "1\\\"); c.commit()\"";
  ASSERT_EQ(std::system(py.c_str()), 0) << py;
  CliRun verify = Run({"evidence", "verify"});
  EXPECT_EQ(verify.exit_code, 1);
  EXPECT_NE(verify.err.find("record 1: hash does not match its contents"), std::string::npos)
      << verify.err;
}

TEST_F(AskCommand, CalibrationIsSignedEvidenceTheCascadeUses) {
  CliRun cal = Run({"calibrate", "dev.tessera.skills.date", "--set", "keys.date.jsonl", "--limit",
                    "50", "--key", "local"});
  ASSERT_EQ(cal.exit_code, 0) << cal.err;
  EXPECT_NE(cal.out.find("50 cases, mean-token-logprob"), std::string::npos) << cal.out;
  const std::size_t at = cal.out.find("recorded as evidence #");
  ASSERT_NE(at, std::string::npos) << cal.out;
  const std::string seq = cal.out.substr(at + 22, cal.out.find(',', at) - at - 22);
  EXPECT_NE(cal.out.find(", signed by ed25519:"), std::string::npos) << cal.out;
  CliRun r = Run({"ask", "date: 5th of March, 2021", "--explain"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("from calibration #" + seq + ";"), std::string::npos) << seq << r.out;
  CliRun json = Run({"calibrate", "dev.tessera.router", "--limit", "30", "--json", "--no-record"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  nlohmann::json j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j["measure"], "label-probability");
  EXPECT_EQ(j["cases"], 30 * j["eval_sets"].size());  // 30 of each split's routing set
  EXPECT_GE(j["eval_sets"].size(), 3u);
  EXPECT_EQ(j["evidence"], 0);
  EXPECT_EQ(Run({"calibrate", "dev.tessera.policy.skills"}).exit_code, 1);
  // --set names eval-set artifacts; one the package does not ship is an error that lists them.
  CliRun missing =
      Run({"calibrate", "dev.tessera.router", "--set", "keys.date.jsonl", "--no-record"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("has no eval set named \"keys.date.jsonl\" (its eval sets: "
                             "keys.routing.jsonl, "),
            std::string::npos)
      << missing.err;
}

TEST_F(AskCommand, BatchRunsRouteAutoRequests) {
  const std::string batch = WriteFile(
      "auto.jsonl",
      "{\"id\":\"r1\",\"package\":\"auto\",\"prompt\":\"what is 30 plus 12\"}\n"
      "{\"id\":\"r2\",\"package\":\"dev.tessera.skills.date\",\"prompt\":\"date: 1/2/2003\\n\"}\n"
      "{\"id\":\"r3\",\"package\":\"auto\",\"prompt\":\"tell me a joke about trains\"}\n");
  CliRun r = Run({"run", "--batch", batch, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::vector<nlohmann::json> out;
  for (std::string line; std::getline(lines, line);) out.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(out.size(), 4u);  // three records and the summary
  EXPECT_EQ(out[0]["text"], "30+12=42");
  EXPECT_EQ(out[0]["route"], "arith");
  EXPECT_EQ(out[0]["outcome"], "answered");
  EXPECT_GT(out[0]["evidence"].get<int>(), 0);
  EXPECT_EQ(out[1]["text"], "2003-01-02");
  EXPECT_FALSE(out[1].contains("outcome"));
  EXPECT_EQ(out[2]["outcome"], "abstained");
  EXPECT_EQ(out[2]["text"], "");
}

}  // namespace
}  // namespace tessera
