// KvCache: the keys and values of one session, for every layer and context position.
//
// Layout: two F32 buffers, each [n_layer][n_ctx][n_embd_kv] (n_embd_kv = n_head_kv * head_dim,
// innermost last), allocated once by Create() and never resized. Keys are stored after RoPE.
// F32 keeps the attention exact against the reference; an F16 cache is a later option.
// The buffers are base::ZeroedArray: zero, but paid for page by page as positions are written,
// so creating a session costs no pass over its whole cache (a runtime opens one per request).
//
// Ownership: move-only owner of its buffers. Thread safety: not thread-safe; one session (one
// thread at a time) writes it through Forward().
#ifndef TESSERA_MODEL_KV_CACHE_H_
#define TESSERA_MODEL_KV_CACHE_H_

#include <cstddef>
#include <cstdint>

#include "base/zeroed_array.h"
#include "model/config.h"
#include "tessera/status.h"

namespace tessera::model {

class KvCache {
 public:
  // n_ctx: positions this session may hold, 1..config.n_ctx_train (kOutOfRange otherwise).
  static Result<KvCache> Create(const LlamaConfig& config, std::int32_t n_ctx);
  // Bytes Create() would allocate, for budgeting before allocation.
  static std::uint64_t BytesFor(const LlamaConfig& config, std::int32_t n_ctx);

  KvCache(KvCache&&) noexcept = default;
  KvCache& operator=(KvCache&&) noexcept = default;
  KvCache(const KvCache&) = delete;
  KvCache& operator=(const KvCache&) = delete;

  std::int32_t n_ctx() const { return n_ctx_; }
  std::int32_t n_layer() const { return n_layer_; }
  std::int32_t n_embd_kv() const { return n_embd_kv_; }
  std::size_t size_bytes() const { return (k_.size() + v_.size()) * sizeof(float); }

  // Row of layer `layer` at position `pos`: n_embd_kv floats.
  float* k(std::int32_t layer, std::int32_t pos) { return k_.data() + Offset(layer, pos); }
  float* v(std::int32_t layer, std::int32_t pos) { return v_.data() + Offset(layer, pos); }
  const float* k(std::int32_t layer, std::int32_t pos) const {
    return k_.data() + Offset(layer, pos);
  }
  const float* v(std::int32_t layer, std::int32_t pos) const {
    return v_.data() + Offset(layer, pos);
  }

 private:
  KvCache() = default;
  std::size_t Offset(std::int32_t layer, std::int32_t pos) const {
    return (static_cast<std::size_t>(layer) * n_ctx_ + pos) * n_embd_kv_;
  }
  std::int32_t n_layer_ = 0;
  std::int32_t n_ctx_ = 0;
  std::int32_t n_embd_kv_ = 0;
  base::ZeroedArray<float> k_;  // [n_layer][n_ctx][n_embd_kv]
  base::ZeroedArray<float> v_;  // [n_layer][n_ctx][n_embd_kv]
};

}  // namespace tessera::model

#endif  // TESSERA_MODEL_KV_CACHE_H_
