// The `qwen3` architecture (Qwen3 dense models such as Qwen3-0.6B) as llama.cpp writes it to
// GGUF: Qwen2's block without the Q/K/V biases, with an RMSNorm of every query and key head
// (blk.N.attn_q_norm.weight and attn_k_norm.weight, [head_dim], the same eps as the other
// norms) after the projection and before RoPE, which rotates NEOX pairs. The head width comes
// from qwen3.attention.key_length and need not be n_embd / n_head (Qwen3-0.6B: 1024 wide, 16
// heads of 128), so Q is n_head * head_dim wide and attn_output maps that back to n_embd.
// Metadata keys are under "qwen3.".
#include "model/architecture.h"

namespace tessera::model {

const ArchitectureTraits& Qwen3Architecture() {
  static constexpr ArchitectureTraits kQwen3 = {"qwen3", kernels::RopeMode::kNeox, false, true};
  return kQwen3;
}

}  // namespace tessera::model
