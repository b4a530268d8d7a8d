// KvCache allocation.
#include "model/kv_cache.h"

#include <string>

namespace tessera::model {

std::uint64_t KvCache::BytesFor(const LlamaConfig& config, std::int32_t n_ctx) {
  return 2ull * static_cast<std::uint64_t>(config.n_layer) * static_cast<std::uint64_t>(n_ctx) *
         static_cast<std::uint64_t>(config.n_embd_kv()) * sizeof(float);
}

Result<KvCache> KvCache::Create(const LlamaConfig& config, std::int32_t n_ctx) {
  if (n_ctx <= 0 || n_ctx > config.n_ctx_train) {
    return Status(StatusCode::kOutOfRange, "model: kv cache: n_ctx " + std::to_string(n_ctx) +
                                               " is outside [1, context_length " +
                                               std::to_string(config.n_ctx_train) + "]");
  }
  if (config.n_layer <= 0 || config.n_embd_kv() <= 0) {
    return Status(StatusCode::kInvalidArgument, "model: kv cache: config has no layers or heads");
  }
  KvCache cache;
  cache.n_layer_ = config.n_layer;
  cache.n_ctx_ = n_ctx;
  cache.n_embd_kv_ = config.n_embd_kv();
  const std::size_t n = static_cast<std::size_t>(config.n_layer) * n_ctx * config.n_embd_kv();
  cache.k_.Reset(n);
  cache.v_.Reset(n);
  return cache;
}

}  // namespace tessera::model
