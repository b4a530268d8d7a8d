// tessera ask "REQUEST" | ask --batch FILE.jsonl, tessera replay SEQ, tessera calibrate ID: the
// orchestrator (include/tessera/orchestrator.h) from the command line.
//
// Exit statuses: 0 every request answered with an accepted answer; 3 a request abstained, or
// was answered below its threshold (the answer is printed and said to be unconfident), or a
// replay differs; 1 an error (a bad request, a missing policy, ...); 2 usage.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "ask_output.h"
#include "base/printable.h"
#include "command.h"
#include "options.h"
#include "runtime_cli.h"
#include "tessera/orchestrator.h"

namespace tessera::cli {
namespace {

constexpr int kNotAnswered = 3;

struct AskFlags {
  RuntimeFlags runtime;
  std::string request;
  std::string batch;
  std::string policy;
  std::string request_id;
  bool explain = false;
  bool dry_run = false;
  bool json = false;
  bool sync = false;
  bool no_evidence = false;
  std::int64_t seq = 0;  // replay
  // calibrate
  std::string package;
  double target = 0.95;
  std::size_t limit = 0;
  std::vector<std::string> sets;
  std::string key;
  bool no_record = false;
};

Result<std::unique_ptr<Orchestrator>> OpenOrchestrator(Runtime& runtime, const AskFlags& f) {
  OrchestratorOptions o;
  o.policy = f.policy;
  o.sync_every_append = f.sync;
  o.record_evidence = !f.no_evidence;
  return Orchestrator::Open(runtime, o);
}

int StatusOf(const AskResult& r) {
  if (r.outcome == "answered" && r.accepted) return 0;
  if (r.outcome == "failed") return 1;
  return kNotAnswered;
}

int AskOne(Orchestrator& orchestrator, const AskFlags& f) {
  AskOptions options;
  options.dry_run = f.dry_run;
  options.request_id = f.request_id;
  Result<AskResult> r = orchestrator.Ask(f.request, options);
  if (!r.ok()) return ReportError(r.status());
  if (f.json) {
    std::printf("%s\n", DumpJson(AskJson(f.request_id, *r, /*with_decision=*/true)).c_str());
  } else if (f.explain || f.dry_run) {
    std::printf("%s", base::PrintableLines(r->explanation).c_str());
  } else if (r->outcome == "answered") {
    std::printf("%s\n", ForStream(r->answer, stdout).c_str());
  }
  if (!f.json) std::fprintf(stderr, "%s\n", base::PrintableLines(AskSummary(*r)).c_str());
  return f.dry_run ? 0 : StatusOf(*r);
}

int AskBatch(Orchestrator& orchestrator, const AskFlags& f,
             const std::vector<BatchAsk>& requests) {
  int worst = 0;
  std::size_t answered = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (const BatchAsk& b : requests) {
    AskOptions options;
    options.dry_run = f.dry_run;
    options.request_id = b.id;
    Result<AskResult> r = orchestrator.Ask(b.request, options);
    int status = 0;
    if (!r.ok()) {
      status = 1;
      std::printf("%s\n", DumpJson(AskErrorJson(b.id, r.status()), -1).c_str());
    } else {
      status = f.dry_run ? 0 : StatusOf(*r);
      answered += status == 0 ? 1 : 0;
      if (f.json) {
        std::printf("%s\n", DumpJson(AskJson(b.id, *r, /*with_decision=*/false), -1).c_str());
      } else {
        // One line per request, whatever the request id or answer holds.
        std::printf("%s\t%s\t%s\n", base::Printable(b.id).c_str(), r->outcome.c_str(),
                    base::Printable(r->outcome == "answered" ? r->answer : r->reason).c_str());
      }
    }
    if (status == 1) {
      worst = 1;  // an error outranks an abstention, whatever the order
    } else if (worst == 0) {
      worst = status;
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (f.dry_run) {
    std::fprintf(stderr, "ask: %zu requests planned (a dry run: nothing ran), %.2f s\n",
                 requests.size(), seconds);
  } else {
    std::fprintf(stderr, "ask: %zu of %zu requests answered with confidence, %.2f s\n", answered,
                 requests.size(), seconds);
  }
  return worst;
}

int RunAsk(const AskFlags& f) {
  if (f.batch.empty() == f.request.empty()) {
    return ReportError(InvalidArgument("ask: give one request, or --batch FILE.jsonl"));
  }
  // A bad request file is reported before anything is opened or loaded.
  std::vector<BatchAsk> requests;
  if (!f.batch.empty()) {
    Result<std::vector<BatchAsk>> read = ReadAskBatch(f.batch);
    if (!read.ok()) return ReportError(read.status());
    requests = std::move(read).value();
  }
  Result<std::unique_ptr<Runtime>> rt = OpenRuntime(f.runtime, {});
  if (!rt.ok()) return ReportError(rt.status());
  Result<std::unique_ptr<Orchestrator>> o = OpenOrchestrator(**rt, f);
  if (!o.ok()) return ReportError(o.status());
  return f.batch.empty() ? AskOne(**o, f) : AskBatch(**o, f, requests);
}

int RunReplay(const AskFlags& f) {
  Result<std::unique_ptr<Runtime>> rt = OpenRuntime(f.runtime, {});
  if (!rt.ok()) return ReportError(rt.status());
  Result<std::unique_ptr<Orchestrator>> o = OpenOrchestrator(**rt, f);
  if (!o.ok()) return ReportError(o.status());
  Result<ReplayResult> r = (*o)->Replay(f.seq);
  if (!r.ok()) return ReportError(r.status());
  if (f.json) {
    std::printf("%s\n", DumpJson(ReplayJson(*r)).c_str());
  } else {
    std::printf("replay of #%lld (as #%lld): %s answer, %s decision\n",
                static_cast<long long>(r->original), static_cast<long long>(r->replayed.evidence),
                r->same_answer ? "same" : "DIFFERENT", r->same_decision ? "same" : "DIFFERENT");
    for (const std::string& d : r->differences) {
      std::printf("  %s\n", base::Printable(d).c_str());
    }
  }
  return r->same_decision ? 0 : kNotAnswered;
}

int RunCalibrate(const AskFlags& f) {
  Result<std::unique_ptr<Runtime>> rt = OpenRuntime(f.runtime, {});
  if (!rt.ok()) return ReportError(rt.status());
  CalibrateOptions o;
  o.target_accuracy = f.target;
  o.limit = f.limit;
  o.sets = f.sets;
  o.key = f.key;
  o.record = !f.no_record;
  Result<CalibrateResult> r = Calibrate(**rt, f.package, o);
  if (!r.ok()) return ReportError(r.status());
  if (f.json) {
    std::printf("%s\n", DumpJson(CalibrateJson(*r)).c_str());
  } else {
    std::printf("%s", CalibrateText(*r).c_str());
  }
  return 0;
}

}  // namespace

RunFn AddAsk(CLI::App& app) {
  auto f = std::make_shared<AskFlags>();
  CLI::App* ask = app.add_subcommand(
      "ask", "Ask a question: the policy routes it, a module answers, the decision is evidence");
  ask->add_option("request", f->request, "the request, as you would say it");
  ask->add_option("--batch", f->batch,
                  "FILE.jsonl: {\"id\", \"request\"} per line (or \"prompt\"), one JSON result each");
  ask->add_option("--policy", f->policy, "the policy package (ID[@VERSION]); default: the only one");
  ask->add_option("--request-id", f->request_id, "an id kept in the evidence");
  ask->add_flag("--explain", f->explain, "print the decision: routers, candidates, steps, loads");
  ask->add_flag("--dry-run", f->dry_run,
                "route and plan only: what would run, load and be evicted (nothing is)");
  ask->add_flag("--json", f->json, "machine-readable output");
  ask->add_flag("--sync", f->sync, "fsync the evidence at every append (power-loss durable)");
  ask->add_flag("--no-evidence", f->no_evidence,
                "record nothing in the evidence ledger (for a read-only store)");
  AddRuntimeFlags(ask, &f->runtime);

  CLI::App* replay = app.add_subcommand(
      "replay", "Re-run the request of an evidence record; report whether the answer and the "
                "decision are identical");
  replay->add_option("seq", f->seq, "the evidence record (tessera evidence list)")->required();
  replay->add_option("--policy", f->policy, "the policy package (ID[@VERSION])");
  replay->add_flag("--json", f->json, "machine-readable output");
  AddRuntimeFlags(replay, &f->runtime);

  CLI::App* calibrate = app.add_subcommand(
      "calibrate", "Choose a module's confidence threshold on its eval sets; record it, signed");
  calibrate->add_option("package", f->package, "ID[@VERSION]")->required();
  calibrate->add_option("--target", f->target,
                        "accuracy the accepted answers must reach (default 0.95)");
  calibrate->add_option("--limit", f->limit, "cases per eval set (default: all)");
  calibrate->add_option("--set", f->sets,
                        "calibrate on this eval-set artifact only (repeatable; default: all)");
  calibrate->add_option("--key", f->key, "sign with <home>/keys/NAME.key (cascades ignore unsigned)");
  calibrate->add_flag("--no-record", f->no_record, "print only; append nothing to the ledger");
  calibrate->add_flag("--json", f->json, "machine-readable output");
  AddRuntimeFlags(calibrate, &f->runtime);
  return [=] {
    if (ask->parsed()) return RunAsk(*f);
    if (replay->parsed()) return RunReplay(*f);
    return RunCalibrate(*f);
  };
}

}  // namespace tessera::cli
