// `tessera ask`, `replay` and `calibrate` output: JSON results, the stderr summary line, and the
// batch file of requests.
//
// `ask --json` (and each line of `ask --batch --json`):
//   {"id", "outcome": "answered"|"abstained"|"failed"|"dry_run", "accepted", "answer"|null, "route"|null,
//    "module"|null, "sha256"|null, "confidence"|null, "measure"|null, "reason",
//    "stopped_by"|null, "plan"|null (a dry run: what would run, load, be evicted),
//    "escalations" (steps after the first),
//    "steps": [{"module", "sha256", "parameters", "prompt_tokens", "output_tokens", "accepted",
//               "valid", "confidence", "threshold", "answer", "reason"}],
//    "router": {"name"|null, "route"|null, "confidence"|null, "margin"|null, "parameters",
//               "tokens"},
//    "evidence" (the ledger seq; 0 for a dry run), "latency_ms", "decision" (single requests:
//    the evidence record's body)}
// A request the orchestrator refuses (empty, over 64 KiB, not UTF-8) in a batch:
//   {"id", "outcome": "failed", "error": {"code", "message"}, ...nulls}.
#ifndef TESSERA_TOOLS_TESSERA_ASK_OUTPUT_H_
#define TESSERA_TOOLS_TESSERA_ASK_OUTPUT_H_

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tessera/orchestrator.h"

namespace tessera::cli {

nlohmann::ordered_json AskJson(const std::string& id, const AskResult& r, bool with_decision);
nlohmann::ordered_json AskErrorJson(const std::string& id, const Status& error);
// One line for stderr: who answered and how confidently, or why nothing was answered, and the
// evidence record.
std::string AskSummary(const AskResult& r);

struct BatchAsk {
  std::string id;  // the line's "id", else "#<line>"
  std::string request;
};
// JSONL: {"request": "..."} (or "prompt", whose one trailing newline is dropped) and an
// optional string "id" per line; blank lines skipped. kNotFound/kIoError for the file,
// kInvalidArgument naming the line, before any request runs.
Result<std::vector<BatchAsk>> ReadAskBatch(const std::string& path);

nlohmann::ordered_json ReplayJson(const ReplayResult& r);
nlohmann::ordered_json CalibrateJson(const CalibrateResult& r);
std::string CalibrateText(const CalibrateResult& r);

}  // namespace tessera::cli

#endif  // TESSERA_TOOLS_TESSERA_ASK_OUTPUT_H_
