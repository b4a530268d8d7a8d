// A naive forward pass over Hugging Face tensors, written the way transformers computes
// LlamaForCausalLM / Qwen2ForCausalLM: rotate-half RoPE (dimension i paired with i + head_dim/2)
// on the UNPERMUTED q/k weights, grouped-query attention, RMSNorm, SwiGLU, q/k/v biases for
// qwen2, query/key head norms for qwen3, and Gemma3ForCausalLM's differences for gemma3 (see
// ReferenceLogits), tied or untied output. Double precision, no cache. It never sees a GGUF file, so it is
// an independent judge of the converter's name mapping and q/k permutation.
#ifndef TESSERA_TESTS_CONVERT_HF_REFERENCE_H_
#define TESSERA_TESTS_CONVERT_HF_REFERENCE_H_

#include <cstdint>
#include <vector>

#include "hf_fixture.h"

namespace tessera::convert::testing {

// Logits [n_vocab] after each prefix tokens[0..p], for p = 0..tokens.size()-1.
std::vector<std::vector<double>> ReferenceLogits(const ModelShape& shape, const TensorMap& tensors,
                                                 const std::vector<std::int32_t>& tokens);

// log softmax of `logits` at `id`.
double LogProb(const std::vector<double>& logits, std::int32_t id);

}  // namespace tessera::convert::testing

#endif  // TESSERA_TESTS_CONVERT_HF_REFERENCE_H_
