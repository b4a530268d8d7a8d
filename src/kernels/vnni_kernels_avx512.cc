// AVX-512 VNNI kernel tables for Q8_0, Q4_0 and Q5_0 (simd_tables.h): the most common
// small-model types (Q5_0 is what Q4_K_M files use for rows whose width is not a multiple of
// 256), with rows kernels for decode and register tiles for batches.
//
// Numerics are those of kernels_avx2.cc (act_from_float is the AVX-512 Q8_0 conversion of
// kernels_avx512.cc: the reference's bytes for inputs without NaN), except that the int32 block
// sums come from vpdpbusd (u8 x s8 summed in groups of four straight into int32, no int16 step,
// so no saturation at all): Q8_0 as dpbusd(|w|, x with w's sign); Q4_0 / Q5_0 start each
// block's accumulator at -8 / -16 * sum(x) and add level * x (level = nibble, with the fifth
// bit for Q5_0), which is (level - offset) * x. Block results
// accumulate in 8 float lanes with FMA of (d_w * d_x). vec_dot, vec_dot_rows and vec_dot_tile
// of one table run the same per-pair sequence, so they are bit-identical.
//
// Q8_0 and Q4_0 keep the AVX2 tables' packed tiles (packed_kernels_avx2.cc, bit-identical to
// the scalar reference): on weights packed at load (ADR 0023) they beat these tiles on a Zen 5
// (`BM_MatMulPacked` against `BM_MatMul`, rows 2048 x 768, 2026-12-08: Q4_0 1.9x at 64 tokens
// and 2.0x at one; Q8_0 1.2x and 1.45x).
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
using tensor::BlockQ5_0;
using tensor::BlockQ8_0;
using tensor::kQK8_0;

constexpr std::int64_t kQ8Bytes = sizeof(BlockQ8_0);  // 34
constexpr int kMaxRows = 4;                           // rows per vec_dot_rows step
constexpr int kQuantTileRows = 4;                     // vec_dot_tile: rows x tokens
constexpr int kQuantTileTokens = 4;

// Q8_0 x Q8_0, R rows x T tokens: dpbusd(|w|, x with w's sign) per block; |w| is taken once
// per row and block, the activation block once per token and block.
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

// Weight levels of one block as unsigned bytes (0..15 or 0..31) and the offset they carry.
struct Q4_0Levels {
  static constexpr std::int64_t kBytes = sizeof(BlockQ4_0);  // 18: d, 16 bytes of nibbles
  static constexpr char kOffset = 8;
  static __m256i Get(const std::uint8_t* wb) {
    return ExpandNibbles32Bw(wb + offsetof(BlockQ4_0, qs));
  }
};
struct Q5_0Levels {
  static constexpr std::int64_t kBytes = sizeof(BlockQ5_0);  // 22: d, qh, 16 bytes of nibbles
  static constexpr char kOffset = 16;
  static __m256i Get(const std::uint8_t* wb) {
    return _mm256_or_si256(ExpandNibbles32Bw(wb + offsetof(BlockQ5_0, qs)),
                           FifthBits32(wb + offsetof(BlockQ5_0, qh)));
  }
};
static_assert(offsetof(BlockQ4_0, d) == 0 && offsetof(BlockQ5_0, d) == 0);

// Q4_0 / Q5_0 x Q8_0, R rows x T tokens: each block's int32 lanes start at -offset * x (once
// per token and block) and vpdpbusd adds level * x, so the lanes sum to the reference's exact
// sum of (level - offset) * x; the levels are unpacked once per row and block. The rows
// kernels are the tiles of one token, so all three entries are bit-identical.
template <typename Levels, int R, int T>
void OffsetTileVnni(std::int64_t n, const std::uint8_t* w, std::size_t row_bytes,
                    const std::uint8_t* x, std::size_t x_stride, float* y, std::size_t y_stride) {
  const __m256i offset = _mm256_set1_epi8(Levels::kOffset);
  __m256 acc[R][T];
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
  }
  for (std::int64_t b = 0; b < n / kQK8_0; ++b) {
    __m256i xq[T];
    __m256i neg_offset_x[T];
    __m256 dx[T];
    for (int t = 0; t < T; ++t) {
      const std::uint8_t* xb = x + t * x_stride + b * kQ8Bytes;
      xq[t] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb + offsetof(BlockQ8_0, qs)));
      neg_offset_x[t] = _mm256_sub_epi32(
          _mm256_setzero_si256(), _mm256_dpbusd_epi32(_mm256_setzero_si256(), offset, xq[t]));
      dx[t] = BroadcastHalf8(xb + offsetof(BlockQ8_0, d));
    }
    for (int r = 0; r < R; ++r) {
      const std::uint8_t* wb = w + r * row_bytes + b * Levels::kBytes;
      const __m256i levels = Levels::Get(wb);
      const __m256 dw = BroadcastHalf8(wb);
      for (int t = 0; t < T; ++t) {
        const __m256i p32 = _mm256_dpbusd_epi32(neg_offset_x[t], levels, xq[t]);
        acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p32), _mm256_mul_ps(dw, dx[t]), acc[r][t]);
      }
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) y[t * y_stride + r] = HorizontalSum8(acc[r][t]);
  }
}

template <typename Levels, int R>
void OffsetRowsVnni(std::int64_t n, const std::uint8_t* w, std::size_t row_bytes,
                    const std::uint8_t* x, float* y) {
  OffsetTileVnni<Levels, R, 1>(n, w, row_bytes, x, 0, y, 0);
}

template <typename Levels>
using OffsetEntry =
    RowsEntry<kMaxRows, OffsetRowsVnni<Levels, 1>, OffsetRowsVnni<Levels, kMaxRows>>;
template <typename Levels>
constexpr auto kOffsetTile =
    TileEntry<kQuantTileRows, kQuantTileTokens,
              OffsetTileVnni<Levels, kQuantTileRows, kQuantTileTokens>,
              OffsetTileVnni<Levels, kQuantTileRows, 1>,
              OffsetTileVnni<Levels, 1, kQuantTileTokens>, OffsetTileVnni<Levels, 1, 1>>;

// R rows against one activation: the tile of one token.
template <int R>
void Q8_0DotRowsVnni(std::int64_t n, const std::uint8_t* w, std::size_t row_bytes,
                     const std::uint8_t* x, float* y) {
  Q8_0TileVnni<R, 1>(n, w, row_bytes, x, 0, y, 0);
}

using Q8_0VnniEntry = RowsEntry<kMaxRows, Q8_0DotRowsVnni<1>, Q8_0DotRowsVnni<kMaxRows>>;

// Tile shapes (rows x tokens), chosen with bench/kernels_bench.cc's BM_MatMul (ADR 0008).
constexpr auto kQ8_0Tile =
    TileEntry<kQuantTileRows, kQuantTileTokens, Q8_0TileVnni<kQuantTileRows, kQuantTileTokens>,
              Q8_0TileVnni<kQuantTileRows, 1>, Q8_0TileVnni<1, kQuantTileTokens>,
              Q8_0TileVnni<1, 1>>;

constexpr TypeKernels kAvx512Q8_0Vnni = {DType::kQ8_0,
                                         DType::kQ8_0,
                                         "avx512_vnni",
                                         ActQ8_0Avx512,
                                         tensor::DequantizeRowQ8_0,
                                         ActQ8_0Avx512,
                                         Q8_0VnniEntry::VecDot,
                                         Q8_0VnniEntry::VecDotRows,
                                         kQ8_0Tile,
                                         PackedTileQ8_0Avx2};
constexpr TypeKernels kAvx512Q4_0Vnni = {DType::kQ4_0,
                                         DType::kQ8_0,
                                         "avx512_vnni",
                                         tensor::QuantizeRowQ4_0,
                                         tensor::DequantizeRowQ4_0,
                                         ActQ8_0Avx512,
                                         OffsetEntry<Q4_0Levels>::VecDot,
                                         OffsetEntry<Q4_0Levels>::VecDotRows,
                                         kOffsetTile<Q4_0Levels>,
                                         PackedTileQ4_0Avx2};
constexpr TypeKernels kAvx512Q5_0Vnni = {DType::kQ5_0,
                                         DType::kQ8_0,
                                         "avx512_vnni",
                                         tensor::QuantizeRowQ5_0,
                                         tensor::DequantizeRowQ5_0,
                                         ActQ8_0Avx512,
                                         OffsetEntry<Q5_0Levels>::VecDot,
                                         OffsetEntry<Q5_0Levels>::VecDotRows,
                                         kOffsetTile<Q5_0Levels>};

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
    case DType::kQ5_0:
      return &kAvx512Q5_0Vnni;
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
