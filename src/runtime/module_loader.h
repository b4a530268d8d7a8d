// The runtime's loader: turns installed packages into engine models and adapters for the
// resident-set manager, mapping each weights blob once.
//
// Artifacts. A model package's module is an engine Model opened on its weights blob; an
// adapter package's module is its base's Model plus the Adapter. Models are cached by the
// blob's sha256 while any module uses them, so every module on the same weights shares one
// mapping and one tokenizer (engine adapters are bound to one Model object).
//
// Measurement. A module's footprint is measured at load: a weights artifact costs its mapped
// file size plus the heap its Model allocated (tokenizer, norm copies), taken as the growth of
// the process heap across Model::Open; an adapter costs its file size plus its heap. Loads are
// serialised among themselves for this, and the runtime counts every other allocation it makes
// (sessions opened and closed, generations) in `activity`: when that counter moved during a
// load, the heap growth is not the load's alone, so the load keeps the heap part of an earlier
// measurement of the same bytes (LoadResult::measured.measured is then false: not recorded
// for later runs). The smoke check opens a session and runs one forward pass: the session's
// exact KV and buffer bytes (tessera::Session::memory()) give kv_bytes_per_token,
// session_kv_bytes and session_bytes (the manager charges a load one such session).
//
// Integrity. Model::Open hashes the whole file; the hash must equal the sha256 the registry
// recorded, else the load fails with kIntegrity (the blob changed on disk). An adapter loads
// only onto the base its signed manifest binds: base.weights_sha256 must be the base Model's
// sha256 and base.tokenizer_sha256 its canonical vocabulary hash, else kIncompatible.
#ifndef TESSERA_RUNTIME_MODULE_LOADER_H_
#define TESSERA_RUNTIME_MODULE_LOADER_H_

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "package/manifest.h"
#include "resident/loader.h"
#include "tessera/engine.h"
#include "tessera/runtime.h"

namespace tessera::runtime {

// What the runtime knows about one installed package, resolved from the registry.
struct PackageInfo {
  ModuleInfo info;             // id, version, kind, sha256, base
  std::string weights_path;    // models: the weights blob; adapters: the base's weights blob
  std::string weights_sha256;  // of weights_path
  std::string adapter_path;    // adapters only
  std::string known_good;      // rollback.known_good version, "" when none
  resident::ModuleSpec spec;   // key "id@version", the manifest's estimate
  std::shared_ptr<const package::Manifest> manifest;  // its contract, facts, base binding
};

// A module as the runtime uses it.
class RuntimeModule final : public resident::LoadedModule {
 public:
  std::shared_ptr<const Model> model;
  std::shared_ptr<const Adapter> adapter;  // adapters only
  ModuleInfo info;
  SessionMemory session_memory;  // one session's bytes, measured by the smoke check
};

class ModuleLoader final : public resident::Loader {
 public:
  // `activity` counts the runtime's allocations outside loads; it must outlive the loader.
  // pack_weights: ModelOptions::pack_weights of every model it opens.
  ModuleLoader(std::shared_ptr<ComputePool> pool, const std::atomic<std::uint64_t>* activity,
               bool pack_weights = true);

  // Registers what the manager may ask to load (the runtime resolves packages first).
  void Register(const PackageInfo& package);

  Result<resident::LoadResult> Load(const resident::ModuleSpec& spec) override;
  Status Verify(const resident::ModuleSpec& spec, resident::LoadedModule& module,
                resident::Footprint& measured) override;
  // The module's Model (its weights): an adapter's base stays mapped while another adapter on
  // it loads in place of this one.
  std::shared_ptr<const void> SharedArtifacts(const resident::LoadedModule& module) override;

 private:
  struct CachedModel {
    std::weak_ptr<const Model> model;
    std::uint64_t heap_bytes = 0;
    std::uint64_t file_bytes = 0;
    std::uint64_t packed_bytes = 0;    // Model::packed_bytes(): private copies, on the heap
    std::uint64_t released_bytes = 0;  // Model::released_file_bytes(): not resident after load
    bool heap_measured = false;  // false: the heap growth was not the load's alone
    std::string vocab_sha256;    // canonical vocabulary bytes (docs/formats/package.md §5)
  };
  // The Model on `path` (sha256 `sha`), shared when another module already holds it.
  Result<std::shared_ptr<const Model>> OpenModel(const std::string& path, const std::string& sha,
                                                 CachedModel* facts);

  std::shared_ptr<ComputePool> pool_;
  const std::atomic<std::uint64_t>* activity_;
  bool pack_weights_ = true;
  std::mutex mu_;       // packages_ and models_
  std::mutex load_mu_;  // one Model::Open/Adapter::Open at a time (heap measurement)
  std::map<std::string, PackageInfo> packages_;  // by key
  std::map<std::string, CachedModel> models_;    // by weights sha256
};

}  // namespace tessera::runtime

#endif  // TESSERA_RUNTIME_MODULE_LOADER_H_
