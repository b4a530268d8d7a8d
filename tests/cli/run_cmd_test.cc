// End to end: `tessera run` and `tessera resident` on a store of the bundled packages.
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

class RunCommand : public ::testing::Test {
 protected:
  // One store for the suite: a key, its trust, the 16 bundled packages (15 and the policy).
  static void SetUpTestSuite() {
    // Per process: ctest runs each test of the suite as its own process, in parallel.
    work_ = ::testing::TempDir() + "tessera-run-cli-" + std::to_string(::getpid());
    home_ = work_ + "/home";
    ASSERT_EQ(std::system(("rm -rf '" + work_ + "' && mkdir -p '" + work_ + "'").c_str()), 0);
    testing::MakeBundledStore(work_, home_);
  }

  static void TearDownTestSuite() { std::system(("rm -rf '" + work_ + "'").c_str()); }

  static CliRun Run(std::vector<std::string> args) {
    args.push_back("--home");
    args.push_back(home_);
    return RunCli(args);
  }

  static std::string WriteFile(const std::string& name, const std::string& text) {
    const std::string path = work_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }

  static inline std::string work_;
  static inline std::string home_;
};

TEST_F(RunCommand, GeneratesWithAnInstalledPackage) {
  CliRun r = Run({"run", "dev.tessera.skills.date",
                  "convert 13th of February, 1994 to YYYY-MM-DD\n", "-t", "1", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["text"], "1994-02-13");
  EXPECT_EQ(j["module"], "dev.tessera.skills.date@2.0.0");
  EXPECT_EQ(j["sha256"].get<std::string>().size(), 64u);
  CliRun plain = Run({"run", "dev.tessera.adapters.date@2.0.0",
                      "convert 13th of February, 1994 to YYYY-MM-DD\n", "-t", "1"});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(plain.out, "1994-02-13\n");
  EXPECT_NE(plain.err.find("dev.tessera.adapters.date@2.0.0"), std::string::npos);
}

TEST_F(RunCommand, BatchStaysWithinTheHostBudget) {
  CliRun r = Run({"run", "--batch", TESSERA_SOURCE_DIR "/examples/batch.jsonl", "--budget-host",
                  "16MB", "-t", "1", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::vector<nlohmann::json> records;
  for (std::string line; std::getline(lines, line);) records.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(records.size(), 25u);  // 24 requests and the summary
  std::size_t evicted = 0;
  for (std::size_t i = 0; i + 1 < records.size(); ++i) {
    EXPECT_FALSE(records[i].contains("error")) << records[i].dump();
    EXPECT_TRUE(records[i]["residency"] == "hit" || records[i]["residency"] == "load");
    evicted += records[i]["evicted"].size();
  }
  EXPECT_GT(evicted, 0u);
  const nlohmann::json& summary = records.back();
  EXPECT_EQ(summary["requests"], 24);
  EXPECT_EQ(summary["errors"], 0);
  const nlohmann::json& report = summary["report"];
  EXPECT_EQ(report["budgets"]["host_bytes"], 16'000'000);
  EXPECT_LE(report["in_use"]["host_bytes"].get<std::uint64_t>(), 16'000'000u);
  EXPECT_EQ(report["counts"]["n_total"], 16);
  EXPECT_EQ(report["counters"]["evictions"].get<std::size_t>(), evicted);
  // The same stream with room for everything: later requests for a module are hits.
  CliRun roomy = Run({"run", "--batch", TESSERA_SOURCE_DIR "/examples/batch.jsonl", "-t", "1"});
  ASSERT_EQ(roomy.exit_code, 0) << roomy.err;
  EXPECT_NE(roomy.out.find(" hit "), std::string::npos) << roomy.out;
  EXPECT_NE(roomy.out.find("summary: 24 requests"), std::string::npos) << roomy.out;
}

// Issue 17: clients beyond one wait for memory instead of failing (ADR 0018); 12 MB holds one
// adapter with its session at a time.
TEST_F(RunCommand, ClientsWaitForRoomInsteadOfFailing) {
  for (const char* overlap : {"", "--budget-overlap"}) {
    const std::string batch = TESSERA_SOURCE_DIR "/examples/batch.jsonl";
    std::vector<std::string> args = {"run", "--batch", batch, "--budget-host", "16MB", "--clients",
                                     "2",   "-t",      "1",   "--json"};
    if (*overlap != '\0') args.push_back(overlap);
    CliRun r = Run(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string last = r.out.substr(r.out.rfind('\n', r.out.size() - 2) + 1);
    const nlohmann::json summary = nlohmann::json::parse(last);
    EXPECT_EQ(summary["errors"], 0) << r.out;
    EXPECT_EQ(summary["report"]["budgets"]["overlap_loads"], *overlap != '\0');
    EXPECT_EQ(summary["report"]["counters"]["admission_timeouts"], 0);
    EXPECT_GT(summary["request_ms"]["p99"].get<double>(), 0.0);
  }
}

TEST_F(RunCommand, ResidentShowsATransaction) {
  CliRun r = Run({"resident", "--activate", "dev.tessera.skills.date,dev.tessera.adapters.unit",
                  "--max-active", "2", "-t", "1", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["counts"]["k_active"], 2);
  ASSERT_EQ(j["modules"].size(), 2u);
  for (const nlohmann::json& m : j["modules"]) {
    EXPECT_TRUE(m["measured"]["measured"].get<bool>());
    EXPECT_GT(m["measured"]["kv_bytes_per_token"].get<std::uint64_t>(), 0u);
  }
  CliRun over = Run({"resident", "--activate",
                     "dev.tessera.skills.date,dev.tessera.skills.unit,dev.tessera.skills.arith",
                     "--max-active", "2", "-t", "1"});
  EXPECT_EQ(over.exit_code, 1);
  EXPECT_NE(over.err.find("resource_exhausted"), std::string::npos) << over.err;
  EXPECT_NE(over.err.find("K_active 3 > limit 2"), std::string::npos) << over.err;
}

TEST_F(RunCommand, BadInputIsNamed) {
  struct BadRun {
    std::vector<std::string> args;
    std::string message;
  };
  const std::string bad_line =
      WriteFile("bad.jsonl", "{\"package\": \"x\", \"prompt\": \"p\"}\n[1]\n");
  const std::string unknown = WriteFile("unknown.jsonl", "{\"package\": \"x\", \"pr\": \"p\"}\n");
  const std::string empty = WriteFile("empty.jsonl", "\n\n");
  const std::vector<BadRun> cases = {
      {{"run", "--batch", work_ + "/none.jsonl"}, "cannot read requests file"},
      {{"run", "--batch", bad_line}, "bad.jsonl:2: not a JSON object"},
      {{"run", "--batch", unknown}, "unknown.jsonl:1: \"pr\" is unknown"},
      {{"run", "--batch", empty}, "has no requests"},
      {{"run", "dev.tessera.skills.date", "x\n", "--budget-host", "lots"},
       "--budget-host \"lots\" is not a byte count"},
      {{"run", "dev.tessera.skills.date", "x\n", "--max-active", "-1"}, "--max-active must be"},
      {{"run", "dev.tessera.nothing", "x\n"}, "not_found"},
      {{"run", "dev.tessera.skills.date"}, "needs ID[@VERSION] and a prompt"},
      {{"run", "dev.tessera.skills.date", "x\n", "--budget-host", "1MB", "-t", "1"},
       "resource_exhausted"},
  };
  for (const BadRun& c : cases) {
    CliRun r = Run(c.args);
    EXPECT_EQ(r.exit_code, 1) << c.args[0] << " " << c.message << "\n" << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("terminate"), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace tessera
