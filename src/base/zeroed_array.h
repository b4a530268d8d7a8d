// ZeroedArray<T>: a fixed-size array of zero bytes for the large per-session buffers (KV
// caches, forward scratch). Blocks of kMapBytes or more are anonymous mappings of their own,
// which the kernel zeroes page by page on first touch and returns whole when freed, so a buffer
// costs what its user touches rather than a pass over all of it: opening a session for a short
// request no longer writes megabytes of zeros (a runtime opens one per request). Smaller blocks
// come from calloc. Contents are zero until written, as a std::vector's would be.
//
// T must be trivially copyable (floats, bytes). Ownership: move-only owner of its block.
// Thread safety: none (a value).
#ifndef TESSERA_BASE_ZEROED_ARRAY_H_
#define TESSERA_BASE_ZEROED_ARRAY_H_

#include <cstddef>
#include <span>
#include <type_traits>
#include <utility>

namespace tessera::base {

// The raw blocks: zero bytes, lazily committed when large. Aborts (a failed check) when memory
// is exhausted, as std::vector would.
void* AllocateZeroed(std::size_t bytes);
void FreeZeroed(void* block, std::size_t bytes);
inline constexpr std::size_t kMapBytes = 16 * 1024;

template <typename T>
class ZeroedArray {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  ZeroedArray() = default;
  explicit ZeroedArray(std::size_t n) { Reset(n); }
  ZeroedArray(ZeroedArray&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  ZeroedArray& operator=(ZeroedArray&& other) noexcept {
    if (this != &other) {
      Release();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
    }
    return *this;
  }
  ZeroedArray(const ZeroedArray&) = delete;
  ZeroedArray& operator=(const ZeroedArray&) = delete;
  ~ZeroedArray() { Release(); }

  // Frees the block and allocates n zero elements (n = 0: none).
  void Reset(std::size_t n) {
    Release();
    if (n == 0) return;
    data_ = static_cast<T*>(AllocateZeroed(n * sizeof(T)));
    size_ = n;
  }

  T* data() { return data_; }
  const T* data() const { return data_; }
  std::size_t size() const { return size_; }
  // Views, for the kernels' span parameters (as a std::vector converts).
  operator std::span<T>() { return {data_, size_}; }              // NOLINT
  operator std::span<const T>() const { return {data_, size_}; }  // NOLINT
  T& operator[](std::size_t i) { return data_[i]; }
  const T& operator[](std::size_t i) const { return data_[i]; }

 private:
  void Release() {
    if (data_ != nullptr) FreeZeroed(data_, size_ * sizeof(T));
    data_ = nullptr;
    size_ = 0;
  }
  T* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace tessera::base

#endif  // TESSERA_BASE_ZEROED_ARRAY_H_
