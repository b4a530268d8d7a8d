// AVX-512 causal attention of one head for a batch of queries (FloatOps::attend of the AVX-512
// variant, simd_tables.h): prefill's attention as two small matrix products per tile of four
// query rows, with no horizontal sums.
//
//   1. The keys 0 .. pos0 + n_q - 1 are transposed once per call into scratch, kT[d][p], so
//      16 consecutive keys of one dimension are one vector.
//   2. Scores of a tile: s[j][p..p+31] = scale * sum_d q[j][d] * kT[d][p..p+31], a broadcast
//      and an FMA per (query, dimension, 16 keys); keys a query may not see (beyond its own
//      position; at most 3 per tile) are masked out before the softmax.
//   3. Softmax of each row (the AVX2 table's: ExpAvx2, double sum).
//   4. Output: out[j] = sum_p s[j][p] v[p], each value row loaded once for the four queries,
//      accumulated in registers in slices of up to 64 floats.
// Numerics against the reference (ops.cc): the score dot accumulates in float with FMA in
// dimension order (the reference sums float products in double); the output accumulates with
// FMA in position order. Budgets: tests/kernels/simd_ops_test.cc.
// Used when head_dim is a multiple of 16 up to 256 and there are at least four queries
// (prefill); otherwise, and for decode's single query, the AVX2 kernel (attention_avx2.cc).
//
// The ISA pragmas follow every #include; the file is compiled with -ffp-contract=off.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "kernels/simd_tables.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq")

namespace tessera::kernels::simd {
namespace {

constexpr int kTile = 4;  // query rows per tile (kAttendTileQueries)
static_assert(kTile == kAttendTileQueries);

inline std::int64_t RoundUp16(std::int64_t v) { return (v + 15) / 16 * 16; }

// kT[d * ld + p] = k[p * stride + d] for p < n_keys, zero for n_keys <= p < ld.
void TransposeKeys(const float* k, std::size_t stride, std::int64_t n_keys, std::int64_t hd,
                   std::int64_t ld, float* kt) {
  for (std::int64_t p = 0; p < n_keys; ++p) {
    const float* kp = k + static_cast<std::size_t>(p) * stride;
    for (std::int64_t d = 0; d < hd; ++d) kt[d * ld + p] = kp[d];
  }
  for (std::int64_t d = 0; d < hd; ++d) {
    for (std::int64_t p = n_keys; p < ld; ++p) kt[d * ld + p] = 0.0f;
  }
}

// s[j * ld + p] = scale * (q[j] . k[p]) for j < T, p < n_keys (rounded up to 16 keys).
template <int T>
void TileScores(const float* q, std::size_t q_stride, const float* kt, std::int64_t ld,
                std::int64_t hd, std::int64_t n_keys, float scale, float* s) {
  const __m512 sv = _mm512_set1_ps(scale);
  std::int64_t p = 0;
  for (; p + 32 <= n_keys; p += 32) {
    __m512 acc0[T], acc1[T];
    for (int j = 0; j < T; ++j) acc0[j] = acc1[j] = _mm512_setzero_ps();
    for (std::int64_t d = 0; d < hd; ++d) {
      const __m512 k0 = _mm512_loadu_ps(kt + d * ld + p);
      const __m512 k1 = _mm512_loadu_ps(kt + d * ld + p + 16);
      for (int j = 0; j < T; ++j) {
        const __m512 qd = _mm512_set1_ps(q[static_cast<std::size_t>(j) * q_stride + d]);
        acc0[j] = _mm512_fmadd_ps(qd, k0, acc0[j]);
        acc1[j] = _mm512_fmadd_ps(qd, k1, acc1[j]);
      }
    }
    for (int j = 0; j < T; ++j) {
      _mm512_storeu_ps(s + j * ld + p, _mm512_mul_ps(acc0[j], sv));
      _mm512_storeu_ps(s + j * ld + p + 16, _mm512_mul_ps(acc1[j], sv));
    }
  }
  for (; p < n_keys; p += 16) {  // kT is zero-padded to a multiple of 16 keys
    __m512 acc[T];
    for (int j = 0; j < T; ++j) acc[j] = _mm512_setzero_ps();
    for (std::int64_t d = 0; d < hd; ++d) {
      const __m512 k0 = _mm512_loadu_ps(kt + d * ld + p);
      for (int j = 0; j < T; ++j) {
        acc[j] = _mm512_fmadd_ps(_mm512_set1_ps(q[static_cast<std::size_t>(j) * q_stride + d]), k0,
                                 acc[j]);
      }
    }
    for (int j = 0; j < T; ++j) _mm512_storeu_ps(s + j * ld + p, _mm512_mul_ps(acc[j], sv));
  }
}

// out[j][0 .. 16 NV) = sum_{p < n_keys} s[j * ld + p] * v[p][0 .. 16 NV) for j < T.
template <int T, int NV>
void TileValues(const float* s, std::int64_t ld, const float* v, std::size_t stride,
                std::int64_t n_keys, float* out, std::size_t out_stride) {
  __m512 acc[T][NV];
  for (int j = 0; j < T; ++j) {
    for (int c = 0; c < NV; ++c) acc[j][c] = _mm512_setzero_ps();
  }
  for (std::int64_t p = 0; p < n_keys; ++p) {
    const float* vp = v + static_cast<std::size_t>(p) * stride;
    __m512 vv[NV];
    for (int c = 0; c < NV; ++c) vv[c] = _mm512_loadu_ps(vp + 16 * c);
    for (int j = 0; j < T; ++j) {
      const __m512 w = _mm512_set1_ps(s[j * ld + p]);
      for (int c = 0; c < NV; ++c) acc[j][c] = _mm512_fmadd_ps(w, vv[c], acc[j][c]);
    }
  }
  for (int j = 0; j < T; ++j) {
    for (int c = 0; c < NV; ++c) {
      _mm512_storeu_ps(out + static_cast<std::size_t>(j) * out_stride + 16 * c, acc[j][c]);
    }
  }
}

template <int T>
void TileValuesSliced(const float* s, std::int64_t ld, const float* v, std::size_t stride,
                      std::int64_t n_keys, std::int64_t hd, float* out, std::size_t out_stride) {
  std::int64_t c0 = 0;
  for (; c0 + 64 <= hd; c0 += 64) {
    TileValues<T, 4>(s, ld, v + c0, stride, n_keys, out + c0, out_stride);
  }
  switch ((hd - c0) / 16) {
    case 1:
      TileValues<T, 1>(s, ld, v + c0, stride, n_keys, out + c0, out_stride);
      break;
    case 2:
      TileValues<T, 2>(s, ld, v + c0, stride, n_keys, out + c0, out_stride);
      break;
    case 3:
      TileValues<T, 3>(s, ld, v + c0, stride, n_keys, out + c0, out_stride);
      break;
    default:
      break;
  }
}

// One tile of T query rows, the first at position `pos` (it sees keys 0 .. pos).
template <int T>
void AttendTile(const AttendArgs& a, std::int64_t t0, const float* kt, std::int64_t ld, float* s) {
  const std::int64_t pos = a.pos0 + t0;
  const std::int64_t n_keys = pos + T;  // the last row's keys
  const float* q = a.q + static_cast<std::size_t>(t0) * a.q_stride;
  TileScores<T>(q, a.q_stride, kt, ld, a.head_dim, n_keys, a.scale, s);
  const auto softmax = Avx2Ops()->softmax;
  for (int j = 0; j < T; ++j) {
    float* row = s + j * ld;
    softmax(row, pos + j + 1);
    std::fill(row + pos + j + 1, row + n_keys, 0.0f);  // keys row j may not see
  }
  TileValuesSliced<T>(s, ld, a.v, a.kv_stride, n_keys, a.head_dim,
                      a.out + static_cast<std::size_t>(t0) * a.out_stride, a.out_stride);
}

}  // namespace

void AttendAvx512(const AttendArgs& a) {
  if (a.head_dim % 16 != 0 || a.head_dim > 256 || a.n_q < kTile) {
    AttendAvx2(a);
    return;
  }
  const std::int64_t n_keys = a.pos0 + a.n_q;
  const std::int64_t ld = RoundUp16(n_keys) + 16;  // +16: rows never share a cache line start
  float* s = a.scratch;                            // [kTile][ld] scores
  float* kt = a.scratch + kTile * ld;              // [head_dim][ld] transposed keys
  TransposeKeys(a.k, a.kv_stride, n_keys, a.head_dim, ld, kt);
  std::int64_t t0 = 0;
  for (; t0 + kTile <= a.n_q; t0 += kTile) AttendTile<kTile>(a, t0, kt, ld, s);
  for (; t0 < a.n_q; ++t0) AttendTile<1>(a, t0, kt, ld, s);
}

}  // namespace tessera::kernels::simd

#pragma GCC pop_options

#else  // not x86-64 with GCC/Clang

namespace tessera::kernels::simd {
void AttendAvx512(const AttendArgs& a) { ReferenceOps().attend(a); }
}  // namespace tessera::kernels::simd

#endif
