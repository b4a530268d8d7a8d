#include "orchestrator/decision_json.h"

namespace tessera::orchestrator {
namespace {

using Json = nlohmann::json;

Json OrNull(const std::string& s) { return s.empty() ? Json(nullptr) : Json(s); }

Json RouterJson(const RouterOutcome& r) {
  Json scores = Json::object();
  for (const auto& [label, score] : r.scores) scores[label] = score;
  return {{"name", r.router},
          {"type", r.type},
          {"module", OrNull(r.module)},
          {"sha256", OrNull(r.module_sha256)},
          {"verdict", std::string(VerdictName(r.verdict))},
          {"route", OrNull(r.route)},
          {"label", OrNull(r.label)},
          {"confidence", r.confidence},
          {"threshold", r.threshold},
          {"margin", r.margin},
          {"scores", scores},
          {"reason", r.reason},
          {"tokens", r.tokens},
          {"parameters", r.parameters}};
}

Json StepJson(const StepRecord& s) {
  Json j = {{"route", s.route},
            {"step", s.step},
            {"module", s.module},
            {"sha256", s.sha256},
            {"base_sha256", OrNull(s.base_sha256)},
            {"parameters", s.parameters},
            {"error", OrNull(s.error)},
            {"accepted", s.accepted},
            {"verdict", s.verdict},
            {"threshold", s.threshold},
            {"threshold_source", s.threshold_source}};
  if (s.error.empty()) {
    const SkillAnswer& a = s.answer;
    j["answer"] = a.text;
    j["valid"] = a.valid;
    j["failure"] = OrNull(a.failure);
    j["stop_reason"] = a.stop_reason;
    j["prompt_tokens"] = a.prompt_tokens;
    j["output_tokens"] = a.output_tokens;
    j["measure"] = a.measure;
    j["confidence"] = a.confidence;
    j["mean_logprob"] = a.mean_logprob;
    j["min_logprob"] = a.min_logprob;
    j["min_margin"] = a.min_margin;
  }
  return j;
}

Json CandidateJson(const CandidateView& c) {
  return {{"route", c.route},         {"step", c.step},
          {"candidate", c.candidate}, {"module", OrNull(c.module)},
          {"sha256", OrNull(c.sha256)}, {"eligible", c.eligible},
          {"reason", c.reason},       {"parameters", c.parameters},
          {"resident", c.resident},   {"load_bytes", c.load_bytes},
          {"would_evict", c.would_evict}, {"cost", c.cost}};
}

}  // namespace

Json DecisionJson(const Decision& d) {
  Json routers = Json::array();
  Json router_times = Json::array();
  for (const RouterOutcome& r : d.routers) {
    routers.push_back(RouterJson(r));
    router_times.push_back({{"name", r.router}, {"seconds", r.seconds}});
  }
  Json steps = Json::array();
  Json step_times = Json::array();
  for (const StepRecord& s : d.steps) {
    steps.push_back(StepJson(s));
    step_times.push_back({{"module", s.module},
                          {"seconds", s.answer.seconds},
                          {"chosen_because", s.chosen_because},
                          {"loaded", s.answer.loaded},
                          {"evicted", s.answer.evicted},
                          {"evicted_bytes", s.answer.evicted_bytes},
                          {"load_seconds", s.answer.load_seconds},
                          {"loaded_bytes", s.answer.loaded_bytes}});
  }
  Json candidates = Json::array();
  for (const CandidateView& c : d.candidates) candidates.push_back(CandidateJson(c));
  Json body = {
      {"routing",
       {{"routers", routers}, {"route", OrNull(d.route)}, {"route_path", d.route_path}}},
      {"steps", steps},
      {"outcome",
       {{"outcome", std::string(OutcomeName(d.outcome))},
        {"accepted", d.accepted},
        {"answer", d.outcome == Outcome::kAnswered ? Json(d.answer) : Json(nullptr)},
        {"module", OrNull(d.module)},
        {"sha256", OrNull(d.module_sha256)},
        {"confidence", d.outcome == Outcome::kAnswered ? Json(d.confidence) : Json(nullptr)},
        {"measure", OrNull(d.measure)},
        {"reason", d.reason},
        {"stopped_by", OrNull(d.stopped_by)}}},
      {"dry_run", d.dry_run},
      {"observed",
       {{"routers", router_times},
        {"steps", step_times},
        {"candidates", candidates},
        {"fallbacks", d.fallbacks},
        {"plan", OrNull(d.plan)}}}};
  return body;
}

Json DeterministicPart(const Json& body) {
  Json out = Json::object();
  for (const char* key : {"request", "policy", "routing", "steps", "outcome", "dry_run"}) {
    if (body.contains(key)) out[key] = body[key];
  }
  if (out.contains("request") && out["request"].is_object()) out["request"].erase("id");
  return out;
}

}  // namespace tessera::orchestrator
