// tessera::Runtime: opening, resolving packages, leases, residency controls.
#include <utility>

#include "runtime/footprint_json.h"
#include "runtime/orchestrator_backend.h"
#include "runtime/runtime_impl.h"

namespace tessera {
namespace {

resident::Budgets ToBudgets(const RuntimeBudgets& b) {
  resident::Budgets r;
  auto bytes = [](std::uint64_t v) { return v == 0 ? resident::kUnlimitedBytes : v; };
  auto count = [](std::int32_t v) { return v <= 0 ? resident::kUnlimitedCount : v; };
  r.host_bytes = bytes(b.host_bytes);
  r.device_bytes = bytes(b.device_bytes);
  r.kv_bytes = bytes(b.kv_bytes);
  r.max_active = count(b.max_active);
  r.max_parallel = count(b.max_parallel);
  r.max_sessions = count(b.max_sessions);
  r.min_residence_micros = b.min_residence_ms * 1000;
  r.queue_timeout_micros = b.queue_timeout_ms * 1000;
  return r;
}

RuntimeEventKind ToKind(resident::EventKind k) {
  switch (k) {
    case resident::EventKind::kLoaded:
      return RuntimeEventKind::kLoaded;
    case resident::EventKind::kLoadFailed:
      return RuntimeEventKind::kLoadFailed;
    case resident::EventKind::kEvicted:
      return RuntimeEventKind::kEvicted;
    case resident::EventKind::kRefused:
      return RuntimeEventKind::kRefused;
    case resident::EventKind::kRolledBack:
      return RuntimeEventKind::kRolledBack;
    case resident::EventKind::kQueueTimeout:
      return RuntimeEventKind::kQueueTimeout;
    case resident::EventKind::kActive:
      return RuntimeEventKind::kActive;
    case resident::EventKind::kIdle:
      return RuntimeEventKind::kIdle;
  }
  return RuntimeEventKind::kLoaded;
}

}  // namespace

std::string_view RuntimeEvent::kind_name() const {
  return resident::EventKindName(static_cast<resident::EventKind>(kind));
}

Runtime::Runtime(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Runtime::~Runtime() = default;

Runtime::Impl::~Impl() {
  // Sessions first (each releases its KV charge and its lease), then module leases, then the
  // state sync (it flushes, asking the manager for the live set, then removes this process's
  // live file), then the manager.
  sessions = runtime::HandleTable<SessionState>("session");
  modules = runtime::HandleTable<ModuleLeaseState>("module");
  sync.reset();
  set.reset();
}

Result<std::unique_ptr<Runtime>> Runtime::Open(RuntimeOptions options) {
  auto impl = std::make_unique<Impl>();
  std::string home = options.home;
  if (home.empty()) {
    TS_ASSIGN_OR_RETURN(home, registry::Registry::DefaultHome());
  }
  // A store this process cannot write (a read-only mount) is served read-only: nothing is
  // recorded (measured footprints stay in memory), everything else works.
  registry::RegistryOptions ro_options;
  ro_options.read_only = !registry::Registry::Writable(home);
  TS_ASSIGN_OR_RETURN(impl->registry, registry::Registry::Open(home, ro_options));
  TS_ASSIGN_OR_RETURN(impl->sync_registry, registry::Registry::Open(home, ro_options));
  // What this process holds in memory is published in a file of its own under <home>/live/,
  // locked while the process lives (ADR 0016); a store where it cannot be created (read-only)
  // still serves, unpublished.
  Result<std::unique_ptr<registry::LiveStateFile>> live = registry::LiveStateFile::Create(home);
  TS_ASSIGN_OR_RETURN(std::shared_ptr<ComputePool> pool, ComputePool::Create(options.n_threads));
  impl->loader = std::make_unique<runtime::ModuleLoader>(std::move(pool), &impl->activity,
                                                         options.pack_weights);
  Impl* raw = impl.get();
  resident::ResidentOptions ro;
  ro.budgets = ToBudgets(options.budgets);
  ro.overlap_loads = options.budgets.overlap_loads;
  ro.on_event = [raw](const resident::Event& e) { raw->OnEvent(e); };
  impl->set = std::make_unique<resident::ResidentSet>(*impl->loader, std::move(ro));
  impl->sync = std::make_unique<runtime::StateSync>(
      *impl->sync_registry, impl->sync_registry_mu, std::move(live),
      [raw] { return raw->LiveModules(); },
      [raw](registry::Registry& registry, const std::string& key) {
        return raw->PersistFootprint(registry, key);
      });
  impl->options = std::move(options);
  return std::unique_ptr<Runtime>(new Runtime(std::move(impl)));
}

runtime::StateSync::LiveSet Runtime::Impl::LiveModules() const {
  runtime::StateSync::LiveSet out;
  for (const resident::ModuleReport& m : set->Report().modules) {
    if (m.state == "loading" || m.state == "released") continue;  // not in memory
    out.emplace_back(m.key,
                     m.leases > 0 ? registry::LiveState::kActive : registry::LiveState::kResident);
  }
  return out;
}

Status Runtime::Impl::PersistFootprint(registry::Registry& store, const std::string& key) {
  if (store.read_only()) return Status::Ok();  // measured again by the next runtime
  for (const resident::ModuleReport& m : set->Report().modules) {
    if (m.key != key || !m.measured.measured || !m.measured.exact) continue;
    const auto [id, version] = runtime::SplitKey(key);
    return store.RecordFootprint(id, version, m.sha256, runtime::FootprintToJson(m.measured));
  }
  return Status::Ok();  // evicted meanwhile: the next load records it
}

void Runtime::Impl::OnEvent(const resident::Event& e) {
  if (e.kind == resident::EventKind::kLoaded) {
    sync->MarkMeasured(e.module);
  } else if (!e.module.empty() && e.kind != resident::EventKind::kRefused &&
             e.kind != resident::EventKind::kQueueTimeout) {
    sync->MarkChanged();
  }
  RuntimeEvent out;
  out.kind = ToKind(e.kind);
  out.module = e.module;
  out.seconds = static_cast<double>(e.duration_micros) / 1e6;
  out.host_bytes = e.bytes.host;
  out.device_bytes = e.bytes.device;
  out.detail = e.detail;
  runtime::CaptureEvent(out);  // the orchestrator's record of the invocation on this thread
  if (options.on_event) options.on_event(out);
}

Result<runtime::PackageInfo> Runtime::Impl::Resolve(std::string_view ref) {
  const auto [id, version] = runtime::SplitKey(std::string(ref));
  if (id.empty()) return InvalidArgument("runtime: empty package reference");
  runtime::PackageInfo p;
  {
    std::lock_guard<std::mutex> lock(registry_mu);
    TS_ASSIGN_OR_RETURN(const std::int64_t data_version, registry->DataVersion());
    const std::string reference(ref);
    if (auto it = recent.find(reference);
        it != recent.end() && it->second.data_version == data_version) {
      return it->second.package;  // nothing in the store changed since it was resolved
    }
    TS_ASSIGN_OR_RETURN(registry::PackageRecord r, registry->Show(id, version));
    if (!registry::IsUsable(r.state)) {
      return Status(StatusCode::kFailedPrecondition, "runtime: " + r.id + "@" + r.version + " is " +
                                                         std::string(registry::StateName(r.state)) +
                                                         " and cannot be loaded");
    }
    // An adapter runs on its base's weights: refused while that exact base is not usable
    // (retired, suspended, quarantined or removed), before anything cached is reused.
    TS_RETURN_IF_ERROR(registry->CheckLoadable(r));
    // A version's manifest never changes (the registry refuses the same version with other
    // bytes): what was resolved from it before is reused, which spares parsing it again.
    const std::string key = r.id + "@" + r.version;
    if (auto it = resolved.find(key);
        it != resolved.end() && it->second.manifest_sha256 == r.manifest_sha256) {
      recent[reference] = {data_version, it->second.package};
      return it->second.package;
    }
    TS_ASSIGN_OR_RETURN(package::Manifest m, registry->LoadManifest(r));
    if (m.kind == package::PackageKind::kPolicy) {
      return Status(StatusCode::kFailedPrecondition,
                    "runtime: " + key + " is a policy package, not a module (tessera ask --policy)");
    }
    const package::Artifact& primary = m.primary_artifact();
    p.info = {r.id, r.version, r.kind, primary.sha256, r.base, ""};
    p.known_good = r.known_good;
    p.spec.key = r.id + "@" + r.version;
    p.spec.sha256 = primary.sha256;
    p.spec.estimate.kv_bytes_per_token = m.resources.kv_bytes_per_token;
    p.spec.estimate.session_bytes = m.resources.scratch_bytes;
    if (r.kind == "adapter") {
      const auto [base_id, base_version] = runtime::SplitKey(r.base);
      TS_ASSIGN_OR_RETURN(registry::PackageRecord br, registry->Show(base_id, base_version));
      TS_ASSIGN_OR_RETURN(package::Manifest bm, registry->LoadManifest(br));
      p.weights_sha256 = bm.primary_artifact().sha256;
      p.adapter_path = registry->BlobPath(primary.sha256);
      p.spec.estimate.artifacts.push_back({p.weights_sha256, {bm.resources.weights_bytes, 0}});
      p.spec.estimate.private_bytes.host = m.resources.weights_bytes;
      p.spec.estimate.kv_bytes_per_token = bm.resources.kv_bytes_per_token;
    } else {
      p.weights_sha256 = primary.sha256;
      p.spec.estimate.artifacts.push_back({p.weights_sha256, {m.resources.weights_bytes, 0}});
    }
    p.weights_path = registry->BlobPath(p.weights_sha256);
    // What an earlier runtime measured on these bytes replaces the manifest's estimate.
    TS_ASSIGN_OR_RETURN(std::optional<std::string> stored,
                        registry->LoadFootprint(r.id, r.version, primary.sha256));
    if (stored.has_value()) {
      Result<resident::Footprint> f = runtime::FootprintFromJson(*stored);
      if (f.ok()) p.spec.measured_before = *f;  // a damaged record only costs the estimate
    }
    p.manifest = std::make_shared<const package::Manifest>(std::move(m));
    loader->Register(p);
    resolved[key] = {r.manifest_sha256, p};
    recent[reference] = {data_version, p};
  }
  return p;
}

Result<std::shared_ptr<ModuleLeaseState>> Runtime::Impl::Lease(const runtime::PackageInfo& package,
                                                               bool allow_fallback) {
  Result<resident::ResidentSet::Lease> lease = set->Acquire(package.spec);
  if (lease.ok()) {
    auto state = std::make_shared<ModuleLeaseState>();
    state->package = package;
    state->module = std::static_pointer_cast<runtime::RuntimeModule>(lease->module());
    state->lease = std::move(lease).value();
    return state;
  }
  const StatusCode code = lease.status().code();
  const bool load_failed = code != StatusCode::kResourceExhausted &&
                           code != StatusCode::kUnavailable && code != StatusCode::kInvalidArgument;
  if (!allow_fallback || !load_failed) return lease.status();
  // A known-good version: the one in the known-good set, else the manifest's rollback target.
  std::string fallback = package.known_good;
  for (const resident::ModuleSpec& s : set->Report().known_good) {
    const auto [id, version] = runtime::SplitKey(s.key);
    if (id == package.info.id && version != package.info.version) fallback = version;
  }
  if (fallback.empty() || fallback == package.info.version) return lease.status();
  {
    std::lock_guard<std::mutex> lock(registry_mu);
    recent.clear();  // this connection's own write: data_version does not show it
    TS_RETURN_IF_ERROR(registry->Suspend(package.info.id, package.info.version,
                                         "runtime: " + lease.status().message()));
  }
  Result<runtime::PackageInfo> good = Resolve(package.info.id + "@" + fallback);
  if (!good.ok()) {
    return Status(lease.status().code(), lease.status().message() + "; the known-good " + fallback +
                                             " cannot be used either: " + good.status().message());
  }
  Result<std::shared_ptr<ModuleLeaseState>> state = Lease(*good, /*allow_fallback=*/false);
  if (!state.ok()) {
    return Status(lease.status().code(), lease.status().message() + "; the known-good " + fallback +
                                             " failed too: " + state.status().message());
  }
  resident::Event e;
  e.kind = resident::EventKind::kRolledBack;
  e.module = package.spec.key;
  e.detail = package.spec.key + " failed to load (" + lease.status().message() +
             "); suspended it and fell back to the known-good " + good->spec.key;
  OnEvent(e);
  return state;
}

Result<ModuleHandle> Runtime::Acquire(std::string_view ref) {
  TS_ASSIGN_OR_RETURN(runtime::PackageInfo p, impl_->Resolve(ref));
  TS_ASSIGN_OR_RETURN(std::shared_ptr<ModuleLeaseState> state, impl_->Lease(p, true));
  std::lock_guard<std::mutex> lock(impl_->mu);
  return ModuleHandle{impl_->modules.Add(std::move(state))};
}

Status Runtime::Release(ModuleHandle module) {
  std::shared_ptr<ModuleLeaseState> state;  // released after the lock
  std::lock_guard<std::mutex> lock(impl_->mu);
  TS_ASSIGN_OR_RETURN(state, impl_->modules.Remove(module.id));
  return Status::Ok();
}

Result<ModuleInfo> Runtime::Describe(ModuleHandle module) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  TS_ASSIGN_OR_RETURN(std::shared_ptr<ModuleLeaseState> state, impl_->modules.Get(module.id));
  return state->module->info;
}

Status Runtime::Activate(std::span<const std::string> refs) {
  std::vector<resident::ModuleSpec> specs;
  for (const std::string& ref : refs) {
    TS_ASSIGN_OR_RETURN(runtime::PackageInfo p, impl_->Resolve(ref));
    specs.push_back(p.spec);
  }
  return impl_->set->Activate(specs);
}

Status Runtime::Evict(std::string_view ref) {
  TS_ASSIGN_OR_RETURN(runtime::PackageInfo p, impl_->Resolve(ref));
  return impl_->set->Evict(p.spec.key);
}

Status Runtime::Pin(std::string_view ref, bool pinned) {
  TS_ASSIGN_OR_RETURN(runtime::PackageInfo p, impl_->Resolve(ref));
  return impl_->set->Pin(p.spec.key, pinned);
}

Status Runtime::SoftPin(std::string_view ref, std::int64_t duration_ms) {
  TS_ASSIGN_OR_RETURN(runtime::PackageInfo p, impl_->Resolve(ref));
  return impl_->set->SoftPin(p.spec.key, duration_ms * 1000);
}

void Runtime::RecordKnownGood() { impl_->set->RecordKnownGood(); }

Status Runtime::RollbackToKnownGood() { return impl_->set->RollbackToKnownGood(); }

}  // namespace tessera
