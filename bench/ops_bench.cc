// Micro-benchmarks of the float operations (FloatOps) for every variant this CPU runs
// (AllOps: the scalar reference first), on the widths of the PEERS.md models: n_embd 288, 576,
// 768 (rms_norm), n_ff 768, 1536, 2048 (silu_mul; gelu_mul at Gemma 3 270M's 2048), attention rows of 64..1024 positions
// (softmax). bytes/s counts the floats read. Run:
//   build/<dir>/bench/ops_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "kernels/kernels.h"

namespace tessera::kernels {
namespace {

std::vector<float> RandomFloats(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

void BM_RmsNorm(benchmark::State& state, const FloatOps* o) {
  const std::int64_t n = state.range(0);
  const std::vector<float> x = RandomFloats(static_cast<std::size_t>(n), 1);
  const std::vector<float> w = RandomFloats(static_cast<std::size_t>(n), 2);
  std::vector<float> out(x.size());
  for (auto _ : state) {
    o->rms_norm(x.data(), w.data(), n, 1e-5f, out.data());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * n * 8);
  state.SetLabel(o->variant);
}

void BM_Softmax(benchmark::State& state, const FloatOps* o) {
  const std::int64_t n = state.range(0);
  const std::vector<float> x = RandomFloats(static_cast<std::size_t>(n), 3);
  std::vector<float> work(x.size());
  for (auto _ : state) {
    work = x;  // softmax is in place
    o->softmax(work.data(), n);
    benchmark::DoNotOptimize(work.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * n * 4);
  state.SetLabel(o->variant);
}

void BM_SiluMul(benchmark::State& state, const FloatOps* o) {
  const std::int64_t n = state.range(0);
  const std::vector<float> g = RandomFloats(static_cast<std::size_t>(n), 4);
  const std::vector<float> u = RandomFloats(static_cast<std::size_t>(n), 5);
  std::vector<float> out(g.size());
  for (auto _ : state) {
    o->silu_mul(g.data(), u.data(), out.data(), n);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * n * 8);
  state.SetLabel(o->variant);
}

void BM_GeluMul(benchmark::State& state, const FloatOps* o) {
  const std::int64_t n = state.range(0);
  const std::vector<float> g = RandomFloats(static_cast<std::size_t>(n), 4);
  const std::vector<float> u = RandomFloats(static_cast<std::size_t>(n), 5);
  std::vector<float> out(g.size());
  for (auto _ : state) {
    o->gelu_mul(g.data(), u.data(), out.data(), n);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * n * 8);
  state.SetLabel(o->variant);
}

void BM_Axpy(benchmark::State& state, const FloatOps* o) {
  const std::int64_t n = state.range(0);
  const std::vector<float> x = RandomFloats(static_cast<std::size_t>(n), 6);
  std::vector<float> y = RandomFloats(static_cast<std::size_t>(n), 7);
  for (auto _ : state) {
    o->axpy(1e-3f, x.data(), y.data(), n);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * n * 8);
  state.SetLabel(o->variant);
}

bool RegisterAll() {
  for (const FloatOps* o : AllOps()) {
    const std::string v = std::string("/") + o->variant;
    benchmark::RegisterBenchmark(("BM_RmsNorm" + v).c_str(), BM_RmsNorm, o)
        ->Arg(288)
        ->Arg(576)
        ->Arg(768);
    benchmark::RegisterBenchmark(("BM_SiluMul" + v).c_str(), BM_SiluMul, o)
        ->Arg(768)
        ->Arg(1536)
        ->Arg(2048);
    benchmark::RegisterBenchmark(("BM_GeluMul" + v).c_str(), BM_GeluMul, o)->Arg(2048);
    benchmark::RegisterBenchmark(("BM_Softmax" + v).c_str(), BM_Softmax, o)
        ->Arg(64)
        ->Arg(512)
        ->Arg(1024);
    benchmark::RegisterBenchmark(("BM_Axpy" + v).c_str(), BM_Axpy, o)->Arg(64)->Arg(768);
  }
  return true;
}

const bool kRegistered = RegisterAll();

}  // namespace
}  // namespace tessera::kernels
