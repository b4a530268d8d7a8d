// gemma3 admission: the keys of its sliding window and soft-capping, its extra norms, and the
// RoPE scaling keys every architecture reads (model/config.h).
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "model/architecture.h"
#include "model/llama.h"
#include "model/synth.h"
#include "model_test_util.h"

namespace tessera::model {
namespace {

using testing::KeyEdit;
using testing::Rewrite;
using testing::TensorEdit;

SynthSpec Gemma3Spec() {
  SynthSpec spec;
  spec.architecture = "gemma3";
  spec.n_vocab = 300;
  spec.n_embd = 32;
  spec.n_head = 4;
  spec.n_head_kv = 1;
  spec.head_dim = 16;
  spec.n_ff = 64;
  spec.n_layer = 7;
  spec.n_ctx = 16;
  spec.tied_output = true;
  spec.sliding_window = 4;
  spec.seed = 5;
  return spec;
}

// The file of `spec` with `edit` applied to its keys, loaded.
Result<std::unique_ptr<LlamaModel>> LoadEdited(const SynthSpec& spec,
                                               const std::function<void(KeyEdit&)>& edit,
                                               const std::vector<KeyEdit>& extra = {}) {
  TS_ASSIGN_OR_RETURN(auto file, testing::SynthFile(spec));
  TS_ASSIGN_OR_RETURN(auto edited, Rewrite(*file, edit, nullptr, extra));
  return LlamaModel::Load(edited);
}

TEST(Gemma3AdmissionTest, LoadsWithGeluPostNormsScaledEmbeddingsAndWindowedLayers) {
  auto model = LoadEdited(Gemma3Spec(), nullptr);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  const LlamaConfig& c = (*model)->config();
  EXPECT_EQ(c.architecture, "gemma3");
  EXPECT_EQ(c.rope_mode, kernels::RopeMode::kNeox);
  EXPECT_EQ(c.ffn_activation, FfnActivation::kGelu);
  EXPECT_TRUE(c.post_norms);
  EXPECT_TRUE(c.qk_norm);
  EXPECT_FLOAT_EQ(c.embd_scale, std::sqrt(32.0f));
  EXPECT_FLOAT_EQ(c.AttentionScale(), 0.25f);  // 1 / sqrt(head_dim 16)
  EXPECT_EQ(c.n_swa, 4);
  EXPECT_EQ(c.swa_period, 6);  // llama.cpp's default when the key is absent
  EXPECT_EQ(c.rope_freq_base_swa, 10000.0f);
  EXPECT_EQ(c.final_logit_softcap, 0.0f);
  for (int il = 0; il < 7; ++il) EXPECT_EQ(c.IsSwaLayer(il), il != 5) << il;
  const LlamaLayer& l = (*model)->layers()[3];
  EXPECT_EQ(l.post_attn_norm.size(), 32u);
  EXPECT_EQ(l.post_ffn_norm.size(), 32u);
  EXPECT_EQ(l.q_norm.size(), 16u);
}

TEST(Gemma3AdmissionTest, StatedPatternBaseAndSoftcapAreRead) {
  SynthSpec spec = Gemma3Spec();
  spec.sliding_window_pattern = 2;
  spec.rope_freq_base_swa = 500.0f;
  spec.final_logit_softcap = 30.0f;
  auto model = LoadEdited(spec, nullptr);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  const LlamaConfig& c = (*model)->config();
  for (int il = 0; il < 7; ++il) EXPECT_EQ(c.IsSwaLayer(il), il % 2 == 0) << il;
  EXPECT_EQ(c.rope_freq_base_swa, 500.0f);
  EXPECT_EQ(c.final_logit_softcap, 30.0f);
}

TEST(Gemma3AdmissionTest, WithoutAWindowNoLayerIsWindowed) {
  SynthSpec spec = Gemma3Spec();
  spec.sliding_window = 0;
  auto model = LoadEdited(spec, nullptr);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  for (int il = 0; il < 7; ++il) EXPECT_FALSE((*model)->config().IsSwaLayer(il));
  // A window of 0 stated in the file means the same.
  auto zero = LoadEdited(spec, nullptr, {{"gemma3.attention.sliding_window", gguf::Value::U32(0)}});
  ASSERT_TRUE(zero.ok()) << zero.status().ToString();
  EXPECT_EQ((*zero)->config().n_swa, 0);
}

TEST(Gemma3AdmissionTest, MissingPostNormIsNamed) {
  auto file = testing::SynthFile(Gemma3Spec());
  ASSERT_TRUE(file.ok());
  auto edited = Rewrite(**file, nullptr, [](TensorEdit& t) {
    if (t.name == "blk.1.post_ffw_norm.weight") t.drop = true;
  });
  ASSERT_TRUE(edited.ok());
  auto model = LlamaModel::Load(*edited);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), StatusCode::kMissingTensor);
  EXPECT_NE(model.status().message().find("blk.1.post_ffw_norm.weight"), std::string::npos)
      << model.status().message();
}

TEST(Gemma3AdmissionTest, BadWindowKeysAreNamed) {
  struct Case {
    const char* key;
    gguf::Value value;
    StatusCode code;
  };
  const Case cases[] = {
      // An array: llama.cpp silently keeps period 6; Tessera refuses rather than guess.
      {"gemma3.attention.sliding_window_pattern",
       gguf::Value::I32Array({1, 1, 0}),
       StatusCode::kUnsupported},
      {"gemma3.attention.sliding_window", gguf::Value::String("512"), StatusCode::kTypeMismatch},
      {"gemma3.attention.sliding_window", gguf::Value::I32(-4), StatusCode::kMalformed},
      {"gemma3.attention.sliding_window", gguf::Value::U32(1u << 30), StatusCode::kOutOfRange},
      {"gemma3.rope.freq_base_swa", gguf::Value::F32(-1.0f), StatusCode::kMalformed},
      {"gemma3.final_logit_softcapping", gguf::Value::F32(NAN), StatusCode::kMalformed},
  };
  for (const Case& c : cases) {
    auto model = LoadEdited(Gemma3Spec(), [&](KeyEdit& e) {
      if (e.key == c.key) e.drop = true;
    }, {{c.key, c.value}});
    ASSERT_FALSE(model.ok()) << c.key;
    EXPECT_EQ(model.status().code(), c.code) << model.status().ToString();
    EXPECT_NE(model.status().message().find(c.key), std::string::npos)
        << model.status().message();
  }
}

TEST(RopeScalingTest, LinearFactorScalesPositionsAsLlamaCpp) {
  SynthSpec spec = Gemma3Spec();
  spec.architecture = "llama";
  spec.sliding_window = 0;
  spec.head_dim = 0;
  struct Case {
    std::vector<KeyEdit> keys;
    float freq_scale;
  };
  const Case cases[] = {
      {{{"llama.rope.scaling.type", gguf::Value::String("linear")},
        {"llama.rope.scaling.factor", gguf::Value::F32(4.0f)}},
       0.25f},
      // llama.cpp's default type is linear, and the older key name is read too.
      {{{"llama.rope.scale_linear", gguf::Value::F32(2.0f)}}, 0.5f},
      // "none" never scales, whatever the factor.
      {{{"llama.rope.scaling.type", gguf::Value::String("none")},
        {"llama.rope.scaling.factor", gguf::Value::F32(8.0f)}},
       1.0f},
      {{{"llama.rope.scaling.type", gguf::Value::String("yarn")},
        {"llama.rope.scaling.factor", gguf::Value::F32(1.0f)}},
       1.0f},
  };
  for (const Case& c : cases) {
    auto model = LoadEdited(spec, nullptr, c.keys);
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    EXPECT_EQ((*model)->config().rope_freq_scale, c.freq_scale) << c.keys[0].key;
  }
  auto yarn = LoadEdited(spec, nullptr,
                         {{"llama.rope.scaling.type", gguf::Value::String("yarn")},
                          {"llama.rope.scaling.factor", gguf::Value::F32(4.0f)}});
  ASSERT_FALSE(yarn.ok());
  EXPECT_EQ(yarn.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(yarn.status().message().find("\"yarn\""), std::string::npos)
      << yarn.status().message();
}

}  // namespace
}  // namespace tessera::model
