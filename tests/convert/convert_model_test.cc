// `tessera convert` on generated Hugging Face-style checkpoints: tensor names and shapes, the
// llama q/k row permutation (row by row, and end to end against a transformers-style reference
// forward), quantized outputs that load and generate, sharded checkpoints, and the metadata.
#include "convert/convert_model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "gguf/reader.h"
#include "hf_fixture.h"
#include "hf_reference.h"
#include "tessera/engine.h"

namespace tessera::convert {
namespace {

using testing::ModelShape;
using testing::TensorMap;

Result<ConvertReport> Convert(const std::string& dir, const std::string& out,
                              const std::string& type = "f32") {
  ConvertOptions o;
  o.dir = dir;
  o.out_path = out;
  o.type = type;
  return ConvertCheckpoint(o);
}

std::vector<float> RowsOf(const gguf::TensorInfo& t) {
  std::vector<float> v(t.data.size() / 4);
  std::memcpy(v.data(), t.data.data(), t.data.size());
  return v;
}

TEST(ConvertModelTest, LlamaNamesShapesAndMetadata) {
  ModelShape shape;
  const TensorMap tensors = testing::ModelTensors(shape);
  const std::string dir = testing::WriteModelDir("names", shape, tensors);
  const std::string out = dir + "/out.gguf";
  Result<ConvertReport> r = Convert(dir, out);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->architecture, "llama");
  EXPECT_EQ(r->n_tensors, 3 + 9 * shape.n_layer);

  Result<gguf::File> f = gguf::File::Open(out);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(*f->GetString("general.architecture"), "llama");
  EXPECT_EQ(*f->GetString("general.name"), DirectoryName(dir));
  EXPECT_EQ(*f->GetU32("general.file_type"), 0u);
  EXPECT_EQ(*f->GetU32("llama.context_length"), 64u);
  EXPECT_EQ(*f->GetU32("llama.embedding_length"), 64u);
  EXPECT_EQ(*f->GetU32("llama.block_count"), 2u);
  EXPECT_EQ(*f->GetU32("llama.feed_forward_length"), 96u);
  EXPECT_EQ(*f->GetU32("llama.attention.head_count"), 4u);
  EXPECT_EQ(*f->GetU32("llama.attention.head_count_kv"), 2u);
  EXPECT_EQ(*f->GetU32("llama.rope.dimension_count"), 16u);
  EXPECT_FLOAT_EQ(*f->GetF32("llama.rope.freq_base"), 10000.0f);
  EXPECT_EQ(*f->GetString("tokenizer.ggml.model"), "llama");
  EXPECT_EQ((*f->GetArray("tokenizer.ggml.tokens"))->items.size(), 300u);  // padded
  EXPECT_EQ((*f->GetArray("tokenizer.ggml.tokens"))->items[299].string(), "[PAD299]");
  EXPECT_EQ(*f->GetU32("tokenizer.ggml.bos_token_id"), 1u);
  EXPECT_EQ(*f->GetU32("tokenizer.ggml.eos_token_id"), 2u);
  EXPECT_EQ(f->Find("tokenizer.ggml.padding_token_id"), nullptr);  // pad_id -1

  struct Want {
    const char* name;
    std::vector<std::uint64_t> dims;
  };
  const Want wants[] = {
      {"token_embd.weight", {64, 300}},  {"output.weight", {64, 300}},
      {"output_norm.weight", {64}},      {"blk.1.attn_norm.weight", {64}},
      {"blk.1.attn_q.weight", {64, 64}}, {"blk.1.attn_k.weight", {64, 32}},
      {"blk.1.attn_v.weight", {64, 32}}, {"blk.1.attn_output.weight", {64, 64}},
      {"blk.1.ffn_norm.weight", {64}},   {"blk.1.ffn_gate.weight", {64, 96}},
      {"blk.1.ffn_up.weight", {64, 96}}, {"blk.1.ffn_down.weight", {96, 64}},
  };
  for (const Want& w : wants) {
    const gguf::TensorInfo* t = f->FindTensor(w.name);
    ASSERT_NE(t, nullptr) << w.name;
    EXPECT_EQ(t->dims, w.dims) << w.name;
    EXPECT_EQ(t->type, tensor::DType::kF32) << w.name;
  }
  EXPECT_EQ(f->FindTensor("blk.0.attn_q.bias"), nullptr);
}

// GGUF row 2i + k of each head is HF row k * head_dim/2 + i of that head (q over 4 heads, k over
// the 2 kv heads); v is not permuted.
TEST(ConvertModelTest, LlamaPermutesQueryAndKeyRows) {
  ModelShape shape;
  const TensorMap tensors = testing::ModelTensors(shape);
  const std::string dir = testing::WriteModelDir("permute", shape, tensors);
  const std::string out = dir + "/out.gguf";
  ASSERT_TRUE(Convert(dir, out).ok());
  Result<gguf::File> f = gguf::File::Open(out);
  ASSERT_TRUE(f.ok());
  const int hd = 16, cols = 64;
  auto check = [&](const char* gguf_name, const char* hf_name, int n_rows, bool permuted) {
    const std::vector<float> got = RowsOf(*f->FindTensor(gguf_name));
    const std::vector<float>& hf = tensors.at(hf_name).values;
    for (int r = 0; r < n_rows; ++r) {
      const int head = r / hd, j = r % hd;
      const int src = permuted ? head * hd + (j % 2) * (hd / 2) + j / 2 : r;
      for (int c = 0; c < cols; ++c) {
        ASSERT_EQ(got[r * cols + c], hf[src * cols + c]) << gguf_name << " row " << r;
      }
    }
  };
  check("blk.0.attn_q.weight", "model.layers.0.self_attn.q_proj.weight", 64, true);
  check("blk.1.attn_k.weight", "model.layers.1.self_attn.k_proj.weight", 32, true);
  check("blk.1.attn_v.weight", "model.layers.1.self_attn.v_proj.weight", 32, false);
  // Spot check of the formula on the first head: row 1 is HF row 8, row 2 is HF row 1.
  const std::vector<float> q = RowsOf(*f->FindTensor("blk.0.attn_q.weight"));
  const std::vector<float>& hq = tensors.at("model.layers.0.self_attn.q_proj.weight").values;
  EXPECT_EQ(q[1 * cols], hq[8 * cols]);
  EXPECT_EQ(q[2 * cols], hq[1 * cols]);
}

// The engine's log-probabilities on the converted model equal those of a transformers-style
// forward pass over the original (unpermuted) tensors.
void ExpectMatchesReference(const ModelShape& shape, const std::string& tag) {
  const TensorMap tensors = testing::ModelTensors(shape);
  const std::string dir = testing::WriteModelDir(tag, shape, tensors);
  const std::string out = dir + "/out.gguf";
  Result<ConvertReport> r = Convert(dir, out);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ModelOptions mo;
  mo.n_threads = 1;
  Result<std::unique_ptr<Model>> model = Model::Open(out, mo);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  Result<std::unique_ptr<Session>> session = (*model)->NewSession();
  ASSERT_TRUE(session.ok());
  const std::vector<std::int32_t> prompt = {1, 263, 268};
  const std::vector<std::int32_t> cont = {5, 100, 264, 42, 7, 299};
  Result<ScoreResult> score = (*session)->Score(prompt, cont);
  ASSERT_TRUE(score.ok()) << score.status().ToString();
  std::vector<std::int32_t> all = prompt;
  all.insert(all.end(), cont.begin(), cont.end());
  const auto ref = testing::ReferenceLogits(shape, tensors, all);
  for (std::size_t i = 0; i < cont.size(); ++i) {
    const double want = testing::LogProb(ref[prompt.size() - 1 + i], cont[i]);
    EXPECT_NEAR(score->tokens[i].logprob, want, 2e-3) << tag << " token " << i;
  }
}

TEST(ConvertModelTest, LlamaLogitsMatchTransformersReference) {
  ExpectMatchesReference(ModelShape{}, "ref_llama");
}

TEST(ConvertModelTest, TiedLlamaLogitsMatchTransformersReference) {
  ModelShape shape;
  shape.tied = true;
  shape.seed = 11;
  ExpectMatchesReference(shape, "ref_llama_tied");
}

TEST(ConvertModelTest, Qwen2LogitsMatchTransformersReference) {
  ModelShape shape;
  shape.arch = "qwen2";
  shape.tied = true;
  shape.seed = 3;
  ExpectMatchesReference(shape, "ref_qwen2");
}

TEST(ConvertModelTest, Qwen3LogitsMatchTransformersReference) {
  // Heads of 32 on a 64-wide model with 4 query heads (Q is 128 wide), as Qwen3's config sets
  // head_dim; query and key head norms.
  ModelShape shape;
  shape.arch = "qwen3";
  shape.head_dim = 32;
  shape.tied = true;
  shape.seed = 5;
  ExpectMatchesReference(shape, "ref_qwen3");
}

TEST(ConvertModelTest, Gemma3LogitsMatchTransformersReference) {
  // Gemma3ForCausalLM with 3 layers (sliding, sliding, full), a window of 3 over the 9-token
  // run, heads of 32 on a 64-wide model, tied embeddings.
  ModelShape shape;
  shape.arch = "gemma3";
  shape.head_dim = 32;
  shape.n_layer = 3;
  shape.tied = true;
  shape.seed = 9;
  ExpectMatchesReference(shape, "ref_gemma3");
  // Soft-capped logits and linear RoPE scaling of the full-attention layer, pattern 2.
  shape.softcap = 2.0;
  shape.rope_linear = 4.0;
  shape.pattern = 2;
  shape.tied = false;
  ExpectMatchesReference(shape, "ref_gemma3_cap");
}

TEST(ConvertModelTest, Gemma3NormsAreStoredAsOnePlusWeight) {
  ModelShape shape;
  shape.arch = "gemma3";
  shape.head_dim = 32;
  shape.n_layer = 3;  // sliding, sliding, full: period 3
  shape.tied = true;
  const TensorMap tensors = testing::ModelTensors(shape);
  const std::string dir = testing::WriteModelDir("gemma3_keys", shape, tensors);
  const std::string out = dir + "/out.gguf";
  Result<ConvertReport> r = Convert(dir, out);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  Result<gguf::File> f = gguf::File::Open(out);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(*f->GetString("general.architecture"), "gemma3");
  EXPECT_EQ(*f->GetU32("gemma3.attention.sliding_window"), 3u);
  EXPECT_EQ(*f->GetU32("gemma3.attention.sliding_window_pattern"), 3u);
  EXPECT_EQ(*f->GetU32("gemma3.attention.key_length"), 32u);
  EXPECT_EQ(*f->GetF32("gemma3.rope.freq_base_swa"), 100.0f);
  EXPECT_EQ(*f->GetF32("gemma3.rope.freq_base"), 1000000.0f);
  EXPECT_EQ(f->FindTensor("output.weight"), nullptr);
  // Two layers, both sliding (layer_types lists no full layer): period 0, every layer windowed.
  shape.n_layer = 2;
  const std::string dir2 = testing::WriteModelDir("gemma3_all_sliding", shape,
                                                  testing::ModelTensors(shape));
  ASSERT_TRUE(Convert(dir2, dir2 + "/out.gguf").ok());
  Result<gguf::File> f2 = gguf::File::Open(dir2 + "/out.gguf");
  ASSERT_TRUE(f2.ok());
  EXPECT_EQ(*f2->GetU32("gemma3.attention.sliding_window_pattern"), 0u);
  const struct {
    const char* hf;
    const char* gguf;
  } norms[] = {{"model.layers.1.post_attention_layernorm.weight", "blk.1.post_attention_norm.weight"},
               {"model.layers.1.pre_feedforward_layernorm.weight", "blk.1.ffn_norm.weight"},
               {"model.layers.0.post_feedforward_layernorm.weight", "blk.0.post_ffw_norm.weight"},
               {"model.layers.0.self_attn.k_norm.weight", "blk.0.attn_k_norm.weight"},
               {"model.norm.weight", "output_norm.weight"}};
  for (const auto& n : norms) {
    const gguf::TensorInfo* t = f->FindTensor(n.gguf);
    ASSERT_NE(t, nullptr) << n.gguf;
    const std::vector<float> got = RowsOf(*t);
    const std::vector<float>& hf = tensors.at(n.hf).values;
    ASSERT_EQ(got.size(), hf.size()) << n.gguf;
    for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], hf[i] + 1.0f) << n.gguf;
  }
}

TEST(ConvertModelTest, QuantizedTypesLoadAndGenerate) {
  ModelShape shape;
  const TensorMap tensors = testing::ModelTensors(shape);
  const std::string dir = testing::WriteModelDir("types", shape, tensors);
  for (const char* type : {"f16", "q8_0", "q4_k_m"}) {
    const std::string out = dir + "/out-" + type + ".gguf";
    Result<ConvertReport> r = Convert(dir, out, type);
    ASSERT_TRUE(r.ok()) << type << ": " << r.status().ToString();
    Result<gguf::File> f = gguf::File::Open(out);
    ASSERT_TRUE(f.ok());
    EXPECT_EQ(f->FindTensor("output_norm.weight")->type, tensor::DType::kF32) << type;
    if (std::string(type) == "f16") {
      EXPECT_EQ(f->FindTensor("blk.0.attn_q.weight")->type, tensor::DType::kF16);
      EXPECT_EQ(*f->GetU32("general.file_type"), 1u);
    } else if (std::string(type) == "q8_0") {
      EXPECT_EQ(f->FindTensor("blk.0.ffn_down.weight")->type, tensor::DType::kQ8_0);
      EXPECT_EQ(*f->GetU32("general.file_type"), 7u);
    } else {
      // Rows of 64 fit no K-quant: the mix falls back to its 32-wide types, with notes.
      EXPECT_EQ(f->FindTensor("blk.0.attn_q.weight")->type, tensor::DType::kQ5_0);
      EXPECT_FALSE(r->notes.empty());
    }
    ModelOptions mo;
    mo.n_threads = 1;
    Result<std::unique_ptr<Model>> model = Model::Open(out, mo);
    ASSERT_TRUE(model.ok()) << type << ": " << model.status().ToString();
    Result<std::unique_ptr<Session>> session = (*model)->NewSession();
    ASSERT_TRUE(session.ok());
    GenerateOptions g;
    g.max_tokens = 2;
    Result<GenerateResult> gen = (*session)->Generate("hello world", g);
    ASSERT_TRUE(gen.ok()) << type << ": " << gen.status().ToString();
    EXPECT_EQ(gen->tokens.size(), 2u) << type;
  }
}

TEST(ConvertModelTest, SentencePieceTokenizerRoundTrips) {
  ModelShape shape;
  const std::string dir = testing::WriteModelDir("spm", shape, testing::ModelTensors(shape));
  const std::string out = dir + "/out.gguf";
  ASSERT_TRUE(Convert(dir, out, "f16").ok());
  Result<std::unique_ptr<Model>> model = Model::Open(out);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  Result<std::vector<std::int32_t>> ids = (*model)->Tokenize("hello world", true, false);
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, (std::vector<std::int32_t>{1, testing::kSpmHello, testing::kSpmWorld}));
  // "i" is no piece: byte fallback to <0x69> (id 3 + 0x69).
  ids = (*model)->Tokenize("hi", true, false);
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, (std::vector<std::int32_t>{1, 259, 3 + 0x69}));
  std::vector<std::int32_t> text_ids = {testing::kSpmHello, testing::kSpmWorld};
  EXPECT_EQ(*(*model)->Detokenize(text_ids), "hello world");
}

// A CHAR SentencePiece model (as models/train trains): one token per character, byte fallback
// for the others.
TEST(ConvertModelTest, CharSentencePieceModelConverts) {
  ModelShape shape;
  const std::string dir = testing::WriteModelDir("spm_char", shape, testing::ModelTensors(shape));
  testing::SpmOptions so;
  so.model_type = 4;
  so.char_pieces = true;
  testing::WriteFile(dir + "/tokenizer.model", testing::SpmModelBytes(so));
  const std::string out = dir + "/out.gguf";
  Result<ConvertReport> r = Convert(dir, out, "f16");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  Result<std::unique_ptr<Model>> model = Model::Open(out);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  Result<std::vector<std::int32_t>> ids = (*model)->Tokenize("hello wx", true, false);
  ASSERT_TRUE(ids.ok());
  // ▁ h e l l o ▁ w <0x78>
  EXPECT_EQ(*ids, (std::vector<std::int32_t>{1, 259, 260, 261, 262, 262, 263, 259, 264, 3 + 0x78}));
  // A CHAR model with a multi-character piece is refused.
  so.char_pieces = false;
  testing::WriteFile(dir + "/tokenizer.model", testing::SpmModelBytes(so));
  r = Convert(dir, dir + "/out2.gguf", "f16");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(r.status().message().find("longer than one character"), std::string::npos);
}

TEST(ConvertModelTest, ByteLevelBpeTokenizerConvertsAndTokenizes) {
  ModelShape shape;
  shape.arch = "qwen2";
  shape.tied = true;
  const std::string dir = testing::WriteModelDir("bpe", shape, testing::ModelTensors(shape));
  // A non-special added token: user defined, U+2581 stored as spaces (as llama.cpp).
  testing::json tj = testing::BpeTokenizerJson();
  tj["added_tokens"].push_back(
      {{"id", 262}, {"content", "\xe2\x96\x81my\xe2\x96\x81tok"}, {"special", false}});
  testing::WriteFile(dir + "/tokenizer.json", tj.dump());
  const std::string out = dir + "/out.gguf";
  ASSERT_TRUE(Convert(dir, out, "f16").ok());
  Result<gguf::File> f = gguf::File::Open(out);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(*f->GetString("tokenizer.ggml.model"), "gpt2");
  EXPECT_EQ(*f->GetString("tokenizer.ggml.pre"), "gpt-2");
  EXPECT_EQ((*f->GetArray("tokenizer.ggml.merges"))->items.size(), 5u);
  EXPECT_EQ((*f->GetArray("tokenizer.ggml.merges"))->items[1].string(), "l l");
  EXPECT_EQ((*f->GetArray("tokenizer.ggml.token_type"))->items[261], gguf::Value::I32(3));
  EXPECT_EQ((*f->GetArray("tokenizer.ggml.token_type"))->items[262], gguf::Value::I32(4));
  EXPECT_EQ((*f->GetArray("tokenizer.ggml.tokens"))->items[262].string(), " my tok");
  EXPECT_EQ((*f->GetArray("tokenizer.ggml.tokens"))->items[263].string(), "[PAD263]");
  EXPECT_EQ(f->FindTensor("output.weight"), nullptr);  // tied
  EXPECT_NE(f->FindTensor("blk.0.attn_k.bias"), nullptr);
  Result<std::unique_ptr<Model>> model = Model::Open(out);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  Result<std::vector<std::int32_t>> ids = (*model)->Tokenize("hello world", true, false);
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, (std::vector<std::int32_t>{259, 260, 'o', 'r', 'l', 'd'}));
  EXPECT_EQ((*model)->eos_id(), 261);
  EXPECT_EQ(*(*model)->Detokenize(*ids), "hello world");
}

// Qwen2's and Llama 3's Split expressions (as their tokenizer.json files write them) convert to
// llama.cpp's "qwen2" and "llama-bpe"; Llama 3's needs ignore_merges, as its file sets it.
TEST(ConvertModelTest, QwenAndLlama3PreTokenizersConvert) {
  const std::pair<const char*, const char*> cases[] = {
      {"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
       "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
       "qwen2"},
      {"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
       "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
       "llama-bpe"},
  };
  for (const auto& [regex, pre] : cases) {
    ModelShape shape;
    shape.arch = "qwen3";
    shape.tied = true;
    const std::string dir = testing::WriteModelDir(std::string("pre_") + pre, shape,
                                                   testing::ModelTensors(shape));
    testing::json tj = testing::BpeTokenizerJson();
    tj["pre_tokenizer"] = {
        {"type", "Sequence"},
        {"pretokenizers",
         testing::json::array(
             {{{"type", "Split"},
               {"pattern", {{"Regex", regex}}},
               {"behavior", "Isolated"},
               {"invert", false}},
              {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}})}};
    tj["model"]["ignore_merges"] = std::string(pre) == "llama-bpe";
    testing::WriteFile(dir + "/tokenizer.json", tj.dump());
    const std::string out = dir + "/out.gguf";
    Result<ConvertReport> r = Convert(dir, out, "f16");
    ASSERT_TRUE(r.ok()) << pre << ": " << r.status().ToString();
    Result<gguf::File> f = gguf::File::Open(out);
    ASSERT_TRUE(f.ok());
    EXPECT_EQ(*f->GetString("tokenizer.ggml.pre"), pre);
    Result<std::unique_ptr<Model>> model = Model::Open(out);
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    Result<std::vector<std::int32_t>> ids = (*model)->Tokenize("hello world", false, false);
    ASSERT_TRUE(ids.ok());
    EXPECT_EQ(*(*model)->Detokenize(*ids), "hello world") << pre;
  }
}

TEST(ConvertModelTest, ShardedCheckpointConverts) {
  ModelShape shape;
  const TensorMap tensors = testing::ModelTensors(shape);
  const std::string dir = testing::WriteModelDir("sharded", shape, tensors);
  ASSERT_EQ(std::remove((dir + "/model.safetensors").c_str()), 0);
  TensorMap a, b;
  testing::json weight_map = testing::json::object();
  int i = 0;
  for (const auto& [name, t] : tensors) {
    const bool first = i++ % 2 == 0;
    (first ? a : b)[name] = t;
    weight_map[name] =
        first ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
  }
  testing::WriteFile(dir + "/model-00001-of-00002.safetensors", testing::SafetensorsBytes(a));
  testing::WriteFile(dir + "/model-00002-of-00002.safetensors", testing::SafetensorsBytes(b));
  testing::WriteFile(
      dir + "/model.safetensors.index.json",
      testing::json{{"metadata", testing::json::object()}, {"weight_map", weight_map}}.dump());
  const std::string out = dir + "/out.gguf";
  Result<ConvertReport> r = Convert(dir, out);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->n_tensors, 3 + 9 * shape.n_layer);
}

}  // namespace
}  // namespace tessera::convert
