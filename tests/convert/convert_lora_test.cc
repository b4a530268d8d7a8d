// `tessera convert --lora`: PEFT adapters to llama.cpp-convention GGUF adapters, bound to the
// base by its SHA-256; lora_B of q/k permuted like the base weights; every refusal.
#include "convert/convert_lora.h"

#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <random>
#include <string>

#include "base/mapped_file.h"
#include "base/sha256.h"
#include "convert/convert_model.h"
#include "gguf/reader.h"
#include "hf_fixture.h"
#include "hf_reference.h"
#include "tessera/engine.h"

namespace tessera::convert {
namespace {

using testing::json;
using testing::ModelShape;
using testing::TensorMap;

// A converted f32 base model (shared by the tests).
const std::string& BasePath() {
  static const std::string path = [] {
    ModelShape shape;
    const std::string dir =
        testing::WriteModelDir("lora_base", shape, testing::ModelTensors(shape));
    ConvertOptions o;
    o.dir = dir;
    o.out_path = dir + "/base.gguf";
    o.type = "f32";
    EXPECT_TRUE(ConvertCheckpoint(o).ok());
    return o.out_path;
  }();
  return path;
}

json AdapterConfig() {
  return {{"peft_type", "LORA"},
          {"r", 4},
          {"lora_alpha", 8},
          {"target_modules", {"q_proj", "k_proj", "v_proj"}},
          {"fan_in_fan_out", false},
          {"bias", "none"},
          {"modules_to_save", nullptr},
          {"use_dora", false},
          {"use_rslora", false},
          {"task_type", "CAUSAL_LM"}};
}

TensorMap AdapterTensors() {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  auto make = [&](std::uint64_t rows, std::uint64_t cols) {
    testing::FixtureTensor t;
    t.shape = {rows, cols};
    t.values.resize(rows * cols);
    for (float& v : t.values) v = u(rng);
    return t;
  };
  TensorMap m;
  for (int i = 0; i < 2; ++i) {
    const std::string p = "base_model.model.model.layers." + std::to_string(i) + ".self_attn.";
    m[p + "q_proj.lora_A.weight"] = make(4, 64);
    m[p + "q_proj.lora_B.weight"] = make(64, 4);
    m[p + "k_proj.lora_A.weight"] = make(4, 64);
    m[p + "k_proj.lora_B.weight"] = make(32, 4);
    m[p + "v_proj.lora_A.weight"] = make(4, 64);
    m[p + "v_proj.lora_B.weight"] = make(32, 4);
  }
  return m;
}

std::string WriteAdapter(const std::string& tag, const json& config, const TensorMap& tensors) {
  const std::string dir = testing::MakeTempDir(tag);
  testing::WriteFile(dir + "/adapter_config.json", config.dump());
  testing::WriteFile(dir + "/adapter_model.safetensors", testing::SafetensorsBytes(tensors));
  return dir;
}

Result<LoraConvertReport> ConvertAdapter(const std::string& dir, const std::string& type = "f32") {
  LoraConvertOptions o;
  o.dir = dir;
  o.base_path = BasePath();
  o.out_path = dir + "/adapter.gguf";
  o.type = type;
  return ConvertLora(o);
}

std::vector<float> Floats(const gguf::TensorInfo& t) {
  std::vector<float> v(t.data.size() / 4);
  std::memcpy(v.data(), t.data.data(), t.data.size());
  return v;
}

TEST(ConvertLoraTest, WritesLlamaCppAdapterBoundToTheBase) {
  const TensorMap tensors = AdapterTensors();
  const std::string dir = WriteAdapter("ok", AdapterConfig(), tensors);
  Result<LoraConvertReport> r = ConvertAdapter(dir);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->n_modules, 6);
  Result<base::MappedFile> base_bytes = base::MappedFile::Open(BasePath());
  ASSERT_TRUE(base_bytes.ok());
  const std::string sha = base::Sha256Hex(base_bytes->bytes());

  Result<gguf::File> f = gguf::File::Open(dir + "/adapter.gguf");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(*f->GetString("general.architecture"), "llama");
  EXPECT_EQ(*f->GetString("general.type"), "adapter");
  EXPECT_EQ(*f->GetString("adapter.type"), "lora");
  EXPECT_FLOAT_EQ(*f->GetF32("adapter.lora.alpha"), 8.0f);
  EXPECT_EQ(*f->GetString(kAdapterBaseSha256), sha);
  EXPECT_EQ(r->base_sha256, sha);

  const gguf::TensorInfo* qa = f->FindTensor("blk.1.attn_q.weight.lora_a");
  const gguf::TensorInfo* qb = f->FindTensor("blk.1.attn_q.weight.lora_b");
  const gguf::TensorInfo* kb = f->FindTensor("blk.0.attn_k.weight.lora_b");
  const gguf::TensorInfo* vb = f->FindTensor("blk.0.attn_v.weight.lora_b");
  ASSERT_TRUE(qa && qb && kb && vb);
  EXPECT_EQ(qa->dims, (std::vector<std::uint64_t>{64, 4}));
  EXPECT_EQ(qb->dims, (std::vector<std::uint64_t>{4, 64}));
  EXPECT_EQ(kb->dims, (std::vector<std::uint64_t>{4, 32}));
  EXPECT_EQ(qa->type, tensor::DType::kF32);
  // lora_a is PEFT's lora_A as is.
  EXPECT_EQ(Floats(*qa),
            tensors.at("base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight").values);
  // lora_b rows are permuted per head like the base q/k rows (head_dim 16); v is not.
  auto check_b = [&](const gguf::TensorInfo& t, const std::string& hf, int n_rows, bool perm) {
    const std::vector<float> got = Floats(t);
    const std::vector<float>& want = tensors.at(hf).values;
    for (int row = 0; row < n_rows; ++row) {
      const int head = row / 16, j = row % 16;
      const int src = perm ? head * 16 + (j % 2) * 8 + j / 2 : row;
      for (int c = 0; c < 4; ++c) ASSERT_EQ(got[row * 4 + c], want[src * 4 + c]) << hf << row;
    }
  };
  check_b(*qb, "base_model.model.model.layers.1.self_attn.q_proj.lora_B.weight", 64, true);
  check_b(*kb, "base_model.model.model.layers.0.self_attn.k_proj.lora_B.weight", 32, true);
  check_b(*vb, "base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight", 32, false);

  Result<LoraConvertReport> f16 = ConvertAdapter(dir, "f16");
  ASSERT_TRUE(f16.ok()) << f16.status().ToString();
  Result<gguf::File> g = gguf::File::Open(dir + "/adapter.gguf");
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->FindTensor("blk.0.attn_v.weight.lora_a")->type, tensor::DType::kF16);
}

// End to end: the engine's log-probabilities with the converted adapter applied equal a
// transformers-style forward over the base tensors merged with W + (alpha / r) B A (in HF
// order, unpermuted), which checks the lora_B permutation against the base's.
TEST(ConvertLoraTest, EngineWithAdapterMatchesMergedReference) {
  const TensorMap adapter = AdapterTensors();
  const std::string dir = WriteAdapter("e2e", AdapterConfig(), adapter);
  ASSERT_TRUE(ConvertAdapter(dir).ok());
  ModelOptions mo;
  mo.n_threads = 1;
  Result<std::unique_ptr<Model>> model = Model::Open(BasePath(), mo);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  Result<std::shared_ptr<const Adapter>> lora = Adapter::Open(dir + "/adapter.gguf", **model);
  ASSERT_TRUE(lora.ok()) << lora.status().ToString();
  SessionOptions so;
  so.adapters.push_back({*lora, 1.0f});
  Result<std::unique_ptr<Session>> session = (*model)->NewSession(so);
  ASSERT_TRUE(session.ok()) << session.status().ToString();
  const std::vector<std::int32_t> prompt = {1, 263, 268};
  const std::vector<std::int32_t> cont = {5, 100, 264, 42, 7};
  Result<ScoreResult> score = (*session)->Score(prompt, cont);
  ASSERT_TRUE(score.ok()) << score.status().ToString();

  ModelShape shape;
  TensorMap merged = testing::ModelTensors(shape);  // the same seed as the base
  const double s = 8.0 / 4.0;                       // alpha / r
  for (int i = 0; i < 2; ++i) {
    for (const char* m : {"q_proj", "k_proj", "v_proj"}) {
      const std::string mod = "model.layers." + std::to_string(i) + ".self_attn." + m;
      const auto& a = adapter.at("base_model.model." + mod + ".lora_A.weight");
      const auto& b = adapter.at("base_model.model." + mod + ".lora_B.weight");
      auto& w = merged.at(mod + ".weight");
      const std::uint64_t out = b.shape[0], r = b.shape[1], in = a.shape[1];
      for (std::uint64_t o = 0; o < out; ++o) {
        for (std::uint64_t c = 0; c < in; ++c) {
          double d = 0.0;
          for (std::uint64_t k = 0; k < r; ++k)
            d += double{b.values[o * r + k]} * a.values[k * in + c];
          w.values[o * in + c] = static_cast<float>(w.values[o * in + c] + s * d);
        }
      }
    }
  }
  std::vector<std::int32_t> all = prompt;
  all.insert(all.end(), cont.begin(), cont.end());
  const auto ref = testing::ReferenceLogits(shape, merged, all);
  for (std::size_t i = 0; i < cont.size(); ++i) {
    EXPECT_NEAR(score->tokens[i].logprob, testing::LogProb(ref[prompt.size() - 1 + i], cont[i]),
                5e-3)
        << "token " << i;
  }
}

struct LoraCase {
  std::string name;
  std::function<void(json&, TensorMap&)> edit;
  StatusCode code;
  std::string message;
};

TEST(ConvertLoraTest, RefusalsNameTheProblemAndWriteNothing) {
  const LoraCase cases[] = {
      {"fan_in_fan_out", [](json& c, TensorMap&) { c["fan_in_fan_out"] = true; },
       StatusCode::kUnsupported, "fan_in_fan_out"},
      {"dora", [](json& c, TensorMap&) { c["use_dora"] = true; }, StatusCode::kUnsupported,
       "use_dora"},
      {"rslora", [](json& c, TensorMap&) { c["use_rslora"] = true; }, StatusCode::kUnsupported,
       "use_rslora"},
      {"bias", [](json& c, TensorMap&) { c["bias"] = "all"; }, StatusCode::kUnsupported, "bias"},
      {"modules_to_save", [](json& c, TensorMap&) { c["modules_to_save"] = {"lm_head"}; },
       StatusCode::kUnsupported, "modules_to_save"},
      {"not_lora", [](json& c, TensorMap&) { c["peft_type"] = "IA3"; }, StatusCode::kUnsupported,
       "IA3"},
      {"target_not_in_base",
       [](json&, TensorMap& t) {
         t["base_model.model.model.layers.5.self_attn.q_proj.lora_A.weight"] = {
             "F32", {4, 64}, std::vector<float>(256)};
         t["base_model.model.model.layers.5.self_attn.q_proj.lora_B.weight"] = {
             "F32", {64, 4}, std::vector<float>(256)};
       },
       StatusCode::kIncompatible, "blk.5.attn_q.weight"},
      {"shape_mismatch",
       [](json&, TensorMap& t) {
         t["base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight"] = {
             "F32", {64, 4}, std::vector<float>(256)};
       },
       StatusCode::kShapeMismatch, "blk.0.attn_v.weight"},
      {"rank_mismatch", [](json& c, TensorMap&) { c["r"] = 8; }, StatusCode::kShapeMismatch, "r 8"},
      {"not_targeted",
       [](json& c, TensorMap&) {
         c["target_modules"] = {"q_proj", "k_proj"};
       },
       StatusCode::kIncompatible, "v_proj"},
      {"missing_b",
       [](json&, TensorMap& t) {
         t.erase("base_model.model.model.layers.0.self_attn.k_proj.lora_B.weight");
       },
       StatusCode::kMissingTensor, "k_proj.lora_B.weight"},
      {"unexpected_tensor",
       [](json&, TensorMap& t) {
         t["base_model.model.lm_head.weight"] = {"F32", {2}, {1.0f, 2.0f}};
       },
       StatusCode::kUnsupported, "base_model.model.lm_head.weight"},
      {"embedding_module",
       [](json&, TensorMap& t) {
         t["base_model.model.model.embed_tokens.lora_A.weight"] = {"F32", {2}, {1.0f, 2.0f}};
       },
       StatusCode::kUnsupported, "model.embed_tokens"},
  };
  for (const LoraCase& c : cases) {
    SCOPED_TRACE(c.name);
    json config = AdapterConfig();
    TensorMap tensors = AdapterTensors();
    c.edit(config, tensors);
    const std::string dir = WriteAdapter(c.name, config, tensors);
    Result<LoraConvertReport> r = ConvertAdapter(dir);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), c.code) << r.status().ToString();
    EXPECT_NE(r.status().message().find(c.message), std::string::npos) << r.status().ToString();
    EXPECT_FALSE(testing::Exists(dir + "/adapter.gguf"));
    testing::RemoveDir(dir);
  }
  // A base of another architecture name is refused by the base's own checks; a type other than
  // f32/f16 is invalid.
  const std::string dir = WriteAdapter("bad_type", AdapterConfig(), AdapterTensors());
  Result<LoraConvertReport> r = ConvertAdapter(dir, "q8_0");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tessera::convert
