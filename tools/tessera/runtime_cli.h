// Shared by the commands that open a runtime (run, resident, ask, replay, calibrate): the store,
// the budgets and the compute threads as flags, and opening the runtime from them.
#ifndef TESSERA_TOOLS_TESSERA_RUNTIME_CLI_H_
#define TESSERA_TOOLS_TESSERA_RUNTIME_CLI_H_

#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "tessera/runtime.h"

namespace tessera::cli {

struct RuntimeFlags {
  std::string home;
  std::string budget_host, budget_kv;
  std::int32_t max_active = 0, max_parallel = 0, max_sessions = 0;
  std::int64_t min_residence_ms = 0, queue_timeout_ms = 30'000;
  bool budget_overlap = false;
  std::int32_t threads = 0;
};

// "64MB", "1.5 GB", "512kB", "2GiB", "1000000": bytes. kInvalidArgument naming the flag.
Result<std::uint64_t> ParseBytes(const std::string& flag, const std::string& text);

// --home, --budget-host, --budget-kv, --budget-overlap, --max-active, --max-parallel,
// --max-sessions, --min-residence-ms, --queue-timeout-ms, -t/--threads.
void AddRuntimeFlags(CLI::App* sub, RuntimeFlags* flags);

// A runtime on the flags' store and budgets; `on_event` may be empty.
Result<std::unique_ptr<Runtime>> OpenRuntime(const RuntimeFlags& flags,
                                             std::function<void(const RuntimeEvent&)> on_event);

}  // namespace tessera::cli

#endif  // TESSERA_TOOLS_TESSERA_RUNTIME_CLI_H_
