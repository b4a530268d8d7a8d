// Quality evidence for the models that ship in models/: runs `tessera eval` (greedy, exact
// match) on each held-out set and checks issue 4's thresholds, on the full sets (500 cases, the
// routing set 580, the mixed set 800) in every build. The checks that run the 3.3M-parameter base
// or generalist take the first 100 cases of each set in sanitizer builds (several times slower).
// models/README.md lists the accuracies measured on the full sets.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "run_cli.h"

namespace tessera {
namespace {

using nlohmann::json;
using testing::CliRun;
using testing::RunCli;

#if defined(__SANITIZE_ADDRESS__)
constexpr const char* kLimit = "100";
#else
constexpr const char* kLimit = "0";
#endif

const std::string kModels = std::string(TESSERA_SOURCE_DIR) + "/models/";

struct Case {
  const char* name;     // test name
  const char* model;    // under models/
  const char* adapter;  // under models/, or empty
  const char* set;      // under models/eval/
  double threshold;     // minimum exact-match accuracy
  bool large = false;   // a 3.3M-parameter model: sanitizer builds take the first 100 cases
};

std::ostream& operator<<(std::ostream& os, const Case& c) { return os << c.name; }

// The sha256 models/SHA256SUMS records for `file` (relative to models/).
std::string RecordedSha256(const std::string& file) {
  std::ifstream in(kModels + "SHA256SUMS");
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > 66 && line.substr(66) == file) return line.substr(0, 64);
  }
  return "";
}

json Eval(const Case& c, const std::string& limit = "0") {
  std::vector<std::string> args = {
      "eval", kModels + c.model, "--set", kModels + "eval/" + c.set, "--json", "-t", "1"};
  if (limit != "0") {
    args.insert(args.end(), {"--limit", limit});
  }
  if (*c.adapter != '\0') {
    args.insert(args.end(), {"--lora", kModels + c.adapter});
  }
  const CliRun run = RunCli(args);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  return json::parse(run.out, nullptr, /*allow_exceptions=*/false);
}

class ShippedModelTest : public ::testing::TestWithParam<Case> {};

TEST_P(ShippedModelTest, MeetsItsAccuracyThreshold) {
  const Case& c = GetParam();
  const json report = Eval(c, c.large ? kLimit : "0");
  ASSERT_FALSE(report.is_discarded());
  const double accuracy = report["exact_match"]["accuracy"].get<double>();
  std::printf("%s on %s: exact match %.3f over %d cases\n", c.name, c.set, accuracy,
              report["exact_match"]["total"].get<int>());
  EXPECT_GE(accuracy, c.threshold) << c.name;
  // The report names the exact bytes that were measured.
  EXPECT_EQ(report["model"]["sha256"].get<std::string>(), RecordedSha256(c.model));
}

INSTANTIATE_TEST_SUITE_P(
    Models, ShippedModelTest,
    ::testing::Values(Case{"arith", "specialists/arith.gguf", "", "arith.jsonl", 0.95},
                      Case{"date", "specialists/date.gguf", "", "date.jsonl", 0.95},
                      Case{"unit", "specialists/unit.gguf", "", "unit.jsonl", 0.95},
                      Case{"extract", "specialists/extract.gguf", "", "extract.jsonl", 0.95},
                      Case{"sentiment", "specialists/sentiment.gguf", "", "sentiment.jsonl", 0.95},
                      Case{"reverse", "specialists/reverse.gguf", "", "reverse.jsonl", 0.95},
                      Case{"router", "router.gguf", "", "routing.jsonl", 0.97},
                      // all.jsonl: 100 cases of each skill and each hard split, so its accuracy
                      // is the average over all skills, hard splits included (issue 4: 0.90; the
                      // shipped generalist measures 0.9225 on all 800 and 0.95 on the first 100).
                      Case{"generalist", "generalist.gguf", "", "all.jsonl", 0.90, true}),
    [](const ::testing::TestParamInfo<Case>& param_info) {
      return std::string(param_info.param.name);
    });

// Each LoRA adapter on the shared base must reach 95% on its skill (issue 4) and must not do worse
// than the base alone. Where the base falls short of 95%, the adapter must also remove at least
// half of the base's errors, which shows the adapter (not the base) does the work.
// Sanitizer builds take the first 100 cases, which may sit a few points off the 500-case figure.
struct AdapterCase {
  const char* skill;
  double threshold;  // minimum exact-match accuracy of base + adapter
};

std::ostream& operator<<(std::ostream& os, const AdapterCase& c) { return os << c.skill; }

class ShippedAdapterTest : public ::testing::TestWithParam<AdapterCase> {};

TEST_P(ShippedAdapterTest, MeetsItsThresholdAndBeatsTheBase) {
  const AdapterCase& c = GetParam();
  const std::string set = std::string(c.skill) + ".jsonl";
  const std::string adapter = std::string("adapters/") + c.skill + ".lora.gguf";
  const json with = Eval(Case{c.skill, "base.gguf", adapter.c_str(), set.c_str(), 0.0}, kLimit);
  const json without = Eval(Case{c.skill, "base.gguf", "", set.c_str(), 0.0}, kLimit);
  ASSERT_FALSE(with.is_discarded());
  ASSERT_FALSE(without.is_discarded());
  const double adapted = with["exact_match"]["accuracy"].get<double>();
  const double base = without["exact_match"]["accuracy"].get<double>();
  std::printf("%s: base %.3f, base + adapter %.3f over %d cases\n", c.skill, base, adapted,
              with["exact_match"]["total"].get<int>());
  const double slack = std::string(kLimit) == "0" ? 0.0 : 0.05;
  EXPECT_GE(adapted, c.threshold - slack);
  EXPECT_GE(adapted, base - slack);
  if (base < c.threshold) {
    EXPECT_LE(1.0 - adapted, 0.5 * (1.0 - base) + slack);
  }
  EXPECT_EQ(with["adapter"]["sha256"].get<std::string>(), RecordedSha256(adapter));
}

INSTANTIATE_TEST_SUITE_P(Adapters, ShippedAdapterTest,
                         ::testing::Values(AdapterCase{"arith", 0.95}, AdapterCase{"date", 0.95},
                                           AdapterCase{"unit", 0.95}, AdapterCase{"extract", 0.95},
                                           AdapterCase{"sentiment", 0.95},
                                           AdapterCase{"reverse", 0.95}),
                         [](const ::testing::TestParamInfo<AdapterCase>& param_info) {
                           return std::string(param_info.param.skill);
                         });

}  // namespace
}  // namespace tessera
