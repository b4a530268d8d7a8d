// Every SIMD FloatOps table this CPU can run (AllOps) against the scalar reference, and the
// maximum relative error of the vector exp approximation behind softmax and silu_mul.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "kernels/cpu_features.h"
#include "kernels/kernels.h"
#include "kernels/simd_tables.h"

namespace tessera::kernels {
namespace {

constexpr double kUlp = 1.0 / (1 << 24);  // 2^-24
// ExpAvx2's maximum relative error over results in the normal float range, against exp in
// double (measured 1.38 ulp over the grid below; budgeted at 3 ulp).
constexpr double kExpMaxRel = 3 * kUlp;
// Below 2^-126 results are subnormal: absolute error at most one subnormal step (2^-149).
constexpr double kExpSubnormalAbs = 0x1p-149;
// rms_norm: the same float squares summed in double in another order, then the same float
// formula: the scale may differ by an ulp, hence 2 roundings of the product.
constexpr double kRmsNormRel = 3 * kUlp;
// softmax: exp error on each element and on the sum, plus the reference's own expf error and
// the final multiplication.
constexpr double kSoftmaxRel = 2 * kExpMaxRel + 4 * kUlp;
// silu_mul: exp error carries into 1 + e (no more, relatively, since e >= 0), plus division,
// multiplication and the reference's expf.
constexpr double kSiluRel = kExpMaxRel + 6 * kUlp;
// gelu_mul: the SIMD variants evaluate the exponent a = -2 sqrt(2/pi) g (1 + 0.044715 g^2) in
// float (five roundings and a rounded constant: 6 ulp of |a|), which moves e^a by |a| times
// that, relatively; then as silu_mul. The reference evaluates in double, rounded once.
double GeluBudget(float g) {
  const double a = 1.5957691216057308 * std::fabs(g) * (1.0 + 0.044715 * g * g);
  return kExpMaxRel + (6.0 * a + 6.0) * kUlp;
}

std::vector<float> RandomFloats(std::size_t n, std::uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

std::vector<const FloatOps*> SimdOps() {
  std::vector<const FloatOps*> all = AllOps();
  all.erase(all.begin());
  return all;
}

#define SKIP_WITHOUT_SIMD(ops)                                                                    \
  if ((ops).empty()) {                                                                            \
    GTEST_SKIP() << "this CPU runs no SIMD variant (features: " << DetectCpuFeatures().ToString() \
                 << "; avx2 needs avx2 fma f16c)";                                                \
  }

const std::int64_t kSizes[] = {1, 7, 33, 1000, 4096};

std::string Where(const FloatOps& o, std::int64_t n) {
  return std::string(o.variant) + " n=" + std::to_string(n);
}

// Offsets every buffer by one float so that no vector load is aligned.
struct Buf {
  explicit Buf(std::vector<float> v) : data(v.size() + 1) {
    std::memcpy(data.data() + 1, v.data(), v.size() * sizeof(float));
  }
  float* p() { return data.data() + 1; }
  float operator[](std::size_t i) const { return data[i + 1]; }
  std::vector<float> data;
};

TEST(SimdOpsTest, ExpMaxRelativeError) {
  if (!DetectCpuFeatures().HasAvx2Variant()) GTEST_SKIP() << "no avx2+fma";
  // A dense grid over the whole range, plus the boundaries.
  std::vector<float> x;
  for (double v = -103.5; v <= 88.72; v += 1.0 / 2048) x.push_back(static_cast<float>(v));
  for (float v : {0.0f, -0.0f, 88.7228f, -87.3365f, 1e-8f, -1e-8f}) x.push_back(v);
  std::vector<float> y(x.size());
  simd::ExpAvx2(x.data(), y.data(), static_cast<std::int64_t>(x.size()));
  double max_rel = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double want = std::exp(static_cast<double>(x[i]));
    if (want >= 0x1p-126) {
      max_rel = std::fmax(max_rel, std::fabs(y[i] - want) / want);
    } else {
      ASSERT_LE(std::fabs(y[i] - want), kExpSubnormalAbs) << "x = " << x[i];
    }
  }
  EXPECT_LE(max_rel, kExpMaxRel) << "max relative error " << max_rel / kUlp << " ulp";
  std::printf("ExpAvx2 max relative error over normal results: %.3f ulp (2^-24)\n", max_rel / kUlp);
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> special = {
      89.0f, 1000.0f, inf, -inf, -1000.0f, -104.5f, std::numeric_limits<float>::quiet_NaN(),
      0.0f,  1.0f};
  std::vector<float> out(special.size());
  simd::ExpAvx2(special.data(), out.data(), static_cast<std::int64_t>(special.size()));
  EXPECT_EQ(out[0], inf);
  EXPECT_EQ(out[1], inf);
  EXPECT_EQ(out[2], inf);
  EXPECT_EQ(out[3], 0.0f);
  EXPECT_EQ(out[4], 0.0f);
  EXPECT_EQ(out[5], 0.0f);
  EXPECT_TRUE(std::isnan(out[6]));
  EXPECT_EQ(out[7], 1.0f);
  EXPECT_NEAR(out[8], 2.718281828f, 3 * kUlp * 2.72);
}

TEST(SimdOpsTest, AddScaleAxpyAreBitIdentical) {
  const std::vector<const FloatOps*> ops = SimdOps();
  SKIP_WITHOUT_SIMD(ops);
  const FloatOps& ref = ReferenceOps();
  for (std::int64_t n : kSizes) {
    const auto un = static_cast<std::size_t>(n);
    const std::vector<float> a = RandomFloats(un, 1, 1.0f);
    const std::vector<float> b = RandomFloats(un, 2, 3.0f);
    for (const FloatOps* o : ops) {
      Buf want_add(a), got_add(a), bb(b);
      ref.add(want_add.p(), bb.p(), want_add.p(), n);
      o->add(got_add.p(), bb.p(), got_add.p(), n);
      Buf want_scale(a), got_scale(a);
      ref.scale(want_scale.p(), 0.37f, n);
      o->scale(got_scale.p(), 0.37f, n);
      Buf want_axpy(b), got_axpy(b), aa(a);
      ref.axpy(-1.7f, aa.p(), want_axpy.p(), n);
      o->axpy(-1.7f, aa.p(), got_axpy.p(), n);
      for (std::size_t i = 0; i < un; ++i) {
        ASSERT_EQ(want_add[i], got_add[i]) << Where(*o, n) << " add " << i;
        ASSERT_EQ(want_scale[i], got_scale[i]) << Where(*o, n) << " scale " << i;
        ASSERT_EQ(want_axpy[i], got_axpy[i]) << Where(*o, n) << " axpy " << i;
      }
      EXPECT_EQ(got_add.data[0], 0.0f) << "wrote before the buffer";
    }
  }
}

TEST(SimdOpsTest, RmsNormWithinBudget) {
  const std::vector<const FloatOps*> ops = SimdOps();
  SKIP_WITHOUT_SIMD(ops);
  for (std::int64_t n : kSizes) {
    const auto un = static_cast<std::size_t>(n);
    const std::vector<float> x = RandomFloats(un, 3, 2.0f);
    const std::vector<float> w = RandomFloats(un, 4, 1.0f);
    for (bool with_weight : {true, false}) {
      Buf xb(x), wb(w), want{std::vector<float>(un)};
      ReferenceOps().rms_norm(xb.p(), with_weight ? wb.p() : nullptr, n, 1e-5f, want.p());
      for (const FloatOps* o : ops) {
        Buf got{std::vector<float>(un)};
        o->rms_norm(xb.p(), with_weight ? wb.p() : nullptr, n, 1e-5f, got.p());
        for (std::size_t i = 0; i < un; ++i) {
          ASSERT_LE(std::fabs(got[i] - want[i]), kRmsNormRel * std::fabs(want[i]))
              << Where(*o, n) << " i " << i;
        }
        Buf in_place(x);  // out aliases x
        o->rms_norm(in_place.p(), with_weight ? wb.p() : nullptr, n, 1e-5f, in_place.p());
        for (std::size_t i = 0; i < un; ++i) ASSERT_EQ(in_place[i], got[i]) << Where(*o, n);
      }
    }
  }
}

TEST(SimdOpsTest, SoftmaxWithinBudget) {
  const std::vector<const FloatOps*> ops = SimdOps();
  SKIP_WITHOUT_SIMD(ops);
  for (std::int64_t n : kSizes) {
    for (float scale : {1.0f, 30.0f}) {  // 30: many elements underflow to ~0
      const std::vector<float> x = RandomFloats(static_cast<std::size_t>(n), 5, scale);
      Buf want(x);
      ReferenceOps().softmax(want.p(), n);
      for (const FloatOps* o : ops) {
        Buf got(x);
        o->softmax(got.p(), n);
        double sum = 0.0;
        for (std::size_t i = 0; i < x.size(); ++i) {
          ASSERT_LE(std::fabs(got[i] - want[i]), kSoftmaxRel * want[i] + kExpSubnormalAbs)
              << Where(*o, n) << " scale " << scale << " i " << i;
          sum += got[i];
        }
        EXPECT_NEAR(sum, 1.0, 1e-5) << Where(*o, n);
      }
    }
  }
}

TEST(SimdOpsTest, SiluMulWithinBudget) {
  const std::vector<const FloatOps*> ops = SimdOps();
  SKIP_WITHOUT_SIMD(ops);
  for (std::int64_t n : kSizes) {
    const auto un = static_cast<std::size_t>(n);
    std::vector<float> g = RandomFloats(un, 6, 4.0f);
    if (n >= 7) {
      g[0] = 100.0f;   // exp(-g) underflows
      g[1] = -100.0f;  // exp(-g) overflows: silu -> -0
      g[2] = 0.0f;
    }
    const std::vector<float> u = RandomFloats(un, 7, 1.0f);
    Buf gb(g), ub(u), want{std::vector<float>(un)};
    ReferenceOps().silu_mul(gb.p(), ub.p(), want.p(), n);
    for (const FloatOps* o : ops) {
      Buf got{std::vector<float>(un)};
      o->silu_mul(gb.p(), ub.p(), got.p(), n);
      for (std::size_t i = 0; i < un; ++i) {
        ASSERT_LE(std::fabs(got[i] - want[i]), kSiluRel * std::fabs(want[i]) + 1e-37)
            << Where(*o, n) << " g " << g[i];
      }
      Buf alias(g);  // out aliases gate
      o->silu_mul(alias.p(), ub.p(), alias.p(), n);
      for (std::size_t i = 0; i < un; ++i) ASSERT_EQ(alias[i], got[i]) << Where(*o, n);
    }
  }
}

TEST(SimdOpsTest, GeluMulWithinBudget) {
  const std::vector<const FloatOps*> ops = SimdOps();
  SKIP_WITHOUT_SIMD(ops);
  for (std::int64_t n : kSizes) {
    const auto un = static_cast<std::size_t>(n);
    std::vector<float> g = RandomFloats(un, 8, 3.0f);
    if (n >= 7) {
      g[0] = 50.0f;   // e^a underflows: gelu(g) = g
      g[1] = -50.0f;  // e^a overflows: gelu -> -0 (the exact value is below float's range)
      g[2] = 0.0f;
      g[3] = -9.0f;   // a result near the bottom of the normal range
    }
    const std::vector<float> u = RandomFloats(un, 9, 1.0f);
    Buf gb(g), ub(u), want{std::vector<float>(un)};
    ReferenceOps().gelu_mul(gb.p(), ub.p(), want.p(), n);
    for (const FloatOps* o : ops) {
      Buf got{std::vector<float>(un)};
      o->gelu_mul(gb.p(), ub.p(), got.p(), n);
      for (std::size_t i = 0; i < un; ++i) {
        ASSERT_LE(std::fabs(got[i] - want[i]), GeluBudget(g[i]) * std::fabs(want[i]) + 1e-37)
            << Where(*o, n) << " g " << g[i] << " got " << got[i] << " want " << want[i];
      }
      Buf alias(g);  // out aliases gate
      o->gelu_mul(alias.p(), ub.p(), alias.p(), n);
      for (std::size_t i = 0; i < un; ++i) ASSERT_EQ(alias[i], got[i]) << Where(*o, n);
    }
  }
}

// attend: the scores differ from the reference's by at most the float dot budget of a row of
// head_dim (|q.k| summed in magnitude), times scale; each softmax weight then moves by at most
// twice that (exp of a shifted score, and the sum) plus kSoftmaxRel; the output is a weighted
// sum of value rows, so its error is bounded by those weight errors plus one rounding per
// position, all relative to sum_p w_p |v_p[i]|.
TEST(SimdOpsTest, AttendWithinBudget) {
  const std::vector<const FloatOps*> ops = SimdOps();
  SKIP_WITHOUT_SIMD(ops);
  // Multiples of 8 up to 256 take the fast path; 12 and 264 the reference inside the variant.
  for (std::int64_t hd : {8, 12, 16, 48, 64, 72, 96, 128, 200, 256, 264}) {
    // n_q of 4 and more take the tiles of the AVX-512 kernel, with 1..3 rows left over.
    for (const auto& [n_q, pos0] : {std::pair<std::int64_t, std::int64_t>{1, 0},
                                    {1, 37},
                                    {5, 0},
                                    {6, 13},
                                    {4, 0},
                                    {11, 29},
                                    {40, 3}}) {
      const std::int64_t n_pos = pos0 + n_q;
      const std::size_t kv_stride = static_cast<std::size_t>(3 * hd + 1);  // unaligned rows
      const std::size_t q_stride = static_cast<std::size_t>(2 * hd + 3);
      const std::vector<float> kv = RandomFloats(
          kv_stride * static_cast<std::size_t>(n_pos) + static_cast<std::size_t>(hd), 8, 1.0f);
      const std::vector<float> vv = RandomFloats(
          kv_stride * static_cast<std::size_t>(n_pos) + static_cast<std::size_t>(hd), 9, 1.0f);
      const std::vector<float> q = RandomFloats(q_stride * static_cast<std::size_t>(n_q), 10, 1.0f);
      AttendArgs a;
      a.q = q.data();
      a.q_stride = q_stride;
      a.n_q = n_q;
      a.pos0 = pos0;
      a.k = kv.data() + 1;
      a.v = vv.data() + 1;
      a.kv_stride = kv_stride;
      a.head_dim = hd;
      a.scale = 1.0f / std::sqrt(static_cast<float>(hd));
      const std::size_t out_stride = static_cast<std::size_t>(hd + 5);
      std::vector<float> scratch(AttendScratchFloats(hd, n_pos), -3.0f);
      std::vector<float> want(out_stride * static_cast<std::size_t>(n_q), -7.0f);
      a.scratch = scratch.data();
      a.out = want.data();
      a.out_stride = out_stride;
      ReferenceOps().attend(a);
      for (const FloatOps* o : ops) {
        std::vector<float> got(want.size(), -7.0f);
        a.out = got.data();
        o->attend(a);
        for (std::int64_t t = 0; t < n_q; ++t) {
          const float* qt = q.data() + static_cast<std::size_t>(t) * q_stride;
          const std::int64_t seen = pos0 + t + 1;
          // The reference weights of this row, and the largest score budget over its keys.
          std::vector<double> wts(static_cast<std::size_t>(seen));
          double max_score = -1e300, delta = 0.0;
          for (std::int64_t p = 0; p < seen; ++p) {
            const float* kp = a.k + static_cast<std::size_t>(p) * kv_stride;
            double dot = 0.0, mag = 0.0;
            for (std::int64_t i = 0; i < hd; ++i) {
              dot += static_cast<double>(qt[i]) * kp[i];
              mag += std::fabs(static_cast<double>(qt[i]) * kp[i]);
            }
            wts[static_cast<std::size_t>(p)] = dot * a.scale;
            max_score = std::fmax(max_score, dot * a.scale);
            // One float accumulator per score (the AVX-512 tile) may round at every one of
            // the head_dim steps; lanes of 8 (AVX2) round less often.
            delta = std::fmax(delta, 2.0 * (static_cast<double>(hd) + 10) * kUlp * mag * a.scale);
          }
          double sum = 0.0;
          for (double& wt : wts) sum += (wt = std::exp(wt - max_score));
          const double rel = 2.0 * delta + kSoftmaxRel + static_cast<double>(seen + 4) * kUlp;
          for (std::int64_t i = 0; i < hd; ++i) {
            double mag = 0.0;
            for (std::int64_t p = 0; p < seen; ++p) {
              mag +=
                  wts[static_cast<std::size_t>(p)] / sum *
                  std::fabs(
                      a.v[static_cast<std::size_t>(p) * kv_stride + static_cast<std::size_t>(i)]);
            }
            const std::size_t at =
                static_cast<std::size_t>(t) * out_stride + static_cast<std::size_t>(i);
            ASSERT_LE(std::fabs(got[at] - want[at]), rel * mag + 1e-30)
                << o->variant << " head_dim " << hd << " n_q " << n_q << " pos0 " << pos0 << " row "
                << t << " i " << i;
          }
          for (std::size_t i = static_cast<std::size_t>(hd); i < out_stride; ++i) {
            ASSERT_EQ(got[static_cast<std::size_t>(t) * out_stride + i], -7.0f)
                << o->variant << " head_dim " << hd << " wrote past head_dim";
          }
        }
      }
    }
  }
}

// log_sum_exp: every exp has relative error <= kExpMaxRel (plus the float rounding of x - max),
// so the sum does too and its log moves by at most about that much in absolute terms. NaN
// counts as -inf; a non-finite maximum comes back as is.
TEST(SimdOpsTest, LogSumExpWithinBudgetAndHandlesNonFinite) {
  const std::vector<const FloatOps*> ops = SimdOps();
  SKIP_WITHOUT_SIMD(ops);
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (std::int64_t n : kSizes) {
    for (float scale : {1.0f, 30.0f}) {
      std::vector<float> x = RandomFloats(static_cast<std::size_t>(n), 11, scale);
      if (n >= 7) {
        x[3] = nan;
        x[5] = -inf;
      }
      const double want = ReferenceOps().log_sum_exp(x.data(), n);
      ASSERT_TRUE(std::isfinite(want));
      for (const FloatOps* o : ops) {
        const double got = o->log_sum_exp(x.data(), n);
        EXPECT_NEAR(got, want, 2 * kExpMaxRel + 4 * kUlp) << Where(*o, n) << " scale " << scale;
      }
    }
  }
  const std::vector<std::vector<float>> special = {
      {-inf, -inf, -inf},
      {nan, -inf},
      {1.0f, inf, 2.0f},
      {nan, nan, nan, nan, nan, nan, nan, nan, nan, 3.0f}};
  for (const FloatOps* o : AllOps()) {
    EXPECT_EQ(o->log_sum_exp(special[0].data(), 3), -inf) << o->variant;
    EXPECT_EQ(o->log_sum_exp(special[1].data(), 2), -inf) << o->variant;
    EXPECT_EQ(o->log_sum_exp(special[2].data(), 3), inf) << o->variant;
    EXPECT_NEAR(o->log_sum_exp(special[3].data(), 10), 3.0, 1e-12) << o->variant;
  }
}

}  // namespace
}  // namespace tessera::kernels
