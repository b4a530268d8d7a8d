// Byte-level BPE tokenizer ("gpt2"): llama.cpp's test vectors for gpt-2, starcoder, falcon and
// deepseek-coder, round trips, BOS flags, special tokens, merge priority on a synthetic
// vocabulary, corrupt metadata, invalid UTF-8, long inputs and concurrent use.
#include "tokenizer/bpe_tokenizer.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <thread>
#include <vector>

#include "gguf/value.h"
#include "test_vocab.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/tokenizer.h"
#include "vector_cases.h"

namespace tessera::tokenizer {
namespace {

using testing::Ids;
using testing::Join;
using testing::kNoBos;

constexpr const char* kBpeVocabs[] = {"gpt-2", "starcoder", "falcon", "deepseek-coder"};

class BpeVocabFileTest : public ::testing::TestWithParam<const char*> {};

TEST_P(BpeVocabFileTest, MatchesLlamaCppIdsForEveryCase) {
  auto tok = testing::LoadVocab(GetParam());
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->vocab().model(), "gpt2");
  EXPECT_GE(testing::ExpectAllCasesMatch(*tok, GetParam()), 40u);
}

TEST_P(BpeVocabFileTest, UsesThePreTokenizerNamedInTheFile) {
  auto tok = testing::LoadVocab(GetParam());
  ASSERT_NE(tok, nullptr);
  const auto* bpe = dynamic_cast<const BpeTokenizer*>(tok.get());
  ASSERT_NE(bpe, nullptr);
  EXPECT_EQ(bpe->pre_tokenizer().name(), GetParam());
  EXPECT_GT(bpe->merges().size(), 30000u);
}

TEST_P(BpeVocabFileTest, DecodeRoundTrip) {
  auto tok = testing::LoadVocab(GetParam());
  ASSERT_NE(tok, nullptr);
  for (const testing::Case& c : testing::ReadCases(testing::VocabPath(GetParam()))) {
    auto ids = tok->Encode(c.text, kNoBos);
    ASSERT_TRUE(ids.ok()) << ids.status().ToString();
    auto text = tok->Decode(*ids);
    ASSERT_TRUE(text.ok());
    EXPECT_EQ(*text, c.text) << "ids: " << Join(*ids);
    // With the vocabulary's own BOS setting, BOS decodes to nothing (a control token).
    auto with_special = tok->Encode(c.text);
    ASSERT_TRUE(with_special.ok());
    EXPECT_EQ(*tok->Decode(*with_special), c.text);
  }
}

INSTANTIATE_TEST_SUITE_P(LlamaCppVocabs, BpeVocabFileTest, ::testing::ValuesIn(kBpeVocabs),
                         testing::ParamName);

// Vocabularies cut down to what their llama.cpp vectors use (tests/data/vocab/reduced/): the
// ids of every case must still match llama.cpp's exactly.
struct ReducedVocab {
  const char* name;  // tests/data/vocab/reduced/ggml-vocab-<name>.gguf
  const char* pre;   // its tokenizer.ggml.pre
  bool adds_bos;     // add_bos: the file's add_bos_token, else the pre-tokenizer's default
};
constexpr ReducedVocab kReducedVocabs[] = {
    {"deepseek-llm", "deepseek-llm", true},  // the file sets add_bos_token
    {"mpt", "mpt", false},
    {"refact", "refact", false},
    {"llama-bpe", "llama-bpe", true},
    {"qwen2", "qwen2", false},
    {"qwen35", "qwen35", false},
};

class ReducedVocabTest : public ::testing::TestWithParam<ReducedVocab> {
 protected:
  std::string Name() const { return std::string("reduced/") + GetParam().name; }
};

TEST_P(ReducedVocabTest, MatchesLlamaCppIdsForEveryCase) {
  auto tok = testing::LoadVocab(Name());
  ASSERT_NE(tok, nullptr);
  const auto* bpe = dynamic_cast<const BpeTokenizer*>(tok.get());
  ASSERT_NE(bpe, nullptr);
  EXPECT_EQ(bpe->pre_tokenizer().name(), GetParam().pre);
  EXPECT_EQ(tok->vocab().add_bos(), GetParam().adds_bos);
  EXPECT_GE(testing::ExpectAllCasesMatch(*tok, Name()), 46u);
}

TEST_P(ReducedVocabTest, DecodeRoundTrip) {
  auto tok = testing::LoadVocab(Name());
  ASSERT_NE(tok, nullptr);
  for (const testing::Case& c : testing::ReadCases(testing::VocabPath(Name()))) {
    auto ids = tok->Encode(c.text, kNoBos);
    ASSERT_TRUE(ids.ok()) << ids.status().ToString();
    EXPECT_EQ(*tok->Decode(*ids), c.text) << "ids: " << Join(*ids);
  }
}

INSTANTIATE_TEST_SUITE_P(LlamaCppVectors, ReducedVocabTest, ::testing::ValuesIn(kReducedVocabs),
                         [](const ::testing::TestParamInfo<ReducedVocab>& param_info) {
                           std::string n = param_info.param.name;
                           for (char& ch : n) {
                             if (ch == '-') ch = '_';
                           }
                           return n;
                         });

TEST(BpeTokenizerTest, Gpt2KnownIdsAndPieces) {
  auto tok = testing::LoadVocab("gpt-2");
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->n_vocab(), 50257);
  EXPECT_EQ(*tok->Encode("Hello world", kNoBos), (Ids{15496, 995}));
  EXPECT_EQ(tok->TokenToPiece(995), " world");   // "Ġworld"
  EXPECT_EQ(tok->TokenToPiece(198), "\n");       // "Ċ"
  EXPECT_EQ(tok->TokenToPiece(50256), "");       // <|endoftext|> is control
  EXPECT_EQ(tok->TokenToPiece(-1), "");
  EXPECT_EQ(tok->TokenToPiece(50257), "");
  // Byte tokens exist for bytes that are not valid UTF-8 alone: "\xC3" is "Ã" (U+00C3).
  EXPECT_EQ(tok->TokenToPiece(tok->vocab().Find("\xC3\x83")), "\xC3");
}

TEST(BpeTokenizerTest, BosFollowsTheVocabularyFlag) {
  // gpt-2: no tokenizer.ggml.add_bos_token, and llama.cpp's default for BPE is false.
  auto gpt2 = testing::LoadVocab("gpt-2");
  ASSERT_NE(gpt2, nullptr);
  EXPECT_FALSE(gpt2->vocab().add_bos());
  EXPECT_EQ(*gpt2->Encode("Hello world"), (Ids{15496, 995}));
  EXPECT_EQ(gpt2->bos_id(), 50256);
  // deepseek-coder sets add_bos_token = true.
  auto ds = testing::LoadVocab("deepseek-coder");
  ASSERT_NE(ds, nullptr);
  EXPECT_TRUE(ds->vocab().add_bos());
  EXPECT_EQ(*ds->Encode("Hello world"), (Ids{32013, 17535, 1835}));
  EXPECT_EQ(*ds->Encode("Hello world", kNoBos), (Ids{17535, 1835}));
  EXPECT_EQ(*ds->Encode(""), Ids{32013});
}

TEST(BpeTokenizerTest, ControlTokensParsedOnlyWhenAsked) {
  auto tok = testing::LoadVocab("starcoder");
  ASSERT_NE(tok, nullptr);
  const std::int32_t eot = tok->vocab().Find("<|endoftext|>");
  ASSERT_EQ(eot, 0);
  auto special = tok->Encode("a<|endoftext|>b", {.add_bos = false, .parse_special = true});
  ASSERT_TRUE(special.ok());
  ASSERT_EQ(special->size(), 3u);
  EXPECT_EQ((*special)[1], eot);
  auto plain = tok->Encode("a<|endoftext|>b", kNoBos);
  ASSERT_TRUE(plain.ok());
  EXPECT_GT(plain->size(), 3u);
  for (std::int32_t id : *plain) EXPECT_NE(id, eot);
  EXPECT_EQ(*tok->Decode(*plain), "a<|endoftext|>b");
}

TEST(BpeTokenizerTest, InvalidUtf8) {
  auto tok = testing::LoadVocab("gpt-2");
  ASSERT_NE(tok, nullptr);
  for (const std::string& bad : {std::string("a\xFF"), std::string("\xC3"),
                                std::string("\xED\xA0\x80"), std::string("x\xC0\xAF")}) {
    auto ids = tok->Encode(bad);
    ASSERT_FALSE(ids.ok());
    EXPECT_EQ(ids.status().code(), StatusCode::kInvalidUtf8);
  }
}

TEST(BpeTokenizerTest, LongInputsRoundTrip) {
  auto tok = testing::LoadVocab("falcon");
  ASSERT_NE(tok, nullptr);
  // 1 MiB of seeded random words: a quadratic merge loop would not finish in the test timeout.
  std::mt19937 rng(1234);
  const char* words[] = {"the", "quick", "brown", "fox", "\xC3\xA4pfel", "\xF0\x9F\xA6\x99",
                         "\n", "  ", "3333", "Hello,", "\xD0\xBD\xD0\xB5", "'s", "+=", "\t"};
  std::string text;
  while (text.size() < (1u << 20)) {
    text += words[rng() % std::size(words)];
    text += ' ';
  }
  auto ids = tok->Encode(text, kNoBos);
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();
  EXPECT_GT(ids->size(), text.size() / 8);
  EXPECT_TRUE(*tok->Decode(*ids) == text);
  // Long runs that are one pre-tokenizer piece each: letters, spaces, punctuation, a symbol
  // with no merges.
  for (const std::string& run : {std::string(1u << 18, 'a'), std::string(1u << 18, ' '),
                                 std::string(1u << 16, '!'), std::string(1u << 16, '\x01')}) {
    auto run_ids = tok->Encode(run, kNoBos);
    ASSERT_TRUE(run_ids.ok()) << run_ids.status().ToString();
    EXPECT_TRUE(*tok->Decode(*run_ids) == run);
  }
}

TEST(BpeTokenizerTest, EncodeIsSafeConcurrently) {
  auto tok = testing::LoadVocab("gpt-2");
  ASSERT_NE(tok, nullptr);
  const auto cases = testing::ReadCases(testing::VocabPath("gpt-2"));
  std::vector<Ids> results[2];
  std::thread workers[2];
  for (int t = 0; t < 2; ++t) {
    workers[t] = std::thread([&, t] {
      for (int round = 0; round < 20; ++round) {
        for (const testing::Case& c : cases) {
          auto ids = tok->Encode(c.text, kNoBos);
          results[t].push_back(ids.ok() ? *ids : Ids{-1});
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  ASSERT_EQ(results[0].size(), 20 * cases.size());
  for (std::size_t i = 0; i < results[0].size(); ++i) {
    EXPECT_EQ(results[0][i], cases[i % cases.size()].ids);
    EXPECT_EQ(results[1][i], results[0][i]);
  }
}

// A synthetic "gpt2" vocabulary: the 256 byte-level characters (id = byte), then extra tokens.
testing::VocabSpec ByteLevelSpec(const std::vector<std::string>& extra_tokens,
                                 const std::vector<std::string>& merges, const char* pre) {
  testing::VocabSpec s;
  s.model = "gpt2";
  s.write_scores = false;
  for (int b = 0; b < 256; ++b) {
    std::string text;
    const char byte = static_cast<char>(b);
    AppendByteLevel(std::string_view(&byte, 1), &text);
    s.tokens.push_back(text);
    s.types.push_back(1);
  }
  for (const std::string& t : extra_tokens) {
    s.tokens.push_back(t);
    s.types.push_back(1);
  }
  if (pre != nullptr) s.extra.emplace_back("tokenizer.ggml.pre", gguf::Value::String(pre));
  s.extra.emplace_back("tokenizer.ggml.merges", gguf::Value::StringArray(merges));
  return s;
}

Result<std::unique_ptr<Tokenizer>> Build(const testing::VocabSpec& spec,
                                         testing::OwnedGguf* keep) {
  TS_ASSIGN_OR_RETURN(*keep, testing::BuildGguf(spec));
  return CreateTokenizer(*keep->file);
}

TEST(BpeTokenizerTest, MergesByRankNotByPosition) {
  // Tokens 256 "ab", 257 "bc", 258 "abc", 259 "Ġa".
  const std::vector<std::string> tokens = {"ab", "bc", "abc", "\xC4\xA0" "a"};
  testing::OwnedGguf keep;
  {
    // "b c" outranks "a b": a (bc) -> "a bc" merges to abc.
    auto tok = Build(ByteLevelSpec(tokens, {"b c", "a b", "a bc"}, "gpt-2"), &keep);
    ASSERT_TRUE(tok.ok()) << tok.status().ToString();
    EXPECT_EQ(*(*tok)->Encode("abc", kNoBos), Ids{258});
    EXPECT_EQ(*(*tok)->Encode("abcab", kNoBos), (Ids{258, 256}));
    // " a" is one pre-tokenizer word: "Ġ a" is not a merge, so it stays two tokens.
    EXPECT_EQ(*(*tok)->Encode(" a", kNoBos), (Ids{' ', 'a'}));
  }
  {
    // "a b" first: (ab) c, and "ab c" is no merge.
    auto tok = Build(ByteLevelSpec(tokens, {"a b", "b c", "a bc", "\xC4\xA0 a"}, "gpt-2"),
                     &keep);
    ASSERT_TRUE(tok.ok()) << tok.status().ToString();
    EXPECT_EQ(*(*tok)->Encode("abc", kNoBos), (Ids{256, 'c'}));
    EXPECT_EQ(*(*tok)->Encode(" a", kNoBos), Ids{259});
    EXPECT_EQ((*tok)->TokenToPiece(259), " a");
  }
}

TEST(BpeTokenizerTest, Gpt2VocabularyDefaults) {
  // Without special-token keys, llama.cpp's BPE defaults apply: BOS = EOS = 11, no UNK, and
  // neither BOS nor EOS is added.
  testing::OwnedGguf keep;
  auto tok = Build(ByteLevelSpec({"ab"}, {"a b"}, "gpt-2"), &keep);
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  EXPECT_EQ((*tok)->bos_id(), 11);
  EXPECT_EQ((*tok)->eos_id(), 11);
  EXPECT_EQ((*tok)->vocab().unk_id(), Vocab::kNoToken);
  EXPECT_FALSE((*tok)->vocab().add_bos());
  EXPECT_FALSE((*tok)->vocab().add_space_prefix());
  EXPECT_EQ(*(*tok)->Encode("ab"), Ids{256});
}

TEST(BpeTokenizerTest, UnknownPreTokenizerIsUnsupported) {
  testing::OwnedGguf keep;
  auto tok = Build(ByteLevelSpec({}, {"a b"}, "no-such-pre"), &keep);
  ASSERT_FALSE(tok.ok());
  EXPECT_EQ(tok.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(tok.status().message().find("\"no-such-pre\""), std::string::npos)
      << tok.status().message();
  EXPECT_NE(tok.status().message().find("tokenizer.ggml.pre"), std::string::npos);
}

TEST(BpeTokenizerTest, MissingPreMeansDefault) {
  testing::OwnedGguf keep;
  auto tok = Build(ByteLevelSpec({"ab"}, {"a b"}, nullptr), &keep);
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  const auto* bpe = dynamic_cast<const BpeTokenizer*>(tok->get());
  ASSERT_NE(bpe, nullptr);
  EXPECT_EQ(bpe->pre_tokenizer().name(), "default");
  EXPECT_EQ(*(*tok)->Encode("ab", kNoBos), Ids{256});
}

TEST(BpeTokenizerTest, MissingMergesIsNotFound) {
  testing::VocabSpec spec = ByteLevelSpec({}, {}, "gpt-2");
  spec.extra.pop_back();  // drop tokenizer.ggml.merges
  testing::OwnedGguf keep;
  auto tok = Build(spec, &keep);
  ASSERT_FALSE(tok.ok());
  EXPECT_EQ(tok.status().code(), StatusCode::kNotFound);
  EXPECT_NE(tok.status().message().find("tokenizer.ggml.merges"), std::string::npos);
}

TEST(BpeTokenizerTest, MalformedMergesNameTheIndex) {
  for (const std::string& bad : {std::string("abc"), std::string(""), std::string("a "),
                                 std::string(" ")}) {
    testing::OwnedGguf keep;
    auto tok = Build(ByteLevelSpec({}, {"a b", "b c", bad}, "gpt-2"), &keep);
    ASSERT_FALSE(tok.ok()) << "'" << bad << "'";
    EXPECT_EQ(tok.status().code(), StatusCode::kMalformed);
    EXPECT_NE(tok.status().message().find("tokenizer.ggml.merges[2]"), std::string::npos)
        << tok.status().message();
  }
  // A merge whose left part is a lone space splits after it, as in llama.cpp.
  testing::OwnedGguf keep;
  EXPECT_TRUE(Build(ByteLevelSpec({}, {"  b"}, "gpt-2"), &keep).ok());
}

TEST(BpeTokenizerTest, MergesOfTheWrongTypeAreATypeMismatch) {
  testing::VocabSpec spec = ByteLevelSpec({}, {}, "gpt-2");
  spec.extra.back().second = gguf::Value::I32Array({1, 2, 3});
  testing::OwnedGguf keep;
  auto tok = Build(spec, &keep);
  ASSERT_FALSE(tok.ok());
  EXPECT_EQ(tok.status().code(), StatusCode::kTypeMismatch);
}

TEST(BpeTokenizerTest, ByteWithoutTokenIsNotFound) {
  // Drop the token for byte 0x01 (its character is U+0101): no UNK either.
  testing::VocabSpec spec = ByteLevelSpec({}, {"a b"}, "gpt-2");
  spec.tokens[1] = "<unused>";
  testing::OwnedGguf keep;
  auto tok = Build(spec, &keep);
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  auto ids = (*tok)->Encode("a\x01", kNoBos);
  ASSERT_FALSE(ids.ok());
  EXPECT_EQ(ids.status().code(), StatusCode::kNotFound);
  EXPECT_NE(ids.status().message().find("0x01"), std::string::npos) << ids.status().message();
  EXPECT_EQ(*(*tok)->Encode("ab", kNoBos), (Ids{'a', 'b'}));
}

TEST(BpeTokenizerTest, AnUnknownTokenThatIsAControlTokenDoesNotStandInForText) {
  // StarCoder's case: UNK is <|endoftext|>, a control token. Text must not encode as it.
  testing::VocabSpec spec = ByteLevelSpec({"<|endoftext|>"}, {"a b"}, "gpt-2");
  spec.tokens[1] = "<unused>";
  spec.types.back() = 3;  // control
  spec.extra.emplace_back("tokenizer.ggml.unknown_token_id", gguf::Value::U32(256));
  testing::OwnedGguf keep;
  auto tok = Build(spec, &keep);
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  auto ids = (*tok)->Encode("a\x01", kNoBos);
  ASSERT_FALSE(ids.ok());
  EXPECT_EQ(ids.status().code(), StatusCode::kNotFound);
  EXPECT_NE(ids.status().message().find("0x01"), std::string::npos) << ids.status().message();

  // An ordinary unknown token (type 2, and not an end-of-text text) does stand in.
  spec.tokens.back() = "<unk>";
  spec.types.back() = 2;
  testing::OwnedGguf keep2;
  auto tok2 = Build(spec, &keep2);
  ASSERT_TRUE(tok2.ok()) << tok2.status().ToString();
  auto unk_ids = (*tok2)->Encode("a\x01", kNoBos);
  ASSERT_TRUE(unk_ids.ok()) << unk_ids.status().ToString();
  EXPECT_EQ(*unk_ids, (Ids{'a', 256}));
}

TEST(BpeTokenizerTest, IgnoreMergesTakesAWordThatIsAToken) {
  // Tokens 256 "ab", 257 "abc"; the only merge is "a b", so merging alone gives ab + c.
  const std::vector<std::string> tokens = {"ab", "abc"};
  testing::OwnedGguf keep;
  auto merged = Build(ByteLevelSpec(tokens, {"a b"}, "qwen2"), &keep);
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  EXPECT_EQ(*(*merged)->Encode("abc", kNoBos), (Ids{256, 'c'}));
  // The Llama 3 group takes the whole word (llama.cpp's ignore_merges) and adds BOS by default.
  testing::OwnedGguf keep2;
  testing::VocabSpec llama3 = ByteLevelSpec(tokens, {"a b"}, "llama-bpe");
  llama3.extra.emplace_back("tokenizer.ggml.bos_token_id", gguf::Value::U32(0));
  auto whole = Build(llama3, &keep2);
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  EXPECT_EQ(*(*whole)->Encode("abc", kNoBos), Ids{257});
  EXPECT_EQ(*(*whole)->Encode("abc"), (Ids{0, 257}));
  EXPECT_EQ(*(*whole)->Encode("abcd", kNoBos), (Ids{256, 'c', 'd'}));
}

}  // namespace
}  // namespace tessera::tokenizer
