// The engine's thread pool (ModelOptions::n_threads): more threads than cores is refused, and
// generation and scoring give the same tokens and log-probabilities with 1 thread and with all
// cores (the forward pass is bit-identical for any pool size).
#include <gtest/gtest.h>

#include <cstdio>
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

}  // namespace
}  // namespace tessera::engine_test
