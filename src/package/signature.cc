#include "package/signature.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "base/atomic_file.h"
#include "base/file_env.h"
#include "base/regular_file.h"
#include "base/sha256.h"
#include "package/file_io.h"

namespace tessera::package {
namespace {

constexpr std::string_view kPublicTag = "tessera-ed25519-public";
constexpr std::string_view kPrivateTag = "tessera-ed25519-private";
constexpr std::size_t kKeyHexDigits = 2 * kEd25519KeyBytes;

struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

// A valid pointer for an empty message (OpenSSL is not asked to read a null pointer).
const std::uint8_t kNoBytes[1] = {0};
const std::uint8_t* DataOrEmpty(std::span<const std::uint8_t> bytes) {
  return bytes.empty() ? kNoBytes : bytes.data();
}

Status OpenSslFailure(std::string_view call) {
  ERR_clear_error();
  return Internal("package: openssl " + std::string(call) + " failed");
}

Status Integrity(std::string message) { return Status(StatusCode::kIntegrity, std::move(message)); }

// Wipes a secret held in a string before the string releases it.
void WipeString(std::string* s) {
  if (!s->empty()) OPENSSL_cleanse(s->data(), s->size());
  s->clear();
}

void AppendHex(std::span<const std::uint8_t> bytes, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (std::uint8_t b : bytes) {
    out->push_back(kHex[b >> 4]);
    out->push_back(kHex[b & 15]);
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// "<tag> <64 hex digits>" with an optional final "\n" to 32 bytes. Messages start with `what`.
Result<std::array<std::uint8_t, kEd25519KeyBytes>> ParseKeyLine(std::string_view text,
                                                                std::string_view tag,
                                                                std::string_view what) {
  auto fail = [&](const std::string& problem) {
    return Malformed("package: " + std::string(what) + ": " + problem);
  };
  if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  const std::string prefix = std::string(tag) + " ";
  if (text.substr(0, prefix.size()) != prefix) {
    const std::string_view other = tag == kPublicTag ? kPrivateTag : kPublicTag;
    if (text.substr(0, other.size() + 1) == std::string(other) + " ") {
      return fail("holds a " + std::string(tag == kPublicTag ? "private" : "public") +
                  " key, expected a line starting \"" + std::string(tag) + " \"");
    }
    return fail("does not start with \"" + prefix + "\"");
  }
  const std::string_view hex = text.substr(prefix.size());
  if (hex.size() != kKeyHexDigits) {
    return fail("has " + std::to_string(hex.size()) + " characters after \"" + prefix +
                "\", expected " + std::to_string(kKeyHexDigits) + " lowercase hex digits");
  }
  std::array<std::uint8_t, kEd25519KeyBytes> bytes{};
  for (std::size_t i = 0; i < kEd25519KeyBytes; ++i) {
    const int hi = HexValue(hex[2 * i]);
    const int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      OPENSSL_cleanse(bytes.data(), bytes.size());
      return fail("has a character that is not a lowercase hex digit at offset " +
                  std::to_string(prefix.size() + 2 * i + (hi < 0 ? 0 : 1)));
    }
    bytes[i] = static_cast<std::uint8_t>(hi * 16 + lo);
  }
  return bytes;
}

// The whole of a small file. kNotFound, kIoError, kMalformed (larger than kMaxKeyFileBytes).
Result<std::string> ReadKeyFile(const std::string& path) {
  Result<int> opened = base::OpenRegularFile(path);  // a FIFO or device is refused, not read
  if (!opened.ok()) {
    if (opened.status().code() == StatusCode::kNotFound) {
      return NotFound("package: key file \"" + path + "\" does not exist");
    }
    return Status(opened.status().code(), "package: key file: " + opened.status().message());
  }
  const int fd = *opened;
  std::string text;
  char buf[kMaxKeyFileBytes + 1];
  text.reserve(2 * sizeof(buf));  // never reallocates, so no stray copy of a secret is freed
  Status s;
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      s = base::FileErrno("read key file", path, errno);
      break;
    }
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    if (text.size() > kMaxKeyFileBytes) {
      s = Malformed("package: key file \"" + path + "\" is larger than " +
                    std::to_string(kMaxKeyFileBytes) + " bytes");
      break;
    }
  }
  OPENSSL_cleanse(buf, sizeof(buf));
  ::close(fd);
  if (!s.ok()) {
    WipeString(&text);
    return s;
  }
  return text;
}

// Through base::AtomicFile: a crash leaves the old file or the new one, never a partial key.
Status WriteKeyFile(base::FileEnv& env, const std::string& path, std::string_view contents,
                    mode_t mode) {
  base::AtomicWriteOptions options;
  options.mode = mode;
  return base::WriteFileAtomic(env, path, contents, std::move(options))
      .WithContext("package: cannot save \"" + path + "\"");
}

}  // namespace

std::string BytesToHex(std::span<const std::uint8_t> bytes) {
  std::string out;
  out.reserve(2 * bytes.size());
  AppendHex(bytes, &out);
  return out;
}

Result<std::vector<std::uint8_t>> HexToBytes(std::string_view hex) {
  if (hex.size() % 2 != 0) {
    return Malformed("package: hex text has " + std::to_string(hex.size()) +
                     " digits, expected an even number");
  }
  std::vector<std::uint8_t> bytes(hex.size() / 2);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const int hi = HexValue(hex[2 * i]);
    const int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return Malformed(
          "package: hex text has a character that is not a lowercase hex digit at "
          "offset " +
          std::to_string(2 * i + (hi < 0 ? 0 : 1)));
    }
    bytes[i] = static_cast<std::uint8_t>(hi * 16 + lo);
  }
  return bytes;
}

// ---- PublicKey ----

Result<PublicKey> PublicKey::FromBytes(std::span<const std::uint8_t> bytes) {
  if (bytes.size() != kEd25519KeyBytes) {
    return Malformed("package: an ed25519 public key is " + std::to_string(kEd25519KeyBytes) +
                     " bytes, got " + std::to_string(bytes.size()));
  }
  PkeyPtr key(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, bytes.data(), bytes.size()));
  if (key == nullptr) {
    ERR_clear_error();
    return Malformed("package: openssl refuses " + BytesToHex(bytes) + " as an ed25519 public key");
  }
  PublicKey out;
  std::copy(bytes.begin(), bytes.end(), out.bytes_.begin());
  return out;
}

Result<PublicKey> PublicKey::FromText(std::string_view text, std::string_view what) {
  TS_ASSIGN_OR_RETURN(auto bytes, ParseKeyLine(text, kPublicTag, what));
  return FromBytes(bytes);
}

Result<PublicKey> PublicKey::Load(const std::string& path) {
  TS_ASSIGN_OR_RETURN(std::string text, ReadKeyFile(path));
  return FromText(text, "key file \"" + path + "\"");
}

std::string PublicKey::KeyId() const { return "ed25519:" + base::Sha256Hex(bytes_).substr(0, 16); }

std::string PublicKey::ToText() const {
  return std::string(kPublicTag) + " " + BytesToHex(bytes_) + "\n";
}

Status PublicKey::Save(const std::string& path, base::FileEnv& env) const {
  return WriteKeyFile(env, path, ToText(), base::kFileMode);
}

Status PublicKey::Verify(std::span<const std::uint8_t> message,
                         std::span<const std::uint8_t> signature) const {
  if (signature.size() != kEd25519SignatureBytes) {
    return Integrity("package: signature for key " + KeyId() + " is " +
                     std::to_string(signature.size()) + " bytes, an ed25519 signature is " +
                     std::to_string(kEd25519SignatureBytes));
  }
  PkeyPtr key(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, bytes_.data(), bytes_.size()));
  if (key == nullptr) return OpenSslFailure("EVP_PKEY_new_raw_public_key");
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (ctx == nullptr) return OpenSslFailure("EVP_MD_CTX_new");
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1) {
    return OpenSslFailure("EVP_DigestVerifyInit");
  }
  const int rc = EVP_DigestVerify(ctx.get(), signature.data(), signature.size(),
                                  DataOrEmpty(message), message.size());
  if (rc == 1) return Status::Ok();
  ERR_clear_error();
  return Integrity("package: signature does not verify with key " + KeyId() +
                   ": the signed bytes or the signature changed, or another key signed them");
}

// ---- PrivateKey ----

Result<PrivateKey> PrivateKey::Generate() {
  std::array<std::uint8_t, kEd25519KeyBytes> seed{};
  if (RAND_priv_bytes(seed.data(), static_cast<int>(seed.size())) != 1) {
    return OpenSslFailure("RAND_priv_bytes");
  }
  Result<PrivateKey> key = FromSeed(seed);
  OPENSSL_cleanse(seed.data(), seed.size());
  return key;
}

Result<PrivateKey> PrivateKey::FromSeed(std::span<const std::uint8_t> seed) {
  if (seed.size() != kEd25519KeyBytes) {
    return Malformed("package: an ed25519 private key is " + std::to_string(kEd25519KeyBytes) +
                     " bytes, got " + std::to_string(seed.size()));
  }
  PkeyPtr key(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size()));
  if (key == nullptr) return OpenSslFailure("EVP_PKEY_new_raw_private_key");
  PrivateKey out;
  std::size_t len = out.public_key_.bytes_.size();
  if (EVP_PKEY_get_raw_public_key(key.get(), out.public_key_.bytes_.data(), &len) != 1 ||
      len != kEd25519KeyBytes) {
    return OpenSslFailure("EVP_PKEY_get_raw_public_key");
  }
  std::copy(seed.begin(), seed.end(), out.seed_.begin());
  return out;
}

Result<PrivateKey> PrivateKey::Load(const std::string& path) {
  TS_ASSIGN_OR_RETURN(std::string text, ReadKeyFile(path));
  Result<std::array<std::uint8_t, kEd25519KeyBytes>> seed =
      ParseKeyLine(text, kPrivateTag, "key file \"" + path + "\"");
  WipeString(&text);
  if (!seed.ok()) return seed.status();
  Result<PrivateKey> key = FromSeed(*seed);
  OPENSSL_cleanse(seed->data(), seed->size());
  return key;
}

PrivateKey::PrivateKey(PrivateKey&& other) noexcept
    : seed_(other.seed_), public_key_(other.public_key_) {
  other.Wipe();
}

PrivateKey& PrivateKey::operator=(PrivateKey&& other) noexcept {
  if (this != &other) {
    seed_ = other.seed_;
    public_key_ = other.public_key_;
    other.Wipe();
  }
  return *this;
}

PrivateKey::~PrivateKey() { Wipe(); }

void PrivateKey::Wipe() { OPENSSL_cleanse(seed_.data(), seed_.size()); }

Status PrivateKey::Save(const std::string& path, base::FileEnv& env) const {
  // Built in one buffer so that no temporary copy of the secret is left behind.
  std::string text;
  text.reserve(kPrivateTag.size() + 1 + kKeyHexDigits + 1);
  text += kPrivateTag;
  text += ' ';
  AppendHex(seed_, &text);
  text += '\n';
  Status s = WriteKeyFile(env, path, text, base::kPrivateFileMode);
  WipeString(&text);
  return s;
}

Result<Ed25519Signature> PrivateKey::Sign(std::span<const std::uint8_t> message) const {
  PkeyPtr key(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed_.data(), seed_.size()));
  if (key == nullptr) return OpenSslFailure("EVP_PKEY_new_raw_private_key");
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (ctx == nullptr) return OpenSslFailure("EVP_MD_CTX_new");
  if (EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1) {
    return OpenSslFailure("EVP_DigestSignInit");
  }
  Ed25519Signature signature{};
  std::size_t len = signature.size();
  if (EVP_DigestSign(ctx.get(), signature.data(), &len, DataOrEmpty(message), message.size()) !=
          1 ||
      len != signature.size()) {
    return OpenSslFailure("EVP_DigestSign");
  }
  return signature;
}

}  // namespace tessera::package
