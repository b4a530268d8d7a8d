// Every refusal of `tessera convert`: the status code, a message naming the problem, and no
// output file (an existing output keeps its bytes).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <functional>
#include <string>

#include "convert/convert_model.h"
#include "hf_fixture.h"

namespace tessera::convert {
namespace {

using testing::json;
using testing::ModelShape;
using testing::TensorMap;

ModelShape Qwen2() {
  ModelShape s;
  s.arch = "qwen2";
  s.tied = true;
  return s;
}

struct Case {
  std::string name;
  bool qwen2 = false;  // the qwen2 fixture (tokenizer.json) instead of llama
  // Edits the fixture before it is written: tensors, config.json; then the directory.
  std::function<void(TensorMap&, json&)> edit;
  std::function<void(const std::string& dir)> edit_dir;
  StatusCode code;
  std::string message;  // a substring the message must contain
};

ModelShape Gemma3() {
  ModelShape s;
  s.arch = "gemma3";
  s.head_dim = 32;
  s.tied = true;
  return s;
}

void RunCaseOn(const Case& c, const ModelShape& shape) {
  SCOPED_TRACE(c.name);
  TensorMap tensors = testing::ModelTensors(shape);
  json config = testing::ConfigJson(shape);
  if (c.edit) c.edit(tensors, config);
  const std::string dir = testing::WriteModelDir(c.name, shape, tensors);
  testing::WriteFile(dir + "/config.json", config.dump());
  if (c.edit_dir) c.edit_dir(dir);
  ConvertOptions o;
  o.dir = dir;
  o.out_path = dir + "/out.gguf";
  Result<ConvertReport> r = ConvertCheckpoint(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), c.code) << r.status().ToString();
  EXPECT_NE(r.status().message().find(c.message), std::string::npos) << r.status().ToString();
  EXPECT_FALSE(testing::Exists(o.out_path));
  testing::RemoveDir(dir);
}

void RunCase(const Case& c) { RunCaseOn(c, c.qwen2 ? Qwen2() : ModelShape{}); }

// Rewrites model.safetensors with `patch` applied to its bytes.
std::function<void(const std::string&)> PatchSafetensors(std::function<void(std::string&)> patch) {
  return [patch](const std::string& dir) {
    std::string bytes = testing::ReadFile(dir + "/model.safetensors");
    patch(bytes);
    testing::WriteFile(dir + "/model.safetensors", bytes);
  };
}

// Rewrites the safetensors header JSON with `edit` (the data is kept as is).
std::function<void(const std::string&)> PatchHeader(std::function<void(json&)> edit) {
  return PatchSafetensors([edit](std::string& bytes) {
    std::uint64_t n = 0;
    std::memcpy(&n, bytes.data(), 8);
    json header = json::parse(bytes.substr(8, n));
    edit(header);
    const std::string h = header.dump();
    const std::uint64_t m = h.size();
    std::string out(8, '\0');
    std::memcpy(out.data(), &m, 8);
    bytes = out + h + bytes.substr(8 + n);
  });
}

std::function<void(const std::string&)> WriteTokenizerJson(std::function<void(json&)> edit) {
  return [edit](const std::string& dir) {
    json tj = testing::BpeTokenizerJson();
    edit(tj);
    testing::WriteFile(dir + "/tokenizer.json", tj.dump());
  };
}

json SplitPreTokenizer(const std::string& regex) {
  return {
      {"type", "Sequence"},
      {"pretokenizers",
       json::array({{{"type", "Split"},
                     {"pattern", {{"Regex", regex}}},
                     {"behavior", "Isolated"},
                     {"invert", false}},
                    {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}})}};
}

TEST(ConvertRefusalTest, EveryRefusalNamesTheProblemAndWritesNothing) {
  const std::string gpt2 =
      "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
  const std::string qwen2 =
      "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
      "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
  const Case cases[] = {
      {"unknown_arch",
       false,
       [](TensorMap&, json& c) {
         c["architectures"] = {"MistralForCausalLM"};
         c.erase("model_type");
       },
       {},
       StatusCode::kUnsupported,
       "MistralForCausalLM"},
      {"missing_field",
       false,
       [](TensorMap&, json& c) { c.erase("hidden_size"); },
       {},
       StatusCode::kInvalidArgument,
       "hidden_size"},
      {"attention_bias",
       false,
       [](TensorMap&, json& c) { c["attention_bias"] = true; },
       {},
       StatusCode::kUnsupported,
       "attention_bias"},
      {"sliding_window",
       true,
       [](TensorMap&, json& c) { c["use_sliding_window"] = true; },
       {},
       StatusCode::kUnsupported,
       "use_sliding_window"},
      {"rope_scaling",
       false,
       [](TensorMap&, json& c) {
         c["rope_scaling"] = {{"type", "dynamic"}, {"factor", 2.0}};
       },
       {},
       StatusCode::kUnsupported,
       "rope_scaling"},
      {"head_dim",
       false,
       [](TensorMap&, json& c) { c["head_dim"] = 32; },
       {},
       StatusCode::kUnsupported,
       "head_dim"},
      {"missing_tensor",
       false,
       [](TensorMap& t, json&) { t.erase("model.layers.1.mlp.up_proj.weight"); },
       {},
       StatusCode::kMissingTensor,
       "model.layers.1.mlp.up_proj.weight"},
      {"untied_without_lm_head",
       false,
       [](TensorMap& t, json&) { t.erase("lm_head.weight"); },
       {},
       StatusCode::kMissingTensor,
       "lm_head.weight"},
      {"extra_tensor",
       false,
       [](TensorMap& t, json&) {
         t["model.layers.0.self_attn.extra.weight"] = {"F32", {2}, {1.0f, 2.0f}};
       },
       {},
       StatusCode::kUnsupported,
       "model.layers.0.self_attn.extra.weight"},
      {"llama_bias_tensor",
       false,
       [](TensorMap& t, json&) {
         t["model.layers.0.self_attn.q_proj.bias"] = {"F32", {64}, std::vector<float>(64)};
       },
       {},
       StatusCode::kUnsupported,
       "model.layers.0.self_attn.q_proj.bias"},
      {"bad_shape",
       false,
       [](TensorMap& t, json&) {
         t["model.layers.0.self_attn.k_proj.weight"] = {
             "F32", {64, 64}, std::vector<float>(64 * 64)};
       },
       {},
       StatusCode::kShapeMismatch,
       "model.layers.0.self_attn.k_proj.weight"},
      {"unsupported_dtype",
       false,
       [](TensorMap& t, json&) { t["model.norm.weight"].dtype = "F64"; },
       {},
       StatusCode::kUnsupported,
       "model.norm.weight"},
      {"truncated",
       false,
       {},
       PatchSafetensors([](std::string& b) { b.resize(b.size() - 100); }),
       StatusCode::kTruncated,
       "past the data size"},
      {"header_past_file",
       false,
       {},
       PatchSafetensors([](std::string& b) {
         const std::uint64_t n = 1u << 20;
         std::memcpy(b.data(), &n, 8);
       }),
       StatusCode::kTruncated,
       "header"},
      {"huge_header",
       false,
       {},
       PatchSafetensors([](std::string& b) {
         const std::uint64_t n = 1ull << 40;
         std::memcpy(b.data(), &n, 8);
       }),
       StatusCode::kOutOfRange,
       "header length"},
      {"offset_out_of_range",
       false,
       {},
       PatchHeader([](json& h) {
         h["model.norm.weight"]["data_offsets"] = {0, 9999999999999ull};
       }),
       StatusCode::kTruncated,
       "past the data size"},
      {"begin_after_end",
       false,
       {},
       PatchHeader([](json& h) {
         h["model.norm.weight"]["data_offsets"] = {300, 44};
       }),
       StatusCode::kMalformed,
       "begin after end"},
      {"overlap",
       false,
       {},
       PatchHeader([](json& h) {
         h["model.layers.0.post_attention_layernorm.weight"]["data_offsets"] =
             h["model.layers.0.input_layernorm.weight"]["data_offsets"];
       }),
       StatusCode::kMalformed,
       "overlap"},
      {"shape_vs_bytes",
       false,
       {},
       PatchHeader([](json& h) { h["model.norm.weight"]["shape"] = {65}; }),
       StatusCode::kMalformed,
       "model.norm.weight"},
      {"header_not_object",
       false,
       {},
       PatchHeader([](json& h) {
         h = json::array({1, 2});
       }),
       StatusCode::kMalformed,
       "header"},
      {"no_tokenizer",
       false,
       {},
       [](const std::string& dir) { std::remove((dir + "/tokenizer.model").c_str()); },
       StatusCode::kUnsupported,
       "no tokenizer.model or tokenizer.json"},
      {"spm_unigram",
       false,
       {},
       [](const std::string& dir) {
         testing::SpmOptions o;
         o.model_type = 1;
         testing::WriteFile(dir + "/tokenizer.model", testing::SpmModelBytes(o));
       },
       StatusCode::kUnsupported,
       "UNIGRAM"},
      {"spm_normalizer",
       false,
       {},
       [](const std::string& dir) {
         testing::SpmOptions o;
         o.normalizer = "nmt_nfkc";
         testing::WriteFile(dir + "/tokenizer.model", testing::SpmModelBytes(o));
       },
       StatusCode::kUnsupported,
       "nmt_nfkc"},
      {"spm_truncated",
       false,
       {},
       [](const std::string& dir) {
         std::string m = testing::SpmModelBytes();
         testing::WriteFile(dir + "/tokenizer.model", m.substr(0, m.size() - 3));
       },
       StatusCode::kTruncated,
       "tokenizer.model"},
      {"unknown_regex",
       true,
       {},
       WriteTokenizerJson(
           [](json& tj) { tj["pre_tokenizer"] = SplitPreTokenizer("\\p{L}+|\\p{N}"); }),
       StatusCode::kUnsupported,
       "unknown Split regex"},
      {"qwen2_regex_ignoring_merges",
       true,
       {},
       WriteTokenizerJson([qwen2](json& tj) {
         tj["pre_tokenizer"] = SplitPreTokenizer(qwen2);
         tj["model"]["ignore_merges"] = true;
       }),
       StatusCode::kUnsupported,
       "ignore_merges is true with the \"qwen2\" pre-tokenizer"},
      {"normalizer",
       true,
       {},
       WriteTokenizerJson([](json& tj) {
         tj["normalizer"] = {{"type", "NFC"}};
       }),
       StatusCode::kUnsupported,
       "normalizer"},
      {"wordpiece",
       true,
       {},
       WriteTokenizerJson([](json& tj) { tj["model"]["type"] = "WordPiece"; }),
       StatusCode::kUnsupported,
       "WordPiece"},
      {"token_past_vocab",
       true,
       {},
       WriteTokenizerJson([](json& tj) { tj["added_tokens"][0]["id"] = 400; }),
       StatusCode::kIncompatible,
       "400"},
  };
  for (const Case& c : cases) RunCase(c);
  // GPT-2's expression spelled as a Split is accepted.
  Case ok{"gpt2_split",
          true,
          {},
          WriteTokenizerJson([gpt2](json& tj) { tj["pre_tokenizer"] = SplitPreTokenizer(gpt2); }),
          StatusCode::kOk,
          ""};
  TensorMap tensors = testing::ModelTensors(Qwen2());
  const std::string dir = testing::WriteModelDir(ok.name, Qwen2(), tensors);
  ok.edit_dir(dir);
  ConvertOptions o;
  o.dir = dir;
  o.out_path = dir + "/out.gguf";
  Result<ConvertReport> r = ConvertCheckpoint(o);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
}

// What the engine would run differently from Gemma3ForCausalLM is refused by name.
TEST(ConvertRefusalTest, Gemma3RefusalsNameTheField) {
  const Case cases[] = {
      {"gemma_exact_gelu", false,
       [](TensorMap&, json& c) { c["hidden_activation"] = "gelu"; }, {},
       StatusCode::kUnsupported, "hidden_activation \"gelu\""},
      {"gemma_query_scalar", false,
       [](TensorMap&, json& c) { c["query_pre_attn_scalar"] = 64; }, {},
       StatusCode::kUnsupported, "query_pre_attn_scalar"},
      {"gemma_layer_types", false,
       [](TensorMap&, json& c) {
         c["layer_types"] = {"full_attention", "sliding_attention"};
       },
       {}, StatusCode::kUnsupported, "layer_types"},
      {"gemma_attn_softcap", false,
       [](TensorMap&, json& c) { c["attn_logit_softcapping"] = 50.0; }, {},
       StatusCode::kUnsupported, "attn_logit_softcapping"},
      {"gemma_no_window", false,
       [](TensorMap&, json& c) { c.erase("sliding_window"); }, {},
       StatusCode::kInvalidArgument, "sliding_window"},
      {"gemma_bidirectional", false,
       [](TensorMap&, json& c) { c["use_bidirectional_attention"] = true; }, {},
       StatusCode::kUnsupported, "use_bidirectional_attention"},
      {"gemma_missing_post_norm", false,
       [](TensorMap& t, json&) {
         t.erase("model.layers.1.post_feedforward_layernorm.weight");
       },
       {}, StatusCode::kMissingTensor, "post_feedforward_layernorm"},
  };
  for (const Case& c : cases) RunCaseOn(c, Gemma3());
}

TEST(ConvertRefusalTest, FailedConversionKeepsAnExistingOutput) {
  ModelShape shape;
  TensorMap tensors = testing::ModelTensors(shape);
  tensors.erase("model.norm.weight");
  const std::string dir = testing::WriteModelDir("keep", shape, tensors);
  const std::string out = dir + "/out.gguf";
  testing::WriteFile(out, "previous bytes");
  ConvertOptions o;
  o.dir = dir;
  o.out_path = out;
  Result<ConvertReport> r = ConvertCheckpoint(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kMissingTensor);
  EXPECT_EQ(testing::ReadFile(out), "previous bytes");
}

TEST(ConvertRefusalTest, UnknownTypeIsInvalidArgument) {
  ConvertOptions o;
  o.dir = "/nonexistent";
  o.out_path = "/nonexistent/out.gguf";
  o.type = "iq3_s";
  Result<ConvertReport> r = ConvertCheckpoint(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("q4_k_m"), std::string::npos);
}

}  // namespace
}  // namespace tessera::convert
