// End-to-end tests of `tessera eval` on a synthetic model: a set whose answers are the model's
// own greedy outputs (100%), one with wrong answers (0%), the report's fields, -o, --limit,
// --lora, and a clear error naming the line for every kind of bad set.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "../engine/lora_fixture.h"
#include "../engine/test_model.h"
#include "run_cli.h"
#include "tessera/engine.h"

namespace tessera {
namespace {

using nlohmann::json;
using testing::CliRun;
using testing::RunCli;

constexpr std::int32_t kMaxTokens = 8;

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string TempFile(const std::string& name) {
  return ::testing::TempDir() + "tessera_eval_" + std::to_string(::getpid()) + "_" + name;
}

std::string WriteText(const std::string& name, const std::string& text) {
  const std::string path = TempFile(name);
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

json Parse(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << text.substr(0, 300);
  return j;
}

struct Case {
  std::string id, skill, prompt, answer, split;
};

std::string SetText(const std::vector<Case>& cases) {
  std::string out;
  for (const Case& c : cases) {
    json j = {{"id", c.id}, {"skill", c.skill}, {"prompt", c.prompt}, {"answer", c.answer}};
    if (!c.split.empty()) j["split"] = c.split;
    out += j.dump() + "\n";
  }
  return out;
}

class EvalCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    model_path_ = new std::string(engine_test::WriteTestModel("eval_model"));
    model_ = engine_test::OpenModel(*model_path_).release();
    cases_ = new std::vector<Case>();
    // Prompts whose greedy continuation is valid UTF-8 (so it survives JSON unchanged).
    int n = 0;
    for (int i = 0; i < 200 && n < 6; ++i) {
      const std::string p =
          std::string(1, static_cast<char>('a' + i % 26)) + " word " + std::to_string(i);
      const std::string got = Greedy(*model_, p, kMaxTokens);
      if (json(got).dump(-1, ' ', false, json::error_handler_t::replace) !=
          json(got).dump(-1, ' ', false, json::error_handler_t::ignore)) {
        continue;  // not valid UTF-8
      }
      cases_->push_back(Case{std::string("c").append(std::to_string(n)),
                             n % 2 == 0 ? "alpha" : "beta", p, got,
                             n < 2 ? "train" : (n < 4 ? "test" : "")});
      ++n;
    }
    ASSERT_EQ(cases_->size(), 6u);
  }
  static void TearDownTestSuite() {
    delete model_;
    std::remove(model_path_->c_str());
    delete model_path_;
    delete cases_;
  }
  void TearDown() override {
    for (const std::string& p : written_) std::remove(p.c_str());
  }

  // The model's greedy text for `prompt` (BOS added), as eval generates it.
  static std::string Greedy(const Model& model, const std::string& prompt, std::int32_t n,
                            std::shared_ptr<const Adapter> adapter = nullptr) {
    SessionOptions so;
    if (adapter != nullptr) so.adapters.push_back({adapter, 1.0f});
    auto session = model.NewSession(so);
    EXPECT_TRUE(session.ok());
    auto ids = model.Tokenize(prompt, true, false);
    EXPECT_TRUE(ids.ok());
    GenerateOptions o;
    o.max_tokens = n;
    auto r = (*session)->Generate(*ids, o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->text : std::string();
  }

  std::string Set(const std::string& name, const std::string& text) {
    const std::string path = WriteText(name + ".jsonl", text);
    written_.push_back(path);
    return path;
  }
  CliRun Eval(const std::string& set, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"eval", *model_path_,   "--set",
                                     set,    "--max-tokens", std::to_string(kMaxTokens)};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunCli(args);
  }
  // A bad set: exit 1, one line naming the code and every fragment.
  void ExpectBadSet(const std::string& text, const std::vector<std::string>& fragments) {
    const std::string path = Set("bad", text);
    const CliRun r = Eval(path);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(r.out, "");
    for (const std::string& f : fragments) {
      EXPECT_NE(r.err.find(f), std::string::npos) << "\"" << f << "\" not in: " << r.err;
    }
  }
  std::string WriteAdapter(const std::string& name) {
    Result<gguf::File> base = gguf::File::Open(*model_path_);
    EXPECT_TRUE(base.ok());
    auto f = lora_test::MakeFactors(
        *base, {"blk.0.attn_q.weight", "blk.0.attn_v.weight", "blk.1.ffn_down.weight"}, 8, 99,
        0.3f);
    EXPECT_TRUE(f.ok());
    const std::string path = TempFile(name + ".gguf");
    EXPECT_TRUE(lora_test::WriteAdapter(lora_test::MakeAdapter(*f, 16.0f), path).ok());
    written_.push_back(path);
    return path;
  }

  static std::string* model_path_;
  static Model* model_;
  static std::vector<Case>* cases_;
  std::vector<std::string> written_;
};
std::string* EvalCliTest::model_path_ = nullptr;
Model* EvalCliTest::model_ = nullptr;
std::vector<Case>* EvalCliTest::cases_ = nullptr;

TEST_F(EvalCliTest, OwnGreedyOutputsScoreOneHundredPercent) {
  const std::string set = Set("own", SetText(*cases_));
  const CliRun r = Eval(set, {"--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = Parse(r.out);
  EXPECT_EQ(j["version"], "tessera 0.1.0");
  EXPECT_EQ(j["model"]["path"], *model_path_);
  EXPECT_EQ(j["model"]["sha256"], model_->sha256());
  EXPECT_EQ(j["model"]["description"], model_->description());
  EXPECT_TRUE(j["adapter"].is_null());
  EXPECT_EQ(j["set"]["path"], set);
  EXPECT_EQ(j["set"]["sha256"].get<std::string>().size(), 64u);
  EXPECT_EQ(j["set"]["cases"], 6);
  EXPECT_EQ(j["set"]["evaluated"], 6);
  EXPECT_EQ(j["max_tokens"], kMaxTokens);
  EXPECT_GE(j["threads"].get<int>(), 1);
  EXPECT_EQ(j["exact_match"]["correct"], 6);
  EXPECT_EQ(j["exact_match"]["total"], 6);
  EXPECT_EQ(j["exact_match"]["accuracy"], 1.0);
  EXPECT_EQ(j["by_skill"]["alpha"]["total"], 3);
  EXPECT_EQ(j["by_skill"]["alpha"]["correct"], 3);
  EXPECT_EQ(j["by_skill"]["beta"]["total"], 3);
  EXPECT_EQ(j["by_skill"]["beta"]["accuracy"], 1.0);
  EXPECT_EQ(j["by_split"]["train"]["total"], 2);
  EXPECT_EQ(j["by_split"]["test"]["total"], 2);
  EXPECT_EQ(j["by_split"]["(none)"]["total"], 2);
  ASSERT_TRUE(j["mean_answer_logprob"].is_number());
  EXPECT_LT(j["mean_answer_logprob"].get<double>(), 0.0);
  EXPECT_GT(j["answer_tokens"].get<int>(), 6);
  for (const char* k : {"mean", "p50", "p95", "max"}) {
    EXPECT_GT(j["latency_ms"][k].get<double>(), 0.0) << k;
  }
  EXPECT_LE(j["latency_ms"]["p50"].get<double>(), j["latency_ms"]["p95"].get<double>());
  EXPECT_GT(j["throughput"]["prompt_tokens"].get<int>(), 6);
  EXPECT_GT(j["throughput"]["prefill_tokens_per_second"].get<double>(), 0.0);
  EXPECT_GT(j["throughput"]["decode_tokens_per_second"].get<double>(), 0.0);
  EXPECT_TRUE(j["failures"].is_array());
  EXPECT_TRUE(j["failures"].empty());
}

TEST_F(EvalCliTest, WrongAnswersScoreZeroAndAreListed) {
  std::vector<Case> wrong = *cases_;
  for (Case& c : wrong) c.answer = "not " + c.answer;
  const std::string set = Set("wrong", SetText(wrong));
  const CliRun r = Eval(set, {"--json", "--show-failures", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = Parse(r.out);
  EXPECT_EQ(j["exact_match"]["correct"], 0);
  EXPECT_EQ(j["exact_match"]["accuracy"], 0.0);
  EXPECT_EQ(j["by_skill"]["alpha"]["correct"], 0);
  ASSERT_EQ(j["failures"].size(), 2u);
  const json& f = j["failures"][0];
  EXPECT_EQ(f["id"], "c0");
  EXPECT_EQ(f["skill"], "alpha");
  EXPECT_EQ(f["split"], "train");
  EXPECT_EQ(f["line"], 1);
  EXPECT_EQ(f["prompt"], (*cases_)[0].prompt);
  EXPECT_EQ(f["expected"], "not " + (*cases_)[0].answer);
  EXPECT_EQ(f["got"], (*cases_)[0].answer);
  EXPECT_EQ(f["stop_reason"], "max_tokens");
  // The wrong answers are less likely than the model's own.
  const CliRun own = Eval(Set("own2", SetText(*cases_)), {"--json"});
  ASSERT_EQ(own.exit_code, 0) << own.err;
  EXPECT_LT(j["mean_answer_logprob"].get<double>(),
            Parse(own.out)["mean_answer_logprob"].get<double>());
}

// The total log-probability of `label` after `prompt`, computed here as eval_run.h defines it:
// the tokens of prompt + label after the longest prefix shared with the prompt's, then EOS.
double LabelLogprob(const Model& model, const std::string& prompt, const std::string& label) {
  auto p = model.Tokenize(prompt, true, false);
  auto whole = model.Tokenize(prompt + label, true, false);
  EXPECT_TRUE(p.ok() && whole.ok());
  std::size_t shared = 0;
  while (shared < p->size() && shared < whole->size() && (*p)[shared] == (*whole)[shared]) {
    ++shared;
  }
  std::vector<std::int32_t> head(whole->begin(), whole->begin() + shared);
  std::vector<std::int32_t> tail(whole->begin() + shared, whole->end());
  tail.push_back(model.eos_id());
  auto session = model.NewSession({});
  EXPECT_TRUE(session.ok());
  auto s = (*session)->Score(head, tail);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? s->sum_logprob : 0.0;
}

TEST_F(EvalCliTest, LabelsAreScoredAndTheMostProbableIsTheAnswer) {
  const std::vector<std::string> labels = {"yes", "no", "maybe so", "x"};
  std::vector<Case> cases;
  std::vector<std::string> best;
  for (std::size_t i = 0; i < 4; ++i) {
    const std::string prompt = (*cases_)[i].prompt;
    std::vector<double> lp;
    for (const std::string& l : labels) lp.push_back(LabelLogprob(*model_, prompt, l));
    const auto top = std::max_element(lp.begin(), lp.end()) - lp.begin();
    const auto low = std::min_element(lp.begin(), lp.end()) - lp.begin();
    ASSERT_NE(top, low);
    best.push_back(labels[static_cast<std::size_t>(top)]);
    // Cases 0 and 1 expect the most probable label, 2 and 3 the least probable one.
    cases.push_back(Case{std::string("l").append(std::to_string(i)), "route", prompt,
                         labels[static_cast<std::size_t>(i < 2 ? top : low)], "s"});
  }
  const CliRun r = Eval(Set("labels", SetText(cases)),
                        {"--json", "--labels", "yes,no,maybe so,x", "--show-failures", "9"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = Parse(r.out);
  EXPECT_EQ(j["labels"], json(labels));
  EXPECT_EQ(j["exact_match"]["correct"], 2);
  EXPECT_EQ(j["max_tokens"], 0);
  ASSERT_EQ(j["failures"].size(), 2u);
  for (std::size_t k = 0; k < 2; ++k) {
    const json& f = j["failures"][k];
    const std::size_t i = k + 2;
    EXPECT_EQ(f["id"], std::string("l").append(std::to_string(i)));
    EXPECT_EQ(f["got"], best[i]);
    EXPECT_EQ(f["stop_reason"], "end_of_generation");
    for (const std::string& l : labels) {
      EXPECT_NEAR(f["label_logprobs"][l].get<double>(), LabelLogprob(*model_, cases[i].prompt, l),
                  1e-6)
          << l;
    }
  }
  const CliRun text = Eval(Set("labels2", SetText(cases)), {"--labels", "yes,no,maybe so,x"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("labels     [\"yes\",\"no\",\"maybe so\",\"x\"]"), std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("4 labels per case"), std::string::npos) << text.out;
}

TEST_F(EvalCliTest, BadLabelsAreRefused) {
  const std::string set = Set("badlabels", SetText({Case{"a", "s", "p q", "yes", ""}}));
  const std::pair<std::string, std::string> cases[] = {
      {"no,maybe", "case \"a\" (line 1): the answer \"yes\" is not one of the --labels"},
      {"yes,no,yes", "\"yes\" is listed twice"},
      {"yes,,no", "label 2 is empty"},
  };
  for (const auto& [labels, message] : cases) {
    const CliRun r = Eval(set, {"--labels", labels});
    EXPECT_EQ(r.exit_code, 1) << labels;
    EXPECT_NE(r.err.find(message), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "");
  }
}

TEST_F(EvalCliTest, AccuracyHasAWilsonInterval) {
  std::vector<Case> mixed = *cases_;
  mixed[5].answer = "not " + mixed[5].answer;  // 5 of 6
  const CliRun r = Eval(Set("wilson", SetText(mixed)), {"--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = Parse(r.out);
  // 5/6: 95% Wilson interval [0.4365, 0.9699]; 2/2 (split "train"): [0.3424, 1].
  EXPECT_NEAR(j["exact_match"]["wilson95"][0].get<double>(), 0.43649, 1e-4);
  EXPECT_NEAR(j["exact_match"]["wilson95"][1].get<double>(), 0.96994, 1e-4);
  EXPECT_NEAR(j["by_split"]["train"]["wilson95"][0].get<double>(), 0.34238, 1e-4);
  EXPECT_EQ(j["by_split"]["train"]["wilson95"][1].get<double>(), 1.0);
  const CliRun text = Eval(Set("wilson2", SetText(mixed)));
  EXPECT_NE(text.out.find("5/6  83.3%  (95% interval 43.6-97.0%)"), std::string::npos) << text.out;
}

TEST_F(EvalCliTest, SummaryOnStdoutAndJsonFileWithDashO) {
  const std::string set = Set("summary", SetText(*cases_));
  const std::string report = TempFile("report.json");
  written_.push_back(report);
  const CliRun r = Eval(set, {"-o", report});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("exact match  6/6"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("per skill"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("alpha"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("latency ms"), std::string::npos) << r.out;
  const json j = Parse(ReadText(report));
  EXPECT_EQ(j["exact_match"]["correct"], 6);
  EXPECT_EQ(j["set"]["path"], set);
  // Atomic write: no temporary left beside the report.
  const std::filesystem::path dir = std::filesystem::path(report).parent_path();
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    EXPECT_EQ(entry.path().filename().string().find(
                  std::filesystem::path(report).filename().string() + ".tmp"),
              std::string::npos)
        << entry.path();
  }
}

TEST_F(EvalCliTest, LimitEvaluatesTheFirstCases) {
  std::vector<Case> mixed = *cases_;
  for (std::size_t i = 2; i < mixed.size(); ++i) mixed[i].answer += "?";
  const CliRun r = Eval(Set("limit", SetText(mixed)), {"--json", "--limit", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = Parse(r.out);
  EXPECT_EQ(j["set"]["cases"], 6);
  EXPECT_EQ(j["set"]["evaluated"], 2);
  EXPECT_EQ(j["exact_match"]["total"], 2);
  EXPECT_EQ(j["exact_match"]["correct"], 2);
  EXPECT_EQ(j["by_skill"]["alpha"]["total"], 1);
}

TEST_F(EvalCliTest, LoraChangesTheResults) {
  const std::string adapter = WriteAdapter("eval_lora");
  const std::string set = Set("lora", SetText(*cases_));
  const CliRun base = Eval(set, {"--json"});
  const CliRun tuned = Eval(set, {"--json", "--lora", adapter});
  const CliRun off = Eval(set, {"--json", "--lora", adapter, "--lora-scale", "0"});
  ASSERT_EQ(base.exit_code, 0) << base.err;
  ASSERT_EQ(tuned.exit_code, 0) << tuned.err;
  ASSERT_EQ(off.exit_code, 0) << off.err;
  const json b = Parse(base.out), t = Parse(tuned.out), o = Parse(off.out);
  ASSERT_TRUE(t["adapter"].is_object());
  EXPECT_EQ(t["adapter"]["path"], adapter);
  EXPECT_EQ(t["adapter"]["sha256"].get<std::string>().size(), 64u);
  EXPECT_EQ(t["adapter"]["scale"], 1.0);
  EXPECT_EQ(o["adapter"]["scale"], 0.0);
  EXPECT_NE(t["mean_answer_logprob"], b["mean_answer_logprob"]);
  // The adapted model generates something else for at least one prompt, exactly as the engine.
  auto opened = Adapter::Open(adapter, *model_);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  int same = 0;
  for (const Case& c : *cases_) same += Greedy(*model_, c.prompt, kMaxTokens, *opened) == c.answer;
  EXPECT_LT(same, 6);
  EXPECT_EQ(t["exact_match"]["correct"], same);
  // Scale 0 is the base, bit for bit.
  EXPECT_EQ(o["exact_match"]["correct"], 6);
  EXPECT_EQ(o["mean_answer_logprob"], b["mean_answer_logprob"]);
}

TEST_F(EvalCliTest, BadAdapterAndFlags) {
  const std::string set = Set("flags", SetText(*cases_));
  const CliRun not_adapter = Eval(set, {"--lora", *model_path_});
  EXPECT_EQ(not_adapter.exit_code, 1);
  EXPECT_NE(not_adapter.err.find("invalid_argument"), std::string::npos) << not_adapter.err;
  EXPECT_NE(not_adapter.err.find("not an adapter"), std::string::npos) << not_adapter.err;
  EXPECT_EQ(Eval(set, {"--lora-scale", "2"}).exit_code, 2);  // needs --lora
  EXPECT_EQ(RunCli({"eval", *model_path_}).exit_code, 2);    // --set is required
  const CliRun limit = Eval(set, {"--limit", "-1"});
  EXPECT_EQ(limit.exit_code, 1);
  EXPECT_NE(limit.err.find("--limit"), std::string::npos) << limit.err;
}

TEST_F(EvalCliTest, BadSetsNameTheLine) {
  const std::string good = SetText({(*cases_)[0]});
  ExpectBadSet(good + "{\"id\": \"x\", oops}\n", {"malformed", ":2:", "not JSON"});
  ExpectBadSet(good + "\n[1, 2]\n", {"malformed", ":3:", "JSON object", "array"});
  ExpectBadSet("{\"id\": \"x\", \"skill\": \"s\", \"prompt\": \"p\"}\n",
               {"malformed", ":1:", "missing field \"answer\""});
  ExpectBadSet(good + "{\"id\": \"x\", \"skill\": \"s\", \"prompt\": \"p\", \"answer\": 5}\n",
               {"type_mismatch", ":2:", "\"answer\"", "number"});
  ExpectBadSet(good +
                   "{\"id\": \"x\", \"skill\": \"s\", \"prompt\": \"p\", \"answer\": \"a\", "
                   "\"split\": [\"test\"]}\n",
               {"type_mismatch", ":2:", "\"split\""});
  ExpectBadSet(good + good, {"duplicate", ":2:", "\"c0\"", "line 1"});
  ExpectBadSet("", {"invalid_argument", "no cases"});
  ExpectBadSet("\n  \n", {"invalid_argument", "no cases"});

  const CliRun missing = Eval(TempFile("no_such_set.jsonl"));
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("not_found"), std::string::npos) << missing.err;
  EXPECT_NE(missing.err.find("no_such_set.jsonl"), std::string::npos) << missing.err;
  const CliRun directory = Eval(::testing::TempDir());
  EXPECT_EQ(directory.exit_code, 1);
  EXPECT_NE(directory.err.find("io_error"), std::string::npos) << directory.err;
}

}  // namespace
}  // namespace tessera
