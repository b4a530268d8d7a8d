// ThreadPool (thread_pool.h): a spin-then-block job start over an atomic task cursor.
//
// Protocol for one Run() of job g (generation g) with n_threads > 1:
//   caller:  (1) cursor_ = (g, kClosed)            closes claims for everyone
//            (2) fn_, ctx_, n_tasks_ = job (release); done_tasks_ = 0
//            (3) cursor_ = (g, 0) (release)         opens claims
//            (4) generation_ = g (seq_cst); notify wake_ under mu_ if sleepers_ > 0
//            then claims tasks itself and spins until done_tasks_ == n_tasks.
//   worker:  waits until generation_ != the last it served (spin, then block), reads the job
//            fields (acquire), then claims tasks [i, i + c) by compare-exchange of cursor_ from
//            (g, i) to (g, i + c) while i < n_tasks, c = max(1, (n_tasks - i) / (2 threads))
//            (guided self-scheduling), runs them, adds c to done_tasks_ (release).
// Why a late worker cannot run a task of the wrong job: a claim succeeds only if cursor_ still
// holds the worker's generation g with an index below the n_tasks it read. The caller writes
// the fields of job g + 1 only after every task of g is done (so after every successful claim
// of g), and after closing the cursor at (1); a worker that read any field of job g + 1 has
// (by acquire/release) also seen (1), so its claim with generation g fails.
// Lost wake-ups cannot happen: a worker increments sleepers_ and re-reads generation_ under mu_
// before waiting, the caller bumps generation_ before reading sleepers_ (both seq_cst), so at
// least one of them sees the other's write; a caller that sees a sleeper notifies under mu_.
#include "base/thread_pool.h"

#include <algorithm>
#include <limits>
#include <string>
#include <system_error>

#include "base/check.h"

namespace tessera::base {
namespace {

constexpr std::uint64_t kClosed = 0xffffffffu;  // cursor index meaning "no claims"

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

inline std::uint64_t Cursor(std::uint32_t generation, std::uint64_t index) {
  return (static_cast<std::uint64_t>(generation) << 32) | index;
}

}  // namespace

int ThreadPool::MaxThreads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

Result<std::unique_ptr<ThreadPool>> ThreadPool::Create(int n_threads) {
  const int max_threads = MaxThreads();
  if (n_threads < 1 || n_threads > max_threads) {
    return InvalidArgument("base: thread pool of " + std::to_string(n_threads) +
                           " threads is outside [1, " + std::to_string(max_threads) +
                           "] (the machine's cores)");
  }
  std::unique_ptr<ThreadPool> pool(new ThreadPool(n_threads));
  pool->threads_.reserve(static_cast<std::size_t>(n_threads - 1));
  for (int i = 1; i < n_threads; ++i) {
    try {
      pool->threads_.emplace_back([p = pool.get()] { p->WorkerLoop(); });
    } catch (const std::system_error& e) {
      // The destructor stops and joins the threads already started.
      return Status(StatusCode::kResourceExhausted,
                    "base: thread pool could not start thread " + std::to_string(i) + " of " +
                        std::to_string(n_threads) + ": " + e.what());
    }
  }
  return pool;
}

ThreadPool::~ThreadPool() {
  TS_CHECK(!busy_.load() && "ThreadPool destroyed while a ParallelFor is running");
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_.store(true);
    generation_.fetch_add(1);
  }
  wake_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void ThreadPool::DrainTasks(std::uint32_t generation) {
  TaskFn fn = fn_.load(std::memory_order_acquire);
  void* ctx = ctx_.load(std::memory_order_acquire);
  const std::uint64_t n = static_cast<std::uint64_t>(n_tasks_.load(std::memory_order_acquire));
  std::uint64_t cur = cursor_.load(std::memory_order_acquire);
  for (;;) {
    if (static_cast<std::uint32_t>(cur >> 32) != generation) return;
    const std::uint64_t index = cur & 0xffffffffu;
    if (index >= n) return;  // also kClosed
    // Guided self-scheduling: claim a share of what is left (large first, single tasks at the
    // end for balance), so a call pays a few contended atomics instead of two per task.
    const std::uint64_t claim =
        std::max<std::uint64_t>(1, (n - index) / static_cast<std::uint64_t>(n_threads_));
    if (!cursor_.compare_exchange_weak(cur, cur + claim, std::memory_order_acq_rel,
                                       std::memory_order_acquire)) {
      continue;  // cur holds the fresh value
    }
    for (std::uint64_t i = index; i < index + claim; ++i) fn(ctx, static_cast<std::int64_t>(i));
    done_tasks_.fetch_add(static_cast<std::int64_t>(claim), std::memory_order_release);
    cur = cursor_.load(std::memory_order_acquire);
  }
}

void ThreadPool::Run(std::int64_t n_tasks, TaskFn fn, void* ctx) {
  if (n_tasks <= 0) return;
  const bool was_busy = busy_.exchange(true, std::memory_order_acquire);
  TS_CHECK(!was_busy &&
           "ThreadPool::ParallelFor called while another one runs on the same pool (nested "
           "inside a task, or concurrently from two threads): serialise callers");
  TS_CHECK(n_tasks < static_cast<std::int64_t>(kClosed));
  if (n_threads_ == 1 || n_tasks == 1) {
    for (std::int64_t task = 0; task < n_tasks; ++task) fn(ctx, task);
    busy_.store(false, std::memory_order_release);
    return;
  }
  // Only this thread writes generation_ while the pool is alive (the destructor aside).
  const std::uint32_t generation = generation_.load(std::memory_order_relaxed) + 1;
  cursor_.store(Cursor(generation, kClosed), std::memory_order_seq_cst);  // (1)
  fn_.store(fn, std::memory_order_release);                               // (2)
  ctx_.store(ctx, std::memory_order_release);
  n_tasks_.store(n_tasks, std::memory_order_release);
  done_tasks_.store(0, std::memory_order_relaxed);
  cursor_.store(Cursor(generation, 0), std::memory_order_release);  // (3)
  generation_.store(generation, std::memory_order_seq_cst);         // (4)
  if (sleepers_.load(std::memory_order_seq_cst) > 0) {
    std::lock_guard<std::mutex> lock(mu_);
    wake_.notify_all();
  }
  DrainTasks(generation);
  // Wait for tasks claimed by background threads.
  int spins = 0;
  while (done_tasks_.load(std::memory_order_acquire) != n_tasks) {
    if (++spins < kSpinIterations) {
      CpuRelax();
    } else {
      std::this_thread::yield();  // the worker running a task was descheduled
    }
  }
  busy_.store(false, std::memory_order_release);
}

void ThreadPool::WorkerLoop() {
  // Threads start before any job can be published (Create() returns after starting them), so
  // the first generation to serve is the one after 0; reading generation_ here instead could
  // miss the destructor's bump of a pool destroyed before this thread got scheduled.
  std::uint32_t seen = 0;
  for (;;) {
    // Spin briefly for the next job, then block.
    std::uint32_t gen = seen;
    for (int i = 0; i < kSpinIterations; ++i) {
      gen = generation_.load(std::memory_order_acquire);
      if (gen != seen) break;
      CpuRelax();
    }
    if (gen == seen) {
      std::unique_lock<std::mutex> lock(mu_);
      sleepers_.fetch_add(1, std::memory_order_seq_cst);
      wake_.wait(lock, [&] {
        gen = generation_.load(std::memory_order_seq_cst);
        return gen != seen;
      });
      sleepers_.fetch_sub(1, std::memory_order_relaxed);
    }
    seen = gen;
    if (stop_.load(std::memory_order_acquire)) return;
    DrainTasks(gen);
  }
}

}  // namespace tessera::base
