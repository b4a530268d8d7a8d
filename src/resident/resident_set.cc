// ResidentSet: leases, explicit eviction and the report. Transactions are in
// resident_transact.cc, the admission queue in resident_admission.cc; sessions, K_parallel
// slots and the known-good set in resident_slots.cc.
#include "resident/resident_set.h"

#include <algorithm>
#include <utility>

#include "base/check.h"
#include "resident/resident_set_impl.h"

namespace tessera::resident {

std::string_view EventKindName(EventKind kind) {
  switch (kind) {
    case EventKind::kLoaded:
      return "loaded";
    case EventKind::kLoadFailed:
      return "load_failed";
    case EventKind::kEvicted:
      return "evicted";
    case EventKind::kRefused:
      return "refused";
    case EventKind::kRolledBack:
      return "rolled_back";
    case EventKind::kQueueTimeout:
      return "queue_timeout";
    case EventKind::kActive:
      return "active";
    case EventKind::kIdle:
      return "idle";
  }
  return "unknown";
}

Bytes FootprintBytes(const Footprint& f) {
  Bytes b = f.private_bytes;
  for (const ArtifactCharge& a : f.artifacts) {
    b.host += a.bytes.host;
    b.device += a.bytes.device;
  }
  return b;
}

ResidentSet::ResidentSet(Loader& loader, ResidentOptions options)
    : loader_(loader),
      budgets_(options.budgets),
      overlap_loads_(options.overlap_loads),
      max_overtakes_(std::max(0, options.max_overtakes)),
      clock_(options.clock != nullptr ? options.clock : &base::SystemClock()),
      policy_(options.policy != nullptr ? std::move(options.policy) : LeastRecentlyUsed()),
      on_event_(std::move(options.on_event)) {}

ResidentSet::~ResidentSet() {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [key, e] : entries_) {
    TS_CHECK(e->leases == 0 && e->state == Entry::State::kResident);
  }
}

const Footprint& ResidentSet::PlanFootprint(const ModuleSpec& spec) const {
  auto it = measured_.find(spec.key);
  if (it != measured_.end()) return it->second;
  return spec.measured_before.has_value() ? *spec.measured_before : spec.estimate;
}

std::vector<PlanModule> ResidentSet::Snapshot() const {
  std::vector<PlanModule> out;
  for (const auto& [key, e] : entries_) {
    PlanModule m;
    m.key = key;
    m.footprint = PlanFootprint(e->spec);
    m.kv_bytes = e->kv_bytes;
    m.session_bytes = e->session_bytes;
    m.leases = e->leases;
    m.pinned = e->pinned;
    m.soft_pin_until_micros = e->soft_pin_until;
    m.loaded_at_micros = e->loaded_at;
    m.last_used_micros = e->last_used;
    m.uses = e->uses;
    m.in_transaction = e->state != Entry::State::kResident || e->victim_of != 0;
    out.push_back(std::move(m));
  }
  return out;
}

void ResidentSet::Emit(std::vector<Event> events) {
  if (!on_event_) return;
  for (const Event& e : events) on_event_(e);
}

Bytes ResidentSet::BytesOf(const std::string& key, const std::vector<std::string>& gone) const {
  const std::vector<PlanModule> snapshot = Snapshot();
  std::vector<std::string> without = gone;
  const Usage with = ComputeUsage(snapshot, without, {});
  without.push_back(key);
  const Usage after = ComputeUsage(snapshot, without, {});
  return {with.bytes.host - after.bytes.host, with.bytes.device - after.bytes.device};
}

Event ResidentSet::RemoveEntry(const std::string& key, const std::string& why,
                               std::vector<std::shared_ptr<LoadedModule>>& drop) {
  const Bytes freed = BytesOf(key, {});
  drop.push_back(std::move(entries_.at(key)->module));
  entries_.erase(key);
  ++counters_.evictions;
  return {EventKind::kEvicted, key, Now(), 0, freed, why};
}

void ResidentSet::GrantLease(Entry& e, Lease* lease, std::vector<Event>& events) {
  if (e.leases++ == 0) {
    events.push_back({EventKind::kActive, e.spec.key, Now(), 0, {}, ""});
  }
  ++e.uses;
  e.last_used = Now();
  lease->set_ = this;
  lease->key_ = e.spec.key;
  lease->module_ = e.module;
  lease->acquired_micros_ = e.last_used;
}

Status ResidentSet::Activate(std::span<const ModuleSpec> specs, std::int64_t timeout_micros) {
  std::string what = "activate {";
  for (std::size_t i = 0; i < specs.size(); ++i) what += (i ? ", " : "") + specs[i].key;
  return Transact(specs, /*evict_others=*/false, nullptr, what + "}", timeout_micros);
}

Result<ResidentSet::Lease> ResidentSet::Acquire(const ModuleSpec& spec,
                                                std::int64_t timeout_micros) {
  Lease lease;
  TS_RETURN_IF_ERROR(Transact(std::span<const ModuleSpec>(&spec, 1), false, &lease,
                              "load " + spec.key, timeout_micros));
  return lease;
}

ResidentSet::Preview ResidentSet::PreviewAcquire(const ModuleSpec& spec) const {
  Preview out;
  std::lock_guard<std::mutex> lock(mu_);
  if (entries_.count(spec.key) != 0) {
    out.resident = true;
    return out;
  }
  PlanRequest request;
  request.now_micros = Now();
  request.what = "load " + spec.key;
  request.load.push_back({spec.key, PlanFootprint(spec)});
  const std::vector<PlanModule> snapshot = Snapshot();
  const Usage before = ComputeUsage(snapshot, {}, {});
  const Usage with = ComputeUsage(snapshot, {}, request.load);
  out.load_host_bytes = with.bytes.host - before.bytes.host;
  Result<Plan> plan = MakePlan(budgets_, snapshot, request, *policy_);
  if (!plan.ok()) {
    out.fits = false;
    out.refusal = plan.status().message();
    return out;
  }
  out.evict = plan->evict;
  return out;
}

ResidentSet::Lease& ResidentSet::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    Release();
    set_ = std::exchange(other.set_, nullptr);
    key_ = std::move(other.key_);
    module_ = std::move(other.module_);
    acquired_micros_ = other.acquired_micros_;
  }
  return *this;
}

void ResidentSet::Lease::Release() {
  if (set_ == nullptr) return;
  module_ = nullptr;
  std::exchange(set_, nullptr)->ReleaseLease(key_, acquired_micros_);
}

void ResidentSet::ReleaseLease(const std::string& key, std::int64_t acquired_micros) {
  std::vector<Event> events;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Entry& e = *entries_.at(key);
    TS_CHECK(e.leases > 0);
    e.last_used = Now();
    const std::int64_t held = e.last_used - acquired_micros;
    mean_lease_micros_ = mean_lease_micros_ == 0 ? held : (3 * mean_lease_micros_ + held) / 4;
    if (--e.leases == 0) events.push_back({EventKind::kIdle, key, Now(), 0, {}, ""});
    cv_.notify_all();
  }
  Emit(std::move(events));
}

Status ResidentSet::Evict(const std::string& key) {
  std::vector<Event> events;
  std::vector<std::shared_ptr<LoadedModule>> drop;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(key);
    if (it == entries_.end()) return NotFound("resident: evict " + key + ": not resident");
    Entry& e = *it->second;
    if (e.state != Entry::State::kResident || e.victim_of != 0) {  // loading, victim, released
      return Status(StatusCode::kUnavailable,
                    "resident: evict " + key + ": a transaction holds it; retry when it ends");
    }
    if (e.leases > 0) {
      return Status(StatusCode::kFailedPrecondition,
                    "resident: evict " + key + ": leased (" + std::to_string(e.leases) + ")");
    }
    if (e.pinned) {
      return Status(StatusCode::kFailedPrecondition,
                    "resident: evict " + key + ": pinned; unpin it first");
    }
    events.push_back(RemoveEntry(key, "evicted on request", drop));
    cv_.notify_all();
  }
  drop.clear();
  Emit(std::move(events));
  return Status::Ok();
}

ResidentReport ResidentSet::Report() const {
  std::lock_guard<std::mutex> lock(mu_);
  ResidentReport r;
  r.budgets = budgets_;
  std::vector<std::string> leaving;
  for (const auto& [key, e] : entries_) {
    if (e->victim_of != 0) leaving.push_back(key);
  }
  const std::vector<PlanModule> snapshot = Snapshot();
  r.usage = ComputeUsage(snapshot, leaving, {});
  r.reserved = ComputeUsage(snapshot, {}, {});
  r.waiting = waiting_;
  r.admitting = static_cast<std::int32_t>(admission_.size());
  r.policy = std::string(policy_->name());
  r.known_good = known_good_;
  r.counters = counters_;
  r.k_parallel = generating_modules_;
  r.queued = static_cast<std::int32_t>(queue_.size());
  const std::int64_t now = Now();
  for (const auto& [key, e] : entries_) {
    ModuleReport m;
    m.key = key;
    m.sha256 = e->spec.sha256;
    m.state = e->state == Entry::State::kLoading    ? "loading"
              : e->state == Entry::State::kReleased ? "released"
              : e->victim_of != 0                   ? "evicting"
                                                    : "resident";
    if (e->state == Entry::State::kResident) ++r.k_active;
    m.leases = e->leases;
    m.generating = e->generating;
    m.pinned = e->pinned;
    m.soft_pin_remaining_micros = std::max<std::int64_t>(0, e->soft_pin_until - now);
    m.resident_micros = e->state == Entry::State::kResident ? now - e->loaded_at : 0;
    m.idle_micros = e->state == Entry::State::kResident ? now - e->last_used : 0;
    m.uses = e->uses;
    m.kv_bytes = e->kv_bytes;
    m.session_bytes = e->session_bytes;
    m.sessions = e->sessions;
    m.estimate = e->spec.estimate;
    if (auto it = measured_.find(key); it != measured_.end()) {
      m.measured = it->second;
    } else if (e->spec.measured_before.has_value()) {
      m.measured = *e->spec.measured_before;
    }
    r.modules.push_back(std::move(m));
  }
  return r;
}

}  // namespace tessera::resident
