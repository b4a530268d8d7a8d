// Independent quantized goldens: ../shared/testdata/quant-goldens/ holds the project's first
// generalist (kept as tests/data/quant-source/generalist.gguf, F16) quantized by llama.cpp's own
// llama-quantize into
// Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K_M, Q5_K_M and Q6_K, and what llama.cpp computed on 24
// prompts for each file and for the F16 original: greedy ids and, per step, the top-5
// log-probabilities (reference settings: F32 KV cache, flash attention off, no repacking; its
// README). Neither the files nor the numbers come from Tessera's code, so a block-packing bug
// cannot pass on both sides.
//
// Every greedy id must match token for token (the README: the smallest top-1/top-2 gap at any
// step is 0.76 nats). Log-probabilities are compared at each step of that same sequence within
// the tolerances below.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tessera/engine.h"

namespace tessera {
namespace {

// Tolerances. Tessera converts activations to the weight type's vec-dot type and takes integer
// block dot products as ggml does (ADR 0005); its SIMD kernels agree with its scalar reference
// to float rounding. Measured against these goldens (the test prints the maxima; the same with
// TESSERA_KERNELS=reference or avx2): the chosen token's log-probability (close to 0) within
// 1.3e-4 on F16 and 2.5e-3 on the quantized files with the AVX2 kernels, 5.0e-3 (Q8_0) with the
// AVX-512 VNNI tiles, whose fused multiply-adds round differently (a Zen 5 with AVX512-VNNI,
// 2026-12-08); the other four of the top five within 4e-3 on F16 and 9.0e-2 on the quantized
// files (up to 6.5% of a small log-probability). That last gap is a logit difference of the
// quantized files that ADR 0005 records as not yet explained. The bounds are about twice the
// worst measured value and far below what a defect moves: the smallest top-1/top-2 gap is 0.76
// nats, and a mis-packed block or a wrong scale shifts log-probabilities by whole nats and
// changes greedy ids.
constexpr double kChosenTolerance = 1e-2;
constexpr double kTopFiveTolerance = 0.15;

// The shared test data (../shared/testdata beside the checkout, as CI has it), or
// $TESSERA_SHARED_DIR/testdata when that is set.
std::string SharedTestData() {
  const char* dir = std::getenv("TESSERA_SHARED_DIR");
  return (dir != nullptr ? std::string(dir) : std::string(TESSERA_SOURCE_DIR) + "/../shared") +
         "/testdata/";
}

const std::string kGoldenDir = SharedTestData() + "quant-goldens/";

const nlohmann::json& Goldens() {
  static const nlohmann::json* goldens = [] {
    std::ifstream in(kGoldenDir + "generalist.llamacpp.json");
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return new nlohmann::json(nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false));
  }();
  return *goldens;
}

struct GoldenFile {
  const char* key;   // under "files" in the JSON
  const char* path;  // the GGUF
};

const GoldenFile kFiles[] = {
    {"generalist-F16 (models/generalist.gguf)", "F16"},
    {"generalist-Q8_0.gguf", "generalist-Q8_0.gguf"},
    {"generalist-Q4_0.gguf", "generalist-Q4_0.gguf"},
    {"generalist-Q4_1.gguf", "generalist-Q4_1.gguf"},
    {"generalist-Q5_0.gguf", "generalist-Q5_0.gguf"},
    {"generalist-Q5_1.gguf", "generalist-Q5_1.gguf"},
    {"generalist-Q4_K_M.gguf", "generalist-Q4_K_M.gguf"},
    {"generalist-Q5_K_M.gguf", "generalist-Q5_K_M.gguf"},
    {"generalist-Q6_K.gguf", "generalist-Q6_K.gguf"},
};

std::string PathOf(const GoldenFile& f) {
  if (std::string(f.path) == "F16")
    return std::string(TESSERA_SOURCE_DIR) + "/tests/data/quant-source/generalist.gguf";
  return kGoldenDir + f.path;
}

class QuantGoldenTest : public ::testing::TestWithParam<GoldenFile> {};

TEST_P(QuantGoldenTest, GreedyIdsAndTopFiveLogprobsMatchLlamaCpp) {
  const nlohmann::json& goldens = Goldens();
  ASSERT_FALSE(goldens.is_discarded())
      << "cannot read " << kGoldenDir << "generalist.llamacpp.json (the shared test data)";
  const nlohmann::json& file = goldens.at("files").at(GetParam().key);
  const std::vector<nlohmann::json> cases = file.at("reference").get<std::vector<nlohmann::json>>();
  ASSERT_EQ(cases.size(), 24u);

  ModelOptions options;
  options.n_threads = 1;
  Result<std::unique_ptr<Model>> model = Model::Open(PathOf(GetParam()), options);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  if (file.contains("sha256")) {
    EXPECT_EQ((*model)->sha256(), file.at("sha256").get<std::string>());
  }

  double max_chosen = 0.0, max_top5 = 0.0, max_relative = 0.0;
  std::size_t steps = 0;
  for (const nlohmann::json& c : cases) {
    SCOPED_TRACE(c.at("case_id").get<std::string>());
    const auto prompt = c.at("prompt_ids").get<std::vector<std::int32_t>>();
    const auto want = c.at("ids").get<std::vector<std::int32_t>>();
    const nlohmann::json& top5 = c.at("top5");
    ASSERT_EQ(top5.size(), want.size());

    Result<std::unique_ptr<Session>> session = (*model)->NewSession();
    ASSERT_TRUE(session.ok()) << session.status().ToString();
    GenerateOptions generate;
    generate.max_tokens = goldens.at("max_new_tokens").get<std::int32_t>();
    generate.top_n = 5;
    Result<GenerateResult> r = (*session)->Generate(prompt, generate);
    ASSERT_TRUE(r.ok()) << r.status().ToString();

    std::vector<std::int32_t> got;
    for (const GeneratedToken& t : r->tokens) got.push_back(t.id);
    ASSERT_EQ(got, want);
    EXPECT_EQ(r->text, c.at("text").get<std::string>());
    EXPECT_EQ(r->stop_reason == StopReason::kEndOfGeneration, c.at("stop") == "eos");

    for (std::size_t i = 0; i < want.size(); ++i, ++steps) {
      const auto alternatives = r->Alternatives(i);
      ASSERT_EQ(alternatives.size(), 5u);
      const double chosen = top5.at(i).at(0).at(1).get<double>();
      const double d = std::fabs(r->tokens[i].logprob - chosen);
      max_chosen = std::max(max_chosen, d);
      EXPECT_LE(d, kChosenTolerance) << "step " << i;
      for (const nlohmann::json& entry : top5.at(i)) {
        const std::int32_t id = entry.at(0).get<std::int32_t>();
        const double lp = entry.at(1).get<double>();
        auto it = std::find_if(alternatives.begin(), alternatives.end(),
                               [&](const TokenLogprob& a) { return a.id == id; });
        if (it == alternatives.end()) {
          // Only a tie at the edge of the top five may swap an entry out.
          EXPECT_LE(std::fabs(lp - alternatives.back().logprob), kTopFiveTolerance)
              << "step " << i << ": llama.cpp's top-5 id " << id << " is not in ours";
          continue;
        }
        max_top5 = std::max(max_top5, std::fabs(it->logprob - lp));
        max_relative = std::max(max_relative, std::fabs(it->logprob - lp) / std::fabs(lp));
        EXPECT_LE(std::fabs(it->logprob - lp), kTopFiveTolerance) << "step " << i << " id " << id;
      }
    }
  }
  std::printf("[ measured ] %s: %zu steps, max |dlogprob| chosen %.2e, top-5 %.2e (%.2f%%)\n",
              GetParam().key, steps, max_chosen, max_top5, 100.0 * max_relative);
  RecordProperty("max_chosen_logprob_diff", std::to_string(max_chosen));
  RecordProperty("max_top5_logprob_diff", std::to_string(max_top5));
}

INSTANTIATE_TEST_SUITE_P(LlamaCppQuantize, QuantGoldenTest, ::testing::ValuesIn(kFiles),
                         [](const ::testing::TestParamInfo<GoldenFile>& param_info) {
                           std::string n = param_info.param.path;
                           if (n != "F16") n = n.substr(std::string("generalist-").size());
                           n = n.substr(0, n.find('.'));
                           return n;
                         });

}  // namespace
}  // namespace tessera
