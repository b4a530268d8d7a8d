#include "hf_fixture.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "tensor/fp16.h"
#include "tokenizer/byte_level.h"

namespace tessera::convert::testing {
namespace {

// Minimal protobuf writer: varint, length-delimited, fixed32.
void PutVarint(std::string* out, std::uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}
void PutKey(std::string* out, int field, int wire) {
  PutVarint(out, static_cast<std::uint64_t>(field) << 3 | static_cast<std::uint64_t>(wire));
}
void PutVarintField(std::string* out, int field, std::int64_t v) {
  PutKey(out, field, 0);
  PutVarint(out, static_cast<std::uint64_t>(v));  // negative int32: 10-byte sign extension
}
void PutBytesField(std::string* out, int field, const std::string& bytes) {
  PutKey(out, field, 2);
  PutVarint(out, bytes.size());
  out->append(bytes);
}
void PutFloatField(std::string* out, int field, float f) {
  PutKey(out, field, 5);
  char b[4];
  std::memcpy(b, &f, 4);
  out->append(b, 4);
}

std::string Piece(const std::string& text, float score, int type) {
  std::string p;
  PutBytesField(&p, 1, text);
  PutFloatField(&p, 2, score);
  PutVarintField(&p, 3, type);
  return p;
}

std::string Utf8(std::uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    s.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    s.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
  return s;
}

}  // namespace

std::string SafetensorsBytes(const TensorMap& tensors) {
  json header = json::object();
  std::string data;
  for (const auto& [name, t] : tensors) {
    const std::size_t begin = data.size();
    for (float v : t.values) {
      if (t.dtype == "F16") {
        const std::uint16_t h = tensor::FloatToHalf(v);
        data.append(reinterpret_cast<const char*>(&h), 2);
      } else if (t.dtype == "BF16") {
        const std::uint16_t h = tensor::FloatToBf16(v);
        data.append(reinterpret_cast<const char*>(&h), 2);
      } else {
        data.append(reinterpret_cast<const char*>(&v), 4);
      }
    }
    header[name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {begin, data.size()}}};
  }
  header["__metadata__"] = {{"format", "pt"}};
  std::string h = header.dump();
  while (h.size() % 8 != 0) h.push_back(' ');
  std::string out(8, '\0');
  const std::uint64_t n = h.size();
  std::memcpy(out.data(), &n, 8);
  return out + h + data;
}

std::string MakeTempDir(const std::string& tag) {
  std::string templ = ::testing::TempDir() + "convert_" + tag + "_XXXXXX";
  char* p = ::mkdtemp(templ.data());
  EXPECT_NE(p, nullptr) << templ;
  return templ;
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool Exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

void RemoveDir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

std::string SpmModelBytes(const SpmOptions& o) {
  std::string m;
  PutBytesField(&m, 1, Piece("<unk>", 0.0f, 2));
  PutBytesField(&m, 1, Piece("<s>", 0.0f, 3));
  PutBytesField(&m, 1, Piece("</s>", 0.0f, 3));
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    PutBytesField(&m, 1, Piece(name, 0.0f, 6));
  }
  const std::string u = "\xe2\x96\x81";  // ▁
  const char* words[] = {"h", "he", "hel", "hell", "hello", "w", "wo", "wor", "worl", "world"};
  const char* chars[] = {"", "h", "e", "l", "o", "w", "r", "d"};
  float score = -1.0f;
  if (o.char_pieces) {
    for (const char* c : chars) {
      PutBytesField(&m, 1, Piece(c[0] == 0 ? u : std::string(c), score, 1));
      score -= 1.0f;
    }
  } else {
    for (const char* w : words) {
      PutBytesField(&m, 1, Piece(u + w, score, 1));
      score -= 1.0f;
    }
  }
  std::string trainer;
  PutVarintField(&trainer, 3, o.model_type);
  PutVarintField(&trainer, 4, kSpmPieces);
  PutVarintField(&trainer, 35, 1);  // byte_fallback
  PutVarintField(&trainer, 40, 0);
  PutVarintField(&trainer, 41, 1);
  PutVarintField(&trainer, 42, 2);
  PutVarintField(&trainer, 43, -1);  // no pad: a negative int32 as a 10-byte varint
  PutBytesField(&m, 2, trainer);
  std::string norm;
  PutBytesField(&norm, 1, o.normalizer);
  PutVarintField(&norm, 3, 1);
  PutVarintField(&norm, 4, o.remove_extra_whitespaces ? 1 : 0);
  PutBytesField(&m, 3, norm);
  return m;
}

int Gpt2ByteId(unsigned char b) { return b; }

json BpeTokenizerJson() {
  json vocab = json::object();
  for (int b = 0; b < 256; ++b) {
    vocab[Utf8(tokenizer::ByteToCodepoint(static_cast<std::uint8_t>(b)))] = b;
  }
  const std::string g = Utf8(tokenizer::ByteToCodepoint(' '));  // Ġ
  vocab["he"] = 256;
  vocab["ll"] = 257;
  vocab["hell"] = 258;
  vocab["hello"] = 259;
  vocab[g + "w"] = 260;
  json merges = json::array({"h e", json::array({"l", "l"}), "he ll", "hell o", g + " w"});
  json tj = {
      {"version", "1.0"},
      {"added_tokens",
       json::array({{{"id", 261}, {"content", "<|endoftext|>"}, {"special", true}}})},
      {"normalizer", nullptr},
      {"pre_tokenizer",
       {{"type", "ByteLevel"},
        {"add_prefix_space", false},
        {"trim_offsets", true},
        {"use_regex", true}}},
      {"decoder", {{"type", "ByteLevel"}}},
      {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", merges}}},
  };
  return tj;
}

json ConfigJson(const ModelShape& s) {
  json c = {
      {"architectures", json::array({s.arch == "llama"    ? "LlamaForCausalLM"
                                     : s.arch == "qwen2"  ? "Qwen2ForCausalLM"
                                     : s.arch == "qwen3"  ? "Qwen3ForCausalLM"
                                                          : "Gemma3ForCausalLM"})},
      {"model_type", s.arch == "gemma3" ? "gemma3_text" : s.arch},
      {"hidden_size", s.n_embd},
      {"intermediate_size", s.n_ff},
      {"num_hidden_layers", s.n_layer},
      {"num_attention_heads", s.n_head},
      {"num_key_value_heads", s.n_head_kv},
      {"rms_norm_eps", 1e-5},
      {"rope_theta", 10000.0},
      {"max_position_embeddings", s.n_ctx},
      {"vocab_size", s.n_vocab},
      {"tie_word_embeddings", s.tied},
      {"hidden_act", "silu"},
      {"torch_dtype", "float32"},
      {"bos_token_id", 1},
      {"eos_token_id", 2},
      {"rope_scaling", nullptr},
  };
  if (s.arch == "gemma3") {  // Gemma3TextConfig's fields, as its config.json lists them
    c.erase("hidden_act");
    c["hidden_activation"] = "gelu_pytorch_tanh";
    c["rms_norm_eps"] = 1e-6;
    c["rope_theta"] = 1000000.0;
    c["head_dim"] = s.head_dim;
    c["query_pre_attn_scalar"] = s.head_dim;
    c["sliding_window"] = s.window;
    json types = json::array();
    for (int i = 0; i < s.n_layer; ++i) {
      types.push_back((i + 1) % s.pattern == 0 ? "full_attention" : "sliding_attention");
    }
    c["layer_types"] = types;
    c["rope_local_base_freq"] = s.local_base;
    c["final_logit_softcapping"] = s.softcap > 0 ? json(s.softcap) : json(nullptr);
    c["attn_logit_softcapping"] = nullptr;
    if (s.rope_linear > 0) c["rope_scaling"] = {{"rope_type", "linear"}, {"factor", s.rope_linear}};
    return c;
  }
  if (s.arch != "llama") {
    c["use_sliding_window"] = false;
    c["bos_token_id"] = 261;
    c["eos_token_id"] = 261;
  }
  if (s.arch == "qwen3") {
    c["attention_bias"] = false;
    if (s.head_dim > 0) c["head_dim"] = s.head_dim;
  }
  return c;
}

TensorMap ModelTensors(const ModelShape& s) {
  std::mt19937 rng(s.seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  auto make = [&](std::vector<std::uint64_t> shape, float scale, float offset = 0.0f) {
    FixtureTensor t;
    t.shape = shape;
    std::uint64_t n = 1;
    for (auto d : shape) n *= d;
    t.values.resize(n);
    for (float& v : t.values) v = offset + scale * u(rng);
    return t;
  };
  const auto embd = static_cast<std::uint64_t>(s.n_embd);
  const int hd = s.head_dim > 0 ? s.head_dim : s.n_embd / s.n_head;
  const auto kv = static_cast<std::uint64_t>(hd * s.n_head_kv);
  const auto q_width = static_cast<std::uint64_t>(hd * s.n_head);
  const auto ff = static_cast<std::uint64_t>(s.n_ff);
  const auto vocab = static_cast<std::uint64_t>(s.n_vocab);
  TensorMap m;
  // Gemma's norms multiply by 1 + weight: gains around 1 are weights around 0.
  const float gain = s.arch == "gemma3" ? 0.0f : 1.0f;
  m["model.embed_tokens.weight"] = make({vocab, embd}, s.arch == "gemma3" ? 0.3f : 1.0f);
  m["model.norm.weight"] = make({embd}, 0.2f, gain);
  if (!s.tied) m["lm_head.weight"] = make({vocab, embd}, 0.3f);
  for (int i = 0; i < s.n_layer; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    m[p + "input_layernorm.weight"] = make({embd}, 0.2f, gain);
    m[p + "post_attention_layernorm.weight"] = make({embd}, 0.2f, gain);
    if (s.arch == "gemma3") {
      m[p + "pre_feedforward_layernorm.weight"] = make({embd}, 0.2f, gain);
      m[p + "post_feedforward_layernorm.weight"] = make({embd}, 0.2f, gain);
    }
    m[p + "self_attn.q_proj.weight"] = make({q_width, embd}, 0.5f);
    m[p + "self_attn.k_proj.weight"] = make({kv, embd}, 0.5f);
    m[p + "self_attn.v_proj.weight"] = make({kv, embd}, 0.3f);
    m[p + "self_attn.o_proj.weight"] = make({embd, q_width}, 0.2f);
    m[p + "mlp.gate_proj.weight"] = make({ff, embd}, 0.3f);
    m[p + "mlp.up_proj.weight"] = make({ff, embd}, 0.3f);
    m[p + "mlp.down_proj.weight"] = make({embd, ff}, 0.2f);
    m[p + "self_attn.rotary_emb.inv_freq"] = make({static_cast<std::uint64_t>(hd / 2)}, 1.0f);
    if (s.arch == "qwen3" || s.arch == "gemma3") {
      m[p + "self_attn.q_norm.weight"] = make({static_cast<std::uint64_t>(hd)}, 0.3f, gain);
      m[p + "self_attn.k_norm.weight"] = make({static_cast<std::uint64_t>(hd)}, 0.3f, gain);
    }
    if (s.arch == "qwen2") {
      m[p + "self_attn.q_proj.bias"] = make({embd}, 0.5f);
      m[p + "self_attn.k_proj.bias"] = make({kv}, 0.5f);
      m[p + "self_attn.v_proj.bias"] = make({kv}, 0.5f);
    }
  }
  return m;
}

std::string WriteModelDir(const std::string& tag, const ModelShape& shape,
                          const TensorMap& tensors) {
  const std::string dir = MakeTempDir(tag);
  WriteFile(dir + "/config.json", ConfigJson(shape).dump(2));
  WriteFile(dir + "/model.safetensors", SafetensorsBytes(tensors));
  if (shape.arch == "llama" || shape.arch == "gemma3") {
    WriteFile(dir + "/tokenizer.model", SpmModelBytes());
  } else {
    WriteFile(dir + "/tokenizer.json", BpeTokenizerJson().dump());
  }
  return dir;
}

}  // namespace tessera::convert::testing
