// A file written by llama.cpp's own convert-llama2c-to-ggml (tests/data/llama2c/README.md): it
// sets the padding and separator ids to 0xFFFFFFFF, which Tessera refused before. It must open
// with one warning per ignored id, and generate what llama.cpp generated from it, token for
// token, with llama.cpp's log-probabilities.
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

const std::string kDir = std::string(TESSERA_TEST_DATA_DIR) + "/llama2c/";

// F32 weights and activations on both sides: the differences are summation order only.
// Measured: 9.6e-7 at most (the test prints it); bound 1e-4.
constexpr double kLlama2cTolerance = 1e-4;

TEST(Llama2cFileTest, OpensWithWarningsAndGeneratesWhatLlamaCppGenerated) {
  std::ifstream in(kDir + "stories-tiny.llamacpp.json");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const nlohmann::json golden = nlohmann::json::parse(text, nullptr, false);
  ASSERT_FALSE(golden.is_discarded());

  ModelOptions options;
  options.n_threads = 1;
  Result<std::unique_ptr<Model>> model = Model::Open(kDir + "stories-tiny.gguf", options);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  const std::vector<std::string>& warnings = (*model)->warnings();
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_NE(warnings[0].find("tokenizer.ggml.seperator_token_id = 4294967295"), std::string::npos);
  EXPECT_NE(warnings[1].find("tokenizer.ggml.padding_token_id = 4294967295"), std::string::npos);
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
    generate.top_n = 5;
    Result<GenerateResult> r =
        (*session)->Generate(c.at("prompt_ids").get<std::vector<std::int32_t>>(), generate);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    std::vector<std::int32_t> got;
    for (const GeneratedToken& t : r->tokens) got.push_back(t.id);
    ASSERT_EQ(got, c.at("ids").get<std::vector<std::int32_t>>());
    for (std::size_t i = 0; i < got.size(); ++i) {
      const auto alternatives = r->Alternatives(i);
      for (const nlohmann::json& entry : c.at("top5").at(i)) {
        const auto it = std::find_if(alternatives.begin(), alternatives.end(),
                                     [&](const TokenLogprob& a) { return a.id == entry.at(0); });
        ASSERT_NE(it, alternatives.end()) << "step " << i << " id " << entry.at(0);
        const double d = std::fabs(it->logprob - entry.at(1).get<double>());
        worst = std::max(worst, d);
        EXPECT_LE(d, kLlama2cTolerance) << "step " << i;
      }
    }
  }
  std::printf("[ measured ] stories-tiny: max |dlogprob| over the top five %.2e\n", worst);
}

}  // namespace
}  // namespace tessera
