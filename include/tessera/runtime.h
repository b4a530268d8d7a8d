// Tessera runtime API: many installed skill packages, a few of them in memory, under budgets.
//
// Example (tests/runtime/example_test.cc runs this code; Fail() reports and returns 1):
//
//   tessera::RuntimeOptions options;
//   options.home = home;                            // the registry (tessera install ...)
//   options.budgets.host_bytes = 64'000'000;        // modules + sessions, measured bytes
//   options.budgets.max_active = 4;                 // K_active: modules resident at once
//   options.budgets.max_parallel = 1;               // K_parallel: modules generating at once
//   options.on_event = [](const tessera::RuntimeEvent& e) {  // loads, evictions, refusals
//     std::fprintf(stderr, "%s %s\n", std::string(e.kind_name()).c_str(), e.module.c_str());
//   };
//   auto runtime = tessera::Runtime::Open(options);
//   if (!runtime.ok()) return Fail(runtime.status());
//   tessera::Runtime& rt = **runtime;
//
//   // A lease on the package's current version, loaded (evicting idle modules) if needed and
//   // unevictable until released. A plan that cannot fit fails here, before allocating.
//   auto module = rt.Acquire("dev.tessera.skills.date");
//   if (!module.ok()) return Fail(module.status());    // kResourceExhausted names why
//   auto session = rt.OpenSession(*module);             // KV charged to the budget first
//   if (!session.ok()) return Fail(session.status());
//   if (auto s = rt.Release(*module); !s.ok()) return Fail(s);  // the session has its own lease
//   tessera::GenerateOptions g;
//   g.max_tokens = 16;
//   auto out = rt.Generate(*session, "date: March 3, 2021\n", g,
//                          [](const tessera::TokenEvent& t) {  // streamed as generated
//                            std::fwrite(t.text.data(), 1, t.text.size(), stdout);
//                            return true;                      // false cancels
//                          });
//   if (!out.ok()) return Fail(out.status());           // out->text == "2021-03-03"
//   if (auto s = rt.CloseSession(*session); !s.ok()) return Fail(s);  // frees KV, the lease
//   auto stale = rt.Generate(*session, "date: 1/2/2003\n", g);  // kFailedPrecondition: stale
//
// Handles. ModuleHandle and SessionHandle are opaque ids with generation counters: once
// released or closed, a handle is stale and every call with it returns kFailedPrecondition
// naming it; it never reaches freed memory.
//
// Three planes, reset separately: a session's transcript (the turns the user saw:
// Transcript, ClearTranscript), its generation context (tokens and KV: ResetContext) and
// residency (which modules are in memory: Evict, Activate, RollbackToKnownGood).
//
// Thread safety: every method may be called from any thread. One session generates on one
// thread at a time (a second concurrent Generate on the same session is kFailedPrecondition).
// Loading a module never blocks requests for modules already resident.
#ifndef TESSERA_RUNTIME_H_
#define TESSERA_RUNTIME_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/engine.h"
#include "tessera/status.h"

namespace tessera {

// 0 means unlimited for every field but queue_timeout_ms.
//
// The host budget holds at every instant: a load that must evict frees its victims first (and
// loads them again if it fails), and a load is charged one session of its module (its smoke
// check runs one). A request that does not fit now, but would once other requests' leases,
// sessions and loads end, waits up to queue_timeout_ms in a fair FIFO queue (then
// kUnavailable, with a retry hint); only a request that can never fit is refused at once
// (kResourceExhausted). A thread that holds a lease and asks for more than fits beside it waits
// for itself until the deadline: release what you hold first, or use a short timeout.
struct RuntimeBudgets {
  std::uint64_t host_bytes = 0;    // modules (mapped weights, copies) + sessions (KV, buffers)
  std::uint64_t device_bytes = 0;  // a device backend's memory; the CPU backend charges none
  std::uint64_t kv_bytes = 0;      // every session's KV cache together
  std::int32_t max_active = 0;     // K_active: modules resident
  std::int32_t max_parallel = 0;   // K_parallel: modules generating at once
  std::int32_t max_sessions = 0;
  std::int64_t min_residence_ms = 0;  // not evicted to make room before this age
  // Waiting for memory, a session's room or a K_parallel slot, each; then kUnavailable.
  std::int64_t queue_timeout_ms = 30'000;
  // true: a load's victims stay in memory until it commits (a failed load costs nothing, but
  // the peak is the old set plus the modules loading: up to a module over host_bytes).
  bool overlap_loads = false;
};

enum class RuntimeEventKind : std::uint8_t {
  kLoaded,        // a module became resident
  kLoadFailed,    // a load or its smoke check failed; the resident set is as before
  kEvicted,       // a module left the resident set
  kRefused,       // a plan could not fit; nothing was allocated
  kRolledBack,    // the known-good set was restored, or a failed upgrade fell back
  kQueueTimeout,  // a request waited for a K_parallel slot past its deadline
  kActive,        // a module's first lease was taken
  kIdle,          // a module's last lease was released
};

struct RuntimeEvent {
  RuntimeEventKind kind = RuntimeEventKind::kLoaded;
  std::string module;  // "id@version"
  double seconds = 0;  // how long it took (loads, queue waits)
  std::uint64_t host_bytes = 0;
  std::uint64_t device_bytes = 0;
  std::string detail;  // the reason or the error
  // "loaded", "load_failed", "evicted", "refused", "rolled_back", "queue_timeout", "active",
  // "idle".
  std::string_view kind_name() const;
};

struct RuntimeOptions {
  std::string home;  // the registry's home; empty: $TESSERA_HOME or the XDG data directory
  RuntimeBudgets budgets;
  std::int32_t n_threads = 0;  // compute threads shared by every module; 0 = every core
  // ModelOptions::pack_weights of every model the runtime loads. A module's host charge is then
  // its file's bytes less the pages the packed copies replaced, plus the heap its load grew by
  // (which holds the copies): about the file's size either way (docs/adr/0023-packed-weights.md).
  bool pack_weights = true;
  std::function<void(const RuntimeEvent&)> on_event;  // from any thread; must not call back
};

struct ModuleHandle {
  std::uint64_t id = 0;
  friend bool operator==(const ModuleHandle&, const ModuleHandle&) = default;
};
struct SessionHandle {
  std::uint64_t id = 0;
  friend bool operator==(const SessionHandle&, const SessionHandle&) = default;
};

struct ModuleInfo {
  std::string id;
  std::string version;
  std::string kind;    // "model" or "adapter"
  std::string sha256;  // of the primary artifact (the GGUF or the adapter GGUF)
  std::string base;    // adapters: "id@version" of the base model
  std::string description;
};

struct Turn {
  std::string prompt;
  std::string response;
};

// A skill's answer under its package's contract (manifest v2, docs/formats/package.md §2.6).
struct SkillAnswer {
  std::string text;     // the answer (an enum output: the winning label)
  bool valid = false;   // passed the contract's output type and, for a typed output (enum,
                        // number, json, text with a pattern), ended before max_output_tokens
  std::string failure;  // why not valid, e.g. "\"0521-05-05\" does not match the pattern ..."
  std::string stop_reason;         // StopReasonName(), or "labels" for an enum output
  std::int32_t prompt_tokens = 0;  // the prompt after the template, BOS included
  std::int32_t output_tokens = 0;  // generated tokens (EOS included), or the label's + EOS
  // The contract's confidence measure: "mean-token-logprob", "min-token-logprob", "none", or
  // "label-probability" for an enum output (its labels are scored, not generated: the answer is
  // always a label, and the confidence is the log of its softmax probability over the labels).
  std::string measure;
  double confidence = 0;    // the measure's value: a natural log-probability, <= 0 (0: "none")
  double mean_logprob = 0;  // of the answer's tokens (EOS included)
  double min_logprob = 0;
  double min_margin = 0;    // smallest gap, in nats, between a chosen token and the best other
  double seconds = 0;
};

// A classifier's scores over its labels (a module whose contract output is an enum).
struct LabelScores {
  std::vector<std::string> labels;    // the contract's labels, in its order
  std::vector<double> logprobs;       // log-probability of each label's tokens + EOS
  std::vector<double> probabilities;  // softmax of logprobs over the labels
  std::int32_t prompt_tokens = 0;
  std::int32_t scored_tokens = 0;     // every label's tokens together
  double seconds = 0;
};

// A footprint: shared artifacts (mapped once, however many modules use them) + private bytes +
// per session.
struct FootprintInfo {
  bool measured = false;
  std::uint64_t artifact_bytes = 0;
  std::uint64_t private_bytes = 0;
  std::uint64_t kv_bytes_per_token = 0;
  std::uint64_t session_bytes = 0;
};

struct ResidentModuleInfo {
  std::string module;  // "id@version"
  std::string sha256;
  // "resident", "loading", "evicting" (leaving when a load commits: overlap_loads) or
  // "released" (freed before a load, back if the load fails).
  std::string state;
  std::int32_t leases = 0;
  std::int32_t sessions = 0;
  std::int32_t generating = 0;
  bool pinned = false;
  double soft_pin_seconds = 0;  // remaining
  double resident_seconds = 0;
  double idle_seconds = 0;
  std::uint64_t uses = 0;
  std::uint64_t kv_bytes = 0;
  FootprintInfo estimate;
  FootprintInfo measured;
};

struct RuntimeReport {
  RuntimeBudgets budgets;
  std::uint64_t host_bytes = 0;  // in use
  std::uint64_t device_bytes = 0;
  std::uint64_t kv_bytes = 0;
  std::int32_t n_total = 0;     // packages installed (usable)
  std::int32_t k_active = 0;    // modules resident
  std::int32_t k_parallel = 0;  // modules generating now
  std::int32_t queued = 0;      // requests waiting for a K_parallel slot
  std::int32_t admitting = 0;   // requests waiting for memory
  std::int32_t sessions = 0;
  std::string policy;  // the eviction policy's name
  std::vector<ResidentModuleInfo> modules;
  std::vector<std::string> known_good;  // "id@version sha256"
  std::uint64_t hits = 0, loads = 0, coalesced = 0, evictions = 0, refusals = 0, load_failures = 0,
                queue_timeouts = 0;
  // Loads undone because they measured more than their plan assumed, whose requests then
  // planned again with the measurements (counted in load_failures too).
  std::uint64_t replans = 0;
  // Requests that waited for memory, how many of them gave up at their deadline, and the
  // waits' total.
  std::uint64_t admission_waits = 0, admission_timeouts = 0;
  double admission_wait_seconds = 0;
  // Victims loaded again after a failed load, those that could not be, and what it cost.
  std::uint64_t restores = 0, restore_failures = 0;
  double restore_seconds = 0;
};

class Runtime {
 public:
  // Opens the registry at options.home. Errors: the registry's (kIoError, ...).
  static Result<std::unique_ptr<Runtime>> Open(RuntimeOptions options);
  // Every session must be closed and every module handle released first (checked).
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // Leases the module of `ref` ("id": the current version, or "id@version"), loading it first
  // when it is not resident. An adapter's module is its base model plus the adapter (the base's
  // weights are mapped once for every module that uses them). Errors: kNotFound (not
  // installed), kFailedPrecondition (suspended, retired, quarantined), kResourceExhausted (the
  // plan cannot fit: what is needed, what is free, why nothing could be evicted), the load's or
  // smoke check's error. When a version fails to load or fails its smoke check and a known-good
  // version exists (rollback.known_good, or the one in the known-good set), the runtime
  // suspends the failed version in the registry, loads the known-good one, reports
  // kRolledBack and returns that module.
  Result<ModuleHandle> Acquire(std::string_view ref);
  Status Release(ModuleHandle module);
  Result<ModuleInfo> Describe(ModuleHandle module) const;

  // Makes every package of `refs` resident in one transaction: all of them or none.
  Status Activate(std::span<const std::string> refs);
  // Residency controls of a resident module ("id" or "id@version").
  Status Evict(std::string_view ref);
  Status Pin(std::string_view ref, bool pinned);
  Status SoftPin(std::string_view ref, std::int64_t duration_ms);

  // A session on the leased module (it takes a lease of its own). Its KV cache and buffers are
  // charged to the budgets before they are allocated.
  Result<SessionHandle> OpenSession(ModuleHandle module);
  Status CloseSession(SessionHandle session);
  // Generates on the session's module once it has a K_parallel slot (kUnavailable with a retry
  // hint when none frees in time). Otherwise as tessera::Session::Generate; the prompt and the
  // response are appended to the transcript.
  Result<GenerateResult> Generate(SessionHandle session, std::string_view prompt,
                                  const GenerateOptions& options,
                                  const TokenCallback& on_token = {},
                                  const CancellationToken* cancel = nullptr);
  // The session's module answers `input` under its package's contract: surrounding white space
  // is trimmed and the contract's prompt template applied (v1 packages: the input is the
  // prompt, as given), the contract's sampling and max_output_tokens used, the answer checked
  // against the output type, and the confidence measure reported. An enum output is answered
  // by ScoreLabels. The context is reset first (each answer stands alone); the turn goes to
  // the transcript. An answer that fails its type is OK with valid == false: a failure the
  // caller reacts to. Errors: kInvalidArgument (empty input), kInvalidUtf8, kOutOfRange (the
  // prompt is longer than the contract's max_input_tokens, naming both; or the input does not
  // match the contract's input pattern: outside the skill's declared domain), kUnavailable (no
  // K_parallel slot), the engine's.
  Result<SkillAnswer> Answer(SessionHandle session, std::string_view input,
                             const CancellationToken* cancel = nullptr);
  // Scores every label of the module's enum contract after `input` (template applied, as
  // Answer): each label's tokens + EOS, teacher-forced, the prompt evaluated once
  // (Session::ScoreChoices). Errors: as Answer; kFailedPrecondition when the contract's output
  // is not an enum.
  Result<LabelScores> ScoreLabels(SessionHandle session, std::string_view input);
  // The mean of the module's final normed hidden states over `text` (BOS included when the
  // vocabulary adds one; no template): Session::Embed. Errors: kInvalidArgument (empty),
  // kInvalidUtf8, kOutOfRange (longer than the context).
  Result<std::vector<float>> Embed(SessionHandle session, std::string_view text);

  // The generation context: forgets tokens and KV, keeps the transcript.
  Status ResetContext(SessionHandle session);
  Result<std::vector<Turn>> Transcript(SessionHandle session) const;
  Status ClearTranscript(SessionHandle session);

  // Records the resident modules (exact versions and sha256) as the known-good set.
  void RecordKnownGood();
  // Makes the resident set the known-good set again (leased or pinned modules stay).
  Status RollbackToKnownGood();

  RuntimeReport Report() const;

  struct Impl;

 private:
  friend struct RuntimeAccess;  // src/runtime: the orchestrator's access to the internals
  explicit Runtime(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tessera

#endif  // TESSERA_RUNTIME_H_
