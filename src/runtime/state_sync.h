// StateSync: keeps the registry's lifecycle states (resident, active) following the resident
// set, off the request path.
//
// The manager reports changes (loaded, evicted, first lease, last release) as events; each
// names a module whose registry state may now be stale. StateSync queues the module and a
// worker thread writes the state the manager has *now* (not the event's), so that events
// delivered out of order between threads still end in the right state, and a request never
// waits for the registry's fsync. Flush() waits until every queued module is written.
//
// After a load, the module's measured footprint is recorded in the registry the same way
// (Registry::RecordFootprint), for the next runtime's first plan.
//
// Registry errors do not fail requests: the last one is kept for the report.
#ifndef TESSERA_RUNTIME_STATE_SYNC_H_
#define TESSERA_RUNTIME_STATE_SYNC_H_

#include <condition_variable>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "registry/registry.h"

namespace tessera::runtime {

class StateSync {
 public:
  // What the manager holds now for a key: nullopt-like "absent" as kInstalled (not resident),
  // kResident or kActive. Called on the worker thread.
  using CurrentState = std::function<registry::State(const std::string& key)>;

  // Records a module's measured footprint in the registry; called on the worker thread with
  // registry_mu held.
  using PersistFootprint = std::function<Status(registry::Registry&, const std::string& key)>;

  // `registry` and `registry_mu` (which serialises every use of the registry) must outlive it.
  StateSync(registry::Registry& registry, std::mutex& registry_mu, CurrentState current,
            PersistFootprint persist);
  ~StateSync();  // flushes, then stops the worker

  void Mark(const std::string& key);
  // The key's footprint is to be recorded too (after a load).
  void MarkMeasured(const std::string& key);
  void Flush();
  std::string last_error() const;

  // Writes `to` for key "id@version" now: resident/active, or back to the state before
  // residency. Under registry_mu.
  static Status Write(registry::Registry& registry, const std::string& key, registry::State to);

 private:
  void Run();

  registry::Registry& registry_;
  std::mutex& registry_mu_;
  CurrentState current_;
  PersistFootprint persist_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::set<std::string> pending_;
  std::set<std::string> measured_;  // pending keys whose footprint is to be recorded
  bool busy_ = false;
  bool stop_ = false;
  std::string last_error_;
  std::thread worker_;
};

// "id@version" split at the last '@'.
std::pair<std::string, std::string> SplitKey(const std::string& key);

}  // namespace tessera::runtime

#endif  // TESSERA_RUNTIME_STATE_SYNC_H_
