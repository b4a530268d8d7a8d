#include "engine/logprobs.h"

#include <cmath>
#include <limits>

#include "kernels/kernels.h"

namespace tessera::engine {
namespace {

// NaN counts as -infinity so that comparisons stay a strict order.
inline float Clean(float x) { return std::isnan(x) ? -std::numeric_limits<float>::infinity() : x; }

// True if (a_logit, a_id) ranks before (b_logit, b_id): higher logit first, then lower id.
inline bool RanksBefore(float a_logit, std::int32_t a_id, float b_logit, std::int32_t b_id) {
  return a_logit > b_logit || (a_logit == b_logit && a_id < b_id);
}

}  // namespace

double LogSumExp(std::span<const float> logits) {
  return kernels::LogSumExp(logits.data(), static_cast<std::int64_t>(logits.size()));
}

std::size_t TopLogprobs(std::span<const float> logits, double log_z, std::span<TokenLogprob> out) {
  const std::size_t n_out = out.size() < logits.size() ? out.size() : logits.size();
  if (n_out == 0) return 0;
  // out[0..filled) is sorted best first, holding raw logits in .logprob until the end.
  std::size_t filled = 0;
  for (std::size_t i = 0; i < logits.size(); ++i) {
    const float l = Clean(logits[i]);
    const auto id = static_cast<std::int32_t>(i);
    if (filled == n_out) {
      const TokenLogprob& worst = out[n_out - 1];
      if (!RanksBefore(l, id, worst.logprob, worst.id)) continue;
      --filled;  // the worst entry falls off
    }
    std::size_t pos = filled;
    while (pos > 0 && RanksBefore(l, id, out[pos - 1].logprob, out[pos - 1].id)) {
      out[pos] = out[pos - 1];
      --pos;
    }
    out[pos] = TokenLogprob{id, l};
    ++filled;
  }
  for (std::size_t k = 0; k < n_out; ++k) {
    out[k].logprob = static_cast<float>(static_cast<double>(out[k].logprob) - log_z);
  }
  return n_out;
}

}  // namespace tessera::engine
