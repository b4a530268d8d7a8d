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
// The quantizers compute q with the float d, not with the f16-rounded stored d, as ggml does.
// Finite inputs give ggml's bytes exactly. Non-finite inputs never cause undefined behaviour (a
// quantized value whose float is NaN becomes 0, or nibble 0 for Q4_0, and the block's amax
// ignores NaNs), but their bytes are not promised to match ggml's.
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

// The row helpers of a compute type; nullptr for other types.
using QuantizeRowFn = void (*)(const float* x, void* y, std::int64_t n);
using DequantizeRowFn = void (*)(const void* x, float* y, std::int64_t n);
QuantizeRowFn QuantizeRowFor(DType type);
DequantizeRowFn DequantizeRowFor(DType type);

// Quantizes src, a row-major matrix of rows of n_per_row floats, into dst as `type`.
//   kUnsupported      type is not a compute type (IsComputeSupported).
//   kInvalidArgument  n_per_row < 1, not a multiple of the block size (the message names the
//                     width, the type and the block size), or src.size() not a multiple of
//                     n_per_row.
//   kInvalidArgument  dst.size() differs from the bytes of the quantized rows (names both).
Status Quantize(DType type, std::span<const float> src, std::int64_t n_per_row,
                std::span<std::uint8_t> dst);

// Dequantizes src, dst.size() elements of `type`, into dst.
//   kUnsupported      type is not a compute type.
//   kInvalidArgument  dst.size() is not a multiple of the block size.
//   kInvalidArgument  src.size() differs from the bytes of dst.size() elements (names both).
Status Dequantize(DType type, std::span<const std::uint8_t> src, std::span<float> dst);

}  // namespace tessera::tensor

#endif  // TESSERA_TENSOR_QUANTIZE_H_
