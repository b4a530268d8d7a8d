// ResidentSet: transactions (Transact), leases and the report. Sessions, K_parallel slots and
// the known-good set are in resident_slots.cc.
#include "resident/resident_set.h"

#include <algorithm>
#include <set>
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
      clock_(options.clock != nullptr ? options.clock : &base::SystemClock()),
      policy_(options.policy != nullptr ? std::move(options.policy) : LeastRecentlyUsed()),
      on_event_(std::move(options.on_event)) {}

ResidentSet::~ResidentSet() {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [key, e] : entries_) {
    TS_CHECK(e->leases == 0 && e->state == Entry::State::kResident);
  }
}

Footprint ResidentSet::PlanFootprint(const ModuleSpec& spec) const {
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
    m.in_transaction = e->state == Entry::State::kLoading || e->victim_of != 0;
    out.push_back(std::move(m));
  }
  return out;
}

void ResidentSet::Emit(std::vector<Event> events) {
  if (!on_event_) return;
  for (const Event& e : events) on_event_(e);
}

Event ResidentSet::RemoveEntry(const std::string& key, const std::string& why,
                               std::vector<std::shared_ptr<LoadedModule>>& drop) {
  const std::vector<PlanModule> before = Snapshot();
  const Usage with = ComputeUsage(before, {}, {});
  const Usage without = ComputeUsage(before, {key}, {});
  drop.push_back(std::move(entries_.at(key)->module));
  entries_.erase(key);
  ++counters_.evictions;
  return {EventKind::kEvicted,
          key,
          Now(),
          0,
          {with.bytes.host - without.bytes.host, with.bytes.device - without.bytes.device},
          why};
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
}

Status ResidentSet::Activate(std::span<const ModuleSpec> specs) {
  std::string what = "activate {";
  for (std::size_t i = 0; i < specs.size(); ++i) what += (i ? ", " : "") + specs[i].key;
  return Transact(specs, /*evict_others=*/false, nullptr, what + "}");
}

Result<ResidentSet::Lease> ResidentSet::Acquire(const ModuleSpec& spec) {
  Lease lease;
  TS_RETURN_IF_ERROR(
      Transact(std::span<const ModuleSpec>(&spec, 1), false, &lease, "load " + spec.key));
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

Status ResidentSet::Transact(std::span<const ModuleSpec> specs, bool evict_others, Lease* lease,
                             const std::string& what) {
  std::set<std::string> targets;
  for (const ModuleSpec& s : specs) {
    if (!targets.insert(s.key).second) {
      return InvalidArgument("resident: " + what + ": " + s.key + " is named twice");
    }
  }
  std::vector<Event> events;
  std::unique_lock<std::mutex> lock(mu_);
  // Wait for the transactions that hold a target: a load in progress is shared (its module or
  // its error), a victim in waiting comes back or goes.
  bool shared_a_load = false;
  for (;;) {
    std::shared_ptr<Ticket> busy;
    bool loading = false;
    for (const ModuleSpec& s : specs) {
      auto it = entries_.find(s.key);
      if (it == entries_.end()) continue;
      if (it->second->state == Entry::State::kLoading) {
        busy = it->second->ticket;
        loading = true;
        break;
      }
      if (it->second->victim_of != 0) {
        busy = it->second->victim_ticket;
        break;
      }
    }
    if (busy == nullptr) break;
    ++waiting_;
    cv_.wait(lock, [&] { return busy->done; });
    --waiting_;
    if (loading) {
      ++counters_.coalesced;
      shared_a_load = true;
      if (!busy->status.ok()) return busy->status;
    }
  }

  // Nothing to load or evict: a lease on a resident module (a hit) at most.
  auto unchanged = [&] {
    if (lease != nullptr) {
      if (!shared_a_load) ++counters_.hits;
      GrantLease(*entries_.at(specs[0].key), lease, events);
    }
    lock.unlock();
    Emit(std::move(events));
    return Status::Ok();
  };
  // The hot path: every target is resident already and nothing else is to go.
  const bool all_resident = std::all_of(
      specs.begin(), specs.end(), [&](const ModuleSpec& s) { return entries_.count(s.key) != 0; });
  if (all_resident && !evict_others) return unchanged();

  PlanRequest request;
  request.now_micros = Now();
  request.what = what;
  std::vector<const ModuleSpec*> to_load;
  for (const ModuleSpec& s : specs) {
    if (entries_.count(s.key) != 0) {
      request.keep.push_back(s.key);
    } else {
      to_load.push_back(&s);
      request.load.push_back({s.key, PlanFootprint(s)});
    }
  }
  const std::vector<PlanModule> snapshot = Snapshot();
  Result<Plan> plan = MakePlan(budgets_, snapshot, request, *policy_);
  if (!plan.ok()) {
    ++counters_.refusals;
    events.push_back({EventKind::kRefused, specs.empty() ? "" : specs[0].key, Now(), 0,
                      ComputeUsage({}, {}, request.load).bytes, plan.status().message()});
    lock.unlock();
    Emit(std::move(events));
    return plan.status();
  }
  std::vector<std::string> victims = plan->evict;
  if (evict_others) {  // a rollback: every module outside the set goes, if it may go at all
    for (const auto& [key, e] : entries_) {
      if (targets.count(key) == 0 && e->state == Entry::State::kResident && e->victim_of == 0 &&
          e->leases == 0 && !e->pinned &&
          std::find(victims.begin(), victims.end(), key) == victims.end()) {
        victims.push_back(key);
      }
    }
  }
  if (to_load.empty() && victims.empty()) return unchanged();

  // Reserve: the new modules are "loading" (their bytes count in every other plan), the victims
  // are held (not leasable, not victims of anyone else).
  const std::uint64_t txn = ++next_txn_;
  auto ticket = std::make_shared<Ticket>();
  for (const ModuleSpec* s : to_load) {
    auto e = std::make_unique<Entry>();
    e->spec = *s;
    e->state = Entry::State::kLoading;
    e->ticket = ticket;
    entries_.emplace(s->key, std::move(e));
  }
  for (const std::string& v : victims) {
    entries_.at(v)->victim_of = txn;
    entries_.at(v)->victim_ticket = ticket;
  }
  lock.unlock();

  // Load and verify without the lock.
  std::vector<std::shared_ptr<LoadedModule>> drop;          // destroyed after the lock is released
  std::vector<std::pair<LoadResult, std::int64_t>> loaded;  // with load micros
  Status failure;
  std::string failed_key;
  for (const ModuleSpec* s : to_load) {
    const std::int64_t t0 = Now();
    Result<LoadResult> r = loader_.Load(*s);
    if (!r.ok()) {
      failure = r.status().WithContext("resident: load " + s->key);
      failed_key = s->key;
      break;
    }
    if (r->module == nullptr) {
      failure = Status(StatusCode::kInternal, "resident: load " + s->key + ": no module");
      failed_key = s->key;
      break;
    }
    if (Status v = loader_.Verify(*s, *r->module, r->measured); !v.ok()) {
      failure = v.WithContext("resident: smoke check of " + s->key);
      failed_key = s->key;
      drop.push_back(std::move(r->module));
      break;
    }
    r->measured.measured = true;
    loaded.emplace_back(std::move(r).value(), Now() - t0);
  }

  lock.lock();
  for (std::size_t i = 0; i < loaded.size(); ++i) {
    measured_[to_load[i]->key] = loaded[i].first.measured;
  }
  if (failure.ok()) {  // the plan again, with what the loads measured
    const Usage after = ComputeUsage(Snapshot(), victims, {});
    if (!Fits(budgets_, after)) {
      failure = Status(StatusCode::kResourceExhausted,
                       "resident: " + what + ": the measured footprints exceed the estimates and " +
                           "the plan no longer fits (" + Excess(budgets_, after) +
                           "); the measurements are kept for the next plan");
      failed_key = to_load.front()->key;
    }
  }
  if (!failure.ok()) {
    for (const ModuleSpec* s : to_load) entries_.erase(s->key);
    for (auto& [result, micros] : loaded) drop.push_back(std::move(result.module));
    for (const std::string& v : victims) {
      entries_.at(v)->victim_of = 0;
      entries_.at(v)->victim_ticket = nullptr;
    }
    ++counters_.load_failures;
    failure = Status(failure.code(), failure.message() + "; the resident set is unchanged");
    events.push_back({EventKind::kLoadFailed, failed_key, Now(), 0, {}, failure.message()});
    ticket->status = failure;
    ticket->done = true;
    cv_.notify_all();
    lock.unlock();
    drop.clear();
    Emit(std::move(events));
    return failure;
  }
  // Commit.
  for (const std::string& v : victims) {
    events.push_back(RemoveEntry(v, "to make room: " + what, drop));
  }
  const std::int64_t now = Now();
  for (std::size_t i = 0; i < loaded.size(); ++i) {
    Entry& e = *entries_.at(to_load[i]->key);
    e.module = std::move(loaded[i].first.module);
    e.state = Entry::State::kResident;
    e.ticket = nullptr;
    e.loaded_at = e.last_used = now;
    ++counters_.loads;
    events.push_back({EventKind::kLoaded, e.spec.key, now, loaded[i].second,
                      FootprintBytes(loaded[i].first.measured), ""});
  }
  if (lease != nullptr) GrantLease(*entries_.at(specs[0].key), lease, events);
  ticket->done = true;
  cv_.notify_all();
  lock.unlock();
  drop.clear();
  Emit(std::move(events));
  return Status::Ok();
}

ResidentSet::Lease& ResidentSet::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    Release();
    set_ = std::exchange(other.set_, nullptr);
    key_ = std::move(other.key_);
    module_ = std::move(other.module_);
  }
  return *this;
}

void ResidentSet::Lease::Release() {
  if (set_ == nullptr) return;
  module_ = nullptr;
  std::exchange(set_, nullptr)->ReleaseLease(key_);
}

void ResidentSet::ReleaseLease(const std::string& key) {
  std::vector<Event> events;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Entry& e = *entries_.at(key);
    TS_CHECK(e.leases > 0);
    e.last_used = Now();
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
    if (e.state != Entry::State::kResident || e.victim_of != 0) {
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
  r.usage = ComputeUsage(Snapshot(), leaving, {});
  r.waiting = waiting_;
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
    m.state = e->state == Entry::State::kLoading ? "loading"
              : e->victim_of != 0                ? "evicting"
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
