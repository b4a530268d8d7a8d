#include "base/sha256.h"

#include <openssl/evp.h>

#include "base/check.h"

namespace tessera::base {

struct Sha256Hasher::Impl {
  EVP_MD_CTX* ctx = nullptr;
};

Sha256Hasher::Sha256Hasher() : impl_(std::make_unique<Impl>()) {
  impl_->ctx = EVP_MD_CTX_new();
  TS_CHECK(impl_->ctx != nullptr);
  TS_CHECK(EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr) == 1);
}

Sha256Hasher::~Sha256Hasher() { EVP_MD_CTX_free(impl_->ctx); }

void Sha256Hasher::Update(std::span<const std::uint8_t> bytes) {
  if (bytes.empty()) return;
  TS_CHECK(EVP_DigestUpdate(impl_->ctx, bytes.data(), bytes.size()) == 1);
}

Sha256Digest Sha256Hasher::Finish() {
  Sha256Digest digest{};
  unsigned int len = 0;
  TS_CHECK(EVP_DigestFinal_ex(impl_->ctx, digest.data(), &len) == 1);
  TS_CHECK(len == digest.size());
  return digest;
}

Sha256Digest Sha256(std::span<const std::uint8_t> bytes) {
  Sha256Hasher hasher;
  hasher.Update(bytes);
  return hasher.Finish();
}

std::string ToHex(const Sha256Digest& digest) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(64);
  for (std::uint8_t b : digest) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

std::string Sha256Hex(std::span<const std::uint8_t> bytes) { return ToHex(Sha256(bytes)); }

}  // namespace tessera::base
