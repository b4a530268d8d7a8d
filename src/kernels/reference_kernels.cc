// Scalar reference kernels per weight type: the tables returned by ReferenceKernels(). F32, F16,
// BF16, Q8_0 and Q4_0 live here; the other types in reference_legacy_kernels.cc and
// reference_kquant_kernels.cc.
//
// Every function reads its packed inputs through memcpy / bytes, so rows may sit at any
// alignment inside a mapped file. Numerics mirror ggml's scalar (generic) path; see kernels.h.
#include <cstring>

#include "base/check.h"
#include "kernels/kernels.h"
#include "kernels/reference_tables.h"
#include "tensor/blocks.h"
#include "tensor/fp16.h"
#include "tensor/quantize.h"

namespace tessera::kernels {
namespace {

using tensor::BlockQ4_0;
using tensor::BlockQ8_0;
using tensor::kQK4_0;
using tensor::kQK8_0;

constexpr std::size_t kScaleBytes = 2;  // f16 scale at the start of Q8_0 / Q4_0 blocks

float LoadF32(const std::uint8_t* p) {
  float v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

std::uint16_t LoadU16(const std::uint8_t* p) {
  std::uint16_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

// F32 x F32: products in float, accumulated in double (ggml_vec_dot_f32 without SIMD).
float VecDotF32(std::int64_t n, const void* w_row, const void* x) {
  const auto* w = static_cast<const std::uint8_t*>(w_row);
  const auto* a = static_cast<const std::uint8_t*>(x);
  double sum = 0.0;
  for (std::int64_t i = 0; i < n; ++i) {
    sum += static_cast<double>(LoadF32(w + 4 * i) * LoadF32(a + 4 * i));
  }
  return static_cast<float>(sum);
}

// F16 x F16: both sides widened to float, products in float, accumulated in double.
float VecDotF16(std::int64_t n, const void* w_row, const void* x) {
  const auto* w = static_cast<const std::uint8_t*>(w_row);
  const auto* a = static_cast<const std::uint8_t*>(x);
  double sum = 0.0;
  for (std::int64_t i = 0; i < n; ++i) {
    const float wf = tensor::HalfToFloat(LoadU16(w + 2 * i));
    const float af = tensor::HalfToFloat(LoadU16(a + 2 * i));
    sum += static_cast<double>(wf * af);
  }
  return static_cast<float>(sum);
}

// BF16 x BF16: as F16.
float VecDotBf16(std::int64_t n, const void* w_row, const void* x) {
  const auto* w = static_cast<const std::uint8_t*>(w_row);
  const auto* a = static_cast<const std::uint8_t*>(x);
  double sum = 0.0;
  for (std::int64_t i = 0; i < n; ++i) {
    const float wf = tensor::Bf16ToFloat(LoadU16(w + 2 * i));
    const float af = tensor::Bf16ToFloat(LoadU16(a + 2 * i));
    sum += static_cast<double>(wf * af);
  }
  return static_cast<float>(sum);
}

// Q8_0 x Q8_0, one block: exact int32 sum of q_w * q_x, then isum * (d_w * d_x) in float.
// wb, ab: the weight and activation blocks (f16 d, 32 int8).
float BlockTermQ8_0(const std::uint8_t* wb, const std::uint8_t* ab) {
  std::int32_t isum = 0;
  for (int j = 0; j < kQK8_0; ++j) {
    isum += static_cast<std::int32_t>(static_cast<std::int8_t>(wb[kScaleBytes + j])) *
            static_cast<std::int32_t>(static_cast<std::int8_t>(ab[kScaleBytes + j]));
  }
  const float dw = tensor::HalfToFloat(LoadU16(wb));
  const float da = tensor::HalfToFloat(LoadU16(ab));
  return static_cast<float>(isum) * (dw * da);
}

// Q4_0 x Q8_0, one block: nibbles minus 8 times int8, exact int32 (low-nibble half and
// high-nibble half summed separately, then added), then isum * d_w * d_x in float.
float BlockTermQ4_0(const std::uint8_t* wb, const std::uint8_t* ab) {
  std::int32_t isum_lo = 0;
  std::int32_t isum_hi = 0;
  for (int j = 0; j < kQK4_0 / 2; ++j) {
    const std::uint8_t q = wb[kScaleBytes + j];
    isum_lo += ((q & 0x0F) - 8) * static_cast<std::int8_t>(ab[kScaleBytes + j]);
    isum_hi += ((q >> 4) - 8) * static_cast<std::int8_t>(ab[kScaleBytes + j + kQK4_0 / 2]);
  }
  const float dw = tensor::HalfToFloat(LoadU16(wb));
  const float da = tensor::HalfToFloat(LoadU16(ab));
  return static_cast<float>(isum_lo + isum_hi) * dw * da;
}

using BlockTermFn = float (*)(const std::uint8_t* wb, const std::uint8_t* ab);

// A row of Q8_0 or Q4_0 blocks against Q8_0 activations: the block terms summed in block order
// in one float.
template <BlockTermFn kTerm, std::size_t kBlockBytes>
float VecDotBlocks(std::int64_t n, const void* w_row, const void* x) {
  TS_DCHECK(n % kQK8_0 == 0);
  const auto* w = static_cast<const std::uint8_t*>(w_row);
  const auto* a = static_cast<const std::uint8_t*>(x);
  float sum = 0.0f;
  for (std::int64_t b = 0; b < n / kQK8_0; ++b) {
    sum += kTerm(w + b * static_cast<std::int64_t>(kBlockBytes),
                 a + b * static_cast<std::int64_t>(sizeof(BlockQ8_0)));
  }
  return sum;
}

// The packed layout (kernels.h) read element by element: row i's block b of a group is
// gathered back into file order (its d from the scales, quant byte m from chunk m / 4, lane i),
// then its term added in block order exactly as VecDotBlocks does, so the two agree bit for bit.
// The summaries are not read.
template <BlockTermFn kTerm, std::size_t kBlockBytes>
void PackedTileBlocks(std::int64_t n, std::int64_t n_groups, const void* packed,
                      std::int64_t n_tok, const void* x, std::size_t x_stride, const Q8Summary*,
                      std::size_t, float* y, std::size_t y_stride) {
  constexpr std::size_t kRows = kPackRows;
  constexpr std::size_t kGroupBlock = kRows * kBlockBytes;
  const auto nb = static_cast<std::size_t>(n / kQK8_0);
  const auto* p = static_cast<const std::uint8_t*>(packed);
  const auto* xa = static_cast<const std::uint8_t*>(x);
  for (std::size_t g = 0; g < static_cast<std::size_t>(n_groups); ++g) {
    for (std::size_t i = 0; i < kRows; ++i) {
      for (std::size_t t = 0; t < static_cast<std::size_t>(n_tok); ++t) {
        float sum = 0.0f;
        for (std::size_t b = 0; b < nb; ++b) {
          const std::uint8_t* gb = p + (g * nb + b) * kGroupBlock;
          std::uint8_t block[kBlockBytes];
          block[0] = gb[2 * i];
          block[1] = gb[2 * i + 1];
          for (std::size_t m = 0; m < kBlockBytes - kScaleBytes; ++m) {
            block[kScaleBytes + m] = gb[2 * kRows + (m / 4) * (4 * kRows) + i * 4 + m % 4];
          }
          sum += kTerm(block, xa + t * x_stride + b * sizeof(BlockQ8_0));
        }
        y[t * y_stride + g * kRows + i] = sum;
      }
    }
  }
}

constexpr TypeKernels kReferenceF32 = {DType::kF32, DType::kF32, "reference",
                                       tensor::QuantizeRowF32, tensor::DequantizeRowF32,
                                       tensor::QuantizeRowF32, VecDotF32};
constexpr TypeKernels kReferenceF16 = {DType::kF16, DType::kF16, "reference",
                                       tensor::QuantizeRowF16, tensor::DequantizeRowF16,
                                       tensor::QuantizeRowF16, VecDotF16};
constexpr TypeKernels kReferenceBf16 = {DType::kBF16, DType::kBF16, "reference",
                                        tensor::QuantizeRowBf16, tensor::DequantizeRowBf16,
                                        tensor::QuantizeRowBf16, VecDotBf16};
constexpr TypeKernels kReferenceQ8_0 = {DType::kQ8_0,
                                        DType::kQ8_0,
                                        "reference",
                                        tensor::QuantizeRowQ8_0,
                                        tensor::DequantizeRowQ8_0,
                                        tensor::QuantizeRowQ8_0,
                                        VecDotBlocks<BlockTermQ8_0, sizeof(BlockQ8_0)>,
                                        nullptr,
                                        nullptr,
                                        PackedTileBlocks<BlockTermQ8_0, sizeof(BlockQ8_0)>};
constexpr TypeKernels kReferenceQ4_0 = {DType::kQ4_0,
                                        DType::kQ8_0,
                                        "reference",
                                        tensor::QuantizeRowQ4_0,
                                        tensor::DequantizeRowQ4_0,
                                        tensor::QuantizeRowQ8_0,
                                        VecDotBlocks<BlockTermQ4_0, sizeof(BlockQ4_0)>,
                                        nullptr,
                                        nullptr,
                                        PackedTileBlocks<BlockTermQ4_0, sizeof(BlockQ4_0)>};

}  // namespace

const TypeKernels* ReferenceKernels(DType type) {
  switch (type) {
    case DType::kF32: return &kReferenceF32;
    case DType::kF16: return &kReferenceF16;
    case DType::kBF16: return &kReferenceBf16;
    case DType::kQ8_0: return &kReferenceQ8_0;
    case DType::kQ4_0: return &kReferenceQ4_0;
    case DType::kQ4_1:
    case DType::kQ5_0:
    case DType::kQ5_1: return internal::ReferenceLegacyKernels(type);
    case DType::kQ4_K:
    case DType::kQ5_K:
    case DType::kQ6_K: return internal::ReferenceKQuantKernels(type);
    case DType::kQ2_K:
    case DType::kQ3_K:
    case DType::kIQ4_NL:
    case DType::kIQ4_XS: return internal::ReferenceLowBitKernels(type);
    default: return nullptr;
  }
}

}  // namespace tessera::kernels
