// The `tessera eval` report (eval_report.h).
#include "eval_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <utility>
#include <vector>

#include "base/atomic_file.h"
#include "options.h"
#include "version.h"

namespace tessera::cli {
namespace {

using Json = nlohmann::ordered_json;

constexpr const char* kNoSplit = "(none)";

// The 95% Wilson score interval [low, high] of a proportion correct/total (total > 0).
Json Wilson95(std::int64_t correct, std::int64_t total) {
  constexpr double z = 1.959963984540054;
  const double n = static_cast<double>(total);
  const double p = static_cast<double>(correct) / n;
  const double denominator = 1.0 + z * z / n;
  const double center = (p + z * z / (2.0 * n)) / denominator;
  const double half = z * std::sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n)) / denominator;
  return Json::array({std::max(0.0, center - half), std::min(1.0, center + half)});
}

struct Tally {
  std::int64_t correct = 0;
  std::int64_t total = 0;
  double logprob_sum = 0.0;  // of answer_logprob over scored cases
  std::int64_t scored = 0;

  void Add(const CaseResult& r) {
    ++total;
    if (r.match) ++correct;
    if (r.answer_tokens > 0) {
      logprob_sum += r.answer_logprob;
      ++scored;
    }
  }
  Json ToJson() const {
    Json j;
    j["correct"] = correct;
    j["total"] = total;
    j["accuracy"] = total > 0 ? static_cast<double>(correct) / static_cast<double>(total) : 0.0;
    j["wilson95"] = total > 0 ? Wilson95(correct, total) : Json(nullptr);
    j["mean_answer_logprob"] =
        scored > 0 ? Json(logprob_sum / static_cast<double>(scored)) : Json(nullptr);
    return j;
  }
};

// Nearest rank: the smallest value with at least p% of the values at or below it.
double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0.0;
  const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * sorted.size()));
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

double Rate(double tokens, double seconds) { return seconds > 0.0 ? tokens / seconds : 0.0; }

std::string Str(const Json& j) { return j.is_string() ? j.get<std::string>() : DumpJson(j, -1); }

// An end of a tally's Wilson interval in percent (0 for the low end of an empty tally).
double Interval(const Json& tally, std::size_t end) {
  const Json& w = tally["wilson95"];
  return w.is_array() ? 100.0 * w[end].get<double>() : 100.0 * static_cast<double>(end);
}

}  // namespace

Json EvalReportJson(const EvalContext& context, const EvalRun& run) {
  const Model& model = *context.model;
  Json out;
  out["version"] = kVersion;
  out["model"] = {
      {"path", model.path()}, {"sha256", model.sha256()}, {"description", model.description()}};
  if (context.adapter != nullptr) {
    out["adapter"] = {{"path", context.adapter->path()},
                      {"sha256", context.adapter->sha256()},
                      {"scale", context.adapter_scale},
                      {"description", context.adapter->description()}};
  } else {
    out["adapter"] = nullptr;
  }
  out["set"] = {{"path", context.set->path},
                {"sha256", context.set->sha256},
                {"cases", context.set->cases.size()},
                {"evaluated", run.cases.size()}};
  out["max_tokens"] = run.max_tokens;
  out["threads"] = context.threads;
  out["labels"] = run.labels.empty() ? Json(nullptr) : Json(run.labels);

  Tally all;
  std::map<std::string, Tally> by_skill;
  std::map<std::string, Tally> by_split;
  std::vector<double> latencies;
  double prompt_tokens = 0, prefill_seconds = 0, decode_tokens = 0, decode_seconds = 0;
  std::int64_t answer_tokens = 0;
  Json failures = Json::array();
  for (const CaseResult& r : run.cases) {
    const EvalCase& c = *r.eval_case;
    all.Add(r);
    by_skill[c.skill].Add(r);
    by_split[c.has_split ? c.split : kNoSplit].Add(r);
    latencies.push_back(r.latency_ms);
    prompt_tokens += r.prompt_tokens;
    prefill_seconds += r.prefill_seconds;
    decode_tokens += r.decode_tokens;
    decode_seconds += r.decode_seconds;
    answer_tokens += r.answer_tokens;
    if (!r.match && failures.size() < static_cast<std::size_t>(context.show_failures)) {
      failures.push_back({{"id", c.id},
                          {"skill", c.skill},
                          {"split", c.has_split ? Json(c.split) : Json(nullptr)},
                          {"line", c.line},
                          {"prompt", c.prompt},
                          {"expected", c.answer},
                          {"got", r.got},
                          {"stop_reason", std::string(StopReasonName(r.stop_reason))}});
      if (!run.labels.empty()) {
        Json scores = Json::object();
        for (std::size_t i = 0; i < run.labels.size(); ++i) {
          scores[run.labels[i]] = r.label_logprobs[i];
        }
        failures.back()["label_logprobs"] = std::move(scores);
      }
    }
  }
  Json exact = all.ToJson();
  out["exact_match"] = {{"correct", exact["correct"]},
                        {"total", exact["total"]},
                        {"accuracy", exact["accuracy"]},
                        {"wilson95", exact["wilson95"]}};
  Json skills = Json::object();
  for (const auto& [name, tally] : by_skill) skills[name] = tally.ToJson();
  out["by_skill"] = std::move(skills);
  Json splits = Json::object();
  for (const auto& [name, tally] : by_split) splits[name] = tally.ToJson();
  out["by_split"] = std::move(splits);
  out["mean_answer_logprob"] = exact["mean_answer_logprob"];
  out["answer_tokens"] = answer_tokens;

  std::sort(latencies.begin(), latencies.end());
  double sum = 0.0;
  for (double l : latencies) sum += l;
  out["latency_ms"] = {
      {"mean", latencies.empty() ? 0.0 : sum / static_cast<double>(latencies.size())},
      {"p50", Percentile(latencies, 50)},
      {"p95", Percentile(latencies, 95)},
      {"max", latencies.empty() ? 0.0 : latencies.back()}};
  out["throughput"] = {{"prompt_tokens", static_cast<std::int64_t>(prompt_tokens)},
                       {"prefill_seconds", prefill_seconds},
                       {"prefill_tokens_per_second", Rate(prompt_tokens, prefill_seconds)},
                       {"decode_tokens", static_cast<std::int64_t>(decode_tokens)},
                       {"decode_seconds", decode_seconds},
                       {"decode_tokens_per_second", Rate(decode_tokens, decode_seconds)}};
  out["failures"] = std::move(failures);
  return out;
}

std::string EvalReportText(const Json& report) {
  std::string s;
  const auto line = [&s](const char* fmt, auto... args) {
    const int n = std::snprintf(nullptr, 0, fmt, args...);
    if (n <= 0) return;
    const std::size_t at = s.size();
    s.resize(at + static_cast<std::size_t>(n) + 1);
    std::snprintf(s.data() + at, static_cast<std::size_t>(n) + 1, fmt, args...);
    s.resize(at + static_cast<std::size_t>(n));
  };
  const Json& m = report["model"];
  line("model      %s\n           sha256 %s\n           %s\n", Str(m["path"]).c_str(),
       Str(m["sha256"]).c_str(), Str(m["description"]).c_str());
  if (report["adapter"].is_null()) {
    line("adapter    none\n");
  } else {
    const Json& a = report["adapter"];
    line("adapter    %s (scale %g)\n           sha256 %s\n           %s\n", Str(a["path"]).c_str(),
         a["scale"].get<double>(), Str(a["sha256"]).c_str(), Str(a["description"]).c_str());
  }
  const Json& set = report["set"];
  line("set        %s: %lld of %lld cases\n           sha256 %s\n", Str(set["path"]).c_str(),
       set["evaluated"].get<long long>(), set["cases"].get<long long>(),
       Str(set["sha256"]).c_str());
  const Json& em = report["exact_match"];
  if (!report["labels"].is_null()) {
    line("labels     %s (scored, the most probable one is the answer)\n",
         DumpJson(report["labels"], -1).c_str());
  }
  line("\nexact match  %lld/%lld  %.1f%%  (95%% interval %.1f-%.1f%%)\n",
       em["correct"].get<long long>(), em["total"].get<long long>(),
       100.0 * em["accuracy"].get<double>(), Interval(em, 0), Interval(em, 1));
  const std::pair<const char*, const char*> groups[] = {{"by_skill", "per skill"},
                                                        {"by_split", "per split"}};
  for (const auto& [group, title] : groups) {
    line("  %s\n", title);
    for (const auto& [name, t] : report[group].items()) {
      line("    %-20s %lld/%lld  %5.1f%% (%.1f-%.1f)  logprob %s\n", name.c_str(),
           t["correct"].get<long long>(), t["total"].get<long long>(),
           100.0 * t["accuracy"].get<double>(), Interval(t, 0), Interval(t, 1),
           t["mean_answer_logprob"].is_null()
               ? "-"
               : std::to_string(t["mean_answer_logprob"].get<double>()).c_str());
    }
  }
  if (report["mean_answer_logprob"].is_null()) {
    line("mean answer logprob  - (no answer scored)\n");
  } else {
    line("mean answer logprob  %.4f per token (answer + EOS, teacher-forced; %lld tokens)\n",
         report["mean_answer_logprob"].get<double>(), report["answer_tokens"].get<long long>());
  }
  const Json& lat = report["latency_ms"];
  line("latency ms           mean %.2f  p50 %.2f  p95 %.2f  max %.2f\n", lat["mean"].get<double>(),
       lat["p50"].get<double>(), lat["p95"].get<double>(), lat["max"].get<double>());
  const Json& tp = report["throughput"];
  if (report["labels"].is_null()) {
    line("tokens/s             prefill %.1f  decode %.1f  (%d threads, max tokens %d)\n",
         tp["prefill_tokens_per_second"].get<double>(),
         tp["decode_tokens_per_second"].get<double>(), report["threads"].get<int>(),
         report["max_tokens"].get<int>());
  } else {
    line("scoring              %zu labels per case, no generation (%d threads)\n",
         report["labels"].size(), report["threads"].get<int>());
  }
  const Json& failures = report["failures"];
  if (!failures.empty()) {
    line("\nfirst %zu failures\n", failures.size());
    for (const Json& f : failures) {
      line("  %s (line %lld, %s)\n", Str(f["id"]).c_str(), f["line"].get<long long>(),
           Str(f["skill"]).c_str());
      for (const auto& [label, key] :
           {std::pair{"prompt  ", "prompt"}, std::pair{"expected", "expected"},
            std::pair{"got     ", "got"}}) {
        line("    %s %s\n", label, DumpJson(f[key], -1).c_str());
      }
    }
  }
  line("\n%s\n", Str(report["version"]).c_str());
  return s;
}

Status WriteFileAtomically(const std::string& path, const std::string& text) {
  return base::WriteFileAtomic(base::DefaultFileEnv(), path, text).WithContext("eval: report");
}

}  // namespace tessera::cli
