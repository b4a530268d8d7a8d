// Scalar reference dot products of the 32-element types Q4_1, Q5_0 and Q5_1 (layouts in
// tensor/blocks.h), with ggml's activation ("vec dot") types:
//   Q4_1 x Q8_1, Q5_1 x Q8_1: per block the exact int32 sum of q_w * q_x, then
//       sum += (d_w * d_x) * isum + m_w * s_x, where s_x = d_x * sum(q_x) is stored in the Q8_1
//       block, so the weight's offset m costs one multiply per block.
//   Q5_0 x Q8_0: per block the exact int32 sum of (q_w - 16) * q_x; sum += (d_w * d_x) * isum.
// Rows are read byte-wise, so they may sit at any alignment.
#include <cstring>

#include "base/check.h"
#include "kernels/reference_tables.h"
#include "tensor/block_io.h"
#include "tensor/blocks.h"
#include "tensor/quantize.h"

namespace tessera::kernels::internal {
namespace {

using tensor::BlockQ4_1;
using tensor::BlockQ5_0;
using tensor::BlockQ5_1;
using tensor::BlockQ8_0;
using tensor::BlockQ8_1;
using tensor::LoadHalfAt;

constexpr int kQK = 32;

std::uint32_t LoadQh(const std::uint8_t* p) {
  std::uint32_t qh;
  std::memcpy(&qh, p, sizeof(qh));
  return qh;
}

// Sum over a 32-block of weight levels (low nibbles + fifth bit for elements 0..15, high
// nibbles + fifth bit for 16..31, minus `offset`) times the int8 activations.
std::int32_t BlockDot(const std::uint8_t* qs, std::uint32_t qh, int offset, const std::int8_t* a) {
  std::int32_t isum = 0;
  for (int j = 0; j < kQK / 2; ++j) {
    const int lo = ((qs[j] & 0x0F) | static_cast<int>(((qh >> j) & 1u) << 4)) - offset;
    const int hi = ((qs[j] >> 4) | static_cast<int>(((qh >> (j + kQK / 2)) & 1u) << 4)) - offset;
    isum += lo * a[j] + hi * a[j + kQK / 2];
  }
  return isum;
}

const std::int8_t* Int8At(const std::uint8_t* p) { return reinterpret_cast<const std::int8_t*>(p); }

float VecDotQ4_1(std::int64_t n, const void* w_row, const void* x) {
  TS_DCHECK(n % kQK == 0);
  const auto* w = static_cast<const std::uint8_t*>(w_row);
  const auto* a = static_cast<const std::uint8_t*>(x);
  float sum = 0.0f;
  for (std::int64_t b = 0; b < n / kQK; ++b) {
    const std::uint8_t* wb = w + b * static_cast<std::int64_t>(sizeof(BlockQ4_1));
    const std::uint8_t* ab = a + b * static_cast<std::int64_t>(sizeof(BlockQ8_1));
    const std::int32_t isum =
        BlockDot(wb + offsetof(BlockQ4_1, qs), 0, 0, Int8At(ab + offsetof(BlockQ8_1, qs)));
    const float dw = LoadHalfAt(wb + offsetof(BlockQ4_1, d));
    const float mw = LoadHalfAt(wb + offsetof(BlockQ4_1, m));
    const float da = LoadHalfAt(ab + offsetof(BlockQ8_1, d));
    const float sa = LoadHalfAt(ab + offsetof(BlockQ8_1, s));
    sum += (dw * da) * static_cast<float>(isum) + mw * sa;
  }
  return sum;
}

float VecDotQ5_0(std::int64_t n, const void* w_row, const void* x) {
  TS_DCHECK(n % kQK == 0);
  const auto* w = static_cast<const std::uint8_t*>(w_row);
  const auto* a = static_cast<const std::uint8_t*>(x);
  float sum = 0.0f;
  for (std::int64_t b = 0; b < n / kQK; ++b) {
    const std::uint8_t* wb = w + b * static_cast<std::int64_t>(sizeof(BlockQ5_0));
    const std::uint8_t* ab = a + b * static_cast<std::int64_t>(sizeof(BlockQ8_0));
    const std::int32_t isum =
        BlockDot(wb + offsetof(BlockQ5_0, qs), LoadQh(wb + offsetof(BlockQ5_0, qh)), 16,
                 Int8At(ab + offsetof(BlockQ8_0, qs)));
    const float dw = LoadHalfAt(wb + offsetof(BlockQ5_0, d));
    const float da = LoadHalfAt(ab + offsetof(BlockQ8_0, d));
    sum += (dw * da) * static_cast<float>(isum);
  }
  return sum;
}

float VecDotQ5_1(std::int64_t n, const void* w_row, const void* x) {
  TS_DCHECK(n % kQK == 0);
  const auto* w = static_cast<const std::uint8_t*>(w_row);
  const auto* a = static_cast<const std::uint8_t*>(x);
  float sum = 0.0f;
  for (std::int64_t b = 0; b < n / kQK; ++b) {
    const std::uint8_t* wb = w + b * static_cast<std::int64_t>(sizeof(BlockQ5_1));
    const std::uint8_t* ab = a + b * static_cast<std::int64_t>(sizeof(BlockQ8_1));
    const std::int32_t isum =
        BlockDot(wb + offsetof(BlockQ5_1, qs), LoadQh(wb + offsetof(BlockQ5_1, qh)), 0,
                 Int8At(ab + offsetof(BlockQ8_1, qs)));
    const float dw = LoadHalfAt(wb + offsetof(BlockQ5_1, d));
    const float mw = LoadHalfAt(wb + offsetof(BlockQ5_1, m));
    const float da = LoadHalfAt(ab + offsetof(BlockQ8_1, d));
    const float sa = LoadHalfAt(ab + offsetof(BlockQ8_1, s));
    sum += (dw * da) * static_cast<float>(isum) + mw * sa;
  }
  return sum;
}

constexpr TypeKernels kReferenceQ4_1 = {DType::kQ4_1,
                                        DType::kQ8_1,
                                        "reference",
                                        tensor::QuantizeRowQ4_1,
                                        tensor::DequantizeRowQ4_1,
                                        tensor::QuantizeRowQ8_1,
                                        VecDotQ4_1};
constexpr TypeKernels kReferenceQ5_0 = {DType::kQ5_0,
                                        DType::kQ8_0,
                                        "reference",
                                        tensor::QuantizeRowQ5_0,
                                        tensor::DequantizeRowQ5_0,
                                        tensor::QuantizeRowQ8_0,
                                        VecDotQ5_0};
constexpr TypeKernels kReferenceQ5_1 = {DType::kQ5_1,
                                        DType::kQ8_1,
                                        "reference",
                                        tensor::QuantizeRowQ5_1,
                                        tensor::DequantizeRowQ5_1,
                                        tensor::QuantizeRowQ8_1,
                                        VecDotQ5_1};

}  // namespace

const TypeKernels* ReferenceLegacyKernels(DType type) {
  switch (type) {
    case DType::kQ4_1:
      return &kReferenceQ4_1;
    case DType::kQ5_0:
      return &kReferenceQ5_0;
    case DType::kQ5_1:
      return &kReferenceQ5_1;
    default:
      return nullptr;
  }
}

}  // namespace tessera::kernels::internal
