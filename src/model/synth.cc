// Random llama GGUFs: seeded weights, llama.cpp names and keys, a generated or copied vocabulary.
#include "model/synth.h"

#include <cmath>
#include <numbers>
#include <random>
#include <string>
#include <utility>

#include "gguf/keys.h"
#include "gguf/writer.h"
#include "model/config.h"
#include "tensor/quantize.h"

namespace tessera::model {
namespace {

using tensor::DType;

// N(0, 1) samples from mt19937_64 by Box-Muller, independent of the standard library's
// distributions (whose algorithms are unspecified).
class NormalSampler {
 public:
  explicit NormalSampler(std::uint64_t seed) : rng_(seed) {}

  double Next() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    // u1 in (0, 1] so log(u1) is finite; u2 in [0, 1). 53 random bits each.
    const double u1 = (static_cast<double>(rng_() >> 11) + 1.0) * 0x1.0p-53;
    const double u2 = static_cast<double>(rng_() >> 11) * 0x1.0p-53;
    const double r = std::sqrt(-2.0 * std::log(u1));
    const double a = 2.0 * std::numbers::pi * u2;
    spare_ = r * std::sin(a);
    has_spare_ = true;
    return r * std::cos(a);
  }

 private:
  std::mt19937_64 rng_;
  double spare_ = 0.0;
  bool has_spare_ = false;
};

// llama.cpp's general.file_type for a file whose matrices are `type`.
std::uint32_t FileTypeOf(DType type) {
  switch (type) {
    case DType::kF32:
      return 0;
    case DType::kF16:
      return 1;
    case DType::kQ4_0:
      return 2;
    case DType::kQ4_1:
      return 3;
    case DType::kQ8_0:
      return 7;
    case DType::kQ5_0:
      return 8;
    case DType::kQ5_1:
      return 9;
    case DType::kQ4_K:
      return 14;  // LLAMA_FTYPE_MOSTLY_Q4_K_S: every matrix Q4_K
    case DType::kQ5_K:
      return 16;  // LLAMA_FTYPE_MOSTLY_Q5_K_S
    case DType::kQ6_K:
      return 18;
    case DType::kQ2_K:
      return 10;  // LLAMA_FTYPE_MOSTLY_Q2_K
    case DType::kQ3_K:
      return 11;  // LLAMA_FTYPE_MOSTLY_Q3_K_S
    case DType::kIQ4_NL:
      return 25;
    case DType::kIQ4_XS:
      return 30;
    case DType::kBF16:
      return 32;
    default:
      return 0;
  }
}

Status InvalidSpec(const std::string& what) {
  return Status(StatusCode::kInvalidArgument, "model: synth: " + what);
}

Status CheckType(std::string_view field, DType type, std::int64_t row_length) {
  if (!tensor::IsComputeSupported(type)) {
    return InvalidSpec(std::string(field) + " " + std::string(tensor::TypeName(type)) +
                       " is not a type the kernels compute");
  }
  if (row_length % tensor::BlockSize(type) != 0) {
    return InvalidSpec(std::string(field) + " " + std::string(tensor::TypeName(type)) +
                       " needs rows that are a multiple of " +
                       std::to_string(tensor::BlockSize(type)) + " elements, got " +
                       std::to_string(row_length));
  }
  return Status::Ok();
}

LlamaConfig ConfigOf(const SynthSpec& s) {
  LlamaConfig c;
  c.n_vocab = s.n_vocab;
  c.n_ctx_train = s.n_ctx;
  c.n_embd = s.n_embd;
  c.n_layer = s.n_layer;
  c.n_ff = s.n_ff;
  c.n_head = s.n_head;
  c.n_head_kv = s.n_head_kv;
  c.head_dim = s.head_dim > 0 ? s.head_dim : (s.n_head > 0 ? s.n_embd / s.n_head : 0);
  c.n_rot = s.n_rot > 0 ? s.n_rot : c.head_dim;
  c.rms_eps = s.rms_eps;
  c.rope_freq_base = s.rope_freq_base;
  c.n_swa = s.sliding_window;
  c.swa_period = s.sliding_window_pattern;
  if (s.rope_freq_base_swa > 0.0f) c.rope_freq_base_swa = s.rope_freq_base_swa;
  c.final_logit_softcap = s.final_logit_softcap;
  return c;
}

// The generated vocabulary: piece number i (after the specials and bytes) as a unique string
// over a-z, with every other piece prefixed by the SentencePiece space "▁".
std::string PrintablePiece(std::int64_t i) {
  std::string core;
  std::int64_t k = i / 2;
  do {
    core.insert(core.begin(), static_cast<char>('a' + k % 26));
    k = k / 26 - 1;
  } while (k >= 0);
  return (i % 2 == 0) ? "\xE2\x96\x81" + core : core;
}

Status AddGeneratedVocab(gguf::Writer& w, std::int32_t n_vocab) {
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<std::int32_t> types;
  tokens.reserve(static_cast<std::size_t>(n_vocab));
  auto add = [&](std::string piece, float score, std::int32_t type) {
    tokens.push_back(std::move(piece));
    scores.push_back(score);
    types.push_back(type);
  };
  // llama.cpp token types: 1 normal, 2 unknown, 3 control, 6 byte.
  add("<unk>", 0.0f, 2);
  add("<s>", 0.0f, 3);
  add("</s>", 0.0f, 3);
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (int b = 0; b < 256; ++b) {
    add(std::string("<0x") + kHex[b >> 4] + kHex[b & 15] + ">", 0.0f, 6);
  }
  for (std::int64_t i = 0; static_cast<std::int32_t>(tokens.size()) < n_vocab; ++i) {
    add(PrintablePiece(i), -static_cast<float>(i), 1);
  }
  namespace k = gguf::keys;
  const std::pair<std::string_view, gguf::Value> pairs[] = {
      {k::kTokenizerModel, gguf::Value::String("llama")},
      {k::kTokenizerTokens, gguf::Value::StringArray(std::move(tokens))},
      {k::kTokenizerScores, gguf::Value::F32Array(scores)},
      {k::kTokenizerTokenType, gguf::Value::I32Array(types)},
      {k::kTokenizerUnknownId, gguf::Value::U32(0)},
      {k::kTokenizerBosId, gguf::Value::U32(1)},
      {k::kTokenizerEosId, gguf::Value::U32(2)},
      {k::kTokenizerAddBos, gguf::Value::Bool(true)},
      {k::kTokenizerAddEos, gguf::Value::Bool(false)},
  };
  for (const auto& [key, value] : pairs) {
    TS_RETURN_IF_ERROR(w.AddKeyValue(std::string(key), value));
  }
  return Status::Ok();
}

class Builder {
 public:
  explicit Builder(const SynthSpec& s) : s_(s), rng_(s.seed) {}

  // A [n_cols, n_rows] matrix (innermost first) of N(0, stddev) values quantized to `type`.
  Status Matrix(const std::string& name, std::int64_t n_cols, std::int64_t n_rows, DType type) {
    values_.resize(static_cast<std::size_t>(n_cols * n_rows));
    for (float& v : values_) v = static_cast<float>(rng_.Next() * s_.stddev);
    return Add(name, n_cols, n_rows, type);
  }

  // A [n] bias vector in F32 of N(0, stddev) values.
  Status Bias(const std::string& name, std::int64_t n, float stddev) {
    values_.resize(static_cast<std::size_t>(n));
    for (float& v : values_) v = static_cast<float>(rng_.Next() * stddev);
    return Add(name, n, 0, DType::kF32);
  }

  // A [n] norm vector in F32: 1.0, or 1 + N(0, norm_stddev).
  Status Norm(const std::string& name, std::int64_t n) {
    values_.resize(static_cast<std::size_t>(n));
    for (float& v : values_) {
      v = s_.norm_stddev > 0.0f ? static_cast<float>(1.0 + rng_.Next() * s_.norm_stddev) : 1.0f;
    }
    return Add(name, n, 0, DType::kF32);
  }

  gguf::Writer& writer() { return w_; }

 private:
  Status Add(const std::string& name, std::int64_t n_cols, std::int64_t n_rows, DType type) {
    TS_ASSIGN_OR_RETURN(std::uint64_t row_bytes, tensor::RowBytes(type, n_cols));
    const std::int64_t rows = n_rows == 0 ? 1 : n_rows;
    std::vector<std::uint8_t> bytes(static_cast<std::size_t>(row_bytes) * rows);
    TS_RETURN_IF_ERROR(tensor::Quantize(type, values_, n_cols, bytes));
    std::vector<std::uint64_t> dims = {static_cast<std::uint64_t>(n_cols)};
    if (n_rows != 0) dims.push_back(static_cast<std::uint64_t>(n_rows));
    storage_.push_back(std::move(bytes));  // the writer borrows the bytes until it writes
    return w_.AddTensor(name, std::move(dims), type, storage_.back());
  }

  const SynthSpec& s_;
  NormalSampler rng_;
  std::vector<float> values_;                       // the current tensor before quantization
  std::vector<std::vector<std::uint8_t>> storage_;  // tensor bytes, borrowed by w_
  gguf::Writer w_;
};

}  // namespace

Status ValidateSynthSpec(const SynthSpec& spec) {
  Status st = ValidateLlamaConfig(ConfigOf(spec));
  if (!st.ok()) return InvalidSpec(st.message());
  if (spec.architecture != "llama" && spec.architecture != "qwen2" &&
      spec.architecture != "qwen3" && spec.architecture != "gemma3") {
    return InvalidSpec("architecture \"" + spec.architecture +
                       "\" is not llama, qwen2, qwen3 or gemma3");
  }
  if (spec.architecture != "gemma3" &&
      (spec.sliding_window != 0 || spec.sliding_window_pattern != 0 ||
       spec.rope_freq_base_swa != 0.0f || spec.final_logit_softcap != 0.0f)) {
    return InvalidSpec("sliding_window, sliding_window_pattern, rope_freq_base_swa and "
                       "final_logit_softcap are gemma3's");
  }
  if (spec.head_dim < 0) {
    return InvalidSpec("head_dim " + std::to_string(spec.head_dim) + " must be >= 0");
  }
  if (spec.head_dim == 0 && spec.n_head > 0 && spec.n_embd % spec.n_head != 0) {
    return InvalidSpec("n_embd " + std::to_string(spec.n_embd) + " is not divisible by n_head " +
                       std::to_string(spec.n_head) + " (set head_dim)");
  }
  if (!std::isfinite(spec.bias_stddev) || spec.bias_stddev < 0.0f) {
    return InvalidSpec("bias_stddev " + std::to_string(spec.bias_stddev) +
                       " must be finite and >= 0");
  }
  if (!std::isfinite(spec.stddev) || spec.stddev < 0.0f) {
    return InvalidSpec("stddev " + std::to_string(spec.stddev) + " must be finite and >= 0");
  }
  if (!std::isfinite(spec.norm_stddev) || spec.norm_stddev < 0.0f) {
    return InvalidSpec("norm_stddev " + std::to_string(spec.norm_stddev) +
                       " must be finite and >= 0");
  }
  TS_RETURN_IF_ERROR(CheckType("matrix_type", spec.matrix_type, spec.n_embd));
  TS_RETURN_IF_ERROR(CheckType("matrix_type", spec.matrix_type, spec.n_ff));
  TS_RETURN_IF_ERROR(CheckType("embd_type", spec.embd_type, spec.n_embd));
  if (!spec.tied_output) {
    TS_RETURN_IF_ERROR(CheckType("output_type", spec.output_type, spec.n_embd));
  }
  if (spec.tokenizer_source != nullptr) {
    const gguf::Value* tokens = spec.tokenizer_source->Find(gguf::keys::kTokenizerTokens);
    if (tokens == nullptr || !tokens->is_array()) {
      return InvalidSpec("tokenizer_source has no tokenizer.ggml.tokens array");
    }
    if (tokens->array().items.size() != static_cast<std::size_t>(spec.n_vocab)) {
      return InvalidSpec("n_vocab " + std::to_string(spec.n_vocab) +
                         " differs from the tokenizer_source's " +
                         std::to_string(tokens->array().items.size()) + " tokens");
    }
  } else if (spec.n_vocab < 259) {
    return InvalidSpec("n_vocab " + std::to_string(spec.n_vocab) +
                       " is below 259, the size of the generated vocabulary's fixed tokens");
  }
  return Status::Ok();
}

namespace {

Status Fill(const SynthSpec& s, Builder& b) {
  namespace k = gguf::keys;
  const LlamaConfig c = ConfigOf(s);
  gguf::Writer& w = b.writer();
  auto arch = [&s](std::string_view suffix) { return k::ArchKey(s.architecture, suffix); };
  auto u32 = [](std::int32_t v) { return gguf::Value::U32(static_cast<std::uint32_t>(v)); };
  const std::pair<std::string, gguf::Value> pairs[] = {
      {std::string(k::kGeneralArchitecture), gguf::Value::String(s.architecture)},
      {std::string(k::kGeneralName), gguf::Value::String(s.name)},
      {std::string(k::kGeneralFileType), gguf::Value::U32(FileTypeOf(s.matrix_type))},
      {std::string(k::kGeneralQuantizationVersion), gguf::Value::U32(2)},
      {arch(k::kVocabSize), u32(c.n_vocab)},
      {arch(k::kContextLength), u32(c.n_ctx_train)},
      {arch(k::kEmbeddingLength), u32(c.n_embd)},
      {arch(k::kBlockCount), u32(c.n_layer)},
      {arch(k::kFeedForwardLength), u32(c.n_ff)},
      {arch(k::kRopeDimensionCount), u32(c.n_rot)},
      {arch(k::kHeadCount), u32(c.n_head)},
      {arch(k::kHeadCountKv), u32(c.n_head_kv)},
      {arch(k::kLayerNormRmsEpsilon), gguf::Value::F32(c.rms_eps)},
      {arch(k::kRopeFreqBase), gguf::Value::F32(c.rope_freq_base)},
  };
  for (const auto& [key, value] : pairs) TS_RETURN_IF_ERROR(w.AddKeyValue(key, value));
  if (s.head_dim > 0) {
    TS_RETURN_IF_ERROR(w.AddKeyValue(arch(k::kKeyLength), u32(c.head_dim)));
    TS_RETURN_IF_ERROR(w.AddKeyValue(arch(k::kValueLength), u32(c.head_dim)));
  }
  if (s.sliding_window > 0) {
    TS_RETURN_IF_ERROR(w.AddKeyValue(arch(k::kSlidingWindow), u32(s.sliding_window)));
  }
  if (s.sliding_window_pattern > 0) {
    TS_RETURN_IF_ERROR(
        w.AddKeyValue(arch(k::kSlidingWindowPattern), u32(s.sliding_window_pattern)));
  }
  if (s.rope_freq_base_swa > 0.0f) {
    TS_RETURN_IF_ERROR(
        w.AddKeyValue(arch(k::kRopeFreqBaseSwa), gguf::Value::F32(s.rope_freq_base_swa)));
  }
  if (s.final_logit_softcap > 0.0f) {
    TS_RETURN_IF_ERROR(w.AddKeyValue(arch(k::kFinalLogitSoftcapping),
                                     gguf::Value::F32(s.final_logit_softcap)));
  }
  if (s.tokenizer_source != nullptr) {
    for (const gguf::KeyValue& kv : s.tokenizer_source->metadata()) {
      if (kv.key.rfind("tokenizer.", 0) == 0) {
        TS_RETURN_IF_ERROR(w.AddKeyValue(kv.key, kv.value));
      }
    }
  } else {
    TS_RETURN_IF_ERROR(AddGeneratedVocab(w, c.n_vocab));
  }

  // Matrices first, in the documented draw order; then the norms.
  TS_RETURN_IF_ERROR(b.Matrix("token_embd.weight", c.n_embd, c.n_vocab, s.embd_type));
  if (!s.tied_output) {
    TS_RETURN_IF_ERROR(b.Matrix("output.weight", c.n_embd, c.n_vocab, s.output_type));
  }
  for (std::int32_t i = 0; i < c.n_layer; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    TS_RETURN_IF_ERROR(b.Matrix(p + "attn_q.weight", c.n_embd, c.n_embd_q(), s.matrix_type));
    TS_RETURN_IF_ERROR(b.Matrix(p + "attn_k.weight", c.n_embd, c.n_embd_kv(), s.matrix_type));
    TS_RETURN_IF_ERROR(b.Matrix(p + "attn_v.weight", c.n_embd, c.n_embd_kv(), s.matrix_type));
    TS_RETURN_IF_ERROR(
        b.Matrix(p + "attn_output.weight", c.n_embd_q(), c.n_embd, s.matrix_type));
    TS_RETURN_IF_ERROR(b.Matrix(p + "ffn_gate.weight", c.n_embd, c.n_ff, s.matrix_type));
    TS_RETURN_IF_ERROR(b.Matrix(p + "ffn_up.weight", c.n_embd, c.n_ff, s.matrix_type));
    TS_RETURN_IF_ERROR(b.Matrix(p + "ffn_down.weight", c.n_ff, c.n_embd, s.matrix_type));
  }
  TS_RETURN_IF_ERROR(b.Norm("output_norm.weight", c.n_embd));
  for (std::int32_t i = 0; i < c.n_layer; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    TS_RETURN_IF_ERROR(b.Norm(p + "attn_norm.weight", c.n_embd));
    TS_RETURN_IF_ERROR(b.Norm(p + "ffn_norm.weight", c.n_embd));
  }
  if (s.architecture == "qwen2") {
    for (std::int32_t i = 0; i < c.n_layer; ++i) {
      const std::string p = "blk." + std::to_string(i) + ".";
      TS_RETURN_IF_ERROR(b.Bias(p + "attn_q.bias", c.n_embd_q(), s.bias_stddev));
      TS_RETURN_IF_ERROR(b.Bias(p + "attn_k.bias", c.n_embd_kv(), s.bias_stddev));
      TS_RETURN_IF_ERROR(b.Bias(p + "attn_v.bias", c.n_embd_kv(), s.bias_stddev));
    }
  }
  if (s.architecture == "qwen3" || s.architecture == "gemma3") {
    for (std::int32_t i = 0; i < c.n_layer; ++i) {
      const std::string p = "blk." + std::to_string(i) + ".";
      TS_RETURN_IF_ERROR(b.Norm(p + "attn_q_norm.weight", c.head_dim));
      TS_RETURN_IF_ERROR(b.Norm(p + "attn_k_norm.weight", c.head_dim));
    }
  }
  if (s.architecture == "gemma3") {
    for (std::int32_t i = 0; i < c.n_layer; ++i) {
      const std::string p = "blk." + std::to_string(i) + ".";
      TS_RETURN_IF_ERROR(b.Norm(p + "post_attention_norm.weight", c.n_embd));
      TS_RETURN_IF_ERROR(b.Norm(p + "post_ffw_norm.weight", c.n_embd));
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<std::uint8_t>> BuildRandomLlama(const SynthSpec& spec) {
  TS_RETURN_IF_ERROR(ValidateSynthSpec(spec));
  Builder b(spec);
  TS_RETURN_IF_ERROR(Fill(spec, b));
  return b.writer().WriteToBuffer();
}

Status WriteRandomLlama(const SynthSpec& spec, const std::string& path) {
  TS_RETURN_IF_ERROR(ValidateSynthSpec(spec));
  Builder b(spec);
  TS_RETURN_IF_ERROR(Fill(spec, b));
  return b.writer().WriteFile(path);
}

}  // namespace tessera::model
