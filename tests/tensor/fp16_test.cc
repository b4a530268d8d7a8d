// Tests of tensor/fp16.h: exhaustive round trips over all 65536 patterns of each 16-bit format,
// rounding ties to even, overflow, subnormals, infinities and NaNs.
#include "tensor/fp16.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>

namespace tessera::tensor {
namespace {

float Bits(std::uint32_t b) { return std::bit_cast<float>(b); }
bool IsHalfNan(std::uint16_t h) { return (h & 0x7C00u) == 0x7C00u && (h & 0x3FFu) != 0; }

TEST(Fp16Test, EveryHalfRoundTripsThroughFloat) {
  for (std::uint32_t i = 0; i < 65536; ++i) {
    const auto h = static_cast<std::uint16_t>(i);
    const float f = HalfToFloat(h);
    if (IsHalfNan(h)) {
      ASSERT_TRUE(std::isnan(f)) << std::hex << h;
      // NaNs come back quieted (bit 9 set) with their sign and payload.
      ASSERT_EQ(FloatToHalf(f), h | 0x0200u) << std::hex << h;
    } else {
      ASSERT_EQ(FloatToHalf(f), h) << std::hex << h;
    }
  }
}

TEST(Fp16Test, HalfToFloatDecodesByFormula) {
  for (std::uint32_t i = 0; i < 65536; ++i) {
    const auto h = static_cast<std::uint16_t>(i);
    const int sign = (h & 0x8000) ? -1 : 1;
    const int exp = (h >> 10) & 0x1F;
    const int mant = h & 0x3FF;
    if (exp == 0x1F) continue;  // covered above
    const double expected = exp == 0 ? sign * std::ldexp(mant, -24)
                                     : sign * std::ldexp(1024 + mant, exp - 25);
    ASSERT_EQ(static_cast<double>(HalfToFloat(h)), expected) << std::hex << h;
  }
}

TEST(Fp16Test, KnownValues) {
  EXPECT_EQ(FloatToHalf(1.0f), 0x3C00);
  EXPECT_EQ(FloatToHalf(-2.0f), 0xC000);
  EXPECT_EQ(FloatToHalf(0.5f), 0x3800);
  EXPECT_EQ(FloatToHalf(0.0f), 0x0000);
  EXPECT_EQ(FloatToHalf(-0.0f), 0x8000);
  EXPECT_EQ(FloatToHalf(65504.0f), 0x7BFF);  // largest finite half
  EXPECT_EQ(FloatToHalf(std::numeric_limits<float>::infinity()), 0x7C00);
  EXPECT_EQ(FloatToHalf(-std::numeric_limits<float>::infinity()), 0xFC00);
  EXPECT_EQ(FloatToHalf(std::ldexp(1.0f, -14)), 0x0400);  // smallest normal
  EXPECT_EQ(FloatToHalf(std::ldexp(1.0f, -24)), 0x0001);  // smallest subnormal
  EXPECT_EQ(FloatToHalf(Bits(0x00000001)), 0x0000);       // float subnormal -> 0
  EXPECT_EQ(FloatToHalf(Bits(0x80000001)), 0x8000);
}

TEST(Fp16Test, RoundsTiesToEven) {
  // Normal range: ulp of 1.0 is 2^-10.
  EXPECT_EQ(FloatToHalf(1.0f + std::ldexp(1.0f, -11)), 0x3C00);      // tie -> even (down)
  EXPECT_EQ(FloatToHalf(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3C02);  // tie -> even (up)
  EXPECT_EQ(FloatToHalf(std::nextafter(1.0f + std::ldexp(1.0f, -11), 2.0f)), 0x3C01);
  EXPECT_EQ(FloatToHalf(std::nextafter(1.0f + std::ldexp(1.0f, -11), 0.0f)), 0x3C00);
  // Overflow threshold: 65520 is the tie between 65504 and 2^16, which rounds to even (inf).
  EXPECT_EQ(FloatToHalf(65520.0f), 0x7C00);
  EXPECT_EQ(FloatToHalf(std::nextafter(65520.0f, 0.0f)), 0x7BFF);
  EXPECT_EQ(FloatToHalf(-65520.0f), 0xFC00);
  // Subnormal range: ulp 2^-24.
  EXPECT_EQ(FloatToHalf(std::ldexp(1.0f, -25)), 0x0000);      // tie between 0 and 1 -> 0
  EXPECT_EQ(FloatToHalf(std::ldexp(3.0f, -25)), 0x0002);      // tie between 1 and 2 -> 2
  EXPECT_EQ(FloatToHalf(std::ldexp(5.0f, -25)), 0x0002);      // tie between 2 and 3 -> 2
  EXPECT_EQ(FloatToHalf(std::nextafter(std::ldexp(1.0f, -25), 1.0f)), 0x0001);
  EXPECT_EQ(FloatToHalf(-std::ldexp(3.0f, -25)), 0x8002);
  // Carry from the largest subnormal into the smallest normal.
  EXPECT_EQ(FloatToHalf(std::ldexp(1023.5f, -24)), 0x0400);
}

TEST(Fp16Test, NansStayNans) {
  const float qnan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_TRUE(IsHalfNan(FloatToHalf(qnan)));
  EXPECT_EQ(FloatToHalf(qnan) & 0x8000, 0);
  EXPECT_TRUE(IsHalfNan(FloatToHalf(-qnan)));
  EXPECT_EQ(FloatToHalf(-qnan) & 0x8000, 0x8000);
  // A float NaN whose payload lives only in the low 13 bits must not become infinity.
  EXPECT_EQ(FloatToHalf(Bits(0x7F800001)), 0x7E00);
  EXPECT_EQ(FloatToHalf(Bits(0xFF800001)), 0xFE00);
}

// Every float in a random sample converts to the nearest half (ties to even), judged against
// the exact decoded neighbours in double.
TEST(Fp16Test, RandomFloatsRoundToNearest) {
  std::mt19937 rng(1234);
  std::uniform_int_distribution<std::uint32_t> bits_dist;
  for (int i = 0; i < 200000; ++i) {
    std::uint32_t bits = bits_dist(rng);
    // Bias towards the half range: exponents around [-26, 16].
    bits = (bits & 0x807FFFFFu) | ((100u + (bits >> 23) % 44u) << 23);
    const float f = Bits(bits);
    const std::uint16_t h = FloatToHalf(f);
    const double err = std::fabs(static_cast<double>(HalfToFloat(h)) - f);
    if ((h & 0x7FFFu) == 0x7C00u) {  // infinity: only for |f| >= 65520
      ASSERT_GE(std::fabs(f), 65520.0f);
      continue;
    }
    for (int delta : {-1, 1}) {
      const auto other = static_cast<std::uint16_t>(h + delta);
      if ((h & 0x7FFFu) == 0 && delta == -1) continue;  // no smaller magnitude
      if ((other & 0x7C00u) == 0x7C00u) continue;
      const double other_err = std::fabs(static_cast<double>(HalfToFloat(other)) - f);
      ASSERT_LE(err, other_err) << std::hex << bits;
      if (err == other_err) {
        ASSERT_EQ(h & 1, 0) << "tie not to even: " << std::hex << bits;
      }
    }
  }
}

TEST(Bf16Test, EveryBf16RoundTripsThroughFloat) {
  for (std::uint32_t i = 0; i < 65536; ++i) {
    const auto b = static_cast<std::uint16_t>(i);
    const float f = Bf16ToFloat(b);
    ASSERT_EQ(std::bit_cast<std::uint32_t>(f), i << 16);
    const bool is_nan = (b & 0x7F80u) == 0x7F80u && (b & 0x7Fu) != 0;
    ASSERT_EQ(FloatToBf16(f), is_nan ? (b | 0x40u) : b) << std::hex << b;
  }
}

TEST(Bf16Test, RoundsTiesToEvenAndKeepsSubnormals) {
  EXPECT_EQ(FloatToBf16(1.0f), 0x3F80);
  EXPECT_EQ(FloatToBf16(Bits(0x3F808000)), 0x3F80);  // tie -> even (down)
  EXPECT_EQ(FloatToBf16(Bits(0x3F818000)), 0x3F82);  // tie -> even (up)
  EXPECT_EQ(FloatToBf16(Bits(0x3F808001)), 0x3F81);  // above the tie
  EXPECT_EQ(FloatToBf16(Bits(0x3F807FFF)), 0x3F80);  // below the tie
  EXPECT_EQ(FloatToBf16(Bits(0x7F7FFFFF)), 0x7F80);  // FLT_MAX rounds to infinity
  EXPECT_EQ(FloatToBf16(Bits(0x00010000)), 0x0001);  // subnormal kept
  EXPECT_EQ(FloatToBf16(Bits(0x80018000)), 0x8002);  // negative subnormal tie -> even
  EXPECT_EQ(FloatToBf16(std::numeric_limits<float>::infinity()), 0x7F80);
  EXPECT_EQ(FloatToBf16(-0.0f), 0x8000);
}

TEST(Bf16Test, NansArePreservedAndQuieted) {
  EXPECT_EQ(FloatToBf16(Bits(0x7F800001)), 0x7FC0);  // payload below bf16 precision
  EXPECT_EQ(FloatToBf16(Bits(0xFF800001)), 0xFFC0);  // sign kept
  EXPECT_EQ(FloatToBf16(Bits(0x7FFFFFFF)), 0x7FFF);  // no rounding carry into the sign
  EXPECT_EQ(FloatToBf16(Bits(0x7FA50000)), 0x7FE5);  // payload kept, quiet bit set
}

}  // namespace
}  // namespace tessera::tensor
