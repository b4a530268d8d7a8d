// Reading and validating LlamaConfig from GGUF metadata.
#include "model/config.h"

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>

#include "model/architecture.h"

namespace tessera::model {
namespace {

constexpr std::string_view kArchKey = "general.architecture";
constexpr std::string_view kTokenEmbd = "token_embd.weight";


// An integer key; `fallback` when absent (nullopt: required). Bounded to [1, max]: zero is
// kMalformed, above max kOutOfRange, both naming the key and value.
Result<std::int32_t> ReadCount(const gguf::File& file, const std::string& key,
                               std::optional<std::int64_t> fallback, std::int64_t max) {
  const gguf::Value* value = file.Find(key);
  std::int64_t n = 0;
  if (value == nullptr) {
    if (!fallback.has_value()) {
      return Status(StatusCode::kNotFound, "model: llama: required key \"" + key + "\" is absent");
    }
    n = *fallback;
  } else {
    if (!value->is_integer()) {
      return Status(StatusCode::kTypeMismatch, "model: llama: key \"" + key + "\" holds " +
                                                   std::string(gguf::ValueTypeName(value->type())) +
                                                   ", expected an integer");
    }
    std::optional<std::int64_t> v = value->AsI64();
    if (!v.has_value()) {  // a u64 above INT64_MAX
      return Status(StatusCode::kOutOfRange, "model: llama: key \"" + key +
                                                 "\" = " + std::to_string(*value->AsU64()) +
                                                 " exceeds the limit " + std::to_string(max));
    }
    n = *v;
  }
  if (n <= 0) {
    return Status(StatusCode::kMalformed,
                  "model: llama: key \"" + key + "\" = " + std::to_string(n) + " must be positive");
  }
  if (n > max) {
    return Status(StatusCode::kOutOfRange, "model: llama: key \"" + key +
                                               "\" = " + std::to_string(n) + " exceeds the limit " +
                                               std::to_string(max));
  }
  return static_cast<std::int32_t>(n);
}

// A float key; `fallback` when absent. Must be finite and positive (kMalformed).
Result<float> ReadPositiveFloat(const gguf::File& file, const std::string& key, float fallback) {
  const gguf::Value* value = file.Find(key);
  if (value == nullptr) return fallback;
  std::optional<double> v = value->AsF64();
  if (!v.has_value()) {
    return Status(StatusCode::kTypeMismatch, "model: llama: key \"" + key + "\" holds " +
                                                 std::string(gguf::ValueTypeName(value->type())) +
                                                 ", expected f32");
  }
  if (!std::isfinite(*v) || *v <= 0.0) {
    return Status(StatusCode::kMalformed, "model: llama: key \"" + key + "\" = " +
                                              std::to_string(*v) + " must be finite and positive");
  }
  return static_cast<float>(*v);
}

// A non-negative integer key; 0 when absent. Above max: kOutOfRange.
Result<std::int32_t> ReadOptionalCount(const gguf::File& file, const std::string& key,
                                       std::int64_t max) {
  const gguf::Value* value = file.Find(key);
  if (value == nullptr) return 0;
  if (value->is_integer()) {
    if (std::optional<std::int64_t> v = value->AsI64(); v.has_value() && *v == 0) return 0;
  }
  return ReadCount(file, key, {}, max);
}

// A float key that may be zero; `fallback` when absent. Must be finite and >= 0 (kMalformed).
Result<float> ReadNonNegativeFloat(const gguf::File& file, const std::string& key,
                                   float fallback) {
  const gguf::Value* value = file.Find(key);
  if (value == nullptr) return fallback;
  if (std::optional<double> v = value->AsF64(); v.has_value() && *v == 0.0) return 0.0f;
  return ReadPositiveFloat(file, key, fallback);
}

// rope.scaling.*: as llama.cpp, the type defaults to "linear" and a factor f (rope.scaling.factor
// or the older rope.scale_linear; 0 or absent: none) rotates by positions / f; "none" never
// scales. Other types (yarn, longrope, ...) are refused unless their factor is 1.
Status ReadRopeScaling(const gguf::File& file, const std::string& prefix, LlamaConfig& c) {
  std::string type = "linear";
  if (const gguf::Value* v = file.Find(prefix + "rope.scaling.type"); v != nullptr) {
    if (!v->is_string()) {
      return Status(StatusCode::kTypeMismatch, "model: llama: key \"" + prefix +
                                                   "rope.scaling.type\" holds " +
                                                   std::string(gguf::ValueTypeName(v->type())) +
                                                   ", expected string");
    }
    type = v->string();
  }
  std::string factor_key = prefix + "rope.scaling.factor";
  if (file.Find(factor_key) == nullptr) factor_key = prefix + "rope.scale_linear";
  TS_ASSIGN_OR_RETURN(const float factor, ReadNonNegativeFloat(file, factor_key, 0.0f));
  if (type == "none" || factor == 0.0f || factor == 1.0f) return Status::Ok();
  if (type != "linear") {
    return Status(StatusCode::kUnsupported,
                  "model: llama: rope.scaling.type \"" + type + "\" is not supported");
  }
  c.rope_freq_scale = 1.0f / factor;
  return Status::Ok();
}

// The sliding-window keys of gemma3 (model/architecture.h).
Status ReadSlidingWindow(const gguf::File& file, const std::string& prefix, LlamaConfig& c) {
  TS_ASSIGN_OR_RETURN(c.n_swa,
                      ReadOptionalCount(file, prefix + "attention.sliding_window", kMaxContext));
  const std::string pattern_key = prefix + "attention.sliding_window_pattern";
  if (const gguf::Value* v = file.Find(pattern_key); v != nullptr && v->is_array()) {
    return Status(StatusCode::kUnsupported, "model: llama: key \"" + pattern_key +
                                                "\" is an array; only a period is supported");
  }
  c.swa_period = 6;
  if (file.Find(pattern_key) != nullptr) {
    TS_ASSIGN_OR_RETURN(c.swa_period, ReadOptionalCount(file, pattern_key, kMaxLayers));
  }
  TS_ASSIGN_OR_RETURN(c.rope_freq_base_swa,
                      ReadPositiveFloat(file, prefix + "rope.freq_base_swa", 1e4f));
  TS_ASSIGN_OR_RETURN(c.final_logit_softcap,
                      ReadNonNegativeFloat(file, prefix + "final_logit_softcapping", 0.0f));
  return Status::Ok();
}

Status OutOfRangeField(std::string_view field, std::int64_t value, std::int64_t max) {
  return Status(StatusCode::kOutOfRange, "model: llama: " + std::string(field) + " = " +
                                             std::to_string(value) + " exceeds the limit " +
                                             std::to_string(max));
}

}  // namespace

void ApplyArchitecture(const ArchitectureTraits& traits, LlamaConfig& c) {
  c.architecture = std::string(traits.name);
  c.rope_mode = traits.rope_mode;
  c.qkv_bias = traits.qkv_bias;
  c.qk_norm = traits.qk_norm;
  c.ffn_activation = traits.ffn_activation;
  c.post_norms = traits.post_norms;
  c.embd_scale = traits.scale_embeddings ? std::sqrt(static_cast<float>(c.n_embd)) : 1.0f;
  // Gemma 3 27B scales queries by 1 / sqrt(n_embd / n_head), not 1 / sqrt(head_dim).
  c.query_width = traits.sliding_window && c.n_layer == 62 && c.n_head > 0 ? c.n_embd / c.n_head : 0;
}

Status ValidateLlamaConfig(const LlamaConfig& c) {
  struct Field {
    std::string_view name;
    std::int64_t value;
    std::int64_t max;
  };
  const Field fields[] = {
      {"n_vocab", c.n_vocab, kMaxVocab},
      {"n_ctx_train", c.n_ctx_train, kMaxContext},
      {"n_embd", c.n_embd, kMaxEmbd},
      {"n_layer", c.n_layer, kMaxLayers},
      {"n_ff", c.n_ff, kMaxFf},
      {"n_head", c.n_head, kMaxHeads},
      {"n_head_kv", c.n_head_kv, kMaxHeads},
  };
  for (const Field& f : fields) {
    if (f.value <= 0) {
      return Status(StatusCode::kMalformed, "model: llama: " + std::string(f.name) + " = " +
                                                std::to_string(f.value) + " must be positive");
    }
    if (f.value > f.max) return OutOfRangeField(f.name, f.value, f.max);
  }
  if (c.n_head_kv > c.n_head || c.n_head % c.n_head_kv != 0) {
    return Status(StatusCode::kMalformed, "model: llama: attention.head_count " +
                                              std::to_string(c.n_head) +
                                              " is not a multiple of attention.head_count_kv " +
                                              std::to_string(c.n_head_kv));
  }
  if (c.head_dim <= 0 || static_cast<std::int64_t>(c.head_dim) * c.n_head > kMaxEmbd) {
    return Status(StatusCode::kMalformed, "model: llama: head_dim " + std::to_string(c.head_dim) +
                                              " x " + std::to_string(c.n_head) +
                                              " heads must be positive and at most " +
                                              std::to_string(kMaxEmbd));
  }
  if (c.n_rot <= 0 || c.n_rot % 2 != 0 || c.n_rot > c.head_dim) {
    return Status(StatusCode::kMalformed,
                  "model: llama: rope.dimension_count " + std::to_string(c.n_rot) +
                      " must be even, positive and <= head_dim " + std::to_string(c.head_dim));
  }
  if (!std::isfinite(c.rms_eps) || c.rms_eps <= 0.0f || c.rms_eps > 1.0f) {
    return Status(StatusCode::kMalformed, "model: llama: attention.layer_norm_rms_epsilon " +
                                              std::to_string(c.rms_eps) + " must be in (0, 1]");
  }
  if (!std::isfinite(c.rope_freq_base) || c.rope_freq_base <= 1.0f) {
    return Status(StatusCode::kMalformed, "model: llama: rope.freq_base " +
                                              std::to_string(c.rope_freq_base) +
                                              " must be finite and > 1");
  }
  if (c.n_swa < 0 || c.n_swa > kMaxContext || c.swa_period < 0 || c.swa_period > kMaxLayers ||
      c.query_width < 0 || c.query_width > kMaxEmbd) {
    return Status(StatusCode::kMalformed, "model: llama: attention.sliding_window " +
                                              std::to_string(c.n_swa) + ", pattern " +
                                              std::to_string(c.swa_period) + " or query width " +
                                              std::to_string(c.query_width) + " out of range");
  }
  if (!std::isfinite(c.rope_freq_base_swa) || c.rope_freq_base_swa <= 1.0f) {
    return Status(StatusCode::kMalformed, "model: llama: rope.freq_base_swa " +
                                              std::to_string(c.rope_freq_base_swa) +
                                              " must be finite and > 1");
  }
  const struct {
    std::string_view name;
    float value;
    bool zero_ok;  // else the value must be positive
  } floats[] = {
      {"rope.scaling.factor (as 1 / freq_scale)", c.rope_freq_scale, false},
      {"embedding scale", c.embd_scale, false},
      {"final_logit_softcapping", c.final_logit_softcap, true},
  };
  for (const auto& f : floats) {
    if (!std::isfinite(f.value) || f.value < 0.0f || (f.value == 0.0f && !f.zero_ok)) {
      return Status(StatusCode::kMalformed, "model: llama: " + std::string(f.name) + " " +
                                                std::to_string(f.value) + " is out of range");
    }
  }
  return Status::Ok();
}

Result<LlamaConfig> ReadLlamaConfig(const gguf::File& file) {
  const gguf::Value* arch = file.Find(kArchKey);
  if (arch == nullptr) {
    return Status(StatusCode::kUnsupported,
                  "model: key \"general.architecture\" is absent (supported: " +
                      SupportedArchitectureNames() + ")");
  }
  if (!arch->is_string()) {
    return Status(StatusCode::kTypeMismatch, "model: key \"general.architecture\" holds " +
                                                 std::string(gguf::ValueTypeName(arch->type())) +
                                                 ", expected string");
  }
  const ArchitectureTraits* traits = FindArchitecture(arch->string());
  if (traits == nullptr) {
    return Status(StatusCode::kUnsupported, "model: architecture \"" + arch->string() +
                                                "\" is not supported (supported: " +
                                                SupportedArchitectureNames() + ")");
  }
  const std::string prefix = std::string(traits->name) + ".";
  auto Key = [&prefix](std::string_view suffix) { return prefix + std::string(suffix); };

  LlamaConfig c;
  TS_ASSIGN_OR_RETURN(c.n_ctx_train, ReadCount(file, Key("context_length"), {}, kMaxContext));
  TS_ASSIGN_OR_RETURN(c.n_embd, ReadCount(file, Key("embedding_length"), {}, kMaxEmbd));
  TS_ASSIGN_OR_RETURN(c.n_layer, ReadCount(file, Key("block_count"), {}, kMaxLayers));
  TS_ASSIGN_OR_RETURN(c.n_ff, ReadCount(file, Key("feed_forward_length"), {}, kMaxFf));
  TS_ASSIGN_OR_RETURN(c.n_head, ReadCount(file, Key("attention.head_count"), {}, kMaxHeads));
  TS_ASSIGN_OR_RETURN(c.n_head_kv,
                      ReadCount(file, Key("attention.head_count_kv"), c.n_head, kMaxHeads));
  if (file.Find(Key("attention.key_length")) != nullptr) {
    TS_ASSIGN_OR_RETURN(c.head_dim, ReadCount(file, Key("attention.key_length"), {}, kMaxEmbd));
  } else if (c.n_embd % c.n_head != 0) {
    return Status(StatusCode::kMalformed,
                  "model: llama: embedding_length " + std::to_string(c.n_embd) +
                      " is not divisible by attention.head_count " + std::to_string(c.n_head));
  } else {
    c.head_dim = c.n_embd / c.n_head;
  }
  if (file.Find(Key("attention.value_length")) != nullptr) {
    TS_ASSIGN_OR_RETURN(const std::int32_t value_length,
                        ReadCount(file, Key("attention.value_length"), {}, kMaxEmbd));
    if (value_length != c.head_dim) {
      return Status(StatusCode::kUnsupported,
                    "model: llama: attention.value_length " + std::to_string(value_length) +
                        " differs from attention.key_length " + std::to_string(c.head_dim) +
                        " (not supported)");
    }
  }
  TS_ASSIGN_OR_RETURN(c.n_rot, ReadCount(file, Key("rope.dimension_count"), c.head_dim, kMaxEmbd));
  TS_ASSIGN_OR_RETURN(c.rms_eps,
                      ReadPositiveFloat(file, Key("attention.layer_norm_rms_epsilon"), 1e-5f));
  TS_ASSIGN_OR_RETURN(c.rope_freq_base, ReadPositiveFloat(file, Key("rope.freq_base"), 1e4f));

  TS_RETURN_IF_ERROR(ReadRopeScaling(file, prefix, c));
  if (traits->sliding_window) TS_RETURN_IF_ERROR(ReadSlidingWindow(file, prefix, c));
  ApplyArchitecture(*traits, c);

  const gguf::TensorInfo* embd = file.FindTensor(kTokenEmbd);
  if (embd == nullptr) {
    return Status(StatusCode::kMissingTensor,
                  "model: llama: tensor \"token_embd.weight\" is absent");
  }
  if (embd->dims.size() != 2 || embd->dims[0] != static_cast<std::uint64_t>(c.n_embd)) {
    std::string found = "[";
    for (std::size_t i = 0; i < embd->dims.size(); ++i) {
      found += (i ? ", " : "") + std::to_string(embd->dims[i]);
    }
    found += "]";
    return Status(StatusCode::kShapeMismatch,
                  "model: llama: tensor \"token_embd.weight\" has shape " + found + ", expected [" +
                      std::to_string(c.n_embd) + ", n_vocab]");
  }
  if (embd->dims[1] == 0 || embd->dims[1] > static_cast<std::uint64_t>(kMaxVocab)) {
    return Status(StatusCode::kOutOfRange, "model: llama: n_vocab " +
                                               std::to_string(embd->dims[1]) +
                                               " (token_embd.weight rows) is outside [1, " +
                                               std::to_string(kMaxVocab) + "]");
  }
  c.n_vocab = static_cast<std::int32_t>(embd->dims[1]);
  if (const gguf::Value* tokens = file.Find("tokenizer.ggml.tokens");
      tokens != nullptr && tokens->is_array() &&
      tokens->array().items.size() != static_cast<std::size_t>(c.n_vocab)) {
    return Status(StatusCode::kIncompatible, "model: llama: tokenizer.ggml.tokens has " +
                                                 std::to_string(tokens->array().items.size()) +
                                                 " tokens but token_embd.weight has " +
                                                 std::to_string(c.n_vocab) + " rows");
  }
  TS_RETURN_IF_ERROR(ValidateLlamaConfig(c));
  return c;
}

}  // namespace tessera::model
