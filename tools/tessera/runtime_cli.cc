#include "runtime_cli.h"

#include <cstdlib>
#include <utility>

#include "options.h"
#include "store_cli.h"

namespace tessera::cli {

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

void AddRuntimeFlags(CLI::App* sub, RuntimeFlags* f) {
  AddHomeOption(sub, &f->home);
  sub->add_option("--budget-host", f->budget_host, "host bytes for modules and sessions");
  sub->add_option("--budget-kv", f->budget_kv, "bytes for every session's KV cache together");
  sub->add_flag("--budget-overlap", f->budget_overlap,
                "keep a load's victims in memory until it commits (a failed load costs nothing, "
                "but the peak may exceed --budget-host by the modules loading)");
  sub->add_option("--max-active", f->max_active, "K_active: modules resident at once");
  sub->add_option("--max-parallel", f->max_parallel, "K_parallel: modules generating at once");
  sub->add_option("--max-sessions", f->max_sessions, "sessions open at once");
  sub->add_option("--min-residence-ms", f->min_residence_ms,
                  "a module younger than this is not evicted to make room");
  sub->add_option("--queue-timeout-ms", f->queue_timeout_ms,
                  "waiting for memory or a K_parallel slot before failing (unavailable)");
  sub->add_option("-t,--threads", f->threads, "compute threads (0 = every core)");
}

Result<std::unique_ptr<Runtime>> OpenRuntime(const RuntimeFlags& f,
                                             std::function<void(const RuntimeEvent&)> on_event) {
  RuntimeOptions ro;
  TS_ASSIGN_OR_RETURN(ro.home, ResolveHome(f.home));
  TS_ASSIGN_OR_RETURN(ro.budgets.host_bytes, ParseBytes("--budget-host", f.budget_host));
  TS_ASSIGN_OR_RETURN(ro.budgets.kv_bytes, ParseBytes("--budget-kv", f.budget_kv));
  for (const auto& [flag, v] : {std::pair<const char*, std::int64_t>{"--max-active", f.max_active},
                                {"--max-parallel", f.max_parallel},
                                {"--max-sessions", f.max_sessions},
                                {"--min-residence-ms", f.min_residence_ms},
                                {"--queue-timeout-ms", f.queue_timeout_ms}}) {
    if (v < 0) return InvalidArgument(std::string(flag) + " must be >= 0");
  }
  ro.budgets.max_active = f.max_active;
  ro.budgets.max_parallel = f.max_parallel;
  ro.budgets.max_sessions = f.max_sessions;
  ro.budgets.min_residence_ms = f.min_residence_ms;
  ro.budgets.queue_timeout_ms = f.queue_timeout_ms;
  ro.budgets.overlap_loads = f.budget_overlap;
  TS_ASSIGN_OR_RETURN(ro.n_threads, ResolveThreads(f.threads));
  ro.on_event = std::move(on_event);
  return Runtime::Open(std::move(ro));
}

}  // namespace tessera::cli
