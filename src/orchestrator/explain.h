// A decision as a person wants to read it (`tessera ask --explain`): what each router said and
// why, which candidates were eligible and what they would cost, what each cascade step ran and
// observed, what was loaded or evicted, the outcome and where its evidence is.
//
// Thread safety: a pure function.
#ifndef TESSERA_ORCHESTRATOR_EXPLAIN_H_
#define TESSERA_ORCHESTRATOR_EXPLAIN_H_

#include <cstdint>
#include <string>

#include "orchestrator/decision.h"

namespace tessera::orchestrator {

struct ExplainContext {
  std::string policy;         // "id@version"
  std::string policy_sha256;  // of its manifest
  std::int64_t evidence = 0;  // the record's seq; 0 when none was written
};

// Several lines, each ending in '\n'.
std::string ExplainDecision(const Decision& d, const ExplainContext& context);

}  // namespace tessera::orchestrator

#endif  // TESSERA_ORCHESTRATOR_EXPLAIN_H_
