// Eligibility and ranking of a cascade step's candidates (orchestrate.h, steps 3 and 4).
#include <algorithm>
#include <cstdio>
#include <string>

#include "base/ascii.h"
#include "orchestrator/format.h"
#include "orchestrator/routing.h"

namespace tessera::orchestrator {
namespace {

// Why `m` may not serve `route` under `policy`, or "" when it may (before residency).
std::string Exclusion(const package::Policy& policy, const package::RouteSpec& route,
                      const ModuleFacts& m) {
  if (m.kind != "model" && m.kind != "adapter") return "a " + m.kind + " package, not a module";
  if (!m.usable) {
    return m.unusable.empty() ? "state " + m.state + ": not loadable" : m.unusable;
  }
  if (policy.require_verified && m.state != "verified") {
    return "state " + m.state + ": not verified (run tessera verify)";
  }
  if (!policy.licenses.empty() &&
      std::none_of(policy.licenses.begin(), policy.licenses.end(),
                   [&](const std::string& l) { return base::EqualsIgnoringAsciiCase(l, m.license); })) {
    return "licence " + m.license + " is not allowed by the policy";
  }
  for (const std::string& cap : route.capabilities) {
    if (std::find(m.granted.begin(), m.granted.end(), cap) == m.granted.end()) {
      return "capability " + cap + " not granted by the trust policy";
    }
  }
  if (m.contract.input.kind != route.input) {
    return "input type " + std::string(package::IoKindName(m.contract.input.kind)) +
           ", the route takes " + std::string(package::IoKindName(route.input));
  }
  return "";
}

}  // namespace

std::vector<Ranked> RankStep(const package::Policy& policy, const package::RouteSpec& route,
                             std::size_t step, Backend& backend) {
  std::vector<Ranked> eligible;
  std::vector<Ranked> excluded;
  auto base_view = [&](const std::string& candidate) {
    CandidateView v;
    v.route = route.name;
    v.step = static_cast<std::int32_t>(step + 1);
    v.candidate = candidate;
    return v;
  };
  auto consider = [&](const std::string& candidate, const ModuleFacts& m) {
    Ranked r;
    r.view = base_view(candidate);
    r.view.module = m.key();
    r.view.sha256 = m.sha256;
    r.view.parameters = m.parameters;
    if (std::string why = Exclusion(policy, route, m); !why.empty()) {
      r.view.reason = why;
      excluded.push_back(std::move(r));
      return;
    }
    for (const Ranked& e : eligible) {
      if (e.view.module == r.view.module) return;  // named twice (an id and a role)
    }
    r.preview = backend.Preview(m);
    r.view.resident = r.preview.resident;
    r.view.load_bytes = r.preview.load_bytes;
    r.view.would_evict = r.preview.evict;
    if (!r.preview.fits) {
      r.view.reason = "cannot become resident: " + r.preview.refusal;
      excluded.push_back(std::move(r));
      return;
    }
    r.view.eligible = true;
    r.view.cost = static_cast<double>(m.parameters) / 1e6 +
                  policy.load_cost_per_mb * static_cast<double>(r.preview.load_bytes) / 1e6;
    r.facts = m;
    eligible.push_back(std::move(r));
  };
  for (const package::CandidateRef& c : route.cascade[step]) {
    if (!c.role.empty()) {
      Result<std::vector<ModuleFacts>> all = backend.WithRole(c.role);
      if (!all.ok() || all->empty()) {
        Ranked r;
        r.view = base_view(c.ToString());
        r.view.reason = all.ok() ? "no installed package has this contract role"
                                 : std::string(CodeName(all.status().code())) + ": " +
                                       all.status().message();
        excluded.push_back(std::move(r));
        continue;
      }
      for (const ModuleFacts& m : *all) consider(c.ToString(), m);
      continue;
    }
    Result<ModuleFacts> m = backend.Describe(c.id, c.version);
    if (!m.ok()) {
      Ranked r;
      r.view = base_view(c.ToString());
      r.view.reason = m.status().code() == StatusCode::kNotFound
                          ? "not installed"
                          : std::string(CodeName(m.status().code())) + ": " + m.status().message();
      excluded.push_back(std::move(r));
      continue;
    }
    consider(c.ToString(), *m);
  }
  // Cheapest first (policy order among equal costs), then keep a resident alternative within
  // the hysteresis of the cheapest when the cheapest is cold.
  std::stable_sort(eligible.begin(), eligible.end(),
                   [](const Ranked& a, const Ranked& b) { return a.view.cost < b.view.cost; });
  if (eligible.size() > 1 && !eligible.front().view.resident) {
    const double limit = eligible.front().view.cost * (1.0 + policy.hysteresis);
    for (std::size_t i = 1; i < eligible.size(); ++i) {
      if (eligible[i].view.resident && eligible[i].view.cost <= limit) {
        Ranked keep = std::move(eligible[i]);
        eligible.erase(eligible.begin() + static_cast<std::ptrdiff_t>(i));
        keep.view.reason = "resident, and within the hysteresis of the cheapest (" +
                           eligible.front().view.module + ", which would load " +
                           Mb(eligible.front().view.load_bytes) + ")";
        eligible.insert(eligible.begin(), std::move(keep));
        break;
      }
    }
  }
  for (std::size_t i = 0; i < eligible.size(); ++i) {
    CandidateView& v = eligible[i].view;
    if (!v.reason.empty()) continue;
    char buf[160];
    std::snprintf(buf, sizeof(buf), "%s: cost %.2f (%s, %s)", i == 0 ? "first choice" : "next",
                  v.cost, v.resident ? "resident" : ("load " + Mb(v.load_bytes)).c_str(),
                  (std::to_string(v.parameters) + " parameters").c_str());
    v.reason = buf;
  }
  for (Ranked& r : excluded) eligible.push_back(std::move(r));
  return eligible;
}

}  // namespace tessera::orchestrator
