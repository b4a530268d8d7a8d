// tessera::Orchestrator (include/tessera/orchestrator.h): the policy package, its routers, the
// evidence ledger, and requests through them.
#include "tessera/orchestrator.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>

#include "base/sha256.h"
#include "evidence/ledger.h"
#include "evidence/record_rules.h"
#include "orchestrator/decision_json.h"
#include "orchestrator/explain.h"
#include "orchestrator/orchestrate.h"
#include "package/file_io.h"
#include "package/policy.h"
#include "runtime/calibration_record.h"
#include "runtime/orchestrator_backend.h"
#include "runtime/runtime_access.h"
#include "tessera/version.h"

namespace tessera {
namespace {

using Json = nlohmann::json;

// The bytes of artifact `name` of `m`, checked against its recorded sha256.
Result<std::string> ReadArtifact(registry::Registry& store, const package::Manifest& m,
                                 const std::string& name, std::uint64_t limit) {
  const package::Artifact* a = m.FindArtifact(name);
  if (a == nullptr) return NotFound("orchestrator: " + m.id + " has no artifact " + name);
  TS_ASSIGN_OR_RETURN(std::vector<std::uint8_t> bytes,
                      package::ReadSmallFile(store.BlobPath(a->sha256), limit));
  if (base::Sha256Hex(bytes) != a->sha256) {
    return Status(StatusCode::kIntegrity, "orchestrator: the stored bytes of " + m.id + "'s " +
                                              name + " do not match their sha256 (run tessera "
                                              "verify)");
  }
  return std::string(bytes.begin(), bytes.end());
}

// The policy package `ref`, or the only one installed.
Result<registry::PackageRecord> FindPolicy(registry::Registry& store, const std::string& ref) {
  if (!ref.empty()) {
    const std::size_t at = ref.find('@');
    TS_ASSIGN_OR_RETURN(registry::PackageRecord r,
                        store.Show(ref.substr(0, at), at == std::string::npos ? "" : ref.substr(at + 1)));
    if (r.kind != "policy") {
      return Status(StatusCode::kFailedPrecondition,
                    "orchestrator: " + r.id + "@" + r.version + " is a " + r.kind + ", not a policy");
    }
    return r;
  }
  TS_ASSIGN_OR_RETURN(std::vector<registry::PackageRecord> all, store.List());
  std::vector<std::string> ids;
  for (const registry::PackageRecord& r : all) {
    if (r.kind == "policy" && registry::IsUsable(r.state) &&
        std::find(ids.begin(), ids.end(), r.id) == ids.end()) {
      ids.push_back(r.id);
    }
  }
  if (ids.empty()) {
    return NotFound("orchestrator: no policy package is installed (scripts/bootstrap installs "
                    "dev.tessera.policy.skills; or name one with --policy)");
  }
  if (ids.size() > 1) {
    std::string names;
    for (const std::string& id : ids) names += (names.empty() ? "" : ", ") + id;
    return Status(StatusCode::kFailedPrecondition,
                  "orchestrator: several policies are installed (" + names + "): name one");
  }
  return store.Show(ids.front(), "");
}

// JSON text; invalid UTF-8 in a model's output is replaced (U+FFFD), never a throw.
std::string Dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

// A request id is an evidence subject: the ledger's rule, checked before anything runs.
Status CheckRequestId(std::string_view id) { return evidence::ValidateText("request id", id); }

std::string Sha256Of(std::string_view text) {
  return base::Sha256Hex(std::span<const std::uint8_t>(
      reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

}  // namespace

struct Orchestrator::Impl {
  Runtime* runtime = nullptr;
  registry::PackageRecord record;
  package::Manifest manifest;
  package::Policy policy;
  std::string policy_key;
  std::string policy_artifact_sha256;
  std::vector<orchestrator::PreparedRouter> routers;
  std::unique_ptr<evidence::Ledger> ledger;
  std::unique_ptr<runtime::LedgerThresholds> thresholds;
  // Kept across requests: candidates' manifests are read and parsed once per version.
  std::unique_ptr<runtime::RuntimeBackend> backend;
  OrchestratorOptions options;
  std::mutex mu;  // one request at a time: guards `backend` (its caches)

  Json PolicyJson() const {
    return {{"id", record.id},
            {"version", record.version},
            {"manifest_sha256", record.manifest_sha256},
            {"artifact_sha256", policy_artifact_sha256}};
  }
  // `plan`: a replay's recorded modules, forced again where they are still eligible.
  Result<AskResult> Run(std::string_view request, const AskOptions& options, std::int64_t replay_of,
                        std::vector<orchestrator::ForcedStep> plan = {});
};

Orchestrator::Orchestrator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Orchestrator::~Orchestrator() {
  // The routers' pins go with the orchestrator (a runtime outlives it, and may open another).
  for (const orchestrator::PreparedRouter& r : impl_->routers) {
    if (!r.module.id.empty()) (void)impl_->runtime->Pin(r.module.key(), false);
  }
}

const std::string& Orchestrator::policy() const { return impl_->policy_key; }
const std::string& Orchestrator::policy_sha256() const { return impl_->record.manifest_sha256; }

Result<std::unique_ptr<Orchestrator>> Orchestrator::Open(Runtime& runtime,
                                                         OrchestratorOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->runtime = &runtime;
  impl->options = options;
  Runtime::Impl& rt = RuntimeAccess::Get(runtime);
  std::string home;
  bool read_only = false;
  registry::TrustPolicy trust;
  std::string policy_text;
  {
    std::lock_guard<std::mutex> lock(rt.registry_mu);
    registry::Registry& store = *rt.registry;
    home = store.home();
    read_only = store.read_only();
    TS_ASSIGN_OR_RETURN(impl->record, FindPolicy(store, options.policy));
    const registry::PackageRecord& r = impl->record;
    if (!registry::IsUsable(r.state)) {
      return Status(StatusCode::kFailedPrecondition,
                    "orchestrator: policy " + r.id + "@" + r.version + " is " +
                        std::string(registry::StateName(r.state)));
    }
    TS_ASSIGN_OR_RETURN(impl->manifest, store.LoadManifest(r));
    const package::Artifact& doc = impl->manifest.primary_artifact();
    TS_ASSIGN_OR_RETURN(policy_text,
                        ReadArtifact(store, impl->manifest, doc.name, package::kMaxPolicyBytes));
    impl->policy_artifact_sha256 = doc.sha256;
    TS_ASSIGN_OR_RETURN(trust, store.Trust());
  }
  impl->policy_key = impl->record.id + "@" + impl->record.version;
  Result<package::Policy> policy = package::ParsePolicy(policy_text);
  if (!policy.ok()) return policy.status().WithContext("orchestrator: " + impl->policy_key);
  impl->policy = std::move(policy).value();
  if (read_only && options.record_evidence) {
    return Status(StatusCode::kFailedPrecondition,
                  "orchestrator: the store at " + home +
                      " is read-only, so decisions cannot be recorded in its evidence ledger; "
                      "answer without recording (tessera ask --no-evidence) or use a writable "
                      "store");
  }
  evidence::LedgerOptions lo;
  lo.sync = options.sync_every_append ? evidence::SyncMode::kFull : evidence::SyncMode::kNormal;
  lo.read_only = read_only;  // calibrations are still read from it
  Result<std::unique_ptr<evidence::Ledger>> ledger =
      evidence::Ledger::Open(evidence::LedgerPath(home), lo);
  if (read_only && !ledger.ok() && ledger.status().code() == StatusCode::kNotFound) {
    ledger = std::unique_ptr<evidence::Ledger>();  // no ledger there: no calibrations
  }
  TS_ASSIGN_OR_RETURN(impl->ledger, std::move(ledger));
  impl->thresholds = std::make_unique<runtime::LedgerThresholds>(impl->ledger.get(), trust);
  Impl* raw = impl.get();
  auto exemplars = [raw, &rt](const std::string& name) -> Result<std::vector<package::Exemplar>> {
    std::string text;
    {
      std::lock_guard<std::mutex> lock(rt.registry_mu);
      TS_ASSIGN_OR_RETURN(text, ReadArtifact(*rt.registry, raw->manifest, name,
                                             package::kMaxExemplarBytes));
    }
    return package::ParseExemplars(text);
  };
  impl->backend = std::make_unique<runtime::RuntimeBackend>(runtime);
  Result<std::vector<orchestrator::PreparedRouter>> routers =
      orchestrator::PrepareRouters(impl->policy, *impl->backend, *impl->thresholds, exemplars);
  if (!routers.ok()) return routers.status().WithContext("orchestrator: " + impl->policy_key);
  impl->routers = std::move(routers).value();
  // The routers' own modules are resident and pinned: routing never loads, and never evicts
  // the candidates it routes to.
  std::vector<std::string> pinned;
  for (const orchestrator::PreparedRouter& r : impl->routers) {
    if (r.module.id.empty()) continue;
    const std::string key = r.module.key();
    Status st = runtime.Activate(std::span<const std::string>(&key, 1));
    if (st.ok()) st = runtime.Pin(key, true);
    if (!st.ok()) {
      for (const std::string& k : pinned) (void)runtime.Pin(k, false);
      return st.WithContext("orchestrator: router module " + key);
    }
    pinned.push_back(key);
  }
  return std::unique_ptr<Orchestrator>(new Orchestrator(std::move(impl)));
}

Result<AskResult> Orchestrator::Ask(std::string_view request, const AskOptions& options) {
  return impl_->Run(request, options, 0);
}

Result<AskResult> Orchestrator::Impl::Run(std::string_view request, const AskOptions& ask,
                                          std::int64_t replay_of,
                                          std::vector<orchestrator::ForcedStep> plan) {
  std::lock_guard<std::mutex> lock(mu);
  const auto t0 = std::chrono::steady_clock::now();
  TS_RETURN_IF_ERROR(CheckRequestId(ask.request_id));
  orchestrator::OrchestrateOptions o;
  o.dry_run = ask.dry_run;
  o.forced = std::move(plan);
  Result<orchestrator::Decision> decided =
      orchestrator::Orchestrate(policy, routers, *backend, *thresholds, request, o);
  const bool record_it = options.record_evidence && !ask.dry_run;
  if (!decided.ok()) {
    if (record_it) {  // a refused request is a decision too: what arrived, and why not
      Json body = {{"request",
                    {{"id", ask.request_id}, {"bytes", request.size()}, {"sha256", Sha256Of(request)}}},
                   {"policy", PolicyJson()},
                   {"error", {{"code", std::string(CodeName(decided.status().code()))},
                              {"message", decided.status().message()}}}};
      (void)ledger->Append("refusal", ask.request_id, Dump(body));
    }
    return decided.status();
  }
  const orchestrator::Decision& d = *decided;
  Json body = orchestrator::DecisionJson(d);
  body["request"] = {{"id", ask.request_id}, {"text", d.request}, {"bytes", d.request.size()},
                     {"sha256", Sha256Of(d.request)}};
  body["policy"] = PolicyJson();
  body["runtime_version"] = std::string(kRuntimeVersion);
  if (replay_of != 0) body["replay_of"] = replay_of;
  if (ask.dry_run) body["outcome"]["outcome"] = "dry_run";
  AskResult out;
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  body["observed"]["seconds"] = out.seconds;
  if (record_it) {
    TS_ASSIGN_OR_RETURN(evidence::Record rec,
                        ledger->Append("decision", ask.request_id, Dump(body)));
    out.evidence = rec.seq;
  }
  out.outcome = ask.dry_run ? "dry_run" : std::string(orchestrator::OutcomeName(d.outcome));
  out.accepted = d.accepted;
  out.answer = d.answer;
  out.route = d.route;
  out.module = d.module;
  out.sha256 = d.module_sha256;
  out.confidence = d.confidence;
  out.measure = d.measure;
  out.reason = d.reason;
  out.stopped_by = d.stopped_by;
  out.plan = d.plan;
  for (const orchestrator::StepRecord& s : d.steps) {
    out.steps.push_back({s.module, s.sha256, s.answer.text, s.answer.valid, s.accepted,
                         s.answer.confidence, s.threshold, s.verdict, s.answer.prompt_tokens,
                         s.answer.output_tokens, s.parameters});
  }
  for (const orchestrator::RouterOutcome& r : d.routers) {
    out.router_tokens += r.tokens;
    if (r.verdict == orchestrator::Verdict::kRoute ||
        r.verdict == orchestrator::Verdict::kOutOfDomain) {
      out.router = r.router;
      out.router_confidence = r.confidence;
      out.router_margin = r.margin;
    }
    out.router_parameters = std::max(out.router_parameters, r.parameters);
  }
  out.decision_json = Dump(body);
  out.explanation = orchestrator::ExplainDecision(
      d, {policy_key, record.manifest_sha256, out.evidence});
  return out;
}

namespace {

// Members of a record body read without trusting its shape (the ledger holds any JSON object).
std::string StrOr(const Json& j, const char* key, const std::string& fallback) {
  if (!j.is_object()) return fallback;
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : fallback;
}
const Json& MemberOr(const Json& j, const char* key) {
  static const Json* const kNull = new Json();  // an immutable null, for absent members
  if (!j.is_object()) return *kNull;
  auto it = j.find(key);
  return it != j.end() ? *it : *kNull;
}

// The module each step of a recorded decision ran, to be forced again by a replay.
std::vector<orchestrator::ForcedStep> RecordedPlan(const Json& body) {
  std::vector<orchestrator::ForcedStep> plan;
  const Json& steps = MemberOr(body, "steps");
  if (!steps.is_array()) return plan;
  for (const Json& s : steps) {
    const Json& step = MemberOr(s, "step");
    if (!step.is_number_integer()) continue;
    plan.push_back({StrOr(s, "route", ""), step.get<std::int32_t>(), StrOr(s, "module", "")});
  }
  return plan;
}

}  // namespace

Result<ReplayResult> Orchestrator::Replay(std::int64_t seq) {
  if (impl_->ledger == nullptr) {
    return Status(StatusCode::kNotFound, "replay: the store has no evidence ledger");
  }
  TS_ASSIGN_OR_RETURN(evidence::Record rec, impl_->ledger->Get(seq));
  if (rec.kind != "decision") {
    return Status(StatusCode::kFailedPrecondition, "replay: record " + std::to_string(seq) +
                                                       " is a " + rec.kind + ", not a decision");
  }
  const Json original = Json::parse(rec.body, nullptr, /*allow_exceptions=*/false);
  const Json& request = MemberOr(original, "request");
  const Json& policy = MemberOr(original, "policy");
  if (!MemberOr(request, "text").is_string() || !policy.is_object()) {
    return Status(StatusCode::kMalformed, "replay: record " + std::to_string(seq) +
                                              " is not a decision this runtime can read");
  }
  if (policy != impl_->PolicyJson()) {
    return Status(StatusCode::kFailedPrecondition,
                  "replay: record " + std::to_string(seq) + " was decided by policy " +
                      StrOr(policy, "id", "?") + "@" + StrOr(policy, "version", "?") +
                      " (manifest " + StrOr(policy, "manifest_sha256", "?").substr(0, 12) +
                      "…), not by " + impl_->policy_key + ": open that policy to replay it");
  }
  AskOptions ask;
  ask.request_id = StrOr(request, "id", "");
  ReplayResult out;
  out.original = seq;
  TS_ASSIGN_OR_RETURN(out.replayed, impl_->Run(request["text"].get<std::string>(), ask, seq,
                                               RecordedPlan(original)));
  const Json again = Json::parse(out.replayed.decision_json, nullptr, false);
  const Json a = orchestrator::DeterministicPart(original);
  const Json b = orchestrator::DeterministicPart(again);
  out.same_decision = a == b;
  const Json& was_outcome = MemberOr(original, "outcome");
  const Json& now_outcome = MemberOr(again, "outcome");
  out.same_answer = MemberOr(was_outcome, "answer") == MemberOr(now_outcome, "answer") &&
                    MemberOr(was_outcome, "outcome") == MemberOr(now_outcome, "outcome");
  for (const Json& op : Json::diff(a, b)) {
    const std::string path = StrOr(op, "path", "");
    Json::json_pointer pointer(path);  // made by diff: a valid pointer
    const Json was = a.contains(pointer) ? a.at(pointer) : Json();
    const Json now = b.contains(pointer) ? b.at(pointer) : Json();
    out.differences.push_back(path + ": " + Dump(was) + " -> " + Dump(now));
  }
  return out;
}

}  // namespace tessera
