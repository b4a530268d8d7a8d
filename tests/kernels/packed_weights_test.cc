// Tests of packed weights (kernels/kernels.h: PackWeights, TypeKernels::packed_tile, MatMul over
// a packed copy): every table's packed_tile is bit-identical to the scalar reference's vec_dot
// (the Q4_0x8 and Q8_0x8 kernels replicate its operations lane by lane), for row counts with and without a
// remainder of unpacked rows, token counts around the kernels' token tiles, extreme levels and
// activations, and any pool size; MatMul really reads the copy; the layout is the documented one.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "base/thread_pool.h"
#include "kernels/kernels.h"
#include "tensor/quantize.h"
#include "tensor/types.h"

namespace tessera::kernels {
namespace {

using tensor::DType;

std::vector<float> RandomFloats(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

std::vector<std::uint8_t> QuantizeAs(DType type, const std::vector<float>& src,
                                     std::int64_t n_cols) {
  std::vector<std::uint8_t> q(src.size() / static_cast<std::size_t>(n_cols) *
                              tensor::RowBytes(type, n_cols).value());
  EXPECT_TRUE(tensor::Quantize(type, src, n_cols, q).ok());
  return q;
}
std::vector<std::uint8_t> QuantizeQ4_0(const std::vector<float>& src, std::int64_t n_cols) {
  return QuantizeAs(DType::kQ4_0, src, n_cols);
}

constexpr DType kPackedTypes[] = {DType::kQ4_0, DType::kQ8_0};

// y[t, r] = the reference vec_dot of row r (file layout) and token t.
std::vector<float> ReferenceProduct(const WeightMatrix& w, const std::vector<float>& x,
                                    std::int64_t n_tokens) {
  const TypeKernels& ref = *ReferenceKernels(w.type);
  std::vector<std::uint8_t> xc(ActivationBytes(w.type, w.n_cols));
  std::vector<float> y(static_cast<std::size_t>(n_tokens * w.n_rows));
  for (std::int64_t t = 0; t < n_tokens; ++t) {
    ref.act_from_float(x.data() + t * w.n_cols, xc.data(), w.n_cols);
    for (std::int64_t r = 0; r < w.n_rows; ++r) {
      y[static_cast<std::size_t>(t * w.n_rows + r)] =
          ref.vec_dot(w.n_cols, w.data + r * w.row_bytes, xc.data());
    }
  }
  return y;
}

// MatMul with table k over w, after packing, equals the reference in the packed rows and the
// table's own unpacked product in the remaining ones.
void ExpectPackedProduct(const TypeKernels& k, const WeightMatrix& w, const std::vector<float>& x,
                         std::int64_t n_tokens, base::ThreadPool* pool) {
  std::vector<std::uint8_t> copy(PackedWeightBytes(w));
  const WeightMatrix packed = PackWeights(w, copy);
  ASSERT_EQ(packed.packed, copy.data());
  std::vector<std::uint8_t> scratch(MatMulScratchBytes(w.type, w.n_cols, n_tokens) + 1);
  // An odd offset: MatMul must not rely on the scratch's alignment.
  const std::span<std::uint8_t> odd(scratch.data() + 1, scratch.size() - 1);
  std::vector<float> y(static_cast<std::size_t>(n_tokens * w.n_rows), -1.0f);
  MatMulWith(k, packed, x.data(), n_tokens, y.data(), odd, pool);
  std::vector<float> y_plain(y.size(), -2.0f);
  MatMulWith(k, w, x.data(), n_tokens, y_plain.data(), odd, nullptr);
  const std::vector<float> y_ref = ReferenceProduct(w, x, n_tokens);
  const std::int64_t n_packed = w.n_rows / kPackRows * kPackRows;
  for (std::int64_t t = 0; t < n_tokens; ++t) {
    for (std::int64_t r = 0; r < w.n_rows; ++r) {
      const auto i = static_cast<std::size_t>(t * w.n_rows + r);
      const float want = r < n_packed ? y_ref[i] : y_plain[i];
      ASSERT_EQ(y[i], want) << "token " << t << " row " << r << " (packed rows: " << n_packed
                            << ")";
    }
  }
}

TEST(PackedWeightsTest, OnlyQ4_0AndQ8_0HaveALayoutAndTheCopyIsAsLargeAsItsRows) {
  std::vector<std::uint8_t> bytes(1 << 16);
  Result<WeightMatrix> q4 = MakeWeightMatrix(DType::kQ4_0, bytes, 27, 64);
  ASSERT_TRUE(q4.ok());
  EXPECT_EQ(PackedWeightBytes(*q4), 24u * 2 * 18);  // 3 groups of 8 rows, 2 blocks of 18 bytes
  Result<WeightMatrix> q8 = MakeWeightMatrix(DType::kQ8_0, bytes, 16, 64);
  ASSERT_TRUE(q8.ok());
  EXPECT_EQ(PackedWeightBytes(*q8), 16u * 2 * 34);
  Result<WeightMatrix> few = MakeWeightMatrix(DType::kQ4_0, bytes, 7, 64);
  ASSERT_TRUE(few.ok());
  EXPECT_EQ(PackedWeightBytes(*few), 0u);
  std::vector<std::uint8_t> none;
  EXPECT_EQ(PackWeights(*few, none).packed, nullptr);
  for (DType type : {DType::kF32, DType::kF16, DType::kQ4_1, DType::kQ4_K}) {
    Result<WeightMatrix> m = MakeWeightMatrix(type, bytes, 16, 256);
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(PackedWeightBytes(*m), 0u) << tensor::TypeName(type);
    EXPECT_FALSE(PackingHelps(type)) << tensor::TypeName(type);
  }
  EXPECT_EQ(MatMulScratchBytes(DType::kF16, 256, 3), 1536u);  // 3 x 512 bytes
  // Q4_0 and Q8_0 add 64 bytes of alignment slack and one 8-byte summary per block.
  EXPECT_EQ(MatMulScratchBytes(DType::kQ4_0, 256, 3), 832u + 64 + 192);
  EXPECT_EQ(MatMulScratchBytes(DType::kQ8_0, 256, 3), 832u + 64 + 192);
}

TEST(PackedWeightsTest, LayoutInterleavesFourBytesOfEachRow) {
  const std::int64_t n_rows = 8;
  const std::int64_t n_cols = 64;
  for (DType type : kPackedTypes) {
    const std::size_t block = tensor::TypeSize(type);  // 18 or 34
    std::vector<std::uint8_t> file(static_cast<std::size_t>(n_rows) * 2 * block);
    for (std::size_t i = 0; i < file.size(); ++i) file[i] = static_cast<std::uint8_t>(i * 7 + 3);
    Result<WeightMatrix> w = MakeWeightMatrix(type, file, n_rows, n_cols);
    ASSERT_TRUE(w.ok());
    std::vector<std::uint8_t> copy(PackedWeightBytes(*w));
    ASSERT_EQ(copy.size(), file.size());
    PackWeights(*w, copy);
    for (std::size_t b = 0; b < 2; ++b) {
      const std::uint8_t* group_block = copy.data() + b * 8 * block;
      for (std::size_t row = 0; row < 8; ++row) {
        const std::uint8_t* src = file.data() + row * 2 * block + b * block;
        EXPECT_EQ(group_block[2 * row], src[0]);
        EXPECT_EQ(group_block[2 * row + 1], src[1]);
        for (std::size_t m = 0; m < block - 2; ++m) {
          EXPECT_EQ(group_block[16 + (m / 4) * 32 + row * 4 + m % 4], src[2 + m])
              << tensor::TypeName(type) << " block " << b << " row " << row << " byte " << m;
        }
      }
    }
  }
}

TEST(PackedWeightsTest, EveryPackedTileIsBitIdenticalToTheReference) {
  for (DType type : kPackedTypes) {
    int tables = 0;
    for (const TypeKernels* k : AllKernels(type)) {
      if (k->packed_tile == nullptr) continue;
      ++tables;
      for (std::int64_t n_cols : {32, 288, 768}) {
        for (std::int64_t n_rows : {8, 27, 64, 300}) {
          const std::vector<std::uint8_t> q = QuantizeAs(
              type, RandomFloats(static_cast<std::size_t>(n_rows * n_cols), 3 + n_rows + n_cols),
              n_cols);
          Result<WeightMatrix> w = MakeWeightMatrix(type, q, n_rows, n_cols);
          ASSERT_TRUE(w.ok());
          for (std::int64_t n_tokens : {1, 2, 3, 4, 5, 8, 33, 70}) {
            SCOPED_TRACE(std::string(tensor::TypeName(type)) + " " + k->variant + " rows " +
                         std::to_string(n_rows) + " cols " + std::to_string(n_cols) +
                         " tokens " + std::to_string(n_tokens));
            const std::vector<float> x =
                RandomFloats(static_cast<std::size_t>(n_tokens * n_cols), 17 + n_tokens);
            ExpectPackedProduct(*k, *w, x, n_tokens, nullptr);
          }
        }
      }
    }
    EXPECT_GE(tables, 1) << tensor::TypeName(type);  // the reference table has one
  }
}

// Levels 0 and 15 against activations of +-127 everywhere: the int16 sums of a block reach
// 8 * 2 * 15 * 127 = 30480, the widest the AVX2 kernel accumulates before widening.
TEST(PackedWeightsTest, ExtremeLevelsAndActivationsAreExact) {
  const std::int64_t n_rows = 16;
  const std::int64_t n_cols = 256;
  std::vector<float> w_src(static_cast<std::size_t>(n_rows * n_cols));
  for (std::size_t i = 0; i < w_src.size(); ++i) {
    // Row r's sign pattern: all -8 * d (level 0), all +7 * d (level 15), or alternating.
    const std::size_t r = i / static_cast<std::size_t>(n_cols);
    w_src[i] = r % 3 == 0 ? -8.0f : r % 3 == 1 ? 7.0f : (i % 2 == 0 ? -8.0f : 7.0f);
  }
  const std::vector<std::uint8_t> q = QuantizeQ4_0(w_src, n_cols);
  Result<WeightMatrix> w = MakeWeightMatrix(DType::kQ4_0, q, n_rows, n_cols);
  ASSERT_TRUE(w.ok());
  // Q8_0 levels of +-127 (and alternating): pair sums of 2 * 127 * 127 in every chunk.
  for (float& v : w_src) v = v < 0.0f ? -1.0f : 1.0f;
  const std::vector<std::uint8_t> q8 = QuantizeAs(DType::kQ8_0, w_src, n_cols);
  Result<WeightMatrix> w8 = MakeWeightMatrix(DType::kQ8_0, q8, n_rows, n_cols);
  ASSERT_TRUE(w8.ok());
  for (float sign : {1.0f, -1.0f}) {
    std::vector<float> x(static_cast<std::size_t>(5 * n_cols), sign);
    for (std::size_t i = static_cast<std::size_t>(n_cols); i < x.size(); i += 3) x[i] = -sign;
    for (const WeightMatrix* m : {&*w, &*w8}) {
      for (const TypeKernels* k : AllKernels(m->type)) {
        if (k->packed_tile == nullptr) continue;
        SCOPED_TRACE(std::string(tensor::TypeName(m->type)) + " " + k->variant + " sign " +
                     std::to_string(sign));
        ExpectPackedProduct(*k, *m, x, 5, nullptr);
      }
    }
  }
}

TEST(PackedWeightsTest, AnyPoolSizeGivesTheSameBits) {
  const std::int64_t n_rows = 1037;
  const std::int64_t n_cols = 256;
  for (DType type : kPackedTypes) {
    const std::vector<std::uint8_t> q =
        QuantizeAs(type, RandomFloats(static_cast<std::size_t>(n_rows * n_cols), 5), n_cols);
    Result<WeightMatrix> w = MakeWeightMatrix(type, q, n_rows, n_cols);
    ASSERT_TRUE(w.ok());
    // Every table with a packed tile: the active one need not have one (with AVX512-VNNI the
    // unpacked VNNI tiles serve Q4_0 and Q8_0, and nothing is packed).
    for (const TypeKernels* k : AllKernels(type)) {
      if (k->packed_tile == nullptr) continue;
      for (int n = 1; n <= std::min(2, base::ThreadPool::MaxThreads()); ++n) {
        Result<std::unique_ptr<base::ThreadPool>> pool = base::ThreadPool::Create(n);
        ASSERT_TRUE(pool.ok());
        for (std::int64_t n_tokens : {1, 9, 40}) {
          SCOPED_TRACE(std::string(tensor::TypeName(type)) + " " + k->variant + " " +
                       std::to_string(n) + " threads, tokens " + std::to_string(n_tokens));
          const std::vector<float> x = RandomFloats(static_cast<std::size_t>(n_tokens * n_cols), 9);
          ExpectPackedProduct(*k, *w, x, n_tokens, pool->get());
        }
      }
    }
  }
}

// After packing, the file's bytes of the packed rows are not read: zeroing them changes nothing
// where the active table has a packed_tile, and the remaining rows still come from the file.
TEST(PackedWeightsTest, MatMulReadsTheCopyInsteadOfTheFile) {
  if (!PackingHelps(DType::kQ4_0)) GTEST_SKIP() << "active Q4_0 table has no packed_tile";
  const std::int64_t n_rows = 20;
  const std::int64_t n_cols = 128;
  std::vector<std::uint8_t> q =
      QuantizeQ4_0(RandomFloats(static_cast<std::size_t>(n_rows * n_cols), 21), n_cols);
  Result<WeightMatrix> w = MakeWeightMatrix(DType::kQ4_0, q, n_rows, n_cols);
  ASSERT_TRUE(w.ok());
  const std::vector<float> x = RandomFloats(static_cast<std::size_t>(3 * n_cols), 4);
  const std::vector<float> want = ReferenceProduct(*w, x, 3);
  std::vector<std::uint8_t> copy(PackedWeightBytes(*w));
  const WeightMatrix packed = PackWeights(*w, copy);
  std::fill(q.begin(), q.begin() + static_cast<std::ptrdiff_t>(copy.size()), 0);
  std::vector<std::uint8_t> scratch(MatMulScratchBytes(DType::kQ4_0, n_cols, 3));
  std::vector<float> y(want.size());
  MatMul(packed, x.data(), 3, y.data(), scratch);
  for (std::int64_t t = 0; t < 3; ++t) {
    for (std::int64_t r = 0; r < 16; ++r) {
      const auto i = static_cast<std::size_t>(t * n_rows + r);
      EXPECT_EQ(y[i], want[i]) << "token " << t << " row " << r;
    }
  }
}


// GetRow reads packed rows from the copy (a tied output's embedding lookups must not touch the
// file pages the copy replaced): the same floats as the file's rows, even with those zeroed.
TEST(PackedWeightsTest, GetRowReadsTheCopy) {
  const std::int64_t n_rows = 21;
  const std::int64_t n_cols = 96;
  for (DType type : kPackedTypes) {
    std::vector<std::uint8_t> q =
        QuantizeAs(type, RandomFloats(static_cast<std::size_t>(n_rows * n_cols), 8), n_cols);
    Result<WeightMatrix> w = MakeWeightMatrix(type, q, n_rows, n_cols);
    ASSERT_TRUE(w.ok());
    std::vector<std::vector<float>> want(static_cast<std::size_t>(n_rows),
                                         std::vector<float>(static_cast<std::size_t>(n_cols)));
    for (std::int64_t r = 0; r < n_rows; ++r) {
      ASSERT_TRUE(GetRow(*w, r, want[static_cast<std::size_t>(r)]).ok());
    }
    std::vector<std::uint8_t> copy(PackedWeightBytes(*w));
    const WeightMatrix packed = PackWeights(*w, copy);
    std::fill(q.begin(), q.begin() + static_cast<std::ptrdiff_t>(copy.size()), 0);
    std::vector<float> got(static_cast<std::size_t>(n_cols));
    for (std::int64_t r = 0; r < n_rows; ++r) {
      ASSERT_TRUE(GetRow(packed, r, got).ok());
      EXPECT_EQ(got, want[static_cast<std::size_t>(r)]) << tensor::TypeName(type) << " row " << r;
    }
  }
}

}  // namespace
}  // namespace tessera::kernels
