// Quantize float rows into the compute types and dequantize them back, bit-compatible with
// ggml's reference (scalar) quantizers, so that our output equals llama.cpp's byte for byte.
//
//   F32   copy.
//   F16   FloatToHalf per element (fp16.h).  BF16  FloatToBf16 per element.
//   Q8_0  per block of 32: amax = max |x|, d = amax / 127, id = d != 0 ? 1 / d : 0,
//         q[j] = roundf(x[j] * id) (ties away from zero); d is stored as f16.
//   Q4_0  per block of 32: m = the element of largest magnitude, with its sign (the first one on
//         ties), d = m / -8, id = d != 0 ? 1 / d : 0,
//         q[j] = min(15, trunc(x[j] * id + 8.5)); d is stored as f16.
//
//   Q4_1  per block of 32: min, max of the block, d = (max - min) / 15, id = d != 0 ? 1 / d : 0,
//         q[j] = min(15, trunc((x[j] - min) * id + 0.5)); d and m = min stored as f16.
//   Q5_0  as Q4_0 with 5 bits: d = m / -16, q[j] = min(31, trunc(x[j] * id + 16.5)).
//   Q5_1  as Q4_1 with 5 bits: d = (max - min) / 31, q[j] = trunc((x[j] - min) * id + 0.5).
//   Q8_1  as Q8_0, plus s = f16(sum(q) * d) (activation type of Q4_1 / Q5_1).
//   Q8_K  per block of 256: m = the element of largest magnitude with its sign (first on ties),
//         iscale = -127 / m, q[j] = min(127, nearest(iscale * x[j])), d = 1 / iscale as a
//         FLOAT, bsums = sums of 16 quants; an all-zero block is all zero bytes.
//   Q4_K / Q5_K  per sub-block of 32: a weighted least-squares search for (scale, min) with
//         weights av + |x[j]| (av = rms of the sub-block) over 21 (Q4_K, levels 0..15, inverse
//         scales (15 - 1.0 + 0.1 k) / range) or 16 (Q5_K, levels 0..31, (31 - 0.5 + 0.1 k) /
//         range) candidates; then the 8 scales and 8 mins are quantized to 6 bits against
//         d = max scale / 63 and dmin = max min / 63 (f16), and every element is re-quantized
//         with its stored scale and min: q = clamp(nearest((x + dmin * mn) / (d * sc))).
//   Q6_K  per sub-block of 16: a symmetric fit (levels -32..31, weights x^2, 19 candidate
//         inverse scales -(32 + 0.1 k) / m); the 16 scales are quantized to int8 against
//         d = -(max-magnitude scale) / 128 (f16) and every element re-quantized with its stored
//         scale: q = clamp(nearest(x / (d * sc)), -32, 31) + 32.
//   Q2_K  per sub-block of 16: the Q4_K search with levels 0..3, weights |x|, absolute (not
//         squared) error, inverse scales (3 - 0.5 + 0.1 k) / range, k = 0..15; the 16 scales and
//         16 mins quantized to 4 bits against d = max scale / 15, dmin = max min / 15 (f16); every
//         element re-quantized with its stored scale and min.
//   Q3_K  per sub-block of 16: levels -4..3 from -4 / m, refined by up to 5 passes that move a
//         single level while that improves the weighted (x^2) least-squares fit; the 16 scales
//         quantized to 6 bits against d = -(max-magnitude scale) / 32 (f16); every element
//         re-quantized: q = clamp(nearest(x / (d * sc)), -4, 3) + 4.
//   IQ4_NL per block of 32: levels from the 16-entry code book kIq4Levels; the scale is the best
//         weighted (x^2) least-squares fit over 16 candidates (m / -127, then inverse scales
//         (k - 127) / m for k in [-7, 7]); every element takes the nearest level to x / d.
//   IQ4_XS per sub-block of 32 as IQ4_NL; the 8 scales quantized to 6 bits against
//         d = -(max-magnitude scale) / 32 (f16), then every element re-fitted to d * scale.
//         (IQ4_NL and IQ4_XS are what llama-quantize writes without an importance matrix.)
// ("nearest" is round half to even, ggml's nearest_int.)
//
// The quantizers compute q with the float d, not with the f16-rounded stored d, as ggml does
// (the K-quants' final re-quantization uses the stored ones, as ggml does). Finite inputs give
// ggml's bytes, provided both builds evaluate the float expressions as written: the K-quant scale
// searches accumulate float sums whose last bit decides ties between candidates, so a build that
// contracts them into FMAs (ggml's x86 builds with -march=native may) can pick another candidate
// for a few sub-blocks. The tensor library is compiled without FMA instructions, so it cannot
// contract. Verified against hand-derived goldens (tests/tensor/*quantize_test.cc) and byte for
// byte against llama-quantize (llama.cpp b10587, -march=native, on this machine kind): every
// tensor of models/generalist.gguf quantized to each of these types equals llama-quantize's
// (tests/cli/llama_quantize_parity_test.cc).
// Non-finite inputs never cause undefined behaviour (a quantized value whose float is NaN
// becomes 0, or the lowest level, and the block's extremes ignore NaNs), but their bytes are
// not promised to match ggml's.
//
// Row helpers (Quantize*Row / Dequantize*Row) take raw pointers and an element count that must be
// a multiple of the block size (TS_DCHECK'ed); the span API (Quantize/Dequantize) validates
// everything and returns a Status.
// Thread safety: pure functions.
#ifndef TESSERA_TENSOR_QUANTIZE_H_
#define TESSERA_TENSOR_QUANTIZE_H_

#include <cstdint>
#include <span>

#include "tensor/blocks.h"
#include "tensor/types.h"
#include "tessera/status.h"

namespace tessera::tensor {

// Row helpers: n elements, n % block size == 0 (TS_DCHECK'ed). The quantized side is raw bytes
// of the packed row (blocks.h layouts; F16/BF16 as raw 16-bit patterns) at ANY alignment, since
// rows inside a mapped GGUF file need not be aligned to the block struct. The signatures match
// kernels::TypeKernels::from_float / to_float.
void QuantizeRowF32(const float* x, void* y, std::int64_t n);
void DequantizeRowF32(const void* x, float* y, std::int64_t n);
void QuantizeRowF16(const float* x, void* y, std::int64_t n);
void DequantizeRowF16(const void* x, float* y, std::int64_t n);
void QuantizeRowBf16(const float* x, void* y, std::int64_t n);
void DequantizeRowBf16(const void* x, float* y, std::int64_t n);
void QuantizeRowQ8_0(const float* x, void* y, std::int64_t n);
void DequantizeRowQ8_0(const void* x, float* y, std::int64_t n);
void QuantizeRowQ4_0(const float* x, void* y, std::int64_t n);
void DequantizeRowQ4_0(const void* x, float* y, std::int64_t n);
void QuantizeRowQ4_1(const float* x, void* y, std::int64_t n);
void DequantizeRowQ4_1(const void* x, float* y, std::int64_t n);
void QuantizeRowQ5_0(const float* x, void* y, std::int64_t n);
void DequantizeRowQ5_0(const void* x, float* y, std::int64_t n);
void QuantizeRowQ5_1(const float* x, void* y, std::int64_t n);
void DequantizeRowQ5_1(const void* x, float* y, std::int64_t n);
void QuantizeRowQ8_1(const float* x, void* y, std::int64_t n);
void DequantizeRowQ8_1(const void* x, float* y, std::int64_t n);
// K-quants: n % 256 == 0.
void QuantizeRowQ4_K(const float* x, void* y, std::int64_t n);
void DequantizeRowQ4_K(const void* x, float* y, std::int64_t n);
void QuantizeRowQ5_K(const float* x, void* y, std::int64_t n);
void DequantizeRowQ5_K(const void* x, float* y, std::int64_t n);
void QuantizeRowQ6_K(const float* x, void* y, std::int64_t n);
void DequantizeRowQ6_K(const void* x, float* y, std::int64_t n);
void QuantizeRowQ8_K(const float* x, void* y, std::int64_t n);
void DequantizeRowQ8_K(const void* x, float* y, std::int64_t n);
// Low-bit types (quantize_low.cc): Q2_K, Q3_K and IQ4_XS n % 256 == 0; IQ4_NL n % 32 == 0.
void QuantizeRowQ2_K(const float* x, void* y, std::int64_t n);
void DequantizeRowQ2_K(const void* x, float* y, std::int64_t n);
void QuantizeRowQ3_K(const float* x, void* y, std::int64_t n);
void DequantizeRowQ3_K(const void* x, float* y, std::int64_t n);
void QuantizeRowIQ4_NL(const float* x, void* y, std::int64_t n);
void DequantizeRowIQ4_NL(const void* x, float* y, std::int64_t n);
void QuantizeRowIQ4_XS(const float* x, void* y, std::int64_t n);
void DequantizeRowIQ4_XS(const void* x, float* y, std::int64_t n);

// The row helpers of a compute type or of the activation types Q8_1 / Q8_K; nullptr for others.
using QuantizeRowFn = void (*)(const float* x, void* y, std::int64_t n);
using DequantizeRowFn = void (*)(const void* x, float* y, std::int64_t n);
QuantizeRowFn QuantizeRowFor(DType type);
DequantizeRowFn DequantizeRowFor(DType type);

// Quantizes src, a row-major matrix of rows of n_per_row floats, into dst as `type`.
//   kUnsupported      type has no quantizer (QuantizeRowFor is null); the message lists those
//                     that do.
//   kInvalidArgument  n_per_row < 1, not a multiple of the block size (the message names the
//                     width, the type and the block size), or src.size() not a multiple of
//                     n_per_row.
//   kInvalidArgument  dst.size() differs from the bytes of the quantized rows (names both).
Status Quantize(DType type, std::span<const float> src, std::int64_t n_per_row,
                std::span<std::uint8_t> dst);

// Dequantizes src, dst.size() elements of `type`, into dst.
//   kUnsupported      type has no dequantizer (DequantizeRowFor is null).
//   kInvalidArgument  dst.size() is not a multiple of the block size.
//   kInvalidArgument  src.size() differs from the bytes of dst.size() elements (names both).
Status Dequantize(DType type, std::span<const std::uint8_t> src, std::span<float> dst);

}  // namespace tessera::tensor

#endif  // TESSERA_TENSOR_QUANTIZE_H_
