#include "resident/policy.h"

#include <algorithm>
#include <numeric>
#include <tuple>

namespace tessera::resident {
namespace {

class Lru final : public EvictionPolicy {
 public:
  std::vector<std::size_t> Order(std::span<const EvictionCandidate> c) const override {
    std::vector<std::size_t> order(c.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return std::tie(c[a].last_used_micros, c[a].loaded_at_micros, c[a].key) <
             std::tie(c[b].last_used_micros, c[b].loaded_at_micros, c[b].key);
    });
    return order;
  }
  std::string_view name() const override { return "lru"; }
};

}  // namespace

std::unique_ptr<EvictionPolicy> LeastRecentlyUsed() { return std::make_unique<Lru>(); }

}  // namespace tessera::resident
