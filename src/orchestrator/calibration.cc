#include "orchestrator/calibration.h"

#include <algorithm>
#include <cmath>

namespace tessera::orchestrator {

Calibration Calibrate(const std::vector<ScoredCase>& cases, double target,
                      std::size_t max_points) {
  Calibration c;
  c.target = target;
  c.cases = cases.size();
  std::vector<ScoredCase> valid;
  for (const ScoredCase& s : cases) {
    if (s.valid && std::isfinite(s.confidence)) valid.push_back(s);  // NaN would break the sort
  }
  std::stable_sort(valid.begin(), valid.end(),
                   [](const ScoredCase& a, const ScoredCase& b) { return a.confidence > b.confidence; });
  if (cases.empty() || valid.empty()) return c;
  const double n = static_cast<double>(cases.size());
  // Cuts after every run of equal confidences: accepting the first `i` answers.
  struct Cut {
    double threshold;
    std::size_t accepted;
    std::size_t correct;
  };
  std::vector<Cut> cuts;
  std::size_t correct = 0;
  for (std::size_t i = 0; i < valid.size(); ++i) {
    correct += valid[i].correct ? 1 : 0;
    if (i + 1 < valid.size() && valid[i + 1].confidence == valid[i].confidence) continue;
    cuts.push_back({valid[i].confidence, i + 1, correct});
  }
  c.accuracy_all = static_cast<double>(correct) / static_cast<double>(valid.size());
  const Cut* best = nullptr;
  for (const Cut& cut : cuts) {
    const double accuracy = static_cast<double>(cut.correct) / static_cast<double>(cut.accepted);
    if (accuracy >= target) best = &cut;  // later cuts accept more: keep the last that reaches
  }
  c.reached = best != nullptr;
  if (best == nullptr) best = &cuts.front();
  c.threshold = best->threshold;
  c.coverage = static_cast<double>(best->accepted) / n;
  c.accuracy = static_cast<double>(best->correct) / static_cast<double>(best->accepted);
  // The curve: evenly spaced cuts (by index), the first and the last included.
  const std::size_t points = std::min(max_points, cuts.size());
  for (std::size_t p = 0; p < points; ++p) {
    const std::size_t i = points == 1 ? 0 : p * (cuts.size() - 1) / (points - 1);
    const Cut& cut = cuts[i];
    c.curve.push_back({cut.threshold, static_cast<double>(cut.accepted) / n,
                       static_cast<double>(cut.correct) / static_cast<double>(cut.accepted)});
  }
  return c;
}

}  // namespace tessera::orchestrator
