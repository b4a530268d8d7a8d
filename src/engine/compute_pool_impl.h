// The insides of tessera::ComputePool (include/tessera/engine.h). Internal to the engine layer.
//
// Thread safety: `threads` runs one ParallelFor at a time; every forward pass on the pool holds
// `mu` for its whole duration (Model::Impl::Forward), so models and sessions sharing the pool
// take turns per forward pass and never run more compute threads than the pool has.
#ifndef TESSERA_ENGINE_COMPUTE_POOL_IMPL_H_
#define TESSERA_ENGINE_COMPUTE_POOL_IMPL_H_

#include <memory>
#include <mutex>

#include "base/thread_pool.h"
#include "tessera/engine.h"

namespace tessera {

struct ComputePool::Impl {
  std::unique_ptr<base::ThreadPool> threads;
  std::mutex mu;  // held for a whole forward pass
};

}  // namespace tessera

#endif  // TESSERA_ENGINE_COMPUTE_POOL_IMPL_H_
