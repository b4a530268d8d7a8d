// Tessera orchestration API: a request goes in, a signed policy decides which module answers
// and why, and every decision leaves evidence that can be read, verified and replayed.
//
// Example (tests/runtime/orchestrator_example_test.cc runs this code; Fail() reports and
// returns 1):
//
//   tessera::RuntimeOptions options;
//   options.home = home;                                  // packages and a policy installed
//   auto runtime = tessera::Runtime::Open(options);
//   if (!runtime.ok()) return Fail(runtime.status());
//   tessera::OrchestratorOptions o;                       // o.policy empty: the one installed
//   auto orchestrator = tessera::Orchestrator::Open(**runtime, o);  // routers loaded, pinned
//   if (!orchestrator.ok()) return Fail(orchestrator.status());
//   auto answer = (*orchestrator)->Ask("convert 250 g to kg");
//   if (!answer.ok()) return Fail(answer.status());       // a bad request: empty, too long
//   if (answer->outcome == "answered" && answer->accepted) {
//     std::printf("%s by %s\n", answer->answer.c_str(), answer->module.c_str());  // "0.25 by ..."
//   } else {
//     std::printf("no answer: %s\n", answer->reason.c_str());  // abstained, and why
//   }
//   std::printf("%s", answer->explanation.c_str());       // routers, candidates, steps, loads
//   auto replay = (*orchestrator)->Replay(answer->evidence);  // the same answer and decision?
//   if (!replay.ok()) return Fail(replay.status());
//   if (!replay->same_decision) return 1;
//
// What a request goes through (src/orchestrator/orchestrate.h has the rules in full):
// validation (empty, over 64 KiB, invalid UTF-8: errors), routers in the policy's order (rules,
// a classifier that scores every label, nearest exemplars; each may route, say "out of domain",
// or abstain), eligibility of the route's candidates (installed and verified, licence,
// capabilities, input type, fits the budgets), ranking by cost (residency-aware, with
// hysteresis), and a cascade that escalates while an answer is invalid or below its
// calibrated threshold, bounded by steps, wall time and bytes to load. Abstaining is an
// outcome: the answer says so and why.
//
// Evidence: one record per request in the ledger <home>/evidence.db (append-only, hash-chained:
// `tessera evidence verify`), with the policy's id, version and manifest sha256, every router's
// scores, every candidate with its exclusion reason, every step's module and artifact sha256,
// loads and evictions, and the outcome.
//
// Thread safety: Ask and Replay may be called from any thread; an Orchestrator runs one request
// at a time (callers on other threads wait). A runtime may serve several orchestrators, but
// pins are not counted: closing one unpins the router modules it pinned, even if another
// orchestrator on the same runtime routes with them too.
#ifndef TESSERA_ORCHESTRATOR_H_
#define TESSERA_ORCHESTRATOR_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/runtime.h"
#include "tessera/status.h"

namespace tessera {

struct OrchestratorOptions {
  // "id" or "id@version" of an installed policy package; empty: the one installed policy
  // (kFailedPrecondition naming them when there are several, kNotFound when none).
  std::string policy;
  bool record_evidence = true;  // append each decision to <home>/evidence.db
  bool sync_every_append = false;  // evidence durable against power loss (SQLite FULL), slower
};

struct AskOptions {
  bool dry_run = false;    // route and plan; load, evict and run nothing; record nothing
  std::string request_id;  // kept in the evidence; empty: none
};

// One module invocation of the cascade.
struct AskStep {
  std::string module;  // "id@version"
  std::string sha256;
  std::string answer;
  bool valid = false;
  bool accepted = false;
  double confidence = 0;
  double threshold = 0;
  std::string verdict;  // why accepted or not, or the error
  std::int32_t prompt_tokens = 0;
  std::int32_t output_tokens = 0;
  std::uint64_t parameters = 0;
};

struct AskResult {
  std::string outcome;  // "answered", "abstained", "failed"; "dry_run" for a dry run
  bool accepted = false;  // the answer reached its module's threshold
  std::string answer;
  std::string route;   // "" when no router chose one
  std::string module;  // who answered: "id@version"
  std::string sha256;  // of its weights (an adapter: of the adapter file)
  double confidence = 0;
  std::string measure;
  std::string reason;      // why this outcome, one sentence
  std::string stopped_by;  // "", "max_steps", "max_wall_ms", "max_load_bytes"
  std::string plan;        // a dry run: what would run, load and be evicted
  std::vector<AskStep> steps;
  std::string router;            // the router that decided ("" when none did)
  double router_confidence = 0;
  double router_margin = 0;
  std::int32_t router_tokens = 0;       // tokens the routers' models evaluated
  std::uint64_t router_parameters = 0;  // of the deciding router's model (0 for rules)
  std::int64_t evidence = 0;     // the ledger record's seq; 0 when none was written
  std::string decision_json;     // the whole decision: the evidence record's body
  std::string explanation;       // for people: what `tessera ask --explain` prints
  double seconds = 0;
};

struct ReplayResult {
  std::int64_t original = 0;  // the replayed record's seq
  bool same_answer = false;
  bool same_decision = false;  // routing, every step and the outcome identical
  std::vector<std::string> differences;  // JSON Pointers where the decisions differ, and why
  AskResult replayed;
};

class Orchestrator {
 public:
  // Reads the policy package (verified bytes), prepares its routers (their modules are loaded
  // and pinned, so routing never evicts the candidates it routes to; exemplars embedded) and
  // opens the evidence ledger. Errors: kNotFound (no such policy), kFailedPrecondition (several
  // policies, or not usable), the policy's and the routers' errors (a router module missing,
  // kIncompatible for a classifier whose labels the policy does not map).
  static Result<std::unique_ptr<Orchestrator>> Open(Runtime& runtime, OrchestratorOptions options);
  ~Orchestrator();
  Orchestrator(const Orchestrator&) = delete;
  Orchestrator& operator=(const Orchestrator&) = delete;

  // One request through the policy. Errors only for a bad request (kInvalidArgument: empty;
  // kOutOfRange: over 64 KiB; kInvalidUtf8) or a ledger that cannot be written; every other
  // outcome, abstaining included, is an AskResult.
  Result<AskResult> Ask(std::string_view request, const AskOptions& options = {});

  // Re-runs the request of evidence record `seq` under the same policy and reports whether the
  // answer and the decision are identical. kNotFound (no such record), kFailedPrecondition
  // (not a decision, or recorded under another policy or policy bytes than this one's).
  Result<ReplayResult> Replay(std::int64_t seq);

  const std::string& policy() const;         // "id@version"
  const std::string& policy_sha256() const;  // of its manifest

  struct Impl;

 private:
  explicit Orchestrator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Calibration (`tessera calibrate`): the module's eval sets answered under its contract, its
// confidence threshold chosen so that the answers it accepts are right at least `target` of
// the time, recorded as signed evidence (kind "calibration") that cascades then use.
struct CalibrateOptions {
  double target_accuracy = 0.95;  // in (0, 1]
  std::size_t limit = 0;          // cases per eval set; 0: all
  std::vector<std::string> sets;  // names of the eval-set artifacts to use; empty: every one
  std::string key;                // signing key name in <home>/keys; empty: unsigned (ignored
                                  // by cascades, shown by `evidence show`)
  bool record = true;             // append the calibration to the ledger
};

struct CalibrationPoint {
  double threshold = 0;
  double coverage = 0;
  double accuracy = 0;
};

struct CalibrateResult {
  std::string module;  // "id@version"
  std::string sha256;
  std::string measure;
  double target = 0;
  double threshold = 0;
  bool reached = false;
  double coverage = 0;
  double accuracy = 0;      // of the accepted answers
  double accuracy_all = 0;  // of every answer
  std::uint64_t cases = 0;
  std::vector<std::string> eval_sets;  // the names of the eval-set artifacts it ran on
  std::vector<CalibrationPoint> curve;
  std::int64_t evidence = 0;
  std::string signer;  // key id, "" when unsigned
  double seconds = 0;
};

// Errors: kNotFound (package, or it ships no eval set), kInvalidArgument (target), the
// eval sets' format errors naming the line, the runtime's.
Result<CalibrateResult> Calibrate(Runtime& runtime, std::string_view ref,
                                  const CalibrateOptions& options = {});

}  // namespace tessera

#endif  // TESSERA_ORCHESTRATOR_H_
