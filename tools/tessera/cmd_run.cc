// tessera run ID[@VERSION] "prompt" | run --batch REQUESTS.jsonl, and tessera resident: the
// runtime (include/tessera/runtime.h) on the installed packages, under budgets.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "command.h"
#include "options.h"
#include "run_batch.h"
#include "store_cli.h"
#include "tessera/runtime.h"

namespace tessera::cli {
namespace {

struct RunOptions {
  std::string home;
  std::string package;
  std::string prompt;
  std::string batch;
  std::string activate;  // resident: comma-separated packages
  std::string budget_host, budget_kv;
  std::int32_t max_active = 0, max_parallel = 0, max_sessions = 0;
  std::int64_t min_residence_ms = 0, queue_timeout_ms = 30'000;
  std::int32_t max_tokens = 64;
  std::int32_t threads = 0;
  std::int32_t clients = 1;
  bool json = false;
};

// "64MB", "1.5 GB", "512kB", "2GiB", "1000000": bytes. kInvalidArgument naming the flag.
Result<std::uint64_t> ParseBytes(const std::string& flag, const std::string& text) {
  if (text.empty()) return std::uint64_t{0};
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  const std::size_t used = static_cast<std::size_t>(end - text.c_str());
  std::string unit = text.substr(used);
  while (!unit.empty() && unit.front() == ' ') unit.erase(unit.begin());
  const struct {
    const char* name;
    double scale;
  } units[] = {{"", 1},     {"B", 1},        {"kB", 1e3},        {"KB", 1e3},          {"MB", 1e6},
               {"GB", 1e9}, {"KiB", 1024.0}, {"MiB", 1048576.0}, {"GiB", 1073741824.0}};
  for (const auto& u : units) {
    if (used > 0 && unit == u.name && value >= 0 && value * u.scale < 1.8e19) {
      return static_cast<std::uint64_t>(value * u.scale);
    }
  }
  return InvalidArgument(flag + " \"" + text +
                         "\" is not a byte count (e.g. 64MB, 1.5GB, 512kB, 2GiB, 1000000)");
}

void AddRuntimeOptions(CLI::App* sub, RunOptions* o) {
  AddHomeOption(sub, &o->home);
  sub->add_option("--budget-host", o->budget_host, "host bytes for modules and sessions");
  sub->add_option("--budget-kv", o->budget_kv, "bytes for every session's KV cache together");
  sub->add_option("--max-active", o->max_active, "K_active: modules resident at once");
  sub->add_option("--max-parallel", o->max_parallel, "K_parallel: modules generating at once");
  sub->add_option("--max-sessions", o->max_sessions, "sessions open at once");
  sub->add_option("--min-residence-ms", o->min_residence_ms,
                  "a module younger than this is not evicted to make room");
  sub->add_option("--queue-timeout-ms", o->queue_timeout_ms,
                  "waiting for a K_parallel slot before failing");
  sub->add_option("-t,--threads", o->threads, "compute threads (0 = every core)");
  sub->add_option("--clients", o->clients, "--batch: requests run by this many threads")
      ->check(CLI::Range(1, 64));
  sub->add_option("-n,--max-tokens", o->max_tokens, "tokens to generate per request")
      ->check(CLI::Range(0, 4096));
  sub->add_option("--batch", o->batch, "REQUESTS.jsonl: {\"package\", \"prompt\"} per line");
  sub->add_flag("--json", o->json, "machine-readable output");
}

Result<std::unique_ptr<Runtime>> OpenRuntime(const RunOptions& o) {
  RuntimeOptions ro;
  TS_ASSIGN_OR_RETURN(ro.home, ResolveHome(o.home));
  TS_ASSIGN_OR_RETURN(ro.budgets.host_bytes, ParseBytes("--budget-host", o.budget_host));
  TS_ASSIGN_OR_RETURN(ro.budgets.kv_bytes, ParseBytes("--budget-kv", o.budget_kv));
  for (const auto& [flag, v] : {std::pair<const char*, std::int64_t>{"--max-active", o.max_active},
                                {"--max-parallel", o.max_parallel},
                                {"--max-sessions", o.max_sessions},
                                {"--min-residence-ms", o.min_residence_ms},
                                {"--queue-timeout-ms", o.queue_timeout_ms}}) {
    if (v < 0) return InvalidArgument(std::string(flag) + " must be >= 0");
  }
  ro.budgets.max_active = o.max_active;
  ro.budgets.max_parallel = o.max_parallel;
  ro.budgets.max_sessions = o.max_sessions;
  ro.budgets.min_residence_ms = o.min_residence_ms;
  ro.budgets.queue_timeout_ms = o.queue_timeout_ms;
  TS_ASSIGN_OR_RETURN(ro.n_threads, ResolveThreads(o.threads));
  ro.on_event = BatchEvents;
  return Runtime::Open(std::move(ro));
}

// --batch for both commands: the records (printed by `run`), then the summary.
int Batch(const RunOptions& o, bool print_records) {
  Result<std::vector<BatchRequest>> requests = ReadBatch(o.batch, o.max_tokens);
  if (!requests.ok()) return ReportError(requests.status());
  Result<std::unique_ptr<Runtime>> rt = OpenRuntime(o);
  if (!rt.ok()) return ReportError(rt.status());
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<BatchRecord> records = RunBatch(**rt, *requests, o.clients);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const RuntimeReport report = (*rt)->Report();
  if (o.json) {
    if (print_records) {
      for (const BatchRecord& r : records) std::printf("%s\n", DumpJson(RecordJson(r), -1).c_str());
      std::printf("%s\n", DumpJson(SummaryJson(records, report, wall), -1).c_str());
    } else {
      std::printf("%s\n", DumpJson(ReportJson(report)).c_str());
    }
  } else {
    if (print_records) {
      for (const BatchRecord& r : records) std::printf("%s\n", RecordLine(r).c_str());
      std::printf("%s", SummaryText(records, report, wall).c_str());
    } else {
      std::printf("%s", ReportText(report).c_str());
    }
  }
  return 0;
}

int RunSingle(const RunOptions& o) {
  Result<std::unique_ptr<Runtime>> rt = OpenRuntime(o);
  if (!rt.ok()) return ReportError(rt.status());
  Runtime& runtime = **rt;
  const auto t0 = std::chrono::steady_clock::now();
  Result<ModuleHandle> m = runtime.Acquire(o.package);
  if (!m.ok()) return ReportError(m.status());
  const double acquire_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  Result<SessionHandle> s = runtime.OpenSession(*m);
  if (!s.ok()) return ReportError(s.status());
  GenerateOptions g;
  g.max_tokens = o.max_tokens;
  Result<GenerateResult> out = runtime.Generate(*s, o.prompt, g, [&](const TokenEvent& t) {
    if (!o.json) {
      std::fwrite(t.text.data(), 1, t.text.size(), stdout);
      std::fflush(stdout);
    }
    return true;
  });
  if (!out.ok()) return ReportError(out.status());
  const ModuleInfo info = runtime.Describe(*m).value();
  if (o.json) {
    nlohmann::ordered_json j;
    j["module"] = info.id + "@" + info.version;
    j["sha256"] = info.sha256;
    j["text"] = out->text;
    j["stop_reason"] = std::string(StopReasonName(out->stop_reason));
    j["acquire_ms"] = acquire_ms;
    j["tokens"] = out->timings.decode_tokens;
    j["decode_tokens_per_second"] = out->timings.decode_tokens_per_second;
    std::printf("%s\n", DumpJson(j).c_str());
  } else {
    std::printf("\n");
    std::fflush(stdout);  // the text's line ends before the stderr summary starts
    std::fprintf(stderr, "[%s@%s %.12s: loaded in %.1f ms, %d tokens, %.1f tokens/s]\n",
                 info.id.c_str(), info.version.c_str(), info.sha256.c_str(), acquire_ms,
                 out->timings.decode_tokens, out->timings.decode_tokens_per_second);
  }
  return 0;
}

}  // namespace

RunFn AddRun(CLI::App& app) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* run = app.add_subcommand(
      "run", "Generate with an installed package (or a batch of requests) under budgets");
  run->add_option("package", o->package, "ID[@VERSION]");
  run->add_option("prompt", o->prompt, "the prompt");
  AddRuntimeOptions(run, o.get());
  CLI::App* resident = app.add_subcommand(
      "resident", "Show the resident set, budgets and counts after --batch or --activate");
  resident->add_option("--activate", o->activate,
                       "comma-separated ID[@VERSION]s made resident in one transaction");
  AddRuntimeOptions(resident, o.get());
  return [=] {
    if (run->parsed()) {
      if (!o->batch.empty()) {
        if (!o->package.empty()) {
          return ReportError(InvalidArgument("run: give a package and a prompt, or --batch"));
        }
        return Batch(*o, /*print_records=*/true);
      }
      if (o->package.empty() || o->prompt.empty()) {
        return ReportError(InvalidArgument("run: needs ID[@VERSION] and a prompt, or --batch"));
      }
      return RunSingle(*o);
    }
    if (!o->batch.empty()) return Batch(*o, /*print_records=*/false);
    Result<std::unique_ptr<Runtime>> rt = OpenRuntime(*o);
    if (!rt.ok()) return ReportError(rt.status());
    if (!o->activate.empty()) {
      std::vector<std::string> refs;
      for (std::size_t at = 0; at <= o->activate.size();) {
        const std::size_t comma = std::min(o->activate.find(',', at), o->activate.size());
        refs.push_back(o->activate.substr(at, comma - at));
        at = comma + 1;
      }
      if (Status s = (*rt)->Activate(refs); !s.ok()) return ReportError(s);
    }
    const RuntimeReport report = (*rt)->Report();
    std::printf(
        "%s", o->json ? (DumpJson(ReportJson(report)) + "\n").c_str() : ReportText(report).c_str());
    return 0;
  };
}

}  // namespace tessera::cli
