// Tests of the facts half of registry/gguf_facts.h (model and adapter facts, canonical
// vocabulary bytes, adapter bindings) on the shipped models and on damaged copies of them.
//
// The golden canonical-vocabulary hashes were computed once, independently of this code, by
// tests/registry/data/vocab_sha.py (its own GGUF parser and its own reading of
// docs/formats/package.md section 5):
//   /usr/bin/python3 tests/registry/data/vocab_sha.py models/specialists/date.gguf
//   2f80d73d8122927a12ac09561b90cb7be6e4a6071427f2ef38c7ca8150989ef1 5722
//   /usr/bin/python3 tests/registry/data/vocab_sha.py models/specialists/sentiment.gguf
//   01739c81067d12174a0bfbc0e91e8414df2a0442d8e844f5b5d245c77fef541a 10309
// (sha256, then the length of the canonical bytes.) Every char-level model (base, generalist,
// router and five specialists) gives the first value; the qwen2 sentiment specialist the second.
#include "registry/gguf_facts.h"

#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/sha256.h"
#include "gguf/keys.h"
#include "gguf/reader.h"
#include "gguf/writer.h"
#include "gguf_edit_fixture.h"

namespace tessera::registry {
namespace {

namespace keys = gguf::keys;
using namespace gguf_fixture;  // NOLINT: test fixtures

// As tests/registry/data/vocab_sha.py prints for the shipped files (an independent reading).
constexpr const char* kSharedVocabSha =
    "72ba373772b4bc474593d964d261a1f042bc6f84099221a40161e9dab86dc1bb";
constexpr const char* kSentimentVocabSha =
    "6132709e181842037e7fdd846c1d931b4d08107dbef995f30175f8afbac515ae";

// Little-endian builders for the expected canonical bytes.
void PutU32(std::string& s, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void PutStr(std::string& s, std::string_view v) {
  PutU32(s, static_cast<std::uint32_t>(v.size()));
  s.append(v);
}
void PutF32(std::string& s, float v) { PutU32(s, std::bit_cast<std::uint32_t>(v)); }

using GgufFactsTest = TempDirTest;

// ---------------------------------------------------------------------------------------------
// Facts of models

TEST_F(GgufFactsTest, SharedBpeSpecialist) {
  Result<package::GgufFacts> facts = ReadModelFacts(kDate);
  ASSERT_TRUE(facts.ok()) << facts.status().ToString();
  gguf::File file = OpenOrDie(kDate);
  EXPECT_EQ(facts->architecture, "llama");
  EXPECT_EQ(facts->version, 3u);
  EXPECT_EQ(facts->file_type, "F16");
  EXPECT_EQ(facts->parameters, 658048u);  // 657408 F16 + 640 F32 elements
  EXPECT_EQ(facts->parameters, SumOfElements(file));
  EXPECT_EQ(facts->context_length, file.GetU64("llama.context_length").value());
  EXPECT_EQ(facts->context_length, 256u);
  ASSERT_TRUE(facts->tokenizer.has_value());
  EXPECT_EQ(facts->tokenizer->model, "llama");
  EXPECT_EQ(facts->tokenizer->pre, "default");
  EXPECT_EQ(facts->tokenizer->vocab_size, 1000u);  // SentencePiece BPE, 1000 pieces
  EXPECT_EQ(facts->tokenizer->vocab_size,
            file.GetArray(keys::kTokenizerTokens).value()->items.size());
  EXPECT_EQ(facts->tokenizer->sha256, kSharedVocabSha);
}

TEST_F(GgufFactsTest, Qwen2SentimentHasBpeTokenizerWithMerges) {
  Result<package::GgufFacts> facts = ReadModelFacts(kSentiment);
  ASSERT_TRUE(facts.ok()) << facts.status().ToString();
  gguf::File file = OpenOrDie(kSentiment);
  EXPECT_EQ(facts->architecture, "qwen2");
  EXPECT_EQ(facts->file_type, "F16");
  EXPECT_EQ(facts->context_length, file.GetU64("qwen2.context_length").value());
  ASSERT_TRUE(facts->tokenizer.has_value());
  EXPECT_EQ(facts->tokenizer->model, "gpt2");
  EXPECT_EQ(facts->tokenizer->pre, "gpt-2");
  EXPECT_EQ(facts->tokenizer->vocab_size, 557u);
  ASSERT_NE(file.Find(keys::kTokenizerMerges), nullptr);
  EXPECT_EQ(file.GetArray(keys::kTokenizerMerges).value()->items.size(), 300u);
  EXPECT_EQ(facts->tokenizer->sha256, kSentimentVocabSha);
}

TEST_F(GgufFactsTest, EveryShippedModel) {
  for (const std::string& name : kShippedModels) {
    SCOPED_TRACE(name);
    Result<package::GgufFacts> facts = ReadModelFacts(kModels + name);
    ASSERT_TRUE(facts.ok()) << facts.status().ToString();
    gguf::File file = OpenOrDie(kModels + name);
    EXPECT_EQ(facts->parameters, SumOfElements(file));
    const std::string arch(file.GetString(keys::kGeneralArchitecture).value());
    EXPECT_EQ(facts->architecture, arch);
    EXPECT_EQ(facts->context_length, file.GetU64(arch + ".context_length").value());
    EXPECT_EQ(facts->version, file.version());
    // Stable: a second reading gives the same facts.
    Result<package::GgufFacts> again = ReadModelFacts(kModels + name);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, *facts);
  }
}

TEST_F(GgufFactsTest, VocabShaSharedByModelsOfOneTokenizer) {
  for (const std::string& name : kShippedModels) {
    SCOPED_TRACE(name);
    gguf::File file = OpenOrDie(kModels + name);
    Result<std::string> sha = CanonicalVocabSha256(file);
    ASSERT_TRUE(sha.ok()) << sha.status().ToString();
    EXPECT_EQ(*sha, name == "specialists/sentiment.gguf" ? kSentimentVocabSha : kSharedVocabSha);
  }
  EXPECT_NE(std::string(kSharedVocabSha), std::string(kSentimentVocabSha));
}

TEST_F(GgufFactsTest, CanonicalVocabBytesOfShippedModels) {
  gguf::File date = OpenOrDie(kDate);
  Result<std::string> bytes = CanonicalVocabBytes(date);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  EXPECT_EQ(bytes->size(), 16571u);  // as tests/registry/data/vocab_sha.py prints
  EXPECT_TRUE(bytes->starts_with(std::string("tessera-vocab-v1\n") + '\x05' + '\0' + '\0' + '\0' +
                                 "llama"));
  // bos 1, eos 2, unk 0 stored; pad absent (-1); add_bos true (stored), add_eos false (default).
  std::string tail;
  PutU32(tail, 1);
  PutU32(tail, 2);
  PutU32(tail, 0);
  PutU32(tail, 0xffffffffu);
  tail += '\x01';
  tail += '\0';
  EXPECT_TRUE(bytes->ends_with(tail));

  gguf::File sentiment = OpenOrDie(kSentiment);
  Result<std::string> bpe = CanonicalVocabBytes(sentiment);
  ASSERT_TRUE(bpe.ok()) << bpe.status().ToString();
  EXPECT_EQ(bpe->size(), 11193u);
}

// A small vocabulary written with the writer; the expected bytes are spelled out by hand.
TEST_F(GgufFactsTest, CanonicalVocabBytesLayoutAndDefaults) {
  gguf::Writer w;
  ASSERT_TRUE(
      w.AddKeyValue(std::string(keys::kGeneralArchitecture), gguf::Value::String("llama")).ok());
  ASSERT_TRUE(w.AddKeyValue(std::string(keys::kTokenizerModel), gguf::Value::String("llama")).ok());
  ASSERT_TRUE(w.AddKeyValue(std::string(keys::kTokenizerTokens),
                            gguf::Value::StringArray({"<unk>", "<s>", "</s>", "ab"}))
                  .ok());
  ASSERT_TRUE(w.AddKeyValue(std::string(keys::kTokenizerScores),
                            gguf::Value::F32Array({0.0f, -1.5f, 2.0f, -0.25f}))
                  .ok());
  ASSERT_TRUE(
      w.AddKeyValue(std::string(keys::kTokenizerTokenType), gguf::Value::I32Array({2, 3, 3, 1}))
          .ok());
  ASSERT_TRUE(w.AddKeyValue(std::string(keys::kTokenizerEosId), gguf::Value::U32(2)).ok());
  Result<std::vector<std::uint8_t>> buffer = w.WriteToBuffer();
  ASSERT_TRUE(buffer.ok()) << buffer.status().ToString();
  Result<gguf::File> file = gguf::File::Parse(*buffer);
  ASSERT_TRUE(file.ok()) << file.status().ToString();

  std::string want = "tessera-vocab-v1\n";
  PutStr(want, "llama");
  PutStr(want, "default");  // no tokenizer.ggml.pre
  PutU32(want, 4);
  const char* texts[] = {"<unk>", "<s>", "</s>", "ab"};
  const float scores[] = {0.0f, -1.5f, 2.0f, -0.25f};
  const std::uint32_t types[] = {2, 3, 3, 1};
  for (int i = 0; i < 4; ++i) {
    PutStr(want, texts[i]);
    PutF32(want, scores[i]);
    PutU32(want, types[i]);
  }
  PutU32(want, 0);            // no merges
  PutU32(want, 0xffffffffu);  // bos absent: -1 (not the "llama" default 1)
  PutU32(want, 2);            // eos
  PutU32(want, 0xffffffffu);  // unk absent
  PutU32(want, 0xffffffffu);  // pad absent
  want += '\x01';             // add_bos: the "llama" default
  want += '\0';               // add_eos: the default
  Result<std::string> got = CanonicalVocabBytes(*file);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, want);

  Result<package::TokenizerFacts> facts = ReadTokenizerFacts(*file);
  ASSERT_TRUE(facts.ok()) << facts.status().ToString();
  EXPECT_EQ(facts->vocab_size, 4u);
  EXPECT_EQ(facts->pre, "default");
  EXPECT_EQ(facts->sha256, base::Sha256Hex(std::span(
                               reinterpret_cast<const std::uint8_t*>(want.data()), want.size())));
}

// Each field of section 5 changes the hash.
TEST_F(GgufFactsTest, EveryVocabFieldChangesTheHash) {
  const std::vector<std::pair<std::string, Edit>> edits = {
      {"score", Edit{.set_keys = {{std::string(keys::kTokenizerScores),
                                   gguf::Value::F32Array(std::vector<float>(1000, 0.5f))}}}},
      {"type", Edit{.set_keys = {{std::string(keys::kTokenizerTokenType),
                                  gguf::Value::I32Array(std::vector<std::int32_t>(1000, 1))}}}},
      {"pre", Edit{.drop_keys = {std::string(keys::kTokenizerPre)}}},  // "default" either way
      {"bos", Edit{.drop_keys = {std::string(keys::kTokenizerBosId)}}},
      {"pad", Edit{.set_keys = {{std::string(keys::kTokenizerPaddingId), gguf::Value::U32(0)}}}},
      {"add_bos",
       Edit{.set_keys = {{std::string(keys::kTokenizerAddBos), gguf::Value::Bool(false)}}}},
      {"add_eos",
       Edit{.set_keys = {{std::string(keys::kTokenizerAddEos), gguf::Value::Bool(true)}}}},
      {"name", Edit{.set_keys = {{std::string(keys::kGeneralName), gguf::Value::String("other")}}}},
  };
  for (const auto& [what, edit] : edits) {
    SCOPED_TRACE(what);
    const std::string path = dir_ + what + ".gguf";
    Rewrite(kDate, path, edit);
    gguf::File file = OpenOrDie(path);
    Result<std::string> sha = CanonicalVocabSha256(file);
    ASSERT_TRUE(sha.ok()) << sha.status().ToString();
    // tokenizer.ggml.pre is "default" in the file, so dropping it changes nothing; nor does the
    // model name, which section 5 does not cover.
    if (what == "pre" || what == "name") {
      EXPECT_EQ(*sha, kSharedVocabSha);
    } else {
      EXPECT_NE(*sha, kSharedVocabSha);
    }
  }
}

TEST_F(GgufFactsTest, VocabErrorsNameTheProblem) {
  const std::string path = dir_ + "no-tokens.gguf";
  Rewrite(kDate, path, Edit{.drop_keys = {std::string(keys::kTokenizerTokens)}});
  gguf::File file = OpenOrDie(path);
  Result<std::string> bytes = CanonicalVocabBytes(file);
  ASSERT_FALSE(bytes.ok());
  EXPECT_EQ(bytes.status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(bytes.status().message().starts_with("registry: vocab: " + path + ": "))
      << bytes.status().message();
  EXPECT_NE(bytes.status().message().find("tokenizer.ggml.tokens"), std::string::npos);

  Result<package::GgufFacts> facts = ReadModelFacts(path);
  ASSERT_FALSE(facts.ok());
  EXPECT_EQ(facts.status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(facts.status().message().starts_with("registry: facts: " + path + ": "))
      << facts.status().message();

  const std::string bad_pre = dir_ + "bad-pre.gguf";
  Rewrite(kDate, bad_pre,
          Edit{.set_keys = {{std::string(keys::kTokenizerPre), gguf::Value::String("a b")}}});
  facts = ReadModelFacts(bad_pre);
  ASSERT_FALSE(facts.ok());
  EXPECT_EQ(facts.status().code(), StatusCode::kMalformed) << facts.status().ToString();
}

TEST_F(GgufFactsTest, ModelFactsRefusals) {
  Result<package::GgufFacts> missing = ReadModelFacts(dir_ + "absent.gguf");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(missing.status().message().starts_with("registry: facts: " + dir_ + "absent.gguf: "));

  Result<package::GgufFacts> adapter = ReadModelFacts(kDateLora);
  ASSERT_FALSE(adapter.ok());
  EXPECT_EQ(adapter.status().code(), StatusCode::kInvalidArgument);

  const std::string no_ctx = dir_ + "no-ctx.gguf";
  Rewrite(kDate, no_ctx, Edit{.drop_keys = {"llama.context_length"}});
  Result<package::GgufFacts> facts = ReadModelFacts(no_ctx);
  ASSERT_FALSE(facts.ok());
  EXPECT_EQ(facts.status().code(), StatusCode::kNotFound);
  EXPECT_NE(facts.status().message().find("llama.context_length"), std::string::npos);

  const std::string bad_arch = dir_ + "bad-arch.gguf";
  Rewrite(kDate, bad_arch,
          Edit{.set_keys = {
                   {std::string(keys::kGeneralArchitecture), gguf::Value::String("llama/../x")}}});
  facts = ReadModelFacts(bad_arch);
  ASSERT_FALSE(facts.ok());
  EXPECT_EQ(facts.status().code(), StatusCode::kMalformed) << facts.status().ToString();
}

// ---------------------------------------------------------------------------------------------
// Facts and bindings of adapters

TEST_F(GgufFactsTest, AdapterFacts) {
  for (const std::string& name : kShippedAdapters) {
    SCOPED_TRACE(name);
    const std::string path = kModels + "adapters/" + name + ".lora.gguf";
    Result<package::GgufFacts> facts = ReadAdapterFacts(path);
    ASSERT_TRUE(facts.ok()) << facts.status().ToString();
    gguf::File file = OpenOrDie(path);
    EXPECT_EQ(facts->architecture, "llama");
    EXPECT_EQ(facts->version, 3u);
    EXPECT_EQ(facts->file_type, "F32");
    EXPECT_EQ(facts->parameters, SumOfElements(file));
    EXPECT_EQ(facts->parameters, 312320u);  // 4 layers x 7 matrices x 16 x (n_in + n_out)
    EXPECT_EQ(facts->context_length, 0u);
    EXPECT_FALSE(facts->tokenizer.has_value());
  }
  Result<package::GgufFacts> model = ReadAdapterFacts(kDate);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(GgufFactsTest, AdapterBinding) {
  const std::string base_sha = FileSha256(kBase);
  EXPECT_EQ(base_sha, RecordedSha256("base.gguf"));
  for (const std::string& name : kShippedAdapters) {
    SCOPED_TRACE(name);
    Result<AdapterBinding> b = ReadAdapterBinding(kModels + "adapters/" + name + ".lora.gguf");
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    EXPECT_EQ(b->base_sha256, base_sha);
    EXPECT_EQ(b->targets,
              (std::vector<std::string>{"attn_k.weight", "attn_output.weight", "attn_q.weight",
                                        "attn_v.weight", "ffn_down.weight", "ffn_gate.weight",
                                        "ffn_up.weight"}));
    EXPECT_EQ(b->rank, 16u);
    EXPECT_EQ(b->alpha, 32.0);
  }
}

TEST_F(GgufFactsTest, AdapterBindingWithoutOptionalKeys) {
  const std::string path = dir_ + "bare.lora.gguf";
  Rewrite(kDateLora, path,
          Edit{.drop_keys = {"adapter.base.sha256", std::string(keys::kAdapterLoraAlpha)}});
  Result<AdapterBinding> b = ReadAdapterBinding(path);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->base_sha256, "");
  EXPECT_EQ(b->alpha, 0.0);
  EXPECT_EQ(b->rank, 16u);
  EXPECT_EQ(b->targets.size(), 7u);
}

TEST_F(GgufFactsTest, AdapterBindingRefusals) {
  struct Case {
    std::string name;
    Edit edit;
    StatusCode code;
    std::string names;  // a substring the message must contain
  };
  const std::string q = "blk.2.attn_q.weight";
  std::vector<Case> cases;
  cases.push_back(
      {"mixed-ranks",
       Edit{.drop_tensors = {q + ".lora_a", q + ".lora_b"},
            .add_tensors = {ZerosF32(q + ".lora_a", {256, 8}), ZerosF32(q + ".lora_b", {8, 256})}},
       StatusCode::kMalformed, q + ".lora_a"});
  cases.push_back(
      {"pair-ranks",
       Edit{.drop_tensors = {q + ".lora_b"}, .add_tensors = {ZerosF32(q + ".lora_b", {8, 256})}},
       StatusCode::kShapeMismatch, q + ".lora_b"});
  cases.push_back({"no-partner", Edit{.drop_tensors = {q + ".lora_b"}}, StatusCode::kMissingTensor,
                   q + ".lora_b"});
  cases.push_back({"stray-tensor", Edit{.add_tensors = {ZerosF32("blk.0.attn_q.weight", {4, 4})}},
                   StatusCode::kMalformed, "blk.0.attn_q.weight"});
  cases.push_back({"three-d",
                   Edit{.drop_tensors = {q + ".lora_a"},
                        .add_tensors = {ZerosF32(q + ".lora_a", {256, 16, 1})}},
                   StatusCode::kShapeMismatch, q + ".lora_a"});
  cases.push_back({"bad-sha",
                   Edit{.set_keys = {{"adapter.base.sha256", gguf::Value::String("01764CAD")}}},
                   StatusCode::kMalformed, "adapter.base.sha256"});
  cases.push_back(
      {"not-lora",
       Edit{.set_keys = {{std::string(keys::kAdapterType), gguf::Value::String("ia3")}}},
       StatusCode::kUnsupported, "adapter.type"});
  cases.push_back({"nan-alpha",
                   Edit{.set_keys = {{std::string(keys::kAdapterLoraAlpha),
                                      gguf::Value::F32(std::numeric_limits<float>::quiet_NaN())}}},
                   StatusCode::kMalformed, "adapter.lora.alpha"});
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string path = dir_ + c.name + ".lora.gguf";
    Rewrite(kDateLora, path, c.edit);
    Result<AdapterBinding> b = ReadAdapterBinding(path);
    ASSERT_FALSE(b.ok());
    EXPECT_EQ(b.status().code(), c.code) << b.status().ToString();
    EXPECT_TRUE(b.status().message().starts_with("registry: facts: " + path + ": "))
        << b.status().message();
    EXPECT_NE(b.status().message().find(c.names), std::string::npos) << b.status().message();
  }
}

}  // namespace
}  // namespace tessera::registry
