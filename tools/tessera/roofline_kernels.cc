// Only the functions marked with a target attribute use AVX2/AVX-512 instructions; the rest of
// the binary is built for baseline x86-64.
#include "roofline_kernels.h"

#include <immintrin.h>

namespace tessera::cli::roofline {

namespace {

// Horizontal sum through memory (GCC 12 warns falsely inside _mm512_reduce_add_ps).
__attribute__((target("avx512f"))) float SumLanes512(__m512 v) {
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, v);
  float sum = 0.0f;
  for (float x : lanes) sum += x;
  return sum;
}

}  // namespace

SimdSupport DetectSimd() {
  SimdSupport s;
  __builtin_cpu_init();
  s.avx2_fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  s.avx512f = __builtin_cpu_supports("avx512f");
  return s;
}

float ReadSumScalar(const float* data, std::size_t n_floats) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (std::size_t i = 0; i < n_floats; i += 8) {
    for (int j = 0; j < 8; ++j) acc[j] += data[i + static_cast<std::size_t>(j)];
  }
  float sum = 0.0f;
  for (float a : acc) sum += a;
  return sum;
}

__attribute__((target("avx2,fma"))) float ReadSumAvx2(const float* data, std::size_t n_floats) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
  for (std::size_t i = 0; i < n_floats; i += kReadStepFloats) {
    // 128 floats = 512 bytes = 8 cache lines per step, two loads per accumulator.
    const float* p = data + i;
    a0 = _mm256_add_ps(a0, _mm256_add_ps(_mm256_load_ps(p + 0), _mm256_load_ps(p + 8)));
    a1 = _mm256_add_ps(a1, _mm256_add_ps(_mm256_load_ps(p + 16), _mm256_load_ps(p + 24)));
    a2 = _mm256_add_ps(a2, _mm256_add_ps(_mm256_load_ps(p + 32), _mm256_load_ps(p + 40)));
    a3 = _mm256_add_ps(a3, _mm256_add_ps(_mm256_load_ps(p + 48), _mm256_load_ps(p + 56)));
    a4 = _mm256_add_ps(a4, _mm256_add_ps(_mm256_load_ps(p + 64), _mm256_load_ps(p + 72)));
    a5 = _mm256_add_ps(a5, _mm256_add_ps(_mm256_load_ps(p + 80), _mm256_load_ps(p + 88)));
    a6 = _mm256_add_ps(a6, _mm256_add_ps(_mm256_load_ps(p + 96), _mm256_load_ps(p + 104)));
    a7 = _mm256_add_ps(a7, _mm256_add_ps(_mm256_load_ps(p + 112), _mm256_load_ps(p + 120)));
  }
  __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                           _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, s);
  float sum = 0.0f;
  for (float v : lanes) sum += v;
  return sum;
}

__attribute__((target("avx512f"))) float ReadSumAvx512(const float* data, std::size_t n_floats) {
  __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
  for (std::size_t i = 0; i < n_floats; i += kReadStepFloats) {
    const float* p = data + i;  // 8 cache lines, one load per accumulator
    a0 = _mm512_add_ps(a0, _mm512_load_ps(p + 0));
    a1 = _mm512_add_ps(a1, _mm512_load_ps(p + 16));
    a2 = _mm512_add_ps(a2, _mm512_load_ps(p + 32));
    a3 = _mm512_add_ps(a3, _mm512_load_ps(p + 48));
    a4 = _mm512_add_ps(a4, _mm512_load_ps(p + 64));
    a5 = _mm512_add_ps(a5, _mm512_load_ps(p + 80));
    a6 = _mm512_add_ps(a6, _mm512_load_ps(p + 96));
    a7 = _mm512_add_ps(a7, _mm512_load_ps(p + 112));
  }
  __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
                           _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)));
  return SumLanes512(s);
}

__attribute__((target("avx2,fma"))) float FmaLoopAvx2(std::int64_t iterations, float mul,
                                                      float add) {
  const __m256 m = _mm256_set1_ps(mul);
  const __m256 b = _mm256_set1_ps(add);
  __m256 acc[kFmaChains];
  for (int c = 0; c < kFmaChains; ++c) acc[c] = _mm256_set1_ps(static_cast<float>(c));
  for (std::int64_t i = 0; i < iterations; ++i) {
    for (int c = 0; c < kFmaChains; ++c) acc[c] = _mm256_fmadd_ps(acc[c], m, b);
  }
  __m256 s = acc[0];
  for (int c = 1; c < kFmaChains; ++c) s = _mm256_add_ps(s, acc[c]);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, s);
  float sum = 0.0f;
  for (float v : lanes) sum += v;
  return sum;
}

__attribute__((target("avx512f"))) float FmaLoopAvx512(std::int64_t iterations, float mul,
                                                       float add) {
  const __m512 m = _mm512_set1_ps(mul);
  const __m512 b = _mm512_set1_ps(add);
  __m512 acc[kFmaChains];
  for (int c = 0; c < kFmaChains; ++c) acc[c] = _mm512_set1_ps(static_cast<float>(c));
  for (std::int64_t i = 0; i < iterations; ++i) {
    for (int c = 0; c < kFmaChains; ++c) acc[c] = _mm512_fmadd_ps(acc[c], m, b);
  }
  __m512 s = acc[0];
  for (int c = 1; c < kFmaChains; ++c) s = _mm512_add_ps(s, acc[c]);
  return SumLanes512(s);
}

}  // namespace tessera::cli::roofline
