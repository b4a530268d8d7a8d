// The engine's compute threads (ComputePool, ModelOptions::n_threads / pool): more threads than
// cores is refused; models share one pool per thread count unless given one; generation and
// scoring give the same tokens and log-probabilities with 1 thread and with all cores (the
// forward pass is bit-identical for any pool size), and models on one pool may generate from
// several threads at once with the results they give alone.
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/thread_pool.h"
#include "tessera/engine.h"
#include "test_model.h"

namespace tessera::engine_test {
namespace {

TEST(EngineThreadsTest, MoreThreadsThanCoresIsInvalid) {
  const std::string path = WriteTestModel("threads_limit");
  const int too_many = base::ThreadPool::MaxThreads() + 1;
  Result<std::unique_ptr<Model>> m = Model::Open(path, ModelOptions{.n_threads = too_many});
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(m.status().message().find(std::to_string(too_many)), std::string::npos)
      << m.status().message();
  EXPECT_TRUE(Model::Open(path, ModelOptions{.n_threads = 1}).ok());
  std::remove(path.c_str());
}

TEST(EngineThreadsTest, SameResultsWithOneThreadAndAllCores) {
  const std::string path = WriteTestModel("threads_same");
  std::unique_ptr<Model> one = OpenModel(path, ModelOptions{.n_threads = 1});
  std::unique_ptr<Model> all = OpenModel(path, ModelOptions{.n_threads = 0});
  ASSERT_NE(one, nullptr);
  ASSERT_NE(all, nullptr);
  GenerateOptions options;
  options.max_tokens = 20;
  options.temperature = 0.8f;
  options.seed = 3;
  options.top_n = 3;
  const std::string prompt = "a longer prompt so that prefill runs as a batch of many rows";
  Result<GenerateResult> a = NewSession(*one)->Generate(prompt, options);
  Result<GenerateResult> b = NewSession(*all)->Generate(prompt, options);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(Ids(*a), Ids(*b));
  ASSERT_EQ(a->tokens.size(), b->tokens.size());
  for (std::size_t i = 0; i < a->tokens.size(); ++i) {
    EXPECT_EQ(a->tokens[i].logprob, b->tokens[i].logprob) << "token " << i;
  }

  const std::vector<std::int32_t> ids = Ids(*a);
  const std::vector<std::int32_t> head(ids.begin(), ids.begin() + 5);
  const std::vector<std::int32_t> tail(ids.begin() + 5, ids.end());
  Result<ScoreResult> sa = NewSession(*one)->Score(head, tail, 2);
  Result<ScoreResult> sb = NewSession(*all)->Score(head, tail, 2);
  ASSERT_TRUE(sa.ok() && sb.ok());
  EXPECT_EQ(sa->sum_logprob, sb->sum_logprob);
  std::remove(path.c_str());
}

TEST(EngineThreadsTest, ComputePoolRefusesBadThreadCounts) {
  for (std::int32_t bad : {-1, base::ThreadPool::MaxThreads() + 1}) {
    Result<std::shared_ptr<ComputePool>> p = ComputePool::Create(bad);
    ASSERT_FALSE(p.ok()) << bad;
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(p.status().message().find(std::to_string(bad)), std::string::npos)
        << p.status().message();
    EXPECT_EQ(ComputePool::Shared(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
  Result<std::shared_ptr<ComputePool>> all = ComputePool::Create(0);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ((*all)->n_threads(), base::ThreadPool::MaxThreads());
}

TEST(EngineThreadsTest, ModelsShareOnePoolPerThreadCount) {
  const std::string path = WriteTestModel("threads_shared");
  std::unique_ptr<Model> a = OpenModel(path, ModelOptions{});
  std::unique_ptr<Model> b = OpenModel(path, ModelOptions{});
  std::unique_ptr<Model> c = OpenModel(path, ModelOptions{.n_threads = 1});
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(a->compute_pool(), b->compute_pool());  // no second set of threads
  EXPECT_EQ(a->compute_pool()->n_threads(), base::ThreadPool::MaxThreads());
  EXPECT_EQ(c->compute_pool()->n_threads(), 1);
  if (base::ThreadPool::MaxThreads() > 1) {
    EXPECT_NE(a->compute_pool(), c->compute_pool());
  }

  // An explicit pool is used as given; a different n_threads beside it is refused.
  Result<std::shared_ptr<ComputePool>> pool = ComputePool::Create(1);
  ASSERT_TRUE(pool.ok());
  std::unique_ptr<Model> d = OpenModel(path, ModelOptions{.pool = *pool});
  std::unique_ptr<Model> e = OpenModel(path, ModelOptions{.n_threads = 1, .pool = *pool});
  ASSERT_TRUE(d && e);
  EXPECT_EQ(d->compute_pool(), *pool);
  EXPECT_EQ(e->compute_pool(), *pool);
  Result<std::unique_ptr<Model>> f = Model::Open(path, ModelOptions{.n_threads = 2, .pool = *pool});
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(f.status().message().find("pool"), std::string::npos) << f.status().message();
  std::remove(path.c_str());
}

TEST(EngineThreadsTest, ModelsOnOnePoolGenerateConcurrentlyAsAlone) {
  const std::string path_a = WriteTestModel("threads_conc_a");
  Result<std::shared_ptr<ComputePool>> pool = ComputePool::Create(0);
  ASSERT_TRUE(pool.ok());
  std::unique_ptr<Model> a = OpenModel(path_a, ModelOptions{.pool = *pool});
  std::unique_ptr<Model> b = OpenModel(path_a, ModelOptions{.pool = *pool});
  ASSERT_TRUE(a && b);
  GenerateOptions options;
  options.max_tokens = 24;
  options.temperature = 0.7f;
  options.top_n = 2;
  const std::string prompt = "several models share one set of compute threads";
  auto run = [&](const Model& m, std::uint64_t seed) {
    GenerateOptions o = options;
    o.seed = seed;
    Result<GenerateResult> r = NewSession(m)->Generate(prompt, o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? Ids(*r) : std::vector<std::int32_t>{};
  };
  const std::vector<std::int32_t> alone_a = run(*a, 11);
  const std::vector<std::int32_t> alone_b = run(*b, 12);
  for (int round = 0; round < 3; ++round) {
    std::vector<std::int32_t> got_a, got_b;
    std::thread ta([&] { got_a = run(*a, 11); });
    std::thread tb([&] { got_b = run(*b, 12); });
    ta.join();
    tb.join();
    EXPECT_EQ(got_a, alone_a) << "round " << round;
    EXPECT_EQ(got_b, alone_b) << "round " << round;
  }
  std::remove(path_a.c_str());
}

}  // namespace
}  // namespace tessera::engine_test
