// Micro-benchmarks of the per-type kernels: vec_dot and MatMul for every compute type, the scalar
// reference beside the active table (identical today; SIMD variants replace the active one later).
//
// Rates: bytes/s counts the weight bytes streamed (the quantity that bounds a mat-vec), items/s
// counts multiply-adds, and "GFLOP/s" is 2 * multiply-adds. Run:
//   build/<dir>/bench/kernels_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <vector>

#include "kernels/kernels.h"
#include "tensor/quantize.h"
#include "tensor/types.h"

namespace tessera::kernels {
namespace {

using tensor::DType;

enum class Variant { kReference, kActive };

const TypeKernels& Table(DType type, Variant v) {
  return v == Variant::kReference ? *ReferenceKernels(type) : *Kernels(type);
}

std::vector<float> RandomFloats(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

std::vector<std::uint8_t> QuantizedMatrix(DType type, std::int64_t n_rows, std::int64_t n_cols) {
  const std::vector<float> w = RandomFloats(static_cast<std::size_t>(n_rows * n_cols), 1);
  std::vector<std::uint8_t> q(static_cast<std::size_t>(n_rows) *
                              tensor::RowBytes(type, static_cast<std::uint64_t>(n_cols)).value());
  if (!tensor::Quantize(type, w, n_cols, q).ok()) q.clear();
  return q;
}

// One dot product of a weight row of state.range(0) elements with a converted activation.
void BM_VecDot(benchmark::State& state, DType type, Variant variant) {
  const std::int64_t n = state.range(0);
  const TypeKernels& k = Table(type, variant);
  const std::vector<std::uint8_t> w = QuantizedMatrix(type, 1, n);
  const std::vector<float> x = RandomFloats(static_cast<std::size_t>(n), 2);
  std::vector<std::uint8_t> xc(ActivationBytes(type, n));
  k.act_from_float(x.data(), xc.data(), n);
  for (auto _ : state) {
    benchmark::DoNotOptimize(k.vec_dot(n, w.data(), xc.data()));
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(w.size()));
  state.SetItemsProcessed(state.iterations() * n);
  state.SetLabel(k.variant);
}

// y[n_tokens, rows] = W[rows, cols] x[n_tokens, cols]; args: rows, cols, n_tokens.
void BM_MatMul(benchmark::State& state, DType type, Variant variant) {
  const std::int64_t n_rows = state.range(0);
  const std::int64_t n_cols = state.range(1);
  const std::int64_t n_tokens = state.range(2);
  const TypeKernels& k = Table(type, variant);
  const std::vector<std::uint8_t> data = QuantizedMatrix(type, n_rows, n_cols);
  Result<WeightMatrix> w = MakeWeightMatrix(type, data, n_rows, n_cols);
  if (!w.ok()) {
    state.SkipWithError(w.status().ToString().c_str());
    return;
  }
  const std::vector<float> x = RandomFloats(static_cast<std::size_t>(n_tokens * n_cols), 3);
  std::vector<float> y(static_cast<std::size_t>(n_tokens * n_rows));
  std::vector<std::uint8_t> scratch(MatMulScratchBytes(type, n_cols, n_tokens));
  for (auto _ : state) {
    MatMulWith(k, *w, x.data(), n_tokens, y.data(), scratch);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  const double macs = static_cast<double>(n_rows) * static_cast<double>(n_cols) *
                      static_cast<double>(n_tokens);
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(data.size()));
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(macs));
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * macs * 1e-9 * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate);
  state.SetLabel(k.variant);
}

void VecDotArgs(benchmark::internal::Benchmark* b) {
  for (int n : {288, 768, 2048, 4096}) b->Arg(n);
}

// Shapes of tiny llama models: 288x288 (stories15M attention), 768x2048 and 2048x768 (FFN of a
// 768-wide model), 32000x288 (an output projection); one token (decode) and 8 (prefill).
void MatMulArgs(benchmark::internal::Benchmark* b) {
  b->ArgNames({"rows", "cols", "tokens"});
  for (const auto& [r, c] : {std::pair{288, 288}, {768, 2048}, {2048, 768}, {32000, 288}}) {
    b->Args({r, c, 1});
  }
  b->Args({768, 2048, 8});
  b->Unit(benchmark::kMicrosecond);
}

#define TS_KERNEL_BENCH(type_name, dtype)                                                    \
  BENCHMARK_CAPTURE(BM_VecDot, type_name##_reference, dtype, Variant::kReference)            \
      ->Apply(VecDotArgs);                                                                   \
  BENCHMARK_CAPTURE(BM_VecDot, type_name##_active, dtype, Variant::kActive)->Apply(VecDotArgs); \
  BENCHMARK_CAPTURE(BM_MatMul, type_name##_reference, dtype, Variant::kReference)            \
      ->Apply(MatMulArgs);                                                                   \
  BENCHMARK_CAPTURE(BM_MatMul, type_name##_active, dtype, Variant::kActive)->Apply(MatMulArgs)

TS_KERNEL_BENCH(f32, DType::kF32);
TS_KERNEL_BENCH(f16, DType::kF16);
TS_KERNEL_BENCH(bf16, DType::kBF16);
TS_KERNEL_BENCH(q8_0, DType::kQ8_0);
TS_KERNEL_BENCH(q4_0, DType::kQ4_0);

}  // namespace
}  // namespace tessera::kernels
