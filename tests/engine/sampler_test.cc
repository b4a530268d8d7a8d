// Tests of the sampler and the log-probability helpers (src/engine/sampler.h, logprobs.h).
#include "engine/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <set>
#include <vector>

#include "engine/logprobs.h"

namespace tessera::engine {
namespace {

Sampler MakeSampler(const SamplerConfig& config, std::int32_t n_vocab) {
  Result<Sampler> s = Sampler::Create(config, n_vocab);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return std::move(s).value();
}

// Logits whose softmax is exactly `probs` (up to rounding).
std::vector<float> LogitsOf(const std::vector<double>& probs) {
  std::vector<float> out;
  for (double p : probs) out.push_back(static_cast<float>(std::log(p)));
  return out;
}

// The set of ids drawn in `n` samples.
std::set<std::int32_t> DrawnIds(Sampler& s, const std::vector<float>& logits, int n) {
  std::set<std::int32_t> ids;
  for (int i = 0; i < n; ++i) ids.insert(s.Sample(logits).id);
  return ids;
}

std::vector<float> RandomLogits(std::uint64_t seed, int n, float scale) {
  std::mt19937_64 rng(seed);
  std::vector<float> out(static_cast<std::size_t>(n));
  for (float& x : out) x = static_cast<float>(static_cast<double>(rng() >> 40) / (1 << 24)) * scale;
  return out;
}

TEST(SamplerTest, GreedyIsArgmax) {
  Sampler s = MakeSampler({}, 4);
  const std::vector<float> logits = {0.1f, 2.0f, -1.0f, 1.9f};
  EXPECT_EQ(s.Sample(logits).id, 1);
}

TEST(SamplerTest, GreedyTieGoesToLowestId) {
  Sampler s = MakeSampler({}, 5);
  EXPECT_EQ(s.Sample(std::vector<float>{1.0f, 3.0f, 0.0f, 3.0f, 3.0f}).id, 1);
  EXPECT_EQ(s.Sample(std::vector<float>{7.0f, 7.0f, 7.0f, 7.0f, 7.0f}).id, 0);
  // A NaN never wins.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(s.Sample(std::vector<float>{nan, -5.0f, nan, -6.0f, nan}).id, 1);
}

TEST(SamplerTest, TopKOneEqualsGreedy) {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    std::vector<float> logits = RandomLogits(seed, 300, 4.0f);
    logits[17] = logits[250] = 10.0f;  // a tie at the top: the lower id must win
    Sampler greedy = MakeSampler({}, 300);
    Sampler top1 = MakeSampler({.temperature = 1.5f, .top_k = 1, .seed = seed}, 300);
    EXPECT_EQ(greedy.Sample(logits).id, 17);
    for (int i = 0; i < 20; ++i) EXPECT_EQ(top1.Sample(logits).id, 17);
  }
}

TEST(SamplerTest, TopKKeepsTheKBest) {
  // Ids ranked by logit: 4, 0, 2, 1, 3.
  const std::vector<float> logits = {2.0f, 0.5f, 1.0f, 0.0f, 3.0f};
  Sampler s = MakeSampler({.temperature = 5.0f, .top_k = 3, .seed = 7}, 5);
  EXPECT_EQ(DrawnIds(s, logits, 3000), (std::set<std::int32_t>{0, 2, 4}));
}

TEST(SamplerTest, TopPCutsAtKnownPoint) {
  // Probabilities by id: id3 0.5, id0 0.3, id2 0.15, id1 0.05. Cumulative by rank: 0.5, 0.8,
  // 0.95, 1.0.
  const std::vector<float> logits = LogitsOf({0.3, 0.05, 0.15, 0.5});
  {
    Sampler s = MakeSampler({.temperature = 1.0f, .top_p = 0.7f, .seed = 1}, 4);
    EXPECT_EQ(DrawnIds(s, logits, 3000), (std::set<std::int32_t>{3, 0}));
  }
  {
    Sampler s = MakeSampler({.temperature = 1.0f, .top_p = 0.85f, .seed = 1}, 4);
    EXPECT_EQ(DrawnIds(s, logits, 3000), (std::set<std::int32_t>{3, 0, 2}));
  }
  {
    Sampler s = MakeSampler({.temperature = 1.0f, .top_p = 0.4f, .seed = 1}, 4);
    EXPECT_EQ(DrawnIds(s, logits, 3000), (std::set<std::int32_t>{3}));
  }
  {
    Sampler s = MakeSampler({.temperature = 1.0f, .top_p = 1.0f, .seed = 1}, 4);
    EXPECT_EQ(DrawnIds(s, logits, 3000), (std::set<std::int32_t>{0, 1, 2, 3}));
  }
}

TEST(SamplerTest, MinPCutsAtKnownPoint) {
  // Probabilities 0.4, 0.3, 0.2, 0.1 by id.
  const std::vector<float> logits = LogitsOf({0.4, 0.3, 0.2, 0.1});
  {
    // Threshold 0.3 * 0.4 = 0.12: drops id 3.
    Sampler s = MakeSampler({.temperature = 1.0f, .min_p = 0.3f, .seed = 2}, 4);
    EXPECT_EQ(DrawnIds(s, logits, 3000), (std::set<std::int32_t>{0, 1, 2}));
  }
  {
    // Threshold 0.6 * 0.4 = 0.24: keeps ids 0 and 1.
    Sampler s = MakeSampler({.temperature = 1.0f, .min_p = 0.6f, .seed = 2}, 4);
    EXPECT_EQ(DrawnIds(s, logits, 3000), (std::set<std::int32_t>{0, 1}));
  }
  {
    Sampler s = MakeSampler({.temperature = 1.0f, .min_p = 1.0f, .seed = 2}, 4);
    EXPECT_EQ(DrawnIds(s, logits, 3000), (std::set<std::int32_t>{0}));
  }
}

TEST(SamplerTest, TopPIsNormalizedAfterTopK) {
  // Probabilities 0.4, 0.3, 0.2, 0.1. top_p 0.75 alone keeps 0.4 + 0.3 + 0.2 (0.7 < 0.75);
  // after top_k 3 the survivors renormalize to 0.444, 0.333, 0.222 and top_p 0.75 keeps two.
  const std::vector<float> logits = LogitsOf({0.4, 0.3, 0.2, 0.1});
  {
    Sampler s = MakeSampler({.temperature = 1.0f, .top_p = 0.75f, .seed = 3}, 4);
    EXPECT_EQ(DrawnIds(s, logits, 3000), (std::set<std::int32_t>{0, 1, 2}));
  }
  {
    Sampler s = MakeSampler({.temperature = 1.0f, .top_k = 3, .top_p = 0.75f, .seed = 3}, 4);
    EXPECT_EQ(DrawnIds(s, logits, 3000), (std::set<std::int32_t>{0, 1}));
  }
}

TEST(SamplerTest, FiltersSeeTheUntemperedDistribution) {
  // At temperature 10 the tempered distribution is nearly flat, but min-p is applied before
  // temperature, on the raw probabilities 0.4, 0.3, 0.2, 0.1: threshold 0.6 * 0.4 keeps two.
  const std::vector<float> logits = LogitsOf({0.4, 0.3, 0.2, 0.1});
  Sampler s = MakeSampler({.temperature = 10.0f, .min_p = 0.6f, .seed = 4}, 4);
  EXPECT_EQ(DrawnIds(s, logits, 3000), (std::set<std::int32_t>{0, 1}));
}

TEST(SamplerTest, TemperatureFrequenciesMatchSoftmax) {
  const std::vector<float> logits = {1.0f, 0.5f, 0.0f, -0.5f, 2.0f, -3.0f};
  const double temperature = 0.7;
  std::vector<double> expected(logits.size());
  double sum = 0.0;
  for (std::size_t i = 0; i < logits.size(); ++i) {
    expected[i] = std::exp(logits[i] / temperature);
    sum += expected[i];
  }
  for (double& p : expected) p /= sum;

  Sampler s = MakeSampler({.temperature = 0.7f, .seed = 12345}, 6);
  constexpr int kDraws = 20000;
  std::vector<int> counts(logits.size(), 0);
  for (int i = 0; i < kDraws; ++i) ++counts[static_cast<std::size_t>(s.Sample(logits).id)];
  for (std::size_t i = 0; i < logits.size(); ++i) {
    const double mean = kDraws * expected[i];
    const double sigma = std::sqrt(kDraws * expected[i] * (1.0 - expected[i]));
    EXPECT_NEAR(counts[i], mean, 5.0 * sigma + 1.0) << "token " << i;
  }
}

TEST(SamplerTest, SameSeedSameSequenceDifferentSeedDiffers) {
  const std::vector<float> logits = RandomLogits(99, 64, 1.0f);  // nearly flat
  const SamplerConfig config{.temperature = 1.0f, .top_p = 0.95f, .seed = 42};
  Sampler a = MakeSampler(config, 64);
  Sampler b = MakeSampler(config, 64);
  SamplerConfig other = config;
  other.seed = 43;
  Sampler c = MakeSampler(other, 64);
  std::vector<std::int32_t> seq_a, seq_b, seq_c;
  for (int i = 0; i < 200; ++i) {
    seq_a.push_back(a.Sample(logits).id);
    seq_b.push_back(b.Sample(logits).id);
    seq_c.push_back(c.Sample(logits).id);
  }
  EXPECT_EQ(seq_a, seq_b);
  EXPECT_NE(seq_a, seq_c);

  // Reconfigure restarts the stream.
  ASSERT_TRUE(a.Reconfigure(config).ok());
  std::vector<std::int32_t> again;
  for (int i = 0; i < 200; ++i) again.push_back(a.Sample(logits).id);
  EXPECT_EQ(again, seq_a);
}

TEST(SamplerTest, SeededSequenceIsPinned) {
  // The same numbers on every standard library: mt19937_64 and our own uniform derivation.
  // Flat logits over 1000 tokens make the id a direct read of the uniform draw.
  const std::vector<float> logits(1000, 0.0f);
  Sampler s = MakeSampler({.temperature = 1.0f, .seed = 5489}, 1000);
  std::vector<std::int32_t> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(s.Sample(logits).id);
  // floor(1000 * (x >> 11) / 2^53) for the first outputs x of mt19937_64 seeded with 5489
  // (the first of which is 14514284786278117030, as the C++ standard requires).
  std::mt19937_64 ref(5489);
  std::vector<std::int32_t> expected;
  for (int i = 0; i < 5; ++i) {
    const double u = static_cast<double>(ref() >> 11) * 0x1.0p-53;
    expected.push_back(static_cast<std::int32_t>(std::floor(u * 1000.0)));
  }
  EXPECT_EQ(ids, expected);
  EXPECT_EQ(ids[0], 786);  // 14514284786278117030 / 2^64 = 0.78683...
}

TEST(SamplerTest, LogprobsAreOfTheUnmodifiedDistributionAndSumToOne) {
  const std::vector<float> logits = RandomLogits(7, 1000, 12.0f);
  const double log_z = LogSumExp(logits);
  std::vector<TokenLogprob> all(logits.size());
  ASSERT_EQ(TopLogprobs(logits, log_z, all), logits.size());
  double total = 0.0;
  for (const TokenLogprob& t : all) total += std::exp(static_cast<double>(t.logprob));
  EXPECT_NEAR(total, 1.0, 1e-5);
  for (std::size_t i = 1; i < all.size(); ++i) {
    EXPECT_TRUE(all[i - 1].logprob > all[i].logprob ||
                (all[i - 1].logprob == all[i].logprob && all[i - 1].id < all[i].id));
  }

  // The sampled token's logprob ignores temperature and filters.
  Sampler s = MakeSampler({.temperature = 3.0f, .top_k = 5, .seed = 1, .top_n = 10}, 1000);
  for (int i = 0; i < 50; ++i) {
    const SampledToken t = s.Sample(logits);
    EXPECT_NEAR(t.logprob, logits[static_cast<std::size_t>(t.id)] - log_z, 1e-5);
    ASSERT_EQ(t.alternatives.size(), 10u);
    for (std::size_t k = 0; k < 10; ++k) {
      EXPECT_EQ(t.alternatives[k].id, all[k].id);
      EXPECT_FLOAT_EQ(t.alternatives[k].logprob, all[k].logprob);
    }
  }
}

TEST(SamplerTest, AlternativesBreakTiesByLowerId) {
  Sampler s = MakeSampler({.top_n = 4}, 6);
  const SampledToken t = s.Sample(std::vector<float>{1.0f, 5.0f, 5.0f, 2.0f, 5.0f, 2.0f});
  EXPECT_EQ(t.id, 1);
  ASSERT_EQ(t.alternatives.size(), 4u);
  EXPECT_EQ(t.alternatives[0].id, 1);
  EXPECT_EQ(t.alternatives[1].id, 2);
  EXPECT_EQ(t.alternatives[2].id, 4);
  EXPECT_EQ(t.alternatives[3].id, 3);
  // top_n larger than the vocabulary reports every token.
  Sampler small = MakeSampler({.top_n = 100}, 3);
  EXPECT_EQ(small.Sample(std::vector<float>{0.0f, 1.0f, 2.0f}).alternatives.size(), 3u);
}

TEST(SamplerTest, LogprobIsStableForLargeLogits) {
  Sampler s = MakeSampler({}, 2);
  const SampledToken t = s.Sample(std::vector<float>{1000.0f, 999.0f});
  EXPECT_EQ(t.id, 0);
  EXPECT_NEAR(t.logprob, -std::log1p(std::exp(-1.0)), 1e-6);
}

TEST(SamplerTest, ValidateRejectsEachInvalidValue) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  struct Case {
    SamplerConfig config;
    const char* flag;
  };
  const std::vector<Case> cases = {
      {{.temperature = -0.1f}, "temperature"},
      {{.temperature = nan}, "temperature"},
      {{.temperature = std::numeric_limits<float>::infinity()}, "temperature"},
      {{.top_k = -1}, "top_k"},
      {{.top_p = 0.0f}, "top_p"},
      {{.top_p = 1.5f}, "top_p"},
      {{.top_p = nan}, "top_p"},
      {{.min_p = -0.1f}, "min_p"},
      {{.min_p = 1.1f}, "min_p"},
      {{.min_p = nan}, "min_p"},
      {{.top_n = -1}, "top_n"},
      {{.top_n = 101}, "top_n"},
  };
  for (const Case& c : cases) {
    const Status st = c.config.Validate();
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << c.flag;
    EXPECT_NE(st.message().find(c.flag), std::string::npos) << st.message();
    EXPECT_EQ(Sampler::Create(c.config, 10).status().code(), StatusCode::kInvalidArgument);
  }
  EXPECT_NE(SamplerConfig{.top_p = 1.5f}.Validate().message().find("1.5"), std::string::npos);
  // Boundary values are valid.
  EXPECT_TRUE((SamplerConfig{.top_p = 1.0f, .min_p = 1.0f, .top_n = 100}.Validate().ok()));
  EXPECT_TRUE((SamplerConfig{.top_p = 1e-6f, .min_p = 0.0f, .top_n = 0}.Validate().ok()));
  EXPECT_EQ(Sampler::Create({}, 0).status().code(), StatusCode::kInvalidArgument);
}

TEST(SamplerTest, ReconfigureRejectsInvalidAndKeepsOldConfig) {
  Sampler s = MakeSampler({.temperature = 0.5f}, 3);
  EXPECT_EQ(s.Reconfigure({.top_k = -2}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.config().temperature, 0.5f);
}

}  // namespace
}  // namespace tessera::engine
