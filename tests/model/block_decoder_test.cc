// The naive reference's own block decoder (block_decoder.h): hand-computed blocks, and agreement
// with the engine's decoders (tensor/quantize.h) on real quantized rows. The two were written
// apart, so agreement means both read the layout the same way.
#include "block_decoder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "tensor/quantize.h"
#include "tensor/types.h"

namespace tessera::model::testing {
namespace {

TEST(BlockDecoderTest, HandMadeQ4_0AndQ8_0Blocks) {
  // Q4_0: d = 0.5 (f16 0x3800); byte i = (i + 1) << 4 | i: element i = (i - 8) * 0.5, element
  // i + 16 = ((i + 1) % 16 - 8) * 0.5.
  std::vector<std::uint8_t> q4 = {0x00, 0x38};
  for (int i = 0; i < 16; ++i) q4.push_back(static_cast<std::uint8_t>((((i + 1) & 15) << 4) | i));
  auto y = DecodeBlocks(2, q4, 32);
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  for (int i = 0; i < 16; ++i) {
    EXPECT_EQ((*y)[i], (i - 8) * 0.5);
    EXPECT_EQ((*y)[i + 16], (((i + 1) & 15) - 8) * 0.5);
  }
  // Q8_0: d = -2 (f16 0xC000), values -16..15.
  std::vector<std::uint8_t> q8 = {0x00, 0xC0};
  for (int i = 0; i < 32; ++i)
    q8.push_back(static_cast<std::uint8_t>(static_cast<std::int8_t>(i - 16)));
  y = DecodeBlocks(8, q8, 32);
  ASSERT_TRUE(y.ok());
  for (int i = 0; i < 32; ++i) EXPECT_EQ((*y)[i], -2.0 * (i - 16));
}

TEST(BlockDecoderTest, AgreesWithTheEngineOnEveryTypeItDecodes) {
  std::mt19937 rng(20261207);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const std::int64_t n = 4 * 256;
  std::vector<float> x(n);
  for (float& v : x) v = normal(rng);
  x[7] = 9.0f;  // an outlier in the first block
  for (tensor::DType type :
       {tensor::DType::kF32, tensor::DType::kF16, tensor::DType::kBF16, tensor::DType::kQ4_0,
        tensor::DType::kQ4_1, tensor::DType::kQ5_0, tensor::DType::kQ5_1, tensor::DType::kQ8_0,
        tensor::DType::kQ4_K, tensor::DType::kQ5_K, tensor::DType::kQ6_K, tensor::DType::kQ2_K,
        tensor::DType::kQ3_K, tensor::DType::kIQ4_NL, tensor::DType::kIQ4_XS}) {
    SCOPED_TRACE(static_cast<int>(type));
    const tensor::TypeTraits& traits = tensor::Traits(type);
    std::vector<std::uint8_t> bytes(n / traits.block_size * traits.type_size);
    ASSERT_TRUE(tensor::Quantize(type, x, n, bytes).ok());
    std::vector<float> engine(n);
    ASSERT_TRUE(tensor::Dequantize(type, bytes, engine).ok());
    auto ours = DecodeBlocks(static_cast<std::uint32_t>(type), bytes, n);
    ASSERT_TRUE(ours.ok()) << ours.status().ToString();
    int differ = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      // The engine decodes in float: equal up to float rounding of the products.
      if (std::fabs((*ours)[i] - engine[i]) > 1e-6 * (1.0 + std::fabs(engine[i]))) ++differ;
    }
    EXPECT_EQ(differ, 0);
  }
}

TEST(BlockDecoderTest, RefusesWhatItDoesNotDecode) {
  std::vector<std::uint8_t> bytes(110);
  EXPECT_EQ(DecodeBlocks(16, bytes, 256).status().code(), StatusCode::kUnsupported);  // iq2_xxs
  EXPECT_EQ(DecodeBlocks(2, bytes, 31).status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(DecodeBlocks(2, std::vector<std::uint8_t>(17), 32).status().code(),
            StatusCode::kOutOfRange);
}

}  // namespace
}  // namespace tessera::model::testing
