// The insides of tessera::Runtime (include/tessera/runtime.h), shared by runtime.cc,
// runtime_session.cc and runtime_report.cc.
//
// Locks, outermost first: a session's `mu` (one Generate at a time) → Impl::mu (the handle
// tables) → the resident set's lock → registry_mu. No lock is held across a load or a forward
// pass except a session's own `mu`.
#ifndef TESSERA_RUNTIME_RUNTIME_IMPL_H_
#define TESSERA_RUNTIME_RUNTIME_IMPL_H_

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "registry/registry.h"
#include "resident/resident_set.h"
#include "runtime/handle_table.h"
#include "runtime/module_loader.h"
#include "runtime/state_sync.h"
#include "tessera/runtime.h"

namespace tessera {

// A ModuleHandle's object: one lease.
struct ModuleLeaseState {
  runtime::PackageInfo package;
  resident::ResidentSet::Lease lease;
  std::shared_ptr<runtime::RuntimeModule> module;
};

// A SessionHandle's object: its own lease, the engine session and the transcript.
struct SessionState {
  ~SessionState();
  std::atomic<std::uint64_t>* activity = nullptr;
  std::mutex mu;  // one Generate (or reset) at a time
  resident::ResidentSet* set = nullptr;
  resident::ResidentSet::Lease lease;
  resident::ResidentSet::SessionCharge charge;
  std::shared_ptr<runtime::RuntimeModule> module;
  std::shared_ptr<const package::Manifest> manifest;  // the module's package
  std::unique_ptr<Session> session;
  std::vector<Turn> transcript;
};

struct Runtime::Impl {
  ~Impl();

  // "id" or "id@version" to the package, registered with the loader. kNotFound, or
  // kFailedPrecondition for a version that may not be loaded (suspended, retired, ...).
  Result<runtime::PackageInfo> Resolve(std::string_view ref);
  // The lease of `package`'s module; on a load failure, the known-good fallback.
  Result<std::shared_ptr<ModuleLeaseState>> Lease(const runtime::PackageInfo& package,
                                                  bool allow_fallback);
  void OnEvent(const resident::Event& e);
  // The session's state, locked for one thread; kFailedPrecondition when another thread holds
  // it, or for a stale handle.
  Result<std::shared_ptr<SessionState>> LockedSession(SessionHandle handle,
                                                      std::unique_lock<std::mutex>& lock);
  // Records `key`'s measured footprint in the registry (on the state-sync worker).
  Status PersistFootprint(registry::Registry& store, const std::string& key);
  // The modules in memory now, for the live state file (on the state-sync worker).
  runtime::StateSync::LiveSet LiveModules() const;

  RuntimeOptions options;
  std::unique_ptr<registry::Registry> registry;
  std::mutex registry_mu;  // the registry is used by one thread at a time
  // A second connection for the state-sync worker's writes, so that requests reading the
  // registry never wait for a write's fsync (the index is in WAL mode).
  std::unique_ptr<registry::Registry> sync_registry;
  std::mutex sync_registry_mu;
  // Packages resolved before, by "id@version", with the manifest they were resolved from
  // (guarded by registry_mu).
  struct Resolved {
    std::string manifest_sha256;
    runtime::PackageInfo package;
  };
  std::map<std::string, Resolved> resolved;
  // What each reference ("id" or "id@version") resolved to, and the registry's data version
  // then: reused while no other connection has changed the store (a resident module's
  // acquire then costs no index query). Cleared when this runtime writes to the registry.
  struct Recent {
    std::int64_t data_version = 0;
    runtime::PackageInfo package;
  };
  std::map<std::string, Recent> recent;
  std::unique_ptr<runtime::ModuleLoader> loader;
  std::unique_ptr<resident::ResidentSet> set;
  std::unique_ptr<runtime::StateSync> sync;

  // Moves before and after every allocation the runtime makes outside loads (sessions opened
  // and closed, generations), so that the loader can tell a quiet heap measurement.
  std::atomic<std::uint64_t> activity{0};

  mutable std::mutex mu;
  runtime::HandleTable<ModuleLeaseState> modules{"module"};
  runtime::HandleTable<SessionState> sessions{"session"};
};

}  // namespace tessera

#endif  // TESSERA_RUNTIME_RUNTIME_IMPL_H_
