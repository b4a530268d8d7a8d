// Eviction policy: which evictable modules go first when room is needed.
//
// Safety is not the policy's business: the planner only offers modules that may be evicted at
// all (not leased, not pinned, no unexpired soft pin, resident for at least the minimum time,
// not part of the plan). The policy only orders them; the planner then takes victims in that
// order until the plan fits. The default is least recently used. Replace it by passing another
// EvictionPolicy to the ResidentSet.
#ifndef TESSERA_RESIDENT_POLICY_H_
#define TESSERA_RESIDENT_POLICY_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "resident/budget.h"

namespace tessera::resident {

struct EvictionCandidate {
  std::string key;
  std::int64_t loaded_at_micros = 0;
  std::int64_t last_used_micros = 0;  // last lease acquired or released
  std::uint64_t uses = 0;             // leases acquired since it was loaded
  Bytes private_bytes;
};

class EvictionPolicy {
 public:
  virtual ~EvictionPolicy() = default;
  // The candidates' indexes, first victim first. Must be a permutation of the indexes.
  virtual std::vector<std::size_t> Order(std::span<const EvictionCandidate> candidates) const = 0;
  virtual std::string_view name() const = 0;
};

// Least recently used first; ties by earlier load, then by key.
std::unique_ptr<EvictionPolicy> LeastRecentlyUsed();

}  // namespace tessera::resident

#endif  // TESSERA_RESIDENT_POLICY_H_
