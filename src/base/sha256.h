// SHA-256 of bytes (OpenSSL's implementation, confined to sha256.cc).
// Thread safety: Sha256Hasher is not shared; the free functions are reentrant.
#ifndef TESSERA_BASE_SHA256_H_
#define TESSERA_BASE_SHA256_H_

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace tessera::base {

using Sha256Digest = std::array<std::uint8_t, 32>;

// Incremental hasher for data that arrives in pieces.
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;

  void Update(std::span<const std::uint8_t> bytes);
  Sha256Digest Finish();  // The hasher must not be used after Finish().

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

Sha256Digest Sha256(std::span<const std::uint8_t> bytes);
// Lowercase hex, 64 characters.
std::string ToHex(const Sha256Digest& digest);
std::string Sha256Hex(std::span<const std::uint8_t> bytes);

}  // namespace tessera::base

#endif  // TESSERA_BASE_SHA256_H_
