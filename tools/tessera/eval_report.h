// The report of `tessera eval`: aggregates of an EvalRun (eval_run.h) as one JSON document and as
// a human-readable summary, and the atomic write of the JSON to a file.
//
// JSON fields (numbers are JSON numbers; absent values are null):
//   version                 "tessera 0.1.0"
//   model                   {path, sha256, description}
//   adapter                 null, or {path, sha256, scale, description}
//   set                     {path, sha256, cases (in the file), evaluated (after --limit)}
//   max_tokens, threads     (max_tokens 0 with labels)
//   labels                  null, or the labels scored (--labels: a classifier, eval_run.h)
//   exact_match             {correct, total, accuracy, wilson95}  accuracy = correct / total;
//                           wilson95 = [low, high], the 95% Wilson score interval (z = 1.96)
//   by_skill, by_split      {name: {correct, total, accuracy, wilson95, mean_answer_logprob}};
//                           cases without a split are grouped under "(none)"
//   mean_answer_logprob     mean over the scored cases of each case's answer_logprob
//                           (eval_run.h: mean natural-log probability of the answer's tokens
//                           and EOS under teacher forcing); null when no case was scored
//   answer_tokens           tokens scored over all cases
//   latency_ms              {mean, p50, p95, max} of the per-case generation wall time;
//                           percentiles by nearest rank over the sorted latencies
//   throughput              {prompt_tokens, prefill_seconds, prefill_tokens_per_second,
//                            decode_tokens, decode_seconds, decode_tokens_per_second}: sums over
//                           the cases, rates = tokens / seconds (with labels: prompt_tokens
//                           only; prefill and decode are not timed apart, so those are 0)
//   failures                the first K failed cases in set order: {id, skill, split, line,
//                           prompt, expected, got, stop_reason}, and with labels
//                           label_logprobs {label: total log-probability}
#ifndef TESSERA_TOOLS_TESSERA_EVAL_REPORT_H_
#define TESSERA_TOOLS_TESSERA_EVAL_REPORT_H_

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "eval_run.h"
#include "eval_set.h"
#include "tessera/engine.h"
#include "tessera/status.h"

namespace tessera::cli {

struct EvalContext {
  const Model* model = nullptr;
  const Adapter* adapter = nullptr;  // null without --lora
  float adapter_scale = 1.0f;
  const EvalSet* set = nullptr;
  std::int32_t threads = 0;
  std::int32_t show_failures = 5;  // K
};

nlohmann::ordered_json EvalReportJson(const EvalContext& context, const EvalRun& run);

// The summary printed by default, from the JSON report (one source of truth).
std::string EvalReportText(const nlohmann::ordered_json& report);

// Writes `text` to `path` with base::WriteFileAtomic (a temporary file in the same folder,
// fsync, rename, fsync of the folder). kIoError naming the failing operation and path.
Status WriteFileAtomically(const std::string& path, const std::string& text);

}  // namespace tessera::cli

#endif  // TESSERA_TOOLS_TESSERA_EVAL_REPORT_H_
