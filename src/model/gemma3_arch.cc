// The `gemma3` architecture (Gemma 3 text models such as gemma-3-270m) as llama.cpp writes it
// to GGUF. Against qwen3's block (NEOX RoPE, no biases, an RMSNorm of every query and key head
// before RoPE, heads of attention.key_length):
//   * x = token_embd[token] * sqrt(n_embd) before the first layer;
//   * the gated FFN uses GELU's tanh approximation: Wdown(gelu(Wgate h) * Wup h);
//   * the attention output and the FFN output are each RMS-normalized with their own gains
//     (blk.N.post_attention_norm, blk.N.post_ffw_norm) before they join the residual stream;
//   * with gemma3.attention.sliding_window = W, layer il is a sliding-window layer unless
//     il % P == P - 1 (P = gemma3.attention.sliding_window_pattern, default 6): a windowed layer
//     attends to the last W positions (its own included) and rotates with RoPE base
//     gemma3.rope.freq_base_swa (default 10000) and no scaling; the others see the whole
//     context with rope.freq_base;
//   * queries are scaled by 1 / sqrt(head_dim) (by 1 / sqrt(n_embd / n_head) for the 62-layer
//     27B model, as llama.cpp does);
//   * gemma3.final_logit_softcapping c, when present and non-zero: logits = c tanh(logits / c).
// The norm gains in the file already include Gemma's "1 +" (convert_hf_to_gguf and tessera
// convert add it), so the RMSNorms are the usual x / rms(x) * w. The output is tied to
// token_embd unless output.weight is present.
#include "model/architecture.h"

namespace tessera::model {

const ArchitectureTraits& Gemma3Architecture() {
  static constexpr ArchitectureTraits kGemma3 = {
      .name = "gemma3",
      .rope_mode = kernels::RopeMode::kNeox,
      .qkv_bias = false,
      .qk_norm = true,
      .ffn_activation = FfnActivation::kGelu,
      .post_norms = true,
      .scale_embeddings = true,
      .sliding_window = true,
  };
  return kGemma3;
}

}  // namespace tessera::model
