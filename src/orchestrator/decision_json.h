// A Decision (decision.h) as the JSON body of its evidence record, and back.
//
// The body separates what a replay must reproduce from what depends on the process: "routing",
// "steps" (modules, answers, confidences, verdicts) and "outcome" are deterministic for the same
// request, policy bytes and module bytes (greedy decoding; the engine is bit-identical for any
// thread count); "observed" holds timings, residency (what was resident, loaded or evicted, and
// the costs that depend on it) and every candidate's ranking. DeterministicPart() is what
// `tessera replay` compares.
//
// Thread safety: pure functions.
#ifndef TESSERA_ORCHESTRATOR_DECISION_JSON_H_
#define TESSERA_ORCHESTRATOR_DECISION_JSON_H_

#include <nlohmann/json.hpp>

#include "orchestrator/decision.h"

namespace tessera::orchestrator {

// The body (without the "request" and "policy" members, which the runtime adds).
nlohmann::json DecisionJson(const Decision& d);

// The members of `body` a replay must reproduce: routing, steps without timings or residency,
// outcome.
nlohmann::json DeterministicPart(const nlohmann::json& body);

}  // namespace tessera::orchestrator

#endif  // TESSERA_ORCHESTRATOR_DECISION_JSON_H_
