// AVX2 + FMA float operations: the FloatOps table of the AVX2 and AVX-512 variants
// (simd_tables.h).
//
// Numerics against the reference (ops.cc):
//   * add, scale, axpy: the same float operations element by element (axpy multiplies then adds,
//     no FMA), so the results are bit-identical.
//   * rms_norm: squares rounded to float and summed in double as the reference, four double
//     lanes at a time (only the order of the double additions differs); the output is
//     (x * s) * w as the reference.
//   * softmax: the max, then exp by ExpAvx2 below, summed in double lanes, times float(1/sum).
//   * silu_mul: g / (1 + ExpAvx2(-g)) * up.
//   * gelu_mul: the tanh form as a sigmoid, 0.5 (1 + tanh(u)) = 1 / (1 + e^(-2u)), so
//     g / (1 + ExpAvx2(-2u)) * up with u = sqrt(2/pi) g (1 + 0.044715 g^2) in float (the
//     reference evaluates the same form in double).
//   * rope: the reference function (a few dozen pairs per head; not worth vectorizing).
//   * log_sum_exp: the same maximum; exp(x - max) by ExpAvx2 in float, summed in double lanes.
// ExpAvx2: Cody-Waite range reduction x = k ln2 + r, |r| <= ln2 / 2, a degree-6 polynomial for
// e^r (Cephes' expf coefficients), and 2^k applied in two halves so that results down to the
// subnormal range stay right. Maximum relative error over normal results is tested
// (simd_ops_test.cc); results below 2^-126 are subnormal and keep fewer bits; x > 88.7228 gives
// +inf; NaN gives NaN.
//
// Everything between the pragmas is compiled for AVX2 + FMA, with -ffp-contract=off.
#include <cmath>
#include <cstdint>
#include <limits>

#include "kernels/simd_tables.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#pragma GCC push_options
#pragma GCC target("avx2,fma")

namespace tessera::kernels::simd {
namespace {

// Mask of the first `rem` (0..8) float lanes.
inline __m256i TailMask(std::int64_t rem) {
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(rem)), lane);
}

inline __m256 Exp8(__m256 x) {
  const __m256 max_x = _mm256_set1_ps(88.72283935546875f);  // above: +inf
  const __m256 min_x = _mm256_set1_ps(-104.0f);             // below: 0 (under 2^-150)
  // max/min return their second operand when either is NaN: keeps NaN.
  const __m256 xc = _mm256_min_ps(max_x, _mm256_max_ps(min_x, x));
  const __m256 k = _mm256_round_ps(_mm256_mul_ps(xc, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  // r = x - k ln2 with ln2 split into an exactly representable head and a tail.
  __m256 r = _mm256_fnmadd_ps(k, _mm256_set1_ps(0.693359375f), xc);
  r = _mm256_fnmadd_ps(k, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  const __m256 e_r =
      _mm256_add_ps(_mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r), _mm256_set1_ps(1.0f));
  // 2^k = 2^k1 * 2^k2 with k1 = floor(k / 2): both factors are normal floats for k in
  // [-150, 128].
  const __m256i ki = _mm256_cvtps_epi32(k);
  const __m256i k1 = _mm256_srai_epi32(ki, 1);
  const __m256i k2 = _mm256_sub_epi32(ki, k1);
  const __m256i bias = _mm256_set1_epi32(127);
  const __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k1, bias), 23));
  const __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k2, bias), 23));
  __m256 y = _mm256_mul_ps(_mm256_mul_ps(e_r, s1), s2);
  y = _mm256_blendv_ps(y, _mm256_set1_ps(__builtin_inff()), _mm256_cmp_ps(x, max_x, _CMP_GT_OQ));
  return _mm256_andnot_ps(_mm256_cmp_ps(x, min_x, _CMP_LT_OQ), y);
}

// Adds the 8 float lanes of v to the double accumulator pair as doubles.
inline void AddWide(__m256 v, __m256d& acc_lo, __m256d& acc_hi) {
  acc_lo = _mm256_add_pd(acc_lo, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
  acc_hi = _mm256_add_pd(acc_hi, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
}

inline double HorizontalSum(__m256d lo, __m256d hi) {
  const __m256d s = _mm256_add_pd(lo, hi);
  const __m128d s2 = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd(s, 1));
  return _mm_cvtsd_f64(_mm_add_sd(s2, _mm_unpackhi_pd(s2, s2)));
}

void RmsNormAvx2(const float* x, const float* weight, std::int64_t n, float eps, float* out) {
  __m256d acc_lo = _mm256_setzero_pd();
  __m256d acc_hi = _mm256_setzero_pd();
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    AddWide(_mm256_mul_ps(v, v), acc_lo, acc_hi);
  }
  if (i < n) {
    const __m256 v = _mm256_maskload_ps(x + i, TailMask(n - i));
    AddWide(_mm256_mul_ps(v, v), acc_lo, acc_hi);
  }
  const auto mean = static_cast<float>(HorizontalSum(acc_lo, acc_hi) / static_cast<double>(n));
  const float scale = 1.0f / __builtin_sqrtf(mean + eps);
  const __m256 s = _mm256_set1_ps(scale);
  for (i = 0; i + 8 <= n; i += 8) {
    __m256 v = _mm256_mul_ps(_mm256_loadu_ps(x + i), s);
    if (weight != nullptr) v = _mm256_mul_ps(v, _mm256_loadu_ps(weight + i));
    _mm256_storeu_ps(out + i, v);
  }
  for (; i < n; ++i) out[i] = weight != nullptr ? (x[i] * scale) * weight[i] : x[i] * scale;
}

void SoftmaxAvx2(float* x, std::int64_t n) {
  __m256 mv = _mm256_set1_ps(x[0]);
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8) mv = _mm256_max_ps(mv, _mm256_loadu_ps(x + i));
  __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(mv), _mm256_extractf128_ps(mv, 1));
  m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
  m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
  float max = _mm_cvtss_f32(m4);
  for (; i < n; ++i) max = x[i] > max ? x[i] : max;
  const __m256 maxv = _mm256_set1_ps(max);
  __m256d acc_lo = _mm256_setzero_pd();
  __m256d acc_hi = _mm256_setzero_pd();
  for (i = 0; i + 8 <= n; i += 8) {
    const __m256 e = Exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), maxv));
    _mm256_storeu_ps(x + i, e);
    AddWide(e, acc_lo, acc_hi);
  }
  if (i < n) {
    const __m256i m = TailMask(n - i);
    // Masked-out lanes load 0 and give exp(-max) junk: zero them before summing.
    const __m256 e = _mm256_and_ps(_mm256_castsi256_ps(m),
                                   Exp8(_mm256_sub_ps(_mm256_maskload_ps(x + i, m), maxv)));
    _mm256_maskstore_ps(x + i, m, e);
    AddWide(e, acc_lo, acc_hi);
  }
  const auto inv = static_cast<float>(1.0 / HorizontalSum(acc_lo, acc_hi));
  const __m256 invv = _mm256_set1_ps(inv);
  for (i = 0; i + 8 <= n; i += 8)
    _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), invv));
  for (; i < n; ++i) x[i] *= inv;
}

inline __m256 SiluMul8(__m256 g, __m256 u) {
  const __m256 e = Exp8(_mm256_sub_ps(_mm256_setzero_ps(), g));
  return _mm256_mul_ps(_mm256_div_ps(g, _mm256_add_ps(_mm256_set1_ps(1.0f), e)), u);
}


inline __m256 GeluMul8(__m256 g, __m256 u) {
  // -2u = (-2 sqrt(2/pi)) g (1 + 0.044715 g^2)
  const __m256 inner = _mm256_add_ps(_mm256_set1_ps(1.0f),
                                     _mm256_mul_ps(_mm256_set1_ps(0.044715f), _mm256_mul_ps(g, g)));
  const __m256 arg = _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(-1.5957691216057308f), g), inner);
  const __m256 e = Exp8(arg);
  return _mm256_mul_ps(_mm256_div_ps(g, _mm256_add_ps(_mm256_set1_ps(1.0f), e)), u);
}

// out[i] = Gate8(gate, up) over 8 lanes at a time, the tail masked (silu_mul, gelu_mul).
template <__m256 (*Gate8)(__m256, __m256)>
void GatedAvx2(const float* gate, const float* up, float* out, std::int64_t n) {
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(out + i, Gate8(_mm256_loadu_ps(gate + i), _mm256_loadu_ps(up + i)));
  }
  if (i < n) {
    const __m256i m = TailMask(n - i);
    _mm256_maskstore_ps(out + i, m,
                        Gate8(_mm256_maskload_ps(gate + i, m), _mm256_maskload_ps(up + i, m)));
  }
}

double LogSumExpAvx2(const float* x, std::int64_t n) {
  // vmaxps returns its second operand when either is NaN, so NaN lanes never become the max.
  const float neg_inf = -std::numeric_limits<float>::infinity();
  __m256 mv = _mm256_set1_ps(neg_inf);
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8) mv = _mm256_max_ps(_mm256_loadu_ps(x + i), mv);
  __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(mv), _mm256_extractf128_ps(mv, 1));
  m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
  m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
  float max = _mm_cvtss_f32(m4);
  for (; i < n; ++i) max = x[i] > max ? x[i] : max;
  if (!std::isfinite(max)) return static_cast<double>(max);
  const __m256 maxv = _mm256_set1_ps(max);
  __m256d acc_lo = _mm256_setzero_pd();
  __m256d acc_hi = _mm256_setzero_pd();
  for (i = 0; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    const __m256 ordered = _mm256_cmp_ps(v, v, _CMP_ORD_Q);  // NaN lanes contribute 0
    AddWide(_mm256_and_ps(ordered, Exp8(_mm256_sub_ps(v, maxv))), acc_lo, acc_hi);
  }
  double sum = HorizontalSum(acc_lo, acc_hi);
  for (; i < n; ++i) {
    if (!std::isnan(x[i])) sum += std::exp(static_cast<double>(x[i]) - max);
  }
  return static_cast<double>(max) + std::log(sum);
}

void AddAvx2(const float* a, const float* b, float* out, std::int64_t n) {
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(out + i, _mm256_add_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i)));
  }
  for (; i < n; ++i) out[i] = a[i] + b[i];
}

void ScaleAvx2(float* x, float s, std::int64_t n) {
  const __m256 sv = _mm256_set1_ps(s);
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), sv));
  for (; i < n; ++i) x[i] *= s;
}

void AxpyAvx2(float a, const float* x, float* y, std::int64_t n) {
  const __m256 av = _mm256_set1_ps(a);
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 ax = _mm256_mul_ps(av, _mm256_loadu_ps(x + i));
    _mm256_storeu_ps(y + i, _mm256_add_ps(_mm256_loadu_ps(y + i), ax));
  }
  for (; i < n; ++i) y[i] += a * x[i];
}

}  // namespace

void ExpAvx2(const float* x, float* y, std::int64_t n) {
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, Exp8(_mm256_loadu_ps(x + i)));
  if (i < n) {
    const __m256i m = TailMask(n - i);
    _mm256_maskstore_ps(y + i, m, Exp8(_mm256_maskload_ps(x + i, m)));
  }
}

}  // namespace tessera::kernels::simd

#pragma GCC pop_options

// Plain x86-64 code from here: the dispatcher calls this on any CPU.
namespace tessera::kernels::simd {

const FloatOps* Avx2Ops() {
  static const FloatOps ops = {"avx2",
                               RmsNormAvx2,
                               SoftmaxAvx2,
                               GatedAvx2<SiluMul8>,
                               GatedAvx2<GeluMul8>,
                               AddAvx2,
                               ScaleAvx2,
                               AxpyAvx2,
                               ReferenceOps().rope,
                               AttendAvx2,
                               LogSumExpAvx2};
  return &ops;
}

const FloatOps* Avx512Ops() {
  static const FloatOps ops = [] {
    FloatOps o = *Avx2Ops();
    o.variant = "avx512";
    o.attend = AttendAvx512;
    return o;
  }();
  return &ops;
}

}  // namespace tessera::kernels::simd

#else  // not x86-64 with GCC/Clang

namespace tessera::kernels::simd {
const FloatOps* Avx2Ops() { return nullptr; }
const FloatOps* Avx512Ops() { return nullptr; }
void ExpAvx2(const float*, float*, std::int64_t) {}
}  // namespace tessera::kernels::simd

#endif
