// Quantized block layouts, bit-compatible with ggml's (and so with GGUF files of llama.cpp).
//
// A row of n elements of a blocked type is n / 32 consecutive blocks with no padding; blocks are
// byte-aligned only (2-byte scale first), so read them through these structs, which have
// alignment 2, or memcpy. The scale d is an IEEE half stored as raw bits (see fp16.h).
//
//   Q8_0 (34 bytes / 32 elements): value[j] = qs[j] * d.
//   Q4_0 (18 bytes / 32 elements): qs[j] holds element j in its low nibble and element j + 16 in
//        its high nibble (j < 16); value = (nibble - 8) * d.
//
// Thread safety: plain data.
#ifndef TESSERA_TENSOR_BLOCKS_H_
#define TESSERA_TENSOR_BLOCKS_H_

#include <cstddef>
#include <cstdint>

namespace tessera::tensor {

inline constexpr int kQK8_0 = 32;  // elements per Q8_0 block
inline constexpr int kQK4_0 = 32;  // elements per Q4_0 block

struct BlockQ8_0 {
  std::uint16_t d;  // f16 scale
  std::int8_t qs[kQK8_0];
};
static_assert(sizeof(BlockQ8_0) == 34, "Q8_0 block must match ggml's block_q8_0");
static_assert(offsetof(BlockQ8_0, qs) == 2);

struct BlockQ4_0 {
  std::uint16_t d;  // f16 scale
  std::uint8_t qs[kQK4_0 / 2];  // low nibble: element j, high nibble: element j + 16
};
static_assert(sizeof(BlockQ4_0) == 18, "Q4_0 block must match ggml's block_q4_0");
static_assert(offsetof(BlockQ4_0, qs) == 2);

}  // namespace tessera::tensor

#endif  // TESSERA_TENSOR_BLOCKS_H_
