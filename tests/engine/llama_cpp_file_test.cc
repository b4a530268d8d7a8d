// Files checked against what llama.cpp computed on them (each folder's README.md):
//   llama2c/stories-tiny  written by llama.cpp's own convert-llama2c-to-ggml; it sets the padding
//                         and separator ids to 0xFFFFFFFF, which Tessera refused before, so it
//                         must open with one warning per ignored id;
//   qwen3/qwen3-tiny      a random-weight qwen3 (heads of 32 on a 64-wide model, 4 query and 2
//                         KV heads, query/key head norms), which llama.cpp runs as Qwen3;
//   gemma3/gemma3-tiny    a random-weight gemma3 (3 layers, sliding window 4 with pattern 3,
//                         window RoPE base 100, logit soft-capping 8, GELU, post norms), and
//                         the same quantized to Q8_0 by llama.cpp's own llama-quantize.
// Each must generate what llama.cpp generated, token for token, with its log-probabilities.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tessera/engine.h"

namespace tessera {
namespace {

// F32 weights and activations on both sides: the differences are summation order only.
// Measured: 9.6e-7 (stories-tiny) and 1.7e-6 (qwen3-tiny) at most (the test prints them).
constexpr double kFileTolerance = 1e-4;
// gemma3: llama.cpp rounds GELU's input and output to half precision (a table); Tessera does
// not (docs/adr/0022-gemma3.md). tests/model/gemma3_gelu_test.cc shows that this is the gap:
// the naive reference differs from llama.cpp by 1.06e-3 with exact GELU and by 1.15e-4 with
// the table emulated. Bound: about twice the measured gap.
constexpr double kGeluTableTolerance = 2.5e-3;
// gemma3-tiny-q8_0 (written by llama.cpp's llama-quantize from gemma3-tiny): Q8_0 weights and
// activations besides the GELU table; measured 4.1e-2 at most over the steps compared (9, 4, 3
// and 1 of the four prompts' 16: below, the comparison stops at llama.cpp's first near tie,
// which this flat model reaches early; ids and log-probabilities before it match). It is the
// quantized files' tail
// gap that tests/engine/quant_golden_test.cc bounds at 0.15 for the other four of the top five
// and ADR 0005 records as not yet explained. This random model's distribution is flat (its top
// log-probability is about -2.8), so the chosen token is in that tail too. A defect moves
// log-probabilities by whole nats and changes the greedy ids, which must match.
constexpr double kQuantizedTolerance = 0.15;

struct LlamaCppFile {
  const char* stem;                   // tests/data/<stem>.gguf and <stem>.llamacpp.json
  std::vector<const char*> warnings;  // expected in Model::warnings(), in order
  double tolerance = kFileTolerance;  // on each top-five log-probability
};

class LlamaCppFileTest : public ::testing::TestWithParam<LlamaCppFile> {};

TEST_P(LlamaCppFileTest, OpensAndGeneratesWhatLlamaCppGenerated) {
  const std::string stem = std::string(TESSERA_TEST_DATA_DIR) + "/" + GetParam().stem;
  std::ifstream in(stem + ".llamacpp.json");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const nlohmann::json golden = nlohmann::json::parse(text, nullptr, false);
  ASSERT_FALSE(golden.is_discarded());

  ModelOptions options;
  options.n_threads = 1;
  Result<std::unique_ptr<Model>> model = Model::Open(stem + ".gguf", options);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  const std::vector<std::string>& warnings = (*model)->warnings();
  ASSERT_EQ(warnings.size(), GetParam().warnings.size());
  for (std::size_t i = 0; i < warnings.size(); ++i) {
    EXPECT_NE(warnings[i].find(GetParam().warnings[i]), std::string::npos) << warnings[i];
  }
  EXPECT_EQ((*model)->bos_id(), 1);
  EXPECT_EQ((*model)->eos_id(), 2);

  double worst = 0.0;
  for (const nlohmann::json& c : golden.at("cases")) {
    SCOPED_TRACE(c.at("prompt").get<std::string>());
    // The prompt tokenizes as llama.cpp tokenized it (BOS first).
    Result<std::vector<std::int32_t>> ids =
        (*model)->Tokenize(c.at("prompt").get<std::string>(), /*add_bos=*/true,
                           /*parse_special=*/true);
    ASSERT_TRUE(ids.ok()) << ids.status().ToString();
    EXPECT_EQ(*ids, c.at("prompt_ids").get<std::vector<std::int32_t>>());

    Result<std::unique_ptr<Session>> session = (*model)->NewSession();
    ASSERT_TRUE(session.ok());
    GenerateOptions generate;
    generate.max_tokens = static_cast<std::int32_t>(c.at("ids").size());
    generate.top_n = 10;  // llama.cpp's fifth may be our sixth where the tail is flat
    Result<GenerateResult> r =
        (*session)->Generate(c.at("prompt_ids").get<std::vector<std::int32_t>>(), generate);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    // Greedy ids match up to the first step where llama.cpp's top two are closer than the
    // tolerance: there the choice is below the precision both engines share and the
    // continuations may part. Log-probabilities are compared up to and including that step
    // (they depend only on the ids before it). None of the F32 files has such a step.
    const std::vector<std::int32_t> want = c.at("ids").get<std::vector<std::int32_t>>();
    std::size_t steps = want.size();
    for (std::size_t i = 0; i < want.size(); ++i) {
      const nlohmann::json& top = c.at("top5").at(i);
      if (top.at(0).at(1).get<double>() - top.at(1).at(1).get<double>() < GetParam().tolerance) {
        steps = i + 1;
        break;
      }
    }
    std::vector<std::int32_t> got;
    for (const GeneratedToken& t : r->tokens) got.push_back(t.id);
    ASSERT_EQ(got.size(), want.size());
    const std::size_t agree = steps == 0 ? 0 : steps - 1;  // ids that must be equal
    ASSERT_TRUE(std::equal(want.begin(), want.begin() + static_cast<std::ptrdiff_t>(agree),
                           got.begin()))
        << "greedy ids differ before step " << agree;
    for (std::size_t i = 0; i < steps; ++i) {
      const auto alternatives = r->Alternatives(i);
      for (const nlohmann::json& entry : c.at("top5").at(i)) {
        const auto it = std::find_if(alternatives.begin(), alternatives.end(),
                                     [&](const TokenLogprob& a) { return a.id == entry.at(0); });
        ASSERT_NE(it, alternatives.end()) << "step " << i << " id " << entry.at(0);
        const double d = std::fabs(it->logprob - entry.at(1).get<double>());
        worst = std::max(worst, d);
        EXPECT_LE(d, GetParam().tolerance) << "step " << i;
      }
    }
  }
  std::printf("[ measured ] %s: max |dlogprob| over the top five %.2e\n", GetParam().stem, worst);
}

INSTANTIATE_TEST_SUITE_P(
    Files, LlamaCppFileTest,
    ::testing::Values(LlamaCppFile{"llama2c/stories-tiny",
                                 {"tokenizer.ggml.seperator_token_id = 4294967295",
                                  "tokenizer.ggml.padding_token_id = 4294967295"}},
                      LlamaCppFile{"qwen3/qwen3-tiny", {}},
                      LlamaCppFile{"gemma3/gemma3-tiny", {}, kGeluTableTolerance},
                      LlamaCppFile{"gemma3/gemma3-tiny-q8_0", {}, kQuantizedTolerance}),
    [](const ::testing::TestParamInfo<LlamaCppFile>& param_info) {
      std::string n = param_info.param.stem;
      n = n.substr(n.find('/') + 1);
      std::replace(n.begin(), n.end(), '-', '_');
      return n;
    });

}  // namespace
}  // namespace tessera
