// tessera run ID[@VERSION] "prompt" | run --batch REQUESTS.jsonl, and tessera resident: the
// runtime (include/tessera/runtime.h) on the installed packages, under budgets.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "command.h"
#include "options.h"
#include "run_batch.h"
#include "runtime_cli.h"
#include "store_cli.h"
#include "tessera/runtime.h"

namespace tessera::cli {
namespace {

struct RunOptions {
  RuntimeFlags runtime;
  std::string package;
  std::string prompt;
  std::string batch;
  std::string policy;    // --batch: the policy for "package": "auto"
  std::string activate;  // resident: comma-separated packages
  std::int32_t max_tokens = 64;
  std::int32_t clients = 1;
  bool raw = false;
  bool json = false;
};

void AddRunOptions(CLI::App* sub, RunOptions* o) {
  AddRuntimeFlags(sub, &o->runtime);
  sub->add_option("--clients", o->clients, "--batch: requests run by this many threads")
      ->check(CLI::Range(1, 64));
  sub->add_option("-n,--max-tokens", o->max_tokens,
                  "--raw and --batch: tokens to generate per request")
      ->check(CLI::Range(0, 4096));
  sub->add_option("--batch", o->batch,
                  "REQUESTS.jsonl: {\"package\", \"prompt\"} per line (\"package\": \"auto\" routes "
                  "through the policy)");
  sub->add_option("--policy", o->policy, "the policy for \"auto\" requests (ID[@VERSION])");
  sub->add_flag("--json", o->json, "machine-readable output");
}

Result<std::unique_ptr<Runtime>> OpenRuntime(const RunOptions& o) {
  return OpenRuntime(o.runtime, BatchEvents);
}

// --batch for both commands: the records (printed by `run`), then the summary.
int Batch(const RunOptions& o, bool print_records) {
  Result<std::vector<BatchRequest>> requests = ReadBatch(o.batch, o.max_tokens);
  if (!requests.ok()) return ReportError(requests.status());
  Result<std::unique_ptr<Runtime>> rt = OpenRuntime(o);
  if (!rt.ok()) return ReportError(rt.status());
  const auto t0 = std::chrono::steady_clock::now();
  std::unique_ptr<Orchestrator> orchestrator;
  if (std::any_of(requests->begin(), requests->end(),
                  [](const BatchRequest& r) { return r.package == "auto"; })) {
    OrchestratorOptions oo;
    oo.policy = o.policy;
    Result<std::unique_ptr<Orchestrator>> opened = Orchestrator::Open(**rt, oo);
    if (!opened.ok()) return ReportError(opened.status());
    orchestrator = std::move(opened).value();
  }
  std::vector<BatchRecord> records = RunBatch(**rt, orchestrator.get(), *requests, o.clients);
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

// --raw: the prompt as given, generated freely for -n tokens, streamed.
int RunRaw(Runtime& runtime, ModuleHandle m, SessionHandle s, const RunOptions& o,
           double acquire_ms) {
  GenerateOptions g;
  g.max_tokens = o.max_tokens;
  Result<GenerateResult> out = runtime.Generate(s, o.prompt, g, [&](const TokenEvent& t) {
    if (!o.json) {
      const std::string text = ForStream(t.text, stdout);
      std::fwrite(text.data(), 1, text.size(), stdout);
      std::fflush(stdout);
    }
    return true;
  });
  if (!out.ok()) return ReportError(out.status());
  const ModuleInfo info = runtime.Describe(m).value();
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

// The package answers under its contract (template, limits, sampling, type check, confidence).
// Exit status 3 when the answer fails its type: it is printed, but it is not an answer.
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
  if (o.raw) return RunRaw(runtime, *m, *s, o, acquire_ms);
  Result<SkillAnswer> a = runtime.Answer(*s, o.prompt);
  if (!a.ok()) return ReportError(a.status());
  const ModuleInfo info = runtime.Describe(*m).value();
  if (o.json) {
    nlohmann::ordered_json j;
    j["module"] = info.id + "@" + info.version;
    j["sha256"] = info.sha256;
    j["text"] = a->text;
    j["valid"] = a->valid;
    j["failure"] = a->valid ? nlohmann::ordered_json() : nlohmann::ordered_json(a->failure);
    j["stop_reason"] = a->stop_reason;
    j["measure"] = a->measure;
    j["confidence"] = a->confidence;
    j["mean_logprob"] = a->mean_logprob;
    j["min_logprob"] = a->min_logprob;
    j["min_margin"] = a->min_margin;
    j["prompt_tokens"] = a->prompt_tokens;
    j["output_tokens"] = a->output_tokens;
    j["acquire_ms"] = acquire_ms;
    j["answer_ms"] = a->seconds * 1e3;
    std::printf("%s\n", DumpJson(j).c_str());
  } else {
    std::printf("%s\n", ForStream(a->text, stdout).c_str());
    std::fflush(stdout);
    std::fprintf(stderr, "[%s@%s %.12s: %s %.3f, %d+%d tokens, loaded in %.1f ms, answered in %.1f ms]\n",
                 info.id.c_str(), info.version.c_str(), info.sha256.c_str(), a->measure.c_str(),
                 a->confidence, a->prompt_tokens, a->output_tokens, acquire_ms, a->seconds * 1e3);
    if (!a->valid) std::fprintf(stderr, "tessera: not a valid answer: %s\n", a->failure.c_str());
  }
  return a->valid ? 0 : 3;
}

}  // namespace

RunFn AddRun(CLI::App& app) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* run = app.add_subcommand(
      "run", "Generate with an installed package (or a batch of requests) under budgets");
  run->add_option("package", o->package, "ID[@VERSION]");
  run->add_option("prompt", o->prompt, "the request (the package's contract makes the prompt)");
  run->add_flag("--raw", o->raw, "the prompt as given, generated freely for -n tokens");
  AddRunOptions(run, o.get());
  CLI::App* resident = app.add_subcommand(
      "resident", "Show the resident set, budgets and counts after --batch or --activate");
  resident->add_option("--activate", o->activate,
                       "comma-separated ID[@VERSION]s made resident in one transaction");
  AddRunOptions(resident, o.get());
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
