// Quantizers and dequantizers of the 256-element K-quants Q4_K, Q5_K, Q6_K and the activation
// type Q8_K (rules in quantize.h, layouts in blocks.h).
//
// The weight quantizers follow ggml's reference ("_ref") quantizers step by step, in the same
// float operation order, so that the bytes are equal to llama.cpp's when both are compiled
// without floating-point contraction (FMA) of these loops; see quantize.h.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "base/check.h"
#include "tensor/block_io.h"
#include "tensor/quantize.h"
#include "tensor/quantize_fit.h"

namespace tessera::tensor {
namespace internal {

float FitScaleAndMin(int n, int n_max, const float* x, const float* w, std::uint8_t* levels,
                     float* min_out, std::uint8_t* levels_try, float r_min, float r_delta,
                     int n_step, bool use_mad) {
  float min = x[0];
  float max = x[0];
  float sum_w = w[0];
  float sum_x = sum_w * x[0];
  for (int i = 1; i < n; ++i) {
    if (x[i] < min) min = x[i];
    if (x[i] > max) max = x[i];
    sum_w += w[i];
    sum_x += w[i] * x[i];
  }
  if (min > 0) min = 0;
  if (max == min) {
    for (int i = 0; i < n; ++i) levels[i] = 0;
    *min_out = -min;
    return 0.0f;
  }
  float iscale = static_cast<float>(n_max) / (max - min);
  float scale = 1 / iscale;
  float best_error = 0;
  for (int i = 0; i < n; ++i) {
    const int l = std::clamp(NearestInt(iscale * (x[i] - min)), 0, n_max);
    levels[i] = static_cast<std::uint8_t>(l);
    const float diff = scale * static_cast<float>(l) + min - x[i];
    best_error += w[i] * (use_mad ? std::fabs(diff) : diff * diff);
  }
  if (n_step < 1) {
    *min_out = -min;
    return scale;
  }
  for (int step = 0; step <= n_step; ++step) {
    iscale = (r_min + r_delta * static_cast<float>(step) + static_cast<float>(n_max)) / (max - min);
    float sum_l = 0, sum_l2 = 0, sum_xl = 0;
    for (int i = 0; i < n; ++i) {
      const int l = std::clamp(NearestInt(iscale * (x[i] - min)), 0, n_max);
      levels_try[i] = static_cast<std::uint8_t>(l);
      const float fl = static_cast<float>(l);
      sum_l += w[i] * fl;
      sum_l2 += w[i] * fl * fl;
      sum_xl += w[i] * fl * x[i];
    }
    const float det = sum_w * sum_l2 - sum_l * sum_l;
    if (!(det > 0)) continue;
    float this_scale = (sum_w * sum_xl - sum_x * sum_l) / det;
    float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / det;
    if (this_min > 0) {
      this_min = 0;
      this_scale = sum_xl / sum_l2;
    }
    float error = 0;
    for (int i = 0; i < n; ++i) {
      const float diff = this_scale * static_cast<float>(levels_try[i]) + this_min - x[i];
      error += w[i] * (use_mad ? std::fabs(diff) : diff * diff);
    }
    if (error < best_error) {
      std::memcpy(levels, levels_try, static_cast<std::size_t>(n));
      best_error = error;
      scale = this_scale;
      min = this_min;
    }
  }
  *min_out = -min;
  return scale;
}

}  // namespace internal

namespace {

using internal::FitScaleAndMin;

constexpr float kGroupMaxEps = 1e-15f;  // ggml's GROUP_MAX_EPS: below it a group is all zero

constexpr std::int64_t kQ4_KBytes = sizeof(BlockQ4_K);
constexpr std::int64_t kQ5_KBytes = sizeof(BlockQ5_K);
constexpr std::int64_t kQ6_KBytes = sizeof(BlockQ6_K);
constexpr std::int64_t kQ8_KBytes = sizeof(BlockQ8_K);

int Clamp(int v, int lo, int hi) { return v < lo ? lo : (v > hi ? hi : v); }

// Symmetric fit x[i] ~ scale * (L[i] - n_max), L in [0, 2 n_max - 1], weights x[i]^2 (ggml's
// make_qx_quants with rmse_type 1 and no importance weights): start from -n_max / (signed
// largest-magnitude element), then try the 18 inverse scales -(n_max + 0.1 k) / max, k in
// [-9, 9] \ {0}, keeping the one that maximizes sum(w x l)^2 / sum(w l^2). Returns the scale.
float FitSymmetricScale(int n, int n_max, const float* x, std::int8_t* levels) {
  float max = 0;
  float amax = 0;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  if (amax < kGroupMaxEps) {
    for (int i = 0; i < n; ++i) levels[i] = 0;
    return 0.0f;
  }
  float iscale = static_cast<float>(-n_max) / max;
  float sum_lx = 0, sum_l2 = 0;
  for (int i = 0; i < n; ++i) {
    const int l = Clamp(NearestInt(iscale * x[i]), -n_max, n_max - 1);
    levels[i] = static_cast<std::int8_t>(l + n_max);
    const float w = x[i] * x[i];
    const float fl = static_cast<float>(l);
    sum_lx += w * x[i] * fl;
    sum_l2 += w * fl * fl;
  }
  float scale = sum_l2 != 0 ? sum_lx / sum_l2 : 0.0f;
  float best = scale * sum_lx;
  for (int k = -9; k <= 9; ++k) {
    if (k == 0) continue;
    iscale = -(static_cast<float>(n_max) + 0.1f * static_cast<float>(k)) / max;
    sum_lx = 0;
    sum_l2 = 0;
    for (int i = 0; i < n; ++i) {
      const int l = Clamp(NearestInt(iscale * x[i]), -n_max, n_max - 1);
      const float w = x[i] * x[i];
      const float fl = static_cast<float>(l);
      sum_lx += w * x[i] * fl;
      sum_l2 += w * fl * fl;
    }
    if (sum_l2 > 0 && sum_lx * sum_lx > best * sum_l2) {
      for (int i = 0; i < n; ++i) {
        levels[i] =
            static_cast<std::int8_t>(n_max + Clamp(NearestInt(iscale * x[i]), -n_max, n_max - 1));
      }
      scale = sum_lx / sum_l2;
      best = scale * sum_lx;
    }
  }
  return scale;
}

// Q4_K and Q5_K share everything but the level count (15 or 31) and the search parameters.
struct ScaleMinParams {
  int n_max;
  float r_min;
  int n_step;
};

// Fits the 8 sub-blocks of one super-block of `x`, packs the 6-bit scales and mins into
// scales12 and the f16 d / dmin at dd (4 bytes), and writes the final levels to `levels`.
void QuantizeScaleMinSuperBlock(const float* x, const ScaleMinParams& p, std::uint8_t* dd,
                                std::uint8_t* scales12, std::uint8_t* levels) {
  constexpr int kSub = 32;
  std::uint8_t levels_try[kSub];
  float weights[kSub];
  float scales[kQK_K / kSub];
  float mins[kQK_K / kSub];
  float max_scale = 0;
  float max_min = 0;
  for (int j = 0; j < kQK_K / kSub; ++j) {
    const float* xs = x + kSub * j;
    float sum_x2 = 0;
    for (int l = 0; l < kSub; ++l) sum_x2 += xs[l] * xs[l];
    const float av_x = std::sqrt(sum_x2 / kSub);
    for (int l = 0; l < kSub; ++l) weights[l] = av_x + std::fabs(xs[l]);
    scales[j] = FitScaleAndMin(kSub, p.n_max, xs, weights, levels + kSub * j, &mins[j], levels_try,
                               p.r_min, 0.1f, p.n_step, /*use_mad=*/false);
    if (scales[j] > max_scale) max_scale = scales[j];
    if (mins[j] > max_min) max_min = mins[j];
  }
  const float inv_scale = max_scale > 0 ? 63.0f / max_scale : 0.0f;
  const float inv_min = max_min > 0 ? 63.0f / max_min : 0.0f;
  std::memset(scales12, 0, kKScaleBytes);
  for (int j = 0; j < kQK_K / kSub; ++j) {
    // ggml stores nearest_int into a uint8_t (wrapping) before clamping to 63.
    std::uint8_t ls = static_cast<std::uint8_t>(NearestInt(inv_scale * scales[j]));
    std::uint8_t lm = static_cast<std::uint8_t>(NearestInt(inv_min * mins[j]));
    if (ls > 63) ls = 63;
    if (lm > 63) lm = 63;
    if (j < 4) {
      scales12[j] = ls;
      scales12[j + 4] = lm;
    } else {
      scales12[j + 4] = static_cast<std::uint8_t>((ls & 0x0F) | ((lm & 0x0F) << 4));
      scales12[j - 4] = static_cast<std::uint8_t>(scales12[j - 4] | ((ls >> 4) << 6));
      scales12[j] = static_cast<std::uint8_t>(scales12[j] | ((lm >> 4) << 6));
    }
  }
  StoreHalfAt(dd, max_scale / 63.0f);
  StoreHalfAt(dd + 2, max_min / 63.0f);
  const float d_all = LoadHalfAt(dd);
  const float dmin_all = LoadHalfAt(dd + 2);
  // Re-quantize every sub-block against its stored (6-bit, f16-scaled) scale and min.
  for (int j = 0; j < kQK_K / kSub; ++j) {
    std::uint8_t sc, mn;
    ScaleMinK4(j, scales12, &sc, &mn);
    const float d = d_all * static_cast<float>(sc);
    if (d == 0.0f) continue;  // keep the levels of the fit
    const float dm = dmin_all * static_cast<float>(mn);
    for (int i = 0; i < kSub; ++i) {
      levels[kSub * j + i] =
          static_cast<std::uint8_t>(Clamp(NearestInt((x[kSub * j + i] + dm) / d), 0, p.n_max));
    }
  }
}

// value = d * sc * q - dmin * mn for sub-block `sub` of a Q4_K / Q5_K block.
void SubBlockScale(const std::uint8_t* block, int sub, float* d, float* m) {
  std::uint8_t sc, mn;
  ScaleMinK4(sub, block + offsetof(BlockQ4_K, scales), &sc, &mn);
  *d = LoadHalfAt(block + offsetof(BlockQ4_K, d)) * static_cast<float>(sc);
  *m = LoadHalfAt(block + offsetof(BlockQ4_K, dmin)) * static_cast<float>(mn);
}

// Q4_K and Q5_K super-blocks back to floats: level * d_sub - m_sub, the level being the nibble
// (plus, for Q5_K, the fifth bit from qh: bit 2g of qh[l] for element 64g + l, bit 2g + 1 for
// 64g + 32 + l).
template <bool kFifthBit>
void DequantizeScaleMin(const void* x, float* y, std::int64_t n) {
  TS_DCHECK(n % kQK_K == 0);
  constexpr std::int64_t kBytes = kFifthBit ? kQ5_KBytes : kQ4_KBytes;
  constexpr std::size_t kQs = kFifthBit ? offsetof(BlockQ5_K, qs) : offsetof(BlockQ4_K, qs);
  const auto* in = static_cast<const std::uint8_t*>(x);
  for (std::int64_t b = 0; b < n / kQK_K; ++b) {
    const std::uint8_t* block = in + b * kBytes;
    const std::uint8_t* qs = block + kQs;
    float* yb = y + b * kQK_K;
    for (int g = 0; g < kQK_K / 64; ++g) {
      float d1, m1, d2, m2;
      SubBlockScale(block, 2 * g, &d1, &m1);
      SubBlockScale(block, 2 * g + 1, &d2, &m2);
      for (int l = 0; l < 32; ++l) {
        int lo = qs[32 * g + l] & 0x0F;
        int hi = qs[32 * g + l] >> 4;
        if constexpr (kFifthBit) {
          const std::uint8_t qh = block[offsetof(BlockQ5_K, qh) + static_cast<std::size_t>(l)];
          lo |= ((qh >> (2 * g)) & 1) << 4;
          hi |= ((qh >> (2 * g + 1)) & 1) << 4;
        }
        yb[64 * g + l] = d1 * static_cast<float>(lo) - m1;
        yb[64 * g + 32 + l] = d2 * static_cast<float>(hi) - m2;
      }
    }
  }
}

}  // namespace

void QuantizeRowQ4_K(const float* x, void* y, std::int64_t n) {
  TS_DCHECK(n % kQK_K == 0);
  auto* out = static_cast<std::uint8_t*>(y);
  std::uint8_t levels[kQK_K];
  for (std::int64_t b = 0; b < n / kQK_K; ++b) {
    std::uint8_t* block = out + b * kQ4_KBytes;
    QuantizeScaleMinSuperBlock(x + b * kQK_K, ScaleMinParams{15, -1.0f, 20}, block,
                               block + offsetof(BlockQ4_K, scales), levels);
    std::uint8_t* qs = block + offsetof(BlockQ4_K, qs);
    for (int g = 0; g < kQK_K / 64; ++g) {
      for (int l = 0; l < 32; ++l) {
        qs[32 * g + l] =
            static_cast<std::uint8_t>(levels[64 * g + l] | (levels[64 * g + 32 + l] << 4));
      }
    }
  }
}

void DequantizeRowQ4_K(const void* x, float* y, std::int64_t n) {
  DequantizeScaleMin<false>(x, y, n);
}

void QuantizeRowQ5_K(const float* x, void* y, std::int64_t n) {
  TS_DCHECK(n % kQK_K == 0);
  auto* out = static_cast<std::uint8_t*>(y);
  std::uint8_t levels[kQK_K];
  for (std::int64_t b = 0; b < n / kQK_K; ++b) {
    std::uint8_t* block = out + b * kQ5_KBytes;
    QuantizeScaleMinSuperBlock(x + b * kQK_K, ScaleMinParams{31, -0.5f, 15}, block,
                               block + offsetof(BlockQ5_K, scales), levels);
    std::uint8_t* qh = block + offsetof(BlockQ5_K, qh);
    std::uint8_t* qs = block + offsetof(BlockQ5_K, qs);
    std::memset(qh, 0, kQK_K / 8);
    for (int g = 0; g < kQK_K / 64; ++g) {
      const std::uint8_t bit_lo = static_cast<std::uint8_t>(1u << (2 * g));
      const std::uint8_t bit_hi = static_cast<std::uint8_t>(2u << (2 * g));
      for (int l = 0; l < 32; ++l) {
        int lo = levels[64 * g + l];
        int hi = levels[64 * g + 32 + l];
        if (lo > 15) {
          lo -= 16;
          qh[l] |= bit_lo;
        }
        if (hi > 15) {
          hi -= 16;
          qh[l] |= bit_hi;
        }
        qs[32 * g + l] = static_cast<std::uint8_t>(lo | (hi << 4));
      }
    }
  }
}

void DequantizeRowQ5_K(const void* x, float* y, std::int64_t n) {
  DequantizeScaleMin<true>(x, y, n);
}

void QuantizeRowQ6_K(const float* x, void* y, std::int64_t n) {
  TS_DCHECK(n % kQK_K == 0);
  auto* out = static_cast<std::uint8_t*>(y);
  std::int8_t levels[kQK_K];
  float scales[kQK_K / 16];
  for (std::int64_t b = 0; b < n / kQK_K; ++b) {
    const float* xb = x + b * kQK_K;
    std::uint8_t* block = out + b * kQ6_KBytes;
    float max_scale = 0;
    float max_abs_scale = 0;
    for (int s = 0; s < kQK_K / 16; ++s) {
      scales[s] = FitSymmetricScale(16, 32, xb + 16 * s, levels + 16 * s);
      if (std::fabs(scales[s]) > max_abs_scale) {
        max_abs_scale = std::fabs(scales[s]);
        max_scale = scales[s];
      }
    }
    std::memset(block, 0, kQ6_KBytes);
    if (max_abs_scale < kGroupMaxEps) continue;  // all zero, d = +0
    const float iscale = -128.0f / max_scale;
    StoreHalfAt(block + offsetof(BlockQ6_K, d), 1 / iscale);
    auto* sc = reinterpret_cast<std::int8_t*>(block + offsetof(BlockQ6_K, scales));
    for (int s = 0; s < kQK_K / 16; ++s) {
      const int v = NearestInt(iscale * scales[s]);
      sc[s] = static_cast<std::int8_t>(v < 127 ? v : 127);
    }
    const float d_all = LoadHalfAt(block + offsetof(BlockQ6_K, d));
    for (int s = 0; s < kQK_K / 16; ++s) {
      const float d = d_all * static_cast<float>(sc[s]);
      if (d == 0.0f) continue;  // keep the levels of the fit
      for (int i = 0; i < 16; ++i) {
        levels[16 * s + i] =
            static_cast<std::int8_t>(Clamp(NearestInt(xb[16 * s + i] / d), -32, 31) + 32);
      }
    }
    std::uint8_t* ql = block + offsetof(BlockQ6_K, ql);
    std::uint8_t* qh = block + offsetof(BlockQ6_K, qh);
    for (int h = 0; h < 2; ++h) {
      const std::int8_t* L = levels + 128 * h;
      for (int l = 0; l < 32; ++l) {
        const int q1 = L[l], q2 = L[l + 32], q3 = L[l + 64], q4 = L[l + 96];
        ql[64 * h + l] = static_cast<std::uint8_t>((q1 & 0x0F) | ((q3 & 0x0F) << 4));
        ql[64 * h + 32 + l] = static_cast<std::uint8_t>((q2 & 0x0F) | ((q4 & 0x0F) << 4));
        qh[32 * h + l] = static_cast<std::uint8_t>(((q1 >> 4) & 3) | (((q2 >> 4) & 3) << 2) |
                                                   (((q3 >> 4) & 3) << 4) | (((q4 >> 4) & 3) << 6));
      }
    }
  }
}

void DequantizeRowQ6_K(const void* x, float* y, std::int64_t n) {
  TS_DCHECK(n % kQK_K == 0);
  const auto* in = static_cast<const std::uint8_t*>(x);
  for (std::int64_t b = 0; b < n / kQK_K; ++b) {
    const std::uint8_t* block = in + b * kQ6_KBytes;
    const float d = LoadHalfAt(block + offsetof(BlockQ6_K, d));
    const std::uint8_t* scales = block + offsetof(BlockQ6_K, scales);
    float* yb = y + b * kQK_K;
    for (int h = 0; h < 2; ++h) {
      const std::uint8_t* ql = block + offsetof(BlockQ6_K, ql) + 64 * h;
      const std::uint8_t* qh = block + offsetof(BlockQ6_K, qh) + 32 * h;
      const std::uint8_t* sc = scales + 8 * h;
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int q1 = ((ql[l] & 0x0F) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q2 = ((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        float* yh = yb + 128 * h;
        yh[l] = d * static_cast<float>(static_cast<std::int8_t>(sc[is])) * static_cast<float>(q1);
        yh[l + 32] =
            d * static_cast<float>(static_cast<std::int8_t>(sc[is + 2])) * static_cast<float>(q2);
        yh[l + 64] =
            d * static_cast<float>(static_cast<std::int8_t>(sc[is + 4])) * static_cast<float>(q3);
        yh[l + 96] =
            d * static_cast<float>(static_cast<std::int8_t>(sc[is + 6])) * static_cast<float>(q4);
      }
    }
  }
}

void QuantizeRowQ8_K(const float* x, void* y, std::int64_t n) {
  TS_DCHECK(n % kQK_K == 0);
  auto* out = static_cast<std::uint8_t*>(y);
  for (std::int64_t b = 0; b < n / kQK_K; ++b) {
    const float* xb = x + b * kQK_K;
    std::uint8_t* block = out + b * kQ8_KBytes;
    float max = 0;
    float amax = 0;
    for (int j = 0; j < kQK_K; ++j) {
      const float ax = std::fabs(xb[j]);
      if (ax > amax) {
        amax = ax;
        max = xb[j];
      }
    }
    std::memset(block, 0, kQ8_KBytes);
    if (amax == 0.0f) continue;  // d = 0, all quants and sums 0
    const float iscale = -127.0f / max;
    auto* qs = reinterpret_cast<std::int8_t*>(block + offsetof(BlockQ8_K, qs));
    for (int j = 0; j < kQK_K; ++j) {
      const int v = NearestInt(iscale * xb[j]);
      qs[j] = static_cast<std::int8_t>(Clamp(v, -128, 127));  // ggml: MIN(127, v)
    }
    for (int k = 0; k < kQK_K / 16; ++k) {
      int sum = 0;
      for (int i = 0; i < 16; ++i) sum += qs[16 * k + i];
      const auto s16 = static_cast<std::int16_t>(sum);
      std::memcpy(block + offsetof(BlockQ8_K, bsums) + 2 * k, &s16, 2);
    }
    const float d = 1 / iscale;
    std::memcpy(block + offsetof(BlockQ8_K, d), &d, sizeof(d));
  }
}

void DequantizeRowQ8_K(const void* x, float* y, std::int64_t n) {
  TS_DCHECK(n % kQK_K == 0);
  const auto* in = static_cast<const std::uint8_t*>(x);
  for (std::int64_t b = 0; b < n / kQK_K; ++b) {
    const std::uint8_t* block = in + b * kQ8_KBytes;
    const float d = LoadF32At(block + offsetof(BlockQ8_K, d));
    for (int j = 0; j < kQK_K; ++j) {
      const auto q = static_cast<std::int8_t>(block[offsetof(BlockQ8_K, qs) + j]);
      y[b * kQK_K + j] = d * static_cast<float>(q);
    }
  }
}

}  // namespace tessera::tensor
