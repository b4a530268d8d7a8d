// The insides of ResidentSet, shared by resident_set.cc and resident_slots.cc.
#ifndef TESSERA_RESIDENT_RESIDENT_SET_IMPL_H_
#define TESSERA_RESIDENT_RESIDENT_SET_IMPL_H_

#include <cstdint>
#include <memory>

#include "resident/resident_set.h"

namespace tessera::resident {

// The outcome of one transaction, shared with the requests that wait for it.
struct ResidentSet::Ticket {
  bool done = false;
  Status status;
  // The load measured more than its plan assumed and was undone: a request that shared it
  // plans again (with the measurement) instead of failing.
  bool underestimated = false;
};

// One module of the set: resident, being loaded by a transaction, or a victim a transaction
// has dropped from memory before its load (released: restored if the load fails, removed when
// it commits). A released entry keeps its place (and its bytes in every plan) so that nobody
// else loads it or plans with its room meanwhile.
struct ResidentSet::Entry {
  enum class State : std::uint8_t { kLoading, kResident, kReleased };
  ModuleSpec spec;
  State state = State::kLoading;
  std::shared_ptr<LoadedModule> module;  // null while loading or released
  std::shared_ptr<Ticket> ticket;        // while loading: the loading transaction's
  std::uint64_t victim_of = 0;           // the transaction holding it as a victim; 0: none
  std::shared_ptr<Ticket> victim_ticket;
  std::int32_t leases = 0;
  std::int32_t sessions = 0;
  std::uint64_t kv_bytes = 0;
  std::uint64_t session_bytes = 0;
  std::int32_t generating = 0;        // requests inside EnterParallel
  std::int64_t generating_since = 0;  // when `generating` went from 0 to 1
  bool pinned = false;
  std::int64_t soft_pin_until = 0;
  std::int64_t loaded_at = 0;
  std::int64_t last_used = 0;
  std::uint64_t uses = 0;
};

// A request waiting for memory. Lives on the waiting thread's stack; the queue points to it.
struct ResidentSet::Waiter {
  PlanRequest request;         // what it needs, as of its last look (under mu_)
  bool hit = false;            // it needs no memory, only a lease of a resident module
  bool in_progress = false;    // a session of a leased module: goes ahead when it fits
  std::int32_t overtaken = 0;  // requests admitted ahead of it while it did not fit
  bool queued = false;
  std::int64_t since = 0;  // when it joined the queue
};

}  // namespace tessera::resident

#endif  // TESSERA_RESIDENT_RESIDENT_SET_IMPL_H_
