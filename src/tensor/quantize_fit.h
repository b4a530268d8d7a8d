// The scale searches the K-quant quantizers share (internal to the tensor library), following
// ggml's reference fits step by step in the same float operation order (quantize.h).
#ifndef TESSERA_TENSOR_QUANTIZE_FIT_H_
#define TESSERA_TENSOR_QUANTIZE_FIT_H_

#include <cstdint>

namespace tessera::tensor::internal {

// Fits x[i] ~ scale * L[i] - min_out (L in [0, n_max], min_out >= 0) by weighted least squares
// (ggml's make_qkx2_quants): start from the range [min(x, 0), max(x)]; unless n_step < 1, try
// n_step + 1 candidate inverse scales (r_min + r_delta * k + n_max) / range and keep the one
// with the smallest weighted error, squared or (use_mad) absolute. Returns the scale; `levels`
// receives the levels, `levels_try` is scratch of n bytes.
float FitScaleAndMin(int n, int n_max, const float* x, const float* w, std::uint8_t* levels,
                     float* min_out, std::uint8_t* levels_try, float r_min, float r_delta,
                     int n_step, bool use_mad);

}  // namespace tessera::tensor::internal

#endif  // TESSERA_TENSOR_QUANTIZE_FIT_H_
