// Planning a change of the resident set: which modules to evict so that the modules to load fit
// the budgets. A pure function of a snapshot, so that it is tested without loading anything and
// so that a plan that cannot fit is refused before anything is allocated.
//
// The rules (docs/adr/0014-resident-set.md):
//   - usage = every artifact used by a resident, loading or incoming module, once + every
//     module's private bytes + every session's KV bytes; host and device separately;
//   - a module may be evicted only when it is not needed by the plan, holds no lease (a session
//     holds its module's lease), is not pinned, has no unexpired soft pin, has been resident for
//     at least Budgets::min_residence_micros and is not part of another transaction;
//   - victims are taken in the EvictionPolicy's order until host, device, KV and K_active fit;
//   - a refusal says what is needed, what is free, what eviction could free and why each other
//     module could not be evicted.
#ifndef TESSERA_RESIDENT_PLAN_H_
#define TESSERA_RESIDENT_PLAN_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "resident/budget.h"
#include "resident/policy.h"
#include "tessera/status.h"

namespace tessera::resident {

// A module of the resident set (resident or being loaded) as the planner sees it.
struct PlanModule {
  std::string key;
  Footprint footprint;              // measured, else the estimate
  std::uint64_t kv_bytes = 0;       // its sessions' KV caches
  std::uint64_t session_bytes = 0;  // its sessions' other buffers (host)
  std::int32_t leases = 0;
  bool pinned = false;
  std::int64_t soft_pin_until_micros = 0;
  std::int64_t loaded_at_micros = 0;
  std::int64_t last_used_micros = 0;
  std::uint64_t uses = 0;
  bool in_transaction = false;  // loading, or a victim held by a transaction in progress
};

struct Incoming {
  std::string key;
  Footprint footprint;
};

struct PlanRequest {
  std::vector<Incoming> load;             // modules to make resident
  std::vector<std::string> keep;          // resident modules the request needs: never victims
  std::uint64_t extra_kv_bytes = 0;       // a new session's KV cache
  std::uint64_t extra_session_bytes = 0;  // a new session's other buffers
  std::int64_t now_micros = 0;
  std::string what;  // for messages: "load dev.a@1.0.0", "a session of dev.a@1.0.0"
};

struct Usage {
  Bytes bytes;  // host includes sessions' KV and buffers
  std::uint64_t kv = 0;
  std::int32_t active = 0;
};

struct Plan {
  std::vector<std::string> evict;  // victims, first evicted first
  Usage before;
  Usage after;
};

// The usage of `modules` (minus `without`) plus `incoming` and a new session's `extra_kv` and
// `extra_session` bytes.
Usage ComputeUsage(std::span<const PlanModule> modules, const std::vector<std::string>& without,
                   std::span<const Incoming> incoming, std::uint64_t extra_kv = 0,
                   std::uint64_t extra_session = 0);

// Whether `usage` is within every budget; the first budget it exceeds ("host 12.0 MB > budget
// 10.0 MB"), empty when it fits.
bool Fits(const Budgets& budgets, const Usage& usage);
std::string Excess(const Budgets& budgets, const Usage& usage);
// Why `module` may not be a victim of `request` ("leased (2)", "pinned", ...); empty if it may.
std::string WhyNotEvictable(const Budgets& budgets, const PlanModule& module,
                            const PlanRequest& request);

// kResourceExhausted when no choice of victims fits, naming the reasons; the plan otherwise.
Result<Plan> MakePlan(const Budgets& budgets, std::span<const PlanModule> modules,
                      const PlanRequest& request, const EvictionPolicy& policy);

}  // namespace tessera::resident

#endif  // TESSERA_RESIDENT_PLAN_H_
