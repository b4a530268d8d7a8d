// SentencePiece-style tokenizer: llama.cpp's test vectors, round trips, byte fallback, special
// and user-defined tokens, errors, and long inputs.
#include "tokenizer/spm_tokenizer.h"

#include <gtest/gtest.h>

#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "gguf/reader.h"
#include "test_vocab.h"
#include "vector_cases.h"
#include "tokenizer/tokenizer.h"

namespace tessera::tokenizer {
namespace {

using testing::Case;
using testing::Ids;
using testing::Join;
using testing::kNoBos;
using testing::ReadCases;

std::unique_ptr<Tokenizer> Load(const std::string& name) { return testing::LoadVocab(name); }

class VocabFileTest : public ::testing::TestWithParam<const char*> {};

TEST_P(VocabFileTest, MatchesLlamaCppIdsForEveryCase) {
  auto tok = Load(GetParam());
  ASSERT_NE(tok, nullptr);
  EXPECT_GE(testing::ExpectAllCasesMatch(*tok, GetParam()), 40u);
}

TEST_P(VocabFileTest, DecodeRoundTrip) {
  auto tok = Load(GetParam());
  ASSERT_NE(tok, nullptr);
  for (const Case& c : ReadCases(testing::VocabPath(GetParam()))) {
    auto ids = tok->Encode(c.text, kNoBos);
    ASSERT_TRUE(ids.ok());
    auto text = tok->Decode(*ids);
    ASSERT_TRUE(text.ok());
    EXPECT_EQ(*text, c.text) << "ids: " << Join(*ids);
    // With BOS first (as llama.cpp's detokenize, remove_special = false), the prefix space of
    // the first piece stays.
    auto with_bos = tok->Encode(c.text);
    ASSERT_TRUE(with_bos.ok());
    ASSERT_FALSE(with_bos->empty());
    EXPECT_EQ(with_bos->front(), tok->bos_id());
    auto text_bos = tok->Decode(*with_bos);
    ASSERT_TRUE(text_bos.ok());
    EXPECT_EQ(*text_bos, c.text.empty() ? "" : " " + c.text);
  }
}

INSTANTIATE_TEST_SUITE_P(LlamaCppVocabs, VocabFileTest,
                         ::testing::Values("llama-spm", "phi-3"), testing::ParamName);

TEST(SpmTokenizerTest, BosAndEmptyText) {
  auto tok = Load("llama-spm");
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(*tok->Encode(""), Ids{1});
  EXPECT_EQ(*tok->Encode("", kNoBos), Ids{});
  EXPECT_EQ(tok->bos_id(), 1);
  EXPECT_EQ(tok->eos_id(), 2);
  EXPECT_EQ(tok->n_vocab(), 32000);
  EXPECT_TRUE(tok->IsEndOfGeneration(2));
  EXPECT_FALSE(tok->IsEndOfGeneration(1));
  // "Hello world" -> ▁Hello ▁world, as in the .out file.
  EXPECT_EQ(*tok->Encode("Hello world"), (Ids{1, 15043, 3186}));
}

TEST(SpmTokenizerTest, ByteFallbackForCharactersNotInVocab) {
  auto tok = Load("llama-spm");
  ASSERT_NE(tok, nullptr);
  const std::int32_t space = tok->vocab().Find("\xE2\x96\x81");
  ASSERT_NE(space, Vocab::kNoToken);
  // U+1F999 (llama) is not a token: "▁" then its four bytes as <0xF0> <0x9F> <0xA6> <0x99>.
  auto ids = tok->Encode("\xF0\x9F\xA6\x99", kNoBos);
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, (Ids{space, 3 + 0xF0, 3 + 0x9F, 3 + 0xA6, 3 + 0x99}));
  EXPECT_EQ(tok->TokenToPiece(3 + 0xF0), "\xF0");
  EXPECT_EQ(*tok->Decode(*ids), "\xF0\x9F\xA6\x99");
}

TEST(SpmTokenizerTest, TokenToPiece) {
  auto tok = Load("llama-spm");
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->TokenToPiece(15043), " Hello");
  EXPECT_EQ(tok->TokenToPiece(3 + 0x0A), "\n");
  EXPECT_EQ(tok->TokenToPiece(0), "");  // <unk>
  EXPECT_EQ(tok->TokenToPiece(1), "");  // <s>
  EXPECT_EQ(tok->TokenToPiece(2), "");  // </s>
  EXPECT_EQ(tok->TokenToPiece(-1), "");
  EXPECT_EQ(tok->TokenToPiece(32000), "");
}

TEST(SpmTokenizerTest, ControlTokensParsedOnlyWhenAsked) {
  auto tok = Load("llama-spm");
  ASSERT_NE(tok, nullptr);
  const std::string text = "<s>Hello</s>";
  auto special = tok->Encode(text, {.add_bos = false, .parse_special = true});
  ASSERT_TRUE(special.ok());
  // After a special token the next text gets the space prefix: ▁Hello.
  EXPECT_EQ(*special, (Ids{1, 15043, 2}));
  auto plain = tok->Encode(text, kNoBos);
  ASSERT_TRUE(plain.ok());
  for (std::int32_t id : *plain) {
    EXPECT_NE(id, 1);
    EXPECT_NE(id, 2);
  }
  EXPECT_EQ(*tok->Decode(*plain), text);
}

TEST(SpmTokenizerTest, Phi3SpecialTokensStripSpaceOnTheRight) {
  auto tok = Load("phi-3");
  ASSERT_NE(tok, nullptr);
  const std::int32_t user = tok->vocab().Find("<|user|>");
  const std::int32_t end = tok->vocab().Find("<|end|>");
  auto ids = tok->Encode("<|user|>\nHello<|end|>", {.add_bos = true, .parse_special = true});
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, (Ids{1, user, 15043, end}));
  // Without special parsing these are plain text.
  auto plain = tok->Encode("<|user|>", kNoBos);
  ASSERT_TRUE(plain.ok());
  EXPECT_GT(plain->size(), 1u);
}

class SmallVocabTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto gguf = testing::BuildGguf(testing::SmallSpec());
    ASSERT_TRUE(gguf.ok()) << gguf.status().ToString();
    gguf_ = std::move(gguf).value();
    auto tok = CreateTokenizer(*gguf_.file);
    ASSERT_TRUE(tok.ok()) << tok.status().ToString();
    tok_ = std::move(tok).value();
  }
  testing::OwnedGguf gguf_;
  std::unique_ptr<Tokenizer> tok_;
};

TEST_F(SmallVocabTest, MergesByScore) {
  // "▁ab": pairs ▁a (-5), ab (-4): "ab" merges first (higher score), then "▁"+"ab" = "▁ab".
  EXPECT_EQ(*tok_->Encode("ab", kNoBos), Ids{264});
  // "abab" -> ▁ab ab
  EXPECT_EQ(*tok_->Encode("abab", kNoBos), (Ids{264, 262}));
  // Unknown "d" falls back to its byte token.
  EXPECT_EQ(*tok_->Encode("ad", kNoBos), (Ids{263, 3 + 'd'}));
}

TEST_F(SmallVocabTest, UserDefinedTokensMatchedWithoutParseSpecial) {
  auto ids = tok_->Encode("a<tool>b", kNoBos);
  ASSERT_TRUE(ids.ok());
  // The text after a user-defined token gets the space prefix again ("▁b" is not a token).
  EXPECT_EQ(*ids, (Ids{263, 265, 259, 261}));
  EXPECT_EQ(tok_->TokenToPiece(265), "<tool>");
  EXPECT_EQ(*tok_->Decode(*ids), "a<tool> b");
}

TEST_F(SmallVocabTest, ControlTextWithoutParseSpecialUsesBytes) {
  auto ids = tok_->Encode("<s>", kNoBos);
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, (Ids{259, 3 + '<', 3 + 's', 3 + '>'}));
  EXPECT_EQ(*tok_->Encode("<s>", {.add_bos = false, .parse_special = true}), Ids{1});
}

TEST_F(SmallVocabTest, InvalidUtf8) {
  for (const std::string& bad : {std::string("a\xFF"), std::string("\xC3"),
                                std::string("\xED\xA0\x80"), std::string("x\xC0\xAF")}) {
    auto ids = tok_->Encode(bad);
    ASSERT_FALSE(ids.ok());
    EXPECT_EQ(ids.status().code(), StatusCode::kInvalidUtf8);
  }
}

TEST_F(SmallVocabTest, DecodeRejectsIdsOutsideVocab) {
  const Ids ids = {263, 267};
  auto text = tok_->Decode(ids);
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().code(), StatusCode::kOutOfRange);
  EXPECT_NE(text.status().message().find("267"), std::string::npos);
  EXPECT_EQ(tok_->Decode(Ids{-5}).status().code(), StatusCode::kOutOfRange);
}

TEST(SpmTokenizerTest, LongInputRoundTrips) {
  auto tok = Load("llama-spm");
  ASSERT_NE(tok, nullptr);
  // 1 MiB of seeded random words: a quadratic merge loop would not finish in the test timeout.
  std::mt19937 rng(1234);
  const char* words[] = {"the", "quick", "brown", "fox", "\xC3\xA4pfel", "\xF0\x9F\xA6\x99",
                         "\n", "  ", "3333", "Hello,", "\xD0\xBD\xD0\xB5"};
  std::string text;
  while (text.size() < (1u << 20)) {
    text += words[rng() % std::size(words)];
    text += ' ';
  }
  auto ids = tok->Encode(text, kNoBos);
  ASSERT_TRUE(ids.ok());
  EXPECT_GT(ids->size(), text.size() / 8);
  auto back = tok->Decode(*ids);
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(*back == text);
  // One long run with no merges possible between its characters but many candidate pairs.
  const std::string run(1u << 18, 'a');
  auto run_ids = tok->Encode(run, kNoBos);
  ASSERT_TRUE(run_ids.ok());
  EXPECT_TRUE(*tok->Decode(*run_ids) == run);
}

}  // namespace
}  // namespace tessera::tokenizer
