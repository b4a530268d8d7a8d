// HfConfig: the hyper-parameters of a Hugging Face `config.json` for the architectures the engine
// runs, validated against what it implements.
//
// Accepted: "architectures": ["LlamaForCausalLM"] and/or "model_type": "llama" -> llama;
// ["Qwen2ForCausalLM"] / "qwen2" -> qwen2; ["Qwen3ForCausalLM"] / "qwen3" -> qwen3;
// ["Gemma3ForCausalLM"] / "gemma3_text" -> gemma3 (when both are present they must agree).
// Fields (required unless a default is given):
//   hidden_size, intermediate_size, num_hidden_layers, num_attention_heads, rms_norm_eps,
//   max_position_embeddings, vocab_size
//   num_key_value_heads [num_attention_heads]   rope_theta [10000]
//   tie_word_embeddings [false, for both architectures]
//   head_dim [hidden_size / num_attention_heads]: must equal that quotient, except for qwen3 and
//     gemma3 [256], whose GGUF states it as attention.key_length
//   bos_token_id, eos_token_id: integers (eos may be a list: its first entry), optional
//   hidden_act ["silu"]: anything else is refused
//   rope_scaling [null]: null, {"rope_type"/"type": "default"}, or "linear" with a factor >= 1
//     (written as rope.scaling.type/factor; gemma3 scales its full-attention layers only)
// gemma3 (Gemma 3 text models) also reads: hidden_activation ["gelu_pytorch_tanh", the only one
//   accepted], query_pre_attn_scalar [head_dim; must be what the engine uses], sliding_window,
//   layer_types (or the older sliding_window_pattern [6]) as a period (model/config.h),
//   rope_local_base_freq [10000], final_logit_softcapping [none]; rope_theta defaults to 1e6
//   and tie_word_embeddings to true; attn_logit_softcapping and use_bidirectional_attention
//   are refused.
//   torch_dtype: informational only
// Refused (kUnsupported naming the field): other architectures, llama with attention_bias or
// mlp_bias true, qwen2 with use_sliding_window true, other rope scaling, other activations.
// A missing required field is kInvalidArgument naming it; wrong JSON types kTypeMismatch; values
// outside the engine's bounds (model/config.h) kMalformed / kOutOfRange.
//
// Thread safety: plain data; the functions are reentrant.
#ifndef TESSERA_CONVERT_HF_CONFIG_H_
#define TESSERA_CONVERT_HF_CONFIG_H_

#include <cstdint>
#include <optional>
#include <string>

#include "convert/json_file.h"
#include "model/architecture.h"
#include "model/config.h"
#include "tessera/status.h"

namespace tessera::convert {

struct HfConfig {
  const model::ArchitectureTraits* arch = nullptr;  // llama, qwen2, qwen3 or gemma3
  // config.json sets head_dim (qwen3): the GGUF states it as <arch>.attention.key_length.
  bool explicit_head_dim = false;
  double rope_scaling_factor = 0.0;  // linear RoPE scaling; 0 = none
  model::LlamaConfig llama;  // n_vocab, n_ctx_train, n_embd, ... as the GGUF will state them
  bool tied = false;         // tie_word_embeddings
  std::optional<std::int32_t> bos_id;
  std::optional<std::int32_t> eos_id;
  std::string torch_dtype;  // may be empty
};

// Reads `<dir>/config.json`.
Result<HfConfig> ReadHfConfig(const std::string& dir);
// Interprets a parsed config.json (`what` names it in messages).
Result<HfConfig> ParseHfConfig(const Json& j, const std::string& what);

}  // namespace tessera::convert

#endif  // TESSERA_CONVERT_HF_CONFIG_H_
