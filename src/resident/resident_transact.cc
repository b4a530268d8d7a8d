// ResidentSet: transactions. Plan, wait for room (resident_admission.cc), reserve, release the
// victims (unless overlapping), load and verify without the lock, then commit, or drop the new
// modules and restore the victims.
#include <algorithm>
#include <set>
#include <utility>

#include "resident/resident_set.h"
#include "resident/resident_set_impl.h"

namespace tessera::resident {
namespace {

// How often a request waiting for memory looks at the clock (the clock may be a test's fake,
// which advances without notifying anyone).
constexpr auto kAdmissionPoll = std::chrono::milliseconds(2);
// How many times a transaction plans again when its loads measured more than the plan assumed.
// One is enough unless other transactions changed the set meanwhile.
constexpr int kMaxReplans = 2;

bool SharesAnArtifact(const Footprint& a, const Footprint& b) {
  for (const ArtifactCharge& x : a.artifacts) {
    for (const ArtifactCharge& y : b.artifacts) {
      if (x.sha256 == y.sha256) return true;
    }
  }
  return false;
}

// Loads and verifies one module (without any lock of the manager). The measured footprint is
// marked measured.
Result<LoadResult> LoadVerified(Loader& loader, const ModuleSpec& spec) {
  Result<LoadResult> r = loader.Load(spec);
  if (!r.ok()) return r.status().WithContext("resident: load " + spec.key);
  if (r->module == nullptr) {
    return Status(StatusCode::kInternal, "resident: load " + spec.key + ": no module");
  }
  if (Status v = loader.Verify(spec, *r->module, r->measured); !v.ok()) {
    return v.WithContext("resident: smoke check of " + spec.key);
  }
  r->measured.measured = true;
  return r;
}

std::string KeyList(const std::vector<std::string>& keys) {
  std::string out;
  for (const std::string& k : keys) out += (out.empty() ? "" : ", ") + k;
  return out;
}

}  // namespace

Status ResidentSet::Transact(std::span<const ModuleSpec> specs, bool evict_others, Lease* lease,
                             const std::string& what, std::int64_t timeout_micros) {
  std::set<std::string> targets;
  for (const ModuleSpec& s : specs) {
    if (!targets.insert(s.key).second) {
      return InvalidArgument("resident: " + what + ": " + s.key + " is named twice");
    }
  }
  if (timeout_micros < 0) timeout_micros = budgets_.queue_timeout_micros;
  std::vector<Event> events;
  std::unique_lock<std::mutex> lock(mu_);
  const std::int64_t start = Now();
  Waiter me;
  auto finish = [&](Status status) {  // leaves the queue, unlocks, reports
    Dequeue(me);
    lock.unlock();
    Emit(std::move(events));
    return status;
  };
  bool loaded_for_it = false;  // by a load it shared or made itself: its lease is no hit
  int replans = 0;
  for (;;) {
    // Wait for the transactions that hold a target: a load in progress is shared (its module or
    // its error), a victim in waiting comes back or goes.
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
        loaded_for_it = true;
        if (!busy->status.ok() && !busy->underestimated) return finish(busy->status);
      }
    }

    std::string reason;  // why it waits
    const bool all_resident = std::all_of(specs.begin(), specs.end(), [&](const ModuleSpec& s) {
      return entries_.count(s.key) != 0;
    });
    if (all_resident && !evict_others) {
      // The hot path: nothing to load or evict, a lease on a resident module at most. A first
      // lease of an idle module needs room for a session of it, which it may evict for.
      if (lease == nullptr) return finish(Status::Ok());
      const std::string& key = specs[0].key;
      bool room = true;
      const Entry& target = *entries_.at(key);
      if (target.leases == 0) room = SessionRoomFits(key, &reason, &me.request);
      const bool behind = HitMustWait(me.queued ? &me : nullptr, key);
      if (room && !behind) {
        if (!loaded_for_it) ++counters_.hits;
        GrantLease(*entries_.at(key), lease, events);
        return finish(Status::Ok());
      }
      me.hit = room;  // a hit that only waits for its turn takes no memory from anyone
      if (room) {
        me.request = {};
        reason = "a request overtaken " + std::to_string(max_overtakes_) +
                 " times is served first, and " + key + " may be its victim";
      }
    } else {
      me.hit = false;
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
      // Room for a session of each module to load: its smoke check runs one, and the lease's
      // holder is about to open one.
      const bool rooms = AddSessionRooms(to_load, request);
      Result<Plan> plan = MakePlan(budgets_, Snapshot(), request, *policy_);
      if (plan.ok()) {
        std::vector<std::string> victims = plan->evict;
        if (evict_others) {  // a rollback: every module outside the set goes, if it may go at all
          for (const auto& [key, e] : entries_) {
            if (targets.count(key) == 0 && e->state == Entry::State::kResident &&
                e->victim_of == 0 && e->leases == 0 && !e->pinned &&
                std::find(victims.begin(), victims.end(), key) == victims.end()) {
              victims.push_back(key);
            }
          }
        }
        if (to_load.empty() && victims.empty()) return finish(Status::Ok());
        if (MayGoAhead(me.queued ? &me : nullptr, /*in_progress=*/false)) {
          Dequeue(me);
          bool granted = false, underestimated = false;
          Status loaded = LoadAndCommit(lock, to_load, rooms, victims, lease,
                                        specs.empty() ? std::string() : specs[0].key, what,
                                        std::move(events), &granted, &underestimated);
          if (underestimated && replans < kMaxReplans) {
            // The set is as it was; the measurements replace the estimates: plan again, which
            // may evict more, wait for room, or refuse a module too big for the budget.
            ++replans;
            events.clear();
            lock.lock();
            ++counters_.replans;
            continue;
          }
          if (!loaded.ok() || lease == nullptr || granted) return loaded;
          // Loaded, but its session (measured only now) has no room beside the other leases:
          // wait for one, holding nothing, as the first lease of an idle module does.
          events.clear();
          loaded_for_it = true;
          lock.lock();
          continue;
        }
        reason = "requests ahead of it in the admission queue go first";
      } else if (!CanEverFit(request)) {
        ++counters_.refusals;
        events.push_back({EventKind::kRefused, specs.empty() ? "" : specs[0].key, Now(), 0,
                          ComputeUsage({}, {}, request.load).bytes, plan.status().message()});
        return finish(plan.status());
      } else {
        reason = plan.status().message();
      }
      me.request = std::move(request);
    }
    const std::int64_t waited = Now() - start;
    if (waited >= timeout_micros) {
      return finish(AdmissionTimeout(me, specs.empty() ? "" : specs[0].key, what, reason, waited,
                                     timeout_micros, events));
    }
    Enqueue(me);
    cv_.wait_for(lock, kAdmissionPoll);
  }
}

Status ResidentSet::LoadAndCommit(std::unique_lock<std::mutex>& lock,
                                  const std::vector<const ModuleSpec*>& to_load, bool rooms,
                                  const std::vector<std::string>& victims, Lease* lease,
                                  const std::string& lease_key, const std::string& what,
                                  std::vector<Event> events, bool* granted, bool* underestimated) {
  // Reserve: the new modules are "loading" (their bytes count in every other plan), the victims
  // are held (not leasable, not victims of anyone else, their bytes still counted).
  const std::uint64_t txn = ++next_txn_;
  auto ticket = std::make_shared<Ticket>();
  for (const ModuleSpec* s : to_load) {
    auto e = std::make_unique<Entry>();
    e->spec = *s;
    e->state = Entry::State::kLoading;
    e->ticket = ticket;
    if (rooms) {  // the smoke check runs a session: its bytes are charged while it loads
      const SessionCharge room = SessionRoom(*s);
      e->kv_bytes = room.kv_bytes;
      e->session_bytes = room.other_bytes;
    }
    entries_.emplace(s->key, std::move(e));
  }
  for (const std::string& v : victims) {
    entries_.at(v)->victim_of = txn;
    entries_.at(v)->victim_ticket = ticket;
  }
  // Release the victims before loading, so that memory never holds them and the new modules
  // at once. What a victim shares with an incoming module (an adapter's base) is kept mapped
  // for the load: the incoming module's plan counts it already.
  std::vector<std::string> released;
  std::vector<std::shared_ptr<const void>> kept;    // shared artifacts, held until the end
  std::vector<std::shared_ptr<LoadedModule>> drop;  // destroyed after the lock is released
  if (!overlap_loads_) {
    for (const std::string& v : victims) {
      const Bytes freed = BytesOf(v, released);
      Entry& e = *entries_.at(v);
      const Footprint& f = PlanFootprint(e.spec);
      const bool shares = std::any_of(to_load.begin(), to_load.end(), [&](const ModuleSpec* s) {
        return SharesAnArtifact(f, PlanFootprint(*s));
      });
      if (shares) kept.push_back(loader_.SharedArtifacts(*e.module));
      drop.push_back(std::move(e.module));
      e.state = Entry::State::kReleased;
      released.push_back(v);
      ++counters_.evictions;
      events.push_back({EventKind::kEvicted, v, Now(), 0, freed,
                        "to make room: " + what + " (released before the load)"});
    }
  }
  lock.unlock();
  drop.clear();  // the victims' memory is freed before anything loads
  Emit(std::move(events));
  events.clear();

  // Load and verify without the lock.
  std::vector<std::pair<LoadResult, std::int64_t>> loaded;  // with load micros
  Status failure;
  std::string failed_key;
  for (const ModuleSpec* s : to_load) {
    const std::int64_t t0 = Now();
    Result<LoadResult> r = LoadVerified(loader_, *s);
    if (!r.ok()) {
      failure = r.status();
      failed_key = s->key;
      break;
    }
    loaded.emplace_back(std::move(r).value(), Now() - t0);
  }

  lock.lock();
  for (std::size_t i = 0; i < loaded.size(); ++i) {
    measured_[to_load[i]->key] = loaded[i].first.measured;
  }
  for (const ModuleSpec* s : to_load) {  // the smoke checks' sessions have ended
    Entry& e = *entries_.at(s->key);
    e.kv_bytes = e.session_bytes = 0;
  }
  if (failure.ok()) {
    // The plan again, with what the loads measured: the modules that stay once this and every
    // other transaction in progress commit (their victims' reservations are theirs to end).
    std::vector<std::string> leaving;
    for (const auto& [key, e] : entries_) {
      if (e->victim_of != 0) leaving.push_back(key);
    }
    const Usage after = ComputeUsage(Snapshot(), leaving, {});
    if (!Fits(budgets_, after)) {
      failure = Status(StatusCode::kResourceExhausted,
                       "resident: " + what + ": the measured footprints exceed the estimates and " +
                           "the plan no longer fits (" + Excess(budgets_, after) +
                           "); the measurements are kept for the next plan");
      failed_key = to_load.front()->key;
      *underestimated = true;
    }
  }
  if (!failure.ok()) {
    for (auto& [result, micros] : loaded) drop.push_back(std::move(result.module));
    loaded.clear();
    std::string outcome = "; the resident set is unchanged";
    if (!released.empty()) outcome = RestoreVictims(lock, released, what, drop, events);
    // Every reservation ends only now, so that the restore had its room.
    for (const ModuleSpec* s : to_load) entries_.erase(s->key);
    for (const std::string& v : victims) {
      if (auto it = entries_.find(v); it != entries_.end()) {
        it->second->victim_of = 0;
        it->second->victim_ticket = nullptr;
      }
    }
    ++counters_.load_failures;
    failure = Status(failure.code(), failure.message() + outcome);
    events.push_back({EventKind::kLoadFailed, failed_key, Now(), 0, {}, failure.message()});
    ticket->status = failure;
    ticket->underestimated = *underestimated;
    ticket->done = true;
    cv_.notify_all();
    lock.unlock();
    drop.clear();
    kept.clear();
    Emit(std::move(events));
    return failure;
  }
  // Commit.
  for (const std::string& v : victims) {
    if (entries_.at(v)->state == Entry::State::kReleased) {
      entries_.erase(v);  // gone from memory already, its event sent
    } else {
      events.push_back(RemoveEntry(v, "to make room: " + what, drop));
    }
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
  if (lease != nullptr && (rooms || SessionRoomFits(lease_key))) {
    GrantLease(*entries_.at(lease_key), lease, events);
    *granted = true;
  }
  ticket->done = true;
  cv_.notify_all();
  lock.unlock();
  drop.clear();
  kept.clear();  // the new modules hold what they share now
  Emit(std::move(events));
  return Status::Ok();
}

std::string ResidentSet::RestoreVictims(std::unique_lock<std::mutex>& lock,
                                        const std::vector<std::string>& released,
                                        const std::string& what,
                                        std::vector<std::shared_ptr<LoadedModule>>& drop,
                                        std::vector<Event>& events) {
  std::vector<ModuleSpec> specs;
  for (const std::string& v : released) specs.push_back(entries_.at(v)->spec);
  lock.unlock();
  drop.clear();  // the failed load's modules go before the victims come back
  std::vector<std::pair<Result<LoadResult>, std::int64_t>> restored;
  const std::int64_t t0 = Now();
  for (const ModuleSpec& s : specs) {
    const std::int64_t t = Now();
    Result<LoadResult> r = LoadVerified(loader_, s);
    restored.emplace_back(std::move(r), Now() - t);
  }
  const std::int64_t took = Now() - t0;
  lock.lock();
  counters_.restore_micros += took;
  std::vector<std::string> back, lost;
  Bytes back_bytes;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const std::string& key = specs[i].key;
    Result<LoadResult>& r = restored[i].first;
    if (!r.ok()) {
      ++counters_.restore_failures;
      lost.push_back(key + " (" + r.status().message() + ")");
      entries_.erase(key);  // its eviction was reported when it was released
      continue;
    }
    Entry& e = *entries_.at(key);
    e.module = std::move(r->module);
    e.state = Entry::State::kResident;
    measured_[key] = r->measured;
    ++counters_.restores;
    const Bytes b = FootprintBytes(r->measured);
    back_bytes.host += b.host;
    back_bytes.device += b.device;
    back.push_back(key);
    events.push_back({EventKind::kLoaded, key, Now(), restored[i].second, b,
                      "restored after the failed " + what});
  }
  std::string out;
  if (!back.empty()) {
    out += "; restored the " + std::to_string(back.size()) + " module" +
           (back.size() == 1 ? "" : "s") + " it had evicted (" + KeyList(back) + ": " +
           HumanBytes(back_bytes.host) + " in " + HumanMicros(took) + ")";
  }
  if (!lost.empty()) {
    out += "; could not restore " + KeyList(lost) + ": no longer resident";
  }
  return out;
}

}  // namespace tessera::resident
