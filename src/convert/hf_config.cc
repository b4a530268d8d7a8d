#include "convert/hf_config.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "convert/checkpoint.h"

namespace tessera::convert {
namespace {

Result<std::int32_t> PositiveInt(const Json& j, const char* key, const std::string& what,
                                 std::optional<std::int64_t> fallback = std::nullopt) {
  TS_ASSIGN_OR_RETURN(std::optional<std::int64_t> v, GetInt(j, key, what));
  if (!v.has_value()) {
    if (!fallback.has_value()) {
      return InvalidArgument(what + ": required field \"" + key + "\" is absent");
    }
    v = fallback;
  }
  if (*v <= 0 || *v > std::numeric_limits<std::int32_t>::max()) {
    return OutOfRange(what + ": \"" + key + "\" = " + std::to_string(*v) + " is outside [1, 2^31)");
  }
  return static_cast<std::int32_t>(*v);
}

Result<std::optional<std::int32_t>> TokenId(const Json& j, const char* key,
                                            const std::string& what) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::optional<std::int32_t>();
  const Json* v = &*it;
  if (v->is_array()) {  // e.g. "eos_token_id": [128001, 128009]: the first is the EOS
    if (v->empty()) return std::optional<std::int32_t>();
    v = &(*v)[0];
  }
  if (!v->is_number_integer() || v->get<std::int64_t>() < 0 ||
      v->get<std::int64_t>() > std::numeric_limits<std::int32_t>::max()) {
    return Status(StatusCode::kTypeMismatch,
                  what + ": \"" + key + "\" is not a non-negative integer token id");
  }
  return std::optional<std::int32_t>(static_cast<std::int32_t>(v->get<std::int64_t>()));
}

Status CheckFalse(const Json& j, const char* key, const std::string& what, const std::string& why) {
  TS_ASSIGN_OR_RETURN(std::optional<bool> v, GetBool(j, key, what));
  if (v.value_or(false)) {
    return Unsupported(what + ": \"" + key + "\" is true; " + why);
  }
  return Status::Ok();
}

// rope_scaling: none, "default", or "linear" with a factor (returned; 0 = none). Others refused.
Result<double> ReadRopeScaling(const Json& j, const std::string& what) {
  auto it = j.find("rope_scaling");
  if (it == j.end() || it->is_null()) return 0.0;
  if (!it->is_object()) {
    return Status(StatusCode::kTypeMismatch, what + ": \"rope_scaling\" is " + JsonTypeName(*it) +
                                                 ", expected an object or null");
  }
  std::optional<std::string> kind;
  TS_ASSIGN_OR_RETURN(kind, GetString(*it, "rope_type", what + ": rope_scaling"));
  if (!kind.has_value()) {
    TS_ASSIGN_OR_RETURN(kind, GetString(*it, "type", what + ": rope_scaling"));
  }
  const std::string k = kind.value_or("");
  if (k == "default") return 0.0;
  TS_ASSIGN_OR_RETURN(std::optional<double> factor, GetNumber(*it, "factor", what));
  if (k == "linear" && factor.has_value() && std::isfinite(*factor) && *factor >= 1.0) {
    return *factor == 1.0 ? 0.0 : *factor;
  }
  return Unsupported(what + ": rope_scaling type \"" + k + "\"" +
                     (factor.has_value() ? " with factor " + std::to_string(*factor) : "") +
                     " is not supported (the engine implements linear RoPE scaling only)");
}

// Gemma 3's attention pattern: sliding_window, and which layers use it, from "layer_types"
// (transformers >= 4.53: "sliding_attention" / "full_attention" per layer) or the older
// "sliding_window_pattern" (every Nth layer full). The engine's rule is llama.cpp's: layer il is
// windowed iff il % period < period - 1 (period 0: all); a list it cannot express is refused.
Status ReadGemma3Window(const Json& j, const std::string& what, model::LlamaConfig& l) {
  TS_ASSIGN_OR_RETURN(std::optional<std::int64_t> window, GetInt(j, "sliding_window", what));
  std::int64_t period = 6;
  if (auto it = j.find("layer_types"); it != j.end() && !it->is_null()) {
    if (!it->is_array() || it->size() != static_cast<std::size_t>(l.n_layer)) {
      return Unsupported(what + ": \"layer_types\" must list one type per layer (" +
                         std::to_string(l.n_layer) + ")");
    }
    std::vector<bool> sliding;
    for (const Json& t : *it) {
      if (!t.is_string() ||
          (t.get<std::string>() != "sliding_attention" && t.get<std::string>() != "full_attention")) {
        return Unsupported(what + ": \"layer_types\" holds " +
                           t.dump(-1, ' ', false, Json::error_handler_t::replace) +
                           "; expected \"sliding_attention\" or \"full_attention\"");
      }
      sliding.push_back(t.get<std::string>() == "sliding_attention");
    }
    const auto first_full = std::find(sliding.begin(), sliding.end(), false);
    period = first_full == sliding.end() ? 0 : (first_full - sliding.begin()) + 1;
    for (std::size_t il = 0; il < sliding.size(); ++il) {
      const bool want = period == 0 || static_cast<std::int64_t>(il) % period < period - 1;
      if (sliding[il] != want) {
        return Unsupported(what + ": \"layer_types\" is not a repeating pattern of sliding "
                           "layers ending in one full layer (layer " + std::to_string(il) + ")");
      }
    }
  } else {
    TS_ASSIGN_OR_RETURN(std::optional<std::int64_t> p, GetInt(j, "sliding_window_pattern", what));
    if (p.has_value()) period = *p;
  }
  if (period < 0 || period > model::kMaxLayers) {
    return OutOfRange(what + ": sliding-window pattern " + std::to_string(period) +
                      " is out of range");
  }
  l.swa_period = static_cast<std::int32_t>(period);
  const bool any_sliding = period != 1;
  if (any_sliding) {
    if (!window.has_value() || *window <= 0 || *window > model::kMaxContext) {
      return InvalidArgument(what + ": \"sliding_window\" must be a positive integer when "
                             "layers slide");
    }
    l.n_swa = static_cast<std::int32_t>(*window);
  }
  TS_ASSIGN_OR_RETURN(std::optional<double> local_base, GetNumber(j, "rope_local_base_freq", what));
  l.rope_freq_base_swa = static_cast<float>(local_base.value_or(10000.0));
  return Status::Ok();
}

// The rest of Gemma 3's fields: GELU, the query scale, soft-capping.
Status ReadGemma3(const Json& j, const std::string& what, model::LlamaConfig& l) {
  TS_ASSIGN_OR_RETURN(std::optional<std::string> act, GetString(j, "hidden_activation", what));
  if (!act.has_value()) {
    TS_ASSIGN_OR_RETURN(act, GetString(j, "hidden_act", what));
  }
  if (act.value_or("gelu_pytorch_tanh") != "gelu_pytorch_tanh") {
    return Unsupported(what + ": hidden_activation \"" + *act +
                       "\" is not supported (gemma3: only gelu_pytorch_tanh)");
  }
  TS_ASSIGN_OR_RETURN(std::optional<double> qpas, GetNumber(j, "query_pre_attn_scalar", what));
  if (qpas.has_value() && *qpas != l.QueryWidth()) {
    return Unsupported(what + ": query_pre_attn_scalar " + std::to_string(*qpas) +
                       " differs from what the engine uses (" + std::to_string(l.QueryWidth()) +
                       ")");
  }
  if (auto it = j.find("attn_logit_softcapping"); it != j.end() && !it->is_null()) {
    return Unsupported(what + ": attn_logit_softcapping is not supported");
  }
  TS_ASSIGN_OR_RETURN(std::optional<double> cap, GetNumber(j, "final_logit_softcapping", what));
  if (cap.has_value()) l.final_logit_softcap = static_cast<float>(*cap);
  TS_RETURN_IF_ERROR(CheckFalse(j, "use_bidirectional_attention", what,
                                "bidirectional attention (EmbeddingGemma) is not supported"));
  return ReadGemma3Window(j, what, l);
}

}  // namespace

Result<HfConfig> ParseHfConfig(const Json& j, const std::string& what) {
  HfConfig c;
  std::string from_arch, from_type;
  if (auto it = j.find("architectures"); it != j.end() && !it->is_null()) {
    if (!it->is_array() || it->size() != 1 || !(*it)[0].is_string()) {
      return Unsupported(what + ": \"architectures\" must list exactly one architecture name");
    }
    const std::string name = (*it)[0].get<std::string>();
    if (name == "LlamaForCausalLM") {
      from_arch = "llama";
    } else if (name == "Qwen2ForCausalLM") {
      from_arch = "qwen2";
    } else if (name == "Qwen3ForCausalLM") {
      from_arch = "qwen3";
    } else if (name == "Gemma3ForCausalLM") {
      from_arch = "gemma3";
    } else {
      return Unsupported(what + ": architecture \"" + name +
                         "\" is not supported (supported: LlamaForCausalLM, Qwen2ForCausalLM, "
                         "Qwen3ForCausalLM, Gemma3ForCausalLM)");
    }
  }
  TS_ASSIGN_OR_RETURN(std::optional<std::string> model_type, GetString(j, "model_type", what));
  if (model_type.has_value()) {
    if (*model_type != "llama" && *model_type != "qwen2" && *model_type != "qwen3" &&
        *model_type != "gemma3_text") {
      return Unsupported(what + ": model_type \"" + *model_type +
                         "\" is not supported (supported: llama, qwen2, qwen3, gemma3_text)");
    }
    from_type = *model_type == "gemma3_text" ? "gemma3" : *model_type;
  }
  if (from_arch.empty() && from_type.empty()) {
    return Unsupported(what + ": neither \"architectures\" nor \"model_type\" names the model");
  }
  if (!from_arch.empty() && !from_type.empty() && from_arch != from_type) {
    return Unsupported(what + ": \"architectures\" (" + from_arch + ") and \"model_type\" (" +
                       from_type + ") disagree");
  }
  c.arch = model::FindArchitecture(from_arch.empty() ? from_type : from_arch);
  if (c.arch == nullptr) return Internal(what + ": architecture table lacks " + from_arch);
  const bool is_llama = c.arch->name == "llama";

  model::LlamaConfig& l = c.llama;
  TS_ASSIGN_OR_RETURN(l.n_embd, PositiveInt(j, "hidden_size", what));
  TS_ASSIGN_OR_RETURN(l.n_ff, PositiveInt(j, "intermediate_size", what));
  TS_ASSIGN_OR_RETURN(l.n_layer, PositiveInt(j, "num_hidden_layers", what));
  TS_ASSIGN_OR_RETURN(l.n_head, PositiveInt(j, "num_attention_heads", what));
  TS_ASSIGN_OR_RETURN(l.n_head_kv, PositiveInt(j, "num_key_value_heads", what, l.n_head));
  TS_ASSIGN_OR_RETURN(l.n_ctx_train, PositiveInt(j, "max_position_embeddings", what));
  TS_ASSIGN_OR_RETURN(l.n_vocab, PositiveInt(j, "vocab_size", what));
  TS_ASSIGN_OR_RETURN(std::optional<std::int64_t> head_dim, GetInt(j, "head_dim", what));
  const bool is_qwen3 = c.arch->name == "qwen3";
  const bool is_gemma3 = c.arch->name == "gemma3";
  if (is_gemma3 && !head_dim.has_value()) head_dim = 256;  // Gemma3TextConfig's default
  if ((is_qwen3 || is_gemma3) && head_dim.has_value()) {
    // Qwen3 and Gemma 3 set their head width explicitly (Qwen3 128 for every size, Gemma 3
    // 256); the file carries it as <arch>.attention.key_length.
    if (*head_dim <= 0 || *head_dim > model::kMaxEmbd) {
      return Unsupported(what + ": head_dim " + std::to_string(*head_dim) + " is out of range");
    }
    l.head_dim = static_cast<std::int32_t>(*head_dim);
    c.explicit_head_dim = true;
  } else {
    if (l.n_embd % l.n_head != 0) {
      return Unsupported(what + ": hidden_size " + std::to_string(l.n_embd) +
                         " is not a multiple of num_attention_heads " + std::to_string(l.n_head));
    }
    l.head_dim = l.n_embd / l.n_head;
    if (head_dim.has_value() && *head_dim != l.head_dim) {
      return Unsupported(what + ": head_dim " + std::to_string(*head_dim) +
                         " differs from hidden_size / num_attention_heads = " +
                         std::to_string(l.head_dim) + " (the engine derives head_dim)");
    }
  }
  l.n_rot = l.head_dim;
  model::ApplyArchitecture(*c.arch, l);
  TS_ASSIGN_OR_RETURN(double eps, RequireNumber(j, "rms_norm_eps", what));
  l.rms_eps = static_cast<float>(eps);
  TS_ASSIGN_OR_RETURN(std::optional<double> theta, GetNumber(j, "rope_theta", what));
  l.rope_freq_base = static_cast<float>(theta.value_or(is_gemma3 ? 1000000.0 : 10000.0));
  TS_ASSIGN_OR_RETURN(c.rope_scaling_factor, ReadRopeScaling(j, what));
  if (c.rope_scaling_factor != 0.0) {
    l.rope_freq_scale = static_cast<float>(1.0 / c.rope_scaling_factor);
  }

  if (is_gemma3) {
    TS_RETURN_IF_ERROR(ReadGemma3(j, what, l));
  } else {
    TS_ASSIGN_OR_RETURN(std::optional<std::string> act, GetString(j, "hidden_act", what));
    if (act.has_value() && *act != "silu") {
      return Unsupported(what + ": hidden_act \"" + *act + "\" is not supported (only silu)");
    }
  }
  if (is_llama || is_qwen3 || is_gemma3) {
    TS_RETURN_IF_ERROR(CheckFalse(j, "attention_bias", what,
                                  "attention projections with biases are not supported for " +
                                      std::string(c.arch->name)));
  }
  if (is_llama) {
    TS_RETURN_IF_ERROR(
        CheckFalse(j, "mlp_bias", what, "llama MLP projections with biases are not supported"));
  } else if (!is_gemma3) {
    TS_RETURN_IF_ERROR(CheckFalse(j, "use_sliding_window", what,
                                  "qwen2's sliding-window attention is not implemented"));
  }
  TS_ASSIGN_OR_RETURN(std::optional<bool> tied, GetBool(j, "tie_word_embeddings", what));
  c.tied = tied.value_or(is_gemma3);  // Gemma3TextConfig ties by default
  TS_ASSIGN_OR_RETURN(c.bos_id, TokenId(j, "bos_token_id", what));
  TS_ASSIGN_OR_RETURN(c.eos_id, TokenId(j, "eos_token_id", what));
  TS_ASSIGN_OR_RETURN(std::optional<std::string> dtype, GetString(j, "torch_dtype", what));
  c.torch_dtype = dtype.value_or("");

  if (Status s = model::ValidateLlamaConfig(l); !s.ok()) return s.WithContext(what);
  return c;
}

Result<HfConfig> ReadHfConfig(const std::string& dir) {
  const std::string path = JoinPath(dir, "config.json");
  TS_ASSIGN_OR_RETURN(Json j, ReadJsonFile(path));
  return ParseHfConfig(j, "convert: config.json");
}

}  // namespace tessera::convert
