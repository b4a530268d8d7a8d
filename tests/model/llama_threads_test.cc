// Forward() over a thread pool (model/llama.h, base/thread_pool.h): logits bit-identical for no
// pool, 1 and 2 threads; a prompt prefilled in one batch on the pool equals token-by-token
// decoding within 1e-5; llama and qwen2 (biases, NEOX RoPE), MHA and GQA, Q8_0 and F32.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/thread_pool.h"
#include "model/llama.h"
#include "model/synth.h"
#include "model_test_util.h"

namespace tessera::model {
namespace {

using tensor::DType;

struct Variant {
  const char* name;
  const char* arch;
  std::int32_t n_head, n_head_kv;
  DType type;
};

const Variant kVariants[] = {
    {"llama_mha_q8_0", "llama", 6, 6, DType::kQ8_0},
    {"llama_gqa_f32", "llama", 6, 2, DType::kF32},
    {"qwen2_gqa_q8_0", "qwen2", 6, 3, DType::kQ8_0},
};

SynthSpec SpecOf(const Variant& v) {
  SynthSpec spec;
  spec.architecture = v.arch;
  spec.n_vocab = 600;  // output rows span several MatMul tasks
  spec.n_embd = 96;
  spec.n_head = v.n_head;
  spec.n_head_kv = v.n_head_kv;
  spec.n_ff = 160;
  spec.n_layer = 2;
  spec.n_ctx = 64;
  spec.matrix_type = v.type;
  spec.output_type = v.type;
  spec.embd_type = v.type;
  spec.seed = 5;
  spec.stddev = 0.15f;
  spec.norm_stddev = 0.3f;
  spec.bias_stddev = 0.3f;
  return spec;
}

std::vector<std::int32_t> Prompt(std::size_t n) {
  std::vector<std::int32_t> t(n);
  for (std::size_t i = 0; i < n; ++i) t[i] = static_cast<std::int32_t>((i * 37 + 11) % 600);
  return t;
}

class LlamaThreadsTest : public ::testing::TestWithParam<Variant> {
 protected:
  void SetUp() override {
    auto file = testing::SynthFile(SpecOf(GetParam()));
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    auto model = LlamaModel::Load(*file);
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    model_ = std::move(model).value();
    for (int n = 1; n <= std::min(2, base::ThreadPool::MaxThreads()); ++n) {
      auto pool = base::ThreadPool::Create(n);
      ASSERT_TRUE(pool.ok()) << pool.status().ToString();
      pools_.push_back(std::move(pool).value());
    }
  }

  // kAll logits of `tokens` in batches of max_batch, from an empty cache.
  std::vector<float> AllLogits(const std::vector<std::int32_t>& tokens, std::int32_t max_batch,
                               base::ThreadPool* pool) {
    const LlamaModel& m = *model_;
    auto cache = KvCache::Create(m.config(), 64);
    auto scratch = ForwardScratch::Create(m, max_batch, 64);
    EXPECT_TRUE(cache.ok() && scratch.ok());
    std::vector<float> logits(tokens.size() * static_cast<std::size_t>(m.config().n_vocab));
    const Status st = Forward(m, *cache, *scratch, tokens, 0, LogitsMode::kAll, logits, pool);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return logits;
  }

  std::unique_ptr<LlamaModel> model_;
  std::vector<std::unique_ptr<base::ThreadPool>> pools_;
};

TEST_P(LlamaThreadsTest, LogitsBitIdenticalForAnyThreadCount) {
  const std::vector<std::int32_t> tokens = Prompt(40);
  for (std::int32_t max_batch : {1, 16, 64}) {
    const std::vector<float> alone = AllLogits(tokens, max_batch, nullptr);
    for (const auto& pool : pools_) {
      EXPECT_EQ(AllLogits(tokens, max_batch, pool.get()), alone)
          << pool->n_threads() << " threads, max_batch " << max_batch;
    }
  }
}

TEST_P(LlamaThreadsTest, BatchedPrefillOnThePoolEqualsTokenByToken) {
  const LlamaModel& m = *model_;
  const std::int32_t nv = m.config().n_vocab;
  const std::vector<std::int32_t> tokens = Prompt(33);
  base::ThreadPool* pool = pools_.back().get();

  // One batch, logits of the last position only, then three decode steps.
  auto cache_a = KvCache::Create(m.config(), 64);
  auto scratch_a = ForwardScratch::Create(m, 64, 64);
  ASSERT_TRUE(cache_a.ok() && scratch_a.ok());
  std::vector<float> batched(static_cast<std::size_t>(nv));
  ASSERT_TRUE(
      Forward(m, *cache_a, *scratch_a, tokens, 0, LogitsMode::kLast, batched, pool).ok());

  auto cache_b = KvCache::Create(m.config(), 64);
  auto scratch_b = ForwardScratch::Create(m, 1, 64);
  ASSERT_TRUE(cache_b.ok() && scratch_b.ok());
  std::vector<float> step(static_cast<std::size_t>(nv));
  for (std::size_t t = 0; t < tokens.size(); ++t) {
    ASSERT_TRUE(Forward(m, *cache_b, *scratch_b, std::span(tokens).subspan(t, 1),
                        static_cast<std::int32_t>(t), LogitsMode::kLast, step, pool)
                    .ok());
  }
  for (std::int32_t i = 0; i < nv; ++i) ASSERT_NEAR(batched[i], step[i], 1e-5f) << "logit " << i;

  // Decoding after either prefill continues identically (the caches agree).
  for (std::int32_t d = 0; d < 3; ++d) {
    const std::int32_t next = (d * 101 + 7) % nv;
    const std::int32_t pos = static_cast<std::int32_t>(tokens.size()) + d;
    ASSERT_TRUE(Forward(m, *cache_a, *scratch_a, std::span(&next, 1), pos, LogitsMode::kLast,
                        batched, pool)
                    .ok());
    ASSERT_TRUE(Forward(m, *cache_b, *scratch_b, std::span(&next, 1), pos, LogitsMode::kLast,
                        step, pool)
                    .ok());
    for (std::int32_t i = 0; i < nv; ++i) {
      ASSERT_NEAR(batched[i], step[i], 1e-5f) << "decode " << d << " logit " << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Variants, LlamaThreadsTest, ::testing::ValuesIn(kVariants),
                         [](const ::testing::TestParamInfo<Variant>& param_info) {
                           return std::string(param_info.param.name);
                         });

}  // namespace
}  // namespace tessera::model
