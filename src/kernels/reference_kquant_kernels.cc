// Scalar reference dot products of the K-quants Q4_K, Q5_K and Q6_K (layouts in
// tensor/blocks.h) with a Q8_K activation, ggml's vec dot type for all of them.
//
// Per 256-element super-block everything inside is exact integer arithmetic:
//   Q4_K / Q5_K  isum = sum over the 8 sub-blocks of sc[sub] * sum(q_w * q_x),
//                msum = sum over the 8 sub-blocks of mn[sub] * (sum of the sub-block's q_x,
//                       read from the two Q8_K bsums that cover it);
//                sum += (d_w * d_x) * isum - (dmin_w * d_x) * msum.
//   Q6_K         isum = sum over the 16 sub-blocks of scales[sub] * sum((q_w - 32) * q_x);
//                sum += (d_w * d_x) * isum.
// The super-block results are accumulated in float. ggml's generic C path computes the same
// integers but spreads the float accumulation over 8 lanes, so the last bits of the float result
// may differ from it (as they do between ggml's own SIMD variants).
#include <cstring>

#include "base/check.h"
#include "kernels/reference_tables.h"
#include "tensor/block_io.h"
#include "tensor/blocks.h"
#include "tensor/quantize.h"

namespace tessera::kernels::internal {
namespace {

using tensor::BlockQ4_K;
using tensor::BlockQ5_K;
using tensor::BlockQ6_K;
using tensor::BlockQ8_K;
using tensor::kQK_K;
using tensor::LoadF32At;
using tensor::LoadHalfAt;
using tensor::LoadI16At;

constexpr std::int64_t kQ8_KBytes = sizeof(BlockQ8_K);

// The parts of a Q4_K / Q5_K super-block that differ: the 5th-bit array (nullptr for Q4_K).
struct ScaleMinBlock {
  const std::uint8_t* block;
  const std::uint8_t* qs;
  const std::uint8_t* qh;  // nullptr for Q4_K
};

float DotScaleMinBlock(const ScaleMinBlock& w, const std::uint8_t* ab) {
  const auto* q8 = reinterpret_cast<const std::int8_t*>(ab + offsetof(BlockQ8_K, qs));
  const std::uint8_t* scales = w.block + offsetof(BlockQ4_K, scales);
  std::int32_t isum = 0;
  std::int32_t msum = 0;
  for (int sub = 0; sub < kQK_K / 32; ++sub) {
    std::uint8_t sc, mn;
    tensor::ScaleMinK4(sub, scales, &sc, &mn);
    const int g = sub / 2;            // 64-element group: qs[32 g .. 32 g + 31]
    const int shift = 4 * (sub % 2);  // low nibbles for even sub-blocks, high for odd
    std::int32_t sub_sum = 0;
    for (int l = 0; l < 32; ++l) {
      int q = (w.qs[32 * g + l] >> shift) & 0x0F;
      if (w.qh != nullptr) q |= ((w.qh[l] >> sub) & 1) << 4;
      sub_sum += q * q8[32 * sub + l];
    }
    isum += static_cast<std::int32_t>(sc) * sub_sum;
    const std::int32_t x_sum = LoadI16At(ab + offsetof(BlockQ8_K, bsums) + 4 * sub) +
                               LoadI16At(ab + offsetof(BlockQ8_K, bsums) + 4 * sub + 2);
    msum += static_cast<std::int32_t>(mn) * x_sum;
  }
  const float da = LoadF32At(ab + offsetof(BlockQ8_K, d));
  const float d = LoadHalfAt(w.block + offsetof(BlockQ4_K, d)) * da;
  const float dmin = LoadHalfAt(w.block + offsetof(BlockQ4_K, dmin)) * da;
  return d * static_cast<float>(isum) - dmin * static_cast<float>(msum);
}

float VecDotQ4_K(std::int64_t n, const void* w_row, const void* x) {
  TS_DCHECK(n % kQK_K == 0);
  const auto* w = static_cast<const std::uint8_t*>(w_row);
  const auto* a = static_cast<const std::uint8_t*>(x);
  float sum = 0.0f;
  for (std::int64_t b = 0; b < n / kQK_K; ++b) {
    const std::uint8_t* wb = w + b * static_cast<std::int64_t>(sizeof(BlockQ4_K));
    sum += DotScaleMinBlock({wb, wb + offsetof(BlockQ4_K, qs), nullptr}, a + b * kQ8_KBytes);
  }
  return sum;
}

float VecDotQ5_K(std::int64_t n, const void* w_row, const void* x) {
  TS_DCHECK(n % kQK_K == 0);
  const auto* w = static_cast<const std::uint8_t*>(w_row);
  const auto* a = static_cast<const std::uint8_t*>(x);
  float sum = 0.0f;
  for (std::int64_t b = 0; b < n / kQK_K; ++b) {
    const std::uint8_t* wb = w + b * static_cast<std::int64_t>(sizeof(BlockQ5_K));
    sum += DotScaleMinBlock({wb, wb + offsetof(BlockQ5_K, qs), wb + offsetof(BlockQ5_K, qh)},
                            a + b * kQ8_KBytes);
  }
  return sum;
}

float VecDotQ6_K(std::int64_t n, const void* w_row, const void* x) {
  TS_DCHECK(n % kQK_K == 0);
  const auto* w = static_cast<const std::uint8_t*>(w_row);
  const auto* a = static_cast<const std::uint8_t*>(x);
  float sum = 0.0f;
  for (std::int64_t b = 0; b < n / kQK_K; ++b) {
    const std::uint8_t* wb = w + b * static_cast<std::int64_t>(sizeof(BlockQ6_K));
    const std::uint8_t* ab = a + b * kQ8_KBytes;
    const auto* q8 = reinterpret_cast<const std::int8_t*>(ab + offsetof(BlockQ8_K, qs));
    const auto* scales = reinterpret_cast<const std::int8_t*>(wb + offsetof(BlockQ6_K, scales));
    // Element e's sub-block sums, indexed by e / 16.
    std::int32_t sub_sums[kQK_K / 16] = {};
    for (int h = 0; h < 2; ++h) {
      const std::uint8_t* ql = wb + offsetof(BlockQ6_K, ql) + 64 * h;
      const std::uint8_t* qh = wb + offsetof(BlockQ6_K, qh) + 32 * h;
      for (int l = 0; l < 32; ++l) {
        const int e = 128 * h + l;
        const int q1 = ((ql[l] & 0x0F) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q2 = ((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        sub_sums[e / 16] += q1 * q8[e];
        sub_sums[(e + 32) / 16] += q2 * q8[e + 32];
        sub_sums[(e + 64) / 16] += q3 * q8[e + 64];
        sub_sums[(e + 96) / 16] += q4 * q8[e + 96];
      }
    }
    std::int32_t isum = 0;
    for (int s = 0; s < kQK_K / 16; ++s) isum += scales[s] * sub_sums[s];
    const float d =
        LoadHalfAt(wb + offsetof(BlockQ6_K, d)) * LoadF32At(ab + offsetof(BlockQ8_K, d));
    sum += d * static_cast<float>(isum);
  }
  return sum;
}

constexpr TypeKernels kReferenceQ4_K = {DType::kQ4_K,
                                        DType::kQ8_K,
                                        "reference",
                                        tensor::QuantizeRowQ4_K,
                                        tensor::DequantizeRowQ4_K,
                                        tensor::QuantizeRowQ8_K,
                                        VecDotQ4_K};
constexpr TypeKernels kReferenceQ5_K = {DType::kQ5_K,
                                        DType::kQ8_K,
                                        "reference",
                                        tensor::QuantizeRowQ5_K,
                                        tensor::DequantizeRowQ5_K,
                                        tensor::QuantizeRowQ8_K,
                                        VecDotQ5_K};
constexpr TypeKernels kReferenceQ6_K = {DType::kQ6_K,
                                        DType::kQ8_K,
                                        "reference",
                                        tensor::QuantizeRowQ6_K,
                                        tensor::DequantizeRowQ6_K,
                                        tensor::QuantizeRowQ8_K,
                                        VecDotQ6_K};

}  // namespace

const TypeKernels* ReferenceKQuantKernels(DType type) {
  switch (type) {
    case DType::kQ4_K:
      return &kReferenceQ4_K;
    case DType::kQ5_K:
      return &kReferenceQ5_K;
    case DType::kQ6_K:
      return &kReferenceQ6_K;
    default:
      return nullptr;
  }
}

}  // namespace tessera::kernels::internal
