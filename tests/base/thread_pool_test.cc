// Tests of base::ThreadPool (base/thread_pool.h): limits, every task exactly once, results
// independent of the thread count, many back-to-back calls, misuse caught by a check.
#include "base/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace tessera::base {
namespace {

std::unique_ptr<ThreadPool> MakePool(int n) {
  Result<std::unique_ptr<ThreadPool>> pool = ThreadPool::Create(n);
  EXPECT_TRUE(pool.ok()) << pool.status().ToString();
  return pool.ok() ? std::move(pool).value() : nullptr;
}

TEST(ThreadPoolTest, RefusesZeroNegativeAndMoreThanCores) {
  for (int n : {0, -1, ThreadPool::MaxThreads() + 1}) {
    Result<std::unique_ptr<ThreadPool>> pool = ThreadPool::Create(n);
    ASSERT_FALSE(pool.ok()) << n;
    EXPECT_EQ(pool.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(pool.status().message().find(std::to_string(n)), std::string::npos)
        << pool.status().message();
  }
}

TEST(ThreadPoolTest, ReportsItsSize) {
  for (int n = 1; n <= ThreadPool::MaxThreads(); ++n) {
    std::unique_ptr<ThreadPool> pool = MakePool(n);
    ASSERT_NE(pool, nullptr);
    EXPECT_EQ(pool->n_threads(), n);
  }
}

TEST(ThreadPoolTest, VisitsEveryTaskExactlyOnce) {
  for (int threads = 1; threads <= ThreadPool::MaxThreads(); ++threads) {
    std::unique_ptr<ThreadPool> pool = MakePool(threads);
    ASSERT_NE(pool, nullptr);
    for (std::int64_t n : {0, 1, 2, 3, 7, 16, 63, 64, 65, 1000, 4097}) {
      std::vector<std::atomic<int>> visits(static_cast<std::size_t>(n));
      pool->ParallelFor(n, [&](std::int64_t task) {
        ASSERT_GE(task, 0);
        ASSERT_LT(task, n);
        visits[static_cast<std::size_t>(task)].fetch_add(1);
      });
      for (std::int64_t i = 0; i < n; ++i) {
        ASSERT_EQ(visits[static_cast<std::size_t>(i)].load(), 1)
            << "task " << i << " of " << n << " with " << threads << " threads";
      }
    }
  }
}

TEST(ThreadPoolTest, ResultsDoNotDependOnThreadCount) {
  // Each task writes its own output from its own inputs: the same bits with any pool size.
  constexpr std::int64_t kTasks = 777;
  std::vector<float> reference;
  for (int threads = 1; threads <= ThreadPool::MaxThreads(); ++threads) {
    std::unique_ptr<ThreadPool> pool = MakePool(threads);
    ASSERT_NE(pool, nullptr);
    std::vector<float> out(kTasks, 0.0f);
    pool->ParallelFor(kTasks, [&](std::int64_t task) {
      float acc = 0.0f;
      for (std::int64_t j = 0; j <= task; ++j) acc += 1.0f / static_cast<float>(j + 1);
      out[static_cast<std::size_t>(task)] = acc;
    });
    if (reference.empty()) {
      reference = out;
    } else {
      EXPECT_EQ(out, reference) << threads << " threads";
    }
  }
}

TEST(ThreadPoolTest, TenThousandBackToBackCallsFinish) {
  std::unique_ptr<ThreadPool> pool = MakePool(ThreadPool::MaxThreads());
  ASSERT_NE(pool, nullptr);
  std::atomic<std::int64_t> sum{0};
  std::int64_t expected = 0;
  for (int call = 0; call < 10000; ++call) {
    const std::int64_t n = 1 + call % 5;
    pool->ParallelFor(n, [&](std::int64_t task) { sum.fetch_add(task + 1); });
    expected += n * (n + 1) / 2;
  }
  EXPECT_EQ(sum.load(), expected);
}

TEST(ThreadPoolTest, WritesOfTasksAreVisibleAfterReturn) {
  // Non-atomic writes from every task, read right after ParallelFor returns.
  std::unique_ptr<ThreadPool> pool = MakePool(ThreadPool::MaxThreads());
  ASSERT_NE(pool, nullptr);
  std::vector<std::int64_t> out(64, -1);
  for (int round = 0; round < 2000; ++round) {
    pool->ParallelFor(64, [&](std::int64_t task) { out[static_cast<std::size_t>(task)] = round; });
    for (std::int64_t v : out) ASSERT_EQ(v, round);
  }
}

TEST(ThreadPoolTest, BlockedWorkersWakeForTheNextJob) {
  // Workers fall back to blocking when idle longer than their spin; a job must still wake them.
  // Idleness is produced by work on the caller, not by sleeping: a loop long enough to exceed
  // the spin, then a job whose tasks all have to run.
  std::unique_ptr<ThreadPool> pool = MakePool(ThreadPool::MaxThreads());
  ASSERT_NE(pool, nullptr);
  for (int round = 0; round < 5; ++round) {
    volatile std::uint64_t busy = 0;
    for (std::uint64_t i = 0; i < 50'000'000; ++i) busy = busy + i;
    std::atomic<int> done{0};
    pool->ParallelFor(8, [&](std::int64_t) { done.fetch_add(1); });
    EXPECT_EQ(done.load(), 8);
  }
}

TEST(ThreadPoolTest, BackgroundThreadsRunTasksConcurrently) {
  // Task 0 waits until task 1 has started and the reverse: this finishes only if two threads
  // run the two tasks at the same time (the caller cannot run both, one after the other).
  if (ThreadPool::MaxThreads() < 2) GTEST_SKIP() << "one core";
  std::unique_ptr<ThreadPool> pool = MakePool(2);
  ASSERT_NE(pool, nullptr);
  for (int round = 0; round < 100; ++round) {
    std::atomic<int> started{0};
    pool->ParallelFor(2, [&](std::int64_t) {
      started.fetch_add(1);
      while (started.load() < 2) {
      }
    });
    EXPECT_EQ(started.load(), 2);
  }
}

TEST(ThreadPoolTest, CreateAndDestroyRepeatedly) {
  for (int i = 0; i < 200; ++i) {
    std::unique_ptr<ThreadPool> pool = MakePool(ThreadPool::MaxThreads());
    ASSERT_NE(pool, nullptr);
    if (i % 2 == 0) {
      std::atomic<int> done{0};
      pool->ParallelFor(3, [&](std::int64_t) { done.fetch_add(1); });
      EXPECT_EQ(done.load(), 3);
    }
  }
}

TEST(ThreadPoolDeathTest, NestedParallelForIsACheckFailure) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        std::unique_ptr<ThreadPool> pool = MakePool(1);
        pool->ParallelFor(2, [&](std::int64_t) { pool->ParallelFor(2, [](std::int64_t) {}); });
      },
      "another one runs on the same pool");
}

}  // namespace
}  // namespace tessera::base
