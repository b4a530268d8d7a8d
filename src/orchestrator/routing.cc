// Preparing the policy's routers and running them in order (orchestrate.h, steps 1 and 2).
#include <algorithm>
#include <cmath>
#include <string>

#include "base/ascii.h"
#include "base/utf8.h"
#include "orchestrator/label_router.h"
#include "orchestrator/orchestrate.h"
#include "orchestrator/routing.h"

namespace tessera::orchestrator {
namespace {

std::string StatusText(const Status& s) { return std::string(CodeName(s.code())) + ": " + s.message(); }

}  // namespace

Result<std::string> ValidateRequest(std::string_view request) {
  if (request.size() > kMaxRequestBytes) {
    return OutOfRange("request: " + std::to_string(request.size()) + " bytes, more than the " +
                      std::to_string(kMaxRequestBytes) + "-byte limit");
  }
  TS_RETURN_IF_ERROR(base::ValidateUtf8(request).WithContext("request"));
  std::string trimmed(base::TrimAsciiSpace(request));
  if (trimmed.empty()) return InvalidArgument("request: is empty");
  return trimmed;
}

Result<std::vector<PreparedRouter>> PrepareRouters(
    const package::Policy& policy, Backend& backend, ThresholdSource& thresholds,
    const std::function<Result<std::vector<package::Exemplar>>(const std::string&)>& exemplars) {
  std::vector<PreparedRouter> out;
  for (const package::RouterSpec& spec : policy.routers) {
    PreparedRouter r;
    r.spec = spec;
    const std::string context = "router \"" + spec.name + "\"";
    if (spec.kind == package::RouterKind::kRules) {
      Result<RuleRouter> rules = RuleRouter::Compile(spec);
      if (!rules.ok()) return rules.status().WithContext(context);
      r.rules = std::move(rules).value();
      out.push_back(std::move(r));
      continue;
    }
    const std::size_t at = spec.module.find('@');
    const std::string id = spec.module.substr(0, at);
    const std::string version = at == std::string::npos ? "" : spec.module.substr(at + 1);
    Result<ModuleFacts> module = backend.Describe(id, version);
    if (!module.ok()) return module.status().WithContext(context);
    r.module = std::move(module).value();
    if (spec.kind == package::RouterKind::kClassifier) {
      const package::IoType& output = r.module.contract.output;
      if (output.kind != package::IoKind::kEnum) {
        return Status(StatusCode::kIncompatible,
                      context + ": " + r.module.key() + "'s contract output is " +
                          std::string(package::IoKindName(output.kind)) +
                          ", a classifier router needs an enum");
      }
      for (const std::string& label : output.labels) {
        const bool abstained = std::find(spec.abstain_labels.begin(), spec.abstain_labels.end(),
                                         label) != spec.abstain_labels.end();
        if (spec.labels.count(label) == 0 && !abstained) {
          return Status(StatusCode::kIncompatible, context + ": label \"" + label + "\" of " +
                                                       r.module.key() +
                                                       " is neither mapped to a route nor "
                                                       "abstained by the policy");
        }
      }
      // A calibration measures an enum module by the log of its label probability.
      std::optional<Threshold> calibrated = thresholds.For(r.module);
      r.threshold = calibrated ? Threshold{std::exp(calibrated->value), calibrated->source}
                               : Threshold{spec.threshold, "policy"};
    } else {
      TS_ASSIGN_OR_RETURN(std::vector<package::Exemplar> list, exemplars(spec.exemplars));
      std::vector<std::vector<float>> vectors;
      for (const package::Exemplar& e : list) {
        Result<std::vector<float>> v = backend.Embed(r.module, e.text);
        if (!v.ok()) return v.status().WithContext(context + ": exemplar \"" + e.text + "\"");
        vectors.push_back(std::move(v).value());
      }
      Result<EmbeddingIndex> index = EmbeddingIndex::Build(spec, std::move(list), std::move(vectors));
      if (!index.ok()) return index.status();
      r.index = std::move(index).value();
      r.threshold = Threshold{spec.threshold, "policy"};
    }
    out.push_back(std::move(r));
  }
  return out;
}

RouterOutcome RunRouter(const PreparedRouter& r, Backend& backend, const std::string& request) {
  if (r.rules) return r.rules->Route(request);
  RouterOutcome out;
  if (r.spec.kind == package::RouterKind::kClassifier) {
    Result<LabelScores> scores = backend.ScoreLabels(r.module, request);
    if (scores.ok()) {
      out = DecideByLabels(r.spec, *scores, r.threshold.value);
    } else {
      out.verdict = Verdict::kError;
      out.reason = StatusText(scores.status());
    }
  } else {
    Result<std::vector<float>> v = backend.Embed(r.module, request);
    Result<RouterOutcome> routed =
        v.ok() ? r.index->Route(*v) : Result<RouterOutcome>(v.status());
    if (routed.ok()) {
      out = std::move(routed).value();
    } else {
      out.verdict = Verdict::kError;
      out.reason = StatusText(routed.status());
    }
  }
  out.router = r.spec.name;
  out.type = std::string(package::RouterKindName(r.spec.kind));
  out.module = r.module.key();
  out.module_sha256 = r.module.sha256;
  out.parameters = r.module.parameters;
  return out;
}

}  // namespace tessera::orchestrator
