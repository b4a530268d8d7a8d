#include "engine/sampler.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

#include "base/check.h"

namespace tessera::engine {
namespace {

std::string FormatFloat(float v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", static_cast<double>(v));
  return buf;
}

inline float Clean(float x) { return std::isnan(x) ? -std::numeric_limits<float>::infinity() : x; }

}  // namespace

Status SamplerConfig::Validate() const {
  if (!(temperature >= 0.0f) || !std::isfinite(temperature)) {
    return InvalidArgument("sampler: temperature " + FormatFloat(temperature) +
                           " must be a finite number >= 0");
  }
  if (top_k < 0) {
    return InvalidArgument("sampler: top_k " + std::to_string(top_k) + " must be >= 0");
  }
  if (!(top_p > 0.0f && top_p <= 1.0f)) {
    return InvalidArgument("sampler: top_p " + FormatFloat(top_p) + " is outside (0, 1]");
  }
  if (!(min_p >= 0.0f && min_p <= 1.0f)) {
    return InvalidArgument("sampler: min_p " + FormatFloat(min_p) + " is outside [0, 1]");
  }
  if (top_n < 0 || top_n > kMaxTopN) {
    return InvalidArgument("sampler: top_n " + std::to_string(top_n) + " is outside [0, " +
                           std::to_string(kMaxTopN) + "]");
  }
  return Status::Ok();
}

Result<Sampler> Sampler::Create(const SamplerConfig& config, std::int32_t n_vocab) {
  TS_RETURN_IF_ERROR(config.Validate());
  if (n_vocab < 1) {
    return InvalidArgument("sampler: n_vocab " + std::to_string(n_vocab) + " must be >= 1");
  }
  return Sampler(config, n_vocab);
}

Sampler::Sampler(const SamplerConfig& config, std::int32_t n_vocab)
    : config_(config),
      rng_(config.seed),
      candidates_(static_cast<std::size_t>(n_vocab)),
      alternatives_(static_cast<std::size_t>(kMaxTopN)) {}

Status Sampler::Reconfigure(const SamplerConfig& config) {
  TS_RETURN_IF_ERROR(config.Validate());
  config_ = config;
  rng_.seed(config.seed);
  return Status::Ok();
}

double Sampler::NextUniform() {
  // 53 random bits scaled by 2^-53: every value k / 2^53 for k in [0, 2^53) equally likely.
  const std::uint64_t bits = rng_() >> 11;
  return static_cast<double>(bits) * 0x1.0p-53;
}

std::int32_t Sampler::Argmax(std::span<const float> logits) {
  std::size_t best = 0;
  float best_logit = Clean(logits[0]);
  for (std::size_t i = 1; i < logits.size(); ++i) {
    const float l = Clean(logits[i]);
    if (l > best_logit) {  // strict: the first (lowest) id wins a tie
      best_logit = l;
      best = i;
    }
  }
  return static_cast<std::int32_t>(best);
}

std::int32_t Sampler::SampleFiltered(std::span<const float> logits) {
  const auto ranks_before = [](const Candidate& a, const Candidate& b) {
    return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
  };
  Candidate* const c = candidates_.data();
  std::size_t count = logits.size();
  for (std::size_t i = 0; i < count; ++i) {
    c[i] = Candidate{Clean(logits[i]), static_cast<std::int32_t>(i)};
  }
  bool sorted = false;

  // top-k: the k best, sorted.
  if (config_.top_k > 0 && static_cast<std::size_t>(config_.top_k) < count) {
    const auto k = static_cast<std::size_t>(config_.top_k);
    std::partial_sort(c, c + k, c + count, ranks_before);
    count = k;
    sorted = true;
  }

  // top-p: the shortest sorted prefix whose probability (among the survivors) reaches top_p.
  if (config_.top_p < 1.0f) {
    if (!sorted) {
      std::sort(c, c + count, ranks_before);
      sorted = true;
    }
    const double max_logit = c[0].logit;
    double sum = 0.0;
    for (std::size_t i = 0; i < count; ++i) sum += std::exp(c[i].logit - max_logit);
    const double target = static_cast<double>(config_.top_p) * sum;
    double cumulative = 0.0;
    for (std::size_t i = 0; i < count; ++i) {
      cumulative += std::exp(c[i].logit - max_logit);
      if (cumulative >= target) {
        count = i + 1;
        break;
      }
    }
  }

  // The best surviving logit: c[0] when sorted, else a scan (the argmax always survives).
  double max_logit = c[0].logit;
  if (!sorted) {
    for (std::size_t i = 1; i < count; ++i) max_logit = std::max<double>(max_logit, c[i].logit);
  }

  // min-p: p(i) >= min_p * p(best)  <=>  logit(i) >= logit(best) + log(min_p).
  if (config_.min_p > 0.0f) {
    const double threshold = max_logit + std::log(static_cast<double>(config_.min_p));
    std::size_t kept = 0;
    for (std::size_t i = 0; i < count; ++i) {
      if (c[i].logit >= threshold) c[kept++] = c[i];  // order-preserving compaction
    }
    count = kept;  // >= 1: the best logit passes its own threshold
  }

  // Temperature, then one draw by inverse CDF over the survivors in their current order.
  const double inv_temperature = 1.0 / static_cast<double>(config_.temperature);
  double sum = 0.0;
  for (std::size_t i = 0; i < count; ++i) {
    sum += std::exp((c[i].logit - max_logit) * inv_temperature);
  }
  const double u = NextUniform() * sum;
  double cumulative = 0.0;
  for (std::size_t i = 0; i < count; ++i) {
    cumulative += std::exp((c[i].logit - max_logit) * inv_temperature);
    if (u < cumulative) return c[i].id;
  }
  return c[count - 1].id;  // u rounded up to the total: the last candidate
}

SampledToken Sampler::Sample(std::span<const float> logits) {
  TS_CHECK(logits.size() == candidates_.size());
  SampledToken out;
  out.id = config_.temperature == 0.0f ? Argmax(logits) : SampleFiltered(logits);
  const double log_z = LogSumExp(logits);
  out.logprob = static_cast<float>(static_cast<double>(Clean(logits[out.id])) - log_z);
  if (config_.top_n > 0) {
    const std::span<TokenLogprob> buffer(alternatives_.data(),
                                         static_cast<std::size_t>(config_.top_n));
    out.alternatives = buffer.first(TopLogprobs(logits, log_z, buffer));
  }
  return out;
}

}  // namespace tessera::engine
