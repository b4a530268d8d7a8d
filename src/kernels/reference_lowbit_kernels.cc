// Scalar reference dot products of the low-bit types (layouts in tensor/blocks.h) with their
// activation types, as in ggml: Q2_K, Q3_K and IQ4_XS with Q8_K, IQ4_NL with Q8_0.
//
// Inside a block everything is exact integer arithmetic:
//   Q2_K    isum = sum over the 16 sub-blocks of (scales[s] & 15) * sum(q_w * q_x),
//           msum = sum over them of (scales[s] >> 4) * bsums[s];
//           sum += (d_w * d_x) * isum - (dmin_w * d_x) * msum.
//   Q3_K    isum = sum over the 16 sub-blocks of (scale - 32) * sum((q_w - 4 * !third bit) * q_x);
//           sum += (d_w * d_x) * isum.
//   IQ4_XS  isum = sum over the 8 sub-blocks of (scale - 32) * sum(level(q_w) * q_x);
//           sum += (d_w * d_x) * isum.
//   IQ4_NL  isum = sum(level(q_w) * q_x) over the block of 32; sum += (d_w * d_x) * isum, with
//           both d f16.
// Block results accumulate in float.
#include <cstring>

#include "base/check.h"
#include "kernels/reference_tables.h"
#include "tensor/block_io.h"
#include "tensor/blocks.h"
#include "tensor/quantize.h"

namespace tessera::kernels::internal {
namespace {

using tensor::BlockIQ4_NL;
using tensor::BlockIQ4_XS;
using tensor::BlockQ2_K;
using tensor::BlockQ3_K;
using tensor::BlockQ8_0;
using tensor::BlockQ8_K;
using tensor::kIq4Levels;
using tensor::kQK4_NL;
using tensor::kQK_K;
using tensor::LoadF32At;
using tensor::LoadHalfAt;
using tensor::LoadI16At;

constexpr std::int64_t kQ8_KBytes = sizeof(BlockQ8_K);

const std::int8_t* Q8KQuants(const std::uint8_t* ab) {
  return reinterpret_cast<const std::int8_t*>(ab + offsetof(BlockQ8_K, qs));
}

// The sixteen sums over the sub-blocks of 16 of a Q2_K / Q3_K block: sum of q(e) * q8[e] over
// sub-block s = 8 h + 2 k + g, whose elements e = 128 h + 32 k + 16 g + i (i < 16) keep their
// two low bits in bits 2k..2k+1 of qs[32 h + 16 g + i] (tensor/blocks.h). `third` (Q3_K's
// hmask, or nullptr) subtracts 4 where element e's bit e / 32 of hmask[e % 32] is clear.
void SubBlockSums(const std::uint8_t* qs, const std::uint8_t* third, const std::int8_t* q8,
                  std::int32_t* sums) {
  for (int h = 0; h < 2; ++h) {
    for (int k = 0; k < 4; ++k) {
      for (int g = 0; g < 2; ++g) {
        std::int32_t sum = 0;
        for (int i = 0; i < 16; ++i) {
          const int l = 16 * g + i;
          int q = (qs[32 * h + l] >> (2 * k)) & 3;
          if (third != nullptr && ((third[l] >> (4 * h + k)) & 1) == 0) q -= 4;
          sum += q * q8[128 * h + 32 * k + l];
        }
        sums[8 * h + 2 * k + g] = sum;
      }
    }
  }
}

float VecDotQ2_K(std::int64_t n, const void* w_row, const void* x) {
  TS_DCHECK(n % kQK_K == 0);
  const auto* w = static_cast<const std::uint8_t*>(w_row);
  const auto* a = static_cast<const std::uint8_t*>(x);
  float sum = 0.0f;
  for (std::int64_t b = 0; b < n / kQK_K; ++b) {
    const std::uint8_t* wb = w + b * static_cast<std::int64_t>(sizeof(BlockQ2_K));
    const std::uint8_t* ab = a + b * kQ8_KBytes;
    const std::int8_t* q8 = Q8KQuants(ab);
    const std::uint8_t* scales = wb + offsetof(BlockQ2_K, scales);
    const std::uint8_t* qs = wb + offsetof(BlockQ2_K, qs);
    std::int32_t sub_sums[16];
    SubBlockSums(qs, nullptr, q8, sub_sums);
    std::int32_t isum = 0, msum = 0;
    for (int s = 0; s < 16; ++s) {
      isum += (scales[s] & 0x0F) * sub_sums[s];
      msum += (scales[s] >> 4) * LoadI16At(ab + offsetof(BlockQ8_K, bsums) + 2 * s);
    }
    const float dx = LoadF32At(ab + offsetof(BlockQ8_K, d));
    const float d = LoadHalfAt(wb + offsetof(BlockQ2_K, d)) * dx;
    const float dmin = LoadHalfAt(wb + offsetof(BlockQ2_K, dmin)) * dx;
    sum += d * static_cast<float>(isum) - dmin * static_cast<float>(msum);
  }
  return sum;
}

float VecDotQ3_K(std::int64_t n, const void* w_row, const void* x) {
  TS_DCHECK(n % kQK_K == 0);
  const auto* w = static_cast<const std::uint8_t*>(w_row);
  const auto* a = static_cast<const std::uint8_t*>(x);
  float sum = 0.0f;
  for (std::int64_t b = 0; b < n / kQK_K; ++b) {
    const std::uint8_t* wb = w + b * static_cast<std::int64_t>(sizeof(BlockQ3_K));
    const std::uint8_t* ab = a + b * kQ8_KBytes;
    const std::int8_t* q8 = Q8KQuants(ab);
    const std::uint8_t* hmask = wb + offsetof(BlockQ3_K, hmask);
    const std::uint8_t* qs = wb + offsetof(BlockQ3_K, qs);
    std::int32_t sub_sums[16];
    SubBlockSums(qs, hmask, q8, sub_sums);
    std::int32_t isum = 0;
    for (int s = 0; s < 16; ++s) {
      isum += (tensor::ScaleQ3K(s, wb + offsetof(BlockQ3_K, scales)) - 32) * sub_sums[s];
    }
    const float d =
        LoadHalfAt(wb + offsetof(BlockQ3_K, d)) * LoadF32At(ab + offsetof(BlockQ8_K, d));
    sum += d * static_cast<float>(isum);
  }
  return sum;
}

float VecDotIQ4_XS(std::int64_t n, const void* w_row, const void* x) {
  TS_DCHECK(n % kQK_K == 0);
  const auto* w = static_cast<const std::uint8_t*>(w_row);
  const auto* a = static_cast<const std::uint8_t*>(x);
  float sum = 0.0f;
  for (std::int64_t b = 0; b < n / kQK_K; ++b) {
    const std::uint8_t* wb = w + b * static_cast<std::int64_t>(sizeof(BlockIQ4_XS));
    const std::uint8_t* ab = a + b * kQ8_KBytes;
    const std::int8_t* q8 = Q8KQuants(ab);
    std::int32_t isum = 0;
    for (int s = 0; s < 8; ++s) {
      const std::uint8_t* qs = wb + offsetof(BlockIQ4_XS, qs) + 16 * s;
      std::int32_t sub = 0;
      for (int j = 0; j < 16; ++j) {
        sub += kIq4Levels[qs[j] & 0x0F] * q8[32 * s + j];
        sub += kIq4Levels[qs[j] >> 4] * q8[32 * s + j + 16];
      }
      isum += (tensor::ScaleIQ4XS(s, wb) - 32) * sub;
    }
    const float d = LoadHalfAt(wb) * LoadF32At(ab + offsetof(BlockQ8_K, d));
    sum += d * static_cast<float>(isum);
  }
  return sum;
}

float VecDotIQ4_NL(std::int64_t n, const void* w_row, const void* x) {
  TS_DCHECK(n % kQK4_NL == 0);
  const auto* w = static_cast<const std::uint8_t*>(w_row);
  const auto* a = static_cast<const std::uint8_t*>(x);
  float sum = 0.0f;
  for (std::int64_t b = 0; b < n / kQK4_NL; ++b) {
    const std::uint8_t* wb = w + b * static_cast<std::int64_t>(sizeof(BlockIQ4_NL));
    const std::uint8_t* ab = a + b * static_cast<std::int64_t>(sizeof(BlockQ8_0));
    const auto* q8 = reinterpret_cast<const std::int8_t*>(ab + offsetof(BlockQ8_0, qs));
    const std::uint8_t* qs = wb + offsetof(BlockIQ4_NL, qs);
    std::int32_t isum = 0;
    for (int j = 0; j < 16; ++j) {
      isum += kIq4Levels[qs[j] & 0x0F] * q8[j] + kIq4Levels[qs[j] >> 4] * q8[j + 16];
    }
    sum += (LoadHalfAt(wb) * LoadHalfAt(ab)) * static_cast<float>(isum);
  }
  return sum;
}

constexpr TypeKernels kReferenceQ2_K = {DType::kQ2_K,           DType::kQ8_K,
                                        "reference",            tensor::QuantizeRowQ2_K,
                                        tensor::DequantizeRowQ2_K, tensor::QuantizeRowQ8_K,
                                        VecDotQ2_K};
constexpr TypeKernels kReferenceQ3_K = {DType::kQ3_K,           DType::kQ8_K,
                                        "reference",            tensor::QuantizeRowQ3_K,
                                        tensor::DequantizeRowQ3_K, tensor::QuantizeRowQ8_K,
                                        VecDotQ3_K};
constexpr TypeKernels kReferenceIQ4_XS = {DType::kIQ4_XS,            DType::kQ8_K,
                                          "reference",             tensor::QuantizeRowIQ4_XS,
                                          tensor::DequantizeRowIQ4_XS, tensor::QuantizeRowQ8_K,
                                          VecDotIQ4_XS};
constexpr TypeKernels kReferenceIQ4_NL = {DType::kIQ4_NL,            DType::kQ8_0,
                                          "reference",             tensor::QuantizeRowIQ4_NL,
                                          tensor::DequantizeRowIQ4_NL, tensor::QuantizeRowQ8_0,
                                          VecDotIQ4_NL};

}  // namespace

const TypeKernels* ReferenceLowBitKernels(DType type) {
  switch (type) {
    case DType::kQ2_K: return &kReferenceQ2_K;
    case DType::kQ3_K: return &kReferenceQ3_K;
    case DType::kIQ4_NL: return &kReferenceIQ4_NL;
    case DType::kIQ4_XS: return &kReferenceIQ4_XS;
    default: return nullptr;
  }
}

}  // namespace tessera::kernels::internal
