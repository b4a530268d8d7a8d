// Tests of MatMul over a thread pool (kernels/kernels.h, base/thread_pool.h): for every kernel
// table of every type, the product with 1 and 2 threads is bit-identical to the product on the
// calling thread alone and to one vec_dot per output element, for row counts around the row
// block and task sizes and for batches that take the parallel activation conversion.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <random>
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

TEST(MatMulThreadsTest, BitIdenticalForAnyPoolSizeAndEqualToVecDot) {
  std::vector<std::unique_ptr<base::ThreadPool>> pools;
  for (int n = 1; n <= std::min(2, base::ThreadPool::MaxThreads()); ++n) {
    Result<std::unique_ptr<base::ThreadPool>> p = base::ThreadPool::Create(n);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    pools.push_back(std::move(p).value());
  }
  const std::int64_t n_cols = 256;
  for (DType type : {DType::kF32, DType::kF16, DType::kBF16, DType::kQ8_0, DType::kQ4_0}) {
    for (std::int64_t n_rows : {1, 15, 16, 17, 300, 1037}) {
      const std::vector<float> w_src =
          RandomFloats(static_cast<std::size_t>(n_rows * n_cols), 7 + static_cast<int>(n_rows));
      std::vector<std::uint8_t> w_q(static_cast<std::size_t>(n_rows) *
                                    tensor::RowBytes(type, n_cols).value());
      ASSERT_TRUE(tensor::Quantize(type, w_src, n_cols, w_q).ok());
      Result<WeightMatrix> m = MakeWeightMatrix(type, w_q, n_rows, n_cols);
      ASSERT_TRUE(m.ok()) << m.status().ToString();
      for (const TypeKernels* k : AllKernels(type)) {
        for (std::int64_t n_tokens : {1, 3, 9}) {
          SCOPED_TRACE(std::string(tensor::TypeName(type)) + " " + k->variant + " rows " +
                       std::to_string(n_rows) + " tokens " + std::to_string(n_tokens));
          const std::vector<float> x =
              RandomFloats(static_cast<std::size_t>(n_tokens * n_cols), 11);
          std::vector<std::uint8_t> scratch(MatMulScratchBytes(type, n_cols, n_tokens));
          std::vector<float> y_alone(static_cast<std::size_t>(n_tokens * n_rows), -1.0f);
          MatMulWith(*k, *m, x.data(), n_tokens, y_alone.data(), scratch, nullptr);
          // One vec_dot per element, the single-threaded definition.
          std::vector<std::uint8_t> x_conv(ActivationBytes(type, n_cols));
          for (std::int64_t t = 0; t < n_tokens; ++t) {
            k->act_from_float(x.data() + t * n_cols, x_conv.data(), n_cols);
            for (std::int64_t r = 0; r < n_rows; ++r) {
              ASSERT_EQ(y_alone[static_cast<std::size_t>(t * n_rows + r)],
                        k->vec_dot(n_cols, w_q.data() + r * m->row_bytes, x_conv.data()))
                  << "token " << t << " row " << r;
            }
          }
          for (const std::unique_ptr<base::ThreadPool>& pool : pools) {
            std::vector<float> y(y_alone.size(), -2.0f);
            MatMulWith(*k, *m, x.data(), n_tokens, y.data(), scratch, pool.get());
            ASSERT_EQ(y, y_alone) << pool->n_threads() << " threads";
          }
        }
      }
    }
  }
}

TEST(MatMulThreadsTest, ActiveTableWithPoolMatchesWithout) {
  Result<std::unique_ptr<base::ThreadPool>> pool =
      base::ThreadPool::Create(base::ThreadPool::MaxThreads());
  ASSERT_TRUE(pool.ok());
  const std::int64_t n_rows = 777, n_cols = 96, n_tokens = 17;
  const std::vector<float> w = RandomFloats(static_cast<std::size_t>(n_rows * n_cols), 3);
  std::vector<std::uint8_t> w_q(static_cast<std::size_t>(n_rows) *
                                tensor::RowBytes(DType::kQ8_0, n_cols).value());
  ASSERT_TRUE(tensor::Quantize(DType::kQ8_0, w, n_cols, w_q).ok());
  Result<WeightMatrix> m = MakeWeightMatrix(DType::kQ8_0, w_q, n_rows, n_cols);
  ASSERT_TRUE(m.ok());
  const std::vector<float> x = RandomFloats(static_cast<std::size_t>(n_tokens * n_cols), 5);
  std::vector<std::uint8_t> scratch(MatMulScratchBytes(DType::kQ8_0, n_cols, n_tokens));
  std::vector<float> a(static_cast<std::size_t>(n_tokens * n_rows));
  std::vector<float> b(a.size());
  MatMul(*m, x.data(), n_tokens, a.data(), scratch);
  MatMul(*m, x.data(), n_tokens, b.data(), scratch, pool->get());
  EXPECT_EQ(a, b);
}

}  // namespace
}  // namespace tessera::kernels
