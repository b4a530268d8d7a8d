// tessera::ComputePool: the runtime's compute threads, shared by models (engine.h).
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "engine/compute_pool_impl.h"

namespace tessera {

ComputePool::ComputePool(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ComputePool::~ComputePool() = default;

Result<std::shared_ptr<ComputePool>> ComputePool::Create(std::int32_t n_threads) {
  if (n_threads < 0) {
    return InvalidArgument("engine: n_threads " + std::to_string(n_threads) + " must be >= 0");
  }
  const int n = n_threads == 0 ? base::ThreadPool::MaxThreads() : n_threads;
  auto impl = std::make_unique<Impl>();
  Result<std::unique_ptr<base::ThreadPool>> threads = base::ThreadPool::Create(n);
  if (!threads.ok()) return threads.status().WithContext("engine: n_threads");
  impl->threads = std::move(threads).value();
  return std::shared_ptr<ComputePool>(new ComputePool(std::move(impl)));
}

Result<std::shared_ptr<ComputePool>> ComputePool::Shared(std::int32_t n_threads) {
  if (n_threads < 0) {
    return InvalidArgument("engine: n_threads " + std::to_string(n_threads) + " must be >= 0");
  }
  const int n = n_threads == 0 ? base::ThreadPool::MaxThreads() : n_threads;
  // Weak references: a shared pool lives as long as some model (or caller) holds it.
  static std::mutex mu;
  static std::map<int, std::weak_ptr<ComputePool>> pools;
  std::lock_guard<std::mutex> lock(mu);
  if (std::shared_ptr<ComputePool> existing = pools[n].lock()) return existing;
  TS_ASSIGN_OR_RETURN(std::shared_ptr<ComputePool> pool, Create(n));
  pools[n] = pool;
  return pool;
}

std::int32_t ComputePool::n_threads() const { return impl_->threads->n_threads(); }

}  // namespace tessera
