// WriteRandomLlama / BuildRandomLlama: deterministic, loadable, llama.cpp-shaped files.
#include "model/synth.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include "base/sha256.h"
#include "gguf/reader.h"
#include "model/llama.h"
#include "model_test_util.h"

namespace tessera::model {
namespace {

SynthSpec Spec() {
  SynthSpec spec;
  spec.n_vocab = 400;
  spec.n_embd = 64;
  spec.n_head = 4;
  spec.n_head_kv = 2;
  spec.n_ff = 96;
  spec.n_layer = 2;
  spec.matrix_type = tensor::DType::kQ4_0;
  spec.output_type = tensor::DType::kQ8_0;
  spec.embd_type = tensor::DType::kF16;
  spec.seed = 42;
  return spec;
}

TEST(SynthTest, SameSeedSameBytesOtherSeedOtherBytes) {
  auto a = BuildRandomLlama(Spec());
  auto b = BuildRandomLlama(Spec());
  ASSERT_TRUE(a.ok() && b.ok()) << a.status().ToString();
  EXPECT_EQ(*a, *b);
  SynthSpec other = Spec();
  other.seed = 43;
  auto c = BuildRandomLlama(other);
  ASSERT_TRUE(c.ok());
  EXPECT_NE(*a, *c);
}

// A golden digest pins the generator (Box-Muller over mt19937_64, the quantizers and the writer)
// so that files made by `tessera synth` stay reproducible across builds and standard libraries.
// If an intended change alters the bytes, update the digest and say so in the commit.
constexpr char kEmbdDigest[] = "f640ad4a31bc1e4a0f48991f0b4022dc778572f6151530d6e918911a6ce07fa2";

TEST(SynthTest, GoldenDigest) {
  SynthSpec spec = Spec();
  spec.matrix_type = tensor::DType::kF32;
  spec.output_type = tensor::DType::kF32;
  spec.embd_type = tensor::DType::kF32;
  auto bytes = BuildRandomLlama(spec);
  ASSERT_TRUE(bytes.ok());
  auto file = testing::ParseOwned(*bytes);
  ASSERT_TRUE(file.ok());
  const gguf::TensorInfo* embd = (*file)->FindTensor("token_embd.weight");
  ASSERT_NE(embd, nullptr);
  // The first draws: N(0, 0.02) by Box-Muller from mt19937_64(42).
  const float* w = reinterpret_cast<const float*>(embd->data.data());
  // The documented algorithm, recomputed here: u1 in (0, 1], u2 in [0, 1) from 53 bits each,
  // z0 = r cos(a), z1 = r sin(a), r = sqrt(-2 ln u1), a = 2 pi u2.
  std::mt19937_64 rng(42);
  const double u1 = (static_cast<double>(rng() >> 11) + 1.0) * 0x1.0p-53;
  const double u2 = static_cast<double>(rng() >> 11) * 0x1.0p-53;
  const double r = std::sqrt(-2.0 * std::log(u1));
  EXPECT_EQ(w[0], static_cast<float>(r * std::cos(2.0 * std::numbers::pi * u2) * 0.02f));
  EXPECT_EQ(w[1], static_cast<float>(r * std::sin(2.0 * std::numbers::pi * u2) * 0.02f));
  EXPECT_EQ(base::Sha256Hex(embd->data), kEmbdDigest);
}

TEST(SynthTest, FileHasLlamaLayoutAndLoads) {
  SynthSpec spec = Spec();
  spec.norm_stddev = 0.1f;
  auto file = testing::SynthFile(spec);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  const gguf::File& f = **file;
  EXPECT_EQ(*f.GetString("general.architecture"), "llama");
  EXPECT_EQ(*f.GetU32("llama.attention.head_count_kv"), 2u);
  EXPECT_EQ(f.tensors().size(), 3u + 9u * 2u);  // embd, output, output_norm + 9 per layer
  const gguf::TensorInfo* k = f.FindTensor("blk.1.attn_k.weight");
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->dims, (std::vector<std::uint64_t>{64, 32}));
  EXPECT_EQ(k->type, tensor::DType::kQ4_0);
  EXPECT_EQ(f.FindTensor("output.weight")->type, tensor::DType::kQ8_0);
  EXPECT_EQ(f.FindTensor("token_embd.weight")->type, tensor::DType::kF16);
  EXPECT_EQ(f.FindTensor("blk.0.ffn_norm.weight")->type, tensor::DType::kF32);
  auto tokens = f.GetArray("tokenizer.ggml.tokens");
  ASSERT_TRUE(tokens.ok());
  ASSERT_EQ((*tokens)->items.size(), 400u);
  EXPECT_EQ((*tokens)->items[0].string(), "<unk>");
  EXPECT_EQ((*tokens)->items[3].string(), "<0x00>");
  EXPECT_EQ((*tokens)->items[258].string(), "<0xFF>");
  EXPECT_EQ((*tokens)->items[259].string(),
            "\xE2\x96\x81"
            "a");
  auto model = LlamaModel::Load(*file);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  // Random gains: not all 1.
  EXPECT_NE((*model)->layers()[0].attn_norm[0], 1.0f);
}

TEST(SynthTest, TiedOutputHasNoOutputTensor) {
  SynthSpec spec = Spec();
  spec.tied_output = true;
  auto file = testing::SynthFile(spec);
  ASSERT_TRUE(file.ok());
  EXPECT_EQ((*file)->FindTensor("output.weight"), nullptr);
}

TEST(SynthTest, CopiesTokenizerFromAnotherFile) {
  auto vocab = gguf::File::Open(TESSERA_TEST_DATA_DIR "/vocab/ggml-vocab-llama-spm.gguf");
  ASSERT_TRUE(vocab.ok()) << vocab.status().ToString();
  SynthSpec spec = Spec();
  spec.n_vocab = 32000;
  spec.n_layer = 1;
  spec.tokenizer_source = &*vocab;
  auto file = testing::SynthFile(spec);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  for (const gguf::KeyValue& kv : vocab->metadata()) {
    if (kv.key.rfind("tokenizer.", 0) != 0) continue;
    EXPECT_NE((*file)->Find(kv.key), nullptr) << kv.key;
  }
  EXPECT_TRUE(LlamaModel::Load(*file).ok());
  spec.n_vocab = 500;  // differs from the source's 32000 tokens
  EXPECT_EQ(BuildRandomLlama(spec).status().code(), StatusCode::kInvalidArgument);
}

TEST(SynthTest, WritesFileAndRejectsBadSpecs) {
  const std::string path = std::string(TESSERA_BINARY_DIR) + "/synth_test_model.gguf";
  ASSERT_TRUE(WriteRandomLlama(Spec(), path).ok());
  auto file = gguf::File::Open(path);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  auto bytes = BuildRandomLlama(Spec());
  ASSERT_TRUE(bytes.ok());
  EXPECT_TRUE(std::equal(bytes->begin(), bytes->end(), file->bytes().begin(), file->bytes().end()));
  std::remove(path.c_str());

  SynthSpec bad = Spec();
  bad.n_head = 3;  // 64 % 3 != 0
  EXPECT_EQ(ValidateSynthSpec(bad).code(), StatusCode::kInvalidArgument);
  bad = Spec();
  bad.n_ff = 100;  // not a multiple of the Q4_0 block of 32
  Status st = ValidateSynthSpec(bad);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("100"), std::string::npos) << st.message();
  bad = Spec();
  bad.matrix_type = tensor::DType::kQ6_K;
  EXPECT_EQ(ValidateSynthSpec(bad).code(), StatusCode::kInvalidArgument);
  bad = Spec();
  bad.n_vocab = 100;  // below the generated vocabulary's 259 fixed tokens
  EXPECT_EQ(ValidateSynthSpec(bad).code(), StatusCode::kInvalidArgument);
  bad = Spec();
  bad.sliding_window = 8;  // gemma3's key on a llama file
  st = ValidateSynthSpec(bad);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("gemma3"), std::string::npos) << st.message();
  bad = Spec();
  bad.architecture = "gemma2";
  st = ValidateSynthSpec(bad);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("gemma2"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace tessera::model
