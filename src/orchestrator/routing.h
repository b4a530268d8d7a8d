// Internal to the orchestrator: the pieces of Orchestrate (orchestrate.h) in their own files.
#ifndef TESSERA_ORCHESTRATOR_ROUTING_H_
#define TESSERA_ORCHESTRATOR_ROUTING_H_

#include <string>
#include <vector>

#include "orchestrator/backend.h"
#include "orchestrator/decision.h"
#include "orchestrator/orchestrate.h"
#include "package/policy.h"

namespace tessera::orchestrator {

// Runs one prepared router on the (validated) request. Never fails: a router whose module
// fails says Verdict::kError with the reason.
RouterOutcome RunRouter(const PreparedRouter& router, Backend& backend, const std::string& request);

// A candidate of one cascade step with what ranking it took.
struct Ranked {
  CandidateView view;
  ModuleFacts facts;          // eligible candidates only
  ResidencyPreview preview;   // eligible candidates only
};

// Every candidate of `route`'s step `step` (0-based), resolved and checked (orchestrate.h,
// steps 3 and 4): the eligible ones first, in the order to try them, then the excluded ones.
std::vector<Ranked> RankStep(const package::Policy& policy, const package::RouteSpec& route,
                             std::size_t step, Backend& backend);

}  // namespace tessera::orchestrator

#endif  // TESSERA_ORCHESTRATOR_ROUTING_H_
