// The resident-set manager's view of modules: what to load (ModuleSpec), who loads it (Loader)
// and what it reports (Event). The manager never looks inside a loaded module: the runtime's
// loader builds engine models and adapters, the tests' loader builds fakes that can be told to
// fail or stall.
#ifndef TESSERA_RESIDENT_LOADER_H_
#define TESSERA_RESIDENT_LOADER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "resident/budget.h"
#include "tessera/status.h"

namespace tessera::resident {

// One module to make resident.
struct ModuleSpec {
  std::string key;     // "id@version": unique among modules
  std::string sha256;  // of the primary artifact: the exact bytes, recorded in the known-good set
  // The manifest's estimate: used for admission until the module has been measured once.
  Footprint estimate;
  // A measurement from an earlier run (the registry keeps them): used instead of the estimate
  // until this manager measures the module itself.
  std::optional<Footprint> measured_before;
};

// A loaded module. The manager only holds and drops it; dropping the last reference frees it.
class LoadedModule {
 public:
  virtual ~LoadedModule() = default;
};

struct LoadResult {
  std::shared_ptr<LoadedModule> module;
  Footprint measured;  // what the load actually holds (measured = true)
};

// Loads modules. Called without any lock of the manager held: Load may block on I/O for as long
// as it takes, and may be called from several threads at once for different modules.
class Loader {
 public:
  virtual ~Loader() = default;
  virtual Result<LoadResult> Load(const ModuleSpec& spec) = 0;
  // The smoke check after loading (for models: one forward pass). An error fails the load. It
  // may complete the load's measurement (`measured`), e.g. with a session's bytes.
  virtual Status Verify(const ModuleSpec& spec, LoadedModule& module, Footprint& measured) = 0;
  // What keeps `module`'s shared artifacts (a mapped base model) alive without its private
  // part, or null when they cannot be told apart. A transaction that releases a victim before
  // loading a module that shares an artifact with it holds this meanwhile, so that the load
  // finds the artifact mapped instead of mapping it again.
  virtual std::shared_ptr<const void> SharedArtifacts(const LoadedModule& module) {
    (void)module;
    return nullptr;
  }
};

enum class EventKind : std::uint8_t {
  kLoaded,        // a module became resident (bytes: measured footprint)
  kLoadFailed,    // loading or verifying failed; the resident set is as before
  kEvicted,       // a module left the resident set (bytes: what it freed)
  kRefused,       // a plan could not fit; nothing was allocated
  kRolledBack,    // the known-good set was restored, or a failed upgrade fell back
  kQueueTimeout,  // a request waited for a K_parallel slot past its deadline
  kActive,        // a module's first lease was taken (resident -> active)
  kIdle,          // a module's last lease was released (active -> resident)
};
std::string_view EventKindName(EventKind kind);

struct Event {
  EventKind kind = EventKind::kLoaded;
  std::string module;          // "id@version"
  std::int64_t at_micros = 0;  // the manager's clock (steady)
  std::int64_t duration_micros = 0;
  Bytes bytes;
  std::string detail;  // the reason or the error message
};

// Called after the manager's lock is released; may be called from several threads.
using EventSink = std::function<void(const Event&)>;

}  // namespace tessera::resident

#endif  // TESSERA_RESIDENT_LOADER_H_
