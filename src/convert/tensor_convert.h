// Converting one checkpoint tensor (F32, F16 or BF16, row-major) into the bytes of a GGUF tensor
// of another type, optionally permuting its rows for RoPE.
//
// The RoPE row permutation (llama only). Hugging Face's llama rotates "halves": within each head
// of head_dim rows, row j is paired with row j + head_dim/2. GGUF llama files (and the engine's
// RopeMode::kNormal) pair adjacent rows (2i, 2i+1). llama.cpp's converter therefore reorders the
// rows of q_proj and k_proj per head, as reshape (n_heads, 2, head_dim/2, in) -> swap axes 1, 2
// -> reshape: output row 2i + k of a head takes input row k * head_dim/2 + i of the same head
// (k in {0, 1}, i < head_dim/2). The same reordering applies to the output rows of a LoRA B
// matrix of q or k, so that B A is permuted like the base weight.
//
// Thread safety: pure functions.
#ifndef TESSERA_CONVERT_TENSOR_CONVERT_H_
#define TESSERA_CONVERT_TENSOR_CONVERT_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "convert/safetensors.h"
#include "tensor/types.h"
#include "tessera/status.h"

namespace tessera::convert {

// The input row that lands at output row `row` when `n_rows` rows of `n_heads` heads are
// permuted as above. Requires n_rows % (2 * n_heads) == 0 (checked by the caller).
std::uint64_t RopeSourceRow(std::uint64_t row, std::uint64_t n_rows, std::uint32_t n_heads);

// The bytes of a converted tensor: either borrowed from the checkpoint (same type, no
// permutation: zero copy) or owned. Move-only in practice (copying copies `owned` and leaves
// `bytes` pointing at the source's buffer), so keep it in a stable container.
struct ConvertedTensor {
  std::vector<std::uint8_t> owned;
  std::span<const std::uint8_t> bytes;
  tensor::DType type = tensor::DType::kF32;
};

// Converts `src` (read as n_rows rows of row_length elements) to `type`, permuting rows over
// `permute_heads` heads when > 0 and adding `add` to every element (in float) when non-zero. Errors: kInvalidArgument (row length not a multiple of the
// type's block size, rows not divisible into 2 * permute_heads), kUnsupported (no quantizer).
// Writes the result into `out`, which must not move afterwards if it borrows (see above).
Status ConvertTensor(const StTensor& src, tensor::DType type, std::uint32_t permute_heads,
                     ConvertedTensor* out, float add = 0.0f);

}  // namespace tessera::convert

#endif  // TESSERA_CONVERT_TENSOR_CONVERT_H_
