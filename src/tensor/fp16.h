// Scalar conversions between float and the two 16-bit float formats of GGUF tensors.
//
//   F16  IEEE 754 binary16: 1 sign, 5 exponent (bias 15), 10 mantissa bits.
//   BF16 bfloat16: the upper half of a binary32 (1 sign, 8 exponent, 7 mantissa bits).
//
// FloatToHalf rounds to nearest, ties to even, like the F16C instruction VCVTPS2PH with
// rounding mode 0 that ggml uses on x86: overflow goes to infinity, tiny values to subnormals
// or signed zero, and a NaN stays a NaN of the same sign, quieted, keeping the top 9 payload
// bits. HalfToFloat is exact for every input.
// FloatToBf16 rounds to nearest, ties to even, keeps subnormals, and turns a NaN into a quiet
// NaN (sets bf16 mantissa bit 6) with the same sign and top payload bits, as ggml does.
// Bf16ToFloat is exact.
//
// Values are carried as their raw bit patterns (std::uint16_t), as GGUF stores them.
// Thread safety: pure functions.
#ifndef TESSERA_TENSOR_FP16_H_
#define TESSERA_TENSOR_FP16_H_

#include <bit>
#include <cstdint>

namespace tessera::tensor {

inline float HalfToFloat(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t exp = (h >> 10) & 0x1Fu;
  std::uint32_t mant = h & 0x3FFu;
  std::uint32_t bits;
  if (exp == 0x1F) {  // inf or NaN: payload moves to the top of the float mantissa
    bits = sign | 0x7F800000u | (mant << 13);
  } else if (exp != 0) {  // normal: rebias 15 -> 127
    bits = sign | ((exp + (127 - 15)) << 23) | (mant << 13);
  } else if (mant == 0) {  // signed zero
    bits = sign;
  } else {  // subnormal half = mant * 2^-24: normalize into a float
    std::uint32_t e = 127 - 15 + 1;
    while ((mant & 0x400u) == 0) {
      mant <<= 1;
      --e;
    }
    bits = sign | (e << 23) | ((mant & 0x3FFu) << 13);
  }
  return std::bit_cast<float>(bits);
}

inline std::uint16_t FloatToHalf(float f) {
  const std::uint32_t x = std::bit_cast<std::uint32_t>(f);
  const std::uint16_t sign = static_cast<std::uint16_t>((x >> 16) & 0x8000u);
  const std::uint32_t abs = x & 0x7FFFFFFFu;
  if (abs >= 0x7F800000u) {  // inf or NaN
    if (abs == 0x7F800000u) return sign | 0x7C00u;
    return static_cast<std::uint16_t>(sign | 0x7E00u | ((abs >> 13) & 0x3FFu));
  }
  // Values >= 65520 (max half 65504 plus half an ulp) round to infinity.
  if (abs >= 0x477FF000u) return sign | 0x7C00u;
  const std::int32_t exp = static_cast<std::int32_t>(abs >> 23) - 127;  // unbiased
  if (exp >= -14) {
    // Normal half: keep 10 mantissa bits, round the dropped 13 bits to nearest even. A carry out
    // of the mantissa correctly bumps the exponent (up to infinity, excluded above).
    const std::uint32_t rebased = abs - ((127u - 15u) << 23);
    const std::uint32_t lsb = (rebased >> 13) & 1u;
    return static_cast<std::uint16_t>(sign | ((rebased + 0xFFFu + lsb) >> 13));
  }
  if (exp < -25) return sign;  // below half of the smallest subnormal (2^-25): to zero
  // Subnormal half: value = m * 2^-24 with m = mantissa_with_implicit_bit >> shift.
  const std::uint32_t mant = (abs & 0x7FFFFFu) | 0x800000u;
  const std::uint32_t shift = static_cast<std::uint32_t>(-exp - 14 + 13);  // 14..24
  const std::uint32_t kept = mant >> shift;
  const std::uint32_t rest = mant & ((1u << shift) - 1u);
  const std::uint32_t half = 1u << (shift - 1);
  const std::uint32_t rounded = kept + ((rest > half || (rest == half && (kept & 1u))) ? 1u : 0u);
  return static_cast<std::uint16_t>(sign | rounded);  // a carry into 0x400 is the smallest normal
}

inline float Bf16ToFloat(std::uint16_t b) {
  return std::bit_cast<float>(static_cast<std::uint32_t>(b) << 16);
}

inline std::uint16_t FloatToBf16(float f) {
  const std::uint32_t x = std::bit_cast<std::uint32_t>(f);
  if ((x & 0x7FFFFFFFu) > 0x7F800000u) {  // NaN: truncate and force the quiet bit
    return static_cast<std::uint16_t>((x >> 16) | 0x40u);
  }
  const std::uint32_t lsb = (x >> 16) & 1u;
  return static_cast<std::uint16_t>((x + 0x7FFFu + lsb) >> 16);
}

}  // namespace tessera::tensor

#endif  // TESSERA_TENSOR_FP16_H_
