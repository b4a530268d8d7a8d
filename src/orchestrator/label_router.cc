#include "orchestrator/label_router.h"
#include "orchestrator/format.h"

#include <algorithm>
#include <cstdio>
#include <string>

namespace tessera::orchestrator {
RouterOutcome DecideByLabels(const package::RouterSpec& spec, const LabelScores& scores,
                             double threshold) {
  RouterOutcome out;
  out.router = spec.name;
  out.type = std::string(package::RouterKindName(spec.kind));
  out.threshold = threshold;
  out.tokens = scores.prompt_tokens + scores.scored_tokens;
  out.seconds = scores.seconds;
  for (std::size_t i = 0; i < scores.labels.size(); ++i) {
    out.scores.push_back({scores.labels[i], scores.probabilities[i]});
  }
  // Best first; equal probabilities keep the labels' order (deterministic).
  std::stable_sort(out.scores.begin(), out.scores.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  if (out.scores.empty()) {
    out.verdict = Verdict::kError;
    out.reason = "the classifier has no labels";
    return out;
  }
  const auto& [label, p] = out.scores.front();
  out.label = label;
  out.confidence = p;
  out.margin = p - (out.scores.size() > 1 ? out.scores[1].second : 0.0);
  DecideOnLabel(spec, threshold,
                "label \"" + label + "\" p=" + Fixed(p) + ", margin " + Fixed(out.margin), out);
  return out;
}

void DecideOnLabel(const package::RouterSpec& spec, double threshold, const std::string& said,
                   RouterOutcome& out) {
  const bool abstained = std::find(spec.abstain_labels.begin(), spec.abstain_labels.end(),
                                   out.label) != spec.abstain_labels.end();
  const auto mapped = spec.labels.find(out.label);
  if (!(out.confidence >= threshold)) {  // NaN: never confident
    out.verdict = Verdict::kAbstain;
    out.reason = said + ": below the threshold " + Fixed(threshold);
  } else if (!(out.margin >= spec.min_margin)) {
    out.verdict = Verdict::kAbstain;
    out.reason = said + ": margin below " + Fixed(spec.min_margin);
  } else if (abstained) {
    out.verdict = Verdict::kOutOfDomain;
    out.reason = said + ": out of domain";
  } else if (mapped == spec.labels.end()) {
    out.verdict = Verdict::kAbstain;
    out.reason = said + ": the policy maps this label to no route";
  } else {
    out.verdict = Verdict::kRoute;
    out.route = mapped->second;
    out.reason = said + " routes to " + out.route;
  }
}

}  // namespace tessera::orchestrator
