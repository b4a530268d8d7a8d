// One request through a policy: validate it, route it (routers in the policy's order; the first
// that decides wins), filter the route's candidates for eligibility, rank them by cost, and run
// the cascade with its bounds. Everything is recorded in the Decision (decision.h).
//
//  1. The request: surrounding white space is trimmed; empty → kInvalidArgument; more than
//     kMaxRequestBytes → kOutOfRange naming the size and the limit; not UTF-8 → kInvalidUtf8
//     naming the offset. These are errors, not decisions (nothing was decided).
//  2. Routing: each prepared router says route, out of domain, abstain or error (router_outcome.h).
//     A route ends routing; out of domain ends the request (abstained); abstain and error pass
//     to the next router. Every router abstaining: abstained ("no router was confident").
//  3. A route with an input_pattern (its declared domain) whose ASCII-lower-cased request does
//     not match it runs nothing: its fallback, if any, is tried; else the request is abstained
//     ("outside the declared domain of route X").
//     Eligibility, per candidate of each cascade step (a package id, an exact version, or every
//     package with a contract role): installed; a usable state (and "verified" when the policy
//     requires it); a model or adapter; its licence allowed by the policy; every capability the
//     route requires granted by the trust policy; its contract's input type the route's input;
//     and able to become resident under the budgets now (Backend::Preview). Excluded candidates
//     are recorded with the reason.
//  4. Ranking inside a step: cost = parameters (millions) + load_cost_per_mb x MB to load; the
//     cheapest wins, except that a resident alternative whose cost is within `hysteresis` of the
//     cheapest cold one is kept (routing does not flap between equivalent modules).
//  5. Cascade: run the step's choice (Backend::Invoke); an answer is valid when it passes its
//     module's contract and the route's output type, if the route declares one; accept when it is valid and its
//     confidence reaches the module's threshold (ThresholdSource: a calibration, else the
//     policy's min_confidence); otherwise escalate to the next step, then to the route's
//     fallback route. Bounds: max_steps invocations, no step started after max_wall_ms, no
//     candidate whose load would pass max_load_bytes for this request (skipped, recorded).
//  6. Outcome: answered (accepted); answered but not accepted when a bound stopped the cascade
//     with a valid answer in hand, or when the policy says on_exhausted "best"; failed when
//     every invocation was an error; otherwise abstained, with the best rejected answer named.
// A dry run does 1-4 and stops before the first invocation, describing it in Decision::plan.
// A replay forces the recorded modules (OrchestrateOptions::forced).
//
// Thread safety: Orchestrate touches only its arguments; routers are immutable.
#ifndef TESSERA_ORCHESTRATOR_ORCHESTRATE_H_
#define TESSERA_ORCHESTRATOR_ORCHESTRATE_H_

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "orchestrator/backend.h"
#include "orchestrator/decision.h"
#include "orchestrator/embedding_router.h"
#include "orchestrator/rule_router.h"
#include "package/policy.h"
#include "tessera/status.h"

namespace tessera::orchestrator {

inline constexpr std::size_t kMaxRequestBytes = 64 * 1024;

struct Threshold {
  double value = 0;
  std::string source;  // "calibration #12", "policy"
};

// Calibrated thresholds, by module (the runtime reads them from the evidence ledger).
class ThresholdSource {
 public:
  virtual ~ThresholdSource() = default;
  virtual std::optional<Threshold> For(const ModuleFacts& module) = 0;
};

struct PreparedRouter {
  package::RouterSpec spec;
  std::optional<RuleRouter> rules;       // kRules
  ModuleFacts module;                    // kClassifier, kEmbedding
  std::optional<EmbeddingIndex> index;   // kEmbedding
  Threshold threshold;                   // kClassifier: calibrated or the policy's
};

// Compiles rule routers, resolves router modules, and embeds each embedding router's exemplars
// (`exemplars(name)`: the parsed artifact). Errors name the router.
Result<std::vector<PreparedRouter>> PrepareRouters(
    const package::Policy& policy, Backend& backend, ThresholdSource& thresholds,
    const std::function<Result<std::vector<package::Exemplar>>(const std::string&)>& exemplars);

// A module a step must run (a replay forces what the recorded decision ran, so that residency,
// which ranks equivalent alternatives, cannot change the plan).
struct ForcedStep {
  std::string route;
  std::int32_t step = 0;  // 1-based
  std::string module;     // "id@version"
};

struct OrchestrateOptions {
  bool dry_run = false;
  // Steps whose module is given: that module runs when it is eligible (its ranking is recorded
  // as observed); when it is not, the step ranks as usual and a fallback line says why.
  std::vector<ForcedStep> forced;
};

// The trimmed request, or the error of step 1.
Result<std::string> ValidateRequest(std::string_view request);

Result<Decision> Orchestrate(const package::Policy& policy,
                             const std::vector<PreparedRouter>& routers, Backend& backend,
                             ThresholdSource& thresholds, std::string_view request,
                             const OrchestrateOptions& options = {});

}  // namespace tessera::orchestrator

#endif  // TESSERA_ORCHESTRATOR_ORCHESTRATE_H_
