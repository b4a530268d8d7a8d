// `tessera quantize` against llama.cpp's llama-quantize, byte for byte, and the engine against
// llama.cpp on what it wrote:
//   * the eight files of ../shared/testdata/quant-goldens (llama-quantize's Q8_0 ... Q5_K_M of
//     tests/data/quant-source/generalist.gguf): every tensor `tessera quantize` gives the same
//     type must have the same bytes;
//   * Q2_K, Q3_K, IQ4_NL and IQ4_XS (tests/data/quant-lowbit/: llama-quantize --pure with
//     ffn_down kept F16): the sha256 of every tensor llama-quantize wrote must be the sha256 of
//     ours, and on our file (therefore llama.cpp's tensors) greedy generation must give
//     llama.cpp's ids, with its log-probabilities.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/sha256.h"
#include "gguf/reader.h"
#include "run_cli.h"
#include "tessera/engine.h"

namespace tessera {
namespace {

using testing::CliRun;
using testing::RunCli;

const std::string kSource =
    std::string(TESSERA_SOURCE_DIR) + "/tests/data/quant-source/generalist.gguf";
// The shared test data (../shared/testdata beside the checkout, as CI has it), or
// $TESSERA_SHARED_DIR/testdata when that is set.
std::string SharedTestData() {
  const char* dir = std::getenv("TESSERA_SHARED_DIR");
  return (dir != nullptr ? std::string(dir) : std::string(TESSERA_SOURCE_DIR) + "/../shared") +
         "/testdata/";
}

const std::string kShared = SharedTestData() + "quant-goldens/";
const std::string kLowBit =
    std::string(TESSERA_TEST_DATA_DIR) + "/quant-lowbit/generalist-lowbit.llamacpp.json";

// Measured on these files (the test prints the maxima): chosen token within 3.8e-3 (Q2_K),
// other top-five entries within 0.1; the bounds are those of tests/engine/quant_golden_test.cc.
constexpr double kChosenTolerance = 5e-3;
constexpr double kTopFiveTolerance = 0.15;

std::string Quantized(const std::string& type) {
  const std::string out = ::testing::TempDir() + "tessera_parity_" + std::to_string(::getpid()) +
                          "_" + type + ".gguf";
  CliRun run = RunCli({"quantize", kSource, out, type});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  return out;
}

nlohmann::json ReadJson(const std::string& path) {
  std::ifstream in(path);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
}

struct SharedFile {
  const char* type;  // tessera quantize's name
  const char* file;  // in quant-goldens
  int min_same;      // tensors whose type and bytes must agree (all but a differently typed one)
};

class SharedParityTest : public ::testing::TestWithParam<SharedFile> {};

TEST_P(SharedParityTest, EveryTensorOfTheSameTypeHasLlamaQuantizesBytes) {
  const std::string ours_path = Quantized(GetParam().type);
  Result<gguf::File> ours = gguf::File::Open(ours_path);
  ASSERT_TRUE(ours.ok()) << ours.status().ToString();
  Result<gguf::File> theirs = gguf::File::Open(kShared + GetParam().file);
  ASSERT_TRUE(theirs.ok()) << theirs.status().ToString() << " (the shared test data)";
  int same = 0;
  for (const gguf::TensorInfo& t : theirs->tensors()) {
    const gguf::TensorInfo* o = ours->FindTensor(t.name);
    ASSERT_NE(o, nullptr) << t.name;
    if (o->type != t.type) continue;  // a recipe choice (llama.cpp's Q6_K output), not bytes
    EXPECT_TRUE(std::equal(o->data.begin(), o->data.end(), t.data.begin(), t.data.end()))
        << t.name;
    ++same;
  }
  EXPECT_GE(same, GetParam().min_same);
  std::remove(ours_path.c_str());
}

INSTANTIATE_TEST_SUITE_P(
    QuantGoldens, SharedParityTest,
    ::testing::Values(SharedFile{"q8_0", "generalist-Q8_0.gguf", 39},
                      SharedFile{"q4_0", "generalist-Q4_0.gguf", 38},
                      SharedFile{"q4_1", "generalist-Q4_1.gguf", 38},
                      SharedFile{"q5_0", "generalist-Q5_0.gguf", 38},
                      SharedFile{"q5_1", "generalist-Q5_1.gguf", 38},
                      SharedFile{"q6_k", "generalist-Q6_K.gguf", 39},
                      SharedFile{"q4_k_m", "generalist-Q4_K_M.gguf", 39},
                      SharedFile{"q5_k_m", "generalist-Q5_K_M.gguf", 39}),
    [](const ::testing::TestParamInfo<SharedFile>& param_info) {
      return std::string(param_info.param.type);
    });

class LowBitParityTest : public ::testing::TestWithParam<const char*> {};

TEST_P(LowBitParityTest, SameTensorsAsLlamaQuantizeAndLlamaCppsGreedyIds) {
  const nlohmann::json golden = ReadJson(kLowBit);
  ASSERT_FALSE(golden.is_discarded()) << kLowBit;
  const nlohmann::json& file = golden.at("files").at(GetParam());
  const std::string path = Quantized(GetParam());
  {
    Result<gguf::File> ours = gguf::File::Open(path);
    ASSERT_TRUE(ours.ok()) << ours.status().ToString();
    ASSERT_EQ(ours->tensors().size(), file.at("tensors").size());
    for (const auto& [name, want] : file.at("tensors").items()) {
      const gguf::TensorInfo* t = ours->FindTensor(name);
      ASSERT_NE(t, nullptr) << name;
      EXPECT_EQ(static_cast<int>(t->type), want.at("type").get<int>()) << name;
      ASSERT_EQ(t->data.size(), want.at("bytes").get<std::size_t>()) << name;
      EXPECT_EQ(base::Sha256Hex(t->data), want.at("sha256").get<std::string>()) << name;
    }
  }

  ModelOptions options;
  options.n_threads = 1;
  Result<std::unique_ptr<Model>> model = Model::Open(path, options);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  double max_chosen = 0.0, max_top5 = 0.0;
  for (const nlohmann::json& c : file.at("reference")) {
    SCOPED_TRACE(c.at("case_id").get<std::string>());
    Result<std::unique_ptr<Session>> session = (*model)->NewSession();
    ASSERT_TRUE(session.ok());
    GenerateOptions generate;
    generate.max_tokens = 24;
    generate.top_n = 5;
    Result<GenerateResult> r =
        (*session)->Generate(c.at("prompt_ids").get<std::vector<std::int32_t>>(), generate);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    std::vector<std::int32_t> got;
    for (const GeneratedToken& t : r->tokens) got.push_back(t.id);
    ASSERT_EQ(got, c.at("ids").get<std::vector<std::int32_t>>());
    EXPECT_EQ(r->text, c.at("text").get<std::string>());
    for (std::size_t i = 0; i < got.size(); ++i) {
      const nlohmann::json& top5 = c.at("top5").at(i);
      const double chosen = std::fabs(r->tokens[i].logprob - top5.at(0).at(1).get<double>());
      max_chosen = std::max(max_chosen, chosen);
      EXPECT_LE(chosen, kChosenTolerance) << "step " << i;
      const auto alternatives = r->Alternatives(i);
      for (const nlohmann::json& entry : top5) {
        for (const TokenLogprob& a : alternatives) {
          if (a.id != entry.at(0).get<std::int32_t>()) continue;
          const double d = std::fabs(a.logprob - entry.at(1).get<double>());
          max_top5 = std::max(max_top5, d);
          EXPECT_LE(d, kTopFiveTolerance) << "step " << i << " id " << a.id;
        }
      }
    }
  }
  std::printf("[ measured ] %s: max |dlogprob| chosen %.2e, top-5 %.2e\n", GetParam(), max_chosen,
              max_top5);
  std::remove(path.c_str());
}

INSTANTIATE_TEST_SUITE_P(LlamaQuantize, LowBitParityTest,
                         ::testing::Values("q2_k", "q3_k", "iq4_nl", "iq4_xs"));

}  // namespace
}  // namespace tessera
