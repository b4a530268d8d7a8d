// Quantizers and dequantizers of the low-bit types Q2_K, Q3_K (256-element super-blocks) and the
// non-linear IQ4_NL (32) and IQ4_XS (256) (rules in quantize.h, layouts in blocks.h).
//
// As in quantize_k.cc, the quantizers follow the ones llama.cpp's llama-quantize runs without an
// importance matrix, step by step and in the same float operation order: Q2_K and Q3_K ggml's
// reference quantizers, IQ4_NL and IQ4_XS ggml's quantize_iq4_nl / quantize_iq4_xs (a scale
// search over 15 candidates), so that the bytes equal llama-quantize's.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "base/check.h"
#include "tensor/block_io.h"
#include "tensor/quantize.h"
#include "tensor/quantize_fit.h"

namespace tessera::tensor {
namespace {

constexpr float kGroupMaxEps = 1e-15f;  // ggml's GROUP_MAX_EPS: below it a group is all zero

constexpr std::int64_t kQ2_KBytes = sizeof(BlockQ2_K);
constexpr std::int64_t kQ3_KBytes = sizeof(BlockQ3_K);
constexpr std::int64_t kIQ4_NLBytes = sizeof(BlockIQ4_NL);
constexpr std::int64_t kIQ4_XSBytes = sizeof(BlockIQ4_XS);

// Packs 256 two-bit levels as Q2_K / Q3_K store them: element 128 h + 32 k + l in bits
// 2k..2k+1 of qs[32 h + l].
void PackTwoBit(const std::uint8_t* levels, std::uint8_t* qs) {
  for (int h = 0; h < 2; ++h) {
    const std::uint8_t* lv = levels + 128 * h;
    for (int l = 0; l < 32; ++l) {
      qs[32 * h + l] = static_cast<std::uint8_t>(lv[l] | (lv[l + 32] << 2) | (lv[l + 64] << 4) |
                                                 (lv[l + 96] << 6));
    }
  }
}

// The two-bit level of element e (< 256) of packed qs.
int TwoBitLevel(const std::uint8_t* qs, int e) {
  const int h = e / 128, k = (e % 128) / 32, l = e % 32;
  return (qs[32 * h + l] >> (2 * k)) & 3;
}

// The signed value of largest magnitude (the first on ties) and that magnitude.
void SignedMax(int n, const float* x, float* max, float* amax) {
  *max = 0;
  *amax = 0;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > *amax) {
      *amax = ax;
      *max = x[i];
    }
  }
}

// Q3_K's fit of one sub-block (ggml's make_q3_quants with rmse): levels -n_max..n_max-1 from
// -n_max / max, then up to 5 passes that move single levels while that raises
// sum(w x l)^2 / sum(w l^2) (w = x^2). Levels are returned offset by n_max. Returns the scale.
float FitQ3(int n, int n_max, const float* x, std::int8_t* levels) {
  float max, amax;
  SignedMax(n, x, &max, &amax);
  if (amax < kGroupMaxEps) {
    for (int i = 0; i < n; ++i) levels[i] = 0;
    return 0.0f;
  }
  const float iscale = static_cast<float>(-n_max) / max;
  float sum_lx = 0, sum_l2 = 0;
  for (int i = 0; i < n; ++i) {
    const int l = std::clamp(NearestInt(iscale * x[i]), -n_max, n_max - 1);
    levels[i] = static_cast<std::int8_t>(l);
    const float w = x[i] * x[i];
    sum_lx += w * x[i] * static_cast<float>(l);
    sum_l2 += w * static_cast<float>(l) * static_cast<float>(l);
  }
  for (int pass = 0; pass < 5; ++pass) {
    int changed = 0;
    for (int i = 0; i < n; ++i) {
      const float w = x[i] * x[i];
      const float li = static_cast<float>(levels[i]);
      float slx = sum_lx - w * x[i] * li;
      if (!(slx > 0)) continue;
      float sl2 = sum_l2 - w * li * li;
      const int new_l = std::clamp(NearestInt(x[i] * sl2 / slx), -n_max, n_max - 1);
      if (new_l == levels[i]) continue;
      const float fl = static_cast<float>(new_l);
      slx += w * x[i] * fl;
      sl2 += w * fl * fl;
      if (sl2 > 0 && slx * slx * sum_l2 > sum_lx * sum_lx * sl2) {
        levels[i] = static_cast<std::int8_t>(new_l);
        sum_lx = slx;
        sum_l2 = sl2;
        ++changed;
      }
    }
    if (changed == 0) break;
  }
  for (int i = 0; i < n; ++i) levels[i] = static_cast<std::int8_t>(levels[i] + n_max);
  return sum_l2 > 0.0f ? sum_lx / sum_l2 : 0.0f;
}

// The index of the code-book level nearest to v (ties to the upper one), as ggml's
// best_index_int8 over the ascending kIq4Levels.
int NearestIq4Level(float v) {
  if (v <= kIq4Levels[0]) return 0;
  if (v >= kIq4Levels[15]) return 15;
  int lo = 0, hi = 15;
  while (hi - lo > 1) {
    const int mid = (lo + hi) / 2;
    if (v < kIq4Levels[mid]) {
      hi = mid;
    } else {
      lo = mid;
    }
  }
  return v - kIq4Levels[hi - 1] < kIq4Levels[hi] - v ? hi - 1 : hi;
}

// IQ4's scale search for one block of 32 (weights x^2): start from max / -127, take the
// least-squares scale of those levels, then try the 15 inverse scales (k - 127) / max, k in
// [-7, 7], keeping the best least-squares fit. Returns the scale (0 for an all-zero block).
float FitIq4Block(const float* x) {
  constexpr int kTries = 7;
  float max, amax;
  SignedMax(32, x, &max, &amax);
  if (amax < kGroupMaxEps) return 0.0f;
  float d = -max / static_cast<float>(kIq4Levels[0]);
  float id = 1 / d;
  float sum_qx = 0, sum_q2 = 0;
  for (int j = 0; j < 32; ++j) {
    const float q = kIq4Levels[NearestIq4Level(id * x[j])];
    const float w = x[j] * x[j];
    sum_qx += w * q * x[j];
    sum_q2 += w * q * q;
  }
  d = sum_q2 > 0 ? sum_qx / sum_q2 : 0.0f;
  float best = d * sum_qx;
  for (int t = -kTries; t <= kTries; ++t) {
    id = static_cast<float>(t + kIq4Levels[0]) / max;
    sum_qx = 0;
    sum_q2 = 0;
    for (int j = 0; j < 32; ++j) {
      const float q = kIq4Levels[NearestIq4Level(id * x[j])];
      const float w = x[j] * x[j];
      sum_qx += w * q * x[j];
      sum_q2 += w * q * q;
    }
    if (sum_q2 > 0 && sum_qx * sum_qx > best * sum_q2) {
      d = sum_qx / sum_q2;
      best = d * sum_qx;
    }
  }
  return d;
}

// Packs 32 nibble levels as Q4_0 does: element j low nibble of byte j, element j + 16 high.
void PackNibbles(const std::uint8_t* levels, std::uint8_t* qs) {
  for (int j = 0; j < 16; ++j) {
    qs[j] = static_cast<std::uint8_t>(levels[j] | (levels[j + 16] << 4));
  }
}

}  // namespace

void QuantizeRowQ2_K(const float* x, void* y, std::int64_t n) {
  TS_DCHECK(n % kQK_K == 0);
  auto* out = static_cast<std::uint8_t*>(y);
  constexpr float kScaleMax = 15.0f;
  for (std::int64_t b = 0; b < n / kQK_K; ++b) {
    const float* xb = x + b * kQK_K;
    std::uint8_t* block = out + b * kQ2_KBytes;
    std::uint8_t* scales = block + offsetof(BlockQ2_K, scales);
    std::uint8_t levels[kQK_K];
    std::uint8_t levels_try[16];
    float weights[16];
    float sub_scales[16], sub_mins[16];
    float max_scale = 0, max_min = 0;
    for (int j = 0; j < 16; ++j) {
      for (int l = 0; l < 16; ++l) weights[l] = std::fabs(xb[16 * j + l]);
      sub_scales[j] = internal::FitScaleAndMin(16, 3, xb + 16 * j, weights, levels + 16 * j,
                                               &sub_mins[j], levels_try, -0.5f, 0.1f, 15,
                                               /*use_mad=*/true);
      if (sub_scales[j] > max_scale) max_scale = sub_scales[j];
      if (sub_mins[j] > max_min) max_min = sub_mins[j];
    }
    if (max_scale > 0) {
      const float iscale = kScaleMax / max_scale;
      for (int j = 0; j < 16; ++j) {
        scales[j] = static_cast<std::uint8_t>(NearestInt(iscale * sub_scales[j]));
      }
      StoreHalfAt(block + offsetof(BlockQ2_K, d), max_scale / kScaleMax);
    } else {
      std::memset(scales, 0, 16);
      StoreHalfAt(block + offsetof(BlockQ2_K, d), 0.0f);
    }
    if (max_min > 0) {
      const float iscale = kScaleMax / max_min;
      for (int j = 0; j < 16; ++j) {
        scales[j] = static_cast<std::uint8_t>(scales[j] | (NearestInt(iscale * sub_mins[j]) << 4));
      }
      StoreHalfAt(block + offsetof(BlockQ2_K, dmin), max_min / kScaleMax);
    } else {
      StoreHalfAt(block + offsetof(BlockQ2_K, dmin), 0.0f);
    }
    // Re-quantize every sub-block against its stored scale and min.
    const float d_all = LoadHalfAt(block + offsetof(BlockQ2_K, d));
    const float dmin_all = LoadHalfAt(block + offsetof(BlockQ2_K, dmin));
    for (int j = 0; j < 16; ++j) {
      const float d = d_all * static_cast<float>(scales[j] & 0x0F);
      if (d == 0.0f) continue;
      const float dm = dmin_all * static_cast<float>(scales[j] >> 4);
      for (int i = 0; i < 16; ++i) {
        levels[16 * j + i] =
            static_cast<std::uint8_t>(std::clamp(NearestInt((xb[16 * j + i] + dm) / d), 0, 3));
      }
    }
    PackTwoBit(levels, block + offsetof(BlockQ2_K, qs));
  }
}

void DequantizeRowQ2_K(const void* x, float* y, std::int64_t n) {
  TS_DCHECK(n % kQK_K == 0);
  const auto* in = static_cast<const std::uint8_t*>(x);
  for (std::int64_t b = 0; b < n / kQK_K; ++b) {
    const std::uint8_t* block = in + b * kQ2_KBytes;
    const float d = LoadHalfAt(block + offsetof(BlockQ2_K, d));
    const float dmin = LoadHalfAt(block + offsetof(BlockQ2_K, dmin));
    const std::uint8_t* scales = block + offsetof(BlockQ2_K, scales);
    const std::uint8_t* qs = block + offsetof(BlockQ2_K, qs);
    for (int e = 0; e < kQK_K; ++e) {
      const int s = 8 * (e / 128) + 2 * ((e % 128) / 32) + (e % 32) / 16;
      const float dl = d * static_cast<float>(scales[s] & 0x0F);
      const float ml = dmin * static_cast<float>(scales[s] >> 4);
      y[b * kQK_K + e] = dl * static_cast<float>(TwoBitLevel(qs, e)) - ml;
    }
  }
}

void QuantizeRowQ3_K(const float* x, void* y, std::int64_t n) {
  TS_DCHECK(n % kQK_K == 0);
  auto* out = static_cast<std::uint8_t*>(y);
  for (std::int64_t b = 0; b < n / kQK_K; ++b) {
    const float* xb = x + b * kQK_K;
    std::uint8_t* block = out + b * kQ3_KBytes;
    std::uint8_t* scales = block + offsetof(BlockQ3_K, scales);
    std::int8_t levels[kQK_K];
    float sub_scales[16];
    float max_scale = 0, amax = 0;
    for (int j = 0; j < 16; ++j) {
      sub_scales[j] = FitQ3(16, 4, xb + 16 * j, levels + 16 * j);
      const float a = std::fabs(sub_scales[j]);
      if (a > amax) {
        amax = a;
        max_scale = sub_scales[j];
      }
    }
    std::memset(scales, 0, 12);
    if (max_scale != 0.0f) {
      const float iscale = -32.0f / max_scale;
      for (int j = 0; j < 16; ++j) {
        // ggml stores nearest_int in an int8 before clamping (|value| <= 32 here).
        const auto l8 = static_cast<std::int8_t>(NearestInt(iscale * sub_scales[j]));
        const int l = std::clamp(static_cast<int>(l8), -32, 31) + 32;
        if (j < 8) {
          scales[j] = static_cast<std::uint8_t>(l & 0x0F);
        } else {
          scales[j - 8] = static_cast<std::uint8_t>(scales[j - 8] | ((l & 0x0F) << 4));
        }
        scales[8 + j % 4] = static_cast<std::uint8_t>(scales[8 + j % 4] | ((l >> 4) << (2 * (j / 4))));
      }
      StoreHalfAt(block + offsetof(BlockQ3_K, d), 1 / iscale);
    } else {
      StoreHalfAt(block + offsetof(BlockQ3_K, d), 0.0f);
    }
    const float d_all = LoadHalfAt(block + offsetof(BlockQ3_K, d));
    for (int j = 0; j < 16; ++j) {
      const float d = d_all * static_cast<float>(ScaleQ3K(j, scales) - 32);
      if (d == 0.0f) continue;
      for (int i = 0; i < 16; ++i) {
        levels[16 * j + i] =
            static_cast<std::int8_t>(std::clamp(NearestInt(xb[16 * j + i] / d), -4, 3) + 4);
      }
    }
    // The third bit of element e goes to bit e / 32 of hmask[e % 32]; two bits stay.
    std::uint8_t* hmask = block + offsetof(BlockQ3_K, hmask);
    std::memset(hmask, 0, kQK_K / 8);
    std::uint8_t low[kQK_K];
    for (int e = 0; e < kQK_K; ++e) {
      int l = levels[e];
      if (l > 3) {
        hmask[e % 32] = static_cast<std::uint8_t>(hmask[e % 32] | (1 << (e / 32)));
        l -= 4;
      }
      low[e] = static_cast<std::uint8_t>(l);
    }
    PackTwoBit(low, block + offsetof(BlockQ3_K, qs));
  }
}

void DequantizeRowQ3_K(const void* x, float* y, std::int64_t n) {
  TS_DCHECK(n % kQK_K == 0);
  const auto* in = static_cast<const std::uint8_t*>(x);
  for (std::int64_t b = 0; b < n / kQK_K; ++b) {
    const std::uint8_t* block = in + b * kQ3_KBytes;
    const float d_all = LoadHalfAt(block + offsetof(BlockQ3_K, d));
    const std::uint8_t* scales = block + offsetof(BlockQ3_K, scales);
    const std::uint8_t* hmask = block + offsetof(BlockQ3_K, hmask);
    const std::uint8_t* qs = block + offsetof(BlockQ3_K, qs);
    for (int e = 0; e < kQK_K; ++e) {
      const int s = 8 * (e / 128) + 2 * ((e % 128) / 32) + (e % 32) / 16;
      const float dl = d_all * static_cast<float>(ScaleQ3K(s, scales) - 32);
      const int high = (hmask[e % 32] >> (e / 32)) & 1;
      y[b * kQK_K + e] = dl * static_cast<float>(TwoBitLevel(qs, e) - (high ? 0 : 4));
    }
  }
}

void QuantizeRowIQ4_NL(const float* x, void* y, std::int64_t n) {
  TS_DCHECK(n % kQK4_NL == 0);
  auto* out = static_cast<std::uint8_t*>(y);
  for (std::int64_t b = 0; b < n / kQK4_NL; ++b) {
    const float* xb = x + b * kQK4_NL;
    std::uint8_t* block = out + b * kIQ4_NLBytes;
    const float d = FitIq4Block(xb);
    StoreHalfAt(block, d);
    const float id = d != 0.0f ? 1 / d : 0.0f;
    std::uint8_t levels[32];
    for (int j = 0; j < 32; ++j) levels[j] = static_cast<std::uint8_t>(NearestIq4Level(id * xb[j]));
    PackNibbles(levels, block + offsetof(BlockIQ4_NL, qs));
  }
}

void DequantizeRowIQ4_NL(const void* x, float* y, std::int64_t n) {
  TS_DCHECK(n % kQK4_NL == 0);
  const auto* in = static_cast<const std::uint8_t*>(x);
  for (std::int64_t b = 0; b < n / kQK4_NL; ++b) {
    const std::uint8_t* block = in + b * kIQ4_NLBytes;
    const float d = LoadHalfAt(block);
    const std::uint8_t* qs = block + offsetof(BlockIQ4_NL, qs);
    for (int j = 0; j < 16; ++j) {
      y[b * kQK4_NL + j] = d * static_cast<float>(kIq4Levels[qs[j] & 0x0F]);
      y[b * kQK4_NL + j + 16] = d * static_cast<float>(kIq4Levels[qs[j] >> 4]);
    }
  }
}

void QuantizeRowIQ4_XS(const float* x, void* y, std::int64_t n) {
  TS_DCHECK(n % kQK_K == 0);
  auto* out = static_cast<std::uint8_t*>(y);
  for (std::int64_t b = 0; b < n / kQK_K; ++b) {
    const float* xb = x + b * kQK_K;
    std::uint8_t* block = out + b * kIQ4_XSBytes;
    float sub_scales[8];
    float max_scale = 0, amax_scale = 0;
    for (int s = 0; s < 8; ++s) {
      sub_scales[s] = FitIq4Block(xb + 32 * s);
      const float a = std::fabs(sub_scales[s]);
      if (a > amax_scale) {
        amax_scale = a;
        max_scale = sub_scales[s];
      }
    }
    // The 8 scales as 6-bit integers against d = -max / 32; every element re-fitted to its
    // stored scale (d * l, with the float d).
    const float d = -max_scale / 32;
    StoreHalfAt(block, d);
    const float id = d != 0.0f ? 1 / d : 0.0f;
    std::uint16_t scales_h = 0;
    std::uint8_t* scales_l = block + offsetof(BlockIQ4_XS, scales_l);
    std::memset(scales_l, 0, kQK_K / 64);
    std::uint8_t levels[kQK_K];
    for (int s = 0; s < 8; ++s) {
      int l = std::clamp(NearestInt(id * sub_scales[s]), -32, 31);
      const float dl = d * static_cast<float>(l);
      const float idl = dl != 0.0f ? 1 / dl : 0.0f;
      for (int j = 0; j < 32; ++j) {
        levels[32 * s + j] = static_cast<std::uint8_t>(NearestIq4Level(idl * xb[32 * s + j]));
      }
      l += 32;
      scales_l[s / 2] = static_cast<std::uint8_t>(scales_l[s / 2] | ((l & 0x0F) << (4 * (s % 2))));
      scales_h = static_cast<std::uint16_t>(scales_h | ((l >> 4) << (2 * s)));
    }
    std::memcpy(block + offsetof(BlockIQ4_XS, scales_h), &scales_h, sizeof(scales_h));
    for (int s = 0; s < 8; ++s) {
      PackNibbles(levels + 32 * s, block + offsetof(BlockIQ4_XS, qs) + 16 * s);
    }
  }
}

void DequantizeRowIQ4_XS(const void* x, float* y, std::int64_t n) {
  TS_DCHECK(n % kQK_K == 0);
  const auto* in = static_cast<const std::uint8_t*>(x);
  for (std::int64_t b = 0; b < n / kQK_K; ++b) {
    const std::uint8_t* block = in + b * kIQ4_XSBytes;
    const float d = LoadHalfAt(block);
    for (int s = 0; s < 8; ++s) {
      const float dl = d * static_cast<float>(ScaleIQ4XS(s, block) - 32);
      const std::uint8_t* qs = block + offsetof(BlockIQ4_XS, qs) + 16 * s;
      float* ys = y + b * kQK_K + 32 * s;
      for (int j = 0; j < 16; ++j) {
        ys[j] = dl * static_cast<float>(kIq4Levels[qs[j] & 0x0F]);
        ys[j + 16] = dl * static_cast<float>(kIq4Levels[qs[j] >> 4]);
      }
    }
  }
}

}  // namespace tessera::tensor
