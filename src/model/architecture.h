// Architectures: what distinguishes the decoder-only transformers that share the llama forward
// pass (model/llama.h). Each architecture is described in its own file (llama_arch.cc,
// qwen2_arch.cc) and listed in architecture.cc.
//
// An architecture fixes: the GGUF metadata prefix ("<name>.context_length", ...), how RoPE
// pairs dimensions, whether the Q/K/V projections carry biases, whether query and key heads
// are RMS-normalized before RoPE, and Gemma 3's differences (GELU instead of SiLU in the gated
// FFN, RMSNorms of the attention and FFN outputs, embeddings scaled by sqrt(n_embd), sliding-
// window layers). Everything else (tensor names, RMSNorm, gated FFN, grouped-query attention,
// tied or untied output) is shared.
//
// Thread safety: the traits are immutable constants.
#ifndef TESSERA_MODEL_ARCHITECTURE_H_
#define TESSERA_MODEL_ARCHITECTURE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "kernels/kernels.h"

namespace tessera::model {

// The activation of the gated feed-forward network: act(Wgate h) * Wup h.
enum class FfnActivation : std::uint8_t {
  kSilu,  // silu(v) = v / (1 + e^-v): llama, qwen2, qwen3
  kGelu,  // GELU's tanh approximation (gelu_pytorch_tanh): gemma3
};

struct ArchitectureTraits {
  std::string_view name;        // general.architecture, also the metadata key prefix
  kernels::RopeMode rope_mode;  // kNormal: adjacent pairs; kNeox: (i, i + n_rot/2)
  bool qkv_bias;                // blk.N.attn_{q,k,v}.bias are required
  // blk.N.attn_q_norm / attn_k_norm [head_dim]: an RMSNorm of each query and key head after the
  // projection, before RoPE (qwen3).
  bool qk_norm = false;
  FfnActivation ffn_activation = FfnActivation::kSilu;
  // blk.N.post_attention_norm / post_ffw_norm [n_embd]: an RMSNorm of the attention output and
  // of the FFN output, each before its residual add (gemma3).
  bool post_norms = false;
  // Token embeddings are multiplied by sqrt(n_embd) before the first layer (gemma3).
  bool scale_embeddings = false;
  // Reads <arch>.attention.sliding_window (and .sliding_window_pattern, rope.freq_base_swa,
  // final_logit_softcapping): windowed layers attend to the last n_swa positions only and use
  // their own RoPE base (gemma3; model/config.h).
  bool sliding_window = false;
};

const ArchitectureTraits& LlamaArchitecture();
const ArchitectureTraits& Qwen2Architecture();
const ArchitectureTraits& Qwen3Architecture();
const ArchitectureTraits& Gemma3Architecture();

// The traits of `name`, or nullptr when the architecture is not supported.
const ArchitectureTraits* FindArchitecture(std::string_view name);
// "\"llama\", \"qwen2\", \"qwen3\", \"gemma3\"": for error messages.
std::string SupportedArchitectureNames();

}  // namespace tessera::model

#endif  // TESSERA_MODEL_ARCHITECTURE_H_
