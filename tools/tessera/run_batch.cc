#include "run_batch.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <thread>

#include "base/printable.h"
#include "batch_line.h"
#include "options.h"

namespace tessera::cli {
namespace {

// The record of the request this thread is running: the runtime delivers a load's events on
// the thread that asked for it.
thread_local BatchRecord* t_current = nullptr;

double Ms(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

double LatencyPercentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

std::string Mb(std::uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f MB", static_cast<double>(bytes) / 1e6);
  return buf;
}

// An "auto" request: the orchestrator routes it; residency events reach the record as for a
// named package (they are delivered on this thread).
void AskRequest(Orchestrator& o, BatchRecord& r) {
  t_current = &r;
  const auto t0 = std::chrono::steady_clock::now();
  AskOptions options;
  options.request_id = r.request.id;
  Result<AskResult> a = o.Ask(r.request.prompt, options);
  r.generate_ms = Ms(std::chrono::steady_clock::now() - t0);
  t_current = nullptr;
  if (!a.ok()) {
    r.status = a.status();
    return;
  }
  if (r.residency.empty()) r.residency = "hit";
  r.module = a->module;
  r.route = a->route;
  r.outcome = a->outcome;
  r.accepted = a->accepted;
  r.evidence = a->evidence;
  r.text = a->outcome == "answered" ? a->answer : "";
  for (const AskStep& s : a->steps) r.tokens += s.output_tokens;
  if (a->outcome != "answered") r.text = "";
}

void RunRequest(Runtime& rt, BatchRecord& r) {
  t_current = &r;
  const auto t0 = std::chrono::steady_clock::now();
  Result<ModuleHandle> m = rt.Acquire(r.request.package);
  r.acquire_ms = Ms(std::chrono::steady_clock::now() - t0);
  if (!m.ok()) {
    r.status = m.status();
    t_current = nullptr;
    return;
  }
  if (r.residency.empty()) r.residency = "hit";
  if (Result<ModuleInfo> info = rt.Describe(*m); info.ok()) {
    r.module = info->id + "@" + info->version;
  }
  Result<SessionHandle> s = rt.OpenSession(*m);
  if (s.ok()) {
    GenerateOptions g;
    g.max_tokens = r.request.max_tokens;
    const auto t1 = std::chrono::steady_clock::now();
    Result<GenerateResult> out = rt.Generate(*s, r.request.prompt, g);
    r.generate_ms = Ms(std::chrono::steady_clock::now() - t1);
    if (out.ok()) {
      r.text = out->text;
      r.tokens = out->timings.decode_tokens;
    } else {
      r.status = out.status();
    }
    (void)rt.CloseSession(*s);
  } else {
    r.status = s.status();
  }
  (void)rt.Release(*m);
  t_current = nullptr;
}

}  // namespace

void BatchEvents(const RuntimeEvent& e) {
  BatchRecord* r = t_current;
  if (r == nullptr) return;
  switch (e.kind) {
    case RuntimeEventKind::kLoaded:
      if (r->residency != "fallback") r->residency = "load";
      break;
    case RuntimeEventKind::kEvicted:
      r->evicted.push_back(e.module);
      break;
    case RuntimeEventKind::kRolledBack:
      r->residency = "fallback";
      break;
    default:
      break;
  }
}

Result<std::vector<BatchRequest>> ReadBatch(const std::string& path, std::int32_t max_tokens) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("run: cannot read requests file " + path);
  std::vector<BatchRequest> out;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = path + ":" + std::to_string(n) + ": ";
    TS_ASSIGN_OR_RETURN(nlohmann::json j,
                        ParseBatchLine(line, "run: " + path + ":" + std::to_string(n)));
    BatchRequest r;
    r.id = "#" + std::to_string(n);
    r.max_tokens = max_tokens;
    for (const auto& [key, value] : j.items()) {
      if (key == "package" && value.is_string()) {
        r.package = value.get<std::string>();
      } else if (key == "prompt" && value.is_string()) {
        r.prompt = value.get<std::string>();
      } else if (key == "id" && value.is_string()) {
        r.id = value.get<std::string>();
      } else if (key == "max_tokens" && value.is_number_integer() &&
                 value.get<std::int64_t>() >= 0 && value.get<std::int64_t>() <= 4096) {
        r.max_tokens = value.get<std::int32_t>();
      } else {
        return InvalidArgument("run: " + where + "\"" + key + "\" is unknown or not a valid " +
                               "value (package and prompt: strings; max_tokens: 0..4096)");
      }
    }
    if (r.package.empty() || r.prompt.empty()) {
      return InvalidArgument("run: " + where + "needs \"package\" and a non-empty \"prompt\"");
    }
    out.push_back(std::move(r));
  }
  if (out.empty()) return InvalidArgument("run: " + path + " has no requests");
  return out;
}

std::vector<BatchRecord> RunBatch(Runtime& runtime, Orchestrator* orchestrator,
                                  const std::vector<BatchRequest>& requests, std::int32_t clients) {
  std::vector<BatchRecord> records(requests.size());
  for (std::size_t i = 0; i < requests.size(); ++i) records[i].request = requests[i];
  std::atomic<std::size_t> next{0};
  auto client = [&] {
    for (std::size_t i; (i = next++) < records.size();) {
      const auto t0 = std::chrono::steady_clock::now();
      if (records[i].request.package == "auto" && orchestrator != nullptr) {
        AskRequest(*orchestrator, records[i]);
      } else {
        RunRequest(runtime, records[i]);
      }
      records[i].total_ms = Ms(std::chrono::steady_clock::now() - t0);
    }
  };
  std::vector<std::thread> threads;
  for (std::int32_t c = 1; c < clients; ++c) threads.emplace_back(client);
  client();
  for (std::thread& t : threads) t.join();
  return records;
}

nlohmann::ordered_json RecordJson(const BatchRecord& r) {
  nlohmann::ordered_json j;
  j["id"] = r.request.id;
  j["package"] = r.request.package;
  j["module"] = r.module;
  j["residency"] = r.residency;
  j["evicted"] = r.evicted;
  j["acquire_ms"] = r.acquire_ms;
  j["generate_ms"] = r.generate_ms;
  j["total_ms"] = r.total_ms;
  j["tokens"] = r.tokens;
  j["text"] = r.text;
  if (!r.outcome.empty()) {
    j["route"] = r.route;
    j["outcome"] = r.outcome;
    j["accepted"] = r.accepted;
    j["evidence"] = r.evidence;
  }
  if (!r.status.ok()) {
    j["error"] = {{"code", std::string(CodeName(r.status.code()))},
                  {"message", r.status.message()}};
  }
  return j;
}

std::string RecordLine(const BatchRecord& r) {
  char buf[96];
  std::string line = r.request.id + " " + (r.module.empty() ? r.request.package : r.module);
  if (!r.status.ok()) {
    return base::Printable(line + " error " + std::string(CodeName(r.status.code())) + ": " +
                           r.status.message());
  }
  std::snprintf(buf, sizeof(buf), " %s %.1f ms", r.residency.c_str(), r.acquire_ms);
  line += buf;
  for (std::size_t i = 0; i < r.evicted.size(); ++i) {
    line += (i == 0 ? " (evicted " : ", ") + r.evicted[i] + (i + 1 == r.evicted.size() ? ")" : "");
  }
  if (!r.outcome.empty()) {
    line += " route " + (r.route.empty() ? std::string("-") : r.route) + " " + r.outcome +
            (r.outcome == "answered" && !r.accepted ? " (not confident)" : "") + " [evidence #" +
            std::to_string(r.evidence) + "]";
  }
  std::snprintf(buf, sizeof(buf), ", generate %.1f ms, %d tokens: ", r.generate_ms, r.tokens);
  return base::Printable(line + buf + DumpJson(nlohmann::json(r.text), -1));
}

nlohmann::ordered_json ReportJson(const RuntimeReport& r) {
  nlohmann::ordered_json j;
  j["budgets"] = {{"host_bytes", r.budgets.host_bytes},
                  {"device_bytes", r.budgets.device_bytes},
                  {"kv_bytes", r.budgets.kv_bytes},
                  {"max_active", r.budgets.max_active},
                  {"max_parallel", r.budgets.max_parallel},
                  {"max_sessions", r.budgets.max_sessions},
                  {"min_residence_ms", r.budgets.min_residence_ms},
                  {"queue_timeout_ms", r.budgets.queue_timeout_ms},
                  {"overlap_loads", r.budgets.overlap_loads}};
  j["in_use"] = {
      {"host_bytes", r.host_bytes}, {"device_bytes", r.device_bytes}, {"kv_bytes", r.kv_bytes}};
  j["counts"] = {{"n_total", r.n_total}, {"k_active", r.k_active},   {"k_parallel", r.k_parallel},
                 {"queued", r.queued},   {"admitting", r.admitting}, {"sessions", r.sessions}};
  j["policy"] = r.policy;
  auto footprint = [](const FootprintInfo& f) {
    return nlohmann::ordered_json{{"measured", f.measured},
                                  {"artifact_bytes", f.artifact_bytes},
                                  {"private_bytes", f.private_bytes},
                                  {"kv_bytes_per_token", f.kv_bytes_per_token},
                                  {"session_bytes", f.session_bytes}};
  };
  j["modules"] = nlohmann::ordered_json::array();
  for (const ResidentModuleInfo& m : r.modules) {
    j["modules"].push_back({{"module", m.module},
                            {"sha256", m.sha256},
                            {"state", m.state},
                            {"leases", m.leases},
                            {"sessions", m.sessions},
                            {"pinned", m.pinned},
                            {"uses", m.uses},
                            {"idle_seconds", m.idle_seconds},
                            {"estimate", footprint(m.estimate)},
                            {"measured", footprint(m.measured)}});
  }
  j["known_good"] = r.known_good;
  j["counters"] = {{"hits", r.hits},
                   {"loads", r.loads},
                   {"coalesced", r.coalesced},
                   {"evictions", r.evictions},
                   {"refusals", r.refusals},
                   {"load_failures", r.load_failures},
                   {"replans", r.replans},
                   {"queue_timeouts", r.queue_timeouts},
                   {"admission_waits", r.admission_waits},
                   {"admission_timeouts", r.admission_timeouts},
                   {"admission_wait_seconds", r.admission_wait_seconds},
                   {"restores", r.restores},
                   {"restore_failures", r.restore_failures},
                   {"restore_seconds", r.restore_seconds}};
  return j;
}

// A budget: 0 is unlimited.
std::string Limit(std::uint64_t bytes) { return bytes == 0 ? "unlimited" : Mb(bytes); }

std::string ReportText(const RuntimeReport& r) {
  char buf[256];
  std::snprintf(buf, sizeof(buf),
                "resident: %d of %d installed (K_active limit %s), %d generating; host %s of "
                "%s, KV %s of %s\n",
                r.k_active, r.n_total,
                r.budgets.max_active == 0 ? "none" : std::to_string(r.budgets.max_active).c_str(),
                r.k_parallel, Mb(r.host_bytes).c_str(), Limit(r.budgets.host_bytes).c_str(),
                Mb(r.kv_bytes).c_str(), Limit(r.budgets.kv_bytes).c_str());
  std::string out = buf;
  for (const ResidentModuleInfo& m : r.modules) {
    const FootprintInfo& f = m.measured.measured ? m.measured : m.estimate;
    std::snprintf(buf, sizeof(buf),
                  "  %-40s %-9s leases %d, uses %llu, weights %s + own %s (%s; estimate %s)\n",
                  m.module.c_str(), m.state.c_str(), m.leases,
                  static_cast<unsigned long long>(m.uses), Mb(f.artifact_bytes).c_str(),
                  Mb(f.private_bytes).c_str(), m.measured.measured ? "measured" : "estimated",
                  Mb(m.estimate.artifact_bytes + m.estimate.private_bytes).c_str());
    out += buf;
  }
  return out;
}

nlohmann::ordered_json SummaryJson(const std::vector<BatchRecord>& records,
                                   const RuntimeReport& report, double wall_seconds) {
  std::vector<double> hit, load, gen, total;
  std::size_t errors = 0;
  for (const BatchRecord& r : records) {
    if (!r.status.ok()) {
      ++errors;
      continue;
    }
    total.push_back(r.total_ms);
    (r.residency == "hit" ? hit : load).push_back(r.acquire_ms);
    gen.push_back(r.generate_ms);
  }
  nlohmann::ordered_json j;
  j["requests"] = records.size();
  j["errors"] = errors;
  j["wall_seconds"] = wall_seconds;
  j["hits"] = hit.size();
  j["loads"] = load.size();
  j["acquire_hit_ms"] = {{"median", LatencyPercentile(hit, 0.5)},
                         {"p95", LatencyPercentile(hit, 0.95)}};
  j["acquire_load_ms"] = {{"median", LatencyPercentile(load, 0.5)},
                          {"p95", LatencyPercentile(load, 0.95)}};
  j["generate_ms"] = {{"median", LatencyPercentile(gen, 0.5)},
                      {"p95", LatencyPercentile(gen, 0.95)}};
  j["request_ms"] = {{"median", LatencyPercentile(total, 0.5)},
                     {"p95", LatencyPercentile(total, 0.95)},
                     {"p99", LatencyPercentile(total, 0.99)}};
  j["requests_per_second"] =
      wall_seconds > 0 ? static_cast<double>(total.size()) / wall_seconds : 0;
  j["report"] = ReportJson(report);
  return j;
}

std::string SummaryText(const std::vector<BatchRecord>& records, const RuntimeReport& report,
                        double wall_seconds) {
  const nlohmann::ordered_json s = SummaryJson(records, report, wall_seconds);
  char buf[320];
  std::snprintf(buf, sizeof(buf),
                "summary: %zu requests in %.2f s, %zu errors; %zu hits (acquire median %.2f "
                "ms), %zu loads (median %.1f ms); generate median %.1f ms; %llu evictions\n",
                records.size(), wall_seconds, s["errors"].get<std::size_t>(),
                s["hits"].get<std::size_t>(), s["acquire_hit_ms"]["median"].get<double>(),
                s["loads"].get<std::size_t>(), s["acquire_load_ms"]["median"].get<double>(),
                s["generate_ms"]["median"].get<double>(),
                static_cast<unsigned long long>(report.evictions));
  return buf + ReportText(report);
}

}  // namespace tessera::cli
