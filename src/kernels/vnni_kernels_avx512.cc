// AVX-512 VNNI kernel tables for Q8_0 and Q4_0 (simd_tables.h): the two most common small-model
// types, with rows kernels for decode and register tiles for batches.
//
// Numerics are those of kernels_avx2.cc (act_from_float is the AVX-512 Q8_0 conversion of
// kernels_avx512.cc: the reference's bytes for inputs without NaN), except that the int32 block
// sums come from vpdpbusd (u8 x s8 summed in groups of four straight into int32, no int16 step,
// so no saturation at all): Q8_0 as dpbusd(|w|, x with w's sign); Q4_0 starts each block's
// accumulator at -8 * sum(x) and adds nibble * x, which is (nibble - 8) * x. Block results
// accumulate in 8 float lanes with FMA of (d_w * d_x). vec_dot, vec_dot_rows and vec_dot_tile
// of one table run the same per-pair sequence, so they are bit-identical.
//
// The ISA pragmas follow every #include; the file is compiled with -ffp-contract=off.
#include <cstddef>
#include <cstdint>

#include "kernels/simd_bits.h"
#include "kernels/simd_entry.h"
#include "kernels/simd_tables.h"
#include "tensor/blocks.h"
#include "tensor/quantize.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")

namespace tessera::kernels::simd {
namespace {

using tensor::BlockQ4_0;
using tensor::BlockQ8_0;
using tensor::kQK8_0;

constexpr std::int64_t kQ8Bytes = sizeof(BlockQ8_0);  // 34
constexpr std::int64_t kQ4Bytes = sizeof(BlockQ4_0);  // 18
constexpr int kMaxRows = 4;                           // rows per vec_dot_rows step
constexpr int kQuantTileRows = 4;                     // vec_dot_tile: rows x tokens
constexpr int kQuantTileTokens = 4;

// ---- Q8_0 x Q8_0 with VNNI: dpbusd(|w|, x with w's sign) per block.
template <int R>
void Q8_0DotRowsVnni(std::int64_t n, const std::uint8_t* w, std::size_t row_bytes,
                     const std::uint8_t* x, float* y) {
  __m256 acc[R];
  for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
  for (std::int64_t b = 0; b < n / kQK8_0; ++b) {
    const std::uint8_t* xb = x + b * kQ8Bytes;
    const __m256i xq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb + 2));
    const __m256 dx = BroadcastHalf8(xb);
    for (int r = 0; r < R; ++r) {
      const std::uint8_t* wb = w + r * row_bytes + b * kQ8Bytes;
      const __m256i wq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb + 2));
      const __m256i p32 = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_abs_epi8(wq),
                                              _mm256_sign_epi8(xq, wq));
      const __m256 d = _mm256_mul_ps(BroadcastHalf8(wb), dx);
      acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p32), d, acc[r]);
    }
  }
  for (int r = 0; r < R; ++r) y[r] = HorizontalSum8(acc[r]);
}

// ---- Q4_0 x Q8_0 with VNNI: each block's int32 lanes start at -8 * x (shared by all rows)
// and dpbusd adds nibble * x.
template <int R>
void Q4_0DotRowsVnni(std::int64_t n, const std::uint8_t* w, std::size_t row_bytes,
                     const std::uint8_t* x, float* y) {
  const __m256i eights = _mm256_set1_epi8(8);
  __m256 acc[R];
  for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
  for (std::int64_t b = 0; b < n / kQK8_0; ++b) {
    const std::uint8_t* xb = x + b * kQ8Bytes;
    const __m256i xq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb + 2));
    const __m256i neg8x = _mm256_sub_epi32(_mm256_setzero_si256(),
                                           _mm256_dpbusd_epi32(_mm256_setzero_si256(), eights, xq));
    const __m256 dx = BroadcastHalf8(xb);
    for (int r = 0; r < R; ++r) {
      const std::uint8_t* wb = w + r * row_bytes + b * kQ4Bytes;
      const __m256i p32 = _mm256_dpbusd_epi32(neg8x, ExpandNibbles32Bw(wb + 2), xq);
      const __m256 d = _mm256_mul_ps(BroadcastHalf8(wb), dx);
      acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p32), d, acc[r]);
    }
  }
  for (int r = 0; r < R; ++r) y[r] = HorizontalSum8(acc[r]);
}

// Q8_0 tile: R rows x T tokens of Q8_0DotRowsVnni's per-pair sequence; |w| is taken once per
// row and block, the activation block once per token and block.
template <int R, int T>
void Q8_0TileVnni(std::int64_t n, const std::uint8_t* w, std::size_t row_bytes,
                  const std::uint8_t* x, std::size_t x_stride, float* y, std::size_t y_stride) {
  __m256 acc[R][T];
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
  }
  for (std::int64_t b = 0; b < n / kQK8_0; ++b) {
    __m256i xq[T];
    __m256 dx[T];
    for (int t = 0; t < T; ++t) {
      const std::uint8_t* xb = x + t * x_stride + b * kQ8Bytes;
      xq[t] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb + 2));
      dx[t] = BroadcastHalf8(xb);
    }
    for (int r = 0; r < R; ++r) {
      const std::uint8_t* wb = w + r * row_bytes + b * kQ8Bytes;
      const __m256i wq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb + 2));
      const __m256i aw = _mm256_abs_epi8(wq);
      const __m256 dw = BroadcastHalf8(wb);
      for (int t = 0; t < T; ++t) {
        const __m256i p32 =
            _mm256_dpbusd_epi32(_mm256_setzero_si256(), aw, _mm256_sign_epi8(xq[t], wq));
        acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p32), _mm256_mul_ps(dw, dx[t]), acc[r][t]);
      }
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) y[t * y_stride + r] = HorizontalSum8(acc[r][t]);
  }
}

// Q4_0 tile: R rows x T tokens of Q4_0DotRowsVnni's per-pair sequence; the nibbles are
// unpacked once per row and block, -8 * x once per token and block.
template <int R, int T>
void Q4_0TileVnni(std::int64_t n, const std::uint8_t* w, std::size_t row_bytes,
                  const std::uint8_t* x, std::size_t x_stride, float* y, std::size_t y_stride) {
  const __m256i eights = _mm256_set1_epi8(8);
  __m256 acc[R][T];
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
  }
  for (std::int64_t b = 0; b < n / kQK8_0; ++b) {
    __m256i xq[T];
    __m256i neg8x[T];
    __m256 dx[T];
    for (int t = 0; t < T; ++t) {
      const std::uint8_t* xb = x + t * x_stride + b * kQ8Bytes;
      xq[t] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb + 2));
      neg8x[t] = _mm256_sub_epi32(_mm256_setzero_si256(),
                                  _mm256_dpbusd_epi32(_mm256_setzero_si256(), eights, xq[t]));
      dx[t] = BroadcastHalf8(xb);
    }
    for (int r = 0; r < R; ++r) {
      const std::uint8_t* wb = w + r * row_bytes + b * kQ4Bytes;
      const __m256i wq = ExpandNibbles32Bw(wb + 2);
      const __m256 dw = BroadcastHalf8(wb);
      for (int t = 0; t < T; ++t) {
        const __m256i p32 = _mm256_dpbusd_epi32(neg8x[t], wq, xq[t]);
        acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p32), _mm256_mul_ps(dw, dx[t]), acc[r][t]);
      }
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) y[t * y_stride + r] = HorizontalSum8(acc[r][t]);
  }
}

using Q8_0VnniEntry = RowsEntry<kMaxRows, Q8_0DotRowsVnni<1>, Q8_0DotRowsVnni<kMaxRows>>;
using Q4_0VnniEntry = RowsEntry<kMaxRows, Q4_0DotRowsVnni<1>, Q4_0DotRowsVnni<kMaxRows>>;

// Tile shapes (rows x tokens), chosen with bench/kernels_bench.cc's BM_MatMul (ADR 0008).
constexpr auto kQ8_0Tile =
    TileEntry<kQuantTileRows, kQuantTileTokens, Q8_0TileVnni<kQuantTileRows, kQuantTileTokens>,
              Q8_0TileVnni<kQuantTileRows, 1>, Q8_0TileVnni<1, kQuantTileTokens>,
              Q8_0TileVnni<1, 1>>;
constexpr auto kQ4_0Tile =
    TileEntry<kQuantTileRows, kQuantTileTokens, Q4_0TileVnni<kQuantTileRows, kQuantTileTokens>,
              Q4_0TileVnni<kQuantTileRows, 1>, Q4_0TileVnni<1, kQuantTileTokens>,
              Q4_0TileVnni<1, 1>>;

constexpr TypeKernels kAvx512Q8_0Vnni = {DType::kQ8_0,
                                         DType::kQ8_0,
                                         "avx512_vnni",
                                         ActQ8_0Avx512,
                                         tensor::DequantizeRowQ8_0,
                                         ActQ8_0Avx512,
                                         Q8_0VnniEntry::VecDot,
                                         Q8_0VnniEntry::VecDotRows,
                                         kQ8_0Tile};
constexpr TypeKernels kAvx512Q4_0Vnni = {DType::kQ4_0,
                                         DType::kQ8_0,
                                         "avx512_vnni",
                                         tensor::QuantizeRowQ4_0,
                                         tensor::DequantizeRowQ4_0,
                                         ActQ8_0Avx512,
                                         Q4_0VnniEntry::VecDot,
                                         Q4_0VnniEntry::VecDotRows,
                                         kQ4_0Tile};

}  // namespace
}  // namespace tessera::kernels::simd

#pragma GCC pop_options

// Plain x86-64 code from here: the dispatcher calls this on any CPU.
namespace tessera::kernels::simd {

const TypeKernels* Avx512VnniKernels(DType type) {
  switch (type) {
    case DType::kQ8_0:
      return &kAvx512Q8_0Vnni;
    case DType::kQ4_0:
      return &kAvx512Q4_0Vnni;
    default:
      return nullptr;
  }
}

}  // namespace tessera::kernels::simd

#else  // not x86-64 with GCC/Clang

namespace tessera::kernels::simd {
const TypeKernels* Avx512VnniKernels(DType) { return nullptr; }
}  // namespace tessera::kernels::simd

#endif
