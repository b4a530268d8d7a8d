// The signature envelope: the package blob that carries the Ed25519 signature of a manifest
// (docs/formats/package.md section 4). One JSON object, exactly these four string members:
//
//   {"algorithm":"ed25519","key_id":"ed25519:0123456789abcdef",
//    "schema":"tessera.signature/v1","signature":"<base64 of 64 bytes>"}
//
//   schema      exactly "tessera.signature/v1"
//   key_id      the signer's key id (signature.h): "ed25519:" and 16 lowercase hex digits. It
//               only selects candidate keys; trust compares full keys (registry/trust_policy.h)
//   algorithm   exactly "ed25519"
//   signature   standard padded base64 (base64.h: RFC 4648 section 4, no whitespace, canonical
//               padding bits) of the 64-byte Ed25519 signature over SigningMessage(manifest),
//               i.e. "tessera-package-v1\n" + the manifest's RFC 8785 bytes
//
// Written as RFC 8785 canonical JSON (members sorted, no whitespace), as above without the line
// break. Readers accept any JSON spelling of the object (spacing, member order, escapes).
//
// ParseSignatureEnvelope refuses, in this order (messages start "package: signature envelope"):
//   1. more than kMaxSignatureEnvelopeBytes: kResourceExhausted, before parsing;
//   2. not JSON, not UTF-8: kMalformed; nesting deeper than kMaxSignatureEnvelopeDepth:
//      kResourceExhausted; a member name twice: kDuplicate (strict_json.h; the same codes as
//      ParseManifest gives for the same faults in a manifest);
//   3. not an object: kMalformed;
//   4. "schema" missing or not a string: kMalformed; any other value: kUnsupported (a newer
//      envelope; checked before the other members, which a newer schema may change);
//   5. a member other than the four, or one of them missing: kMalformed naming it;
//   6. "algorithm" not a string: kMalformed; a string other than "ed25519": kUnsupported;
//   7. "key_id" not a string of the key id syntax: kMalformed;
//   8. "signature" not a string, not strict base64, or not decoding to exactly 64 bytes:
//      kMalformed.
// Whether the signature verifies, and whether its key is trusted, is not checked here.
//
// Thread safety: SignatureEnvelope is a value; the functions are pure (SignManifest only reads
// the key).
#ifndef TESSERA_PACKAGE_SIGNATURE_ENVELOPE_H_
#define TESSERA_PACKAGE_SIGNATURE_ENVELOPE_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "package/manifest.h"
#include "package/signature.h"
#include "tessera/status.h"

namespace tessera::package {

inline constexpr std::size_t kMaxSignatureEnvelopeBytes = 64 * 1024;
inline constexpr std::size_t kMaxSignatureEnvelopeDepth = 8;  // the object is depth 1
inline constexpr std::string_view kSignatureEnvelopeSchemaV1 = "tessera.signature/v1";
inline constexpr std::string_view kSignatureAlgorithmEd25519 = "ed25519";

struct SignatureEnvelope {
  std::string key_id;  // "ed25519:" + 16 lowercase hex digits
  Ed25519Signature signature{};
  friend bool operator==(const SignatureEnvelope&, const SignatureEnvelope&) = default;
};

// True if `key_id` is "ed25519:" followed by exactly 16 lowercase hex digits.
bool IsKeyIdSyntax(std::string_view key_id);

// Signs SigningMessage(manifest) with `key` and returns the envelope's canonical bytes (what
// goes in the package file). Fails with SigningMessage's code for a manifest ParseManifest would
// refuse, kInternal if OpenSSL fails.
Result<std::string> SignManifest(const Manifest& manifest, const PrivateKey& key);

// Parses envelope bytes; see the header comment for the checks and their codes.
Result<SignatureEnvelope> ParseSignatureEnvelope(std::string_view bytes);

// The canonical (RFC 8785) bytes of `envelope`; ParseSignatureEnvelope reads them back equal.
// Precondition: IsKeyIdSyntax(envelope.key_id) (a bug otherwise: TS_CHECK).
std::string SignatureEnvelopeJson(const SignatureEnvelope& envelope);

}  // namespace tessera::package

#endif  // TESSERA_PACKAGE_SIGNATURE_ENVELOPE_H_
