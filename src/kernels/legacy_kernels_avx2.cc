// AVX2 + FMA kernel tables for Q4_1, Q5_0 and Q5_1 (simd_tables.h), the legacy types with an
// offset or a fifth bit; layouts in tensor/blocks.h, references in reference_legacy_kernels.cc.
//
// Per block every variant computes the reference's exact int32 sum of q_w * q_x:
//   * the 4-bit quants are the nibbles in element order (low nibbles = elements 0..15, high
//     nibbles = 16..31); the fifth bit of element i is bit i of the block's 32-bit qh word,
//     spread to one byte per element (a byte shuffle of the word, then a per-byte bit test);
//   * maddubs multiplies the unsigned levels (0..31) by the int8 activations into int16 pairs
//     (at most 2 * 31 * 128, no saturation), madd with ones widens to int32;
//   * Q5_0's offset of 16: for one token (decode) subtracted as 16 * sum(q_x), computed the same
//     way and shared by all rows; in prefill tiles the levels are made signed (q - 16) and
//     multiplied as |q - 16| times x with the sign of q - 16: the same int32 lanes either way.
// The block results are accumulated in 8 float lanes with FMA: (d_w * d_x) * isum, and for
// Q4_1 / Q5_1 the offset term m_w * s_x (s_x = d_x * sum(q_x), stored in the Q8_1 block) in a
// second float accumulator added at the end; the reference sums both in one float in block
// order. Budgets: tests/kernels/simd_kernels_test.cc.
// vec_dot, vec_dot_rows and vec_dot_tile share one template over the row and token counts, so
// they are bit-identical.
//
// Everything between the pragmas is compiled for AVX2 + FMA + F16C, with -ffp-contract=off.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/simd_bits.h"
#include "kernels/simd_entry.h"
#include "kernels/simd_tables.h"
#include "tensor/blocks.h"
#include "tensor/quantize.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")

namespace tessera::kernels::simd {
namespace {

using tensor::BlockQ4_1;
using tensor::BlockQ5_0;
using tensor::BlockQ5_1;
using tensor::BlockQ8_0;
using tensor::BlockQ8_1;

constexpr int kQK = 32;
constexpr int kMaxRows = 4;  // rows per vec_dot_rows step

// int32 lanes whose sum is sum_i q[i] * x[i] (q unsigned bytes 0..31, x int8).
inline __m256i DotU8I8(__m256i q, __m256i x) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(q, x), _mm256_set1_epi16(1));
}

// Weight levels of one block as unsigned bytes.
struct Q4_1Levels {
  static constexpr std::size_t kBytes = sizeof(BlockQ4_1);
  static __m256i Get(const std::uint8_t* wb) {
    return ExpandNibbles32(wb + offsetof(BlockQ4_1, qs));
  }
};
struct Q5_0Levels {
  static constexpr std::size_t kBytes = sizeof(BlockQ5_0);
  static __m256i Get(const std::uint8_t* wb) {
    return _mm256_or_si256(ExpandNibbles32(wb + offsetof(BlockQ5_0, qs)),
                           FifthBits32(wb + offsetof(BlockQ5_0, qh)));
  }
};
struct Q5_1Levels {
  static constexpr std::size_t kBytes = sizeof(BlockQ5_1);
  static __m256i Get(const std::uint8_t* wb) {
    return _mm256_or_si256(ExpandNibbles32(wb + offsetof(BlockQ5_1, qs)),
                           FifthBits32(wb + offsetof(BlockQ5_1, qh)));
  }
};

// Every type comes as tiles of R weight rows by T activation rows: each weight block is loaded
// and unpacked once for the T tokens (vec_dot_tile, prefill); vec_dot and vec_dot_rows are the
// tiles of one token (Q5_0: a form with the same int32 lanes), so all three are bit-identical.

// ---- Q5_0 x Q8_0: q - 16 as s8, then |q - 16| times x with q - 16's sign by maddubs (pair sums
// at most 2 * 16 * 128, no saturation), madd with ones: the exact int32 sum of (q - 16) * x.
template <int R, int T>
void Q5_0Tile(std::int64_t n, const std::uint8_t* w, std::size_t row_bytes, const std::uint8_t* x,
              std::size_t x_stride, float* y, std::size_t y_stride) {
  const __m256i sixteen = _mm256_set1_epi8(16);
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 acc[R][T];
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
  }
  constexpr auto kXBytes = static_cast<std::int64_t>(sizeof(BlockQ8_0));
  for (std::int64_t b = 0; b < n / kQK; ++b) {
    for (int r = 0; r < R; ++r) {
      const std::uint8_t* wb =
          w + r * row_bytes + b * static_cast<std::int64_t>(Q5_0Levels::kBytes);
      const __m256i ws = _mm256_sub_epi8(Q5_0Levels::Get(wb), sixteen);
      const __m256i wabs = _mm256_abs_epi8(ws);
      const float dw = LoadHalfF16c(wb + offsetof(BlockQ5_0, d));
      for (int t = 0; t < T; ++t) {
        const std::uint8_t* xb = x + t * x_stride + b * kXBytes;
        const __m256i xq =
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb + offsetof(BlockQ8_0, qs)));
        const __m256i p32 =
            _mm256_madd_epi16(_mm256_maddubs_epi16(wabs, _mm256_sign_epi8(xq, ws)), ones);
        const __m256 d = _mm256_set1_ps(dw * LoadHalfF16c(xb + offsetof(BlockQ8_0, d)));
        acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p32), d, acc[r][t]);
      }
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) y[t * y_stride + r] = HorizontalSum8(acc[r][t]);
  }
}

// ---- Q4_1 / Q5_1 x Q8_1: q * x per block, plus m_w * s_x.
template <typename Levels, int R, int T>
void OffsetTile(std::int64_t n, const std::uint8_t* w, std::size_t row_bytes,
                const std::uint8_t* x, std::size_t x_stride, float* y, std::size_t y_stride) {
  // d and m sit at the same offsets in BlockQ4_1 and BlockQ5_1.
  static_assert(offsetof(BlockQ4_1, m) == offsetof(BlockQ5_1, m));
  __m256 acc[R][T];
  float acc_m[R][T];
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) {
      acc[r][t] = _mm256_setzero_ps();
      acc_m[r][t] = 0.0f;
    }
  }
  constexpr auto kXBytes = static_cast<std::int64_t>(sizeof(BlockQ8_1));
  for (std::int64_t b = 0; b < n / kQK; ++b) {
    for (int r = 0; r < R; ++r) {
      const std::uint8_t* wb = w + r * row_bytes + b * static_cast<std::int64_t>(Levels::kBytes);
      const __m256i q = Levels::Get(wb);
      const float dw = LoadHalfF16c(wb + offsetof(BlockQ4_1, d));
      const float mw = LoadHalfF16c(wb + offsetof(BlockQ4_1, m));
      for (int t = 0; t < T; ++t) {
        const std::uint8_t* xb = x + t * x_stride + b * kXBytes;
        const __m256i xq =
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb + offsetof(BlockQ8_1, qs)));
        const __m256i p32 = DotU8I8(q, xq);
        const __m256 d = _mm256_set1_ps(dw * LoadHalfF16c(xb + offsetof(BlockQ8_1, d)));
        acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p32), d, acc[r][t]);
        acc_m[r][t] += mw * LoadHalfF16c(xb + offsetof(BlockQ8_1, s));
      }
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) y[t * y_stride + r] = HorizontalSum8(acc[r][t]) + acc_m[r][t];
  }
}

// One token (vec_dot, vec_dot_rows): q * x - 16 * x, the second term once per block for all R
// rows (the same int32 lanes as the tile's signed form: bit-identical results, fewer
// instructions per pair when the activation is shared).
template <int R>
void Q5_0DotRows(std::int64_t n, const std::uint8_t* w, std::size_t row_bytes,
                 const std::uint8_t* x, float* y) {
  const __m256i sixteen = _mm256_set1_epi8(16);
  __m256 acc[R];
  for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
  for (std::int64_t b = 0; b < n / kQK; ++b) {
    const std::uint8_t* xb = x + b * static_cast<std::int64_t>(sizeof(BlockQ8_0));
    const __m256i xq =
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb + offsetof(BlockQ8_0, qs)));
    const __m256i x16 = DotU8I8(sixteen, xq);
    const float dx = LoadHalfF16c(xb + offsetof(BlockQ8_0, d));
    for (int r = 0; r < R; ++r) {
      const std::uint8_t* wb =
          w + r * row_bytes + b * static_cast<std::int64_t>(Q5_0Levels::kBytes);
      const __m256i p32 = _mm256_sub_epi32(DotU8I8(Q5_0Levels::Get(wb), xq), x16);
      const __m256 d = _mm256_set1_ps(LoadHalfF16c(wb + offsetof(BlockQ5_0, d)) * dx);
      acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p32), d, acc[r]);
    }
  }
  for (int r = 0; r < R; ++r) y[r] = HorizontalSum8(acc[r]);
}
template <int R>
void Q5_0RowsTile(std::int64_t n, const std::uint8_t* w, std::size_t row_bytes,
                  const std::uint8_t* x, std::size_t, float* y, std::size_t) {
  Q5_0DotRows<R>(n, w, row_bytes, x, y);
}
template <typename Levels, int R>
void OffsetDotRows(std::int64_t n, const std::uint8_t* w, std::size_t row_bytes,
                   const std::uint8_t* x, float* y) {
  OffsetTile<Levels, R, 1>(n, w, row_bytes, x, 0, y, 0);
}

using Q4_1Entry =
    RowsEntry<kMaxRows, OffsetDotRows<Q4_1Levels, 1>, OffsetDotRows<Q4_1Levels, kMaxRows>>;
using Q5_0Entry = RowsEntry<kMaxRows, Q5_0DotRows<1>, Q5_0DotRows<kMaxRows>>;
using Q5_1Entry =
    RowsEntry<kMaxRows, OffsetDotRows<Q5_1Levels, 1>, OffsetDotRows<Q5_1Levels, kMaxRows>>;

// Prefill tiles: 2 rows x 4 tokens, as the other AVX2 quantized types.
constexpr int kTileRows = 2;
constexpr int kTileTokens = 4;
constexpr auto kQ5_0Tile =
    TileEntry<kTileRows, kTileTokens, Q5_0Tile<kTileRows, kTileTokens>, Q5_0RowsTile<kTileRows>,
              Q5_0Tile<1, kTileTokens>, Q5_0RowsTile<1>>;
template <typename Levels>
constexpr auto kOffsetTile =
    TileEntry<kTileRows, kTileTokens, OffsetTile<Levels, kTileRows, kTileTokens>,
              OffsetTile<Levels, kTileRows, 1>, OffsetTile<Levels, 1, kTileTokens>,
              OffsetTile<Levels, 1, 1>>;

constexpr TypeKernels kAvx2Q4_1 = {DType::kQ4_1,
                                   DType::kQ8_1,
                                   "avx2",
                                   tensor::QuantizeRowQ4_1,
                                   tensor::DequantizeRowQ4_1,
                                   tensor::QuantizeRowQ8_1,
                                   Q4_1Entry::VecDot,
                                   Q4_1Entry::VecDotRows,
                                   kOffsetTile<Q4_1Levels>};
constexpr TypeKernels kAvx2Q5_0 = {DType::kQ5_0,
                                   DType::kQ8_0,
                                   "avx2",
                                   tensor::QuantizeRowQ5_0,
                                   tensor::DequantizeRowQ5_0,
                                   tensor::QuantizeRowQ8_0,
                                   Q5_0Entry::VecDot,
                                   Q5_0Entry::VecDotRows,
                                   kQ5_0Tile};
constexpr TypeKernels kAvx2Q5_1 = {DType::kQ5_1,
                                   DType::kQ8_1,
                                   "avx2",
                                   tensor::QuantizeRowQ5_1,
                                   tensor::DequantizeRowQ5_1,
                                   tensor::QuantizeRowQ8_1,
                                   Q5_1Entry::VecDot,
                                   Q5_1Entry::VecDotRows,
                                   kOffsetTile<Q5_1Levels>};

}  // namespace
}  // namespace tessera::kernels::simd

#pragma GCC pop_options

// Plain x86-64 code from here: the dispatcher calls this on any CPU.
namespace tessera::kernels::simd {

const TypeKernels* Avx2LegacyKernels(DType type) {
  switch (type) {
    case DType::kQ4_1:
      return &kAvx2Q4_1;
    case DType::kQ5_0:
      return &kAvx2Q5_0;
    case DType::kQ5_1:
      return &kAvx2Q5_1;
    default:
      return nullptr;
  }
}

}  // namespace tessera::kernels::simd

#else  // not x86-64 with GCC/Clang

namespace tessera::kernels::simd {
const TypeKernels* Avx2LegacyKernels(DType) { return nullptr; }
}  // namespace tessera::kernels::simd

#endif
