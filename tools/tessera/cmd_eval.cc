// tessera eval MODEL.gguf --set SET.jsonl [--lora ADAPTER.gguf [--lora-scale S]] [--limit N]
//              [--json] [-o REPORT.json] [-t THREADS] [--max-tokens N] [--show-failures K]
//              [--labels A,B,...]
//
// Runs an evaluation set (eval_set.h: JSON Lines of {id, skill, prompt, answer, split?}) with
// greedy generation and exact match, scores each expected answer under teacher forcing
// (eval_run.h), and reports accuracy overall, per skill and per split, the mean answer
// log-probability, latency and throughput (eval_report.h). With --labels the model is a
// classifier: every label is scored and the most probable one is its answer (eval_run.h). The
// summary goes to stdout; with
// --json the JSON report instead; -o also writes the JSON report to a file, atomically.
#include <cmath>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "command.h"
#include "eval_report.h"
#include "eval_run.h"
#include "eval_set.h"
#include "options.h"
#include "tessera/engine.h"

namespace tessera::cli {
namespace {

struct EvalFlags {
  std::string model_path;
  std::string set_path;
  std::string lora_path;
  float lora_scale = 1.0f;
  std::int32_t limit = 0;  // 0 = every case
  std::int32_t threads = 0;
  std::int32_t max_tokens = 0;  // 0 = DefaultMaxTokens
  std::int32_t show_failures = 5;
  std::string output_path;
  bool json = false;
  std::string labels;  // comma-separated; empty: generation
};

Status CheckFlags(const EvalFlags& f) {
  if (f.limit < 0) return InvalidArgument("--limit " + std::to_string(f.limit) + " must be >= 1");
  if (f.max_tokens < 0) {
    return InvalidArgument("--max-tokens " + std::to_string(f.max_tokens) + " must be >= 1");
  }
  if (f.show_failures < 0) {
    return InvalidArgument("--show-failures " + std::to_string(f.show_failures) + " must be >= 0");
  }
  if (!std::isfinite(f.lora_scale)) return InvalidArgument("--lora-scale must be finite");
  return Status::Ok();
}

int RunEvalCommand(const EvalFlags& flags) {
  if (Status st = CheckFlags(flags); !st.ok()) return ReportError(st);
  Result<std::int32_t> threads = ResolveThreads(flags.threads);
  if (!threads.ok()) return ReportError(threads.status());
  // The set first: a bad line is reported before the model is loaded.
  Result<EvalSet> set = ReadEvalSet(flags.set_path);
  if (!set.ok()) return ReportError(set.status());
  std::span<const EvalCase> cases = set->cases;
  if (flags.limit > 0 && static_cast<std::size_t>(flags.limit) < cases.size()) {
    cases = cases.first(static_cast<std::size_t>(flags.limit));
  }

  ModelOptions model_options;
  model_options.n_threads = *threads;
  Result<std::unique_ptr<Model>> model = Model::Open(flags.model_path, model_options);
  if (!model.ok()) return ReportError(model.status());
  ReportWarnings((*model)->warnings());
  const Model& m = **model;
  SessionOptions session_options;
  std::shared_ptr<const Adapter> adapter;
  if (!flags.lora_path.empty()) {
    Result<std::shared_ptr<const Adapter>> opened = Adapter::Open(flags.lora_path, m);
    if (!opened.ok()) return ReportError(opened.status());
    adapter = *opened;
    session_options.adapters.push_back(AdapterUse{adapter, flags.lora_scale});
  }
  Result<std::unique_ptr<Session>> session = m.NewSession(session_options);
  if (!session.ok()) return ReportError(session.status());

  std::int32_t max_tokens = flags.max_tokens;
  if (max_tokens == 0 && flags.labels.empty()) {
    Result<std::int32_t> auto_max = DefaultMaxTokens(m, cases);
    if (!auto_max.ok()) return ReportError(auto_max.status());
    max_tokens = *auto_max;
  }
  // No --labels: generation. Empty items stay, for RunEval to refuse by position.
  const std::vector<std::string> labels =
      flags.labels.empty() ? std::vector<std::string>() : SplitCommas(flags.labels);
  Result<EvalRun> run = RunEval(m, **session, cases, max_tokens, labels);
  if (!run.ok()) return ReportError(run.status());

  EvalContext context;
  context.model = &m;
  context.adapter = adapter.get();
  context.adapter_scale = flags.lora_scale;
  context.set = &*set;
  context.threads = m.compute_pool()->n_threads();
  context.show_failures = flags.show_failures;
  // nlohmann::json may throw on an impossible access; this is the boundary that catches it.
  try {
    const nlohmann::ordered_json report = EvalReportJson(context, *run);
    const std::string json_text = DumpJson(report) + "\n";
    if (!flags.output_path.empty()) {
      if (Status st = WriteFileAtomically(flags.output_path, json_text); !st.ok()) {
        return ReportError(st);
      }
    }
    const std::string text = flags.json ? json_text : EvalReportText(report);
    std::fwrite(text.data(), 1, text.size(), stdout);
  } catch (const std::exception& e) {
    return ReportError(Internal(std::string("eval: building the report failed: ") + e.what()));
  }
  return 0;
}

}  // namespace

RunFn AddEval(CLI::App& app) {
  auto f = std::make_shared<EvalFlags>();
  CLI::App* sub = app.add_subcommand(
      "eval", "Exact-match accuracy, answer log-probability and speed on a JSONL set");
  sub->add_option("model", f->model_path, "GGUF model file")->required();
  sub->add_option("--set", f->set_path,
                  "JSONL set: one {\"id\", \"skill\", \"prompt\", \"answer\", \"split\"?} per line")
      ->required();
  CLI::Option* lora = sub->add_option("--lora", f->lora_path, "LoRA adapter GGUF for the model");
  sub->add_option("--lora-scale", f->lora_scale, "Scale of the adapter (default 1)")->needs(lora);
  sub->add_option("--limit", f->limit, "Evaluate the first N cases only");
  sub->add_flag("--json", f->json, "Print the JSON report instead of the summary");
  sub->add_option("-o,--output", f->output_path, "Also write the JSON report to this file");
  sub->add_option("-t,--threads", f->threads, "Compute threads; 0 = all cores (default)");
  sub->add_option("--max-tokens", f->max_tokens,
                  "Generation limit per case (default: 64, or the longest answer + 16)");
  sub->add_option("--show-failures", f->show_failures, "Failed cases to list (default 5)");
  sub->add_option("--labels", f->labels,
                  "Score these labels (comma-separated) and answer the most probable one, as "
                  "the router is used, instead of generating");
  return [f] { return RunEvalCommand(*f); };
}

}  // namespace tessera::cli
