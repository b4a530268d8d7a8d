// Byte-level helpers for reading and writing quantized blocks (blocks.h) at any alignment, and
// the rounding rule ggml's quantizers use. Shared by the tensor quantizers and the scalar
// reference kernels; not part of the public API of the tensor layer.
//
// Thread safety: pure functions.
#ifndef TESSERA_TENSOR_BLOCK_IO_H_
#define TESSERA_TENSOR_BLOCK_IO_H_

#include <cmath>
#include <cstdint>
#include <cstring>

#include "tensor/fp16.h"

namespace tessera::tensor {

// f16 value at p (2 bytes, any alignment), widened to float.
inline float LoadHalfAt(const std::uint8_t* p) {
  std::uint16_t h;
  std::memcpy(&h, p, sizeof(h));
  return HalfToFloat(h);
}

// Rounds v to f16 and stores it at p (2 bytes, any alignment).
inline void StoreHalfAt(std::uint8_t* p, float v) {
  const std::uint16_t h = FloatToHalf(v);
  std::memcpy(p, &h, sizeof(h));
}

inline float LoadF32At(const std::uint8_t* p) {
  float v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

inline std::uint16_t LoadU16At(const std::uint8_t* p) {
  std::uint16_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

inline std::int16_t LoadI16At(const std::uint8_t* p) {
  std::int16_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

// ggml's nearest_int: round to nearest, ties to even (what adding 1.5 * 2^23 does in float),
// for |v| <= 4194303. Outside that range ggml asserts; we saturate, and NaN gives 0, so that no
// input is undefined behaviour.
inline int NearestInt(float v) {
  constexpr float kLimit = 4194303.0f;
  if (!(v == v)) return 0;
  if (v > kLimit) return static_cast<int>(kLimit);
  if (v < -kLimit) return -static_cast<int>(kLimit);
  return static_cast<int>(std::nearbyint(v));  // default rounding mode: ties to even
}

// The 6-bit scale and min of sub-block j (< 8) of a Q4_K / Q5_K block's 12 packed bytes.
inline void ScaleMinK4(int j, const std::uint8_t* scales, std::uint8_t* sc, std::uint8_t* mn) {
  if (j < 4) {
    *sc = scales[j] & 63;
    *mn = scales[j + 4] & 63;
  } else {
    *sc = static_cast<std::uint8_t>((scales[j + 4] & 0x0F) | ((scales[j - 4] >> 6) << 4));
    *mn = static_cast<std::uint8_t>((scales[j + 4] >> 4) | ((scales[j] >> 6) << 4));
  }
}

// The 6-bit scale (0..63, stored with an offset of 32) of sub-block s (< 16) of a Q3_K block's
// 12 packed bytes (blocks.h).
inline int ScaleQ3K(int s, const std::uint8_t* scales) {
  const int low = s < 8 ? (scales[s] & 0x0F) : (scales[s - 8] >> 4);
  const int high = (scales[8 + s % 4] >> (2 * (s / 4))) & 3;
  return low | (high << 4);
}

// The 6-bit scale (0..63, offset 32) of sub-block s (< 8) of an IQ4_XS block (blocks.h).
inline int ScaleIQ4XS(int s, const std::uint8_t* block) {
  const std::uint16_t high = LoadU16At(block + 2);
  const int low = (block[4 + s / 2] >> (4 * (s % 2))) & 0x0F;
  return low | (((high >> (2 * s)) & 3) << 4);
}

}  // namespace tessera::tensor

#endif  // TESSERA_TENSOR_BLOCK_IO_H_
