// Tests of the reference kernels of Q4_1, Q5_0, Q5_1 and the K-quants Q4_K, Q5_K, Q6_K
// (kernels/kernels.h): vec_dot against double dots under named error budgets, MatMul through
// the tables, and the refusal of widths that are not a multiple of the block size.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "tensor/fp16.h"
#include "tensor/quantize.h"
#include "tensor/types.h"

namespace tessera::kernels {
namespace {

using tensor::DType;

// ---- Error budgets.
// (a) Against the double dot of the dequantized weights and the DEQUANTIZED activation, only
// float rounding remains: per-block float scale products and the float accumulation of the
// block results (about (n / block + 4) roundings of 2^-24 of partial sums bounded by S =
// sum |w_i a_i|), and for the K-quants the two float roundings of each dequantized element
// (d * sc * q - dmin * mn); kOperandRel covers all of them for these sizes.
constexpr double kOperandRel = 64.0 / (1 << 24);
// Q4_1 / Q5_1 take the activation's block sum from its f16 field s = f16(d_x * sum q_x): the
// weight's offset m then meets s with relative error 2^-11, i.e. |m| * |s| / 2048 per block.
constexpr double kQ8_1SumRel = 1.0 / 2048;
// (b) Against the double dot with the FLOAT activation, the activation's own quantization adds:
// Q8_0 / Q8_1 (f16 scale amax / 127): half a step plus f16 storage of d (127 * 2^-11 steps);
// Q8_K (float scale amax / 127): half a step.
constexpr double kQ8_0ActErrPerStep = 0.5 + 127.0 / 2048 + 1e-5;
constexpr double kQ8_KActErrPerStep = 0.5 + 1e-5;

std::vector<float> RandomFloats(std::size_t n, std::uint32_t seed, float scale = 1.0f,
                                float offset = 0.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(offset, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

std::vector<std::uint8_t> QuantizeOrDie(DType type, const std::vector<float>& x, std::int64_t n) {
  std::vector<std::uint8_t> out(x.size() / static_cast<std::size_t>(n) *
                                tensor::RowBytes(type, static_cast<std::uint64_t>(n)).value());
  const Status s = tensor::Quantize(type, x, n, out);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

std::vector<float> Dequantized(DType type, const std::vector<std::uint8_t>& q, std::size_t n) {
  std::vector<float> out(n);
  const Status s = tensor::Dequantize(type, q, out);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

// The f16 offset m of block b of a Q4_1 / Q5_1 row (bytes 2..3), and s of a Q8_1 block.
float HalfAt(const std::uint8_t* p) {
  std::uint16_t h;
  std::memcpy(&h, p, 2);
  return tensor::HalfToFloat(h);
}

double OffsetTermBudget(DType type, const std::uint8_t* w_row, const std::uint8_t* act,
                        std::int64_t n) {
  if (type != DType::kQ4_1 && type != DType::kQ5_1) return 0.0;
  const std::size_t w_bytes = tensor::TypeSize(type);
  double budget = 0.0;
  for (std::int64_t b = 0; b < n / 32; ++b) {
    budget += std::fabs(HalfAt(w_row + b * w_bytes + 2)) * std::fabs(HalfAt(act + b * 36 + 2)) *
              kQ8_1SumRel;
  }
  return budget;
}

struct Case {
  DType type;
  std::int64_t n;
};

void PrintTo(const Case& c, std::ostream* os) { *os << tensor::TypeName(c.type) << " n=" << c.n; }

std::string CaseName(const ::testing::TestParamInfo<Case>& info) {
  return std::string(tensor::TypeName(info.param.type)) + "_" + std::to_string(info.param.n);
}

std::vector<Case> AllCases() {
  std::vector<Case> cases;
  for (DType t : {DType::kQ4_1, DType::kQ5_0, DType::kQ5_1, DType::kIQ4_NL}) {
    for (std::int64_t n : {32, 64, 96, 352, 4096}) cases.push_back({t, n});
  }
  for (DType t : {DType::kQ2_K, DType::kQ3_K, DType::kQ4_K, DType::kQ5_K, DType::kQ6_K,
                  DType::kIQ4_XS}) {
    for (std::int64_t n : {256, 512, 768, 4096}) cases.push_back({t, n});
  }
  return cases;
}

class QuantVecDotTest : public ::testing::TestWithParam<Case> {};

TEST_P(QuantVecDotTest, MatchesDequantizedOperands) {
  const auto [type, n] = GetParam();
  const TypeKernels* k = ReferenceKernels(type);
  ASSERT_NE(k, nullptr);
  const int kRows = 4;
  // Offset weights so that the mins / offsets of the asymmetric types matter.
  const std::vector<float> w_src =
      RandomFloats(static_cast<std::size_t>(n) * kRows, 3 + n, 1.0f, 0.5f);
  const std::vector<std::uint8_t> w_q = QuantizeOrDie(type, w_src, n);
  const std::vector<float> w = Dequantized(type, w_q, w_src.size());
  const std::vector<float> x = RandomFloats(static_cast<std::size_t>(n), 5 + n, 2.0f, 0.3f);
  std::vector<std::uint8_t> x_conv(ActivationBytes(type, n));
  ASSERT_GT(x_conv.size(), 0u);
  k->act_from_float(x.data(), x_conv.data(), n);
  const std::vector<float> xq = Dequantized(k->vec_dot_type, x_conv, static_cast<std::size_t>(n));
  const std::size_t row_bytes = w_q.size() / kRows;
  for (int r = 0; r < kRows; ++r) {
    const float* wr = w.data() + r * n;
    double exact = 0.0, s = 0.0;
    for (std::int64_t i = 0; i < n; ++i) {
      exact += static_cast<double>(wr[i]) * xq[i];
      s += std::fabs(static_cast<double>(wr[i]) * xq[i]);
    }
    const std::uint8_t* w_row = w_q.data() + r * row_bytes;
    const float got = k->vec_dot(n, w_row, x_conv.data());
    const double budget = kOperandRel * s + OffsetTermBudget(type, w_row, x_conv.data(), n) + 1e-30;
    EXPECT_LE(std::fabs(got - exact), budget) << "row " << r << " got " << got << " want " << exact;
  }
}

TEST_P(QuantVecDotTest, MatchesFloatActivationWithinBudget) {
  const auto [type, n] = GetParam();
  const TypeKernels* k = ReferenceKernels(type);
  ASSERT_NE(k, nullptr);
  const std::vector<float> w_src = RandomFloats(static_cast<std::size_t>(n), 7 + n, 1.0f, 0.2f);
  const std::vector<std::uint8_t> w_q = QuantizeOrDie(type, w_src, n);
  const std::vector<float> w = Dequantized(type, w_q, w_src.size());
  const std::vector<float> x = RandomFloats(static_cast<std::size_t>(n), 9 + n, 3.0f);
  std::vector<std::uint8_t> x_conv(ActivationBytes(type, n));
  k->act_from_float(x.data(), x_conv.data(), n);
  double exact = 0.0, s = 0.0, act = 0.0;
  const int act_block = static_cast<int>(tensor::BlockSize(k->vec_dot_type));
  const double per_step = k->vec_dot_type == DType::kQ8_K ? kQ8_KActErrPerStep : kQ8_0ActErrPerStep;
  for (std::int64_t b = 0; b < n / act_block; ++b) {
    float amax = 0.0f;
    for (int j = 0; j < act_block; ++j) amax = std::fmax(amax, std::fabs(x[b * act_block + j]));
    for (int j = 0; j < act_block; ++j) {
      act += std::fabs(w[b * act_block + j]) * per_step * amax / 127.0;
    }
  }
  for (std::int64_t i = 0; i < n; ++i) {
    exact += static_cast<double>(w[i]) * x[i];
    s += std::fabs(static_cast<double>(w[i]) * x[i]);
  }
  const float got = k->vec_dot(n, w_q.data(), x_conv.data());
  const double budget =
      act + kOperandRel * (s + act) + OffsetTermBudget(type, w_q.data(), x_conv.data(), n) + 1e-30;
  EXPECT_LE(std::fabs(got - exact), budget) << "got " << got << " want " << exact;
}

TEST_P(QuantVecDotTest, MatMulAndGetRowUseTheTable) {
  const auto [type, n_cols] = GetParam();
  const std::int64_t n_rows = 5;
  const std::vector<float> w_src = RandomFloats(static_cast<std::size_t>(n_rows * n_cols), 31);
  const std::vector<std::uint8_t> w_q = QuantizeOrDie(type, w_src, n_cols);
  // Shifted by one byte: rows inside a mapped file need not be aligned.
  std::vector<std::uint8_t> shifted(w_q.size() + 1);
  std::copy(w_q.begin(), w_q.end(), shifted.begin() + 1);
  Result<WeightMatrix> m =
      MakeWeightMatrix(type, std::span<const std::uint8_t>(shifted).subspan(1), n_rows, n_cols);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const TypeKernels& k = *ReferenceKernels(type);
  const std::int64_t n_tokens = 3;
  const std::vector<float> x = RandomFloats(static_cast<std::size_t>(n_tokens * n_cols), 37);
  std::vector<float> y(static_cast<std::size_t>(n_tokens * n_rows));
  std::vector<std::uint8_t> scratch(MatMulScratchBytes(type, n_cols, n_tokens));
  MatMulWith(k, *m, x.data(), n_tokens, y.data(), scratch);
  std::vector<std::uint8_t> x_conv(ActivationBytes(type, n_cols));
  for (std::int64_t t = 0; t < n_tokens; ++t) {
    k.act_from_float(x.data() + t * n_cols, x_conv.data(), n_cols);
    for (std::int64_t r = 0; r < n_rows; ++r) {
      ASSERT_EQ(y[static_cast<std::size_t>(t * n_rows + r)],
                k.vec_dot(n_cols, w_q.data() + r * m->row_bytes, x_conv.data()));
    }
  }
  const std::vector<float> w = Dequantized(type, w_q, w_src.size());
  std::vector<float> row(static_cast<std::size_t>(n_cols));
  ASSERT_TRUE(GetRow(*m, n_rows - 1, row).ok());
  EXPECT_TRUE(std::equal(row.begin(), row.end(), w.begin() + (n_rows - 1) * n_cols));
}

INSTANTIATE_TEST_SUITE_P(NewTypes, QuantVecDotTest, ::testing::ValuesIn(AllCases()), CaseName);

TEST(QuantKernelsTest, TablesAndVecDotTypes) {
  struct Want {
    DType type, vec_dot_type;
  };
  for (const Want& want : {Want{DType::kQ4_1, DType::kQ8_1}, Want{DType::kQ5_0, DType::kQ8_0},
                           Want{DType::kQ5_1, DType::kQ8_1}, Want{DType::kQ4_K, DType::kQ8_K},
                           Want{DType::kQ5_K, DType::kQ8_K}, Want{DType::kQ6_K, DType::kQ8_K}}) {
    const TypeKernels* k = ReferenceKernels(want.type);
    ASSERT_NE(k, nullptr) << tensor::TypeName(want.type);
    EXPECT_EQ(k->type, want.type);
    EXPECT_EQ(k->vec_dot_type, want.vec_dot_type) << tensor::TypeName(want.type);
    EXPECT_TRUE(tensor::IsComputeSupported(want.type));
    ASSERT_NE(Kernels(want.type), nullptr);
    EXPECT_EQ(Kernels(want.type)->type, want.type);
  }
  // The activation-only types are not weight types.
  EXPECT_EQ(ReferenceKernels(DType::kQ8_K), nullptr);
  EXPECT_EQ(ReferenceKernels(DType::kQ8_1), nullptr);
  EXPECT_EQ(ActivationBytes(DType::kQ4_K, 512), 2u * 292);
  EXPECT_EQ(ActivationBytes(DType::kQ4_1, 64), 2u * 36);
  EXPECT_EQ(ActivationBytes(DType::kQ5_0, 64), 2u * 34);
}

TEST(QuantKernelsTest, KQuantWidthsMustBeMultiplesOf256) {
  std::vector<std::uint8_t> data(4096);
  for (DType t : {DType::kQ2_K, DType::kQ3_K, DType::kQ4_K, DType::kQ5_K, DType::kQ6_K,
                  DType::kIQ4_XS}) {
    for (std::int64_t n_cols : {128, 288, 32}) {
      Result<WeightMatrix> m = MakeWeightMatrix(t, data, 1, n_cols);
      ASSERT_FALSE(m.ok());
      EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument);
      EXPECT_NE(m.status().message().find(std::to_string(n_cols)), std::string::npos)
          << m.status().message();
      EXPECT_NE(m.status().message().find("256"), std::string::npos) << m.status().message();
    }
    EXPECT_EQ(ActivationBytes(t, 128), 0u);
  }
}

}  // namespace
}  // namespace tessera::kernels
