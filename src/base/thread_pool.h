// ThreadPool: the one set of compute threads of the runtime, used to split matrix and attention
// work of the forward pass.
//
// A pool of n threads is the calling thread (worker 0) plus n - 1 background threads started by
// Create() and joined by the destructor; nothing is started, stopped or allocated afterwards.
// ParallelFor(n_tasks, fn) runs fn(task) once for every task in [0, n_tasks): the caller and
// the background threads take tasks from a shared atomic counter until none is left, and
// ParallelFor returns when every task has finished (all writes made by the tasks are visible to
// the caller). Which thread runs which task is not fixed, so a task must compute the same result
// whatever thread runs it (write disjoint outputs; use no per-thread state).
//
// Waking: idle background threads spin on an atomic generation counter for a short while
// (kSpinIterations pauses, tens of microseconds) so back-to-back calls (one per matrix product
// while decoding) start in well under a microsecond; after that they block on a condition
// variable, so an idle runtime does not burn a core. The caller waits only for the tasks, not
// for every worker: a worker that wakes late (descheduled on a busy machine) finds the job
// done and goes back to waiting; the caller waits for a worker only while that worker runs a
// task it claimed. Tasks are claimed in guided shares (half of what is left with two
// threads, then less, down to single tasks), so a call of 24 tasks on two threads costs a
// handful of contended compare-exchanges (bench/thread_pool_bench.cc: ~1.7 us against ~3.8 us
// at one claim per task on this machine kind); no allocation (fn is
// type-erased into a function pointer and a pointer to the caller's stack object), no thread
// creation.
//
// Ownership: move-free, copy-free; owned through the unique_ptr Create() returns.
// Thread safety: ONE ParallelFor at a time per pool. A second call while one is running
// (from another thread, or nested from inside a task) is a programming bug caught by TS_CHECK
// with a message saying so; callers that share a pool across threads serialise their use of it
// (the engine holds a mutex around each Forward). n_threads() may be called from any thread.
#ifndef TESSERA_BASE_THREAD_POOL_H_
#define TESSERA_BASE_THREAD_POOL_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

#include "tessera/status.h"

namespace tessera::base {

class ThreadPool {
 public:
  // A task body: ctx is the caller's object, task the index in [0, n_tasks).
  using TaskFn = void (*)(void* ctx, std::int64_t task);

  // Pause instructions an idle worker spins before blocking (~50-100 us on current x86).
  static constexpr int kSpinIterations = 1 << 14;

  // The number of cores the machine reports (std::thread::hardware_concurrency(), at least 1).
  static int MaxThreads();

  // Starts n_threads - 1 background threads. kInvalidArgument if n_threads < 1 or above
  // MaxThreads() (naming both): more compute threads than cores only slow everything down.
  // kResourceExhausted if the system refuses to start a thread.
  static Result<std::unique_ptr<ThreadPool>> Create(int n_threads);

  // Wakes and joins the background threads. Must not run concurrently with ParallelFor.
  ~ThreadPool();

  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int n_threads() const { return n_threads_; }

  // Runs fn(ctx, task) for every task in [0, n_tasks) across the pool, the calling thread
  // included; returns when all have finished. n_tasks <= 0 does nothing; a pool of one thread
  // or a single task runs inline on the caller.
  void Run(std::int64_t n_tasks, TaskFn fn, void* ctx);

  // The same for any callable fn(std::int64_t task); fn is borrowed, never copied.
  template <typename Fn>
  void ParallelFor(std::int64_t n_tasks, Fn&& fn) {
    using F = std::remove_reference_t<Fn>;
    Run(
        n_tasks,
        [](void* ctx, std::int64_t task) { (*static_cast<F*>(ctx))(task); },
        const_cast<void*>(static_cast<const void*>(&fn)));
  }

 private:
  explicit ThreadPool(int n_threads) : n_threads_(n_threads) {}
  void WorkerLoop();
  // Claims and runs tasks of job `generation` until none is left or the job is over.
  void DrainTasks(std::uint32_t generation);

  const int n_threads_;
  std::vector<std::thread> threads_;  // n_threads_ - 1 background threads

  // The current job. The caller closes the cursor, writes fn_/ctx_/n_tasks_ (release), opens
  // the cursor at (generation, 0) and bumps generation_; workers read the fields (acquire)
  // after observing the generation and only run a task they claimed by a compare-exchange on
  // cursor_ whose generation half still matches (thread_pool.cc explains why a late worker
  // can therefore never run a task of the wrong job).
  std::atomic<TaskFn> fn_{nullptr};
  std::atomic<void*> ctx_{nullptr};
  std::atomic<std::int64_t> n_tasks_{0};
  alignas(64) std::atomic<std::uint64_t> cursor_{0};  // (generation << 32) | next task index
  alignas(64) std::atomic<std::int64_t> done_tasks_{0};  // tasks of the current job finished
  alignas(64) std::atomic<std::uint32_t> generation_{0};  // bumped once per job
  std::atomic<bool> busy_{false};  // a ParallelFor is running (misuse check)
  std::atomic<bool> stop_{false};  // set by the destructor

  // Blocking after the spin: sleepers_ counts workers that may be waiting on wake_, so a job
  // start only takes mu_ and notifies when someone sleeps. mu_ guards nothing but the wait.
  alignas(64) std::atomic<int> sleepers_{0};
  std::mutex mu_;
  std::condition_variable wake_;
};

}  // namespace tessera::base

#endif  // TESSERA_BASE_THREAD_POOL_H_
