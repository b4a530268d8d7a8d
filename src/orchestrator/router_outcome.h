// What one router said about one request: a route, "out of domain", or nothing (abstain), with
// its confidence, margin, per-label scores and reason; recorded as evidence whatever it says.
//
// Thread safety: a value.
#ifndef TESSERA_ORCHESTRATOR_ROUTER_OUTCOME_H_
#define TESSERA_ORCHESTRATOR_ROUTER_OUTCOME_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "package/policy.h"

namespace tessera::orchestrator {

enum class Verdict : std::uint8_t {
  kRoute,        // decided a route
  kOutOfDomain,  // confident that no route applies: the request is abstained
  kAbstain,      // not confident: the next router decides
  kError,        // the router could not run (its module failed): the next router decides
};
std::string_view VerdictName(Verdict v);  // "route", "out_of_domain", "abstain", "error"

struct RouterOutcome {
  std::string router;         // the policy's name for it
  std::string type;           // "rules", "classifier", "embedding"
  std::string module;         // "id@version" of its model; empty for rules
  std::string module_sha256;  // its weights
  Verdict verdict = Verdict::kAbstain;
  std::string route;          // kRoute
  std::string label;          // the winning label or rule ("rule 2")
  double confidence = 0;      // rules: share of the matched weight; classifier: probability;
                              // embedding: cosine similarity of the nearest exemplar
  double threshold = 0;       // what confidence had to reach
  double margin = 0;          // top-1 minus top-2 score
  std::vector<std::pair<std::string, double>> scores;  // per label (or route), best first
  std::string reason;
  std::int32_t tokens = 0;         // model tokens evaluated
  std::uint64_t parameters = 0;    // of its model
  double seconds = 0;
};

// The verdict of a model router (classifier or embedding) on its winning label, in `out`
// (out.label, out.confidence and out.margin set): below `threshold` or `spec.min_margin`
// (NaN included): abstain; an abstained label: out of domain; a label the policy maps to no
// route: abstain; else that route. `said` starts the reason.
void DecideOnLabel(const package::RouterSpec& spec, double threshold, const std::string& said,
                   RouterOutcome& out);

}  // namespace tessera::orchestrator

#endif  // TESSERA_ORCHESTRATOR_ROUTER_OUTCOME_H_
