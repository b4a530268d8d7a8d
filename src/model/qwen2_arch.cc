// The `qwen2` architecture (Qwen2, Qwen2.5) as llama.cpp writes it to GGUF: the llama block with
// two differences. The Q, K and V projections add biases (blk.N.attn_q.bias [n_embd],
// attn_k.bias and attn_v.bias [n_head_kv * head_dim], usually F32), and the Q/K weights are
// stored unpermuted, so RoPE rotates NEOX pairs (x[i], x[i + n_rot/2]). Small Qwen2 models tie
// the output matrix to token_embd. Metadata keys are under "qwen2.".
#include "model/architecture.h"

namespace tessera::model {

const ArchitectureTraits& Qwen2Architecture() {
  static constexpr ArchitectureTraits kQwen2 = {"qwen2", kernels::RopeMode::kNeox, true};
  return kQwen2;
}

}  // namespace tessera::model
