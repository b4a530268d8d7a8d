// The shipped models' tokenizers against the encoders they were trained with: SentencePiece for
// the shared BPE vocabulary, the training pipeline's byte-level BPE for the sentiment
// specialist. tests/data/tokenizer-parity/*.jsonl holds their ids for eval prompts and edge
// cases (models/train/tokenizer_parity.py wrote them); the engine must produce the same ids
// from the GGUF alone, or a model sees at inference tokens it was never trained on.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tessera/engine.h"

namespace tessera {
namespace {

struct Case {
  std::string text;
  std::vector<std::int32_t> ids;
};

std::vector<Case> ReadGolden(const std::string& name) {
  std::ifstream in(std::string(TESSERA_TEST_DATA_DIR) + "/tokenizer-parity/" + name);
  std::vector<Case> out;
  for (std::string line; std::getline(in, line);) {
    const nlohmann::json j = nlohmann::json::parse(line);
    out.push_back({j.at("text").get<std::string>(), j.at("ids").get<std::vector<std::int32_t>>()});
  }
  return out;
}

struct ParityCase {
  const char* golden;
  const char* model;  // under models/
  std::size_t at_least;
};

class TokenizerParity : public ::testing::TestWithParam<ParityCase> {};

TEST_P(TokenizerParity, MatchesTheTrainingEncoder) {
  const ParityCase& p = GetParam();
  const std::vector<Case> cases = ReadGolden(p.golden);
  ASSERT_GE(cases.size(), p.at_least) << p.golden;
  Result<std::unique_ptr<Model>> model =
      Model::Open(std::string(TESSERA_SOURCE_DIR) + "/models/" + p.model);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  std::size_t wrong = 0;
  for (const Case& c : cases) {
    Result<std::vector<std::int32_t>> ids =
        (*model)->Tokenize(c.text, /*add_bos=*/false, /*parse_special=*/false);
    ASSERT_TRUE(ids.ok()) << ids.status().ToString() << " for " << c.text;
    if (*ids != c.ids && ++wrong <= 5) {
      ADD_FAILURE() << p.model << " tokenizes \"" << c.text << "\" as "
                    << ::testing::PrintToString(*ids) << ", trained as "
                    << ::testing::PrintToString(c.ids);
    }
  }
  EXPECT_EQ(wrong, 0u) << "of " << cases.size();
  // Decoding gives the text back (SentencePiece's byte fallback and byte-level BPE both keep
  // every byte).
  for (const Case& c : cases) {
    Result<std::string> text = (*model)->Detokenize(c.ids);
    ASSERT_TRUE(text.ok()) << text.status().ToString();
    EXPECT_EQ(*text, c.text);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shipped, TokenizerParity,
    ::testing::Values(ParityCase{"shared-bpe.jsonl", "specialists/date.gguf", 2000},
                      ParityCase{"shared-bpe.jsonl", "router.gguf", 2000},
                      ParityCase{"sentiment-bpe.jsonl", "specialists/sentiment.gguf", 1000}),
    [](const ::testing::TestParamInfo<ParityCase>& param) {
      std::string name = param.param.model;
      name = name.substr(name.rfind('/') + 1);
      return name.substr(0, name.find('.'));
    });

}  // namespace
}  // namespace tessera
