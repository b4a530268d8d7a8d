// The insides of tessera::Adapter (include/tessera/engine.h). Internal to the engine layer.
//
// Ownership: owns the adapter's gguf::File (shared with the LoraAdapter whose matrices borrow its
// bytes). The base Model is recorded only as a weak reference to its gguf::File: an identity that
// NewSession() compares, never locked or dereferenced, so the adapter neither keeps the base alive
// nor is fooled by a later Model allocated at the same address.
// Thread safety: immutable after Adapter::Open().
#ifndef TESSERA_ENGINE_ADAPTER_IMPL_H_
#define TESSERA_ENGINE_ADAPTER_IMPL_H_

#include <memory>
#include <string>

#include "engine/model_impl.h"
#include "gguf/reader.h"
#include "model/lora_adapter.h"
#include "tessera/engine.h"

namespace tessera {

struct Adapter::Impl {
  std::unique_ptr<model::LoraAdapter> lora;
  std::weak_ptr<const gguf::File> base_file;  // identity of the base Model::Impl::file

  std::string path;
  std::string sha256;
  std::string base_sha256;  // adapter.base.sha256, or empty
  std::string description;

  // True when this adapter was opened against `m` (the same Model object).
  bool BoundTo(const Model::Impl& m) const {
    return !base_file.owner_before(m.file) && !m.file.owner_before(base_file);
  }
};

}  // namespace tessera

#endif  // TESSERA_ENGINE_ADAPTER_IMPL_H_
