// End-to-end tests of the `tessera` command on the demo model that ships in models/tiny/.
//
// Goldens live in tests/data/golden/; run with TESSERA_UPDATE_GOLDENS=1 to rewrite them after an
// intended change of output (then review the diff).
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "run_cli.h"

namespace tessera {
namespace {

using nlohmann::json;
using testing::CliRun;
using testing::RunCli;

const std::string kModel = std::string(TESSERA_SOURCE_DIR) + "/models/tiny/tiny-random.gguf";
const std::string kGoldenDir = std::string(TESSERA_TEST_DATA_DIR) + "/golden/";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

// Compares `actual` with the golden file `name`, or rewrites it when asked to.
void ExpectGolden(const std::string& name, const std::string& actual) {
  const std::string path = kGoldenDir + name;
  if (std::getenv("TESSERA_UPDATE_GOLDENS") != nullptr) {
    WriteFile(path, actual);
    return;
  }
  std::string expected = ReadFile(path);
  ASSERT_FALSE(expected.empty()) << "missing golden " << path;
  EXPECT_EQ(actual, expected) << "output differs from " << path;
}

json ParseJson(const std::string& text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(j.is_discarded()) << "not JSON: " << text.substr(0, 200);
  return j;
}

// The deterministic part of a generate --json document (no timings, no paths).
json GenerationSummary(const json& j) {
  json s;
  s["prompt_ids"] = j["prompt_ids"];
  s["stop_reason"] = j["stop_reason"];
  s["text"] = j["text"];
  json tokens = json::array();
  for (const json& t : j["tokens"]) {
    json top = json::array();
    for (const json& a : t["top"]) top.push_back({a["id"], a["logprob"]});
    tokens.push_back({{"id", t["id"]}, {"logprob", t["logprob"]}, {"top", top}});
  }
  s["tokens"] = tokens;
  return s;
}

// Ids, text and stop reason must match exactly; log-probabilities within kLogprobTolerance
// (kernels may change the order of float sums; a change beyond this is a change of numerics).
constexpr double kLogprobTolerance = 2e-3;

void ExpectGoldenGeneration(const std::string& name, const json& actual) {
  const std::string path = kGoldenDir + name;
  if (std::getenv("TESSERA_UPDATE_GOLDENS") != nullptr) {
    WriteFile(path, actual.dump(1) + "\n");
    return;
  }
  json expected = json::parse(ReadFile(path), nullptr, false);
  ASSERT_FALSE(expected.is_discarded()) << "missing or bad golden " << path;
  EXPECT_EQ(actual["prompt_ids"], expected["prompt_ids"]);
  EXPECT_EQ(actual["stop_reason"], expected["stop_reason"]);
  EXPECT_EQ(actual["text"], expected["text"]);
  ASSERT_EQ(actual["tokens"].size(), expected["tokens"].size());
  for (std::size_t i = 0; i < actual["tokens"].size(); ++i) {
    const json& a = actual["tokens"][i];
    const json& e = expected["tokens"][i];
    SCOPED_TRACE("token " + std::to_string(i));
    EXPECT_EQ(a["id"], e["id"]);
    EXPECT_NEAR(a["logprob"].get<double>(), e["logprob"].get<double>(), kLogprobTolerance);
    ASSERT_EQ(a["top"].size(), e["top"].size());
    for (std::size_t k = 0; k < a["top"].size(); ++k) {
      EXPECT_NEAR(a["top"][k][1].get<double>(), e["top"][k][1].get<double>(), kLogprobTolerance);
    }
  }
}

// A bad input must give exit status 1 and exactly one line "tessera: <code>: ...".
void ExpectError(const CliRun& run, const std::string& code, const std::string& fragment) {
  EXPECT_EQ(run.exit_code, 1) << run.err;
  EXPECT_EQ(run.err.rfind("tessera: " + code + ": ", 0), 0u) << run.err;
  EXPECT_NE(run.err.find(fragment), std::string::npos) << run.err;
  EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1) << run.err;
}

TEST(CliTest, ShippedModelIsReproducedBySynth) {
  const std::string out = ::testing::TempDir() + "tiny-regenerated.gguf";
  CliRun run = RunCli({"synth", "-o", out, "--shape", "tiny", "--untied", "--type", "q8_0",
                       "--embd-type", "q4_0", "--output-type", "q4_0", "--vocab-from",
                       std::string(TESSERA_TEST_DATA_DIR) + "/vocab/ggml-vocab-llama-spm.gguf",
                       "--seed", "42", "--name", "tessera-tiny-random"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::string shipped = ReadFile(kModel);
  ASSERT_FALSE(shipped.empty());
  EXPECT_TRUE(ReadFile(out) == shipped) << "scripts/make-tiny-model no longer reproduces " << kModel;
}

TEST(CliTest, GreedyGenerationMatchesGolden) {
  CliRun run = RunCli({"generate", "-m", kModel, "-p", "Once upon a time", "-n", "24"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  ExpectGolden("tiny-greedy.txt", run.out);
  EXPECT_NE(run.err.find("tokens/s"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("stop: max_tokens"), std::string::npos) << run.err;
}

TEST(CliTest, JsonGenerationMatchesGoldenAndStreamedText) {
  CliRun run = RunCli({"generate", "-m", kModel, "-p", "Once upon a time", "-n", "24", "--json",
                       "--top-n", "3"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  json j = ParseJson(run.out);
  ExpectGoldenGeneration("tiny-greedy.json", GenerationSummary(j));
  // The streamed text and the JSON text agree, token pieces concatenate to the text.
  CliRun streamed = RunCli({"generate", "-m", kModel, "-p", "Once upon a time", "-n", "24"});
  EXPECT_EQ(streamed.out, j["text"].get<std::string>() + "\n");
  std::string joined;
  for (const json& t : j["tokens"]) {
    joined += t["text"].get<std::string>();
    ASSERT_EQ(t["top"].size(), 3u);
    EXPECT_GE(t["top"][0]["logprob"].get<double>(), t["top"][1]["logprob"].get<double>());
    // Greedy: the chosen token is the most likely one.
    EXPECT_EQ(t["id"], t["top"][0]["id"]);
  }
  EXPECT_EQ(joined, j["text"].get<std::string>());
  EXPECT_EQ(j["model"]["sha256"].get<std::string>().size(), 64u);
  EXPECT_EQ(j["timings"]["decode_tokens"], 24);
}

TEST(CliTest, SampledGenerationIsReproducibleBySeed) {
  std::vector<std::string> args = {"generate", "-m", kModel, "-p", "Once upon a time", "-n",
                                   "24", "--temp", "0.9", "--top-k", "40", "--top-p", "0.95",
                                   "--min-p", "0.01", "--seed", "7"};
  CliRun a = RunCli(args);
  CliRun b = RunCli(args);
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(a.out, b.out);
  ExpectGolden("tiny-sampled-seed7.txt", a.out);
  args.back() = "8";
  CliRun c = RunCli(args);
  EXPECT_NE(a.out, c.out);
}

TEST(CliTest, ScoreAgreesWithGeneration) {
  CliRun gen = RunCli({"generate", "-m", kModel, "-p", "Once upon a time", "-n", "8", "--json"});
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  json g = ParseJson(gen.out);
  std::string prompt_ids, continuation_ids;
  for (const json& id : g["prompt_ids"]) {
    prompt_ids += (prompt_ids.empty() ? "" : ",") + std::to_string(id.get<int>());
  }
  for (const json& t : g["tokens"]) {
    continuation_ids += (continuation_ids.empty() ? "" : ",") + std::to_string(t["id"].get<int>());
  }
  CliRun score = RunCli({"score", "-m", kModel, "--prompt-ids", prompt_ids, "--continuation-ids",
                         continuation_ids, "--json", "--top-n", "2"});
  ASSERT_EQ(score.exit_code, 0) << score.err;
  json s = ParseJson(score.out);
  ASSERT_EQ(s["tokens"].size(), g["tokens"].size());
  double sum = 0;
  for (std::size_t i = 0; i < s["tokens"].size(); ++i) {
    EXPECT_EQ(s["tokens"][i]["id"], g["tokens"][i]["id"]);
    EXPECT_NEAR(s["tokens"][i]["logprob"].get<double>(), g["tokens"][i]["logprob"].get<double>(),
                1e-4);
    sum += s["tokens"][i]["logprob"].get<double>();
  }
  EXPECT_NEAR(s["sum_logprob"].get<double>(), sum, 1e-3);
  EXPECT_NEAR(s["perplexity"].get<double>(), std::exp(-sum / 8.0), 1e-3 * s["perplexity"].get<double>());

  CliRun text = RunCli({"score", "-m", kModel, "-p", "Once upon a", "-c", " time"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("perplexity"), std::string::npos);
  EXPECT_NE(text.out.find("931 \" time\""), std::string::npos) << text.out;
}

TEST(CliTest, TokenizeMatchesLlamaCpp) {
  // Ids from llama.cpp for the Llama-2 vocabulary ("Once upon a time": 1 9038 2501 263 931).
  CliRun run = RunCli({"tokenize", "-m", kModel, "-p", "Once upon a time", "--ids"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "1 9038 2501 263 931\n");
  CliRun pieces = RunCli({"tokenize", "-m", kModel, "-p", "Hi\n", "--no-bos"});
  ASSERT_EQ(pieces.exit_code, 0) << pieces.err;
  EXPECT_NE(pieces.out.find("\"<0x0A>\""), std::string::npos) << pieces.out;
  CliRun special = RunCli({"tokenize", "-m", kModel, "-p", "<s>x", "--no-bos", "--special", "--ids"});
  EXPECT_EQ(special.out.rfind("1 ", 0), 0u) << special.out;
}

TEST(CliTest, InspectPrintsMetadataAndTensors) {
  CliRun text = RunCli({"inspect", kModel});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("general.architecture"), std::string::npos);
  EXPECT_NE(text.out.find("[string x 32000]"), std::string::npos);
  EXPECT_NE(text.out.find("blk.1.ffn_down.weight"), std::string::npos);
  CliRun js = RunCli({"inspect", kModel, "--json"});
  ASSERT_EQ(js.exit_code, 0) << js.err;
  json j = ParseJson(js.out);
  EXPECT_EQ(j["version"], 3);
  EXPECT_EQ(j["metadata"]["general.architecture"], "llama");
  EXPECT_EQ(j["metadata"]["tokenizer.ggml.tokens"]["count"], 32000);
  bool found = false;
  for (const json& t : j["tensors"]) {
    if (t["name"] == "token_embd.weight") {
      found = true;
      EXPECT_EQ(t["type"], "q4_0");
      EXPECT_EQ(t["shape"], json::array({64, 32000}));
      EXPECT_EQ(t["bytes"], 64 / 32 * 18 * 32000);
    }
  }
  EXPECT_TRUE(found);
}

// --- bad input: one line naming the problem, exit status 1, never a crash ---

std::string PatchedCopy(const std::string& name, std::size_t keep_bytes,
                        const std::string& find = "", const std::string& replace = "") {
  std::string bytes = ReadFile(kModel);
  if (!find.empty()) {
    std::size_t at = bytes.find(find);
    EXPECT_NE(at, std::string::npos);
    bytes.replace(at, find.size(), replace);
  }
  if (keep_bytes < bytes.size()) bytes.resize(keep_bytes);
  std::string path = ::testing::TempDir() + name;
  WriteFile(path, bytes);
  return path;
}

TEST(CliBadInputTest, MissingFile) {
  ExpectError(RunCli({"generate", "-m", "/nonexistent/model.gguf", "-p", "x"}), "not_found",
              "/nonexistent/model.gguf");
  ExpectError(RunCli({"inspect", "/nonexistent/model.gguf"}), "not_found", "model.gguf");
}

TEST(CliBadInputTest, TruncatedAndCorruptFiles) {
  ExpectError(RunCli({"generate", "-m", PatchedCopy("trunc.gguf", 1000), "-p", "x"}), "truncated",
              "gguf");
  ExpectError(RunCli({"generate", "-m", PatchedCopy("trunc2.gguf", 3000000), "-p", "x"}),
              "truncated", "past");
  ExpectError(RunCli({"inspect", PatchedCopy("magic.gguf", 1 << 30, "GGUF", "GGUX")}),
              "malformed", "magic");
}

TEST(CliBadInputTest, UnsupportedArchitecture) {
  std::string path = PatchedCopy("arch.gguf", 1 << 30, std::string("\x05\0\0\0\0\0\0\0llama", 13),
                                 std::string("\x05\0\0\0\0\0\0\0mamba", 13));
  ExpectError(RunCli({"generate", "-m", path, "-p", "x"}), "unsupported", "mamba");
}

TEST(CliBadInputTest, UnknownTensorType) {
  // token_embd.weight's type field (q4_0 = 2) follows its name and dims [64, 32000].
  std::string name_and_dims = std::string("token_embd.weight\x02\0\0\0", 21) +
                              std::string("\x40\0\0\0\0\0\0\0\x00\x7d\0\0\0\0\0\0", 16);
  std::string path = PatchedCopy("type.gguf", 1 << 30, name_and_dims + std::string("\x02\0\0\0", 4),
                                 name_and_dims + std::string("\x63\0\0\0", 4));
  ExpectError(RunCli({"generate", "-m", path, "-p", "x"}), "unsupported", "99");
}

TEST(CliBadInputTest, PromptProblems) {
  ExpectError(RunCli({"generate", "-m", kModel, "-p", ""}), "invalid_argument", "prompt is empty");
  ExpectError(RunCli({"generate", "-m", kModel, "-p", "abc\xff\xfe"}), "invalid_utf8", "byte 3");
  std::string long_prompt;
  for (int i = 0; i < 300; ++i) long_prompt += " word";
  ExpectError(RunCli({"generate", "-m", kModel, "-p", long_prompt}), "out_of_range", "256");
  ExpectError(RunCli({"generate", "-m", kModel, "-c", "4", "-p", "Once upon a time"}),
              "out_of_range", "4");
}

TEST(CliBadInputTest, InvalidSamplingValues) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--temp", "-1"}, {"--top-p", "0"}, {"--top-p", "1.5"}, {"--min-p", "2"},
      {"--top-k", "-3"}, {"--top-n", "1000"}, {"-n", "-5"}, {"--temp", "nan"}};
  for (const auto& [flag, value] : cases) {
    SCOPED_TRACE(flag + " " + value);
    ExpectError(RunCli({"generate", "-m", kModel, "-p", "x", flag, value}), "invalid_argument",
                "");
  }
  ExpectError(RunCli({"generate", "-m", kModel, "-p", "x", "-t", "999"}), "invalid_argument",
              "-t 999");
}

TEST(CliBadInputTest, UsageErrorsExitWithTwo) {
  EXPECT_EQ(RunCli({"generate", "--no-such-flag"}).exit_code, 2);
  EXPECT_EQ(RunCli({}).exit_code, 2);
  EXPECT_EQ(RunCli({"generate", "-m", kModel, "-p", "x", "-n", "abc"}).exit_code, 2);
  EXPECT_EQ(RunCli({"--help"}).exit_code, 0);
}

TEST(CliBadInputTest, ScoreInputs) {
  ExpectError(RunCli({"score", "-m", kModel, "--prompt-ids", "1,x", "--continuation-ids", "2"}),
              "invalid_argument", "\"x\"");
  ExpectError(RunCli({"score", "-m", kModel, "--prompt-ids", "1", "--continuation-ids", "99999"}),
              "out_of_range", "99999");
  ExpectError(RunCli({"score", "-m", kModel, "-p", "a", "-c", ""}), "invalid_argument",
              "continuation");
}

}  // namespace
}  // namespace tessera
