// Every SIMD TypeKernels table this CPU can run (AllKernels) against the scalar reference:
// act_from_float bytes, vec_dot under named budgets, vec_dot_rows against vec_dot, odd sizes and
// unaligned pointers. Variants the CPU lacks are skipped with the reason.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu_features.h"
#include "kernels/kernels.h"
#include "tensor/quantize.h"
#include "tensor/types.h"

namespace tessera::kernels {
namespace {

using tensor::DType;

constexpr double kUlp = 1.0 / (1 << 24);  // 2^-24, unit roundoff of float

// ---- Budgets of |vec_dot_variant - vec_dot_reference| on the SAME converted activation,
// relative to S = sum_i |w_i * x_i| (dequantized operands); for the K-quants with mins (Q4_K,
// Q5_K) relative to T = sum_i (|w_i| + 2 |m_i|) |x_i|, m_i = dmin * mn of element i's
// sub-block, because the d part and the min part are rounded separately and |d part| <=
// |w_i| + |m_i|.
// Quantized types: both sides sum the same exact int32 per block; they differ in how the
// n / block block results d_w * d_x * isum (and dmin_w * d_x * msum) are rounded (1-2 float
// roundings each) and accumulated in float (sequentially in the reference, in lanes with FMA
// in SIMD). Each side's error is at most 2 * n_blocks + 2 roundings of a partial sum bounded
// by S (or T).
double QuantDotBudget(DType t, std::int64_t n) {
  return 2.0 * (2.0 * static_cast<double>(n / tensor::BlockSize(t)) + 2) * kUlp;
}
// Float types: the reference rounds each product to float and sums in double (<= 2 ulp of S);
// the SIMD side accumulates exact products in lanes of 8 or 16 with one rounding per step, so at
// most n / 8 + 8 steps (the last for the horizontal sum) per lane. vdpbf16ps may round twice
// per step, hence the factor 2.
double FloatDotBudget(std::int64_t n) { return 2.0 * (static_cast<double>(n) / 8 + 10) * kUlp; }

const std::vector<DType>& SimdTypes() {
  static const std::vector<DType> types = {
      DType::kF32,  DType::kF16,  DType::kBF16, DType::kQ8_0,   DType::kQ4_0,  DType::kQ4_1,
      DType::kQ5_0, DType::kQ5_1, DType::kQ4_K, DType::kQ5_K,   DType::kQ6_K,  DType::kQ2_K,
      DType::kQ3_K, DType::kIQ4_NL, DType::kIQ4_XS};
  return types;
}

bool IsBlocked(DType t) { return tensor::BlockSize(t) > 1; }

bool IsKQuant(DType t) { return tensor::BlockSize(t) == 256; }

std::vector<std::int64_t> Sizes(DType t) {
  if (IsKQuant(t)) return {256, 512, 768, 2048, 4096, 11008};
  if (IsBlocked(t)) return {32, 64, 96, 352, 4096, 11008};
  return {1, 7, 33, 1000, 4096};
}

std::vector<float> RandomFloats(std::size_t n, std::uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

std::size_t RowBytes(DType t, std::int64_t n) {
  return tensor::RowBytes(t, static_cast<std::uint64_t>(n)).value();
}

// The SIMD tables of `type`; skips (with the reason) when the CPU runs none.
std::vector<const TypeKernels*> SimdTables(DType type) {
  std::vector<const TypeKernels*> all = AllKernels(type);
  if (!all.empty()) all.erase(all.begin());  // the reference
  return all;
}

#define SKIP_WITHOUT_SIMD(tables)                                                                 \
  if ((tables).empty()) {                                                                         \
    GTEST_SKIP() << "this CPU runs no SIMD variant (features: " << DetectCpuFeatures().ToString() \
                 << "; avx2 needs avx2 fma f16c)";                                                \
  }

std::string Where(const TypeKernels& k, std::int64_t n) {
  return std::string(tensor::TypeName(k.type)) + " " + k.variant + " n=" + std::to_string(n);
}

TEST(SimdKernelsTest, AllKernelsStartWithTheReferenceAndMatchTypes) {
  for (DType t : SimdTypes()) {
    const std::vector<const TypeKernels*> all = AllKernels(t);
    ASSERT_FALSE(all.empty());
    EXPECT_EQ(all.front(), ReferenceKernels(t));
    for (const TypeKernels* k : all) {
      EXPECT_EQ(k->type, t) << k->variant;
      EXPECT_EQ(k->vec_dot_type, ReferenceKernels(t)->vec_dot_type) << k->variant;
      if (k != all.front()) {
        EXPECT_NE(k->vec_dot_rows, nullptr) << k->variant;
      }
    }
  }
  EXPECT_TRUE(AllKernels(DType::kI32).empty());
}

TEST(SimdKernelsTest, VariantTablesFollowCpuFeatures) {
  const CpuFeatures f = DetectCpuFeatures();
  for (DType t : SimdTypes()) {
    EXPECT_EQ(VariantKernels(t, KernelVariant::kReference), ReferenceKernels(t));
    const TypeKernels* avx2 = VariantKernels(t, KernelVariant::kAvx2);
    const TypeKernels* avx512 = VariantKernels(t, KernelVariant::kAvx512);
    EXPECT_EQ(avx2 != nullptr, f.HasAvx2Variant());
    EXPECT_EQ(avx512 != nullptr, f.HasAvx512Variant());
    if (avx2 != nullptr) {
      EXPECT_STREQ(avx2->variant, "avx2");
    }
    if (avx512 != nullptr && (t == DType::kQ8_0 || t == DType::kQ4_0 || t == DType::kQ5_0)) {
      EXPECT_STREQ(avx512->variant, f.avx512vnni ? "avx512_vnni" : "avx2");
    }
    if (avx512 != nullptr && (t == DType::kQ4_K || t == DType::kQ5_K || t == DType::kQ6_K)) {
      EXPECT_STREQ(avx512->variant, "avx512");
    }
    if (avx512 != nullptr && t == DType::kBF16) {
      EXPECT_STREQ(avx512->variant, f.avx512bf16 ? "avx512_bf16" : "avx512");
    }
  }
}

// act_from_float must give the reference's bytes exactly (Q8_0 rounding, F16, BF16), from an
// unaligned source into an unaligned destination.
TEST(SimdKernelsTest, ActFromFloatBytesEqualReference) {
  for (DType t : SimdTypes()) {
    const std::vector<const TypeKernels*> tables = SimdTables(t);
    SKIP_WITHOUT_SIMD(tables);
    const TypeKernels& ref = *ReferenceKernels(t);
    for (std::int64_t n : Sizes(t)) {
      for (float scale : {1.0f, 1e-3f, 3e4f}) {
        std::vector<float> x_buf = RandomFloats(static_cast<std::size_t>(n) + 1, 7, scale);
        const float* x = x_buf.data() + 1;  // 4-byte aligned only
        const std::size_t bytes = ActivationBytes(t, n);
        std::vector<std::uint8_t> want(bytes);
        ref.act_from_float(x, want.data(), n);
        for (const TypeKernels* k : tables) {
          std::vector<std::uint8_t> got_buf(bytes + 1, 0xAB);
          k->act_from_float(x, got_buf.data() + 1, n);
          ASSERT_EQ(0, std::memcmp(want.data(), got_buf.data() + 1, bytes))
              << Where(*k, n) << " scale " << scale;
        }
      }
    }
  }
}

// Values chosen to hit the rounding edges: exact halves (ties go away from zero in Q8_0, to even
// in F16/BF16), zeros, infinities, subnormals, a block whose amax is so small that 1/d overflows.
std::vector<float> EdgeValues() {
  std::vector<float> v;
  // Block 1: amax 127 -> id 1, so x * id = x exactly: every tie is a real tie.
  for (float x : {127.0f, 0.5f, -0.5f, 1.5f, -1.5f, 2.5f, -2.5f, 126.5f, -126.5f, 0.49999997f,
                  -0.49999997f, 3.5f, 0.0f, -0.0f, 63.5f, -63.5f}) {
    v.push_back(x);
  }
  for (int j = 0; j < 16; ++j) v.push_back(static_cast<float>(j) - 7.5f);
  // Block 2: all zeros.
  for (int j = 0; j < 32; ++j) v.push_back(0.0f);
  // Block 3: infinities and finite values.
  for (int j = 0; j < 32; ++j) {
    v.push_back(j == 3   ? std::numeric_limits<float>::infinity()
                : j == 9 ? -std::numeric_limits<float>::infinity()
                         : static_cast<float>(j));
  }
  // Block 4: subnormals only (1 / d overflows to infinity).
  for (int j = 0; j < 32; ++j) v.push_back(static_cast<float>(j - 16) * 1e-44f);
  // Block 5: F16/BF16 ties and overflow: 1 + 2^-11 (f16 tie), 1 + 2^-8 (bf16 tie), 65520, ...
  for (int j = 0; j < 32; ++j) {
    const float vals[] = {1.0f + 1.0f / 2048,
                          1.0f + 3.0f / 2048,
                          1.0f + 1.0f / 256,
                          1.0f + 3.0f / 256,
                          65520.0f,
                          -65519.0f,
                          6e-8f,
                          3e-8f,
                          1e-45f,
                          -3e38f};
    v.push_back(vals[j % 10]);
  }
  return v;
}

TEST(SimdKernelsTest, ActFromFloatEdgeValuesEqualReference) {
  const std::vector<float> edges = EdgeValues();
  for (DType t : SimdTypes()) {
    // K-quants: the edge values repeated to 3 super-blocks (the first holds infinities, the
    // second ties between elements of equal magnitude, the third only finite values).
    std::vector<float> x = edges;
    if (IsKQuant(t)) {
      x.clear();
      while (x.size() < 3 * 256) x.insert(x.end(), edges.begin(), edges.end());
      x.resize(3 * 256);
      for (std::size_t i = 512; i < x.size(); ++i) {
        if (!std::isfinite(x[i])) x[i] = 5.0f;
      }
      x[520] = -300.0f;  // the largest magnitude twice, negative first
      x[530] = 300.0f;
    }
    const auto n = static_cast<std::int64_t>(x.size());
    const std::vector<const TypeKernels*> tables = SimdTables(t);
    SKIP_WITHOUT_SIMD(tables);
    const std::size_t bytes = ActivationBytes(t, n);
    std::vector<std::uint8_t> want(bytes);
    ReferenceKernels(t)->act_from_float(x.data(), want.data(), n);
    for (const TypeKernels* k : tables) {
      std::vector<std::uint8_t> got(bytes);
      k->act_from_float(x.data(), got.data(), n);
      for (std::size_t i = 0; i < bytes; ++i) {
        ASSERT_EQ(want[i], got[i]) << Where(*k, n) << " byte " << i;
      }
    }
  }
}

// m_i of every element of a Q4_K / Q5_K / Q4_1 / Q5_1 row: the row with its quants zeroed
// dequantizes to -dmin * mn (K-quants) or m (Q4_1, Q5_1). Zeros for other types.
std::vector<float> Mins(DType t, const std::uint8_t* w_row, std::int64_t n) {
  std::vector<float> m(static_cast<std::size_t>(n), 0.0f);
  std::size_t header = 0;  // bytes of scales before the quants
  if (t == DType::kQ4_K || t == DType::kQ5_K) header = 16;  // d, dmin, scales
  if (t == DType::kQ4_1 || t == DType::kQ5_1) header = 4;   // d, m
  if (t == DType::kQ2_K) {  // scales, then the quants, then d and dmin
    std::vector<std::uint8_t> zeroed(w_row, w_row + RowBytes(t, n));
    for (std::size_t b = 0; b < zeroed.size(); b += tensor::TypeSize(t)) {
      std::memset(zeroed.data() + b + 16, 0, 64);
    }
    ReferenceKernels(t)->to_float(zeroed.data(), m.data(), n);
    return m;
  }
  if (header == 0) return m;
  const std::size_t block = tensor::TypeSize(t);
  std::vector<std::uint8_t> zeroed(w_row, w_row + RowBytes(t, n));
  for (std::size_t b = 0; b < zeroed.size(); b += block) {
    std::memset(zeroed.data() + b + header, 0, block - header);  // qh, qs
  }
  ReferenceKernels(t)->to_float(zeroed.data(), m.data(), n);
  return m;
}

// S = sum_i |w_i * x_i| (T with mins, see the budgets) over the dequantized weight row and
// the dequantized converted activation.
double AbsDot(DType t, const std::uint8_t* w_row, const std::uint8_t* xc, std::int64_t n) {
  std::vector<float> w(static_cast<std::size_t>(n));
  std::vector<float> x(static_cast<std::size_t>(n));
  ReferenceKernels(t)->to_float(w_row, w.data(), n);
  const DType vt = ReferenceKernels(t)->vec_dot_type;
  tensor::DequantizeRowFor(vt)(xc, x.data(), n);
  const std::vector<float> m = Mins(t, w_row, n);
  double s = 0.0;
  for (std::size_t i = 0; i < w.size(); ++i) {
    s += (std::fabs(static_cast<double>(w[i])) + 2.0 * std::fabs(m[i])) * std::fabs(x[i]);
  }
  return s;
}

// Weights: `rows` rows quantized from N(0, 0.02) (llama-like), at an odd offset in a buffer.
struct Weights {
  std::vector<std::uint8_t> buf;
  std::size_t offset = 1;
  const std::uint8_t* data() const { return buf.data() + offset; }
};

Weights MakeWeights(DType t, std::int64_t rows, std::int64_t n, std::uint32_t seed) {
  const std::vector<float> f = RandomFloats(static_cast<std::size_t>(rows * n), seed, 0.02f);
  Weights w;
  w.buf.resize(RowBytes(t, n) * static_cast<std::size_t>(rows) + w.offset);
  std::vector<std::uint8_t> packed(RowBytes(t, n) * static_cast<std::size_t>(rows));
  EXPECT_TRUE(tensor::Quantize(t, f, n, packed).ok());
  std::memcpy(w.buf.data() + w.offset, packed.data(), packed.size());
  return w;
}

TEST(SimdKernelsTest, VecDotMatchesReferenceWithinBudget) {
  for (DType t : SimdTypes()) {
    const std::vector<const TypeKernels*> tables = SimdTables(t);
    SKIP_WITHOUT_SIMD(tables);
    const TypeKernels& ref = *ReferenceKernels(t);
    for (std::int64_t n : Sizes(t)) {
      constexpr std::int64_t kRows = 3;
      const Weights w = MakeWeights(t, kRows, n, 11);
      const std::size_t row_bytes = RowBytes(t, n);
      const std::vector<float> x = RandomFloats(static_cast<std::size_t>(n), 12, 1.0f);
      std::vector<std::uint8_t> xc_buf(ActivationBytes(t, n) + 1);
      std::uint8_t* xc = xc_buf.data() + 1;  // unaligned activation
      ref.act_from_float(x.data(), xc, n);
      const double rel = IsBlocked(t) ? QuantDotBudget(t, n) : FloatDotBudget(n);
      for (std::int64_t r = 0; r < kRows; ++r) {
        const std::uint8_t* wr = w.data() + static_cast<std::size_t>(r) * row_bytes;
        const double want = ref.vec_dot(n, wr, xc);
        const double budget = rel * AbsDot(t, wr, xc, n) + 1e-30;
        for (const TypeKernels* k : tables) {
          const double got = k->vec_dot(n, wr, xc);
          EXPECT_LE(std::fabs(got - want), budget) << Where(*k, n) << " row " << r;
        }
      }
    }
  }
}

// vec_dot_rows must equal vec_dot bit for bit, for row counts around the 4-row step, rows with
// padding between them and an unaligned base.
TEST(SimdKernelsTest, VecDotRowsEqualsVecDotPerRow) {
  for (DType t : SimdTypes()) {
    const std::vector<const TypeKernels*> tables = SimdTables(t);
    SKIP_WITHOUT_SIMD(tables);
    for (std::int64_t n : {Sizes(t)[2], Sizes(t)[3]}) {
      const std::size_t packed = RowBytes(t, n);
      const std::size_t row_bytes = packed + 3;  // padded rows, odd stride
      constexpr std::int64_t kMaxRows = 9;
      const Weights dense = MakeWeights(t, kMaxRows, n, 21);
      std::vector<std::uint8_t> padded(row_bytes * kMaxRows + 1, 0);
      for (std::int64_t r = 0; r < kMaxRows; ++r) {
        std::memcpy(padded.data() + 1 + static_cast<std::size_t>(r) * row_bytes,
                    dense.data() + static_cast<std::size_t>(r) * packed, packed);
      }
      const std::uint8_t* w = padded.data() + 1;
      const std::vector<float> x = RandomFloats(static_cast<std::size_t>(n), 22, 1.0f);
      std::vector<std::uint8_t> xc(ActivationBytes(t, n));
      ReferenceKernels(t)->act_from_float(x.data(), xc.data(), n);
      for (const TypeKernels* k : tables) {
        for (std::int64_t rows : {0, 1, 3, 4, 5, 8, 9}) {
          std::vector<float> y(static_cast<std::size_t>(rows) + 1, -1.0f);
          k->vec_dot_rows(n, rows, w, row_bytes, xc.data(), y.data());
          for (std::int64_t r = 0; r < rows; ++r) {
            const float one = k->vec_dot(n, w + static_cast<std::size_t>(r) * row_bytes, xc.data());
            ASSERT_EQ(std::memcmp(&one, &y[static_cast<std::size_t>(r)], sizeof(float)), 0)
                << Where(*k, n) << " rows " << rows << " row " << r << ": " << one << " vs "
                << y[static_cast<std::size_t>(r)];
          }
          EXPECT_EQ(y[static_cast<std::size_t>(rows)], -1.0f) << "wrote past n_rows";
        }
      }
    }
  }
}

// vec_dot_tile must equal vec_dot bit for bit for every tile shape around the register tile
// (rows 0..9, tokens 0..31: the AVX-512 K-quant tiles step by 16, 8 and 4 tokens), with padded
// weight rows, activation rows at an odd stride and output rows wider than the tile; nothing
// outside the tile may be written.
TEST(SimdKernelsTest, VecDotTileEqualsVecDotPerPair) {
  int tiled_tables = 0;
  for (DType t : SimdTypes()) {
    for (const TypeKernels* k : SimdTables(t)) {
      if (k->vec_dot_tile == nullptr) continue;
      ++tiled_tables;
      for (std::int64_t n : {Sizes(t)[0], Sizes(t)[2], Sizes(t)[3]}) {
        constexpr std::int64_t kMax = 31;
        const std::size_t packed = RowBytes(t, n);
        const std::size_t row_bytes = packed + 3;
        const Weights dense = MakeWeights(t, kMax, n, 41);
        std::vector<std::uint8_t> padded(row_bytes * kMax + 1, 0);
        for (std::int64_t r = 0; r < kMax; ++r) {
          std::memcpy(padded.data() + 1 + static_cast<std::size_t>(r) * row_bytes,
                      dense.data() + static_cast<std::size_t>(r) * packed, packed);
        }
        const std::uint8_t* w = padded.data() + 1;
        const std::size_t act = ActivationBytes(t, n);
        const std::size_t x_stride = act + 5;
        std::vector<std::uint8_t> xs(x_stride * kMax + 1, 0);
        for (std::int64_t tok = 0; tok < kMax; ++tok) {
          const std::vector<float> x =
              RandomFloats(static_cast<std::size_t>(n), 42 + static_cast<std::uint32_t>(tok), 1.0f);
          k->act_from_float(x.data(), xs.data() + 1 + static_cast<std::size_t>(tok) * x_stride, n);
        }
        const std::uint8_t* xc = xs.data() + 1;
        for (std::int64_t rows : {0, 1, 3, 4, 5, 8, 9}) {
          for (std::int64_t toks : {0, 1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 21, 28, 31}) {
            const std::size_t y_stride = static_cast<std::size_t>(rows) + 2;
            std::vector<float> y(y_stride * static_cast<std::size_t>(toks) + 1, -1.0f);
            k->vec_dot_tile(n, rows, w, row_bytes, toks, xc, x_stride, y.data(), y_stride);
            for (std::int64_t tok = 0; tok < toks; ++tok) {
              const float* yt = y.data() + static_cast<std::size_t>(tok) * y_stride;
              for (std::int64_t r = 0; r < rows; ++r) {
                const float one = k->vec_dot(n, w + static_cast<std::size_t>(r) * row_bytes,
                                             xc + static_cast<std::size_t>(tok) * x_stride);
                ASSERT_EQ(std::memcmp(&one, &yt[r], sizeof(float)), 0)
                    << Where(*k, n) << " tile " << rows << "x" << toks << " row " << r
                    << " token " << tok << ": " << one << " vs " << yt[r];
              }
              ASSERT_EQ(yt[rows], -1.0f) << Where(*k, n) << " wrote past n_rows";
              ASSERT_EQ(yt[rows + 1], -1.0f) << Where(*k, n) << " wrote past n_rows";
            }
            ASSERT_EQ(y.back(), -1.0f) << Where(*k, n) << " wrote past n_tok";
          }
        }
      }
    }
  }
  if (tiled_tables == 0) GTEST_SKIP() << "no table on this CPU has vec_dot_tile";
}

// A batch through MatMulWith takes the tile path: every output equals the same table's
// one-token product bit for bit (batched prefill = token-by-token decode).
TEST(SimdKernelsTest, BatchedMatMulEqualsOneTokenAtATime) {
  for (DType t : SimdTypes()) {
    for (const TypeKernels* k : AllKernels(t)) {
      const std::int64_t n_cols = IsKQuant(t) ? 512 : 288;
      constexpr std::int64_t kRows = 37;
      constexpr std::int64_t kTokens = 70;  // more than one token chunk, not a multiple of 4
      const Weights wts = MakeWeights(t, kRows, n_cols, 51);
      const std::span<const std::uint8_t> bytes(wts.data(), RowBytes(t, n_cols) * kRows);
      const Result<WeightMatrix> w = MakeWeightMatrix(t, bytes, kRows, n_cols);
      ASSERT_TRUE(w.ok()) << w.status().ToString();
      const std::vector<float> x =
          RandomFloats(static_cast<std::size_t>(n_cols * kTokens), 52, 1.0f);
      std::vector<std::uint8_t> scratch(MatMulScratchBytes(t, n_cols, kTokens));
      std::vector<float> batch(kRows * kTokens);
      MatMulWith(*k, *w, x.data(), kTokens, batch.data(), scratch);
      std::vector<float> one(kRows);
      for (std::int64_t tok = 0; tok < kTokens; ++tok) {
        MatMulWith(*k, *w, x.data() + tok * n_cols, 1, one.data(), scratch);
        ASSERT_EQ(std::memcmp(one.data(), batch.data() + tok * kRows, sizeof(float) * kRows), 0)
            << Where(*k, n_cols) << " token " << tok;
      }
    }
  }
}

// MatMulWith over a SIMD table: the end-to-end product stays within the budget of the
// reference product.
TEST(SimdKernelsTest, MatMulWithSimdTableMatchesReference) {
  for (DType t : SimdTypes()) {
    const std::vector<const TypeKernels*> tables = SimdTables(t);
    SKIP_WITHOUT_SIMD(tables);
    const std::int64_t n_cols = IsKQuant(t) ? 768 : 288;
    constexpr std::int64_t kRows = 13;
    constexpr std::int64_t kTokens = 2;
    const Weights wts = MakeWeights(t, kRows, n_cols, 31);
    const std::span<const std::uint8_t> bytes(wts.data(), RowBytes(t, n_cols) * kRows);
    const Result<WeightMatrix> w = MakeWeightMatrix(t, bytes, kRows, n_cols);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    const std::vector<float> x = RandomFloats(static_cast<std::size_t>(n_cols * kTokens), 32, 1.0f);
    std::vector<std::uint8_t> scratch(MatMulScratchBytes(t, n_cols, kTokens));
    std::vector<float> want(kRows * kTokens);
    MatMulWith(*ReferenceKernels(t), *w, x.data(), kTokens, want.data(), scratch);
    std::vector<std::uint8_t> xc(ActivationBytes(t, n_cols));
    for (const TypeKernels* k : tables) {
      std::vector<float> got(kRows * kTokens);
      MatMulWith(*k, *w, x.data(), kTokens, got.data(), scratch);
      for (std::int64_t tok = 0; tok < kTokens; ++tok) {
        ReferenceKernels(t)->act_from_float(x.data() + tok * n_cols, xc.data(), n_cols);
        for (std::int64_t r = 0; r < kRows; ++r) {
          const std::uint8_t* wr = wts.data() + static_cast<std::size_t>(r) * RowBytes(t, n_cols);
          const double rel = IsBlocked(t) ? QuantDotBudget(t, n_cols) : FloatDotBudget(n_cols);
          const double budget = rel * AbsDot(t, wr, xc.data(), n_cols) + 1e-30;
          const std::size_t i = static_cast<std::size_t>(tok * kRows + r);
          EXPECT_LE(std::fabs(static_cast<double>(got[i]) - want[i]), budget) << Where(*k, n_cols);
        }
      }
    }
  }
}

// Integer overflow corners: Q8_0 weights of -128 and 127 (possible in files) against extreme
// activations; Q4_0 nibbles 0 and 15. Results must equal the reference exactly here, since every
// block sum is an exact integer and a single block has nothing to reorder.
TEST(SimdKernelsTest, ExtremeQuantsGiveExactBlockSums) {
  for (DType t : {DType::kQ8_0, DType::kQ4_0}) {
    const std::vector<const TypeKernels*> tables = SimdTables(t);
    SKIP_WITHOUT_SIMD(tables);
    const std::size_t wbytes = tensor::TypeSize(t);
    std::vector<std::uint8_t> w(wbytes, 0);
    const std::uint16_t one_half = 0x3C00;  // f16 1.0
    std::memcpy(w.data(), &one_half, 2);
    for (std::size_t i = 2; i < wbytes; ++i) {
      w[i] = t == DType::kQ8_0 ? (i % 2 == 0 ? 0x80 : 0x7F) : (i % 2 == 0 ? 0x0F : 0xF0);
    }
    std::vector<float> x(32);
    for (int j = 0; j < 32; ++j)
      x[static_cast<std::size_t>(j)] = j % 3 == 0 ? -127.0f : 127.0f;  // d_x = 1
    std::vector<std::uint8_t> xc(ActivationBytes(t, 32));
    ReferenceKernels(t)->act_from_float(x.data(), xc.data(), 32);
    const float want = ReferenceKernels(t)->vec_dot(32, w.data(), xc.data());
    for (const TypeKernels* k : tables) {
      EXPECT_EQ(k->vec_dot(32, w.data(), xc.data()), want) << k->variant;
    }
  }
}

}  // namespace
}  // namespace tessera::kernels
