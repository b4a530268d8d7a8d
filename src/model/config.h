// LlamaConfig: the hyper-parameters of a llama-architecture GGUF, read from its metadata and
// validated before anything is allocated.
//
// Keys read (llama.cpp's names; "llama." is the architecture prefix):
//   general.architecture                 "llama", "qwen2", "qwen3" or "gemma3" (else kUnsupported
//                                        naming it);
//                                        the keys below use it as their prefix
//   llama.context_length                 n_ctx_train
//   llama.embedding_length               n_embd
//   llama.block_count                    n_layer
//   llama.feed_forward_length            n_ff
//   llama.attention.head_count           n_head
//   llama.attention.head_count_kv        n_head_kv (default n_head)
//   llama.attention.layer_norm_rms_epsilon  rms_eps (default 1e-5)
//   llama.rope.freq_base                 rope_freq_base (default 10000)
//   llama.attention.key_length           head_dim (default n_embd / n_head); value_length, when
//                                        present, must be equal (else kUnsupported)
//   llama.rope.dimension_count           n_rot (default head_dim)
//   llama.rope.scaling.type              absent, "linear" or "none" (others kUnsupported)
//   llama.rope.scaling.factor            linear scaling: rope_freq_scale = 1 / factor (as
//                                        llama.cpp, also when the type is absent); 0 = none
// Architectures with sliding-window layers (gemma3; model/architecture.h) also read:
//   llama.attention.sliding_window       n_swa (absent or 0: no windowed layers)
//   llama.attention.sliding_window_pattern  swa_period (default 6; an array is kUnsupported)
//   llama.rope.freq_base_swa             rope_freq_base_swa (default 10000)
//   llama.final_logit_softcapping        final_logit_softcap (default 0: none)
// The vocabulary size is taken from the token_embd.weight tensor (dims [n_embd, n_vocab],
// innermost first) and must agree with tokenizer.ggml.tokens when that array is present.
//
// Thread safety: plain data; ReadLlamaConfig is reentrant.
#ifndef TESSERA_MODEL_CONFIG_H_
#define TESSERA_MODEL_CONFIG_H_

#include <cmath>
#include <cstdint>
#include <string>

#include "gguf/reader.h"
#include "kernels/kernels.h"
#include "model/architecture.h"
#include "tessera/status.h"

namespace tessera::model {

// Sane upper bounds: anything above is refused with kOutOfRange before allocation.
inline constexpr std::int64_t kMaxEmbd = 65536;
inline constexpr std::int64_t kMaxLayers = 1024;
inline constexpr std::int64_t kMaxHeads = 1024;
inline constexpr std::int64_t kMaxFf = 1 << 20;
inline constexpr std::int64_t kMaxContext = 1 << 24;
inline constexpr std::int64_t kMaxVocab = 1 << 22;

struct LlamaConfig {
  std::int32_t n_vocab = 0;      // rows of token_embd / output
  std::int32_t n_ctx_train = 0;  // context length the model was trained with
  std::int32_t n_embd = 0;       // model width
  std::int32_t n_layer = 0;      // transformer blocks
  std::int32_t n_ff = 0;         // feed-forward hidden width
  std::int32_t n_head = 0;       // query heads
  std::int32_t n_head_kv = 0;    // key/value heads (grouped-query attention when < n_head)
  std::int32_t head_dim = 0;     // attention.key_length, default n_embd / n_head
  std::int32_t n_rot = 0;        // leading dims of each head rotated by RoPE (even, <= head_dim)
  float rms_eps = 1e-5f;
  float rope_freq_base = 10000.0f;
  // How RoPE pairs dimensions: kNormal for llama (adjacent pairs), kNeox for qwen2 and others
  // (x[i] with x[i + n_rot/2]). Set by the architecture, not read from a key.
  kernels::RopeMode rope_mode = kernels::RopeMode::kNormal;
  std::string architecture = "llama";  // general.architecture (model/architecture.h)
  bool qkv_bias = false;               // Q/K/V projections carry biases (qwen2)
  bool qk_norm = false;                // query and key heads RMS-normalized before RoPE (qwen3)
  // Gemma 3's options (model/gemma3_arch.cc); the defaults are llama's.
  FfnActivation ffn_activation = FfnActivation::kSilu;
  bool post_norms = false;        // RMSNorm of the attention and FFN outputs before the adds
  float embd_scale = 1.0f;        // token embeddings are multiplied by this (sqrt(n_embd))
  std::int32_t query_width = 0;   // queries . keys are scaled by 1 / sqrt(this); 0: head_dim
  float rope_freq_scale = 1.0f;   // 1 / linear RoPE scaling factor (global layers)
  std::int32_t n_swa = 0;         // sliding window in positions, its own included; 0 = none
  std::int32_t swa_period = 0;    // layer il is windowed iff il % period < period - 1 (0: all)
  float rope_freq_base_swa = 10000.0f;  // RoPE base of the windowed layers (scale 1)
  float final_logit_softcap = 0.0f;     // c > 0: logits = c tanh(logits / c)

  std::int32_t n_embd_q() const { return n_head * head_dim; }      // width of one Q row
  std::int32_t n_embd_kv() const { return n_head_kv * head_dim; }  // width of one K or V row
  std::int32_t n_group() const { return n_head / n_head_kv; }      // query heads per kv head
  // Whether layer il attends through the sliding window (as llama.cpp's set_swa_pattern).
  bool IsSwaLayer(std::int32_t il) const {
    return n_swa > 0 && (swa_period == 0 || il % swa_period < swa_period - 1);
  }
  // The width whose inverse square root scales queries (Hugging Face's query_pre_attn_scalar).
  std::int32_t QueryWidth() const { return query_width > 0 ? query_width : head_dim; }
  float AttentionScale() const { return 1.0f / std::sqrt(static_cast<float>(QueryWidth())); }
};

// Sets what `traits` fixes (architecture, rope_mode, qkv_bias, qk_norm, ffn_activation,
// post_norms) and what it derives from the dimensions, which must be set already: embd_scale
// (sqrt(n_embd) when the architecture scales embeddings) and query_width (n_embd / n_head for the
// 62-layer Gemma 3 27B, as llama.cpp recognises it). ReadLlamaConfig and tessera convert use it.
void ApplyArchitecture(const ArchitectureTraits& traits, LlamaConfig& c);

// Reads and validates the config. Errors: kUnsupported (architecture not in model/architecture.h), kNotFound /
// kTypeMismatch (required key absent / wrong type, naming the key), kMalformed (a zero or
// inconsistent value, naming key and value), kOutOfRange (above the bounds above),
// kMissingTensor (no token_embd.weight), kShapeMismatch (token_embd not 2-D or its width is not
// n_embd), kIncompatible (tokenizer size differs from token_embd rows).
Result<LlamaConfig> ReadLlamaConfig(const gguf::File& file);

// The checks ReadLlamaConfig applies, for configs built in code (tests, synth).
Status ValidateLlamaConfig(const LlamaConfig& config);

}  // namespace tessera::model

#endif  // TESSERA_MODEL_CONFIG_H_
