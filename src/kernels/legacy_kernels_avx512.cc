// AVX-512 VNNI kernel table for Q5_0 (simd_tables.h): the 32-wide type llama.cpp's Q4_K_M
// recipe (and ours, tools/tessera/cmd_quantize.cc) uses for rows whose width is not a multiple
// of 256, so most matrices of small models in such files.
//
// Per block, as Q4_0's VNNI kernel (kernels_avx512.cc): the int32 lanes start at -16 * x
// (shared by every row) and vpdpbusd adds level * x, level = nibble | fifth bit (0..31), so each
// block's int32 sum is the reference's exact sum of (level - 16) * x; the block results are
// accumulated in 8 float lanes with FMA of (d_w * d_x). vec_dot, vec_dot_rows and vec_dot_tile
// all run one tile template (rows = a tile of one token), so they are bit-identical.
//
// The ISA pragmas follow every #include; the file is compiled with -ffp-contract=off.
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
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")

namespace tessera::kernels::simd {
namespace {

using tensor::BlockQ5_0;
using tensor::BlockQ8_0;

constexpr std::int64_t kQK = 32;
constexpr std::int64_t kQ8Bytes = sizeof(BlockQ8_0);  // 34
constexpr std::int64_t kQ5Bytes = sizeof(BlockQ5_0);  // 22
constexpr int kRows = 4;                              // vec_dot_rows step and tile rows
constexpr int kTokens = 4;                            // tile tokens

// R rows x T tokens: y[t * y_stride + r] = dot(w row r, x row t).
template <int R, int T>
void Q5_0TileVnni(std::int64_t n, const std::uint8_t* w, std::size_t row_bytes,
                  const std::uint8_t* x, std::size_t x_stride, float* y, std::size_t y_stride) {
  const __m256i sixteen = _mm256_set1_epi8(16);
  __m256 acc[R][T];
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
  }
  for (std::int64_t b = 0; b < n / kQK; ++b) {
    __m256i xq[T];
    __m256i neg16x[T];
    __m256 dx[T];
    for (int t = 0; t < T; ++t) {
      const std::uint8_t* xb = x + t * x_stride + b * kQ8Bytes;
      xq[t] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb + offsetof(BlockQ8_0, qs)));
      neg16x[t] = _mm256_sub_epi32(_mm256_setzero_si256(),
                                   _mm256_dpbusd_epi32(_mm256_setzero_si256(), sixteen, xq[t]));
      dx[t] = BroadcastHalf8(xb + offsetof(BlockQ8_0, d));
    }
    for (int r = 0; r < R; ++r) {
      const std::uint8_t* wb = w + r * row_bytes + b * kQ5Bytes;
      const __m256i levels = _mm256_or_si256(ExpandNibbles32Bw(wb + offsetof(BlockQ5_0, qs)),
                                             FifthBits32(wb + offsetof(BlockQ5_0, qh)));
      const __m256 dw = BroadcastHalf8(wb + offsetof(BlockQ5_0, d));
      for (int t = 0; t < T; ++t) {
        const __m256i p32 = _mm256_dpbusd_epi32(neg16x[t], levels, xq[t]);
        acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p32), _mm256_mul_ps(dw, dx[t]), acc[r][t]);
      }
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) y[t * y_stride + r] = HorizontalSum8(acc[r][t]);
  }
}

// R rows against one activation: the tile of one token.
template <int R>
void Q5_0RowsVnni(std::int64_t n, const std::uint8_t* w, std::size_t row_bytes,
                  const std::uint8_t* x, float* y) {
  Q5_0TileVnni<R, 1>(n, w, row_bytes, x, 0, y, 0);
}

using Q5_0VnniEntry = RowsEntry<kRows, Q5_0RowsVnni<1>, Q5_0RowsVnni<kRows>>;
constexpr auto kQ5_0Tile =
    TileEntry<kRows, kTokens, Q5_0TileVnni<kRows, kTokens>, Q5_0TileVnni<kRows, 1>,
              Q5_0TileVnni<1, kTokens>, Q5_0TileVnni<1, 1>>;

}  // namespace
}  // namespace tessera::kernels::simd

#pragma GCC pop_options

// Plain x86-64 code from here: the dispatcher calls this on any CPU.
namespace tessera::kernels::simd {

const TypeKernels* Avx512VnniLegacyKernels(DType type) {
  // The activation conversion is the AVX-512 Q8_0 table's (the same bytes as the reference).
  static constexpr TypeKernels kTable = {DType::kQ5_0,
                                         DType::kQ8_0,
                                         "avx512_vnni",
                                         tensor::QuantizeRowQ5_0,
                                         tensor::DequantizeRowQ5_0,
                                         ActQ8_0Avx512,
                                         Q5_0VnniEntry::VecDot,
                                         Q5_0VnniEntry::VecDotRows,
                                         kQ5_0Tile};
  return type == DType::kQ5_0 ? &kTable : nullptr;
}

}  // namespace tessera::kernels::simd

#else  // not x86-64 with GCC/Clang

namespace tessera::kernels::simd {
const TypeKernels* Avx512VnniLegacyKernels(DType) { return nullptr; }
}  // namespace tessera::kernels::simd

#endif
