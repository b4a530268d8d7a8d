// AVX2 + FMA + F16C kernel tables for F32, F16, BF16, Q8_0 and Q4_0 (simd_tables.h); other
// types through Avx2KQuantKernels and Avx2LegacyKernels.
//
// Numerics against the scalar reference (kernels.h):
//   * act_from_float gives the reference's bytes for every input without NaN (infinities and
//     subnormals included): Q8_0 takes the same amax, d = amax / 127 and id = 1 / d in float,
//     computes x * id with the same single rounding, saturates as the reference, and rounds half
//     away from zero exactly (trunc, then +-1 when |frac| >= 0.5); F16 uses VCVTPS2PH (round to
//     nearest even, as FloatToHalf), BF16 the integer rounding of FloatToBf16. With a NaN in a
//     Q8_0 block the bytes may differ (the reference's amax skips NaNs; max_ps does not).
//   * Quantized dots: exact int32 sums inside each block, as the reference, but the block
//     results are accumulated in 8 float lanes with FMA instead of one float in block order.
//   * Float dots accumulate in float lanes with FMA instead of in double.
// vec_dot, vec_dot_rows and (Q8_0, Q4_0) vec_dot_tile run the same per-pair instruction sequence
// (templates over the numbers of rows and tokens), so their results are bit-identical.
//
// Everything below the `#pragma GCC target` line is compiled for AVX2; the file is compiled
// with -ffp-contract=off (CMakeLists.txt) so only explicit FMAs fuse.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/simd_bits.h"
#include "kernels/simd_entry.h"
#include "kernels/simd_tables.h"
#include "tensor/blocks.h"
#include "tensor/fp16.h"
#include "tensor/quantize.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")

namespace tessera::kernels::simd {
namespace {

using tensor::BlockQ4_0;
using tensor::BlockQ8_0;
using tensor::kQK8_0;

constexpr std::int64_t kQ8Bytes = sizeof(BlockQ8_0);  // 34
constexpr std::int64_t kQ4Bytes = sizeof(BlockQ4_0);  // 18
constexpr int kMaxRows = 4;                           // rows per vec_dot_rows step

// Mask of the first `rem` (0..8) float lanes, for masked loads of a row's tail.
inline __m256i TailMask(std::int64_t rem) {
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(rem)), lane);
}

// Loads 8 16-bit values (F16 or BF16 raw bits); past n, zeros. Unaligned.
inline __m128i Load8x16(const std::uint8_t* p, std::int64_t count) {
  if (count >= 8) return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  alignas(16) std::uint16_t buf[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  std::memcpy(buf, p, static_cast<std::size_t>(count) * 2);
  return _mm_load_si128(reinterpret_cast<const __m128i*>(buf));
}

// ---- Float types: R rows at once; per row two accumulators over 16-element steps, then one
// 8-element step, then a zero-padded tail, then acc0 + acc1 and a horizontal sum.

struct F32Load {
  static constexpr int kBytes = 4;
  static __m256 Load(const std::uint8_t* p) {
    return _mm256_loadu_ps(reinterpret_cast<const float*>(p));
  }
  static __m256 LoadTail(const std::uint8_t* p, std::int64_t rem) {
    return _mm256_maskload_ps(reinterpret_cast<const float*>(p), TailMask(rem));
  }
};
struct F16Load {
  static constexpr int kBytes = 2;
  static __m256 Load(const std::uint8_t* p) { return _mm256_cvtph_ps(Load8x16(p, 8)); }
  static __m256 LoadTail(const std::uint8_t* p, std::int64_t rem) {
    return _mm256_cvtph_ps(Load8x16(p, rem));
  }
};
struct Bf16Load {
  static constexpr int kBytes = 2;
  static __m256 Widen(__m128i h) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  }
  static __m256 Load(const std::uint8_t* p) { return Widen(Load8x16(p, 8)); }
  static __m256 LoadTail(const std::uint8_t* p, std::int64_t rem) {
    return Widen(Load8x16(p, rem));
  }
};

// R weight rows x T activation rows; every weight vector is loaded (and widened) once per
// 8-element half and reused from registers for the T activation vectors, each loaded once per
// half and used for the R rows. Per (row, token) pair the FMAs into acc0 and acc1 are those of
// FloatDotRows, the tile of one token, so every tile is bit-identical to vec_dot.
template <typename L, int R, int T>
void FloatTile(std::int64_t n, const std::uint8_t* w, std::size_t row_bytes, const std::uint8_t* x,
               std::size_t x_stride, float* y, std::size_t y_stride) {
  __m256 acc0[R][T];
  __m256 acc1[R][T];
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) acc0[r][t] = acc1[r][t] = _mm256_setzero_ps();
  }
  std::int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    // Each 8-element half in turn: its R weight vectors stay in registers while the T
    // activation vectors stream past them (2RT accumulators + R + 1 registers).
    for (int h = 0; h < 2; ++h) {
      __m256(&acc)[R][T] = h == 0 ? acc0 : acc1;
      const std::int64_t at = (i + 8 * h) * L::kBytes;
      __m256 wv[R];
      for (int r = 0; r < R; ++r) wv[r] = L::Load(w + r * row_bytes + at);
      for (int t = 0; t < T; ++t) {
        const __m256 xv = L::Load(x + t * x_stride + at);
        for (int r = 0; r < R; ++r) acc[r][t] = _mm256_fmadd_ps(wv[r], xv, acc[r][t]);
      }
    }
  }
  if (i + 8 <= n) {
    for (int r = 0; r < R; ++r) {
      const __m256 w0 = L::Load(w + r * row_bytes + i * L::kBytes);
      for (int t = 0; t < T; ++t) {
        acc0[r][t] = _mm256_fmadd_ps(w0, L::Load(x + t * x_stride + i * L::kBytes), acc0[r][t]);
      }
    }
    i += 8;
  }
  if (i < n) {
    for (int r = 0; r < R; ++r) {
      const __m256 w0 = L::LoadTail(w + r * row_bytes + i * L::kBytes, n - i);
      for (int t = 0; t < T; ++t) {
        acc1[r][t] =
            _mm256_fmadd_ps(w0, L::LoadTail(x + t * x_stride + i * L::kBytes, n - i), acc1[r][t]);
      }
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) {
      y[t * y_stride + r] = HorizontalSum8(_mm256_add_ps(acc0[r][t], acc1[r][t]));
    }
  }
}

template <typename L, int R>
void FloatDotRows(std::int64_t n, const std::uint8_t* w, std::size_t row_bytes,
                  const std::uint8_t* x, float* y) {
  FloatTile<L, R, 1>(n, w, row_bytes, x, 0, y, 0);
}

// ---- Q8_0 x Q8_0: per block |w| (u8) times x with w's sign (s8) by maddubs (pair sums fit in
// int16 for x in [-127, 127], which the quantizer guarantees), madd with ones to int32 lanes,
// then acc += float(lanes) * (d_w * d_x).
//
// Q4_0 x Q8_0: nibbles expanded to 32 u8 in element order (low nibbles = elements 0..15, high
// = 16..31), minus 8 as s8; then as Q8_0.
//
// Both types come as tiles of R weight rows by T activation rows: each weight block is loaded
// (and for Q4_0 unpacked) once for the T tokens. Q8_0's vec_dot and vec_dot_rows are its T = 1
// tiles; Q4_0's one-token kernel is a form with the same int32 lanes (below). So every entry is
// bit-identical to vec_dot.

// Signed levels of one weight block: Q8_0's bytes as they are, Q4_0's nibbles minus 8.
struct Q8_0Signed {
  static constexpr std::int64_t kBytes = kQ8Bytes;
  static __m256i Get(const std::uint8_t* wb) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb + 2));
  }
};
struct Q4_0Signed {
  static constexpr std::int64_t kBytes = kQ4Bytes;
  static __m256i Get(const std::uint8_t* wb) {
    return _mm256_sub_epi8(ExpandNibbles32(wb + 2), _mm256_set1_epi8(8));
  }
};

// R rows x T tokens of a type with signed levels against Q8_0 activations: |w| (u8) times x
// with w's sign by maddubs, madd with ones, acc += float(lanes) * (d_w * d_x).
template <typename W, int R, int T>
void SignedTile(std::int64_t n, const std::uint8_t* w, std::size_t row_bytes,
                const std::uint8_t* x, std::size_t x_stride, float* y, std::size_t y_stride) {
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 acc[R][T];
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
  }
  for (std::int64_t b = 0; b < n / kQK8_0; ++b) {
    for (int r = 0; r < R; ++r) {
      const std::uint8_t* wb = w + r * row_bytes + b * W::kBytes;
      const __m256i wq = W::Get(wb);
      const __m256i wabs = _mm256_abs_epi8(wq);
      const __m256 dw = BroadcastHalf8(wb);
      for (int t = 0; t < T; ++t) {
        const std::uint8_t* xb = x + t * x_stride + b * kQ8Bytes;
        const __m256i xq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb + 2));
        const __m256i p16 = _mm256_maddubs_epi16(wabs, _mm256_sign_epi8(xq, wq));
        const __m256i p32 = _mm256_madd_epi16(p16, ones);
        const __m256 d = _mm256_mul_ps(dw, BroadcastHalf8(xb));
        acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p32), d, acc[r][t]);
      }
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) y[t * y_stride + r] = HorizontalSum8(acc[r][t]);
  }
}
template <int R, int T>
void Q8_0Tile(std::int64_t n, const std::uint8_t* w, std::size_t row_bytes, const std::uint8_t* x,
              std::size_t x_stride, float* y, std::size_t y_stride) {
  SignedTile<Q8_0Signed, R, T>(n, w, row_bytes, x, x_stride, y, y_stride);
}
template <int R, int T>
void Q4_0Tile(std::int64_t n, const std::uint8_t* w, std::size_t row_bytes, const std::uint8_t* x,
              std::size_t x_stride, float* y, std::size_t y_stride) {
  SignedTile<Q4_0Signed, R, T>(n, w, row_bytes, x, x_stride, y, y_stride);
}

template <int R>
void Q8_0DotRows(std::int64_t n, const std::uint8_t* w, std::size_t row_bytes,
                 const std::uint8_t* x, float* y) {
  Q8_0Tile<R, 1>(n, w, row_bytes, x, 0, y, 0);
}
// One token (vec_dot, vec_dot_rows): maddubs(q, x) - maddubs(8, x), the second term computed
// once per block for all R rows. The same int32 lanes as the tile's |q - 8| * sign form, so the
// results are bit-identical to the tiles'; per pair it is two instructions shorter when the
// activation is shared (decode), longer when the weights are (prefill).
template <int R>
void Q4_0DotRows(std::int64_t n, const std::uint8_t* w, std::size_t row_bytes,
                 const std::uint8_t* x, float* y) {
  const __m256i ones = _mm256_set1_epi16(1);
  const __m256i eights = _mm256_set1_epi8(8);
  __m256 acc[R];
  for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
  for (std::int64_t b = 0; b < n / kQK8_0; ++b) {
    const std::uint8_t* xb = x + b * kQ8Bytes;
    const __m256i xq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb + 2));
    const __m256i x8 = _mm256_maddubs_epi16(eights, xq);
    const __m256 dx = BroadcastHalf8(xb);
    for (int r = 0; r < R; ++r) {
      const std::uint8_t* wb = w + r * row_bytes + b * kQ4Bytes;
      const __m256i p16 = _mm256_sub_epi16(_mm256_maddubs_epi16(ExpandNibbles32(wb + 2), xq), x8);
      const __m256i p32 = _mm256_madd_epi16(p16, ones);
      const __m256 d = _mm256_mul_ps(BroadcastHalf8(wb), dx);
      acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p32), d, acc[r]);
    }
  }
  for (int r = 0; r < R; ++r) y[r] = HorizontalSum8(acc[r]);
}
template <int R>
void Q4_0RowsTile(std::int64_t n, const std::uint8_t* w, std::size_t row_bytes,
                  const std::uint8_t* x, std::size_t, float* y, std::size_t) {
  Q4_0DotRows<R>(n, w, row_bytes, x, y);
}

// Prefill tiles, chosen with bench/kernels_bench.cc's BM_MatMul: quantized 2 rows x 4 tokens
// (8 accumulators, the unpacked weights of a block, one activation block and the constants fit
// the 16 registers); float 2 x 3 (12 accumulators, 2 weight vectors and 1 activation vector per
// 8-element half: F16 is bound by its f16->f32 conversions, 10 per 12 FMAs here against 8 per 8
// in 2 x 2; BM_MatMul f16 tokens:64 1.05-1.6x over 2 x 2, f32 unchanged within noise).
constexpr int kTileRows = 2;
constexpr int kTileTokens = 4;
constexpr int kFloatTileRows = 2;
constexpr int kFloatTileTokens = 3;
template <typename L>
constexpr auto kFloatTile =
    TileEntry<kFloatTileRows, kFloatTileTokens, FloatTile<L, kFloatTileRows, kFloatTileTokens>,
              FloatTile<L, kFloatTileRows, 1>, FloatTile<L, 1, kFloatTileTokens>,
              FloatTile<L, 1, 1>>;
constexpr auto kQ8_0Tile =
    TileEntry<kTileRows, kTileTokens, Q8_0Tile<kTileRows, kTileTokens>, Q8_0Tile<kTileRows, 1>,
              Q8_0Tile<1, kTileTokens>, Q8_0Tile<1, 1>>;
constexpr auto kQ4_0Tile =
    TileEntry<kTileRows, kTileTokens, Q4_0Tile<kTileRows, kTileTokens>, Q4_0RowsTile<kTileRows>,
              Q4_0Tile<1, kTileTokens>, Q4_0RowsTile<1>>;

using F32Entry = RowsEntry<kMaxRows, FloatDotRows<F32Load, 1>, FloatDotRows<F32Load, kMaxRows>>;
using F16Entry = RowsEntry<kMaxRows, FloatDotRows<F16Load, 1>, FloatDotRows<F16Load, kMaxRows>>;
using Bf16Entry = RowsEntry<kMaxRows, FloatDotRows<Bf16Load, 1>, FloatDotRows<Bf16Load, kMaxRows>>;
using Q8_0Entry = RowsEntry<kMaxRows, Q8_0DotRows<1>, Q8_0DotRows<kMaxRows>>;
using Q4_0Entry = RowsEntry<kMaxRows, Q4_0DotRows<1>, Q4_0DotRows<kMaxRows>>;

// ---- Activation conversions.

// roundf(v) (half away from zero) for |v| < 2^23: trunc(v), plus sign(v) when |v - trunc(v)|
// >= 0.5. v - trunc(v) is exact, so this equals roundf for every such v.
inline __m256 RoundHalfAway(__m256 v) {
  const __m256 sign_bit = _mm256_set1_ps(-0.0f);
  const __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m256 frac = _mm256_andnot_ps(sign_bit, _mm256_sub_ps(v, t));
  const __m256 up = _mm256_cmp_ps(frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ);
  const __m256 one = _mm256_or_ps(_mm256_and_ps(v, sign_bit), _mm256_set1_ps(1.0f));
  return _mm256_add_ps(t, _mm256_and_ps(up, one));
}

// The reference's RoundToInt8 saturation before rounding: NaN (0 * inf when amax is so small
// that 1 / d overflows) -> 0, then clamp to [-128, 127]; rounding a clamped value gives the same
// int8 as clamping the rounded one.
inline __m256 ClampQ8(__m256 v) {
  const __m256 no_nan = _mm256_and_ps(v, _mm256_cmp_ps(v, v, _CMP_ORD_Q));
  return _mm256_min_ps(_mm256_max_ps(no_nan, _mm256_set1_ps(-128.0f)), _mm256_set1_ps(127.0f));
}

void ActQ8_0(const float* x, void* y, std::int64_t n) {
  auto* out = static_cast<std::uint8_t*>(y);
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
  for (std::int64_t b = 0; b < n / kQK8_0; ++b) {
    const float* xb = x + b * kQK8_0;
    std::uint8_t* block = out + b * kQ8Bytes;
    __m256 v[4];
    for (int k = 0; k < 4; ++k) v[k] = _mm256_loadu_ps(xb + 8 * k);
    const __m256 m01 = _mm256_max_ps(_mm256_and_ps(v[0], abs_mask), _mm256_and_ps(v[1], abs_mask));
    const __m256 m23 = _mm256_max_ps(_mm256_and_ps(v[2], abs_mask), _mm256_and_ps(v[3], abs_mask));
    const __m256 m8 = _mm256_max_ps(m01, m23);
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m8), _mm256_extractf128_ps(m8, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
    const float amax = _mm_cvtss_f32(m4);
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    const std::uint16_t dh = tensor::FloatToHalf(d);
    std::memcpy(block, &dh, sizeof(dh));
    const __m256 idv = _mm256_set1_ps(id);
    __m256i q[4];
    for (int k = 0; k < 4; ++k)
      q[k] = _mm256_cvtps_epi32(RoundHalfAway(ClampQ8(_mm256_mul_ps(v[k], idv))));
    // packs interleave 128-bit lanes: bytes come out as dword groups 0,2,4,6,1,3,5,7.
    const __m256i p16a = _mm256_packs_epi32(q[0], q[1]);
    const __m256i p16b = _mm256_packs_epi32(q[2], q[3]);
    const __m256i p8 = _mm256_packs_epi16(p16a, p16b);
    const __m256i fixed =
        _mm256_permutevar8x32_epi32(p8, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(block + 2), fixed);
  }
}

void ActF16(const float* x, void* y, std::int64_t n) {
  auto* out = static_cast<std::uint8_t*>(y);
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 2 * i), h);
  }
  for (; i < n; ++i) {
    const std::uint16_t h = tensor::FloatToHalf(x[i]);
    std::memcpy(out + 2 * i, &h, 2);
  }
}

void ActBf16(const float* x, void* y, std::int64_t n) {
  auto* out = static_cast<std::uint8_t*>(y);
  const __m256i abs_mask = _mm256_set1_epi32(0x7FFFFFFF);
  const __m256i inf = _mm256_set1_epi32(0x7F800000);
  std::int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m256i h[2];
    for (int k = 0; k < 2; ++k) {
      const __m256i bits = _mm256_castps_si256(_mm256_loadu_ps(x + i + 8 * k));
      const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(bits, 16), _mm256_set1_epi32(1));
      const __m256i rounded = _mm256_srli_epi32(
          _mm256_add_epi32(_mm256_add_epi32(bits, _mm256_set1_epi32(0x7FFF)), lsb), 16);
      const __m256i quiet = _mm256_or_si256(_mm256_srli_epi32(bits, 16), _mm256_set1_epi32(0x40));
      const __m256i is_nan = _mm256_cmpgt_epi32(_mm256_and_si256(bits, abs_mask), inf);
      h[k] = _mm256_blendv_epi8(rounded, quiet, is_nan);
    }
    // packus interleaves 128-bit lanes: fix the qword order.
    const __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(h[0], h[1]), 0xD8);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 2 * i), packed);
  }
  for (; i < n; ++i) {
    const std::uint16_t h = tensor::FloatToBf16(x[i]);
    std::memcpy(out + 2 * i, &h, 2);
  }
}

constexpr TypeKernels kAvx2F32 = {DType::kF32,
                                  DType::kF32,
                                  "avx2",
                                  tensor::QuantizeRowF32,
                                  tensor::DequantizeRowF32,
                                  tensor::QuantizeRowF32,
                                  F32Entry::VecDot,
                                  F32Entry::VecDotRows,
                                  kFloatTile<F32Load>};
constexpr TypeKernels kAvx2F16 = {
    DType::kF16,      DType::kF16,          "avx2", ActF16, tensor::DequantizeRowF16, ActF16,
    F16Entry::VecDot, F16Entry::VecDotRows, kFloatTile<F16Load>};
constexpr TypeKernels kAvx2Bf16 = {
    DType::kBF16,      DType::kBF16,          "avx2", ActBf16, tensor::DequantizeRowBf16, ActBf16,
    Bf16Entry::VecDot, Bf16Entry::VecDotRows, kFloatTile<Bf16Load>};
constexpr TypeKernels kAvx2Q8_0 = {
    DType::kQ8_0,      DType::kQ8_0,         "avx2",   ActQ8_0, tensor::DequantizeRowQ8_0, ActQ8_0,
    Q8_0Entry::VecDot, Q8_0Entry::VecDotRows, kQ8_0Tile,  PackedTileQ8_0Avx2};
constexpr TypeKernels kAvx2Q4_0 = {DType::kQ4_0,
                                   DType::kQ8_0,
                                   "avx2",
                                   tensor::QuantizeRowQ4_0,
                                   tensor::DequantizeRowQ4_0,
                                   ActQ8_0,
                                   Q4_0Entry::VecDot,
                                   Q4_0Entry::VecDotRows,
                                   kQ4_0Tile,
                                   PackedTileQ4_0Avx2};

}  // namespace
}  // namespace tessera::kernels::simd

#pragma GCC pop_options

// Plain x86-64 code from here: the dispatcher calls this on any CPU.
namespace tessera::kernels::simd {

const TypeKernels* Avx2Kernels(DType type) {
  switch (type) {
    case DType::kF32:
      return &kAvx2F32;
    case DType::kF16:
      return &kAvx2F16;
    case DType::kBF16:
      return &kAvx2Bf16;
    case DType::kQ8_0:
      return &kAvx2Q8_0;
    case DType::kQ4_0:
      return &kAvx2Q4_0;
    default: {
      const TypeKernels* k = Avx2KQuantKernels(type);
      if (k == nullptr) k = Avx2LegacyKernels(type);
      return k != nullptr ? k : Avx2LowBitKernels(type);
    }
  }
}

}  // namespace tessera::kernels::simd

#else  // not x86-64 with GCC/Clang

namespace tessera::kernels::simd {
const TypeKernels* Avx2Kernels(DType) { return nullptr; }
}  // namespace tessera::kernels::simd

#endif
