// Tests of the quantizers of Q4_1, Q5_0, Q5_1, Q8_1 and the K-quants Q4_K, Q5_K, Q6_K, Q8_K
// (tensor/quantize.h): golden bytes for hand-derived blocks, quantize -> dequantize error
// budgets over odd sizes, and refusals.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "tensor/blocks.h"
#include "tensor/fp16.h"
#include "tensor/quantize.h"
#include "tensor/types.h"

namespace tessera::tensor {
namespace {

// ---- Error budgets of quantize -> dequantize.
// Legacy types, per element, in units of the block's float step d (Q4_1: (max - min) / 15,
// Q5_1: (max - min) / 31, Q5_0: |d| = amax / 16): rounding costs d / 2 (Q5_0 also up to d when
// an element of the opposite sign to the extreme clamps to level 31, as Q4_0 at 15); storing d
// as f16 adds q * d * 2^-11 (q <= 31) and storing the min m adds |m| * 2^-11.
constexpr double kQ4_1ErrPerStep = 0.5 + 16.0 / 2048 + 1e-5;
constexpr double kQ5_1ErrPerStep = 0.5 + 32.0 / 2048 + 1e-5;
constexpr double kQ5_0ErrPerStep = 1.0 + 16.0 / 2048 + 1e-5;
constexpr double kMinStorageRel = 1.0 / 2048;
// Q8_1 / Q8_K: half a step of amax / 127 (Q8_1 adds f16 storage of d: 127 * 2^-11 steps).
constexpr double kQ8_1ErrPerStep = 0.5 + 127.0 / 2048 + 1e-5;
constexpr double kQ8_KErrPerStep = 0.5 + 1e-5;
// K-quants have a searched scale per sub-block, so the bound is statistical: the RMS error over
// the row relative to the RMS of N(0, 1) inputs. Measured at most 0.0733 (Q4_K), 0.0375 (Q5_K),
// 0.0179 (Q6_K) over these sizes and seeds; the budgets leave ~15% headroom, far below what a wrong
// scale, min or bit position gives (> 0.3).
constexpr double kQ4_KRelRms = 0.085;
constexpr double kQ5_KRelRms = 0.045;
constexpr double kQ6_KRelRms = 0.021;
// Measured on N(0, 1) rows (LowBitRmsWithinBudget prints them): Q2_K 0.293-0.307, Q3_K
// 0.148-0.152, IQ4_XS 0.076-0.079, IQ4_NL 0.075-0.079; budgets about 10% above.
constexpr double kQ2_KRelRms = 0.33;
constexpr double kQ3_KRelRms = 0.165;
constexpr double kIQ4_XSRelRms = 0.087;
constexpr double kIQ4_NLRelRms = 0.087;

std::vector<float> RandomFloats(std::size_t n, std::uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

std::vector<std::uint8_t> MustQuantize(DType type, const std::vector<float>& x, std::int64_t n) {
  std::vector<std::uint8_t> out(x.size() / static_cast<std::size_t>(n) *
                                RowBytes(type, static_cast<std::uint64_t>(n)).value());
  const Status s = Quantize(type, x, n, out);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

std::vector<float> MustDequantize(DType type, const std::vector<std::uint8_t>& q, std::size_t n) {
  std::vector<float> out(n);
  const Status s = Dequantize(type, q, out);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

std::uint16_t U16At(const std::vector<std::uint8_t>& b, std::size_t offset) {
  std::uint16_t v;
  std::memcpy(&v, b.data() + offset, 2);
  return v;
}

// ---- Goldens: bytes derived by hand from the ggml rules (quantize.h, blocks.h).

TEST(KQuantGoldenTest, Q4_1) {
  // x = 0..15 twice: min 0, max 15, d = 1, q = trunc(x + 0.5) = x.
  std::vector<float> x(32);
  for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(j % 16);
  const std::vector<std::uint8_t> q = MustQuantize(DType::kQ4_1, x, 32);
  ASSERT_EQ(q.size(), 20u);
  EXPECT_EQ(U16At(q, 0), 0x3C00);  // d = 1.0
  EXPECT_EQ(U16At(q, 2), 0x0000);  // m = 0.0
  for (int j = 0; j < 16; ++j) EXPECT_EQ(q[4 + j], j | (j << 4)) << j;
  EXPECT_EQ(MustDequantize(DType::kQ4_1, q, 32), x);
}

TEST(KQuantGoldenTest, Q5_0) {
  // x = j - 16: the extreme is -16 (j = 0), d = -16 / -16 = 1, q = trunc(x + 16.5) = j, so
  // elements 16..31 have the fifth bit: qh = 0xFFFF0000, nibbles j | j << 4.
  std::vector<float> x(32);
  for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(j - 16);
  const std::vector<std::uint8_t> q = MustQuantize(DType::kQ5_0, x, 32);
  ASSERT_EQ(q.size(), 22u);
  EXPECT_EQ(U16At(q, 0), 0x3C00);
  EXPECT_EQ(q[2], 0x00);
  EXPECT_EQ(q[3], 0x00);
  EXPECT_EQ(q[4], 0xFF);
  EXPECT_EQ(q[5], 0xFF);
  for (int j = 0; j < 16; ++j) EXPECT_EQ(q[6 + j], j | (j << 4)) << j;
  EXPECT_EQ(MustDequantize(DType::kQ5_0, q, 32), x);
}

TEST(KQuantGoldenTest, Q5_1) {
  // x = j / 2 + 3: min 3, max 18.5, d = 0.5, q = trunc((x - 3) * 2 + 0.5) = j.
  std::vector<float> x(32);
  for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(j) / 2 + 3;
  const std::vector<std::uint8_t> q = MustQuantize(DType::kQ5_1, x, 32);
  ASSERT_EQ(q.size(), 24u);
  EXPECT_EQ(U16At(q, 0), 0x3800);  // 0.5
  EXPECT_EQ(U16At(q, 2), 0x4200);  // 3.0
  EXPECT_EQ(q[4], 0x00);
  EXPECT_EQ(q[5], 0x00);
  EXPECT_EQ(q[6], 0xFF);
  EXPECT_EQ(q[7], 0xFF);
  for (int j = 0; j < 16; ++j) EXPECT_EQ(q[8 + j], j | (j << 4)) << j;
  EXPECT_EQ(MustDequantize(DType::kQ5_1, q, 32), x);
}

TEST(KQuantGoldenTest, Q8_1) {
  // amax 127 -> d = 1, q = x, s = d * sum(q) = 127 - 1 + 0 * 30 = 126.
  std::vector<float> x(32, 0.0f);
  x[0] = 127.0f;
  x[31] = -1.0f;
  const std::vector<std::uint8_t> q = MustQuantize(DType::kQ8_1, x, 32);
  ASSERT_EQ(q.size(), 36u);
  EXPECT_EQ(U16At(q, 0), 0x3C00);
  EXPECT_EQ(U16At(q, 2), FloatToHalf(126.0f));
  EXPECT_EQ(static_cast<std::int8_t>(q[4]), 127);
  EXPECT_EQ(static_cast<std::int8_t>(q[35]), -1);
}

TEST(KQuantGoldenTest, Q8_KRoundsHalfToEven) {
  // x = j - 128: the extreme is -128, iscale = -127 / -128 = 0.9921875 exactly, so x = 64 gives
  // 63.5 -> 64 (ties to even, not away from zero: 63.5 -> 64 either way, so also check 0.5s):
  // x = 64 + 64 k give 63.5 + 63.5 k; x = -128 -> -127; x = 1 -> 0.99 -> 1.
  std::vector<float> x(256);
  for (int j = 0; j < 256; ++j) x[j] = static_cast<float>(j - 128);
  const std::vector<std::uint8_t> q = MustQuantize(DType::kQ8_K, x, 256);
  ASSERT_EQ(q.size(), 292u);
  float d;
  std::memcpy(&d, q.data(), 4);
  EXPECT_EQ(d, 1.0f / 0.9921875f);
  auto qs = [&](int j) { return static_cast<int>(static_cast<std::int8_t>(q[4 + j])); };
  EXPECT_EQ(qs(0), -127);        // -128
  EXPECT_EQ(qs(128 + 1), 1);     // 1 * 0.9921875
  EXPECT_EQ(qs(128 + 64), 64);   // 63.5 -> 64 (even)
  EXPECT_EQ(qs(128 - 64), -64);  // -63.5 -> -64 (even)
  EXPECT_EQ(qs(128 + 32), 32);   // 31.75 -> 32
  // 0.9921875 * x = x - x / 128: a tie x - 0.5 for x = 64 only in [-128, 127]; x = 127 -> 126.
  EXPECT_EQ(qs(255), 126);
  // bsums: sum of each group of 16 quants.
  for (int k = 0; k < 16; ++k) {
    int sum = 0;
    for (int i = 0; i < 16; ++i) sum += qs(16 * k + i);
    std::int16_t got;
    std::memcpy(&got, q.data() + 260 + 2 * k, 2);
    EXPECT_EQ(got, sum) << k;
  }
}

TEST(KQuantGoldenTest, Q4_KExactLevels) {
  // Each sub-block of 32 holds the integers 0..15 (min 0, max 15), so the first fit is exact:
  // scale 1, min 0, error 0, which no candidate beats. All 8 scales are 1: d = f16(1 / 63) =
  // 0x2410, 6-bit scale 63; all mins 0: dmin = 0. Packed: scales[0..3] = 63 | (63 >> 4) << 6 =
  // 0xFF, scales[4..7] = 0 (mins), scales[8..11] = (63 & 15) = 0x0F. Re-quantization with the
  // stored d * 63 = 1.00012 keeps levels = x.
  std::vector<float> x(256);
  for (int g = 0; g < 4; ++g) {
    for (int l = 0; l < 32; ++l) {
      x[64 * g + l] = static_cast<float>(l % 16);
      x[64 * g + 32 + l] = static_cast<float>(15 - l % 16);
    }
  }
  const std::vector<std::uint8_t> q = MustQuantize(DType::kQ4_K, x, 256);
  ASSERT_EQ(q.size(), 144u);
  EXPECT_EQ(U16At(q, 0), 0x2410);
  EXPECT_EQ(U16At(q, 2), 0x0000);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(q[4 + i], 0xFF) << i;
  for (int i = 4; i < 8; ++i) EXPECT_EQ(q[4 + i], 0x00) << i;
  for (int i = 8; i < 12; ++i) EXPECT_EQ(q[4 + i], 0x0F) << i;
  for (int g = 0; g < 4; ++g) {
    for (int l = 0; l < 32; ++l) {
      EXPECT_EQ(q[16 + 32 * g + l], (l % 16) | ((15 - l % 16) << 4)) << g << " " << l;
    }
  }
  const std::vector<float> y = MustDequantize(DType::kQ4_K, q, 256);
  const float d = HalfToFloat(0x2410) * 63.0f;
  for (int i = 0; i < 256; ++i) EXPECT_EQ(y[i], d * x[i]) << i;
}

TEST(KQuantGoldenTest, Q6_KExactLevels) {
  // Every sub-block of 16 starts with -32 and continues with k - 8 (k = 1..15), integers in
  // [-32, 31]: the first symmetric fit (iscale = -32 / -32 = 1) is exact with scale 1 and, by
  // Cauchy-Schwarz, no candidate strictly beats it. Then d = f16(1 / (-128 / 1)) = -2^-7 =
  // 0xA000, every int8 scale is nearest(-128 * 1) = -128 (0x80), d * sc = 1, levels = x + 32:
  // 0 for k = 0 and k + 24 for k >= 1. Element 1 (and 33, 65, 97) has level 25 = 0b01'1001:
  // ql[1] = ql[33] = 0x99, qh[1] = 0b01010101 = 0x55; element 0 (and 32, 64, 96): level 0.
  std::vector<float> x(256);
  for (int i = 0; i < 256; ++i) x[i] = i % 16 == 0 ? -32.0f : static_cast<float>(i % 16 - 8);
  const std::vector<std::uint8_t> q = MustQuantize(DType::kQ6_K, x, 256);
  ASSERT_EQ(q.size(), 210u);
  EXPECT_EQ(U16At(q, 208), 0xA000);
  for (int s = 0; s < 16; ++s) EXPECT_EQ(q[192 + s], 0x80) << s;
  EXPECT_EQ(q[0], 0x00);
  EXPECT_EQ(q[128], 0x00);
  EXPECT_EQ(q[1], 0x99);
  EXPECT_EQ(q[33], 0x99);
  EXPECT_EQ(q[128 + 1], 0x55);
  EXPECT_EQ(q[64 + 1], 0x99);        // second half, element 129
  EXPECT_EQ(q[128 + 32 + 1], 0x55);  // second half's qh
  EXPECT_EQ(MustDequantize(DType::kQ6_K, q, 256), x);
}

TEST(KQuantGoldenTest, AllZeroBlocks) {
  const std::vector<float> x(256, 0.0f);
  for (DType t : {DType::kQ4_K, DType::kQ5_K, DType::kQ6_K, DType::kQ8_K}) {
    const std::vector<std::uint8_t> q = MustQuantize(t, x, 256);
    for (std::size_t i = 0; i < q.size(); ++i) ASSERT_EQ(q[i], 0) << TypeName(t) << " " << i;
    EXPECT_EQ(MustDequantize(t, q, 256), x) << TypeName(t);
  }
}

// ---- Round trips over odd sizes.

double Step(DType t, const float* xb) {
  float min = xb[0], max = xb[0], amax = 0;
  for (int j = 0; j < 32; ++j) {
    min = std::fmin(min, xb[j]);
    max = std::fmax(max, xb[j]);
    amax = std::fmax(amax, std::fabs(xb[j]));
  }
  switch (t) {
    case DType::kQ4_1:
      return (max - min) / 15.0;
    case DType::kQ5_1:
      return (max - min) / 31.0;
    case DType::kQ5_0:
      return amax / 16.0;
    default:
      return amax / 127.0;
  }
}

class LegacyRoundTripTest : public ::testing::TestWithParam<std::int64_t> {};

TEST_P(LegacyRoundTripTest, WithinPerElementBudget) {
  const std::int64_t n = GetParam();
  for (DType t : {DType::kQ4_1, DType::kQ5_0, DType::kQ5_1, DType::kQ8_1}) {
    std::vector<float> x = RandomFloats(static_cast<std::size_t>(n) * 3, 101 + n, 2.0f);
    x[5] += 4.0f;  // a block with an offset, so the mins matter
    const std::vector<float> y = MustDequantize(t, MustQuantize(t, x, n), x.size());
    const double per_step = t == DType::kQ4_1   ? kQ4_1ErrPerStep
                            : t == DType::kQ5_1 ? kQ5_1ErrPerStep
                            : t == DType::kQ5_0 ? kQ5_0ErrPerStep
                                                : kQ8_1ErrPerStep;
    for (std::size_t b = 0; b < x.size() / 32; ++b) {
      const float* xb = x.data() + 32 * b;
      float min = xb[0];
      for (int j = 0; j < 32; ++j) min = std::fmin(min, xb[j]);
      const double budget = per_step * Step(t, xb) + kMinStorageRel * std::fabs(min) + 1e-7;
      for (int j = 0; j < 32; ++j) {
        ASSERT_LE(std::fabs(y[32 * b + j] - xb[j]), budget)
            << TypeName(t) << " elem " << 32 * b + j;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Sizes, LegacyRoundTripTest, ::testing::Values(32, 64, 96, 352, 4096));

class KQuantRoundTripTest : public ::testing::TestWithParam<std::int64_t> {};

// sqrt(sum (y - x)^2 / sum x^2).
double RelativeRms(const std::vector<float>& x, const std::vector<float>& y) {
  double err2 = 0, x2 = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    err2 += (y[i] - x[i]) * static_cast<double>(y[i] - x[i]);
    x2 += static_cast<double>(x[i]) * x[i];
  }
  return std::sqrt(err2 / x2);
}

TEST_P(KQuantRoundTripTest, RmsWithinBudget) {
  const std::int64_t n = GetParam();
  for (DType t : {DType::kQ4_K, DType::kQ5_K, DType::kQ6_K}) {
    const std::vector<float> x = RandomFloats(static_cast<std::size_t>(n) * 3, 7 + n);
    const std::vector<float> y = MustDequantize(t, MustQuantize(t, x, n), x.size());
    const double rel = RelativeRms(x, y);
    const double budget = t == DType::kQ4_K   ? kQ4_KRelRms
                          : t == DType::kQ5_K ? kQ5_KRelRms
                                              : kQ6_KRelRms;
    EXPECT_LE(rel, budget) << TypeName(t) << " n=" << n;
    RecordProperty(std::string(TypeName(t)) + "_rel_rms_" + std::to_string(n), std::to_string(rel));
  }
}

TEST_P(KQuantRoundTripTest, Q8_KWithinHalfStep) {
  const std::int64_t n = GetParam();
  const std::vector<float> x = RandomFloats(static_cast<std::size_t>(n), 13 + n, 5.0f);
  const std::vector<float> y =
      MustDequantize(DType::kQ8_K, MustQuantize(DType::kQ8_K, x, n), x.size());
  for (std::size_t b = 0; b < x.size() / 256; ++b) {
    float amax = 0;
    for (int j = 0; j < 256; ++j) amax = std::fmax(amax, std::fabs(x[256 * b + j]));
    for (int j = 0; j < 256; ++j) {
      ASSERT_LE(std::fabs(y[256 * b + j] - x[256 * b + j]), kQ8_KErrPerStep * amax / 127.0)
          << 256 * b + j;
    }
  }
}

// The low-bit types: relative RMS error of a round trip of N(0, 1) data within a budget a little
// above what llama-quantize's identical bytes give (measured values in the test's properties).
TEST_P(KQuantRoundTripTest, LowBitRmsWithinBudget) {
  const std::int64_t n = GetParam();
  const std::pair<DType, double> budgets[] = {{DType::kQ2_K, kQ2_KRelRms},
                                              {DType::kQ3_K, kQ3_KRelRms},
                                              {DType::kIQ4_XS, kIQ4_XSRelRms},
                                              {DType::kIQ4_NL, kIQ4_NLRelRms}};
  for (const auto& [t, budget] : budgets) {
    const std::vector<float> x = RandomFloats(static_cast<std::size_t>(n) * 3, 11 + n);
    const std::vector<float> y = MustDequantize(t, MustQuantize(t, x, n), x.size());
    const double rel = RelativeRms(x, y);
    EXPECT_LE(rel, budget) << TypeName(t) << " n=" << n;
    std::printf("[ measured ] %s n=%lld relative rms %.4f\n", std::string(TypeName(t)).c_str(),
                static_cast<long long>(n), rel);
  }
}

INSTANTIATE_TEST_SUITE_P(Sizes, KQuantRoundTripTest, ::testing::Values(256, 512, 768, 4096));

// Super-blocks of very different magnitudes and offsets: a super-block scale, min or bit read
// from the wrong place gives errors of the order of the values themselves.
TEST(KQuantRoundTripTest, SuperBlocksOfDifferentMagnitudesAndOffsets) {
  std::vector<float> x = RandomFloats(256 * 6, 3);
  for (std::size_t i = 0; i < x.size(); ++i) {
    const std::size_t b = i / 256;
    x[i] = x[i] * std::ldexp(1.0f, 3 * static_cast<int>(b) - 6) + (b % 2 == 1 ? 3.0f : 0.0f);
  }
  for (DType t : {DType::kQ4_K, DType::kQ5_K, DType::kQ6_K}) {
    const std::vector<float> y = MustDequantize(t, MustQuantize(t, x, 256), x.size());
    for (std::size_t b = 0; b < x.size() / 256; ++b) {
      double err2 = 0, x2 = 0;
      for (int j = 0; j < 256; ++j) {
        const double xi = x[256 * b + j];
        err2 += (y[256 * b + j] - xi) * (y[256 * b + j] - xi);
        x2 += xi * xi;
      }
      EXPECT_LE(std::sqrt(err2 / x2), kQ4_KRelRms) << TypeName(t) << " super-block " << b;
    }
  }
}

// ---- Refusals and robustness.

TEST(KQuantTest, RefusesWidthNotMultipleOf256) {
  const std::vector<float> x(512, 1.0f);
  std::vector<std::uint8_t> dst(4096);
  for (DType t : {DType::kQ2_K, DType::kQ3_K, DType::kQ4_K, DType::kQ5_K, DType::kQ6_K,
                  DType::kQ8_K, DType::kIQ4_XS}) {
    for (std::int64_t width : {128, 32, 255}) {
      const Status s =
          Quantize(t, std::span<const float>(x).first(static_cast<std::size_t>(width)), width, dst);
      EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << TypeName(t) << " " << width;
      EXPECT_NE(s.message().find(std::to_string(width)), std::string::npos) << s.message();
      EXPECT_NE(s.message().find("256"), std::string::npos) << s.message();
      EXPECT_NE(s.message().find(std::string(TypeName(t))), std::string::npos) << s.message();
    }
    std::vector<float> out(128);
    EXPECT_EQ(Dequantize(t, dst, out).code(), StatusCode::kInvalidArgument);
  }
}

TEST(KQuantTest, RowHelpersAcceptUnalignedBytes) {
  const std::vector<float> x = RandomFloats(512, 77);
  for (DType t : {DType::kQ4_1, DType::kQ5_0, DType::kQ5_1, DType::kQ8_1, DType::kQ4_K,
                  DType::kQ5_K, DType::kQ6_K, DType::kQ8_K}) {
    const std::vector<std::uint8_t> aligned = MustQuantize(t, x, 512);
    std::vector<std::uint8_t> buf(aligned.size() + 1);
    QuantizeRowFor(t)(x.data(), buf.data() + 1, 512);
    EXPECT_TRUE(std::equal(aligned.begin(), aligned.end(), buf.begin() + 1)) << TypeName(t);
    std::vector<float> a(512), b(512);
    DequantizeRowFor(t)(aligned.data(), a.data(), 512);
    DequantizeRowFor(t)(buf.data() + 1, b.data(), 512);
    EXPECT_EQ(a, b) << TypeName(t);
  }
}

TEST(KQuantTest, NonFiniteInputsDoNotCrash) {
  std::vector<float> x = RandomFloats(512, 5);
  x[3] = std::numeric_limits<float>::quiet_NaN();
  x[40] = std::numeric_limits<float>::infinity();
  x[300] = -std::numeric_limits<float>::infinity();
  x[301] = 3e38f;
  for (DType t : {DType::kQ4_1, DType::kQ5_0, DType::kQ5_1, DType::kQ8_1, DType::kQ4_K,
                  DType::kQ5_K, DType::kQ6_K, DType::kQ8_K}) {
    const std::vector<std::uint8_t> q = MustQuantize(t, x, 512);
    MustDequantize(t, q, 512);  // no UB (checked under the sanitizers), no crash
  }
}

}  // namespace
}  // namespace tessera::tensor
