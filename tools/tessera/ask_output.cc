#include "ask_output.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "batch_line.h"

namespace tessera::cli {
namespace {

using Json = nlohmann::ordered_json;

Json OrNull(const std::string& s) { return s.empty() ? Json() : Json(s); }

std::string Fixed(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3f", v);
  return buf;
}

std::string Evidence(const AskResult& r) {
  return r.evidence > 0 ? " [evidence #" + std::to_string(r.evidence) + "]" : " [dry run]";
}

}  // namespace

Json AskJson(const std::string& id, const AskResult& r, bool with_decision) {
  const bool answered = r.outcome == "answered";
  Json steps = Json::array();
  for (const AskStep& s : r.steps) {
    steps.push_back({{"module", s.module},
                     {"sha256", s.sha256},
                     {"parameters", s.parameters},
                     {"prompt_tokens", s.prompt_tokens},
                     {"output_tokens", s.output_tokens},
                     {"accepted", s.accepted},
                     {"valid", s.valid},
                     {"confidence", s.confidence},
                     {"threshold", s.threshold},
                     {"answer", s.answer},
                     {"reason", s.verdict}});
  }
  const bool routed = !r.router.empty();
  Json out = {{"id", id},
              {"outcome", r.outcome},
              {"accepted", r.accepted},
              {"answer", answered ? Json(r.answer) : Json()},
              {"route", OrNull(r.route)},
              {"module", OrNull(r.module)},
              {"sha256", OrNull(r.sha256)},
              {"confidence", answered ? Json(r.confidence) : Json()},
              {"measure", OrNull(r.measure)},
              {"reason", r.reason},
              {"stopped_by", OrNull(r.stopped_by)},
              {"plan", OrNull(r.plan)},
              {"escalations", r.steps.empty() ? 0 : static_cast<int>(r.steps.size()) - 1},
              {"steps", steps},
              {"router",
               {{"name", OrNull(r.router)},
                {"route", OrNull(r.route)},
                {"confidence", routed ? Json(r.router_confidence) : Json()},
                {"margin", routed ? Json(r.router_margin) : Json()},
                {"parameters", r.router_parameters},
                {"tokens", r.router_tokens}}},
              {"evidence", r.evidence},
              {"latency_ms", r.seconds * 1e3}};
  if (with_decision) {
    out["decision"] = Json::parse(r.decision_json, nullptr, /*allow_exceptions=*/false);
  }
  return out;
}

Json AskErrorJson(const std::string& id, const Status& error) {
  return {{"id", id},           {"outcome", "failed"}, {"accepted", false}, {"answer", Json()},
          {"route", Json()},    {"module", Json()},    {"sha256", Json()},  {"confidence", Json()},
          {"measure", Json()},  {"reason", error.message()},
          {"stopped_by", Json()}, {"escalations", 0},  {"steps", Json::array()},
          {"router",
           {{"name", Json()}, {"route", Json()}, {"confidence", Json()}, {"margin", Json()},
            {"parameters", 0}, {"tokens", 0}}},
          {"evidence", 0},      {"latency_ms", 0},
          {"error", {{"code", std::string(CodeName(error.code()))}, {"message", error.message()}}}};
}

std::string AskSummary(const AskResult& r) {
  if (r.outcome == "answered" && r.accepted) {
    return "[" + r.module + " " + r.sha256.substr(0, 12) + ": " + r.measure + " " +
           Fixed(r.confidence) + ", route " + r.route + " by " + r.router + ", " +
           std::to_string(r.steps.size()) + " step" + (r.steps.size() == 1 ? "" : "s") + ", " +
           Fixed(r.seconds * 1e3) + " ms]" + Evidence(r);
  }
  if (r.outcome == "dry_run") return "tessera: dry run: nothing was loaded, evicted, run or recorded";
  if (r.outcome == "answered") return "tessera: not confident: " + r.reason + Evidence(r);
  return "tessera: " + r.outcome + ": " + r.reason + Evidence(r);
}

Result<std::vector<BatchAsk>> ReadAskBatch(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("ask: cannot open " + path);
  std::vector<BatchAsk> out;
  std::string line;
  std::size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string at = path + ":" + std::to_string(n) + ": ";
    TS_ASSIGN_OR_RETURN(nlohmann::json j,
                        ParseBatchLine(line, "ask: " + path + ":" + std::to_string(n)));
    for (const auto& member : j.items()) {
      if (member.key() != "id" && member.key() != "request" && member.key() != "prompt") {
        return InvalidArgument("ask: " + at + "unknown member \"" + member.key() +
                               "\" (a request has \"request\" or \"prompt\", and \"id\")");
      }
    }
    if (j.contains("request") && j.contains("prompt")) {
      return InvalidArgument("ask: " + at + "give \"request\" or \"prompt\", not both");
    }
    BatchAsk b;
    b.id = "#" + std::to_string(n);
    if (j.contains("id")) {
      if (!j["id"].is_string()) return InvalidArgument("ask: " + at + "\"id\" is not a string");
      b.id = j["id"].get<std::string>();
    }
    if (j.contains("request") && j["request"].is_string()) {
      b.request = j["request"].get<std::string>();
    } else if (j.contains("prompt") && j["prompt"].is_string()) {
      b.request = j["prompt"].get<std::string>();
      if (!b.request.empty() && b.request.back() == '\n') b.request.pop_back();
    } else {
      return InvalidArgument("ask: " + at + "needs a string \"request\" (or \"prompt\")");
    }
    out.push_back(std::move(b));
  }
  if (in.bad()) return Status(StatusCode::kIoError, "ask: reading " + path + " failed");
  return out;
}

Json ReplayJson(const ReplayResult& r) {
  return {{"original", r.original},
          {"replay", r.replayed.evidence},
          {"same_answer", r.same_answer},
          {"same_decision", r.same_decision},
          {"differences", r.differences},
          {"answer", r.replayed.outcome == "answered" ? Json(r.replayed.answer) : Json()},
          {"outcome", r.replayed.outcome}};
}

Json CalibrateJson(const CalibrateResult& r) {
  Json curve = Json::array();
  for (const CalibrationPoint& p : r.curve) {
    curve.push_back({{"threshold", p.threshold}, {"coverage", p.coverage}, {"accuracy", p.accuracy}});
  }
  return {{"module", r.module},     {"sha256", r.sha256},        {"measure", r.measure},
          {"target", r.target},     {"threshold", r.threshold},  {"reached", r.reached},
          {"coverage", r.coverage}, {"accuracy", r.accuracy},    {"accuracy_all", r.accuracy_all},
          {"cases", r.cases},       {"eval_sets", r.eval_sets},  {"curve", curve},
          {"evidence", r.evidence},
          {"signer", OrNull(r.signer)}, {"seconds", r.seconds}};
}

std::string CalibrateText(const CalibrateResult& r) {
  std::ostringstream out;
  out << r.module << " (" << r.sha256.substr(0, 12) << "…): " << r.cases << " cases, "
      << r.measure << "\n";
  out << "  eval sets:";
  for (const std::string& name : r.eval_sets) out << " " << name;
  out << "\n";
  out << "  threshold " << Fixed(r.threshold) << (r.reached ? "" : " (the target is NOT reached)")
      << ": accepts " << Fixed(100 * r.coverage) << "% of the cases, " << Fixed(100 * r.accuracy)
      << "% of them right (target " << Fixed(100 * r.target) << "%; every answer: "
      << Fixed(100 * r.accuracy_all) << "%)\n";
  out << "  accuracy/coverage curve:\n    threshold   coverage   accuracy\n";
  for (const CalibrationPoint& p : r.curve) {
    char buf[96];
    std::snprintf(buf, sizeof(buf), "    %9.3f   %7.1f%%   %7.1f%%\n", p.threshold,
                  100 * p.coverage, 100 * p.accuracy);
    out << buf;
  }
  if (r.evidence > 0) {
    out << "  recorded as evidence #" << r.evidence
        << (r.signer.empty() ? " (unsigned: cascades ignore it)" : ", signed by " + r.signer)
        << "\n";
  }
  return out.str();
}

}  // namespace tessera::cli
