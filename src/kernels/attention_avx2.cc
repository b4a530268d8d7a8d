// AVX2 + FMA causal attention of one head (FloatOps::attend of the AVX2 and AVX-512 variants,
// simd_tables.h).
//
// Numerics against the reference (ops.cc):
//   * scores: the dot of a key row with the query row accumulates in 8 float lanes with FMA
//     (the reference sums float products in double), then times scale;
//   * softmax: the AVX2 table's (ExpAvx2, double sum);
//   * output: sum_p score[p] * v[p] accumulated with FMA in float lanes held in registers
//     across all positions (the reference rounds the product and the sum separately and keeps
//     the running output in memory).
// The fast path needs head_dim to be a multiple of 8 and at most 256 (every llama-family model
// we know of: 8 .. 256); other sizes use the reference. Four key rows are dotted at a time so
// that four independent FMA chains hide the latency, and their four sums come out of one
// horizontal-add tree.
//
// Everything between the pragmas is compiled for AVX2 + FMA, with -ffp-contract=off.
#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "kernels/simd_bits.h"
#include "kernels/simd_tables.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#pragma GCC push_options
#pragma GCC target("avx2,fma")

namespace tessera::kernels::simd {
namespace {

constexpr int kMaxVectors = 32;  // head_dim <= 256 on the fast path

// scores[p] = scale * (q . k[p]) for p < n_pos; NV = head_dim / 8.
template <int NV>
void Scores(const float* q, const float* k, std::size_t stride, std::int64_t n_pos, float scale,
            float* scores) {
  __m256 qv[NV];
  for (int c = 0; c < NV; ++c) qv[c] = _mm256_loadu_ps(q + 8 * c);
  const __m128 scale4 = _mm_set1_ps(scale);
  std::int64_t p = 0;
  for (; p + 4 <= n_pos; p += 4) {
    const float* k0 = k + static_cast<std::size_t>(p) * stride;
    __m256 acc[4];
    for (int j = 0; j < 4; ++j) acc[j] = _mm256_setzero_ps();
    for (int c = 0; c < NV; ++c) {
      for (int j = 0; j < 4; ++j) {
        acc[j] = _mm256_fmadd_ps(_mm256_loadu_ps(k0 + j * stride + 8 * c), qv[c], acc[j]);
      }
    }
    // [s0 s1 s2 s3] per 128-bit half, then the halves added.
    const __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(acc[0], acc[1]), _mm256_hadd_ps(acc[2], acc[3]));
    const __m128 s = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    _mm_storeu_ps(scores + p, _mm_mul_ps(s, scale4));
  }
  for (; p < n_pos; ++p) {
    const float* kp = k + static_cast<std::size_t>(p) * stride;
    __m256 acc = _mm256_setzero_ps();
    for (int c = 0; c < NV; ++c) acc = _mm256_fmadd_ps(_mm256_loadu_ps(kp + 8 * c), qv[c], acc);
    scores[p] = HorizontalSum8(acc) * scale;
  }
}

// out[0 .. 8 * NV) = sum_p scores[p] * v[p][0 .. 8 * NV), in registers (NV <= 8).
template <int NV>
void WeightedValues(const float* scores, const float* v, std::size_t stride, std::int64_t n_pos,
                    float* out) {
  __m256 acc[NV];
  for (int c = 0; c < NV; ++c) acc[c] = _mm256_setzero_ps();
  for (std::int64_t p = 0; p < n_pos; ++p) {
    const __m256 s = _mm256_broadcast_ss(scores + p);
    const float* vp = v + static_cast<std::size_t>(p) * stride;
    for (int c = 0; c < NV; ++c) acc[c] = _mm256_fmadd_ps(s, _mm256_loadu_ps(vp + 8 * c), acc[c]);
  }
  for (int c = 0; c < NV; ++c) _mm256_storeu_ps(out + 8 * c, acc[c]);
}

template <int NV>
void AttendFixed(const AttendArgs& a) {
  const auto softmax = Avx2Ops()->softmax;
  // Value columns in slices of at most 8 vectors (64 floats) so the sums stay in registers.
  constexpr int kFull = NV / 8;
  constexpr int kRest = NV % 8;
  for (std::int64_t t = 0; t < a.n_q; ++t) {
    const float* q = a.q + static_cast<std::size_t>(t) * a.q_stride;
    const std::int64_t n_pos = a.pos0 + t + 1;
    Scores<NV>(q, a.k, a.kv_stride, n_pos, a.scale, a.scratch);
    softmax(a.scratch, n_pos);
    float* out = a.out + static_cast<std::size_t>(t) * a.out_stride;
    for (int s = 0; s < kFull; ++s) {
      WeightedValues<8>(a.scratch, a.v + 64 * s, a.kv_stride, n_pos, out + 64 * s);
    }
    if constexpr (kRest > 0) {
      WeightedValues<kRest>(a.scratch, a.v + 64 * kFull, a.kv_stride, n_pos, out + 64 * kFull);
    }
  }
}

template <std::size_t... I>
constexpr auto FixedTable(std::index_sequence<I...>) {
  return std::array<void (*)(const AttendArgs&), sizeof...(I)>{AttendFixed<I + 1>...};
}

}  // namespace

void AttendAvx2(const AttendArgs& a) {
  // head_dim / 8 - 1 -> kernel.
  static constexpr auto kFixed = FixedTable(std::make_index_sequence<kMaxVectors>());
  if (a.head_dim % 8 == 0 && a.head_dim >= 8 && a.head_dim <= 8 * kMaxVectors) {
    kFixed[static_cast<std::size_t>(a.head_dim / 8 - 1)](a);
    return;
  }
  ReferenceOps().attend(a);
}

}  // namespace tessera::kernels::simd

#pragma GCC pop_options

#else  // not x86-64 with GCC/Clang

namespace tessera::kernels::simd {
void AttendAvx2(const AttendArgs& a) { ReferenceOps().attend(a); }
}  // namespace tessera::kernels::simd

#endif
