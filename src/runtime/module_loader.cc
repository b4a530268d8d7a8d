#include "runtime/module_loader.h"

#include <malloc.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "gguf/reader.h"
#include "registry/gguf_facts.h"

namespace tessera::runtime {
namespace {

std::uint64_t HeapInUse() {
  const struct mallinfo2 m = mallinfo2();
  return static_cast<std::uint64_t>(m.uordblks) + static_cast<std::uint64_t>(m.hblkhd);
}

std::uint64_t FileBytes(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
}

}  // namespace

ModuleLoader::ModuleLoader(std::shared_ptr<ComputePool> pool,
                           const std::atomic<std::uint64_t>* activity, bool pack_weights)
    : pool_(std::move(pool)), activity_(activity), pack_weights_(pack_weights) {}

void ModuleLoader::Register(const PackageInfo& package) {
  std::lock_guard<std::mutex> lock(mu_);
  packages_[package.spec.key] = package;
}

Result<std::shared_ptr<const Model>> ModuleLoader::OpenModel(const std::string& path,
                                                             const std::string& sha,
                                                             CachedModel* facts) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = models_.find(sha);
    if (it != models_.end()) {
      if (std::shared_ptr<const Model> shared = it->second.model.lock()) {
        *facts = it->second;
        return shared;
      }
    }
  }
  // load_mu_ is held by the caller: no other Open runs, and the cache cannot gain this sha.
  const std::uint64_t activity_before = activity_->load();
  const std::uint64_t heap_before = HeapInUse();
  ModelOptions options;
  options.pool = pool_;
  options.pack_weights = pack_weights_;
  TS_ASSIGN_OR_RETURN(std::unique_ptr<Model> opened, Model::Open(path, options));
  const std::uint64_t heap_after = HeapInUse();
  const bool quiet = activity_->load() == activity_before;
  if (opened->sha256() != sha) {
    return Status(StatusCode::kIntegrity, "runtime: " + path + " has sha256 " + opened->sha256() +
                                              ", the registry recorded " + sha);
  }
  std::shared_ptr<const Model> model(std::move(opened));
  CachedModel cached;
  // The canonical vocabulary hash (package.md §5): what an adapter's manifest binds.
  Result<gguf::File> file = gguf::File::Open(path);
  if (!file.ok()) return file.status().WithContext("runtime: " + path);
  TS_ASSIGN_OR_RETURN(cached.vocab_sha256, registry::CanonicalVocabSha256(*file));
  cached.model = model;
  cached.heap_bytes = quiet && heap_after > heap_before ? heap_after - heap_before : 0;
  cached.heap_measured = quiet;
  cached.file_bytes = FileBytes(path);
  cached.packed_bytes = model->packed_bytes();
  cached.released_bytes = std::min(model->released_file_bytes(), cached.file_bytes);
  {
    std::lock_guard<std::mutex> lock(mu_);
    models_[sha] = cached;
  }
  *facts = cached;
  return model;
}

Result<resident::LoadResult> ModuleLoader::Load(const resident::ModuleSpec& spec) {
  PackageInfo p;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = packages_.find(spec.key);
    if (it == packages_.end()) {
      return Status(StatusCode::kInternal, "runtime: " + spec.key + " was not registered");
    }
    p = it->second;
  }
  std::lock_guard<std::mutex> load_lock(load_mu_);
  auto module = std::make_shared<RuntimeModule>();
  module->info = p.info;
  resident::LoadResult result;
  CachedModel facts;
  TS_ASSIGN_OR_RETURN(module->model, OpenModel(p.weights_path, p.weights_sha256, &facts));
  bool quiet = facts.heap_measured;
  // The file's resident pages (less those that packed copies replaced, ADR 0023) and the heap
  // the load grew by, never less than the packed copies it holds; without a quiet measurement
  // of its own, the heap part of an earlier one of the same bytes.
  std::uint64_t weights_bytes = facts.file_bytes - facts.released_bytes +
                                std::max(facts.heap_bytes, facts.packed_bytes);
  const std::optional<resident::Footprint>& before = spec.measured_before;
  if (!quiet && before.has_value()) {
    for (const resident::ArtifactCharge& a : before->artifacts) {
      if (a.sha256 == p.weights_sha256) weights_bytes = std::max(weights_bytes, a.bytes.host);
    }
  }
  result.measured.artifacts.push_back({p.weights_sha256, {weights_bytes, 0}});
  if (p.info.kind == "adapter") {
    // The adapter is refused unless its signed manifest binds the exact weights and tokenizer
    // of the base it is about to run on.
    const package::AdapterBase& bound = *p.manifest->base;
    if (bound.weights_sha256 != module->model->sha256() ||
        bound.tokenizer_sha256 != facts.vocab_sha256) {
      return Status(StatusCode::kIncompatible,
                    "runtime: " + spec.key + " is bound to base weights " + bound.weights_sha256 +
                        " and tokenizer " + bound.tokenizer_sha256 + ", but its base has " +
                        module->model->sha256() + " and " + facts.vocab_sha256);
    }
    const std::uint64_t activity_before = activity_->load();
    const std::uint64_t heap_before = HeapInUse();
    TS_ASSIGN_OR_RETURN(module->adapter, Adapter::Open(p.adapter_path, *module->model));
    const std::uint64_t heap_after = HeapInUse();
    quiet = quiet && activity_->load() == activity_before;
    if (module->adapter->sha256() != p.info.sha256) {
      return Status(StatusCode::kIntegrity, "runtime: " + p.adapter_path + " has sha256 " +
                                                module->adapter->sha256() +
                                                ", the registry recorded " + p.info.sha256);
    }
    result.measured.private_bytes.host =
        FileBytes(p.adapter_path) +
        (quiet && heap_after > heap_before ? heap_after - heap_before : 0);
    if (!quiet && before.has_value()) {
      result.measured.private_bytes.host =
          std::max(result.measured.private_bytes.host, before->private_bytes.host);
    }
  }
  result.measured.exact = quiet;  // not recorded for later runs otherwise
  module->info.description = module->model->description();
  if (module->adapter != nullptr) {
    module->info.description += " + " + module->adapter->description();
  }
  result.module = std::move(module);
  return result;
}

std::shared_ptr<const void> ModuleLoader::SharedArtifacts(const resident::LoadedModule& module) {
  return static_cast<const RuntimeModule&>(module).model;
}

Status ModuleLoader::Verify(const resident::ModuleSpec& spec, resident::LoadedModule& loaded,
                            resident::Footprint& measured) {
  auto& module = static_cast<RuntimeModule&>(loaded);
  SessionOptions so;
  if (module.adapter != nullptr) so.adapters.push_back({module.adapter, 1.0f});
  TS_ASSIGN_OR_RETURN(std::unique_ptr<Session> session, module.model->NewSession(so));
  const SessionMemory memory = session->memory();
  module.session_memory = memory;
  measured.kv_bytes_per_token =
      session->n_ctx() > 0 ? memory.kv_bytes / static_cast<std::uint64_t>(session->n_ctx()) : 0;
  measured.session_bytes = memory.other_bytes;
  measured.session_kv_bytes = memory.kv_bytes;
  const std::int32_t first = module.model->bos_id() >= 0 ? module.model->bos_id() : 0;
  const std::int32_t prompt[] = {first};
  GenerateOptions g;
  g.max_tokens = 1;
  TS_ASSIGN_OR_RETURN(GenerateResult r, session->Generate(prompt, g));
  if (r.tokens.empty() || !std::isfinite(r.tokens[0].logprob)) {
    return Status(StatusCode::kInternal,
                  "runtime: " + spec.key + ": one forward pass gave no finite next token");
  }
  return Status::Ok();
}

}  // namespace tessera::runtime
