// Internal: builds a table's vec_dot, vec_dot_rows and vec_dot_tile from fixed-size kernels
// (kernels.h), for the SIMD files.
//
// A rows kernel computes R weight rows against one activation with R accumulators in
// registers; RowsEntry gives vec_dot (R = 1) and vec_dot_rows (steps of R, then single rows).
// A tile kernel computes R weight rows by T activation rows; TileEntry covers any
// n_rows x n_tok with the R x T kernel and three edge kernels (R x 1, 1 x T, 1 x 1). Every
// kernel must run, for each (row, token) pair, the instruction sequence of the type's vec_dot,
// so the entries are bit-identical to vec_dot whatever the shape.
//
// The wrappers have no SIMD code; the kernels they call carry their own target attributes.
#ifndef TESSERA_KERNELS_SIMD_ENTRY_H_
#define TESSERA_KERNELS_SIMD_ENTRY_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace tessera::kernels::simd {

// y[r] = dot(w + r * row_bytes, x) for r < R (R fixed by the kernel).
using RowsFn = void (*)(std::int64_t n, const std::uint8_t* w, std::size_t row_bytes,
                        const std::uint8_t* x, float* y);

// Bytes ahead of the current row group that vec_dot_rows requests (at least one group).
inline constexpr std::size_t kPrefetchDistance = 4096;

template <int R, RowsFn kRows1, RowsFn kRowsR>
struct RowsEntry {
  static float VecDot(std::int64_t n, const void* w_row, const void* x) {
    float y;
    kRows1(n, static_cast<const std::uint8_t*>(w_row), 0, static_cast<const std::uint8_t*>(x), &y);
    return y;
  }
  static void VecDotRows(std::int64_t n, std::int64_t n_rows, const void* w, std::size_t row_bytes,
                         const void* x, float* y) {
    const auto* wp = static_cast<const std::uint8_t*>(w);
    const auto* xp = static_cast<const std::uint8_t*>(x);
    std::int64_t r = 0;
    for (; r + R <= n_rows; r += R) {
      const std::uint8_t* wr = wp + static_cast<std::size_t>(r) * row_bytes;
      // Request the next group of rows while this one is computed: a mat-vec streams each
      // weight once, and the hardware prefetchers alone reach a third of the DRAM bandwidth
      // here (bench/kernels_bench.cc, BM_MatVec rows:131072).
      // The requests may run past the last row: a prefetch never faults, and consecutive
      // calls (MatMul's row blocks) continue one stream. The addresses are computed as
      // integers, since they may lie outside the matrix.
      const std::size_t group = R * row_bytes;
      const std::size_t dist = std::max<std::size_t>(group, kPrefetchDistance);
      const std::uintptr_t base = reinterpret_cast<std::uintptr_t>(wr);
      for (std::size_t i = dist; i < dist + group; i += 64) {
        __builtin_prefetch(reinterpret_cast<const void*>(base + i), 0, 3);
      }
      kRowsR(n, wr, row_bytes, xp, y + r);
    }
    for (; r < n_rows; ++r) kRows1(n, wp + static_cast<std::size_t>(r) * row_bytes, 0, xp, y + r);
  }
};

// y[t * y_stride + r] = dot(w row r, x row t) for r < R, t < T (R and T fixed by the kernel).
using TileFn = void (*)(std::int64_t n, const std::uint8_t* w, std::size_t row_bytes,
                        const std::uint8_t* x, std::size_t x_stride, float* y,
                        std::size_t y_stride);

template <int R, int T, TileFn kRT, TileFn kR1, TileFn k1T, TileFn k11>
void TileEntry(std::int64_t n, std::int64_t n_rows, const void* w, std::size_t row_bytes,
               std::int64_t n_tok, const void* x, std::size_t x_stride, float* y,
               std::size_t y_stride) {
  const auto* wp = static_cast<const std::uint8_t*>(w);
  const auto* xp = static_cast<const std::uint8_t*>(x);
  std::int64_t r = 0;
  for (; r + R <= n_rows; r += R) {
    const std::uint8_t* wr = wp + static_cast<std::size_t>(r) * row_bytes;
    std::int64_t t = 0;
    for (; t + T <= n_tok; t += T) {
      kRT(n, wr, row_bytes, xp + static_cast<std::size_t>(t) * x_stride, x_stride,
          y + static_cast<std::size_t>(t) * y_stride + r, y_stride);
    }
    for (; t < n_tok; ++t) {
      kR1(n, wr, row_bytes, xp + static_cast<std::size_t>(t) * x_stride, x_stride,
          y + static_cast<std::size_t>(t) * y_stride + r, y_stride);
    }
  }
  for (; r < n_rows; ++r) {
    const std::uint8_t* wr = wp + static_cast<std::size_t>(r) * row_bytes;
    std::int64_t t = 0;
    for (; t + T <= n_tok; t += T) {
      k1T(n, wr, row_bytes, xp + static_cast<std::size_t>(t) * x_stride, x_stride,
          y + static_cast<std::size_t>(t) * y_stride + r, y_stride);
    }
    for (; t < n_tok; ++t) {
      k11(n, wr, row_bytes, xp + static_cast<std::size_t>(t) * x_stride, x_stride,
          y + static_cast<std::size_t>(t) * y_stride + r, y_stride);
    }
  }
}

// vec_dot_tile over one weight row at a time: tokens in steps of 16, then one step of 8 and one
// of 4, then single tokens, with kernels of 1 row x 16, 8, 4 and 1 tokens. For tiles whose
// unpacking of a weight row is expensive enough that sharing it among many tokens beats
// keeping several rows in registers.
template <TileFn k16, TileFn k8, TileFn k4, TileFn k1>
void RowTileEntry(std::int64_t n, std::int64_t n_rows, const void* w, std::size_t row_bytes,
                  std::int64_t n_tok, const void* x, std::size_t x_stride, float* y,
                  std::size_t y_stride) {
  const auto* wp = static_cast<const std::uint8_t*>(w);
  const auto* xp = static_cast<const std::uint8_t*>(x);
  for (std::int64_t r = 0; r < n_rows; ++r) {
    const std::uint8_t* wr = wp + static_cast<std::size_t>(r) * row_bytes;
    const auto call = [&](TileFn k, std::int64_t t) {
      k(n, wr, row_bytes, xp + static_cast<std::size_t>(t) * x_stride, x_stride,
        y + static_cast<std::size_t>(t) * y_stride + static_cast<std::size_t>(r), y_stride);
    };
    std::int64_t t = 0;
    for (; t + 16 <= n_tok; t += 16) call(k16, t);
    if (t + 8 <= n_tok) {
      call(k8, t);
      t += 8;
    }
    if (t + 4 <= n_tok) {
      call(k4, t);
      t += 4;
    }
    for (; t < n_tok; ++t) call(k1, t);
  }
}

}  // namespace tessera::kernels::simd

#endif  // TESSERA_KERNELS_SIMD_ENTRY_H_
