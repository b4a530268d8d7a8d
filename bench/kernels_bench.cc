// Micro-benchmarks of the per-type kernels: vec_dot, the matrix-vector product through
// vec_dot_rows (what a mat-vec should call) and MatMulWith, for every compute type and every
// kernel variant this CPU runs (AllKernels: the scalar reference first, then AVX2, AVX-512 and
// its VNNI / BF16 sub-tables), on the shapes of the benchmark models of PEERS.md.
//
// Rates: bytes/s counts the weight bytes streamed (the quantity that bounds a mat-vec), items/s
// counts multiply-adds, and "GFLOP/s" is 2 * multiply-adds. Names read
// BM_<what>/<type>/<variant>/<args>. Run:
//   build/<dir>/bench/kernels_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "base/thread_pool.h"
#include "kernels/kernels.h"
#include "tensor/quantize.h"
#include "tensor/types.h"

namespace tessera::kernels {
namespace {

using tensor::DType;

std::vector<float> RandomFloats(std::size_t n, std::uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// n_rows x n_cols weights from N(0, 0.02) quantized to `type`; empty if the type cannot be
// quantized here.
std::vector<std::uint8_t> QuantizedMatrix(DType type, std::int64_t n_rows, std::int64_t n_cols) {
  const std::vector<float> w = RandomFloats(static_cast<std::size_t>(n_rows * n_cols), 1, 0.02f);
  const Result<std::uint64_t> row = tensor::RowBytes(type, static_cast<std::uint64_t>(n_cols));
  if (!row.ok()) return {};
  std::vector<std::uint8_t> q(static_cast<std::size_t>(n_rows) * row.value());
  if (!tensor::Quantize(type, w, n_cols, q).ok()) q.clear();
  return q;
}

// One dot product of a weight row of state.range(0) elements with a converted activation.
void BM_VecDot(benchmark::State& state, const TypeKernels* k) {
  const std::int64_t n = state.range(0);
  const std::vector<std::uint8_t> w = QuantizedMatrix(k->type, 1, n);
  if (w.empty()) {
    state.SkipWithError("cannot quantize");
    return;
  }
  const std::vector<float> x = RandomFloats(static_cast<std::size_t>(n), 2, 1.0f);
  std::vector<std::uint8_t> xc(ActivationBytes(k->type, n));
  k->act_from_float(x.data(), xc.data(), n);
  for (auto _ : state) {
    benchmark::DoNotOptimize(k->vec_dot(n, w.data(), xc.data()));
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(w.size()));
  state.SetItemsProcessed(state.iterations() * n);
  state.SetLabel(k->variant);
}

void SetMatVecCounters(benchmark::State& state, std::size_t weight_bytes, double macs) {
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(weight_bytes));
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(macs));
  state.counters["GFLOP/s"] = benchmark::Counter(
      2.0 * macs * 1e-9 * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

// One decode-step mat-vec, y[rows] = W[rows, cols] x[cols]: act_from_float once, then
// vec_dot_rows over all rows (vec_dot per row for tables without it). Args: rows, cols.
void BM_MatVec(benchmark::State& state, const TypeKernels* k) {
  const std::int64_t n_rows = state.range(0);
  const std::int64_t n_cols = state.range(1);
  const std::vector<std::uint8_t> w = QuantizedMatrix(k->type, n_rows, n_cols);
  if (w.empty()) {
    state.SkipWithError("cannot quantize");
    return;
  }
  const std::size_t row_bytes = w.size() / static_cast<std::size_t>(n_rows);
  const std::vector<float> x = RandomFloats(static_cast<std::size_t>(n_cols), 3, 1.0f);
  std::vector<std::uint8_t> xc(ActivationBytes(k->type, n_cols));
  std::vector<float> y(static_cast<std::size_t>(n_rows));
  for (auto _ : state) {
    k->act_from_float(x.data(), xc.data(), n_cols);
    if (k->vec_dot_rows != nullptr) {
      k->vec_dot_rows(n_cols, n_rows, w.data(), row_bytes, xc.data(), y.data());
    } else {
      for (std::int64_t r = 0; r < n_rows; ++r) {
        y[static_cast<std::size_t>(r)] =
            k->vec_dot(n_cols, w.data() + static_cast<std::size_t>(r) * row_bytes, xc.data());
      }
    }
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  SetMatVecCounters(state, w.size(), static_cast<double>(n_rows) * static_cast<double>(n_cols));
  state.SetLabel(k->variant);
}

// y[n_tokens, rows] = W[rows, cols] x[n_tokens, cols] through MatMulWith (matmul.cc as it is);
// args: rows, cols, n_tokens. With `packed`, over the packed copy of W (PackWeights; the
// tables with a packed_tile), as a model loaded with packed weights runs.
void BM_MatMul(benchmark::State& state, const TypeKernels* k, bool packed) {
  const std::int64_t n_rows = state.range(0);
  const std::int64_t n_cols = state.range(1);
  const std::int64_t n_tokens = state.range(2);
  const std::vector<std::uint8_t> data = QuantizedMatrix(k->type, n_rows, n_cols);
  Result<WeightMatrix> w = MakeWeightMatrix(k->type, data, n_rows, n_cols);
  if (!w.ok()) {
    state.SkipWithError(w.status().ToString().c_str());
    return;
  }
  std::vector<std::uint8_t> copy(packed ? PackedWeightBytes(*w) : 0);
  if (packed) *w = PackWeights(*w, copy);
  const std::vector<float> x = RandomFloats(static_cast<std::size_t>(n_tokens * n_cols), 3, 1.0f);
  std::vector<float> y(static_cast<std::size_t>(n_tokens * n_rows));
  std::vector<std::uint8_t> scratch(MatMulScratchBytes(k->type, n_cols, n_tokens));
  for (auto _ : state) {
    MatMulWith(*k, *w, x.data(), n_tokens, y.data(), scratch);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  SetMatVecCounters(
      state, data.size(),
      static_cast<double>(n_rows) * static_cast<double>(n_cols) * static_cast<double>(n_tokens));
  state.SetLabel(k->variant);
}

// The batch product of BM_MatMul on a thread pool of `threads` threads (ThreadPool refuses more
// than the machine's cores); args: rows, cols, n_tokens, threads. Compare with BM_MatMul's
// one-thread figure of the same shape for the scaling.
void BM_MatMulPool(benchmark::State& state, const TypeKernels* k) {
  const std::int64_t n_rows = state.range(0);
  const std::int64_t n_cols = state.range(1);
  const std::int64_t n_tokens = state.range(2);
  auto pool = base::ThreadPool::Create(static_cast<int>(state.range(3)));
  if (!pool.ok()) {
    state.SkipWithError(pool.status().ToString().c_str());
    return;
  }
  const std::vector<std::uint8_t> data = QuantizedMatrix(k->type, n_rows, n_cols);
  Result<WeightMatrix> w = MakeWeightMatrix(k->type, data, n_rows, n_cols);
  if (!w.ok()) {
    state.SkipWithError(w.status().ToString().c_str());
    return;
  }
  const std::vector<float> x = RandomFloats(static_cast<std::size_t>(n_tokens * n_cols), 3, 1.0f);
  std::vector<float> y(static_cast<std::size_t>(n_tokens * n_rows));
  std::vector<std::uint8_t> scratch(MatMulScratchBytes(k->type, n_cols, n_tokens));
  for (auto _ : state) {
    MatMulWith(*k, *w, x.data(), n_tokens, y.data(), scratch, pool->get());
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  SetMatVecCounters(
      state, data.size(),
      static_cast<double>(n_rows) * static_cast<double>(n_cols) * static_cast<double>(n_tokens));
  state.SetLabel(k->variant);
}

// Mat-vec shapes (rows x cols) of the PEERS.md models: s15m (n_embd 288, n_ff 768, vocab 32000),
// s110m (768, 2048), smol135m (576, 1536, kv 192, vocab 49152).
const std::pair<int, int> kMatVecShapes[] = {{288, 288},  {768, 288},  {288, 768},  {32000, 288},
                                             {768, 768},  {2048, 768}, {768, 2048}, {576, 576},
                                             {1536, 576}, {576, 1536}, {192, 576},  {49152, 576}, {131072, 768}};

bool FitsBlock(DType t, std::int64_t n_cols) { return n_cols % tensor::BlockSize(t) == 0; }

std::string Name(const char* what, const TypeKernels* k) {
  return std::string(what) + "/" + std::string(tensor::TypeName(k->type)) + "/" + k->variant;
}

bool RegisterAll() {
  const DType types[] = {DType::kF32,  DType::kF16,  DType::kBF16,   DType::kQ8_0,
                         DType::kQ4_0, DType::kQ4_1, DType::kQ5_0,   DType::kQ5_1,
                         DType::kQ4_K, DType::kQ5_K, DType::kQ6_K,   DType::kQ2_K,
                         DType::kQ3_K, DType::kIQ4_NL, DType::kIQ4_XS};
  for (DType t : types) {
    for (const TypeKernels* k : AllKernels(t)) {
      auto* vd = benchmark::RegisterBenchmark(Name("BM_VecDot", k).c_str(), BM_VecDot, k);
      for (int n : {256, 768, 2048, 4096}) {
        if (FitsBlock(t, n)) vd->Arg(n);
      }
      auto* mv = benchmark::RegisterBenchmark(Name("BM_MatVec", k).c_str(), BM_MatVec, k);
      mv->ArgNames({"rows", "cols"})->Unit(benchmark::kMicrosecond);
      for (const auto& [r, c] : kMatVecShapes) {
        if (FitsBlock(t, c)) mv->Args({r, c});
      }
      for (bool packed : {false, true}) {
        if (packed && k->packed_tile == nullptr) continue;
        auto* mm = benchmark::RegisterBenchmark(Name(packed ? "BM_MatMulPacked" : "BM_MatMul", k).c_str(),
                                                BM_MatMul, k, packed);
        mm->ArgNames({"rows", "cols", "tokens"})->Unit(benchmark::kMicrosecond);
        if (FitsBlock(t, 768)) mm->Args({2048, 768, 1})->Args({2048, 768, 8})->Args({2048, 768, 64});
        if (FitsBlock(t, 288)) mm->Args({768, 288, 1})->Args({768, 288, 64});
        if (FitsBlock(t, 512)) mm->Args({512, 512, 64})->Args({1376, 512, 64});  // s42m
        if (FitsBlock(t, 1376)) mm->Args({512, 1376, 64});
      }
      auto* mp = benchmark::RegisterBenchmark(Name("BM_MatMulPool", k).c_str(), BM_MatMulPool, k);
      mp->ArgNames({"rows", "cols", "tokens", "threads"})->Unit(benchmark::kMicrosecond);
      mp->UseRealTime();
      for (int threads : {1, 2}) {
        if (FitsBlock(t, 288)) mp->Args({768, 288, 1, threads})->Args({768, 288, 512, threads});
      }
    }
  }
  return true;
}

const bool kRegistered = RegisterAll();

}  // namespace
}  // namespace tessera::kernels
