// Log-probabilities of a next-token distribution given as raw logits.
//
// A row of logits l[0..n_vocab) defines p(i) = exp(l[i]) / sum_j exp(l[j]). These helpers
// compute log p(i) = l[i] - LogSumExp(l) stably (the maximum is subtracted before exponentiating,
// the sum is accumulated in double) and the N most likely tokens, without allocating: callers
// pass the output buffer. The sampler and Session::Score share them so that a token's reported
// log-probability is the same number whichever path computed it.
//
// Logits are expected to be finite; a NaN logit is treated as -infinity (probability 0). At least
// one logit must be finite.
//
// Thread safety: pure functions.
#ifndef TESSERA_ENGINE_LOGPROBS_H_
#define TESSERA_ENGINE_LOGPROBS_H_

#include <cstddef>
#include <cstdint>
#include <span>

namespace tessera::engine {

// One candidate token with its natural-log probability.
struct TokenLogprob {
  std::int32_t id = 0;
  float logprob = 0.0f;
};

// log(sum_i exp(logits[i])), computed as max + log(sum exp(l - max)) summed in double, NaN
// counting as -inf (kernels::LogSumExp: the active table; exp in float on SIMD variants).
double LogSumExp(std::span<const float> logits);

// Writes the out.size() most likely tokens of `logits` into `out`, sorted by descending
// log-probability, ties broken by lower id; `log_z` must be LogSumExp(logits). Returns how many
// entries were written: min(out.size(), logits.size()). Cost: one pass over the logits plus an
// insertion into `out` for each token that beats the current N-th best.
std::size_t TopLogprobs(std::span<const float> logits, double log_z, std::span<TokenLogprob> out);

}  // namespace tessera::engine

#endif  // TESSERA_ENGINE_LOGPROBS_H_
