#include "runtime/orchestrator_backend.h"

#include <chrono>
#include <set>
#include <utility>

#include "runtime/runtime_access.h"

namespace tessera::runtime {
namespace {

// What the runtime's events said during one invocation on this thread.
struct Capture {
  std::vector<std::string> loaded;
  std::vector<std::string> evicted;
  double load_seconds = 0;
  std::uint64_t evicted_bytes = 0;
};

thread_local Capture* t_capture = nullptr;

// Installs a capture for the scope (invocations do not nest).
class Scoped {
 public:
  explicit Scoped(Capture* c) { t_capture = c; }
  ~Scoped() { t_capture = nullptr; }
  Scoped(const Scoped&) = delete;
  Scoped& operator=(const Scoped&) = delete;
};

// A session on `key`'s module for one call: acquired (loaded if needed), and closed after.
class Borrowed {
 public:
  static Result<Borrowed> Open(Runtime& runtime, const std::string& key) {
    TS_ASSIGN_OR_RETURN(ModuleHandle module, runtime.Acquire(key));
    Result<ModuleInfo> info = runtime.Describe(module);
    Result<SessionHandle> session = runtime.OpenSession(module);
    (void)runtime.Release(module);  // the session holds a lease of its own
    if (!session.ok()) return session.status();
    Borrowed b(runtime, *session);
    if (info.ok()) b.served_by = info->id + "@" + info->version;
    // A load that failed falls back to the known-good version: that is not the module the
    // decision names, so the decision must not use it under this name.
    if (b.served_by != key) {
      return Status(StatusCode::kFailedPrecondition,
                    "runtime: " + key + " could not be loaded; the runtime fell back to " +
                        b.served_by);
    }
    return b;
  }
  Borrowed(Borrowed&& other) noexcept
      : runtime_(other.runtime_), session_(other.session_), served_by(std::move(other.served_by)) {
    other.runtime_ = nullptr;
  }
  Borrowed& operator=(Borrowed&&) = delete;
  ~Borrowed() {
    if (runtime_ != nullptr) (void)runtime_->CloseSession(session_);
  }
  SessionHandle session() const { return session_; }

 private:
  Borrowed(Runtime& runtime, SessionHandle session) : runtime_(&runtime), session_(session) {}
  Runtime* runtime_;
  SessionHandle session_;

 public:
  std::string served_by;  // "id@version" (another version when the runtime fell back)
};

}  // namespace

void CaptureEvent(const RuntimeEvent& e) {
  Capture* c = t_capture;
  if (c == nullptr) return;
  if (e.kind == RuntimeEventKind::kLoaded) {
    c->loaded.push_back(e.module);
    c->load_seconds += e.seconds;
  } else if (e.kind == RuntimeEventKind::kEvicted) {
    c->evicted.push_back(e.module);
    c->evicted_bytes += e.host_bytes;
  } else if (e.kind == RuntimeEventKind::kRolledBack) {
    c->loaded.push_back("fallback: " + e.detail);
  }
}

Result<orchestrator::ModuleFacts> RuntimeBackend::Describe(const std::string& id,
                                                           const std::string& version) {
  Runtime::Impl& impl = RuntimeAccess::Get(runtime_);
  std::lock_guard<std::mutex> lock(impl.registry_mu);
  TS_ASSIGN_OR_RETURN(registry::PackageRecord r, impl.registry->Show(id, version));
  const std::string cache_key = r.id + "@" + r.version + "#" + r.manifest_sha256;
  // Usability changes without the manifest changing (its base may be retired since): asked
  // of the registry every time, as loading it would.
  const Status loadable = impl.registry->CheckLoadable(r);
  std::string unusable;  // an adapter whose base cannot load: why, without the layer's prefix
  if (registry::IsUsable(r.state) && !loadable.ok()) {
    constexpr std::string_view kPrefix = "registry: ";
    unusable = loadable.message();
    if (unusable.rfind(kPrefix, 0) == 0) unusable.erase(0, kPrefix.size());
  }
  if (auto it = facts_.find(cache_key); it != facts_.end()) {
    it->second.state = std::string(registry::StateName(r.state));
    it->second.usable = loadable.ok();
    it->second.unusable = unusable;
    return it->second;
  }
  TS_ASSIGN_OR_RETURN(package::Manifest m, impl.registry->LoadManifest(r));
  orchestrator::ModuleFacts f;
  f.id = r.id;
  f.version = r.version;
  f.kind = r.kind;
  f.state = std::string(registry::StateName(r.state));
  f.usable = loadable.ok();
  f.unusable = unusable;
  f.license = r.license;
  f.granted = r.granted;
  f.schema_version = m.schema_version;
  f.contract = m.contract;
  f.parameters = m.gguf.parameters;
  f.sha256 = m.primary_artifact().sha256;
  f.base = r.base;
  if (m.base) {
    f.base_sha256 = m.base->weights_sha256;
    Result<registry::PackageRecord> b = impl.registry->Show(m.base->id, m.base->version.ToString());
    if (b.ok()) {
      Result<package::Manifest> bm = impl.registry->LoadManifest(*b);
      if (bm.ok()) f.parameters += bm->gguf.parameters;
    }
  }
  facts_[cache_key] = f;
  return f;
}

Result<std::vector<orchestrator::ModuleFacts>> RuntimeBackend::WithRole(const std::string& role) {
  std::set<std::string> ids;
  {
    Runtime::Impl& impl = RuntimeAccess::Get(runtime_);
    std::lock_guard<std::mutex> lock(impl.registry_mu);
    TS_ASSIGN_OR_RETURN(std::vector<registry::PackageRecord> all, impl.registry->List());
    for (const registry::PackageRecord& r : all) {
      if (r.kind == "model" || r.kind == "adapter") ids.insert(r.id);
    }
  }
  std::vector<orchestrator::ModuleFacts> out;
  for (const std::string& id : ids) {
    Result<orchestrator::ModuleFacts> f = Describe(id, "");
    if (f.ok() && f->contract.role == role) out.push_back(std::move(f).value());
  }
  return out;
}

orchestrator::ResidencyPreview RuntimeBackend::Preview(const orchestrator::ModuleFacts& m) {
  orchestrator::ResidencyPreview out;
  Runtime::Impl& impl = RuntimeAccess::Get(runtime_);
  Result<PackageInfo> p = impl.Resolve(m.key());
  if (!p.ok()) {
    out.fits = false;
    out.refusal = p.status().message();
    return out;
  }
  const resident::ResidentSet::Preview plan = impl.set->PreviewAcquire(p->spec);
  out.resident = plan.resident;
  out.fits = plan.fits;
  out.load_bytes = plan.load_host_bytes;
  out.evict = plan.evict;
  out.refusal = plan.refusal;
  return out;
}

Result<orchestrator::SkillAnswer> RuntimeBackend::Invoke(const orchestrator::ModuleFacts& m,
                                                         std::string_view input) {
  // What loading it adds now (an adapter whose base is resident: its own bytes only).
  const std::uint64_t load_bytes = Preview(m).load_bytes;
  Capture capture;
  Scoped scoped(&capture);
  TS_ASSIGN_OR_RETURN(Borrowed b, Borrowed::Open(runtime_, m.key()));
  TS_ASSIGN_OR_RETURN(SkillAnswer a, runtime_.Answer(b.session(), input));
  orchestrator::SkillAnswer out;
  out.text = std::move(a.text);
  out.valid = a.valid;
  out.failure = std::move(a.failure);
  out.stop_reason = std::move(a.stop_reason);
  out.prompt_tokens = a.prompt_tokens;
  out.output_tokens = a.output_tokens;
  out.measure = std::move(a.measure);
  out.confidence = a.confidence;
  out.mean_logprob = a.mean_logprob;
  out.min_logprob = a.min_logprob;
  out.min_margin = a.min_margin;
  out.seconds = a.seconds;
  out.loaded_bytes = capture.loaded.empty() ? 0 : load_bytes;
  out.evicted_bytes = capture.evicted_bytes;
  out.loaded = std::move(capture.loaded);
  out.evicted = std::move(capture.evicted);
  out.load_seconds = capture.load_seconds;
  return out;
}

Result<orchestrator::LabelScores> RuntimeBackend::ScoreLabels(
    const orchestrator::ModuleFacts& m, std::string_view input) {
  TS_ASSIGN_OR_RETURN(Borrowed b, Borrowed::Open(runtime_, m.key()));
  TS_ASSIGN_OR_RETURN(LabelScores s, runtime_.ScoreLabels(b.session(), input));
  orchestrator::LabelScores out;
  out.labels = std::move(s.labels);
  out.logprobs = std::move(s.logprobs);
  out.probabilities = std::move(s.probabilities);
  out.prompt_tokens = s.prompt_tokens;
  out.scored_tokens = s.scored_tokens;
  out.seconds = s.seconds;
  return out;
}

Result<std::vector<float>> RuntimeBackend::Embed(const orchestrator::ModuleFacts& m,
                                                 std::string_view text) {
  TS_ASSIGN_OR_RETURN(Borrowed b, Borrowed::Open(runtime_, m.key()));
  return runtime_.Embed(b.session(), text);
}

std::int64_t RuntimeBackend::NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace tessera::runtime
