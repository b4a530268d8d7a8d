// ResidentSet: the modules in memory, under budgets, changed by transactions.
//
//   ResidentSet set(loader, {.budgets = {.host_bytes = 64'000'000, .max_active = 3}});
//   Result<ResidentSet::Lease> lease = set.Acquire(spec);   // loads (evicting) when needed
//   ... use lease->module() ...                             // cannot be evicted meanwhile
//   // the lease's destructor releases it
//
// Transactions. Activate({a, b, c}) and Acquire(a) plan first (plan.h): what to load, which
// modules to evict. Then the modules are loaded and verified (Loader::Load, Loader::Verify)
// without the manager's lock, so requests for modules already resident go on meanwhile. If a
// load or a check fails, or the measured footprints no longer fit, the new modules are dropped
// and the resident set is as before; on success the new modules become resident in one step.
//
// The peak. By default the budget holds at every instant: the victims are dropped *before*
// the new modules load (their bytes are freed first), and when the load fails they are loaded
// again ("restored"; the error and the counters report what that cost, and a victim whose
// restore fails too is reported as evicted). Of a victim that shares an artifact with an
// incoming module (an adapter on the same base), only the private part goes: the loader's
// SharedArtifacts() keeps the base mapped for the load, which counts it already. With
// ResidentOptions::overlap_loads the victims stay in memory until the commit (ADR 0014's first
// design): a failed load costs nothing, but the peak is the old set plus the modules loading.
// Either way, until the transaction ends the victims' bytes stay reserved: no other request
// can plan with them, so a restore always has its room.
//
// Admission. A request that cannot fit *now* because of other requests (leases, sessions,
// loads in progress, soft pins, minimum residence) waits in a FIFO queue until its plan fits
// or its deadline passes (kUnavailable, with how long it waited and a retry hint). Only a
// request that can never fit (larger than the budgets minus the pinned modules and the ones it
// needs itself) is refused at once (kResourceExhausted). Fairness: a request that fits may be
// admitted ahead of waiting ones that do not fit yet, but each waiting request is overtaken at
// most ResidentOptions::max_overtakes times; then it is served first, and until then nothing
// new is admitted ahead of it (not even a lease of an unleased resident module, which would
// keep a module it may need to evict). A session of a leased module (ChargeSession) is work
// in progress: it goes ahead whenever it fits, so that requests holding leases never wait
// behind requests that wait for those leases to end. And a lease of a module that is not
// leased yet (a load, or a hit on an idle module) is granted only when one more session of it
// (as large as the last one charged on it) fits too: requests that take a lease and then open
// a session cannot all end up holding leases and waiting for each other's room (the last one
// granted always has its room). A module's session size is the last one charged on it, else
// Footprint::session_kv_bytes + session_bytes when its loader measured them. A caller that holds a
// lease and asks for something that fits only without it waits until its deadline: pass a short
// timeout there.
//
// Coalescing: a request for a module another request is loading waits for that load and shares
// its result (its module, or its error). A request for a victim of a transaction in progress
// waits for the transaction's end.
//
// Footprints: each load's measured footprint (LoadResult::measured) is kept by key and used for
// every later plan of that module; the spec's estimate only before the first measurement.
//
// K_parallel: EnterParallel() admits a leased module to generation. A module already generating
// joins at once; otherwise it takes one of Budgets::max_parallel slots, waiting in FIFO order up
// to a deadline, then fails with kUnavailable and a retry hint.
//
// Deadlines: every call that may wait takes `timeout_micros` (negative: the default,
// Budgets::queue_timeout_micros). Waiting looks at the clock every 2 ms, so a test's fake
// clock drives deadlines.
//
// Thread safety: every method may be called from any thread. Events are delivered after the
// manager's lock is released.
#ifndef TESSERA_RESIDENT_RESIDENT_SET_H_
#define TESSERA_RESIDENT_RESIDENT_SET_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "base/clock.h"
#include "resident/budget.h"
#include "resident/loader.h"
#include "resident/plan.h"
#include "resident/policy.h"
#include "tessera/status.h"

namespace tessera::resident {

struct ResidentOptions {
  Budgets budgets;
  const base::Clock* clock = nullptr;      // default: base::SystemClock()
  std::unique_ptr<EvictionPolicy> policy;  // default: LeastRecentlyUsed()
  EventSink on_event;                      // may be empty
  // true: a transaction's victims stay in memory until it commits (peak = old set + loads);
  // false: they are dropped before the load and restored if it fails (see the top).
  bool overlap_loads = false;
  // How many later requests may be admitted ahead of a waiting one that does not fit yet.
  std::int32_t max_overtakes = 4;
};

struct ModuleReport {
  std::string key;
  std::string sha256;
  // "resident", "loading", "evicting" (a victim of a transaction in progress, still in memory:
  // overlap_loads) or "released" (a victim dropped before the transaction's load; restored if
  // the load fails).
  std::string state;
  std::int32_t leases = 0;
  std::int32_t generating = 0;  // requests inside EnterParallel
  bool pinned = false;
  std::int64_t soft_pin_remaining_micros = 0;
  std::int64_t resident_micros = 0;  // since loaded
  std::int64_t idle_micros = 0;      // since last used
  std::uint64_t uses = 0;
  std::uint64_t kv_bytes = 0;       // its sessions' KV caches
  std::uint64_t session_bytes = 0;  // its sessions' other buffers
  std::int32_t sessions = 0;
  Footprint estimate;
  Footprint measured;  // measured == false: not measured yet
};

struct Counters {
  std::uint64_t hits = 0;       // Acquire of a resident module
  std::uint64_t loads = 0;      // modules loaded (committed)
  std::uint64_t coalesced = 0;  // requests that shared another request's load
  std::uint64_t evictions = 0;
  std::uint64_t refusals = 0;
  std::uint64_t load_failures = 0;
  std::uint64_t replans = 0;  // of those, re-checks over budget that planned again (measured)
  std::uint64_t queue_timeouts = 0;        // K_parallel slot waits that passed their deadline
  std::uint64_t admission_waits = 0;       // requests that waited for memory
  std::uint64_t admission_timeouts = 0;    // of those, how many gave up at their deadline
  std::int64_t admission_wait_micros = 0;  // the waits' total
  std::uint64_t restores = 0;              // victims loaded again after a failed load
  std::uint64_t restore_failures = 0;      // victims that could not be (evicted for good)
  std::int64_t restore_micros = 0;         // the restores' total time
};

struct ResidentReport {
  Budgets budgets;
  // Resident and loading modules (a load in progress reserves its bytes) and sessions' KV. The
  // victims of a transaction in progress are not counted: they leave when it commits.
  Usage usage;
  // What plans see: `usage` plus the victims of transactions in progress, whose room stays
  // reserved until the transaction ends (for their restore if its load fails).
  Usage reserved;
  std::int32_t k_active = 0;
  std::int32_t k_parallel = 0;  // modules generating now
  std::int32_t queued = 0;      // requests waiting for a K_parallel slot
  std::int32_t waiting = 0;     // requests waiting for another request's load or transaction
  std::int32_t admitting = 0;   // requests waiting for memory (the admission queue)
  std::string policy;
  std::vector<ModuleReport> modules;  // by key
  std::vector<ModuleSpec> known_good;
  Counters counters;
};

class ResidentSet {
 public:
  // Holds one module resident and unevictable while it lives. Move-only.
  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& other) noexcept { *this = std::move(other); }
    Lease& operator=(Lease&& other) noexcept;
    ~Lease() { Release(); }
    void Release();  // idempotent

    bool valid() const { return set_ != nullptr; }
    const std::string& key() const { return key_; }
    const std::shared_ptr<LoadedModule>& module() const { return module_; }

   private:
    friend class ResidentSet;
    ResidentSet* set_ = nullptr;
    std::string key_;
    std::shared_ptr<LoadedModule> module_;
    std::int64_t acquired_micros_ = 0;  // for the mean lease time (the retry hint)
  };

  // Admission to generation (K_parallel). Move-only; leaving on destruction.
  class Slot {
   public:
    Slot() = default;
    Slot(Slot&& other) noexcept { *this = std::move(other); }
    Slot& operator=(Slot&& other) noexcept;
    ~Slot() { Leave(); }
    void Leave();  // idempotent
    std::int64_t waited_micros() const { return waited_micros_; }

   private:
    friend class ResidentSet;
    ResidentSet* set_ = nullptr;
    std::string key_;
    std::int64_t waited_micros_ = 0;
  };

  // `loader` must outlive the set.
  ResidentSet(Loader& loader, ResidentOptions options);
  // Every lease and slot must have been released (checked).
  ~ResidentSet();
  ResidentSet(const ResidentSet&) = delete;
  ResidentSet& operator=(const ResidentSet&) = delete;

  // Makes every module of `specs` resident in one transaction (those already resident are kept).
  // Errors: kResourceExhausted (the plan can never fit; nothing changed), kUnavailable (it did
  // not fit within `timeout_micros`; nothing changed), the load or check error of the first
  // module that failed (the set as before, see "The peak"), kInvalidArgument (a key twice).
  Status Activate(std::span<const ModuleSpec> specs, std::int64_t timeout_micros = -1);
  // `spec`'s module, resident (loaded in a one-module transaction when needed), leased. Errors
  // as Activate.
  Result<Lease> Acquire(const ModuleSpec& spec, std::int64_t timeout_micros = -1);

  // What Acquire(spec) would do now, planned (plan.h) without doing it or changing anything:
  // nothing when the module is resident or being loaded; otherwise the bytes its load adds to
  // host usage (shared artifacts already resident are not counted again) and the victims, or
  // why the plan is refused.
  struct Preview {
    bool resident = false;  // resident or being loaded
    bool fits = true;
    std::uint64_t load_host_bytes = 0;
    std::vector<std::string> evict;
    std::string refusal;
  };
  Preview PreviewAcquire(const ModuleSpec& spec) const;

  // Drops a resident module now. kNotFound when not resident; kFailedPrecondition when leased
  // or pinned; kUnavailable while a transaction holds it.
  Status Evict(const std::string& key);
  // A pinned module is never a victim. kNotFound when not resident.
  Status Pin(const std::string& key, bool pinned);
  // Not a victim for `duration_micros` from now (the orchestrator protects what its plan needs
  // next); 0 clears it. kNotFound when not resident.
  Status SoftPin(const std::string& key, std::int64_t duration_micros);

  // A session's memory, charged to its leased module: its KV cache (the KV budget and host) and
  // its other buffers (host).
  struct SessionCharge {
    std::uint64_t kv_bytes = 0;
    std::uint64_t other_bytes = 0;
  };
  // Charges a new session before it is allocated, evicting other modules if needed, waiting
  // (ahead of loads) while it fits only once other requests end. kResourceExhausted when it can
  // never fit (nothing charged); kUnavailable when it did not fit, or the session limit was
  // still reached, at the deadline; kFailedPrecondition when the lease is not valid.
  Status ChargeSession(const Lease& lease, SessionCharge charge, std::int64_t timeout_micros = -1);
  void ReleaseSession(const Lease& lease, SessionCharge charge);

  // Admits the leased module to generation: see the header comment. kUnavailable (with "retry
  // after") when no slot frees before `timeout_micros` (negative: Budgets::queue_timeout_micros).
  Result<Slot> EnterParallel(const Lease& lease, std::int64_t timeout_micros = -1);

  // The known-good set: a snapshot of the resident modules (keys and sha256).
  void RecordKnownGood();
  // Makes the resident set the known-good set again: loads what is missing and evicts every
  // other module that is not leased or pinned, in one transaction. kFailedPrecondition when no
  // snapshot was recorded.
  Status RollbackToKnownGood();

  ResidentReport Report() const;

 private:
  struct Ticket;  // the outcome of one transaction, shared with the requests waiting for it
  struct Entry;
  struct Waiter;  // a request in the admission queue

  Status Transact(std::span<const ModuleSpec> specs, bool evict_others, Lease* lease,
                  const std::string& what, std::int64_t timeout_micros);
  // The rest of a transaction whose plan was admitted: reserves, releases the victims (unless
  // overlapping), loads and verifies, then commits (leasing `lease_key` into `lease` if not
  // null) or restores. Called with `lock` held; returns with it released and events emitted.
  // `rooms`: the plan counted a session of each module to load (its smoke check's), charged
  // to its entry while it loads. When it did not (no session of the module was measured
  // before), the lease is granted only if one session, measured by the load, fits beside
  // everything else; otherwise `*granted` is false and the module stays resident, idle: the
  // caller waits for room as for any first lease of an idle module. `*underestimated`: the
  // re-check with the measured footprints failed (the set is restored; the caller may plan
  // again with the measurements).
  Status LoadAndCommit(std::unique_lock<std::mutex>& lock,
                       const std::vector<const ModuleSpec*>& to_load, bool rooms,
                       const std::vector<std::string>& victims, Lease* lease,
                       const std::string& lease_key, const std::string& what,
                       std::vector<Event> events, bool* granted, bool* underestimated);
  // Whether a first lease of resident `key` leaves room for one session of it beside
  // everything else (evicting idle modules if need be); true too when no session of it was
  // measured, or when it and a session could never fit (ChargeSession refuses that). When it
  // does not fit: `reason` says why and `request` is what to wait with. Under mu_.
  bool SessionRoomFits(const std::string& key, std::string* reason = nullptr,
                       PlanRequest* request = nullptr) const;
  // After a failed load: frees `drop` (the failed modules), then loads the released victims
  // again without the lock. Each entry gets its module back or is removed. Returns the
  // sentence for the error: what came back at what cost, what could not.
  std::string RestoreVictims(std::unique_lock<std::mutex>& lock,
                             const std::vector<std::string>& released, const std::string& what,
                             std::vector<std::shared_ptr<LoadedModule>>& drop,
                             std::vector<Event>& events);
  std::vector<PlanModule> Snapshot() const;                             // under mu_
  void GrantLease(Entry& e, Lease* lease, std::vector<Event>& events);  // under mu_
  // Removes a resident entry (under mu_); its module goes to `drop`, to be destroyed after the
  // lock is released. Returns the kEvicted event with the bytes it freed.
  Event RemoveEntry(const std::string& key, const std::string& why,
                    std::vector<std::shared_ptr<LoadedModule>>& drop);
  // The bytes `key` holds apart from the modules in `gone` (shared artifacts count with the
  // last module that uses them). Under mu_.
  Bytes BytesOf(const std::string& key, const std::vector<std::string>& gone) const;
  // Under mu_; the reference lives while the lock is held and `spec` lives.
  const Footprint& PlanFootprint(const ModuleSpec& spec) const;

  // Admission (resident_admission.cc), under mu_.
  // Whether `request` fits once every lease, session, load and timed protection has ended:
  // only the pinned modules and the ones it keeps stay.
  bool CanEverFit(const PlanRequest& request) const;
  // Whether a request that fits now may be admitted before the waiters ahead of it (`me`: its
  // place in the queue, null when not queued; `in_progress`: a session of a leased module).
  // When it may, the waiters it overtakes are counted.
  bool MayGoAhead(const Waiter* me, bool in_progress);
  // Whether a lease of resident `key` (no memory needed) must wait behind a waiter that has
  // been overtaken enough.
  bool HitMustWait(const Waiter* me, const std::string& key) const;
  // One session of `spec`'s module: the last one charged on it, else the one its footprint
  // measured (the loader's smoke check), else nothing.
  SessionCharge SessionRoom(const ModuleSpec& spec) const;
  // Adds room for one session of each of `specs` to `request` when the request could ever fit
  // with it; whether it did.
  bool AddSessionRooms(std::span<const ModuleSpec* const> specs, PlanRequest& request) const;
  void Enqueue(Waiter& me);  // first wait only
  void Dequeue(Waiter& me);  // if queued
  // The kUnavailable status and event of a request that did not fit before its deadline.
  Status AdmissionTimeout(const Waiter& me, const std::string& key, const std::string& what,
                          const std::string& reason, std::int64_t waited_micros,
                          std::int64_t timeout_micros, std::vector<Event>& events);

  void ReleaseLease(const std::string& key, std::int64_t acquired_micros);
  void LeaveSlot(const std::string& key);
  void Emit(std::vector<Event> events);  // without mu_
  std::int64_t Now() const { return clock_->NowSteadyMicros(); }

  Loader& loader_;
  Budgets budgets_;
  bool overlap_loads_;
  std::int32_t max_overtakes_;
  const base::Clock* clock_;
  std::unique_ptr<EvictionPolicy> policy_;
  EventSink on_event_;

  mutable std::mutex mu_;
  std::condition_variable cv_;  // an entry, a ticket or a slot changed
  std::map<std::string, std::unique_ptr<Entry>> entries_;
  std::map<std::string, Footprint> measured_;          // by key: the last measured footprint
  std::map<std::string, SessionCharge> session_room_;  // by key: the last session charged
  std::vector<ModuleSpec> known_good_;
  bool known_good_recorded_ = false;
  std::int32_t sessions_ = 0;
  std::int32_t waiting_ = 0;
  std::int32_t generating_modules_ = 0;
  std::deque<std::uint64_t> queue_;     // tickets of requests waiting for a K_parallel slot
  std::deque<Waiter*> admission_;       // requests waiting for memory, first come first
  std::int64_t mean_lease_micros_ = 0;  // moving average of how long a lease is held
  std::uint64_t next_queue_ticket_ = 0;
  std::int64_t mean_slot_micros_ = 0;  // moving average of how long a module generates
  std::uint64_t next_txn_ = 0;
  Counters counters_;
};

}  // namespace tessera::resident

#endif  // TESSERA_RESIDENT_RESIDENT_SET_H_
