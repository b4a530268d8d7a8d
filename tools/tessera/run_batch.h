// `tessera run --batch` and `tessera resident --batch`: a stream of requests for different
// packages through one runtime.
//
// REQUESTS.jsonl: one JSON object per line, {"package": "ID[@VERSION]", "prompt": "...",
// "max_tokens": N (optional), "id": "..." (optional)}. Blank lines are skipped; anything else
// that is not such an object is an error naming the line, before any request runs.
// "package": "auto" sends the prompt, as a request, through the orchestrator (the policy
// decides which module answers, under its contract; the record says the route and the
// outcome, and the evidence record).
//
// Each request: acquire the module (a hit, a load, or a load shared with another client),
// open a session, generate greedily, close, release. What it records: the module, hit/load,
// the modules evicted to make room, and the latencies of acquiring, waiting for a K_parallel
// slot and generating. A request that fails (refused, unavailable, ...) is recorded with its
// error and the batch goes on.
#ifndef TESSERA_TOOLS_TESSERA_RUN_BATCH_H_
#define TESSERA_TOOLS_TESSERA_RUN_BATCH_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tessera/orchestrator.h"
#include "tessera/runtime.h"

namespace tessera::cli {

struct BatchRequest {
  std::string id;  // from the file, else "#<line>"
  std::string package;
  std::string prompt;
  std::int32_t max_tokens = 64;
};

struct BatchRecord {
  BatchRequest request;
  std::string module;     // "id@version" that served it
  std::string residency;  // "hit", "load", "shared-load", "fallback" or "" on error
  std::vector<std::string> evicted;
  double acquire_ms = 0;
  double generate_ms = 0;  // includes waiting for a K_parallel slot
  double total_ms = 0;     // the whole request: acquire, session, generate, close, release
  std::int32_t tokens = 0;
  std::string text;
  Status status;
  // "auto" requests: what the orchestrator decided.
  std::string route;
  std::string outcome;  // "answered", "abstained", "failed"; "" for a named package
  bool accepted = false;
  std::int64_t evidence = 0;
};

// Parses the requests. kNotFound/kIoError for the file, kInvalidArgument naming the line.
Result<std::vector<BatchRequest>> ReadBatch(const std::string& path, std::int32_t max_tokens);

// Runs `requests` on `clients` threads taking requests in file order. `on_event` must be the
// runtime's event callback (RuntimeOptions::on_event) for records to learn hits and evictions:
// make it forward to BatchEvents().
// `orchestrator` (may be null when no request is "auto") answers the "auto" requests.
std::vector<BatchRecord> RunBatch(Runtime& runtime, Orchestrator* orchestrator,
                                  const std::vector<BatchRequest>& requests, std::int32_t clients);
// The event callback to install in RuntimeOptions for RunBatch.
void BatchEvents(const RuntimeEvent& event);

nlohmann::ordered_json RecordJson(const BatchRecord& r);
std::string RecordLine(const BatchRecord& r);
nlohmann::ordered_json SummaryJson(const std::vector<BatchRecord>& records,
                                   const RuntimeReport& report, double wall_seconds);
std::string SummaryText(const std::vector<BatchRecord>& records, const RuntimeReport& report,
                        double wall_seconds);
nlohmann::ordered_json ReportJson(const RuntimeReport& report);
std::string ReportText(const RuntimeReport& report);

}  // namespace tessera::cli

#endif  // TESSERA_TOOLS_TESSERA_RUN_BATCH_H_
