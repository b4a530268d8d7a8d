// Ed25519 signatures (RFC 8032, pure Ed25519 without pre-hashing or context) for package
// manifests: key pairs, signing, verification, key ids and key files. OpenSSL 3 does the
// cryptography; its headers stay in signature.cc.
//
// Keys. A private key is the RFC 8032 32-byte secret (the "seed"); the 32-byte public key is
// derived from it. Signatures are 64 bytes and deterministic: the same key and message always
// give the same signature.
//
// Verification outcome. PublicKey::Verify returns OK only if this key signed exactly these
// bytes. Every other outcome (a signature made by another key, a changed message, a changed or
// wrong-length signature) is kIntegrity: the bytes do not match what they claim. Whether a key is
// trusted, and for what, is a separate policy question answered by the registry's trust policy
// (kPermissionDenied there).
//
// Key id. "ed25519:" followed by the first 16 lowercase hex digits of SHA-256 over the 32 raw
// public-key bytes, e.g. "ed25519:8c6e1f0a2b3c4d5e". It names a key in messages, file names and
// listings. 64 bits do not bind a key: trust decisions compare the full public key.
//
// Key files. Text, one line, lowercase hex, with or without a final "\n", nothing else:
//   tessera-ed25519-public <64 hex digits: the public key>
//   tessera-ed25519-private <64 hex digits: the secret seed>
// Files over kMaxKeyFileBytes are not read. Anything else is kMalformed naming the file and the
// problem. Save writes through base::AtomicFile (a temporary file in the same folder, fsynced
// and renamed over `path`, replacing an existing file; every operation through `env`), so a
// crash leaves the old file or the new one; private key files get mode 0600, public ones 0644.
// Load does not check the mode of the file.
//
// Secrets. PrivateKey is move-only and wipes its secret when destroyed; the library never
// writes a secret anywhere but the key file.
//
// Thread safety: PublicKey and PrivateKey are immutable after construction; const objects may be
// used from several threads at once. The free functions are reentrant.
#ifndef TESSERA_PACKAGE_SIGNATURE_H_
#define TESSERA_PACKAGE_SIGNATURE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/file_env.h"
#include "tessera/status.h"

namespace tessera::package {

inline constexpr std::size_t kEd25519KeyBytes = 32;
inline constexpr std::size_t kEd25519SignatureBytes = 64;
inline constexpr std::size_t kMaxKeyFileBytes = 4096;

using Ed25519Signature = std::array<std::uint8_t, kEd25519SignatureBytes>;

class PublicKey {
 public:
  // kMalformed unless `bytes` is 32 bytes long.
  static Result<PublicKey> FromBytes(std::span<const std::uint8_t> bytes);
  // Parses the one-line text form; `what` names the source in messages (a file name).
  static Result<PublicKey> FromText(std::string_view text, std::string_view what);
  // kNotFound, kIoError, kMalformed (see the header comment).
  static Result<PublicKey> Load(const std::string& path);

  const std::array<std::uint8_t, kEd25519KeyBytes>& bytes() const { return bytes_; }
  std::string KeyId() const;
  // "tessera-ed25519-public <hex>\n".
  std::string ToText() const;
  Status Save(const std::string& path, base::FileEnv& env = base::DefaultFileEnv()) const;

  // OK, or kIntegrity (see the header comment).
  Status Verify(std::span<const std::uint8_t> message,
                std::span<const std::uint8_t> signature) const;

  friend bool operator==(const PublicKey& a, const PublicKey& b) = default;

 private:
  friend class PrivateKey;
  PublicKey() = default;
  std::array<std::uint8_t, kEd25519KeyBytes> bytes_{};
};

class PrivateKey {
 public:
  // A new key from the operating system's randomness (OpenSSL's private DRBG). kInternal if no
  // randomness is available.
  static Result<PrivateKey> Generate();
  // The key with this 32-byte secret (tests, the RFC 8032 vectors). kMalformed on a wrong length.
  static Result<PrivateKey> FromSeed(std::span<const std::uint8_t> seed);
  static Result<PrivateKey> Load(const std::string& path);

  PrivateKey(PrivateKey&& other) noexcept;
  PrivateKey& operator=(PrivateKey&& other) noexcept;
  PrivateKey(const PrivateKey&) = delete;
  PrivateKey& operator=(const PrivateKey&) = delete;
  ~PrivateKey();

  const PublicKey& public_key() const { return public_key_; }
  // Writes the private key file (mode 0600).
  Status Save(const std::string& path, base::FileEnv& env = base::DefaultFileEnv()) const;

  // The 64-byte signature of `message`. kInternal if OpenSSL fails.
  Result<Ed25519Signature> Sign(std::span<const std::uint8_t> message) const;

 private:
  PrivateKey() = default;
  void Wipe();

  std::array<std::uint8_t, kEd25519KeyBytes> seed_{};
  PublicKey public_key_;
};

// Lowercase hex of bytes and back, for keys and signatures stored in text (manifests, tests).
std::string BytesToHex(std::span<const std::uint8_t> bytes);
// kMalformed unless `hex` is an even number of lowercase hex digits.
Result<std::vector<std::uint8_t>> HexToBytes(std::string_view hex);

}  // namespace tessera::package

#endif  // TESSERA_PACKAGE_SIGNATURE_H_
