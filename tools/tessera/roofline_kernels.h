// The inner loops of `tessera roofline`: a streaming read of a float buffer and an FMA-bound
// loop, each in AVX2 and AVX-512 variants compiled with function target attributes (this file
// only), so one binary runs on any x86-64 and the caller picks a variant with DetectSimd().
// Calling a variant the CPU lacks is a programming bug (illegal instruction).
//
// Thread safety: every function is pure apart from reading its input; call from any thread.
#ifndef TESSERA_TOOLS_TESSERA_ROOFLINE_KERNELS_H_
#define TESSERA_TOOLS_TESSERA_ROOFLINE_KERNELS_H_

#include <cstddef>
#include <cstdint>

namespace tessera::cli::roofline {

struct SimdSupport {
  bool avx2_fma = false;  // AVX2 and FMA3
  bool avx512f = false;
};
SimdSupport DetectSimd();

// Elements per call of the read loops must be a multiple of this (one unrolled step).
inline constexpr std::size_t kReadStepFloats = 128;

// Sums data[0, n_floats) (n_floats a multiple of kReadStepFloats, data 64-byte aligned) with
// 8 independent vector accumulators; the sum keeps the compiler from dropping the loads.
float ReadSumScalar(const float* data, std::size_t n_floats);
float ReadSumAvx2(const float* data, std::size_t n_floats);
float ReadSumAvx512(const float* data, std::size_t n_floats);

// Runs `iterations` steps of kFmaChains independent fused multiply-adds on 8-float (AVX2) or
// 16-float (AVX-512) vectors; returns a value depending on every result. FLOPs performed:
// iterations * kFmaChains * lanes * 2.
inline constexpr int kFmaChains = 12;
float FmaLoopAvx2(std::int64_t iterations, float mul, float add);
float FmaLoopAvx512(std::int64_t iterations, float mul, float add);

}  // namespace tessera::cli::roofline

#endif  // TESSERA_TOOLS_TESSERA_ROOFLINE_KERNELS_H_
