// Quantizers and dequantizers of the 32-element "legacy" types beyond Q8_0 / Q4_0: Q4_1, Q5_0,
// Q5_1 and the activation type Q8_1 (rules in quantize.h, layouts in blocks.h).
#include <cfloat>
#include <cmath>
#include <cstring>

#include "base/check.h"
#include "tensor/block_io.h"
#include "tensor/quantize.h"

namespace tessera::tensor {
namespace {

// (int8_t)(v) clamped to [0, max_q] as ggml's MIN(max_q, (int8_t)v) does for finite inputs,
// where v lies in [0, max_q + 1.5]; NaN and out-of-range values saturate instead of being UB.
std::uint8_t TruncToLevel(float v, int max_q) {
  if (!(v >= 0.0f)) return 0;  // also NaN
  if (v >= static_cast<float>(max_q)) return static_cast<std::uint8_t>(max_q);
  return static_cast<std::uint8_t>(v);  // truncation toward zero, as the C cast
}

std::int8_t RoundToInt8(float v) {
  const float r = std::roundf(v);
  if (!(r == r)) return 0;
  if (r > 127.0f) return 127;
  if (r < -128.0f) return -128;
  return static_cast<std::int8_t>(r);
}

// Smallest and largest element of a block (NaNs are skipped by the comparisons).
void MinMax(const float* x, int n, float* min, float* max) {
  *min = FLT_MAX;
  *max = -FLT_MAX;
  for (int j = 0; j < n; ++j) {
    if (x[j] < *min) *min = x[j];
    if (x[j] > *max) *max = x[j];
  }
}

std::uint32_t LoadQh(const std::uint8_t* p) {
  std::uint32_t qh;
  std::memcpy(&qh, p, sizeof(qh));  // little-endian host assumed, as ggml does
  return qh;
}

void StoreQh(std::uint8_t* p, std::uint32_t qh) { std::memcpy(p, &qh, sizeof(qh)); }

constexpr std::int64_t kQ4_1Bytes = sizeof(BlockQ4_1);
constexpr std::int64_t kQ5_0Bytes = sizeof(BlockQ5_0);
constexpr std::int64_t kQ5_1Bytes = sizeof(BlockQ5_1);
constexpr std::int64_t kQ8_1Bytes = sizeof(BlockQ8_1);

}  // namespace

void QuantizeRowQ4_1(const float* x, void* y, std::int64_t n) {
  TS_DCHECK(n % kQK4_1 == 0);
  auto* out = static_cast<std::uint8_t*>(y);
  for (std::int64_t b = 0; b < n / kQK4_1; ++b) {
    const float* xb = x + b * kQK4_1;
    std::uint8_t* block = out + b * kQ4_1Bytes;
    float min, max;
    MinMax(xb, kQK4_1, &min, &max);
    const float d = (max - min) / 15.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    StoreHalfAt(block + offsetof(BlockQ4_1, d), d);
    StoreHalfAt(block + offsetof(BlockQ4_1, m), min);
    for (int j = 0; j < kQK4_1 / 2; ++j) {
      const std::uint8_t lo = TruncToLevel((xb[j] - min) * id + 0.5f, 15);
      const std::uint8_t hi = TruncToLevel((xb[j + kQK4_1 / 2] - min) * id + 0.5f, 15);
      block[offsetof(BlockQ4_1, qs) + j] = static_cast<std::uint8_t>(lo | (hi << 4));
    }
  }
}

void DequantizeRowQ4_1(const void* x, float* y, std::int64_t n) {
  TS_DCHECK(n % kQK4_1 == 0);
  const auto* in = static_cast<const std::uint8_t*>(x);
  for (std::int64_t b = 0; b < n / kQK4_1; ++b) {
    const std::uint8_t* block = in + b * kQ4_1Bytes;
    const float d = LoadHalfAt(block + offsetof(BlockQ4_1, d));
    const float m = LoadHalfAt(block + offsetof(BlockQ4_1, m));
    float* yb = y + b * kQK4_1;
    for (int j = 0; j < kQK4_1 / 2; ++j) {
      const std::uint8_t q = block[offsetof(BlockQ4_1, qs) + j];
      yb[j] = static_cast<float>(q & 0x0F) * d + m;
      yb[j + kQK4_1 / 2] = static_cast<float>(q >> 4) * d + m;
    }
  }
}

void QuantizeRowQ5_0(const float* x, void* y, std::int64_t n) {
  TS_DCHECK(n % kQK5_0 == 0);
  auto* out = static_cast<std::uint8_t*>(y);
  for (std::int64_t b = 0; b < n / kQK5_0; ++b) {
    const float* xb = x + b * kQK5_0;
    std::uint8_t* block = out + b * kQ5_0Bytes;
    float amax = 0.0f;  // largest magnitude; max keeps its sign (first one on ties)
    float max = 0.0f;
    for (int j = 0; j < kQK5_0; ++j) {
      if (amax < std::fabs(xb[j])) {
        amax = std::fabs(xb[j]);
        max = xb[j];
      }
    }
    const float d = max / -16.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    StoreHalfAt(block + offsetof(BlockQ5_0, d), d);
    std::uint32_t qh = 0;
    for (int j = 0; j < kQK5_0 / 2; ++j) {
      const std::uint8_t lo = TruncToLevel(xb[j] * id + 16.5f, 31);
      const std::uint8_t hi = TruncToLevel(xb[j + kQK5_0 / 2] * id + 16.5f, 31);
      block[offsetof(BlockQ5_0, qs) + j] =
          static_cast<std::uint8_t>((lo & 0x0F) | ((hi & 0x0F) << 4));
      qh |= static_cast<std::uint32_t>((lo & 0x10) >> 4) << j;
      qh |= static_cast<std::uint32_t>((hi & 0x10) >> 4) << (j + kQK5_0 / 2);
    }
    StoreQh(block + offsetof(BlockQ5_0, qh), qh);
  }
}

void DequantizeRowQ5_0(const void* x, float* y, std::int64_t n) {
  TS_DCHECK(n % kQK5_0 == 0);
  const auto* in = static_cast<const std::uint8_t*>(x);
  for (std::int64_t b = 0; b < n / kQK5_0; ++b) {
    const std::uint8_t* block = in + b * kQ5_0Bytes;
    const float d = LoadHalfAt(block + offsetof(BlockQ5_0, d));
    const std::uint32_t qh = LoadQh(block + offsetof(BlockQ5_0, qh));
    float* yb = y + b * kQK5_0;
    for (int j = 0; j < kQK5_0 / 2; ++j) {
      const std::uint8_t q = block[offsetof(BlockQ5_0, qs) + j];
      const int h_lo = static_cast<int>((qh >> j) & 1u) << 4;
      const int h_hi = static_cast<int>((qh >> (j + kQK5_0 / 2)) & 1u) << 4;
      yb[j] = static_cast<float>(((q & 0x0F) | h_lo) - 16) * d;
      yb[j + kQK5_0 / 2] = static_cast<float>(((q >> 4) | h_hi) - 16) * d;
    }
  }
}

void QuantizeRowQ5_1(const float* x, void* y, std::int64_t n) {
  TS_DCHECK(n % kQK5_1 == 0);
  auto* out = static_cast<std::uint8_t*>(y);
  for (std::int64_t b = 0; b < n / kQK5_1; ++b) {
    const float* xb = x + b * kQK5_1;
    std::uint8_t* block = out + b * kQ5_1Bytes;
    float min, max;
    MinMax(xb, kQK5_1, &min, &max);
    const float d = (max - min) / 31.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    StoreHalfAt(block + offsetof(BlockQ5_1, d), d);
    StoreHalfAt(block + offsetof(BlockQ5_1, m), min);
    std::uint32_t qh = 0;
    for (int j = 0; j < kQK5_1 / 2; ++j) {
      // ggml has no clamp here: (x - min) * id + 0.5 <= 31.5 for finite inputs.
      const std::uint8_t lo = TruncToLevel((xb[j] - min) * id + 0.5f, 31);
      const std::uint8_t hi = TruncToLevel((xb[j + kQK5_1 / 2] - min) * id + 0.5f, 31);
      block[offsetof(BlockQ5_1, qs) + j] =
          static_cast<std::uint8_t>((lo & 0x0F) | ((hi & 0x0F) << 4));
      qh |= static_cast<std::uint32_t>((lo & 0x10) >> 4) << j;
      qh |= static_cast<std::uint32_t>((hi & 0x10) >> 4) << (j + kQK5_1 / 2);
    }
    StoreQh(block + offsetof(BlockQ5_1, qh), qh);
  }
}

void DequantizeRowQ5_1(const void* x, float* y, std::int64_t n) {
  TS_DCHECK(n % kQK5_1 == 0);
  const auto* in = static_cast<const std::uint8_t*>(x);
  for (std::int64_t b = 0; b < n / kQK5_1; ++b) {
    const std::uint8_t* block = in + b * kQ5_1Bytes;
    const float d = LoadHalfAt(block + offsetof(BlockQ5_1, d));
    const float m = LoadHalfAt(block + offsetof(BlockQ5_1, m));
    const std::uint32_t qh = LoadQh(block + offsetof(BlockQ5_1, qh));
    float* yb = y + b * kQK5_1;
    for (int j = 0; j < kQK5_1 / 2; ++j) {
      const std::uint8_t q = block[offsetof(BlockQ5_1, qs) + j];
      const int h_lo = static_cast<int>((qh >> j) & 1u) << 4;
      const int h_hi = static_cast<int>((qh >> (j + kQK5_1 / 2)) & 1u) << 4;
      yb[j] = static_cast<float>((q & 0x0F) | h_lo) * d + m;
      yb[j + kQK5_1 / 2] = static_cast<float>((q >> 4) | h_hi) * d + m;
    }
  }
}

void QuantizeRowQ8_1(const float* x, void* y, std::int64_t n) {
  TS_DCHECK(n % kQK8_1 == 0);
  auto* out = static_cast<std::uint8_t*>(y);
  for (std::int64_t b = 0; b < n / kQK8_1; ++b) {
    const float* xb = x + b * kQK8_1;
    std::uint8_t* block = out + b * kQ8_1Bytes;
    float amax = 0.0f;
    for (int j = 0; j < kQK8_1; ++j) amax = std::fmax(amax, std::fabs(xb[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    int sum = 0;
    for (int j = 0; j < kQK8_1; ++j) {
      const std::int8_t q = RoundToInt8(xb[j] * id);
      sum += q;
      std::memcpy(block + offsetof(BlockQ8_1, qs) + j, &q, 1);
    }
    StoreHalfAt(block + offsetof(BlockQ8_1, d), d);
    StoreHalfAt(block + offsetof(BlockQ8_1, s), static_cast<float>(sum) * d);
  }
}

void DequantizeRowQ8_1(const void* x, float* y, std::int64_t n) {
  TS_DCHECK(n % kQK8_1 == 0);
  const auto* in = static_cast<const std::uint8_t*>(x);
  for (std::int64_t b = 0; b < n / kQK8_1; ++b) {
    const std::uint8_t* block = in + b * kQ8_1Bytes;
    const float d = LoadHalfAt(block + offsetof(BlockQ8_1, d));
    for (int j = 0; j < kQK8_1; ++j) {
      const auto q = static_cast<std::int8_t>(block[offsetof(BlockQ8_1, qs) + j]);
      y[b * kQK8_1 + j] = static_cast<float>(q) * d;
    }
  }
}

}  // namespace tessera::tensor
