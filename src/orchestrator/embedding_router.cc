#include "orchestrator/embedding_router.h"
#include "orchestrator/format.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <numeric>

namespace tessera::orchestrator {
namespace {

// Normalises `v` into `out`; false for a zero or non-finite vector.
bool Unit(std::span<const float> v, float* out) {
  double norm = 0;
  for (float x : v) norm += static_cast<double>(x) * x;
  norm = std::sqrt(norm);
  if (!(norm > 0) || !std::isfinite(norm)) return false;
  for (std::size_t i = 0; i < v.size(); ++i) out[i] = static_cast<float>(v[i] / norm);
  return true;
}

}  // namespace

Result<EmbeddingIndex> EmbeddingIndex::Build(const package::RouterSpec& spec,
                                             std::vector<package::Exemplar> exemplars,
                                             std::vector<std::vector<float>> vectors) {
  if (exemplars.empty() || exemplars.size() != vectors.size()) {
    return InvalidArgument("embedding router \"" + spec.name + "\": " +
                           std::to_string(exemplars.size()) + " exemplars but " +
                           std::to_string(vectors.size()) + " vectors");
  }
  EmbeddingIndex index;
  index.spec_ = spec;
  index.dim_ = vectors.front().size();
  if (index.dim_ == 0) return InvalidArgument("embedding router: empty embeddings");
  index.unit_.resize(vectors.size() * index.dim_);
  for (std::size_t i = 0; i < vectors.size(); ++i) {
    if (vectors[i].size() != index.dim_ || !Unit(vectors[i], &index.unit_[i * index.dim_])) {
      return InvalidArgument("embedding router \"" + spec.name + "\": exemplar " +
                             std::to_string(i) + " has no usable embedding");
    }
  }
  index.exemplars_ = std::move(exemplars);
  return index;
}

Result<RouterOutcome> EmbeddingIndex::Route(std::span<const float> query) const {
  std::vector<float> q(dim_);
  if (query.size() != dim_ || !Unit(query, q.data())) {
    return InvalidArgument("embedding router \"" + spec_.name + "\": the request's embedding has " +
                           std::to_string(query.size()) + " values (or is zero), expected " +
                           std::to_string(dim_));
  }
  const std::size_t n = exemplars_.size();
  std::vector<double> sim(n);
  for (std::size_t i = 0; i < n; ++i) {
    const float* row = &unit_[i * dim_];
    double dot = 0;
    for (std::size_t d = 0; d < dim_; ++d) dot += static_cast<double>(row[d]) * q[d];
    sim[i] = dot;
  }
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return sim[a] > sim[b]; });
  const std::size_t k = std::min<std::size_t>(spec_.top_k, n);
  std::map<std::string, double> vote;
  std::map<std::string, std::size_t> first_seen;  // rank of each label's nearest exemplar
  std::map<std::string, double> nearest;
  for (std::size_t r = 0; r < k; ++r) {
    const package::Exemplar& e = exemplars_[order[r]];
    vote[e.label] += sim[order[r]];
    if (first_seen.emplace(e.label, r).second) nearest[e.label] = sim[order[r]];
  }
  RouterOutcome out;
  out.router = spec_.name;
  out.type = "embedding";
  out.threshold = spec_.threshold;
  for (const auto& [label, v] : vote) out.scores.push_back({label, v / static_cast<double>(k)});
  std::sort(out.scores.begin(), out.scores.end(), [&](const auto& a, const auto& b) {
    if (a.second != b.second) return a.second > b.second;
    return first_seen[a.first] < first_seen[b.first];
  });
  const std::string& label = out.scores.front().first;
  out.label = label;
  out.confidence = nearest[label];
  out.margin = out.scores.front().second - (out.scores.size() > 1 ? out.scores[1].second : 0.0);
  const std::string said = "label \"" + label + "\" (nearest exemplar \"" +
                           exemplars_[order[first_seen[label]]].text.substr(0, 60) +
                           "\", cosine " + Fixed(out.confidence) + ", margin " +
                           Fixed(out.margin) + ")";
  DecideOnLabel(spec_, spec_.threshold, said, out);
  return out;
}

}  // namespace tessera::orchestrator
