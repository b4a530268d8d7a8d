// ResidentSet: the modules in memory, under budgets, changed by transactions.
//
//   ResidentSet set(loader, {.budgets = {.host_bytes = 64'000'000, .max_active = 3}});
//   Result<ResidentSet::Lease> lease = set.Acquire(spec);   // loads (evicting) when needed
//   ... use lease->module() ...                             // cannot be evicted meanwhile
//   // the lease's destructor releases it
//
// Transactions. Activate({a, b, c}) and Acquire(a) plan first (plan.h): what to load, which
// modules to evict. A plan that cannot fit is refused before anything is allocated. Then the
// modules are loaded and verified (Loader::Load, Loader::Verify) without the manager's lock, so
// requests for modules already resident go on meanwhile; the victims stay resident (but cannot
// be leased) until the commit. If a load or a check fails, or the measured footprints no longer
// fit, the new modules are dropped and the victims released: the resident set is exactly as
// before. On success the victims are dropped and the new modules become resident, in one step.
// Peak memory during a transaction is therefore the old set plus the modules being loaded.
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
};

struct ModuleReport {
  std::string key;
  std::string sha256;
  std::string state;  // "resident", "loading", "evicting"
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
  std::uint64_t queue_timeouts = 0;
};

struct ResidentReport {
  Budgets budgets;
  // Resident and loading modules (a load in progress reserves its bytes) and sessions' KV. The
  // victims of a transaction in progress are not counted: they leave when it commits.
  Usage usage;
  std::int32_t k_active = 0;
  std::int32_t k_parallel = 0;  // modules generating now
  std::int32_t queued = 0;      // requests waiting for a K_parallel slot
  std::int32_t waiting = 0;     // requests waiting for another request's load or transaction
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
  // Errors: kResourceExhausted (the plan cannot fit; nothing changed), the load or check error
  // of the first module that failed (nothing changed), kInvalidArgument (a key twice).
  Status Activate(std::span<const ModuleSpec> specs);
  // `spec`'s module, resident (loaded in a one-module transaction when needed), leased.
  Result<Lease> Acquire(const ModuleSpec& spec);

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
  // Charges a new session before it is allocated, evicting other modules if needed.
  // kResourceExhausted when it cannot fit or the session limit is reached (nothing charged);
  // kFailedPrecondition when the lease is not valid.
  Status ChargeSession(const Lease& lease, SessionCharge charge);
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
  struct Txn;

  Status Transact(std::span<const ModuleSpec> specs, bool evict_others, Lease* lease,
                  const std::string& what);
  std::vector<PlanModule> Snapshot() const;                             // under mu_
  void GrantLease(Entry& e, Lease* lease, std::vector<Event>& events);  // under mu_
  // Removes a resident entry (under mu_); its module goes to `drop`, to be destroyed after the
  // lock is released. Returns the kEvicted event with the bytes it freed.
  Event RemoveEntry(const std::string& key, const std::string& why,
                    std::vector<std::shared_ptr<LoadedModule>>& drop);
  Footprint PlanFootprint(const ModuleSpec& spec) const;  // under mu_
  void ReleaseLease(const std::string& key);
  void LeaveSlot(const std::string& key);
  void Emit(std::vector<Event> events);  // without mu_
  std::int64_t Now() const { return clock_->NowSteadyMicros(); }

  Loader& loader_;
  Budgets budgets_;
  const base::Clock* clock_;
  std::unique_ptr<EvictionPolicy> policy_;
  EventSink on_event_;

  mutable std::mutex mu_;
  std::condition_variable cv_;  // an entry, a ticket or a slot changed
  std::map<std::string, std::unique_ptr<Entry>> entries_;
  std::map<std::string, Footprint> measured_;  // by key: the last measured footprint
  std::vector<ModuleSpec> known_good_;
  bool known_good_recorded_ = false;
  std::int32_t sessions_ = 0;
  std::int32_t waiting_ = 0;
  std::int32_t generating_modules_ = 0;
  std::deque<std::uint64_t> queue_;  // tickets of requests waiting for a K_parallel slot
  std::uint64_t next_queue_ticket_ = 0;
  std::int64_t mean_slot_micros_ = 0;  // moving average of how long a module generates
  std::uint64_t next_txn_ = 0;
  Counters counters_;
};

}  // namespace tessera::resident

#endif  // TESSERA_RESIDENT_RESIDENT_SET_H_
