#include "orchestrator/explain.h"

#include <algorithm>
#include <cstdio>

#include "orchestrator/format.h"

namespace tessera::orchestrator {
namespace {

std::string Short(const std::string& sha) { return sha.empty() ? "-" : sha.substr(0, 12) + "…"; }

std::string Quote(std::string_view s, std::size_t max = 80) {
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size() && i < max; ++i) {
    const char c = s[i];
    if (c == '\n') {
      out += "\\n";
    } else if (c == '"') {
      out += "\\\"";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += "?";
    } else {
      out += c;
    }
  }
  if (s.size() > max) out += "…";
  return out + "\"";
}

std::string Join(const std::vector<std::string>& v, const std::string& none) {
  if (v.empty()) return none;
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::string Seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f ms", s * 1e3);
  return buf;
}

void Routers(const Decision& d, std::string& out) {
  out += "Routing:\n";
  int i = 0;
  for (const RouterOutcome& r : d.routers) {
    out += "  " + std::to_string(++i) + ". " + r.router + " (" + r.type +
           (r.module.empty() ? "" : ", " + r.module) + "): " + std::string(VerdictName(r.verdict));
    if (!r.route.empty()) out += " " + r.route;
    out += " — " + r.reason + "\n";
    if (!r.scores.empty() && r.type != "rules") {
      std::string scores;
      for (std::size_t k = 0; k < r.scores.size() && k < 7; ++k) {
        scores += (k == 0 ? "" : ", ") + r.scores[k].first + " " + Fixed(r.scores[k].second);
      }
      out += "     scores: " + scores + "\n";
    }
  }
  if (d.routers.empty()) out += "  (no router ran)\n";
}

void Candidates(const Decision& d, std::string& out) {
  if (d.candidates.empty()) return;
  out += "Candidates:\n";
  for (const CandidateView& c : d.candidates) {
    const bool ran = std::any_of(d.steps.begin(), d.steps.end(), [&](const StepRecord& s) {
      return s.module == c.module && s.step == c.step && s.route == c.route;
    });
    out += "  " + c.route + " step " + std::to_string(c.step) + "  " +
           (c.module.empty() ? c.candidate : c.module) + "  " +
           (c.eligible ? "eligible" : "excluded") + ": " + c.reason + (ran ? "  <- ran" : "") + "\n";
  }
}

void Steps(const Decision& d, std::string& out) {
  if (d.steps.empty()) return;
  out += "Cascade:\n";
  for (const StepRecord& s : d.steps) {
    out += "  " + s.route + " step " + std::to_string(s.step) + "  " + s.module + ": ";
    if (!s.error.empty()) {
      out += "failed: " + s.error + "\n";
      continue;
    }
    const SkillAnswer& a = s.answer;
    out += Quote(a.text) + " (" + (a.valid ? "valid" : "invalid: " + a.failure) + "; " +
           a.measure + " " + Fixed(a.confidence) + ", threshold " + Fixed(s.threshold) + " from " +
           s.threshold_source + "; " + std::to_string(a.prompt_tokens) + "+" +
           std::to_string(a.output_tokens) + " tokens in " + Seconds(a.seconds) + "): " +
           (s.accepted ? "accepted" : "rejected") + "\n";
    if (!a.loaded.empty() || !a.evicted.empty()) {
      out += "      loaded " + Join(a.loaded, "nothing") + " (" + Mb(a.loaded_bytes) + ", " +
             Seconds(a.load_seconds) + "); evicted " + Join(a.evicted, "nothing") +
             (a.evicted.empty() ? "" : " (" + Mb(a.evicted_bytes) + ")") + "\n";
    }
  }
}

}  // namespace

std::string ExplainDecision(const Decision& d, const ExplainContext& context) {
  std::string out;
  out += "Request: " + Quote(d.request, 200) + "\n";
  out += "Policy: " + context.policy + " (manifest sha256 " + Short(context.policy_sha256) + ")\n";
  Routers(d, out);
  if (!d.route.empty()) {
    out += "Route: " + d.route;
    if (d.route_path.size() > 1) out += " (then " + Join({d.route_path.begin() + 1, d.route_path.end()}, "") + ")";
    out += "\n";
  }
  Candidates(d, out);
  Steps(d, out);
  if (!d.fallbacks.empty()) {
    out += "Fallbacks:\n";
    for (const std::string& f : d.fallbacks) out += "  " + f + "\n";
  }
  if (d.dry_run) out += "Plan: " + (d.plan.empty() ? std::string("nothing would run") : d.plan) + "\n";
  if (d.dry_run) {
    out += "Outcome: dry run (nothing was loaded, evicted, run or recorded)\n";
    return out;
  }
  out += "Outcome: " + std::string(OutcomeName(d.outcome));
  if (d.outcome == Outcome::kAnswered) {
    out += " " + Quote(d.answer) + " by " + d.module + " (sha256 " + Short(d.module_sha256) +
           "), " + d.measure + " " + Fixed(d.confidence) +
           (d.accepted ? "" : " — NOT confident: below its threshold");
  }
  out += "\n  why: " + d.reason + "\n";
  if (!d.stopped_by.empty()) out += "  stopped by: " + d.stopped_by + "\n";
  if (context.evidence > 0) {
    out += "Evidence: #" + std::to_string(context.evidence) + " (tessera evidence show " +
           std::to_string(context.evidence) + "; tessera replay " +
           std::to_string(context.evidence) + ")\n";
  }
  return out;
}

}  // namespace tessera::orchestrator
