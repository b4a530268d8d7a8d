// The request's path through the policy (orchestrate.h): routing, then the cascade.
#include "orchestrator/orchestrate.h"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>

#include "base/ascii.h"
#include "orchestrator/format.h"
#include "orchestrator/routing.h"
#include "package/safe_regex.h"

namespace tessera::orchestrator {
namespace {

// The cascade's running state across the route and its fallbacks.
struct CascadeRun {
  std::int64_t start_micros = 0;
  std::uint64_t steps = 0;
  std::uint64_t loaded_bytes = 0;
  bool load_budget_skipped = false;
  std::string outside_domain;  // a route whose input_pattern the request does not match
  std::size_t best_index = 0;  // the most confident valid answer so far (in Decision::steps)
  bool have_best = false;
};

void Finish(Decision& d, const package::Policy& policy, const CascadeRun& run) {
  const StepRecord* best = run.have_best ? &d.steps[run.best_index] : nullptr;
  if (!d.stopped_by.empty() && best != nullptr) {
    d.outcome = Outcome::kAnswered;
    d.reason = "stopped by " + d.stopped_by + " before an answer reached its threshold: the best "
               "answer so far (" + best->module + ", confidence " +
               Fixed(best->answer.confidence) + " < " + Fixed(best->threshold) + ")";
  } else if (best != nullptr && policy.cascade.on_exhausted == package::OnExhausted::kBest) {
    d.outcome = Outcome::kAnswered;
    d.reason = "no answer reached its threshold; the policy answers with the best (" +
               best->module + ", confidence " + Fixed(best->answer.confidence) + " < " +
               Fixed(best->threshold) + ")";
  } else {
    bool ran = false;
    bool all_errors = !d.steps.empty();
    for (const StepRecord& s : d.steps) {
      ran = true;
      if (s.error.empty()) all_errors = false;
    }
    if (ran && all_errors) {
      d.outcome = Outcome::kFailed;
      d.reason = "every candidate failed: " + d.steps.back().error;
    } else {
      d.outcome = Outcome::kAbstained;
      if (best != nullptr) {
        d.reason = "no answer reached its threshold; the best was " + best->module +
                   "'s, confidence " + Fixed(best->answer.confidence) + " < " +
                   Fixed(best->threshold);
      } else if (ran) {
        d.reason = "no candidate gave a valid answer";
      } else if (!run.outside_domain.empty()) {
        d.reason = "the request is outside the declared domain of route " + run.outside_domain +
                   " (its input_pattern)";
      } else if (!d.stopped_by.empty()) {
        d.reason = "stopped by " + d.stopped_by + " before any candidate ran";
      } else {
        d.reason = "no eligible candidate for route " + d.route;
      }
      if (!d.stopped_by.empty() && ran) d.reason += " (stopped by " + d.stopped_by + ")";
    }
    return;
  }
  d.accepted = false;
  d.answer = best->answer.text;
  d.module = best->module;
  d.module_sha256 = best->sha256;
  d.confidence = best->answer.confidence;
  d.measure = best->answer.measure;
}

// Runs `route`'s steps. Returns true when an answer was accepted (the decision is complete).
bool RunRoute(const package::Policy& policy, const package::RouteSpec& route, Backend& backend,
              ThresholdSource& thresholds, const std::string& request,
              const OrchestrateOptions& options, CascadeRun& run, Decision& d) {
  const bool dry_run = options.dry_run;
  const package::CascadeLimits& limits = policy.cascade;
  if (!route.input_pattern.empty()) {
    const std::string lowered = base::AsciiLower(request);
    Result<package::SafeRegex> domain = package::SafeRegex::Compile(route.input_pattern);
    if (!domain.ok() || !domain->Search(lowered)) {
      d.fallbacks.push_back("route " + route.name + ": the request does not match its " +
                            "input_pattern (outside its declared domain)");
      if (run.outside_domain.empty()) run.outside_domain = route.name;
      return false;
    }
  }
  for (std::size_t step = 0; step < route.cascade.size(); ++step) {
    std::vector<Ranked> ranked = RankStep(policy, route, step, backend);
    for (const Ranked& r : ranked) d.candidates.push_back(r.view);
    const std::size_t first_view = d.candidates.size() - ranked.size();
    const Ranked* choice = nullptr;
    std::size_t choice_index = 0;
    // A replay: the recorded module first, when it is still eligible.
    for (const ForcedStep& f : options.forced) {
      if (f.route != route.name || f.step != static_cast<std::int32_t>(step + 1)) continue;
      for (std::size_t i = 0; i < ranked.size(); ++i) {
        if (ranked[i].view.module == f.module && ranked[i].view.eligible) {
          std::rotate(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(i),
                      ranked.begin() + static_cast<std::ptrdiff_t>(i) + 1);
          std::rotate(d.candidates.begin() + static_cast<std::ptrdiff_t>(first_view),
                      d.candidates.begin() + static_cast<std::ptrdiff_t>(first_view + i),
                      d.candidates.begin() + static_cast<std::ptrdiff_t>(first_view + i) + 1);
        }
      }
      if (ranked.empty() || ranked.front().view.module != f.module) {
        d.fallbacks.push_back("replay: " + f.module + " is not eligible now for route " +
                              route.name + " step " + std::to_string(step + 1));
      }
    }
    for (std::size_t i = 0; i < ranked.size(); ++i) {
      const Ranked& r = ranked[i];
      if (!r.view.eligible) continue;
      if (limits.max_load_bytes != 0 &&
          run.loaded_bytes + r.preview.load_bytes > limits.max_load_bytes) {
        d.candidates[first_view + i].reason =
            "skipped: loading " + Mb(r.preview.load_bytes) + " would pass the request's " +
            "max_load_bytes (" + Mb(limits.max_load_bytes) + ", " + Mb(run.loaded_bytes) +
            " loaded already)";
        run.load_budget_skipped = true;
        continue;
      }
      choice = &r;
      choice_index = i;
      break;
    }
    if (choice == nullptr) {
      d.fallbacks.push_back("route " + route.name + " step " + std::to_string(step + 1) +
                            ": no eligible candidate");
      continue;
    }
    if (dry_run) {
      d.plan = "would run " + choice->view.module + " (route " + route.name + ", step " +
               std::to_string(step + 1) + ", " + choice->view.reason + ")";
      d.plan += choice->preview.resident
                    ? ": resident, nothing to load"
                    : ": would load " + Mb(choice->preview.load_bytes) +
                          (choice->preview.evict.empty() ? ", evicting nothing"
                                                         : ", evicting " +
                                                               [&] {
                                                                 std::string s;
                                                                 for (const auto& e :
                                                                      choice->preview.evict)
                                                                   s += (s.empty() ? "" : ", ") + e;
                                                                 return s;
                                                               }());
      d.outcome = Outcome::kAbstained;
      d.reason = "dry run: nothing was loaded, evicted or run";
      return true;
    }
    if (run.steps >= limits.max_steps) {
      d.stopped_by = "max_steps";
      return false;
    }
    if (backend.NowMicros() - run.start_micros >=
        static_cast<std::int64_t>(limits.max_wall_ms) * 1000) {
      d.stopped_by = "max_wall_ms";
      return false;
    }
    const ModuleFacts& m = choice->facts;
    StepRecord s;
    s.route = route.name;
    s.step = static_cast<std::int32_t>(step + 1);
    s.module = m.key();
    s.sha256 = m.sha256;
    s.base_sha256 = m.base_sha256;
    s.parameters = m.parameters;
    s.chosen_because = d.candidates[first_view + choice_index].reason;
    ++run.steps;
    Result<SkillAnswer> answer = backend.Invoke(m, request);
    if (!answer.ok()) {
      s.error = std::string(CodeName(answer.status().code())) + ": " + answer.status().message();
      s.verdict = "failed: " + s.error;
      d.fallbacks.push_back(m.key() + " failed (" + s.error + "); escalating");
      d.steps.push_back(std::move(s));
      continue;
    }
    s.answer = std::move(answer).value();
    run.loaded_bytes += s.answer.loaded_bytes;
    if (route.output && s.answer.valid) {  // the route's type, beyond the module's contract
      if (Status st = package::CheckOutputType(*route.output, s.answer.text); !st.ok()) {
        s.answer.valid = false;
        s.answer.failure = "not the route's output type: " + st.message();
      }
    }
    const std::optional<Threshold> calibrated =
        policy.cascade.use_calibration ? thresholds.For(m) : std::nullopt;
    const Threshold t = calibrated ? *calibrated : Threshold{limits.min_confidence, "policy"};
    s.threshold = t.value;
    s.threshold_source = t.source;
    if (!s.answer.valid) {
      s.verdict = "invalid: " + s.answer.failure;
    } else if (!(s.answer.confidence >= t.value)) {  // a NaN confidence is never enough
      s.verdict = "confidence " + Fixed(s.answer.confidence) + " below the threshold " +
                  Fixed(t.value) + " (" + t.source + ")";
    } else {
      s.accepted = true;
      s.verdict = "confidence " + Fixed(s.answer.confidence) + " >= " + Fixed(t.value) + " (" +
                  t.source + ")";
    }
    const bool better = s.answer.valid &&
                        (!run.have_best || s.answer.confidence > d.steps[run.best_index].answer.confidence);
    d.steps.push_back(std::move(s));
    if (better) {
      run.have_best = true;
      run.best_index = d.steps.size() - 1;
    }
    const StepRecord& last = d.steps.back();
    if (last.accepted) {
      d.outcome = Outcome::kAnswered;
      d.accepted = true;
      d.answer = last.answer.text;
      d.module = last.module;
      d.module_sha256 = last.sha256;
      d.confidence = last.answer.confidence;
      d.measure = last.answer.measure;
      d.reason = last.module + " answered with confidence " + Fixed(last.answer.confidence) +
                 " >= its threshold " + Fixed(last.threshold) + " (" + last.threshold_source + ")";
      return true;
    }
    d.fallbacks.push_back(last.module + ": " + last.verdict + "; escalating");
  }
  return false;
}

}  // namespace

std::string_view OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kAnswered:
      return "answered";
    case Outcome::kAbstained:
      return "abstained";
    case Outcome::kFailed:
      return "failed";
  }
  return "failed";
}

Result<Decision> Orchestrate(const package::Policy& policy,
                             const std::vector<PreparedRouter>& routers, Backend& backend,
                             ThresholdSource& thresholds, std::string_view request,
                             const OrchestrateOptions& options) {
  TS_ASSIGN_OR_RETURN(std::string text, ValidateRequest(request));
  Decision d;
  d.request = text;
  d.dry_run = options.dry_run;
  CascadeRun run;
  run.start_micros = backend.NowMicros();
  for (const PreparedRouter& r : routers) {
    d.routers.push_back(RunRouter(r, backend, text));
    const RouterOutcome& o = d.routers.back();
    if (o.verdict == Verdict::kRoute) {
      d.route = o.route;
      break;
    }
    if (o.verdict == Verdict::kOutOfDomain) {
      d.outcome = Outcome::kAbstained;
      d.reason = "out of domain (router " + o.router + ": " + o.reason + ")";
      return d;
    }
    if (o.verdict == Verdict::kError) {
      d.fallbacks.push_back("router " + o.router + " failed (" + o.reason + "); next router");
    }
  }
  if (d.route.empty()) {
    d.outcome = Outcome::kAbstained;
    d.reason = "no router was confident enough to choose a route";
    return d;
  }
  std::string route = d.route;
  while (!route.empty()) {
    d.route_path.push_back(route);
    const package::RouteSpec& spec = policy.routes.at(route);
    if (RunRoute(policy, spec, backend, thresholds, text, options, run, d)) return d;
    if (!d.stopped_by.empty()) break;
    route = spec.fallback;
    if (!route.empty()) d.fallbacks.push_back("route " + spec.name + " exhausted; falling back to " + route);
  }
  if (options.dry_run) {
    d.outcome = Outcome::kAbstained;
    d.reason = "dry run: no eligible candidate would run";
    return d;
  }
  if (d.stopped_by.empty() && run.load_budget_skipped) d.stopped_by = "max_load_bytes";
  Finish(d, policy, run);
  return d;
}

}  // namespace tessera::orchestrator
