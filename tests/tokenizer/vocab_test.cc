// Vocab: reading "tokenizer.ggml.*" metadata, defaults, and the errors for corrupt metadata.
#include "tokenizer/vocab.h"

#include <gtest/gtest.h>

#include "gguf/reader.h"
#include "test_vocab.h"
#include "tokenizer/tokenizer.h"

namespace tessera::tokenizer {
namespace {

using testing::BuildGguf;
using testing::SmallSpec;
using testing::VocabSpec;

StatusCode VocabError(const VocabSpec& spec, std::string* message = nullptr) {
  auto gguf = BuildGguf(spec);
  EXPECT_TRUE(gguf.ok()) << gguf.status().ToString();
  if (!gguf.ok()) return StatusCode::kOk;
  auto vocab = Vocab::FromGguf(*gguf->file);
  if (vocab.ok()) return StatusCode::kOk;
  if (message != nullptr) *message = vocab.status().message();
  return vocab.status().code();
}

TEST(VocabTest, SmallVocabDefaultsAndLookups) {
  auto gguf = BuildGguf(SmallSpec());
  ASSERT_TRUE(gguf.ok()) << gguf.status().ToString();
  auto vocab = Vocab::FromGguf(*gguf->file);
  ASSERT_TRUE(vocab.ok()) << vocab.status().ToString();
  EXPECT_EQ(vocab->model(), "llama");
  EXPECT_EQ(vocab->size(), 267);
  EXPECT_EQ(vocab->bos_id(), 1);
  EXPECT_EQ(vocab->eos_id(), 2);
  EXPECT_EQ(vocab->unk_id(), 0);
  EXPECT_EQ(vocab->pad_id(), Vocab::kNoToken);
  EXPECT_TRUE(vocab->add_bos());
  EXPECT_FALSE(vocab->add_eos());
  EXPECT_TRUE(vocab->add_space_prefix());
  EXPECT_EQ(vocab->Find("ab"), 262);
  EXPECT_EQ(vocab->Find("zz"), Vocab::kNoToken);
  EXPECT_EQ(vocab->ByteToToken(0x0A), 3 + 0x0A);
  EXPECT_EQ(vocab->ByteValue(3 + 0xFF), 0xFF);
  EXPECT_EQ(vocab->ByteValue(262), -1);
  EXPECT_EQ(vocab->type(265), TokenType::kUserDefined);
  EXPECT_TRUE(vocab->HasAttr(1, kAttrControl));
  EXPECT_FLOAT_EQ(vocab->score(263), -5.0f);
  EXPECT_TRUE(vocab->IsEndOfGeneration(2));  // eos, and "</s>" by text
  EXPECT_FALSE(vocab->IsEndOfGeneration(1));
  // Special tokens in search order: longest text first.
  ASSERT_EQ(vocab->special_tokens().size(), 4u);
  EXPECT_EQ(vocab->special_tokens()[0], 265);  // "<tool>"
}

TEST(VocabTest, FlagsAndIdsFromMetadata) {
  VocabSpec spec = SmallSpec();
  spec.extra.emplace_back("tokenizer.ggml.add_space_prefix", gguf::Value::Bool(false));
  spec.extra.emplace_back("tokenizer.ggml.add_eos_token", gguf::Value::Bool(true));
  spec.extra.emplace_back("tokenizer.ggml.eos_token_id", gguf::Value::U32(265));
  spec.extra.emplace_back("tokenizer.ggml.padding_token_id", gguf::Value::U32(0));
  auto gguf = BuildGguf(spec);
  ASSERT_TRUE(gguf.ok());
  auto vocab = Vocab::FromGguf(*gguf->file);
  ASSERT_TRUE(vocab.ok()) << vocab.status().ToString();
  EXPECT_FALSE(vocab->add_space_prefix());
  EXPECT_TRUE(vocab->add_eos());
  EXPECT_EQ(vocab->eos_id(), 265);
  EXPECT_EQ(vocab->pad_id(), 0);
  EXPECT_TRUE(vocab->IsEndOfGeneration(265));
}

TEST(VocabTest, MismatchedScoresLength) {
  VocabSpec spec = SmallSpec();
  spec.scores.pop_back();
  std::string message;
  EXPECT_EQ(VocabError(spec, &message), StatusCode::kMalformed);
  EXPECT_NE(message.find("tokenizer.ggml.scores has 266 entries"), std::string::npos) << message;
  EXPECT_NE(message.find("267"), std::string::npos) << message;
}

TEST(VocabTest, LongerTokenTypesAreCutWithAWarning) {
  VocabSpec spec = SmallSpec();
  spec.types.push_back(1);
  auto gguf = BuildGguf(spec);
  ASSERT_TRUE(gguf.ok());
  auto vocab = Vocab::FromGguf(*gguf->file);
  ASSERT_TRUE(vocab.ok()) << vocab.status().ToString();  // llama.cpp reads the first n too
  EXPECT_EQ(vocab->size(), 267);
  ASSERT_EQ(vocab->warnings().size(), 1u);
  EXPECT_NE(vocab->warnings()[0].find("tokenizer.ggml.token_type has 268 entries for 267 tokens"),
            std::string::npos)
      << vocab->warnings()[0];
}

// The value llama.cpp's convert-llama2c-to-ggml writes for "no such token".
constexpr std::uint32_t kLlamaTokenNull = 0xFFFFFFFFu;

TEST(VocabTest, SpecialIdsOutsideTheVocabularyAreIgnoredWithAWarning) {
  VocabSpec spec = SmallSpec();
  spec.extra.emplace_back("tokenizer.ggml.bos_token_id", gguf::Value::U32(267));
  spec.extra.emplace_back("tokenizer.ggml.padding_token_id", gguf::Value::U32(kLlamaTokenNull));
  spec.extra.emplace_back("tokenizer.ggml.seperator_token_id", gguf::Value::U32(kLlamaTokenNull));
  spec.extra.emplace_back("tokenizer.ggml.eot_token_id", gguf::Value::I32(-1));
  auto gguf = BuildGguf(spec);
  ASSERT_TRUE(gguf.ok());
  auto vocab = Vocab::FromGguf(*gguf->file);
  ASSERT_TRUE(vocab.ok()) << vocab.status().ToString();
  EXPECT_EQ(vocab->bos_id(), 1);  // the default stays, as in llama.cpp
  EXPECT_EQ(vocab->pad_id(), Vocab::kNoToken);
  EXPECT_EQ(vocab->sep_id(), Vocab::kNoToken);
  EXPECT_EQ(vocab->eot_id(), Vocab::kNoToken);
  ASSERT_EQ(vocab->warnings().size(), 4u);
  EXPECT_EQ(vocab->warnings()[0],
            "tokenizer: tokenizer.ggml.bos_token_id = 267 is outside the vocabulary of 267 "
            "tokens; ignored (the default 1 stays)");
  EXPECT_NE(vocab->warnings()[1].find("tokenizer.ggml.eot_token_id = -1"), std::string::npos);
  EXPECT_NE(vocab->warnings()[2].find("tokenizer.ggml.seperator_token_id = 4294967295"),
            std::string::npos);
  EXPECT_NE(vocab->warnings()[3].find("tokenizer.ggml.padding_token_id = 4294967295 is outside "
                                      "the vocabulary of 267 tokens; ignored (none)"),
            std::string::npos)
      << vocab->warnings()[3];
}

TEST(VocabTest, BothSpellingsOfTheSeparatorAndTheFimKeysAreRead) {
  VocabSpec spec = SmallSpec();
  spec.extra.emplace_back("tokenizer.ggml.separator_token_id", gguf::Value::U32(265));
  spec.extra.emplace_back("tokenizer.ggml.mask_token_id", gguf::Value::U32(266));
  spec.extra.emplace_back("tokenizer.ggml.prefix_token_id", gguf::Value::U32(262));
  spec.extra.emplace_back("tokenizer.ggml.fim_mid_token_id", gguf::Value::U32(263));
  auto gguf = BuildGguf(spec);
  ASSERT_TRUE(gguf.ok());
  auto vocab = Vocab::FromGguf(*gguf->file);
  ASSERT_TRUE(vocab.ok()) << vocab.status().ToString();
  EXPECT_EQ(vocab->sep_id(), 265);
  EXPECT_EQ(vocab->mask_id(), 266);
  EXPECT_EQ(vocab->fim_pre_id(), 262);
  EXPECT_EQ(vocab->fim_mid_id(), 263);
  EXPECT_TRUE(vocab->warnings().empty());
}

TEST(VocabTest, ASpecialIdOfTheWrongTypeIsStillAnError) {
  VocabSpec spec = SmallSpec();
  spec.extra.emplace_back("tokenizer.ggml.mask_token_id", gguf::Value::String("<mask>"));
  std::string message;
  EXPECT_EQ(VocabError(spec, &message), StatusCode::kTypeMismatch);
  EXPECT_NE(message.find("tokenizer.ggml.mask_token_id holds string"), std::string::npos)
      << message;
}

TEST(VocabTest, MissingKeys) {
  VocabSpec no_tokens = SmallSpec();
  no_tokens.tokens.clear();
  no_tokens.write_scores = false;
  no_tokens.write_types = false;
  // An empty token array is malformed.
  EXPECT_EQ(VocabError(no_tokens), StatusCode::kMalformed);

  // A "llama" vocabulary without scores or types loads as in llama.cpp (0, normal), warned.
  VocabSpec no_scores = SmallSpec();
  no_scores.write_scores = false;
  no_scores.write_types = false;
  auto gguf = BuildGguf(no_scores);
  ASSERT_TRUE(gguf.ok());
  auto vocab = Vocab::FromGguf(*gguf->file);
  ASSERT_TRUE(vocab.ok()) << vocab.status().ToString();
  EXPECT_FLOAT_EQ(vocab->score(263), 0.0f);
  EXPECT_EQ(vocab->type(265), TokenType::kNormal);
  ASSERT_EQ(vocab->warnings().size(), 2u);
  EXPECT_NE(vocab->warnings()[0].find("tokenizer.ggml.scores is absent"), std::string::npos);
  EXPECT_NE(vocab->warnings()[1].find("tokenizer.ggml.token_type is absent"), std::string::npos);
}

TEST(VocabTest, MissingTokensArray) {
  gguf::Writer w;
  ASSERT_TRUE(w.AddKeyValue("tokenizer.ggml.model", gguf::Value::String("llama")).ok());
  auto bytes = w.WriteToBuffer();
  ASSERT_TRUE(bytes.ok());
  auto file = gguf::File::Parse(*bytes);
  ASSERT_TRUE(file.ok());
  auto vocab = Vocab::FromGguf(*file);
  ASSERT_FALSE(vocab.ok());
  EXPECT_EQ(vocab.status().code(), StatusCode::kNotFound);
  EXPECT_NE(vocab.status().message().find("tokenizer.ggml.tokens"), std::string::npos);
}

TEST(VocabTest, MissingModel) {
  gguf::Writer w;
  ASSERT_TRUE(
      w.AddKeyValue("tokenizer.ggml.tokens", gguf::Value::StringArray({"a", "b"})).ok());
  auto bytes = w.WriteToBuffer();
  ASSERT_TRUE(bytes.ok());
  auto file = gguf::File::Parse(*bytes);
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(Vocab::FromGguf(*file).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(CreateTokenizer(*file).status().code(), StatusCode::kNotFound);
}

// The gguf Writer refuses wrongly typed well-known keys, so these files are built byte by byte.
class RawGguf {
 public:
  void String(const std::string& key, const std::string& value) {
    Key(key, 8);
    Str(value);
  }
  void I32(const std::string& key, std::int32_t value) {
    Key(key, 5);
    Pod(value);
  }
  void StringArray(const std::string& key, const std::vector<std::string>& items) {
    Key(key, 9);
    Pod(std::uint32_t{8});
    Pod(static_cast<std::uint64_t>(items.size()));
    for (const auto& item : items) Str(item);
  }
  std::vector<std::uint8_t> Bytes() const {
    std::vector<std::uint8_t> out = {'G', 'G', 'U', 'F', 3, 0, 0, 0};
    auto put64 = [&](std::uint64_t v) {
      for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    };
    put64(0);
    put64(n_kv_);
    out.insert(out.end(), body_.begin(), body_.end());
    return out;
  }

 private:
  template <typename T>
  void Pod(T v) {
    for (std::size_t i = 0; i < sizeof(T); ++i) {
      body_.push_back(static_cast<std::uint8_t>(static_cast<std::uint64_t>(v) >> (8 * i)));
    }
  }
  void Str(const std::string& s) {
    Pod(static_cast<std::uint64_t>(s.size()));
    body_.insert(body_.end(), s.begin(), s.end());
  }
  void Key(const std::string& key, std::uint32_t type) {
    ++n_kv_;
    Str(key);
    Pod(type);
  }
  std::vector<std::uint8_t> body_;
  std::uint64_t n_kv_ = 0;
};

// The code from reading the file and then its vocabulary: the gguf reader already checks the
// types of well-known keys, and Vocab checks them again for files read without that schema.
StatusCode RawVocabError(const RawGguf& raw) {
  const std::vector<std::uint8_t> bytes = raw.Bytes();
  auto file = gguf::File::Parse(bytes);
  if (!file.ok()) return file.status().code();
  auto vocab = Vocab::FromGguf(*file);
  return vocab.ok() ? StatusCode::kOk : vocab.status().code();
}

TEST(VocabTest, WrongTypes) {
  const std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
  {
    RawGguf raw;  // scores as strings
    raw.String("tokenizer.ggml.model", "llama");
    raw.StringArray("tokenizer.ggml.tokens", tokens);
    raw.StringArray("tokenizer.ggml.scores", {"x", "y", "z"});
    raw.StringArray("tokenizer.ggml.token_type", {"x", "y", "z"});
    EXPECT_EQ(RawVocabError(raw), StatusCode::kTypeMismatch);
  }
  {
    RawGguf raw;  // token_type not an array
    raw.String("tokenizer.ggml.model", "gpt2");
    raw.StringArray("tokenizer.ggml.tokens", tokens);
    raw.I32("tokenizer.ggml.token_type", 1);
    EXPECT_EQ(RawVocabError(raw), StatusCode::kTypeMismatch);
  }
  {
    RawGguf raw;  // tokens not an array
    raw.String("tokenizer.ggml.model", "gpt2");
    raw.I32("tokenizer.ggml.tokens", 3);
    EXPECT_EQ(RawVocabError(raw), StatusCode::kTypeMismatch);
  }
  {
    RawGguf raw;  // model not a string
    raw.I32("tokenizer.ggml.model", 3);
    raw.StringArray("tokenizer.ggml.tokens", tokens);
    EXPECT_EQ(RawVocabError(raw), StatusCode::kTypeMismatch);
  }
  {
    RawGguf raw;  // a model without scores needs none
    raw.String("tokenizer.ggml.model", "gpt2");
    raw.StringArray("tokenizer.ggml.tokens", tokens);
    EXPECT_EQ(RawVocabError(raw), StatusCode::kOk);
  }
}

TEST(VocabTest, DuplicateTokenText) {
  VocabSpec spec = SmallSpec();
  spec.tokens.back() = "ab";
  std::string message;
  EXPECT_EQ(VocabError(spec, &message), StatusCode::kDuplicate);
  EXPECT_NE(message.find("262 and 266"), std::string::npos) << message;
}

TEST(VocabTest, MalformedByteToken) {
  VocabSpec spec = SmallSpec();
  spec.tokens[3] = "<0xZZ>";
  EXPECT_EQ(VocabError(spec), StatusCode::kMalformed);
}

TEST(VocabTest, AddBosWithoutBosToken) {
  VocabSpec spec = SmallSpec();
  spec.tokens.resize(1);  // only <unk>: the default BOS id 1 is past the end, so disabled
  spec.scores.resize(1);
  spec.types.resize(1);
  EXPECT_EQ(VocabError(spec), StatusCode::kNotFound);
  spec.extra.emplace_back("tokenizer.ggml.add_bos_token", gguf::Value::Bool(false));
  EXPECT_EQ(VocabError(spec), StatusCode::kOk);
}

TEST(VocabTest, UnsupportedModel) {
  for (const char* model : {"bert", "t5"}) {
    VocabSpec spec = SmallSpec();
    spec.model = model;
    auto gguf = BuildGguf(spec);
    ASSERT_TRUE(gguf.ok());
    auto tok = CreateTokenizer(*gguf->file);
    ASSERT_FALSE(tok.ok());
    EXPECT_EQ(tok.status().code(), StatusCode::kUnsupported);
    EXPECT_NE(tok.status().message().find(model), std::string::npos);
  }
}

TEST(VocabTest, Phi3EndTokensAreControlAndEog) {
  auto file = gguf::File::Open(testing::VocabPath("phi-3"));
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  auto vocab = Vocab::FromGguf(*file);
  ASSERT_TRUE(vocab.ok()) << vocab.status().ToString();
  EXPECT_EQ(vocab->size(), 32064);
  EXPECT_EQ(vocab->eos_id(), 32000);
  EXPECT_EQ(vocab->pad_id(), 32000);
  const std::int32_t end = vocab->Find("<|end|>");
  const std::int32_t eot = vocab->Find("<|endoftext|>");
  const std::int32_t s_end = vocab->Find("</s>");
  ASSERT_NE(end, Vocab::kNoToken);
  EXPECT_TRUE(vocab->IsEndOfGeneration(end));
  EXPECT_TRUE(vocab->IsEndOfGeneration(eot));
  EXPECT_TRUE(vocab->IsEndOfGeneration(s_end));
  EXPECT_FALSE(vocab->IsEndOfGeneration(vocab->Find("<|user|>")));
  // "</s>" is user-defined in the file; llama.cpp makes it control because it ends generation.
  EXPECT_EQ(vocab->type(s_end), TokenType::kUserDefined);
  EXPECT_TRUE(vocab->HasAttr(s_end, kAttrControl));
  // general.name "Phi3": special tokens strip whitespace on their right, except <s>, <unk>,
  // <|endoftext|>.
  EXPECT_TRUE(vocab->HasAttr(vocab->Find("<|user|>"), kAttrRstrip));
  EXPECT_FALSE(vocab->HasAttr(eot, kAttrRstrip));
  EXPECT_FALSE(vocab->HasAttr(1, kAttrRstrip));
}

}  // namespace
}  // namespace tessera::tokenizer
