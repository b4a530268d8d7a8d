// The fixed cost of one ThreadPool::ParallelFor (what every matrix product of a decode step
// pays): n_tasks empty tasks on a pool of `threads` threads. Args: threads, n_tasks.
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdint>

#include "base/thread_pool.h"

namespace tessera::base {
namespace {

void BM_ParallelForEmpty(benchmark::State& state) {
  auto pool = ThreadPool::Create(static_cast<int>(state.range(0)));
  if (!pool.ok()) {
    state.SkipWithError(pool.status().ToString().c_str());
    return;
  }
  std::atomic<std::int64_t> sink{0};
  for (auto _ : state) {
    (*pool)->ParallelFor(state.range(1), [&](std::int64_t task) {
      sink.fetch_add(task, std::memory_order_relaxed);
    });
  }
  benchmark::DoNotOptimize(sink.load());
}
BENCHMARK(BM_ParallelForEmpty)
    ->ArgNames({"threads", "tasks"})
    ->Args({1, 24})
    ->Args({2, 2})
    ->Args({2, 24})
    ->UseRealTime();

}  // namespace
}  // namespace tessera::base
