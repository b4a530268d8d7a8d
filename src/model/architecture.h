// Architectures: what distinguishes the decoder-only transformers that share the llama forward
// pass (model/llama.h). Each architecture is described in its own file (llama_arch.cc,
// qwen2_arch.cc) and listed in architecture.cc.
//
// An architecture fixes: the GGUF metadata prefix ("<name>.context_length", ...), how RoPE
// pairs dimensions, whether the Q/K/V projections carry biases, and whether query and key heads
// are RMS-normalized before RoPE. Everything else (tensor
// names, RMSNorm, SwiGLU FFN, grouped-query attention, tied or untied output) is shared.
//
// Thread safety: the traits are immutable constants.
#ifndef TESSERA_MODEL_ARCHITECTURE_H_
#define TESSERA_MODEL_ARCHITECTURE_H_

#include <string>
#include <string_view>

#include "kernels/kernels.h"

namespace tessera::model {

struct ArchitectureTraits {
  std::string_view name;        // general.architecture, also the metadata key prefix
  kernels::RopeMode rope_mode;  // kNormal: adjacent pairs; kNeox: (i, i + n_rot/2)
  bool qkv_bias;                // blk.N.attn_{q,k,v}.bias are required
  // blk.N.attn_q_norm / attn_k_norm [head_dim]: an RMSNorm of each query and key head after the
  // projection, before RoPE (qwen3).
  bool qk_norm = false;
};

const ArchitectureTraits& LlamaArchitecture();
const ArchitectureTraits& Qwen2Architecture();
const ArchitectureTraits& Qwen3Architecture();

// The traits of `name`, or nullptr when the architecture is not supported.
const ArchitectureTraits* FindArchitecture(std::string_view name);
// "\"llama\", \"qwen2\", \"qwen3\"": for error messages.
std::string SupportedArchitectureNames();

}  // namespace tessera::model

#endif  // TESSERA_MODEL_ARCHITECTURE_H_
