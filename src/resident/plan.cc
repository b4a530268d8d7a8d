#include "resident/plan.h"

#include <algorithm>
#include <cstdio>
#include <map>

namespace tessera::resident {
namespace {

bool Contains(const std::vector<std::string>& keys, const std::string& key) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

}  // namespace

bool Fits(const Budgets& b, const Usage& u) {
  return u.bytes.host <= b.host_bytes && u.bytes.device <= b.device_bytes && u.kv <= b.kv_bytes &&
         u.active <= b.max_active;
}

// The first budget `u` exceeds, e.g. "host 12.0 MB > budget 10.0 MB"; empty when it fits.
std::string Excess(const Budgets& b, const Usage& u) {
  if (u.bytes.host > b.host_bytes) {
    return "host " + HumanBytes(u.bytes.host) + " > budget " + HumanBytes(b.host_bytes);
  }
  if (u.bytes.device > b.device_bytes) {
    return "device " + HumanBytes(u.bytes.device) + " > budget " + HumanBytes(b.device_bytes);
  }
  if (u.kv > b.kv_bytes) {
    return "KV " + HumanBytes(u.kv) + " > budget " + HumanBytes(b.kv_bytes);
  }
  if (u.active > b.max_active) {
    return "K_active " + std::to_string(u.active) + " > limit " + std::to_string(b.max_active);
  }
  return "";
}

namespace {

// What is left of `budget`; an unlimited budget stays unlimited (not 2^64 - used).
std::uint64_t Free(std::uint64_t budget, std::uint64_t used) {
  if (budget == kUnlimitedBytes) return kUnlimitedBytes;
  return used >= budget ? 0 : budget - used;
}

}  // namespace

std::string WhyNotEvictable(const Budgets& b, const PlanModule& m, const PlanRequest& request) {
  if (Contains(request.keep, m.key)) return "needed by this request";
  if (m.in_transaction) return "being loaded or evicted by another request";
  if (m.leases > 0) return "leased (" + std::to_string(m.leases) + ")";
  if (m.pinned) return "pinned";
  if (m.soft_pin_until_micros > request.now_micros) {
    return "soft-pinned for " + HumanMicros(m.soft_pin_until_micros - request.now_micros) + " more";
  }
  const std::int64_t age = request.now_micros - m.loaded_at_micros;
  if (age < b.min_residence_micros) {
    return "resident for " + HumanMicros(age) + " < minimum " + HumanMicros(b.min_residence_micros);
  }
  return "";
}

Usage ComputeUsage(std::span<const PlanModule> modules, const std::vector<std::string>& without,
                   std::span<const Incoming> incoming, std::uint64_t extra_kv,
                   std::uint64_t extra_session) {
  Usage u;
  std::map<std::string, Bytes> artifacts;  // each shared artifact once
  auto add = [&](const Footprint& f) {
    for (const ArtifactCharge& a : f.artifacts) artifacts.emplace(a.sha256, a.bytes);
    u.bytes.host += f.private_bytes.host;
    u.bytes.device += f.private_bytes.device;
    ++u.active;
  };
  for (const PlanModule& m : modules) {
    if (Contains(without, m.key)) continue;
    add(m.footprint);
    u.kv += m.kv_bytes;
    u.bytes.host += m.session_bytes;
  }
  for (const Incoming& in : incoming) add(in.footprint);
  for (const auto& [sha, bytes] : artifacts) {
    u.bytes.host += bytes.host;
    u.bytes.device += bytes.device;
  }
  u.kv += extra_kv;
  u.bytes.host += u.kv + extra_session;
  return u;
}

Result<Plan> MakePlan(const Budgets& budgets, std::span<const PlanModule> modules,
                      const PlanRequest& request, const EvictionPolicy& policy) {
  Plan plan;
  plan.before = ComputeUsage(modules, {}, {});
  auto usage_without = [&](const std::vector<std::string>& victims) {
    return ComputeUsage(modules, victims, request.load, request.extra_kv_bytes,
                        request.extra_session_bytes);
  };
  // Evicting every module that may be evicted is the best any plan can do; when even that does
  // not fit, say why (before choosing victims, so that the message names every obstacle).
  std::vector<EvictionCandidate> candidates;
  std::vector<std::string> evictable, obstacles;
  for (const PlanModule& m : modules) {
    std::string why = WhyNotEvictable(budgets, m, request);
    if (why.empty()) {
      evictable.push_back(m.key);
      candidates.push_back(
          {m.key, m.loaded_at_micros, m.last_used_micros, m.uses, m.footprint.private_bytes});
    } else {
      obstacles.push_back(m.key + " " + why);
    }
  }
  const Usage best = usage_without(evictable);
  if (!Fits(budgets, best)) {
    const Usage now = usage_without({});
    const Usage need =
        ComputeUsage({}, {}, request.load, request.extra_kv_bytes, request.extra_session_bytes);
    std::string msg =
        "resident: cannot fit " + request.what + ": needs host " + HumanBytes(need.bytes.host);
    if (need.bytes.device > 0) msg += ", device " + HumanBytes(need.bytes.device);
    msg += " (host budget " + HumanBytes(budgets.host_bytes) + ", in use " +
           HumanBytes(plan.before.bytes.host) + ", free " +
           HumanBytes(Free(budgets.host_bytes, plan.before.bytes.host)) + ", evictable " +
           HumanBytes(now.bytes.host - best.bytes.host) + "); even after every possible eviction " +
           Excess(budgets, best);
    if (!obstacles.empty()) {
      msg += "; not evictable:";
      for (std::size_t i = 0; i < obstacles.size(); ++i) {
        msg += (i == 0 ? " " : ", ") + obstacles[i];
      }
    }
    return Status(StatusCode::kResourceExhausted, msg);
  }
  // Victims in the policy's order until the plan fits.
  std::vector<std::string> victims;
  Usage after = usage_without(victims);
  for (std::size_t i : policy.Order(candidates)) {
    if (Fits(budgets, after)) break;
    victims.push_back(candidates.at(i).key);
    after = usage_without(victims);
  }
  if (!Fits(budgets, after)) {  // a policy that does not return a permutation
    return Status(StatusCode::kInternal,
                  "resident: eviction policy \"" + std::string(policy.name()) +
                      "\" left the plan over budget: " + Excess(budgets, after));
  }
  // Spare the victims whose eviction turned out not to be needed (an earlier victim freed
  // nothing that counts, e.g. its artifacts are shared with an incoming module).
  for (std::size_t i = victims.size(); i-- > 0;) {
    std::vector<std::string> fewer = victims;
    fewer.erase(fewer.begin() + static_cast<std::ptrdiff_t>(i));
    const Usage u = usage_without(fewer);
    if (Fits(budgets, u)) {
      victims = std::move(fewer);
      after = u;
    }
  }
  plan.evict = std::move(victims);
  plan.after = after;
  return plan;
}

std::string HumanBytes(std::uint64_t bytes) {
  if (bytes == kUnlimitedBytes) return "unlimited";
  char buf[32];
  const double x = static_cast<double>(bytes);
  if (x >= 1e9) {
    std::snprintf(buf, sizeof(buf), "%.2f GB", x / 1e9);
  } else if (x >= 1e6) {
    std::snprintf(buf, sizeof(buf), "%.2f MB", x / 1e6);
  } else if (x >= 1e3) {
    std::snprintf(buf, sizeof(buf), "%.1f kB", x / 1e3);
  } else {
    std::snprintf(buf, sizeof(buf), "%llu B", static_cast<unsigned long long>(bytes));
  }
  return buf;
}

std::string HumanMicros(std::int64_t micros) {
  char buf[32];
  const double x = static_cast<double>(micros);
  if (micros >= 1'000'000 || micros <= -1'000'000) {
    std::snprintf(buf, sizeof(buf), "%.1f s", x / 1e6);
  } else if (micros >= 1000 || micros <= -1000) {
    std::snprintf(buf, sizeof(buf), "%.0f ms", x / 1e3);
  } else {
    std::snprintf(buf, sizeof(buf), "%lld us", static_cast<long long>(micros));
  }
  return buf;
}

}  // namespace tessera::resident
