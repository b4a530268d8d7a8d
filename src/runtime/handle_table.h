// HandleTable<T>: objects named by opaque 64-bit ids with generation counters.
//
// An id is (generation << 32) | (slot + 1). Removing an object bumps its slot's generation, so
// every id issued for it is stale from then on and Get() reports it instead of returning
// another object that reuses the slot. Id 0 is never issued. Objects are held by shared_ptr:
// a caller that got one keeps it alive even if another thread removes it meanwhile.
//
// Thread safety: none; the runtime guards each table with its mutex.
#ifndef TESSERA_RUNTIME_HANDLE_TABLE_H_
#define TESSERA_RUNTIME_HANDLE_TABLE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tessera/status.h"

namespace tessera::runtime {

template <typename T>
class HandleTable {
 public:
  explicit HandleTable(std::string kind) : kind_(std::move(kind)) {}

  std::uint64_t Add(std::shared_ptr<T> object) {
    std::uint32_t slot;
    if (!free_.empty()) {
      slot = free_.back();
      free_.pop_back();
    } else {
      slot = static_cast<std::uint32_t>(slots_.size());
      slots_.push_back({});
    }
    slots_[slot].object = std::move(object);
    ++live_;
    return (static_cast<std::uint64_t>(slots_[slot].generation) << 32) | (slot + 1u);
  }

  Result<std::shared_ptr<T>> Get(std::uint64_t id) const {
    const Slot* s = Find(id);
    if (s == nullptr) return Stale(id);
    return s->object;
  }

  // The object, removed: its id and every copy of it are stale from now on.
  Result<std::shared_ptr<T>> Remove(std::uint64_t id) {
    Slot* s = const_cast<Slot*>(Find(id));
    if (s == nullptr) return Stale(id);
    std::shared_ptr<T> object = std::move(s->object);
    ++s->generation;
    free_.push_back(static_cast<std::uint32_t>(s - slots_.data()));
    --live_;
    return object;
  }

  std::size_t size() const { return live_; }

 private:
  struct Slot {
    std::uint32_t generation = 1;
    std::shared_ptr<T> object;
  };

  const Slot* Find(std::uint64_t id) const {
    const std::uint64_t low = id & 0xffffffffu;
    if (low == 0 || low > slots_.size()) return nullptr;
    const Slot* s = slots_.data() + (low - 1);
    if (s->object == nullptr || s->generation != (id >> 32)) return nullptr;
    return s;
  }

  Status Stale(std::uint64_t id) const {
    return Status(StatusCode::kFailedPrecondition,
                  "runtime: " + kind_ + " handle " + std::to_string(id) +
                      " is stale: it was released or closed, or never issued by this runtime");
  }

  std::string kind_;
  std::vector<Slot> slots_;
  std::vector<std::uint32_t> free_;
  std::size_t live_ = 0;
};

}  // namespace tessera::runtime

#endif  // TESSERA_RUNTIME_HANDLE_TABLE_H_
