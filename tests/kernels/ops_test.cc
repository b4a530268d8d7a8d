// Tests of the float operations of kernels/kernels.h against direct formulas in double.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <ostream>
#include <random>
#include <vector>

#include "kernels/kernels.h"

namespace tessera::kernels {
namespace {

// Budgets.
// Element-wise ops in float against double: a few roundings of 2^-24 each plus expf/sqrtf
// (correctly rounded to within 1-2 ulp in glibc).
constexpr double kElementwiseRel = 8.0 / (1 << 24);
// RoPE: ggml builds theta_i by i repeated float multiplications by theta_scale (itself a powf
// result), so theta_i carries up to ~(i + 2) roundings of 2^-24 relative; the rotated pair then
// moves by |theta_i| * that * |(x0, x1)|, plus float cos/sin and the rotation's own roundings.
constexpr double kRopeThetaRelPerStep = 1.0 / (1 << 24);
constexpr double kRopeRotationRel = 8.0 / (1 << 24);

std::vector<float> RandomFloats(std::size_t n, std::uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

const FloatOps& Ref() { return ReferenceOps(); }

class OpsSizeTest : public ::testing::TestWithParam<int> {};

TEST_P(OpsSizeTest, RmsNormMatchesFormula) {
  const int n = GetParam();
  const std::vector<float> x = RandomFloats(n, 1 + n, 3.0f);
  const std::vector<float> w = RandomFloats(n, 2 + n);
  const float eps = 1e-5f;
  std::vector<float> out(n);
  Ref().rms_norm(x.data(), w.data(), n, eps, out.data());
  double ss = 0.0;
  for (float v : x) ss += static_cast<double>(v) * v;
  const double scale = 1.0 / std::sqrt(ss / n + eps);
  for (int i = 0; i < n; ++i) {
    const double want = x[i] * scale * w[i];
    ASSERT_NEAR(out[i], want, kElementwiseRel * std::fabs(want) + 1e-30) << i;
  }
  // In place, without weight, through the active table.
  std::vector<float> y = x;
  RmsNorm(y.data(), nullptr, n, eps, y.data());
  for (int i = 0; i < n; ++i) ASSERT_NEAR(y[i], x[i] * scale, kElementwiseRel * std::fabs(x[i] * scale) + 1e-30);
}

TEST_P(OpsSizeTest, SoftmaxIsADistribution) {
  const int n = GetParam();
  std::vector<float> x = RandomFloats(n, 3 + n, 5.0f);
  x[0] = 80.0f;  // large logits must not overflow (max is subtracted)
  if (n > 1) x[n - 1] = 89.0f;
  const std::vector<float> orig = x;
  Softmax(x.data(), n);
  double max = orig[0];
  for (float v : orig) max = std::fmax(max, v);
  double z = 0.0;
  for (float v : orig) z += std::exp(v - max);
  double sum = 0.0;
  for (int i = 0; i < n; ++i) {
    ASSERT_GE(x[i], 0.0f);
    const double want = std::exp(orig[i] - max) / z;
    ASSERT_NEAR(x[i], want, kElementwiseRel * want + 1e-30) << i;
    sum += x[i];
  }
  EXPECT_NEAR(sum, 1.0, n * kElementwiseRel);
}

TEST_P(OpsSizeTest, SiluMulAddScaleAxpy) {
  const int n = GetParam();
  const std::vector<float> g = RandomFloats(n, 5 + n, 4.0f);
  const std::vector<float> u = RandomFloats(n, 6 + n);
  std::vector<float> out(n);
  SiluMul(g.data(), u.data(), out.data(), n);
  for (int i = 0; i < n; ++i) {
    const double want = g[i] / (1.0 + std::exp(-static_cast<double>(g[i]))) * u[i];
    ASSERT_NEAR(out[i], want, kElementwiseRel * std::fabs(want) + 1e-30) << i;
  }
  std::vector<float> sum(n);
  Add(g.data(), u.data(), sum.data(), n);
  for (int i = 0; i < n; ++i) ASSERT_EQ(sum[i], g[i] + u[i]);
  std::vector<float> s = g;
  Scale(s.data(), 0.25f, n);
  for (int i = 0; i < n; ++i) ASSERT_EQ(s[i], g[i] * 0.25f);
  std::vector<float> y = u;
  Axpy(-1.5f, g.data(), y.data(), n);
  for (int i = 0; i < n; ++i) ASSERT_EQ(y[i], u[i] + -1.5f * g[i]);
}

INSTANTIATE_TEST_SUITE_P(Sizes, OpsSizeTest, ::testing::Values(1, 7, 32, 33, 96, 1000, 4096));

// GELU's tanh approximation at a few points, against values computed independently (Python's
// math.tanh in double): 0.5 g (1 + tanh(sqrt(2/pi) (g + 0.044715 g^3))).
TEST(OpsTest, GeluOfKnownValues) {
  const float g[] = {0.0f, 1.0f, -1.0f, 2.0f, -3.0f, 0.5f, 30.0f, -30.0f};
  const float u[] = {1.0f, 1.0f, 1.0f, 1.0f, 1.0f, 2.0f, 1.0f, 1.0f};
  const double want[] = {0.0,
                         0.8411919906082768,
                         -0.15880800939172324,
                         1.954597694087775,
                         -0.0036373920817729943,
                         2 * 0.34571400982514394,
                         30.0,
                         0.0};
  for (const FloatOps* o : AllOps()) {
    float out[8];
    o->gelu_mul(g, u, out, 8);
    for (int i = 0; i < 8; ++i) {
      EXPECT_NEAR(out[i], want[i], 1e-6 * std::fabs(want[i]) + 1e-30) << o->variant << " " << g[i];
    }
  }
}

TEST(OpsTest, SiluOfKnownValues) {
  const float g[] = {0.0f, 1.0f, -1.0f, 20.0f, -20.0f};
  const float u[] = {1.0f, 1.0f, 1.0f, 1.0f, 1.0f};
  float out[5];
  SiluMul(g, u, out, 5);
  EXPECT_EQ(out[0], 0.0f);
  EXPECT_NEAR(out[1], 0.7310585786, 1e-7);
  EXPECT_NEAR(out[2], -0.2689414214, 1e-7);
  EXPECT_NEAR(out[3], 20.0, 1e-5);
  EXPECT_NEAR(out[4], 0.0, 1e-7);
}

// Direct formula: theta_i = pos * freq_scale * base^(-2i / n_rot), in double.
void RopeDirect(std::vector<double>& x, int n_heads, std::int64_t pos, const RopeParams& p) {
  for (int h = 0; h < n_heads; ++h) {
    double* head = x.data() + h * p.head_dim;
    for (int i = 0; i < p.n_rot / 2; ++i) {
      const double theta = static_cast<double>(pos) * p.freq_scale *
                           std::pow(static_cast<double>(p.freq_base), -2.0 * i / p.n_rot);
      const int i0 = p.mode == RopeMode::kNormal ? 2 * i : i;
      const int i1 = p.mode == RopeMode::kNormal ? 2 * i + 1 : i + p.n_rot / 2;
      const double x0 = head[i0];
      const double x1 = head[i1];
      head[i0] = x0 * std::cos(theta) - x1 * std::sin(theta);
      head[i1] = x0 * std::sin(theta) + x1 * std::cos(theta);
    }
  }
}

struct RopeCase {
  RopeMode mode;
  int head_dim;
  int n_rot;
  std::int64_t pos;
  float freq_base;
  float freq_scale;
};

void PrintTo(const RopeCase& c, std::ostream* os) {
  *os << (c.mode == RopeMode::kNormal ? "normal" : "neox") << " head_dim=" << c.head_dim
      << " n_rot=" << c.n_rot << " pos=" << c.pos << " base=" << c.freq_base
      << " scale=" << c.freq_scale;
}

class RopeTest : public ::testing::TestWithParam<RopeCase> {};

TEST_P(RopeTest, MatchesDirectFormula) {
  const RopeCase c = GetParam();
  const RopeParams p{c.mode, c.head_dim, c.n_rot, c.freq_base, c.freq_scale};
  ASSERT_TRUE(ValidateRopeParams(p).ok());
  const int n_heads = 3;
  const std::vector<float> x = RandomFloats(static_cast<std::size_t>(n_heads * c.head_dim), 9);
  std::vector<float> got = x;
  Rope(got.data(), n_heads, c.pos, p);
  std::vector<double> want(x.begin(), x.end());
  RopeDirect(want, n_heads, c.pos, p);
  for (int h = 0; h < n_heads; ++h) {
    for (int d = 0; d < c.head_dim; ++d) {
      const int idx = h * c.head_dim + d;
      if (d >= c.n_rot) {  // passed through untouched
        ASSERT_EQ(got[idx], x[idx]) << idx;
        continue;
      }
      // The pair index of this dim and the magnitude of its pair.
      const int i = c.mode == RopeMode::kNormal ? d / 2 : d % (c.n_rot / 2);
      const int i0 = c.mode == RopeMode::kNormal ? 2 * i : i;
      const int i1 = c.mode == RopeMode::kNormal ? 2 * i + 1 : i + c.n_rot / 2;
      const double r = std::hypot(x[h * c.head_dim + i0], x[h * c.head_dim + i1]);
      const double theta = std::fabs(static_cast<double>(c.pos) * c.freq_scale *
                                     std::pow(static_cast<double>(c.freq_base), -2.0 * i / c.n_rot));
      const double budget =
          r * (theta * (i + 3) * kRopeThetaRelPerStep + kRopeRotationRel) + 1e-30;
      ASSERT_NEAR(got[idx], want[idx], budget) << "head " << h << " dim " << d;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Modes, RopeTest,
    ::testing::Values(RopeCase{RopeMode::kNormal, 64, 64, 0, 10000.0f, 1.0f},
                      RopeCase{RopeMode::kNormal, 64, 64, 1, 10000.0f, 1.0f},
                      RopeCase{RopeMode::kNormal, 48, 32, 17, 10000.0f, 1.0f},
                      RopeCase{RopeMode::kNormal, 128, 128, 4095, 500000.0f, 1.0f},
                      RopeCase{RopeMode::kNeox, 64, 64, 1, 10000.0f, 1.0f},
                      RopeCase{RopeMode::kNeox, 64, 32, 300, 1000000.0f, 1.0f},
                      RopeCase{RopeMode::kNeox, 128, 128, 2047, 10000.0f, 0.25f},
                      RopeCase{RopeMode::kNeox, 6, 2, 9, 10000.0f, 1.0f}));

TEST(RopeTest, ModesRotateDifferentPairs) {
  // Head of 4 dims, all rotated, pos 1, base 1 (so every theta is 1 radian).
  const RopeParams normal{RopeMode::kNormal, 4, 4, 1.0f, 1.0f};
  const RopeParams neox{RopeMode::kNeox, 4, 4, 1.0f, 1.0f};
  float a[4] = {1.0f, 0.0f, 0.0f, 0.0f};
  float b[4] = {1.0f, 0.0f, 0.0f, 0.0f};
  Rope(a, 1, 1, normal);
  Rope(b, 1, 1, neox);
  const float c = std::cos(1.0f);
  const float s = std::sin(1.0f);
  // Normal pairs (0,1): x0 -> (c, s) in dims 0 and 1.
  EXPECT_FLOAT_EQ(a[0], c);
  EXPECT_FLOAT_EQ(a[1], s);
  EXPECT_EQ(a[2], 0.0f);
  // NeoX pairs (0,2): x0 -> (c, s) in dims 0 and 2.
  EXPECT_FLOAT_EQ(b[0], c);
  EXPECT_EQ(b[1], 0.0f);
  EXPECT_FLOAT_EQ(b[2], s);
}

TEST(RopeTest, ValidateRefusesBadParams) {
  EXPECT_EQ(ValidateRopeParams({RopeMode::kNormal, 64, 65, 10000.0f, 1.0f}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateRopeParams({RopeMode::kNormal, 64, 128, 10000.0f, 1.0f}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateRopeParams({RopeMode::kNormal, 64, 0, 10000.0f, 1.0f}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateRopeParams({RopeMode::kNeox, 64, 64, 0.0f, 1.0f}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateRopeParams({RopeMode::kNeox, 64, 64, 10000.0f, NAN}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(ValidateRopeParams({RopeMode::kNeox, 64, 64, 10000.0f, 1.0f}).ok());
}

}  // namespace
}  // namespace tessera::kernels
