// Sampler: picks the next token from a row of logits.
//
// Filters run in llama.cpp's default order: top-k, top-p, min-p, then temperature, then a draw
// from the remaining candidates (softmax of logit / temperature). The filters see the untempered
// distribution; temperature only reshapes the final draw. temperature == 0 is greedy: the argmax,
// ties broken by the lowest id (the filters cannot change the argmax, so they are skipped).
//   top-k  keep the k highest logits (0 = off; ties at the cut keep the lower ids).
//   top-p  keep the shortest prefix, by descending probability, whose mass reaches p (1 = off).
//   min-p  keep tokens whose probability is at least min_p times the best one's (0 = off).
// At least one token (the argmax) always survives.
//
// Log-probabilities are of the model's unmodified distribution (log-softmax of the raw logits,
// before any filter or temperature), as llama.cpp's n_probs reports them: they measure what the
// model believes, not how the token was chosen.
//
// Determinism: the random stream is std::mt19937_64 (its output sequence is fixed by the C++
// standard) turned into a double in [0, 1) by our own bit arithmetic, never through
// std::uniform_real_distribution, so the same seed gives the same tokens with any standard
// library. Candidate order is a strict total order (logit, then id), so no result depends on the
// sort algorithm.
//
// Ownership and cost: a Sampler owns its RNG and buffers sized for n_vocab at creation
// (8 bytes per vocabulary entry, plus top_n alternatives); Sample() does not allocate.
// Thread safety: not thread-safe; one Sampler per session.
#ifndef TESSERA_ENGINE_SAMPLER_H_
#define TESSERA_ENGINE_SAMPLER_H_

#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "engine/logprobs.h"
#include "tessera/status.h"

namespace tessera::engine {

inline constexpr std::int32_t kMaxTopN = 100;

struct SamplerConfig {
  float temperature = 0.0f;  // 0 = greedy; must be >= 0
  std::int32_t top_k = 0;    // 0 = off; must be >= 0
  float top_p = 1.0f;        // in (0, 1]; 1 = off
  float min_p = 0.0f;        // in [0, 1]; 0 = off
  std::uint64_t seed = 0;
  std::int32_t top_n = 0;  // alternatives to report per token, in [0, kMaxTopN]

  // kInvalidArgument naming the flag and value, e.g. "sampler: top_p 1.5 is outside (0, 1]".
  Status Validate() const;
};

// One sampled token. `alternatives` borrows the sampler's buffer: it is valid until the next
// Sample() or Reconfigure() call on the same sampler.
struct SampledToken {
  std::int32_t id = 0;
  float logprob = 0.0f;                        // natural log, under the unmodified distribution
  std::span<const TokenLogprob> alternatives;  // top_n best, descending, ties by lower id
};

class Sampler {
 public:
  // Validates `config` and allocates buffers for a vocabulary of n_vocab tokens (n_vocab >= 1).
  static Result<Sampler> Create(const SamplerConfig& config, std::int32_t n_vocab);

  Sampler(Sampler&&) noexcept = default;
  Sampler& operator=(Sampler&&) noexcept = default;
  Sampler(const Sampler&) = delete;
  Sampler& operator=(const Sampler&) = delete;

  // Replaces the configuration and restarts the random stream from config.seed, keeping the
  // buffers (no allocation). On error the sampler keeps its previous configuration.
  Status Reconfigure(const SamplerConfig& config);

  // Picks a token from `logits` ([n_vocab] raw scores; finite, a NaN counts as -infinity).
  // Requires logits.size() == n_vocab (checked).
  SampledToken Sample(std::span<const float> logits);

  const SamplerConfig& config() const { return config_; }
  std::int32_t n_vocab() const { return static_cast<std::int32_t>(candidates_.size()); }
  // Bytes of its buffers (allocated once, at creation).
  std::size_t size_bytes() const {
    return candidates_.capacity() * sizeof(Candidate) +
           alternatives_.capacity() * sizeof(TokenLogprob);
  }

 private:
  struct Candidate {
    float logit;
    std::int32_t id;
  };

  Sampler(const SamplerConfig& config, std::int32_t n_vocab);

  // A double uniformly distributed in [0, 1) from the top 53 bits of one mt19937_64 output.
  double NextUniform();
  // The argmax, lowest id on ties.
  static std::int32_t Argmax(std::span<const float> logits);
  // Filters and draws with temperature > 0.
  std::int32_t SampleFiltered(std::span<const float> logits);

  SamplerConfig config_;
  std::mt19937_64 rng_;
  std::vector<Candidate> candidates_;       // [n_vocab], scratch for the filters
  std::vector<TokenLogprob> alternatives_;  // [kMaxTopN], the reported top_n
};

}  // namespace tessera::engine

#endif  // TESSERA_ENGINE_SAMPLER_H_
