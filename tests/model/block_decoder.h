// An independent decoder of GGUF tensor data for the naive reference forward pass: every
// supported block layout written again from the format's description (ggml's block layouts as
// the GGUF specification and ggml-common.h describe them), reading bytes at explicit offsets,
// sharing no code with src/tensor (no block structs, no tables, no half-float routine). A
// block-packing bug in the engine's decoders therefore cannot pass in both.
#ifndef TESSERA_TESTS_MODEL_BLOCK_DECODER_H_
#define TESSERA_TESTS_MODEL_BLOCK_DECODER_H_

#include <cstdint>
#include <span>
#include <vector>

#include "tessera/status.h"

namespace tessera::model::testing {

// Decodes `n` elements of GGML type number `ggml_type` (0 f32, 1 f16, 2 q4_0, 3 q4_1, 6 q5_0,
// 7 q5_1, 8 q8_0, 10 q2_K, 11 q3_K, 12 q4_K, 13 q5_K, 14 q6_K, 20 iq4_nl, 23 iq4_xs, 30 bf16)
// from `data` into doubles.
// kUnsupported for other types; kOutOfRange if `data` is too short.
Result<std::vector<double>> DecodeBlocks(std::uint32_t ggml_type,
                                         std::span<const std::uint8_t> data, std::int64_t n);

}  // namespace tessera::model::testing

#endif  // TESSERA_TESTS_MODEL_BLOCK_DECODER_H_
