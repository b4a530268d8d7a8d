// The decision the orchestrator makes for one request, step by step: what every router said,
// which candidates were eligible (and why the others were not), what each cascade step ran and
// observed, and the outcome. It is the body of the request's evidence record (decision_json.h)
// and what `--explain` prints (explain.h).
//
// Thread safety: values.
#ifndef TESSERA_ORCHESTRATOR_DECISION_H_
#define TESSERA_ORCHESTRATOR_DECISION_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "orchestrator/backend.h"
#include "orchestrator/router_outcome.h"

namespace tessera::orchestrator {

enum class Outcome : std::uint8_t {
  kAnswered,   // an answer (accepted, or the best so far when a bound stopped the cascade)
  kAbstained,  // no module is good enough: out of domain, no confident router, no answer that
               // reached its threshold, no eligible candidate
  kFailed,     // every candidate that ran failed with an error
};
std::string_view OutcomeName(Outcome o);  // "answered", "abstained", "failed"

// One candidate of one cascade step, ranked or excluded.
struct CandidateView {
  std::string route;
  std::int32_t step = 0;      // 1-based cascade step
  std::string candidate;      // as the policy names it: "id", "id@1.0.0", "role:x"
  std::string module;         // "id@version" it resolved to; empty when it did not resolve
  std::string sha256;
  bool eligible = false;
  std::string reason;         // why excluded, or why ranked where it is
  std::uint64_t parameters = 0;
  bool resident = false;
  std::uint64_t load_bytes = 0;
  std::vector<std::string> would_evict;
  double cost = 0;            // millions of parameter-tokens + load cost (policy.h)
};

// One module invocation of the cascade.
struct StepRecord {
  std::string route;
  std::int32_t step = 0;
  std::string module;
  std::string sha256;
  std::string base_sha256;    // adapters: the base weights the answer ran on
  std::uint64_t parameters = 0;
  std::string chosen_because;
  std::string error;          // "<code>: <message>" when the invocation failed
  SkillAnswer answer;         // when it ran
  double threshold = 0;
  std::string threshold_source;  // "calibration #<seq>" or "policy"
  bool accepted = false;
  std::string verdict;        // why accepted or not
};

struct Decision {
  std::string request;  // as routed (surrounding white space trimmed)
  bool dry_run = false;
  std::vector<RouterOutcome> routers;  // in the order they ran
  std::string route;                   // "" when no router decided one
  std::vector<std::string> route_path;  // the route, then each fallback route taken
  std::vector<CandidateView> candidates;
  std::vector<StepRecord> steps;
  Outcome outcome = Outcome::kAbstained;
  bool accepted = false;  // the answer reached its module's threshold
  std::string answer;
  std::string module;     // who answered
  std::string module_sha256;
  double confidence = 0;
  std::string measure;
  std::string reason;     // one sentence: why this outcome
  std::string stopped_by;  // "", "max_steps", "max_wall_ms", "max_load_bytes"
  std::vector<std::string> fallbacks;  // what happened instead of the plan, one line each
  // A dry run: what the first step would run and what loading it would do.
  std::string plan;
};

}  // namespace tessera::orchestrator

#endif  // TESSERA_ORCHESTRATOR_DECISION_H_
