// qwen2-specific admission: the architecture's keys, its required Q/K/V biases and their shapes.
#include <gtest/gtest.h>

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

SynthSpec Qwen2Spec() {
  SynthSpec spec;
  spec.architecture = "qwen2";
  spec.n_vocab = 300;
  spec.n_embd = 32;
  spec.n_head = 4;
  spec.n_head_kv = 2;
  spec.n_ff = 64;
  spec.n_layer = 2;
  spec.n_ctx = 16;
  spec.tied_output = true;
  spec.seed = 9;
  return spec;
}

TEST(Qwen2AdmissionTest, LoadsWithNeoxRopeAndBiases) {
  auto file = testing::SynthFile(Qwen2Spec());
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  auto model = LlamaModel::Load(*file);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  const LlamaConfig& c = (*model)->config();
  EXPECT_EQ(c.architecture, "qwen2");
  EXPECT_EQ(c.rope_mode, kernels::RopeMode::kNeox);
  EXPECT_TRUE(c.qkv_bias);
  ASSERT_EQ((*model)->layers().size(), 2u);
  EXPECT_EQ((*model)->layers()[1].bq.size(), 32u);
  EXPECT_EQ((*model)->layers()[1].bk.size(), 16u);
  EXPECT_EQ((*model)->layers()[1].bv.size(), 16u);
}

TEST(Qwen2AdmissionTest, LlamaHasNoBiasesAndNormalRope) {
  SynthSpec spec = Qwen2Spec();
  spec.architecture = "llama";
  auto file = testing::SynthFile(spec);
  ASSERT_TRUE(file.ok());
  auto model = LlamaModel::Load(*file);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ((*model)->config().rope_mode, kernels::RopeMode::kNormal);
  EXPECT_TRUE((*model)->layers()[0].bq.empty());
}

TEST(Qwen2AdmissionTest, MissingBiasIsNamed) {
  auto file = testing::SynthFile(Qwen2Spec());
  ASSERT_TRUE(file.ok());
  auto edited = Rewrite(**file, nullptr, [](TensorEdit& t) {
    if (t.name == "blk.1.attn_k.bias") t.drop = true;
  });
  ASSERT_TRUE(edited.ok()) << edited.status().ToString();
  auto model = LlamaModel::Load(*edited);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), StatusCode::kMissingTensor);
  EXPECT_NE(model.status().message().find("blk.1.attn_k.bias"), std::string::npos)
      << model.status().message();
}

TEST(Qwen2AdmissionTest, MisShapedBiasNamesBothShapes) {
  auto file = testing::SynthFile(Qwen2Spec());
  ASSERT_TRUE(file.ok());
  auto edited = Rewrite(**file, nullptr, [](TensorEdit& t) {
    if (t.name == "blk.0.attn_v.bias") {
      t.dims = {32};
      t.bytes.assign(32 * sizeof(float), 0);
    }
  });
  ASSERT_TRUE(edited.ok()) << edited.status().ToString();
  auto model = LlamaModel::Load(*edited);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), StatusCode::kShapeMismatch);
  EXPECT_NE(model.status().message().find("[32]"), std::string::npos) << model.status().message();
  EXPECT_NE(model.status().message().find("[16]"), std::string::npos) << model.status().message();
}

TEST(Qwen2AdmissionTest, KeysAreReadUnderTheArchitecturePrefix) {
  auto file = testing::SynthFile(Qwen2Spec());
  ASSERT_TRUE(file.ok());
  auto edited = Rewrite(**file, [](KeyEdit& e) {
    if (e.key == "qwen2.block_count") e.drop = true;
  }, nullptr);
  ASSERT_TRUE(edited.ok());
  auto model = LlamaModel::Load(*edited);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), StatusCode::kNotFound);
  EXPECT_NE(model.status().message().find("qwen2.block_count"), std::string::npos)
      << model.status().message();
}

TEST(Qwen2AdmissionTest, UnknownArchitectureListsTheSupportedOnes) {
  auto file = testing::SynthFile(Qwen2Spec());
  ASSERT_TRUE(file.ok());
  auto edited = Rewrite(**file, [](KeyEdit& e) {
    if (e.key == "general.architecture") e.value = gguf::Value::String("phi3");
  }, nullptr);
  ASSERT_TRUE(edited.ok());
  auto model = LlamaModel::Load(*edited);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(model.status().message().find("\"phi3\""), std::string::npos);
  EXPECT_NE(model.status().message().find(SupportedArchitectureNames()), std::string::npos)
      << model.status().message();
  EXPECT_EQ(FindArchitecture("phi3"), nullptr);
  ASSERT_NE(FindArchitecture("qwen2"), nullptr);
}

}  // namespace
}  // namespace tessera::model
