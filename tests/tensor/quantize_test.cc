// Tests of tensor/quantize.h: golden bytes for hand-computed blocks, quantize -> dequantize error
// budgets over odd sizes, and the refusals of the checked API.
#include "tensor/quantize.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "tensor/fp16.h"
#include "tensor/types.h"

namespace tessera::tensor {
namespace {

// Error budgets, per element, in units of the block's float scale d = amax / 127 (Q8_0) or
// |d| = amax / 8 (Q4_0):
//   Q8_0: rounding to the nearest integer costs at most d / 2; storing d as f16 (relative error
//         <= 2^-11) adds at most |q| * d * 2^-11 <= 127 * d / 2048; 1e-5 covers float products.
constexpr double kQ8_0ErrPerScale = 0.5 + 127.0 / 2048 + 1e-5;
//   Q4_0: trunc(x / d + 8.5) rounds half up, so at most |d| / 2, except when x / d >= 7.5 (a value
//         of the opposite sign to the extreme with magnitude >= 15/16 of it) which clamps to
//         nibble 15 and costs up to |d|. f16 storage of d adds |q - 8| * |d| * 2^-11 <= 8 |d| / 2048.
constexpr double kQ4_0ErrPerScale = 0.5 + 8.0 / 2048 + 1e-5;
constexpr double kQ4_0ClampedErrPerScale = 1.0 + 8.0 / 2048 + 1e-5;
//   F16: relative 2^-11 for normal halves; absolute 2^-25 below 2^-14 (subnormal spacing / 2).
constexpr double kF16RelErr = 1.0 / 2048;
constexpr double kF16AbsErr = 1.0 / (1 << 25);
//   BF16: relative 2^-8 (7 stored mantissa bits, round to nearest).
constexpr double kBf16RelErr = 1.0 / 256;

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

// ---- Goldens: bytes derived by hand from the ggml rules (see quantize.h). ----

TEST(QuantizeGoldenTest, Q8_0) {
  std::vector<float> x(96, 0.0f);
  // Block 0: amax 127 -> d = 1 (f16 0x3C00), id = 1, q = roundf(x) with ties away from zero.
  x[0] = 127.0f;   // 127  = 0x7F
  x[1] = -127.0f;  // -127 = 0x81
  x[2] = 0.5f;     // 1    (tie away from zero)
  x[3] = -2.5f;    // -3   = 0xFD (tie away from zero)
  x[4] = 3.49f;    // 3
  x[5] = 100.7f;   // 101  = 0x65
  x[6] = -0.4f;    // 0
  // Block 1: amax 63.5 -> d = 0.5 (f16 0x3800), id = 2.
  x[32] = 63.5f;   // 127
  x[33] = 1.25f;   // 2.5 -> 3
  x[34] = -0.75f;  // -1.5 -> -2 = 0xFE
  x[63] = -63.5f;  // -127 = 0x81
  // Block 2: all zero -> d = 0, q = 0.
  std::vector<std::uint8_t> expected(3 * 34, 0);
  const std::uint8_t b0[] = {0x00, 0x3C, 0x7F, 0x81, 0x01, 0xFD, 0x03, 0x65, 0x00};
  std::copy(std::begin(b0), std::end(b0), expected.begin());
  const std::uint8_t b1[] = {0x00, 0x38, 0x7F, 0x03, 0xFE};
  std::copy(std::begin(b1), std::end(b1), expected.begin() + 34);
  expected[34 + 2 + 31] = 0x81;
  EXPECT_EQ(MustQuantize(DType::kQ8_0, x, 96), expected);

  const std::vector<float> back = MustDequantize(DType::kQ8_0, expected, 96);
  EXPECT_EQ(back[3], -3.0f);
  EXPECT_EQ(back[33], 1.5f);
  EXPECT_EQ(back[63], -63.5f);
  EXPECT_EQ(back[80], 0.0f);
}

TEST(QuantizeGoldenTest, Q4_0) {
  std::vector<float> x(96, 0.0f);
  // Block 0: extreme -8 (first of the two magnitude-8 values) -> d = -8 / -8 = 1 (f16 0x3C00),
  // id = 1, nibble = min(15, trunc(x + 8.5)).
  x[0] = -8.0f;    // 0.5  -> 0
  x[1] = 7.0f;     // 15.5 -> 15
  x[2] = 0.0f;     // 8
  x[3] = 0.49f;    // 8.99 -> 8
  x[4] = 0.5f;     // 9
  x[5] = -0.51f;   // 7.99 -> 7
  x[6] = -3.2f;    // 5.3  -> 5
  x[16] = 8.0f;    // 16.5 -> 16 -> clamped to 15; not the extreme (strict > on ties)
  x[17] = -1.0f;   // 7.5  -> 7
  x[18] = 2.5f;    // 11
  // Block 1: extreme +4 (the -4 after it ties and loses) -> d = -0.5 (f16 0xB800), id = -2.
  x[32] = 4.0f;    // -8 + 8.5 = 0.5 -> 0
  x[33] = -4.0f;   // 16.5 -> 15
  x[34] = 1.0f;    // 6.5 -> 6
  x[48] = -1.3f;   // 11.1 -> 11
  x[49] = 0.3f;    // 7.9 -> 7
  // Block 2: all zero -> d = 0 / -8 = -0.0 (f16 0x8000: ggml stores a negative zero here),
  // id = 0, every nibble trunc(8.5) = 8.
  // Byte j holds element j (low nibble) and element j + 16 (high nibble).
  std::vector<std::uint8_t> expected(3 * 18, 0x88);
  const std::uint8_t b0[] = {0x00, 0x3C, 0xF0, 0x7F, 0xB8, 0x88, 0x89, 0x87, 0x85};
  std::copy(std::begin(b0), std::end(b0), expected.begin());
  const std::uint8_t b1[] = {0x00, 0xB8, 0xB0, 0x7F, 0x86};
  std::copy(std::begin(b1), std::end(b1), expected.begin() + 18);
  expected[36] = 0x00;
  expected[37] = 0x80;
  EXPECT_EQ(MustQuantize(DType::kQ4_0, x, 96), expected);

  const std::vector<float> back = MustDequantize(DType::kQ4_0, expected, 96);
  EXPECT_EQ(back[0], -8.0f);
  EXPECT_EQ(back[16], 7.0f);   // clamped
  EXPECT_EQ(back[33], -3.5f);  // (15 - 8) * -0.5
  EXPECT_EQ(back[48], -1.5f);  // (11 - 8) * -0.5
  EXPECT_EQ(back[70], 0.0f);
}

TEST(QuantizeGoldenTest, F16AndBf16LittleEndian) {
  const std::vector<float> x = {1.0f, -2.0f, 0.5f};
  EXPECT_EQ(MustQuantize(DType::kF16, x, 3),
            (std::vector<std::uint8_t>{0x00, 0x3C, 0x00, 0xC0, 0x00, 0x38}));
  EXPECT_EQ(MustQuantize(DType::kBF16, x, 3),
            (std::vector<std::uint8_t>{0x80, 0x3F, 0x00, 0xC0, 0x00, 0x3F}));
  EXPECT_EQ(MustQuantize(DType::kF32, x, 1),
            (std::vector<std::uint8_t>{0, 0, 0x80, 0x3F, 0, 0, 0, 0xC0, 0, 0, 0, 0x3F}));
}

// ---- Round-trip error budgets. ----

class BlockedRoundTripTest : public ::testing::TestWithParam<int> {};

TEST_P(BlockedRoundTripTest, Q8_0WithinHalfScale) {
  const int n = GetParam();
  const std::vector<float> x = RandomFloats(static_cast<std::size_t>(n) * 3, 100 + n, 2.0f);
  const std::vector<float> y =
      MustDequantize(DType::kQ8_0, MustQuantize(DType::kQ8_0, x, n), x.size());
  for (std::size_t b = 0; b < x.size() / 32; ++b) {
    float amax = 0.0f;
    for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[b * 32 + j]));
    const double d = amax / 127.0;
    for (int j = 0; j < 32; ++j) {
      const std::size_t i = b * 32 + j;
      ASSERT_LE(std::fabs(static_cast<double>(y[i]) - x[i]), kQ8_0ErrPerScale * d) << i;
    }
  }
}

TEST_P(BlockedRoundTripTest, Q4_0WithinHalfScale) {
  const int n = GetParam();
  const std::vector<float> x = RandomFloats(static_cast<std::size_t>(n) * 3, 200 + n, 2.0f);
  const std::vector<float> y =
      MustDequantize(DType::kQ4_0, MustQuantize(DType::kQ4_0, x, n), x.size());
  int clamped = 0;
  for (std::size_t b = 0; b < x.size() / 32; ++b) {
    float amax = 0.0f;
    float extreme = 0.0f;
    for (int j = 0; j < 32; ++j) {
      if (amax < std::fabs(x[b * 32 + j])) {
        amax = std::fabs(x[b * 32 + j]);
        extreme = x[b * 32 + j];
      }
    }
    const double d = extreme / -8.0;
    for (int j = 0; j < 32; ++j) {
      const std::size_t i = b * 32 + j;
      const bool clamps = x[i] / d >= 7.5;
      clamped += clamps;
      const double budget = (clamps ? kQ4_0ClampedErrPerScale : kQ4_0ErrPerScale) * std::fabs(d);
      ASSERT_LE(std::fabs(static_cast<double>(y[i]) - x[i]), budget) << i;
    }
    // The extreme itself is exact up to the f16 rounding of d: it maps to nibble 0 -> -8 * d.
  }
  (void)clamped;
}

INSTANTIATE_TEST_SUITE_P(Sizes, BlockedRoundTripTest, ::testing::Values(32, 64, 96, 352, 4096));

class FloatRoundTripTest : public ::testing::TestWithParam<int> {};

TEST_P(FloatRoundTripTest, F16AndBf16WithinBudget) {
  const int n = GetParam();
  std::vector<float> x = RandomFloats(static_cast<std::size_t>(n) * 2, 300 + n, 100.0f);
  x[0] = 1e-6f;  // subnormal half range
  const std::vector<float> h = MustDequantize(DType::kF16, MustQuantize(DType::kF16, x, n), x.size());
  const std::vector<float> b =
      MustDequantize(DType::kBF16, MustQuantize(DType::kBF16, x, n), x.size());
  const std::vector<float> f = MustDequantize(DType::kF32, MustQuantize(DType::kF32, x, n), x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double ax = std::fabs(x[i]);
    ASSERT_LE(std::fabs(static_cast<double>(h[i]) - x[i]), std::max(kF16RelErr * ax, kF16AbsErr));
    ASSERT_LE(std::fabs(static_cast<double>(b[i]) - x[i]), kBf16RelErr * ax);
    ASSERT_EQ(f[i], x[i]);
  }
}

INSTANTIATE_TEST_SUITE_P(Sizes, FloatRoundTripTest,
                         ::testing::Values(1, 7, 32, 33, 64, 96, 352, 1000, 4096));

TEST(QuantizeTest, RowHelpersAcceptUnalignedBytes) {
  const std::vector<float> x = RandomFloats(64, 7);
  std::vector<std::uint8_t> aligned(68);
  std::vector<std::uint8_t> shifted(69);
  QuantizeRowQ8_0(x.data(), aligned.data(), 64);
  QuantizeRowQ8_0(x.data(), shifted.data() + 1, 64);
  EXPECT_TRUE(std::equal(aligned.begin(), aligned.end(), shifted.begin() + 1));
  std::vector<float> y(64);
  DequantizeRowQ8_0(shifted.data() + 1, y.data(), 64);
  std::vector<float> z(64);
  DequantizeRowQ8_0(aligned.data(), z.data(), 64);
  EXPECT_EQ(y, z);
}

TEST(QuantizeTest, NonFiniteInputsDoNotCrash) {
  std::vector<float> x(32, 1.0f);
  x[3] = std::nanf("");
  x[4] = INFINITY;
  std::vector<std::uint8_t> q8(34);
  std::vector<std::uint8_t> q4(18);
  EXPECT_TRUE(Quantize(DType::kQ8_0, x, 32, q8).ok());
  EXPECT_TRUE(Quantize(DType::kQ4_0, x, 32, q4).ok());
}

// ---- Refusals. ----

TEST(QuantizeTest, RefusesWidthNotMultipleOfBlock) {
  const std::vector<float> x(33, 1.0f);
  std::vector<std::uint8_t> dst(34);
  const Status s = Quantize(DType::kQ8_0, x, 33, dst);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("33"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("32"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("q8_0"), std::string::npos) << s.message();
  EXPECT_EQ(Quantize(DType::kQ4_0, x, 33, dst).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Quantize(DType::kQ4_0, x, 0, dst).code(), StatusCode::kInvalidArgument);
}

TEST(QuantizeTest, RefusesUnsupportedTypes) {
  const std::vector<float> x(256, 1.0f);
  std::vector<std::uint8_t> dst(1024);
  for (DType t : {DType::kIQ2_XXS, DType::kIQ3_S, DType::kIQ1_M, DType::kI8, DType::kF64}) {
    const Status s = Quantize(t, x, 256, dst);
    EXPECT_EQ(s.code(), StatusCode::kUnsupported) << TypeName(t);
    EXPECT_NE(s.message().find(std::string(TypeName(t))), std::string::npos) << s.message();
    std::vector<float> out(256);
    EXPECT_EQ(Dequantize(t, dst, out).code(), StatusCode::kUnsupported);
  }
}

TEST(QuantizeTest, RefusesWrongBufferSizes) {
  const std::vector<float> x(64, 1.0f);
  std::vector<std::uint8_t> small(67);
  std::vector<std::uint8_t> big(69);
  EXPECT_EQ(Quantize(DType::kQ8_0, x, 64, small).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Quantize(DType::kQ8_0, x, 64, big).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Quantize(DType::kQ8_0, x, 96, big).code(), StatusCode::kInvalidArgument);  // 64 % 96
  std::vector<float> out(64);
  EXPECT_EQ(Dequantize(DType::kQ8_0, small, out).code(), StatusCode::kInvalidArgument);
  std::vector<float> odd(33);
  EXPECT_EQ(Dequantize(DType::kQ4_0, small, odd).code(), StatusCode::kInvalidArgument);
  std::vector<std::uint8_t> exact(68);
  EXPECT_TRUE(Quantize(DType::kQ8_0, x, 32, exact).ok());  // two rows of 32
}

}  // namespace
}  // namespace tessera::tensor
