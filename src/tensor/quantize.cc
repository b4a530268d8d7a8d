#include "tensor/quantize.h"

#include <cmath>
#include <cstring>
#include <string>

#include "base/check.h"
#include "tensor/fp16.h"

namespace tessera::tensor {
namespace {

// Byte offsets inside the packed blocks (blocks.h): 2-byte f16 scale, then the quants.
constexpr std::size_t kScaleBytes = 2;

void StoreScale(std::uint8_t* block, float d) {
  const std::uint16_t h = FloatToHalf(d);
  std::memcpy(block, &h, sizeof(h));
}

float LoadScale(const std::uint8_t* block) {
  std::uint16_t h;
  std::memcpy(&h, block, sizeof(h));
  return HalfToFloat(h);
}

// roundf(v) as an int8 for |v| <= 127.5 (always the case for finite Q8_0 inputs); NaN -> 0 and
// out-of-range values saturate instead of being undefined behaviour.
std::int8_t RoundToInt8(float v) {
  const float r = std::roundf(v);
  if (!(r == r)) return 0;
  if (r > 127.0f) return 127;
  if (r < -128.0f) return -128;
  return static_cast<std::int8_t>(r);
}

// min(15, (int8)(v)) for v = x * id + 8.5, which lies in [0, 16.5] for finite Q4_0 inputs;
// NaN -> 0 and out-of-range values saturate instead of being undefined behaviour.
std::uint8_t TruncToNibble(float v) {
  if (!(v >= 0.0f)) return 0;  // also NaN
  if (v >= 15.0f) return 15;
  return static_cast<std::uint8_t>(v);  // truncation toward zero, as the C cast
}

std::string Num(std::int64_t v) { return std::to_string(v); }

constexpr const char* kSupportedNames =
    "f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q8_1, q2_K, q3_K, q4_K, q5_K, q6_K, q8_K, "
    "iq4_nl, iq4_xs";

}  // namespace

void QuantizeRowF32(const float* x, void* y, std::int64_t n) {
  std::memcpy(y, x, static_cast<std::size_t>(n) * sizeof(float));
}

void DequantizeRowF32(const void* x, float* y, std::int64_t n) {
  std::memcpy(y, x, static_cast<std::size_t>(n) * sizeof(float));
}

void QuantizeRowF16(const float* x, void* y, std::int64_t n) {
  auto* out = static_cast<std::uint8_t*>(y);
  for (std::int64_t i = 0; i < n; ++i) {
    const std::uint16_t h = FloatToHalf(x[i]);
    std::memcpy(out + 2 * i, &h, 2);
  }
}

void DequantizeRowF16(const void* x, float* y, std::int64_t n) {
  const auto* in = static_cast<const std::uint8_t*>(x);
  for (std::int64_t i = 0; i < n; ++i) {
    std::uint16_t h;
    std::memcpy(&h, in + 2 * i, 2);
    y[i] = HalfToFloat(h);
  }
}

void QuantizeRowBf16(const float* x, void* y, std::int64_t n) {
  auto* out = static_cast<std::uint8_t*>(y);
  for (std::int64_t i = 0; i < n; ++i) {
    const std::uint16_t b = FloatToBf16(x[i]);
    std::memcpy(out + 2 * i, &b, 2);
  }
}

void DequantizeRowBf16(const void* x, float* y, std::int64_t n) {
  const auto* in = static_cast<const std::uint8_t*>(x);
  for (std::int64_t i = 0; i < n; ++i) {
    std::uint16_t b;
    std::memcpy(&b, in + 2 * i, 2);
    y[i] = Bf16ToFloat(b);
  }
}

void QuantizeRowQ8_0(const float* x, void* y, std::int64_t n) {
  TS_DCHECK(n % kQK8_0 == 0);
  auto* out = static_cast<std::uint8_t*>(y);
  for (std::int64_t b = 0; b < n / kQK8_0; ++b) {
    const float* xb = x + b * kQK8_0;
    std::uint8_t* block = out + b * static_cast<std::int64_t>(sizeof(BlockQ8_0));
    float amax = 0.0f;
    for (int j = 0; j < kQK8_0; ++j) amax = std::fmax(amax, std::fabs(xb[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    StoreScale(block, d);
    for (int j = 0; j < kQK8_0; ++j) {
      const std::int8_t q = RoundToInt8(xb[j] * id);
      std::memcpy(block + kScaleBytes + j, &q, 1);
    }
  }
}

void DequantizeRowQ8_0(const void* x, float* y, std::int64_t n) {
  TS_DCHECK(n % kQK8_0 == 0);
  const auto* in = static_cast<const std::uint8_t*>(x);
  for (std::int64_t b = 0; b < n / kQK8_0; ++b) {
    const std::uint8_t* block = in + b * static_cast<std::int64_t>(sizeof(BlockQ8_0));
    const float d = LoadScale(block);
    for (int j = 0; j < kQK8_0; ++j) {
      const auto q = static_cast<std::int8_t>(block[kScaleBytes + j]);
      y[b * kQK8_0 + j] = static_cast<float>(q) * d;
    }
  }
}

void QuantizeRowQ4_0(const float* x, void* y, std::int64_t n) {
  TS_DCHECK(n % kQK4_0 == 0);
  auto* out = static_cast<std::uint8_t*>(y);
  for (std::int64_t b = 0; b < n / kQK4_0; ++b) {
    const float* xb = x + b * kQK4_0;
    std::uint8_t* block = out + b * static_cast<std::int64_t>(sizeof(BlockQ4_0));
    float amax = 0.0f;  // largest magnitude seen so far
    float max = 0.0f;   // the element with that magnitude, with its sign (first one wins)
    for (int j = 0; j < kQK4_0; ++j) {
      if (amax < std::fabs(xb[j])) {
        amax = std::fabs(xb[j]);
        max = xb[j];
      }
    }
    const float d = max / -8.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    StoreScale(block, d);
    for (int j = 0; j < kQK4_0 / 2; ++j) {
      const std::uint8_t lo = TruncToNibble(xb[j] * id + 8.5f);
      const std::uint8_t hi = TruncToNibble(xb[j + kQK4_0 / 2] * id + 8.5f);
      block[kScaleBytes + j] = static_cast<std::uint8_t>(lo | (hi << 4));
    }
  }
}

void DequantizeRowQ4_0(const void* x, float* y, std::int64_t n) {
  TS_DCHECK(n % kQK4_0 == 0);
  const auto* in = static_cast<const std::uint8_t*>(x);
  for (std::int64_t b = 0; b < n / kQK4_0; ++b) {
    const std::uint8_t* block = in + b * static_cast<std::int64_t>(sizeof(BlockQ4_0));
    const float d = LoadScale(block);
    float* yb = y + b * kQK4_0;
    for (int j = 0; j < kQK4_0 / 2; ++j) {
      const std::uint8_t q = block[kScaleBytes + j];
      yb[j] = static_cast<float>((q & 0x0F) - 8) * d;
      yb[j + kQK4_0 / 2] = static_cast<float>((q >> 4) - 8) * d;
    }
  }
}

QuantizeRowFn QuantizeRowFor(DType type) {
  switch (type) {
    case DType::kF32: return QuantizeRowF32;
    case DType::kF16: return QuantizeRowF16;
    case DType::kBF16: return QuantizeRowBf16;
    case DType::kQ8_0: return QuantizeRowQ8_0;
    case DType::kQ4_0: return QuantizeRowQ4_0;
    case DType::kQ4_1: return QuantizeRowQ4_1;
    case DType::kQ5_0: return QuantizeRowQ5_0;
    case DType::kQ5_1: return QuantizeRowQ5_1;
    case DType::kQ8_1: return QuantizeRowQ8_1;
    case DType::kQ4_K: return QuantizeRowQ4_K;
    case DType::kQ5_K: return QuantizeRowQ5_K;
    case DType::kQ6_K: return QuantizeRowQ6_K;
    case DType::kQ8_K: return QuantizeRowQ8_K;
    case DType::kQ2_K: return QuantizeRowQ2_K;
    case DType::kQ3_K: return QuantizeRowQ3_K;
    case DType::kIQ4_NL: return QuantizeRowIQ4_NL;
    case DType::kIQ4_XS: return QuantizeRowIQ4_XS;
    default: return nullptr;
  }
}

DequantizeRowFn DequantizeRowFor(DType type) {
  switch (type) {
    case DType::kF32: return DequantizeRowF32;
    case DType::kF16: return DequantizeRowF16;
    case DType::kBF16: return DequantizeRowBf16;
    case DType::kQ8_0: return DequantizeRowQ8_0;
    case DType::kQ4_0: return DequantizeRowQ4_0;
    case DType::kQ4_1: return DequantizeRowQ4_1;
    case DType::kQ5_0: return DequantizeRowQ5_0;
    case DType::kQ5_1: return DequantizeRowQ5_1;
    case DType::kQ8_1: return DequantizeRowQ8_1;
    case DType::kQ4_K: return DequantizeRowQ4_K;
    case DType::kQ5_K: return DequantizeRowQ5_K;
    case DType::kQ6_K: return DequantizeRowQ6_K;
    case DType::kQ8_K: return DequantizeRowQ8_K;
    case DType::kQ2_K: return DequantizeRowQ2_K;
    case DType::kQ3_K: return DequantizeRowQ3_K;
    case DType::kIQ4_NL: return DequantizeRowIQ4_NL;
    case DType::kIQ4_XS: return DequantizeRowIQ4_XS;
    default: return nullptr;
  }
}

Status Quantize(DType type, std::span<const float> src, std::int64_t n_per_row,
                std::span<std::uint8_t> dst) {
  const QuantizeRowFn quantize = QuantizeRowFor(type);
  if (quantize == nullptr) {
    return Unsupported("tensor: cannot quantize to type " + std::string(TypeName(type)) +
                       "; supported: " + std::string(kSupportedNames));
  }
  const std::int64_t block = BlockSize(type);
  if (n_per_row < 1 || n_per_row % block != 0) {
    return InvalidArgument("tensor: row width " + Num(n_per_row) + " is not a positive multiple "
                           "of the " + std::string(TypeName(type)) + " block size " + Num(block));
  }
  const auto n = static_cast<std::int64_t>(src.size());
  if (n % n_per_row != 0) {
    return InvalidArgument("tensor: " + Num(n) + " input floats are not a whole number of rows "
                           "of width " + Num(n_per_row));
  }
  const std::int64_t n_rows = n / n_per_row;
  const std::int64_t row_bytes = n_per_row / block * TypeSize(type);
  const std::int64_t want = n_rows * row_bytes;
  if (static_cast<std::int64_t>(dst.size()) != want) {
    return InvalidArgument("tensor: output of " + Num(static_cast<std::int64_t>(dst.size())) +
                           " bytes for " + Num(n_rows) + " " + std::string(TypeName(type)) +
                           " rows of width " + Num(n_per_row) + ", which need " + Num(want));
  }
  for (std::int64_t r = 0; r < n_rows; ++r) {
    quantize(src.data() + r * n_per_row, dst.data() + r * row_bytes, n_per_row);
  }
  return Status::Ok();
}

Status Dequantize(DType type, std::span<const std::uint8_t> src, std::span<float> dst) {
  const DequantizeRowFn dequantize = DequantizeRowFor(type);
  if (dequantize == nullptr) {
    return Unsupported("tensor: cannot dequantize type " + std::string(TypeName(type)) +
                       "; supported: " + std::string(kSupportedNames));
  }
  const std::int64_t block = BlockSize(type);
  const auto n = static_cast<std::int64_t>(dst.size());
  if (n % block != 0) {
    return InvalidArgument("tensor: " + Num(n) + " elements are not a multiple of the " +
                           std::string(TypeName(type)) + " block size " + Num(block));
  }
  const std::int64_t want = n / block * TypeSize(type);
  if (static_cast<std::int64_t>(src.size()) != want) {
    return InvalidArgument("tensor: input of " + Num(static_cast<std::int64_t>(src.size())) +
                           " bytes for " + Num(n) + " " + std::string(TypeName(type)) +
                           " elements, which need " + Num(want));
  }
  if (n > 0) dequantize(src.data(), dst.data(), n);
  return Status::Ok();
}

}  // namespace tessera::tensor
