// Quality evidence for the models that ship in models/: runs `tessera eval` (greedy, exact
// match) on the task suite's evaluation splits (models/eval/<split>/, models/tasks/README.md)
// and checks that each shipped model still measures what its committed report says
// (models/reports/<model>.<split>.<set>.json, the evidence its package manifest carries), on the
// same bytes of model and set. Issue 18's bars (95% on held-out templates and vocabulary; the
// router 97% in domain, 90% abstention) are reported met or missed in models/README.md; this test
// guards the figures, so a regression (or a report that the model does not reproduce) fails it.
// A model that answers differently on another CPU only where two logits tie may move a case or
// two: the tolerance is one point on 500 cases. Sanitizer builds (several times slower) run
// every model on the first 100 cases of each set only: there the figures are not compared (the
// report is of all 500; Release builds compare them), the runs and the bytes are.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "run_cli.h"

namespace tessera {
namespace {

using nlohmann::json;
using testing::CliRun;
using testing::RunCli;

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

const std::string kModels = std::string(TESSERA_SOURCE_DIR) + "/models/";
constexpr const char* kRouterLabels = "arith,date,unit,extract,sentiment,reverse,none";

struct Case {
  const char* model;    // the report's model name: models/reports/<model>.<split>.<set>.json
  const char* weights;  // under models/
  const char* adapter;  // under models/, or empty
  const char* split;    // models/eval/<split>/
  const char* set;      // <set>.jsonl
};

std::string NameOf(const Case& c) {
  std::string name = std::string(c.model) + "_" + c.split + "_" + c.set;
  for (char& ch : name) {
    if (ch == '-' || ch == '.') ch = '_';
  }
  return name;
}

std::ostream& operator<<(std::ostream& os, const Case& c) { return os << NameOf(c); }

std::string ParamName(const ::testing::TestParamInfo<Case>& param_info) {
  return NameOf(param_info.param);
}

// The sha256 models/SHA256SUMS records for `file` (relative to models/).
std::string RecordedSha256(const std::string& file) {
  std::ifstream in(kModels + "SHA256SUMS");
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > 66 && line.substr(66) == file) return line.substr(0, 64);
  }
  return "";
}

json ReadJson(const std::string& path) {
  std::ifstream in(path);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return json::parse(text, nullptr, /*allow_exceptions=*/false);
}

// The committed report of `c`: models/reports/<model>.<split>.<set>.json.
json Recorded(const Case& c) {
  return ReadJson(kModels + "reports/" + c.model + "." + c.split + "." + c.set + ".json");
}

json Eval(const Case& c, bool with_adapter, std::int64_t limit) {
  std::vector<std::string> args = {"eval",   kModels + c.weights,
                                   "--set",  kModels + "eval/" + c.split + "/" + c.set + ".jsonl",
                                   "--json", "-t",
                                   "1"};
  if (limit > 0) {
    args.insert(args.end(), {"--limit", std::to_string(limit)});
  }
  if (with_adapter) {
    args.insert(args.end(), {"--lora", kModels + c.adapter});
  }
  if (std::string(c.set) == "routing") {
    args.insert(args.end(), {"--labels", kRouterLabels});
  }
  const CliRun run = RunCli(args);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  return json::parse(run.out, nullptr, /*allow_exceptions=*/false);
}

class ShippedModelTest : public ::testing::TestWithParam<Case> {};

TEST_P(ShippedModelTest, ReproducesItsReport) {
  const Case& c = GetParam();
  const json recorded = Recorded(c);
  ASSERT_FALSE(recorded.is_discarded()) << "no report for " << NameOf(c);
  const bool limited = kSanitized;
  const json report = Eval(c, *c.adapter != '\0', limited ? 100 : 0);
  ASSERT_FALSE(report.is_discarded());
  const double accuracy = report["exact_match"]["accuracy"].get<double>();
  const double expected = recorded["exact_match"]["accuracy"].get<double>();
  std::printf("%s: exact match %.3f over %d cases (report: %.3f over %d)\n", NameOf(c).c_str(),
              accuracy, report["exact_match"]["total"].get<int>(), expected,
              recorded["exact_match"]["total"].get<int>());
  if (!limited) {
    EXPECT_NEAR(accuracy, expected, 0.01) << NameOf(c);
  }
  // The same bytes as the report: the set, the model and the adapter.
  EXPECT_EQ(report["set"]["sha256"], recorded["set"]["sha256"]);
  EXPECT_EQ(report["model"]["sha256"].get<std::string>(), RecordedSha256(c.weights));
  if (*c.adapter != '\0') {
    EXPECT_EQ(report["adapter"]["sha256"].get<std::string>(), RecordedSha256(c.adapter));
  }
}

// Every specialist on the splits that hold out wordings and vocabulary (the bars' splits) and on
// new problems alone (keys); the router on its labels; the generalist and the base on the
// held-out wordings and vocabulary together (novel).
INSTANTIATE_TEST_SUITE_P(
    Specialists, ShippedModelTest,
    ::testing::Values(Case{"arith", "specialists/arith.gguf", "", "keys", "arith"},
                      Case{"arith", "specialists/arith.gguf", "", "templates", "arith"},
                      Case{"arith", "specialists/arith.gguf", "", "novel", "arith"},
                      Case{"date", "specialists/date.gguf", "", "keys", "date"},
                      Case{"date", "specialists/date.gguf", "", "novel", "date"},
                      Case{"unit", "specialists/unit.gguf", "", "keys", "unit"},
                      Case{"unit", "specialists/unit.gguf", "", "novel", "unit"},
                      Case{"extract", "specialists/extract.gguf", "", "keys", "extract"},
                      Case{"extract", "specialists/extract.gguf", "", "vocab", "extract"},
                      Case{"extract", "specialists/extract.gguf", "", "novel", "extract"},
                      Case{"sentiment", "specialists/sentiment.gguf", "", "keys", "sentiment"},
                      Case{"sentiment", "specialists/sentiment.gguf", "", "novel", "sentiment"},
                      Case{"reverse", "specialists/reverse.gguf", "", "keys", "reverse"},
                      Case{"reverse", "specialists/reverse.gguf", "", "novel", "reverse"},
                      Case{"router", "router.gguf", "", "keys", "routing"},
                      Case{"router", "router.gguf", "", "novel", "routing"}),
    ParamName);

INSTANTIATE_TEST_SUITE_P(
    Large, ShippedModelTest,
    ::testing::Values(Case{"generalist", "generalist.gguf", "", "novel", "arith"},
                      Case{"generalist", "generalist.gguf", "", "novel", "date"},
                      Case{"generalist", "generalist.gguf", "", "novel", "unit"},
                      Case{"generalist", "generalist.gguf", "", "novel", "extract"},
                      Case{"generalist", "generalist.gguf", "", "novel", "sentiment"},
                      Case{"generalist", "generalist.gguf", "", "novel", "reverse"}),
    ParamName);

// Each LoRA adapter on the shared base reproduces its report and does better than the base alone
// on the same cases: the adapter, not the base, does the work.
class ShippedAdapterTest : public ::testing::TestWithParam<Case> {};

TEST_P(ShippedAdapterTest, ReproducesItsReportAndBeatsTheBase) {
  const Case& c = GetParam();
  const json recorded = Recorded(c);
  ASSERT_FALSE(recorded.is_discarded()) << "no report for " << NameOf(c);
  const std::int64_t limit = kSanitized ? 100 : 0;
  const json with = Eval(c, true, limit);
  const json without = Eval(c, false, limit);
  ASSERT_FALSE(with.is_discarded());
  ASSERT_FALSE(without.is_discarded());
  const double adapted = with["exact_match"]["accuracy"].get<double>();
  const double base = without["exact_match"]["accuracy"].get<double>();
  std::printf("%s: base %.3f, base + adapter %.3f over %d cases (report: %.3f)\n",
              NameOf(c).c_str(), base, adapted, with["exact_match"]["total"].get<int>(),
              recorded["exact_match"]["accuracy"].get<double>());
  if (!kSanitized) {
    EXPECT_NEAR(adapted, recorded["exact_match"]["accuracy"].get<double>(), 0.01);
  }
  EXPECT_GT(adapted, base);
  EXPECT_EQ(with["adapter"]["sha256"].get<std::string>(), RecordedSha256(c.adapter));
  EXPECT_EQ(with["set"]["sha256"], recorded["set"]["sha256"]);
}

INSTANTIATE_TEST_SUITE_P(
    Adapters, ShippedAdapterTest,
    ::testing::Values(
        Case{"arith-lora", "base.gguf", "adapters/arith.lora.gguf", "novel", "arith"},
        Case{"date-lora", "base.gguf", "adapters/date.lora.gguf", "novel", "date"},
        Case{"unit-lora", "base.gguf", "adapters/unit.lora.gguf", "novel", "unit"},
        Case{"extract-lora", "base.gguf", "adapters/extract.lora.gguf", "novel", "extract"},
        Case{"sentiment-lora", "base.gguf", "adapters/sentiment.lora.gguf", "novel", "sentiment"},
        Case{"reverse-lora", "base.gguf", "adapters/reverse.lora.gguf", "novel", "reverse"}),
    ParamName);

}  // namespace
}  // namespace tessera
