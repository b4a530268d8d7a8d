// Tests of the per-type tables and MatMul (kernels/kernels.h): vec_dot of every type against a
// double-precision dot of the dequantized weights with the float activation, under a named error
// budget per type, and MatMul against a naive loop.
#include "kernels/kernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "tensor/quantize.h"
#include "tensor/types.h"

namespace tessera::kernels {
namespace {

using tensor::DType;

// ---- Error budgets of vec_dot(w, convert(x)) against sum_i w_i * x_i in double, where w is the
// dequantized weight row (exact in float) and x the float activation. S = sum_i |w_i * x_i|.
// F32: products rounded to float (2^-24 each), summed in double, one final float rounding.
constexpr double kF32DotRel = 4.0 / (1 << 24);
// F16: the activation is rounded to f16 (relative 2^-11), plus the float product rounding.
constexpr double kF16DotRel = 1.0 / 2048 + 4.0 / (1 << 24);
// BF16: the activation is rounded to bf16 (relative 2^-8), plus the float product rounding.
constexpr double kBf16DotRel = 1.0 / 256 + 4.0 / (1 << 24);
// Q8_0 / Q4_0 weights take a Q8_0 activation: each x_i moves by at most
// kQ8_0ActErrPerScale * d_x(block) (round to nearest: 1/2, f16 scale: 127 * 2^-11), so the dot
// moves by at most sum_i |w_i| * that. Block results are accumulated in float: each of the
// n / 32 additions rounds by 2^-24 of a partial sum bounded by S (+ the above), hence
// kBlockAccumRel per block.
constexpr double kQ8_0ActErrPerScale = 0.5 + 127.0 / 2048 + 1e-5;
constexpr double kBlockAccumRel = 2.0 / (1 << 24);

std::vector<float> RandomFloats(std::size_t n, std::uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
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

// The budget of vec_dot for weight row w (dequantized) and activation x, as described above.
double DotBudget(DType type, const float* w, const float* x, std::int64_t n) {
  double s = 0.0;
  double act = 0.0;
  for (std::int64_t i = 0; i < n; ++i) s += std::fabs(static_cast<double>(w[i]) * x[i]);
  switch (type) {
    case DType::kF32: return kF32DotRel * s + 1e-30;
    case DType::kF16: return kF16DotRel * s + 1e-30;
    case DType::kBF16: return kBf16DotRel * s + 1e-30;
    default: break;
  }
  for (std::int64_t b = 0; b < n / 32; ++b) {
    float amax = 0.0f;
    for (int j = 0; j < 32; ++j) amax = std::fmax(amax, std::fabs(x[b * 32 + j]));
    const double dx = amax / 127.0;
    for (int j = 0; j < 32; ++j) act += std::fabs(w[b * 32 + j]) * kQ8_0ActErrPerScale * dx;
  }
  return act + (static_cast<double>(n / 32) + 1) * kBlockAccumRel * (s + act) + 1e-30;
}

struct Case {
  DType type;
  std::int64_t n;
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << tensor::TypeName(c.type) << " n=" << c.n;
}

std::string CaseName(const ::testing::TestParamInfo<Case>& info) {
  return std::string(tensor::TypeName(info.param.type)) + "_" + std::to_string(info.param.n);
}

std::vector<Case> AllCases() {
  std::vector<Case> cases;
  for (DType t : {DType::kF32, DType::kF16, DType::kBF16, DType::kQ8_0, DType::kQ4_0}) {
    for (std::int64_t n : {1, 7, 32, 33, 64, 96, 352, 1000, 4096}) {
      if (n % tensor::BlockSize(t) == 0) cases.push_back({t, n});
    }
  }
  return cases;
}

class VecDotTest : public ::testing::TestWithParam<Case> {};

TEST_P(VecDotTest, MatchesDoubleDotWithinBudget) {
  const auto [type, n] = GetParam();
  const TypeKernels* k = ReferenceKernels(type);
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->type, type);
  const int kRows = 5;
  const std::vector<float> w_src = RandomFloats(static_cast<std::size_t>(n) * kRows, 11 + n);
  const std::vector<std::uint8_t> w_q = QuantizeOrDie(type, w_src, n);
  const std::vector<float> w = Dequantized(type, w_q, w_src.size());
  const std::vector<float> x = RandomFloats(static_cast<std::size_t>(n), 17 + n, 3.0f);
  std::vector<std::uint8_t> x_conv(ActivationBytes(type, n));
  ASSERT_GT(x_conv.size(), 0u);
  k->act_from_float(x.data(), x_conv.data(), n);
  const std::size_t row_bytes = w_q.size() / kRows;
  for (int r = 0; r < kRows; ++r) {
    const float* wr = w.data() + r * n;
    double exact = 0.0;
    for (std::int64_t i = 0; i < n; ++i) exact += static_cast<double>(wr[i]) * x[i];
    const float got = k->vec_dot(n, w_q.data() + r * row_bytes, x_conv.data());
    EXPECT_LE(std::fabs(got - exact), DotBudget(type, wr, x.data(), n))
        << "row " << r << " got " << got << " want " << exact;
  }
}

// The dot is exact with respect to the converted activation: against the double dot of the
// dequantized weights and the dequantized activation, only float accumulation error remains.
TEST_P(VecDotTest, MatchesDequantizedOperands) {
  const auto [type, n] = GetParam();
  const TypeKernels* k = ReferenceKernels(type);
  const std::vector<float> w_src = RandomFloats(static_cast<std::size_t>(n), 23 + n);
  const std::vector<std::uint8_t> w_q = QuantizeOrDie(type, w_src, n);
  const std::vector<float> w = Dequantized(type, w_q, w_src.size());
  const std::vector<float> x = RandomFloats(static_cast<std::size_t>(n), 29 + n);
  std::vector<std::uint8_t> x_conv(ActivationBytes(type, n));
  k->act_from_float(x.data(), x_conv.data(), n);
  const std::vector<float> xq = Dequantized(k->vec_dot_type, x_conv, static_cast<std::size_t>(n));
  double exact = 0.0;
  double s = 0.0;
  for (std::int64_t i = 0; i < n; ++i) {
    exact += static_cast<double>(w[i]) * xq[i];
    s += std::fabs(static_cast<double>(w[i]) * xq[i]);
  }
  const float got = k->vec_dot(n, w_q.data(), x_conv.data());
  EXPECT_LE(std::fabs(got - exact), (static_cast<double>(n) / 32 + 4) * kBlockAccumRel * s + 1e-30);
}

INSTANTIATE_TEST_SUITE_P(AllTypes, VecDotTest, ::testing::ValuesIn(AllCases()), CaseName);

TEST(KernelsTest, TablesAndVecDotTypes) {
  EXPECT_EQ(ReferenceKernels(DType::kF32)->vec_dot_type, DType::kF32);
  EXPECT_EQ(ReferenceKernels(DType::kF16)->vec_dot_type, DType::kF16);
  EXPECT_EQ(ReferenceKernels(DType::kBF16)->vec_dot_type, DType::kBF16);
  EXPECT_EQ(ReferenceKernels(DType::kQ8_0)->vec_dot_type, DType::kQ8_0);
  EXPECT_EQ(ReferenceKernels(DType::kQ4_0)->vec_dot_type, DType::kQ8_0);
  EXPECT_EQ(ReferenceKernels(DType::kQ2_K)->vec_dot_type, DType::kQ8_K);
  EXPECT_EQ(ReferenceKernels(DType::kIQ4_NL)->vec_dot_type, DType::kQ8_0);
  EXPECT_EQ(ReferenceKernels(DType::kIQ4_XS)->vec_dot_type, DType::kQ8_K);
  EXPECT_EQ(ReferenceKernels(DType::kIQ2_XXS), nullptr);
  EXPECT_EQ(Kernels(DType::kIQ3_S), nullptr);
  for (DType t : {DType::kF32, DType::kF16, DType::kBF16, DType::kQ8_0, DType::kQ4_0}) {
    ASSERT_NE(Kernels(t), nullptr);
    EXPECT_EQ(Kernels(t)->type, t);
  }
  EXPECT_EQ(ActivationBytes(DType::kQ4_0, 288), 9u * 34);
  EXPECT_EQ(ActivationBytes(DType::kF16, 7), 14u);
  EXPECT_EQ(ActivationBytes(DType::kF32, 7), 28u);
  EXPECT_EQ(ActivationBytes(DType::kQ8_0, 33), 0u);
  EXPECT_EQ(ActivationBytes(DType::kQ2_K, 256), 292u);
  EXPECT_EQ(ActivationBytes(DType::kIQ2_XXS, 256), 0u);
  EXPECT_EQ(MatMulScratchBytes(DType::kQ4_1, 288, 3), 3u * 9 * 36 / 64 * 64 + 64);  // to 64
  // Q4_0 (Q8_0 activations: 918 bytes, to 960) adds 64 bytes of alignment slack and 27 block
  // summaries of 8 bytes (216, to 256).
  EXPECT_EQ(MatMulScratchBytes(DType::kQ4_0, 288, 3), 960u + 64 + 256);
}

class MatMulTest : public ::testing::TestWithParam<Case> {};

TEST_P(MatMulTest, MatchesNaiveLoop) {
  const auto [type, n_cols] = GetParam();
  const std::int64_t n_rows = 13;
  const std::vector<float> w_src = RandomFloats(static_cast<std::size_t>(n_rows * n_cols), 31);
  const std::vector<std::uint8_t> w_q = QuantizeOrDie(type, w_src, n_cols);
  const std::vector<float> w = Dequantized(type, w_q, w_src.size());
  Result<WeightMatrix> m = MakeWeightMatrix(type, w_q, n_rows, n_cols);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  // MatMul uses the active table (SIMD where the CPU has it): bit-identical to that table's
  // vec_dot, and within the type's budget of both the reference table and the exact dot.
  const TypeKernels& k = *Kernels(type);
  const TypeKernels& ref = *ReferenceKernels(type);
  for (std::int64_t n_tokens : {1, 3}) {
    const std::vector<float> x = RandomFloats(static_cast<std::size_t>(n_tokens * n_cols), 37);
    std::vector<float> y(static_cast<std::size_t>(n_tokens * n_rows), -1.0f);
    std::vector<std::uint8_t> scratch(MatMulScratchBytes(type, n_cols, n_tokens));
    MatMul(*m, x.data(), n_tokens, y.data(), scratch);
    std::vector<float> y_ref(y.size());
    MatMulWith(ref, *m, x.data(), n_tokens, y_ref.data(), scratch);
    std::vector<std::uint8_t> x_conv(ActivationBytes(type, n_cols));
    for (std::int64_t t = 0; t < n_tokens; ++t) {
      const float* xt = x.data() + t * n_cols;
      k.act_from_float(xt, x_conv.data(), n_cols);
      for (std::int64_t r = 0; r < n_rows; ++r) {
        const float got = y[static_cast<std::size_t>(t * n_rows + r)];
        // Bit-identical to one vec_dot call on the same operands...
        ASSERT_EQ(got, k.vec_dot(n_cols, w_q.data() + r * m->row_bytes, x_conv.data()));
        // ...and within the type's budget of the reference and of the naive double loop.
        const float* wr = w.data() + r * n_cols;
        ASSERT_LE(std::fabs(got - y_ref[static_cast<std::size_t>(t * n_rows + r)]),
                  DotBudget(type, wr, xt, n_cols))
            << "token " << t << " row " << r << " vs reference";
        double exact = 0.0;
        for (std::int64_t c = 0; c < n_cols; ++c) exact += static_cast<double>(wr[c]) * xt[c];
        ASSERT_LE(std::fabs(got - exact), DotBudget(type, wr, xt, n_cols))
            << "token " << t << " row " << r;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllTypes, MatMulTest, ::testing::ValuesIn(AllCases()), CaseName);

TEST(MatMulTest, UnalignedWeightsGiveTheSameResult) {
  const std::int64_t n = 64;
  const std::vector<float> w_src = RandomFloats(2 * n, 41);
  for (DType t : {DType::kF32, DType::kF16, DType::kQ8_0, DType::kQ4_0}) {
    const std::vector<std::uint8_t> w_q = QuantizeOrDie(t, w_src, n);
    std::vector<std::uint8_t> shifted(w_q.size() + 1);
    std::copy(w_q.begin(), w_q.end(), shifted.begin() + 1);
    Result<WeightMatrix> a = MakeWeightMatrix(t, w_q, 2, n);
    Result<WeightMatrix> b =
        MakeWeightMatrix(t, std::span<const std::uint8_t>(shifted).subspan(1), 2, n);
    ASSERT_TRUE(a.ok() && b.ok());
    const std::vector<float> x = RandomFloats(n, 43);
    std::vector<std::uint8_t> scratch(MatMulScratchBytes(t, n, 1) + 1);
    float ya[2];
    float yb[2];
    MatMul(*a, x.data(), 1, ya, scratch);
    MatMul(*b, x.data(), 1, yb, std::span<std::uint8_t>(scratch).subspan(1));
    EXPECT_EQ(ya[0], yb[0]);
    EXPECT_EQ(ya[1], yb[1]);
  }
}

TEST(MakeWeightMatrixTest, Refusals) {
  std::vector<std::uint8_t> data(34 * 4);
  Result<WeightMatrix> odd = MakeWeightMatrix(DType::kQ8_0, data, 1, 33);
  ASSERT_FALSE(odd.ok());
  EXPECT_EQ(odd.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(odd.status().message().find("33"), std::string::npos);
  EXPECT_NE(odd.status().message().find("32"), std::string::npos);
  Result<WeightMatrix> unsupported = MakeWeightMatrix(DType::kIQ3_S, data, 1, 256);
  ASSERT_FALSE(unsupported.ok());
  EXPECT_EQ(unsupported.status().code(), StatusCode::kUnsupported);
  Result<WeightMatrix> short_data = MakeWeightMatrix(DType::kQ8_0, data, 5, 32);
  ASSERT_FALSE(short_data.ok());
  EXPECT_EQ(short_data.status().code(), StatusCode::kTruncated);
  EXPECT_EQ(MakeWeightMatrix(DType::kQ8_0, data, 0, 32).status().code(),
            StatusCode::kInvalidArgument);
  Result<WeightMatrix> ok = MakeWeightMatrix(DType::kQ8_0, data, 4, 32);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->row_bytes, 34u);
  // A row count whose byte size would overflow is refused, not wrapped.
  EXPECT_EQ(MakeWeightMatrix(DType::kF32, data, INT64_MAX / 2, 64).status().code(),
            StatusCode::kTruncated);
}

TEST(GetRowTest, EveryTypeMatchesDequantize) {
  const std::int64_t n = 96;
  const std::vector<float> src = RandomFloats(4 * n, 47);
  for (DType t : {DType::kF32, DType::kF16, DType::kBF16, DType::kQ8_0, DType::kQ4_0}) {
    const std::vector<std::uint8_t> q = QuantizeOrDie(t, src, n);
    const std::vector<float> all = Dequantized(t, q, src.size());
    Result<WeightMatrix> m = MakeWeightMatrix(t, q, 4, n);
    ASSERT_TRUE(m.ok());
    std::vector<float> row(n);
    ASSERT_TRUE(GetRow(*m, 2, row).ok());
    EXPECT_EQ(row, std::vector<float>(all.begin() + 2 * n, all.begin() + 3 * n));
    const Status past = GetRow(*m, 4, row);
    EXPECT_EQ(past.code(), StatusCode::kOutOfRange);
    EXPECT_NE(past.message().find("4"), std::string::npos);
    EXPECT_EQ(GetRow(*m, -1, row).code(), StatusCode::kOutOfRange);
    std::vector<float> small(n - 1);
    EXPECT_EQ(GetRow(*m, 0, small).code(), StatusCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace tessera::kernels
