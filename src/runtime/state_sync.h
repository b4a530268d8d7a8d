// StateSync: publishes which modules this runtime holds in memory (resident, or active: leased)
// in its live state file (registry/live_states.h, ADR 0016), and records measured footprints in
// the registry, off the request path.
//
// The manager reports changes (loaded, evicted, first lease, last release) as events; each
// marks the live set stale. A worker thread then publishes the set the manager has *now* (not
// the event's), so that events delivered out of order between threads still end in the right
// set, and a request never waits for a file write. An unchanged set is not written again, and
// changes settle for kSettle (20 ms) before a write, so that a stream of requests (each a lease
// and a release) costs a few writes a second, not two per request: what `tessera list` shows
// lags by at most that. Flush() cuts the settling short and waits until everything marked
// before it is written.
//
// Residency is never written to the registry's index: it is not lifecycle, and a file whose
// lock dies with the process cannot outlive it (SIGKILL included), where an index row would.
//
// After a load, the module's measured footprint is recorded in the registry the same way
// (Registry::RecordFootprint), for the next runtime's first plan.
//
// Errors (a live file that cannot be written, a registry write that fails) do not fail
// requests: the last one is kept for last_error().
//
// Thread safety: Mark*, Flush and last_error may be called from any thread.
#ifndef TESSERA_RUNTIME_STATE_SYNC_H_
#define TESSERA_RUNTIME_STATE_SYNC_H_

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "registry/live_states.h"
#include "registry/registry.h"

namespace tessera::runtime {

class StateSync {
 public:
  // The modules in memory now, "id@version" with resident or active. Called on the worker.
  using LiveSet = std::vector<std::pair<std::string, registry::LiveState>>;
  using Snapshot = std::function<LiveSet()>;

  // Records a module's measured footprint in the registry; called on the worker thread with
  // registry_mu held.
  using PersistFootprint = std::function<Status(registry::Registry&, const std::string& key)>;

  // `registry` and `registry_mu` (which serialises every use of the registry) must outlive it.
  // `live` is owned from here on; when it could not be created (a read-only store), the set is
  // not published and last_error() says why.
  StateSync(registry::Registry& registry, std::mutex& registry_mu,
            Result<std::unique_ptr<registry::LiveStateFile>> live, Snapshot snapshot,
            PersistFootprint persist);
  ~StateSync();  // flushes, stops the worker, then removes the live file

  // The live set changed.
  void MarkChanged();
  // `key` was loaded: the live set changed and its footprint is to be recorded.
  void MarkMeasured(const std::string& key);
  void Flush();
  std::string last_error() const;

 private:
  void Run();

  registry::Registry& registry_;
  std::mutex& registry_mu_;
  std::unique_ptr<registry::LiveStateFile> live_;  // null: not published
  Snapshot snapshot_;
  PersistFootprint persist_;
  LiveSet published_;      // the set in the live file (worker only)
  mutable std::mutex mu_;  // guards what follows
  std::condition_variable cv_;
  bool changed_ = false;
  std::set<std::string> measured_;  // keys whose footprint is to be recorded
  bool busy_ = false;
  int flushing_ = 0;  // Flush() calls waiting: publish now
  // How long the worker lets changes accumulate before publishing them.
  static constexpr std::chrono::milliseconds kSettle{20};
  bool stop_ = false;
  std::string last_error_;
  std::thread worker_;
};

// "id@version" split at the last '@'.
std::pair<std::string, std::string> SplitKey(const std::string& key);

}  // namespace tessera::runtime

#endif  // TESSERA_RUNTIME_STATE_SYNC_H_
