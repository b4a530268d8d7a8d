// Admission errors of LlamaModel::Load and Forward: each bad file or call gets its own code and
// a message naming the offending tensor, key or value.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "model/llama.h"
#include "model/synth.h"
#include "model_test_util.h"

namespace tessera::model {
namespace {

using testing::KeyEdit;
using testing::Rewrite;
using testing::TensorEdit;

SynthSpec SmallSpec() {
  SynthSpec spec;
  spec.n_vocab = 300;
  spec.n_embd = 32;
  spec.n_head = 4;
  spec.n_head_kv = 2;
  spec.n_ff = 64;
  spec.n_layer = 2;
  spec.n_ctx = 16;
  spec.matrix_type = tensor::DType::kQ8_0;
  spec.seed = 5;
  return spec;
}

class LlamaAdmissionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto file = testing::SynthFile(SmallSpec());
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    file_ = *file;
  }

  // Loads a rewritten copy of the good file.
  Status LoadEdited(const std::function<void(KeyEdit&)>& edit_key,
                    const std::function<void(TensorEdit&)>& edit_tensor,
                    const std::vector<KeyEdit>& extra = {}) {
    auto edited = Rewrite(*file_, edit_key, edit_tensor, extra);
    if (!edited.ok()) return edited.status().WithContext("rewrite");
    auto model = LlamaModel::Load(*edited);
    return model.ok() ? Status::Ok() : model.status();
  }

  // Sets integer key `key` to v.
  Status LoadWithKey(const std::string& key, std::uint32_t v) {
    return LoadEdited(
        [&](KeyEdit& e) {
          if (e.key == key) e.value = gguf::Value::U32(v);
        },
        nullptr);
  }

  std::shared_ptr<const gguf::File> file_;
};

TEST_F(LlamaAdmissionTest, GoodFileLoads) {
  auto model = LlamaModel::Load(file_);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ((*model)->config().n_head_kv, 2);
  EXPECT_FALSE((*model)->tied_output());
  EXPECT_GT((*model)->mapped_weight_bytes(), 0u);
  EXPECT_TRUE(LoadEdited(nullptr, nullptr).ok());  // the rewriter itself changes nothing
}

TEST_F(LlamaAdmissionTest, MissingTensorIsNamed) {
  Status st = LoadEdited(nullptr, [](TensorEdit& t) {
    if (t.name == "blk.0.ffn_up.weight") t.drop = true;
  });
  EXPECT_EQ(st.code(), StatusCode::kMissingTensor) << st.ToString();
  EXPECT_NE(st.message().find("blk.0.ffn_up.weight"), std::string::npos) << st.message();
}

TEST_F(LlamaAdmissionTest, MissingOutputMeansTied) {
  auto edited = Rewrite(*file_, nullptr, [](TensorEdit& t) {
    if (t.name == "output.weight") t.drop = true;
  });
  ASSERT_TRUE(edited.ok()) << edited.status().ToString();
  auto model = LlamaModel::Load(*edited);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_TRUE((*model)->tied_output());
  EXPECT_EQ((*model)->output().data.data(), (*model)->token_embd().data.data());
}

TEST_F(LlamaAdmissionTest, WrongShapeNamesBothShapes) {
  // attn_q as [32, 16] (16 rows of 32 Q8_0 elements) instead of [32, 32].
  Status st = LoadEdited(nullptr, [](TensorEdit& t) {
    if (t.name == "blk.1.attn_q.weight") {
      t.dims = {32, 16};
      t.bytes.resize(t.bytes.size() / 2);
    }
  });
  EXPECT_EQ(st.code(), StatusCode::kShapeMismatch) << st.ToString();
  EXPECT_NE(st.message().find("blk.1.attn_q.weight"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("[32, 16]"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("[32, 32]"), std::string::npos) << st.message();
}

TEST_F(LlamaAdmissionTest, UncomputableTypeIsUnsupported) {
  // MXFP4 has 32-element blocks of 17 bytes, a valid GGUF type the kernels do not compute.
  ASSERT_FALSE(tensor::IsComputeSupported(tensor::DType::kMXFP4));
  Status st = LoadEdited(nullptr, [](TensorEdit& t) {
    if (t.name == "blk.0.ffn_gate.weight") {
      t.type = tensor::DType::kMXFP4;
      t.bytes.assign(static_cast<std::size_t>(t.dims[0] / 32 * 17 * t.dims[1]), 0);
    }
  });
  EXPECT_EQ(st.code(), StatusCode::kUnsupported) << st.ToString();
  EXPECT_NE(st.message().find("blk.0.ffn_gate.weight"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("mxfp4"), std::string::npos) << st.message();
}

TEST_F(LlamaAdmissionTest, WrongArchitectureIsUnsupported) {
  Status st = LoadEdited(
      [](KeyEdit& e) {
        if (e.key == "general.architecture") e.value = gguf::Value::String("mamba");
      },
      nullptr);
  EXPECT_EQ(st.code(), StatusCode::kUnsupported) << st.ToString();
  EXPECT_NE(st.message().find("mamba"), std::string::npos) << st.message();
}

TEST_F(LlamaAdmissionTest, BadHeadCounts) {
  // 32 is not divisible by 3.
  Status st = LoadWithKey("llama.attention.head_count", 3);
  EXPECT_EQ(st.code(), StatusCode::kMalformed) << st.ToString();
  EXPECT_NE(st.message().find("head_count"), std::string::npos) << st.message();
  // 4 query heads are not a multiple of 3 kv heads.
  st = LoadWithKey("llama.attention.head_count_kv", 3);
  EXPECT_EQ(st.code(), StatusCode::kMalformed) << st.ToString();
  EXPECT_NE(st.message().find("head_count_kv 3"), std::string::npos) << st.message();
  // Zero heads.
  st = LoadWithKey("llama.attention.head_count", 0);
  EXPECT_EQ(st.code(), StatusCode::kMalformed) << st.ToString();
  EXPECT_NE(st.message().find("llama.attention.head_count"), std::string::npos) << st.message();
  // Above the sane bound.
  st = LoadWithKey("llama.attention.head_count", 1u << 20);
  EXPECT_EQ(st.code(), StatusCode::kOutOfRange) << st.ToString();
  // Odd rope dimension count.
  st = LoadWithKey("llama.rope.dimension_count", 7);
  EXPECT_EQ(st.code(), StatusCode::kMalformed) << st.ToString();
  EXPECT_NE(st.message().find("rope.dimension_count 7"), std::string::npos) << st.message();
  // A missing required key.
  st = LoadEdited(
      [](KeyEdit& e) {
        if (e.key == "llama.block_count") e.drop = true;
      },
      nullptr);
  EXPECT_EQ(st.code(), StatusCode::kNotFound) << st.ToString();
  EXPECT_NE(st.message().find("llama.block_count"), std::string::npos) << st.message();
}

TEST_F(LlamaAdmissionTest, ForwardRejectsBadTokensAndPositions) {
  auto model = LlamaModel::Load(file_);
  ASSERT_TRUE(model.ok());
  const LlamaModel& m = **model;
  auto cache = KvCache::Create(m.config(), 8);
  auto scratch = ForwardScratch::Create(m, 4, 8);
  ASSERT_TRUE(cache.ok() && scratch.ok());
  std::vector<float> logits(8 * 300);

  const std::vector<std::int32_t> bad_token = {1, 300};
  Status st = Forward(m, *cache, *scratch, bad_token, 0, LogitsMode::kLast, logits);
  EXPECT_EQ(st.code(), StatusCode::kOutOfRange) << st.ToString();
  EXPECT_NE(st.message().find("300"), std::string::npos) << st.message();
  const std::vector<std::int32_t> negative = {-1};
  EXPECT_EQ(Forward(m, *cache, *scratch, negative, 0, LogitsMode::kLast, logits).code(),
            StatusCode::kOutOfRange);

  const std::vector<std::int32_t> three = {1, 2, 3};
  st = Forward(m, *cache, *scratch, three, 6, LogitsMode::kLast, logits);
  EXPECT_EQ(st.code(), StatusCode::kOutOfRange) << st.ToString();
  EXPECT_NE(st.message().find("start_pos 6"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("n_ctx 8"), std::string::npos) << st.message();
  EXPECT_TRUE(Forward(m, *cache, *scratch, three, 5, LogitsMode::kLast, logits).ok());

  EXPECT_EQ(Forward(m, *cache, *scratch, three, -1, LogitsMode::kLast, logits).code(),
            StatusCode::kOutOfRange);
  EXPECT_EQ(Forward(m, *cache, *scratch, {}, 0, LogitsMode::kLast, logits).code(),
            StatusCode::kInvalidArgument);
  std::vector<float> small(2 * 300);
  EXPECT_EQ(Forward(m, *cache, *scratch, three, 0, LogitsMode::kAll, small).code(),
            StatusCode::kInvalidArgument);

  EXPECT_EQ(KvCache::Create(m.config(), 17).status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(ForwardScratch::Create(m, 0, 8).status().code(), StatusCode::kOutOfRange);
}

}  // namespace
}  // namespace tessera::model
