// The trust policy: which keys may sign which packages, and what a package they signed may do.
// This header is the reference for users; `tessera trust` and the docs point here.
//
// A policy is a list of trusted keys and a list of id prefixes for unsigned packages:
//
//   TrustedKey   name          a local label, [A-Za-z0-9._-]{1,64} ("local-dev", "acme.release")
//                key           the full Ed25519 public key (package/signature.h)
//                id_prefixes   1..64 patterns of package ids this key may sign (see "Ids")
//                capabilities  0..64 patterns of capabilities it may grant (see "Capabilities")
//                licenses      0..64 licence identifiers it may sign; none listed = any licence
//   TrustPolicy  keys, unsigned_prefixes (0..64 id patterns; none = unsigned packages refused)
//
// Ids. A pattern is "*" (any id), an exact package id ("dev.tessera.skills.date", matching only
// that id), or dot-separated labels ending in "." ("dev.tessera.", matching every id that starts
// with it: "dev.tessera.skills.date", but not "dev.tesserax.a" and not "dev.tessera" itself).
// Labels are [a-z0-9] with inner "-", as in package ids (package.md section 2.1); at most 128
// characters.
//
// Capabilities. A pattern is "*" (any capability), "<verb>:*" (any capability with that verb:
// "emit:*" grants "emit:text" and "emit:json", not "route:skills"), or an exact capability
// "<verb>:<object>" ("emit:text"), with verb [a-z][a-z0-9-]* and object [a-z0-9][a-z0-9._-]*
// (package.md section 2.7); at most 128 characters.
//
// Licences. SPDX-style identifiers [A-Za-z0-9][A-Za-z0-9.+-]*, at most 64 characters
// (package.md section 2.1), e.g. "Apache-2.0", "MIT", "LicenseRef-acme-internal". They are
// compared ignoring ASCII case, as SPDX specifies for licence identifiers. Expressions ("MIT OR
// Apache-2.0") are not licence identifiers and cannot appear in a manifest.
//
// Evaluation (Evaluate). All or nothing: a package is admitted with every capability its
// manifest claims, or refused; a policy never grants part of a claim. Checks, in this order:
//   1. No envelope (an unsigned package): refused (kPermissionDenied "unsigned package refused by
//      the trust policy") unless an unsigned_prefixes pattern matches the id. An admitted
//      unsigned package may claim no capability other than "emit:text" (kPermissionDenied naming
//      the capability); it is not checked against any licence list (licence lists belong to
//      keys). Every id it replaces or conflicts with must match an unsigned_prefixes pattern too
//      (kPermissionDenied "an unsigned package may not replace package id ..."; see "Ids a
//      package acts on"). Its decision has signer "" and key_id "".
//   2. The envelope is parsed (package/signature_envelope.h); a bad envelope keeps its code
//      (kMalformed, kUnsupported, kDuplicate, kResourceExhausted). A package that carries an
//      envelope is always judged by it: a bad or untrusted signature is never downgraded to
//      "unsigned", even when the id matches unsigned_prefixes.
//   3. No trusted key has the envelope's key_id: kPermissionDenied "unknown key".
//   4. The signature must verify, over package::SigningMessage(manifest), under the full public
//      key of a trusted key with that key_id. Key ids are 64 bits and two keys may share one, so
//      every trusted key with that id is tried; if none verifies: kIntegrity "signature does not
//      match the manifest (edited after signing?)". Naming a trusted key's id in an envelope
//      signed by another key therefore gets nothing.
//   5. The key's id_prefixes must match the package id: kPermissionDenied. They must also match
//      every id the manifest replaces or conflicts with (see "Ids a package acts on"):
//      kPermissionDenied "key \"<name>\" may not replace package id \"<id>\"" naming the id.
//   6. The key must be able to grant every capability the manifest claims: kPermissionDenied
//      naming the first capability it may not grant.
//   7. The key's licence list (when not empty) must contain the manifest's licence:
//      kPermissionDenied naming the licence.
// When several trusted entries hold the key that verified (the same key listed twice, under two
// names with different rules), each is judged alone, in policy order, and the first that passes
// 5 to 7 decides; grants of two entries are never combined. If none passes, the refusal is that
// of the first such entry.
//
// Ids a package acts on. A signer's authority is over ids, so a trust decision covers every id
// the manifest can change, not only its own:
//   - dependencies.replaces: promoting the package retires the installed versions it names;
//   - dependencies.conflicts: while the package is installed, installing a version it names is
//     refused (an effect on that id's future).
// Both need the signer's authority (the key's id_prefixes; the unsigned_prefixes for an unsigned
// package) over each id named, whether or not a version of it is installed: a key trusted for
// "dev.x." may replace "dev.x.old" but not "dev.y.anything". To let a vendor replace one package
// of another namespace, trust its key for that exact id as well.
// Not covered, deliberately, because they change nothing about the package they name:
//   - dependencies.requires: it constrains only the requiring package (refused or unloadable
//     without a usable match). Its one effect on the required version is that `remove` refuses
//     while a usable package requires it; the refusal names the dependent, and removing the
//     dependent lifts it.
//   - an adapter's base: the binding is exact (id, version, weights and tokenizer sha256) and
//     the runtime applies an adapter per session on a shared read-only copy of the base's
//     weights, never merged into them, so the base answers the same with or without it. Like a
//     requirement, a usable adapter keeps its base from being removed.
//   - capabilities are rule 6 (unsigned: rule 1).
//
// Messages start "registry: trust: <id>@<version> (key <key id>): " ("(unsigned)" without an
// envelope, "(envelope)" followed by the envelope parser's message for a bad envelope) and then
// name the rule and the offending value. Callers branch on codes only.
//
// Evaluate does not require a validated policy: a pattern that ValidateTrustedKey would refuse
// matches nothing it should not (an empty prefix list signs nothing, an unknown pattern shape
// matches only an identical string). Store only keys that ValidateTrustedKey accepts.
//
// Thread safety: the types are values; the functions are pure (no I/O, no clock, no state).
#ifndef TESSERA_REGISTRY_TRUST_POLICY_H_
#define TESSERA_REGISTRY_TRUST_POLICY_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "package/manifest.h"
#include "package/signature.h"
#include "tessera/status.h"

namespace tessera::registry {

inline constexpr std::size_t kMaxTrustedKeyNameChars = 64;
inline constexpr std::size_t kMaxTrustPatterns = 64;  // per list
inline constexpr std::string_view kUnsignedCapability = "emit:text";

struct TrustedKey {
  std::string name;                       // local label, e.g. "local-dev"
  package::PublicKey key;                 // decisions compare the full key, never only the id
  std::vector<std::string> id_prefixes;   // id patterns, >= 1
  std::vector<std::string> capabilities;  // capability patterns
  std::vector<std::string> licenses;      // licence ids; empty = any licence
};

struct TrustPolicy {
  std::vector<TrustedKey> keys;
  std::vector<std::string> unsigned_prefixes;  // id patterns; empty = unsigned always refused
};

struct TrustDecision {
  std::string signer;                // the TrustedKey's name, "" for an unsigned package
  std::string key_id;                // the signer's key id, "" for an unsigned package
  std::vector<std::string> granted;  // the manifest's capabilities, all of them
  friend bool operator==(const TrustDecision&, const TrustDecision&) = default;
};

// Whether `manifest` may be installed under `policy`, signed by the envelope `envelope_bytes`
// (the blob's bytes; nullopt for an unsigned package). See the header comment for the order of
// the checks and their codes.
Result<TrustDecision> Evaluate(const TrustPolicy& policy, const package::Manifest& manifest,
                               const std::optional<std::string_view>& envelope_bytes);

// OK, or kInvalidArgument naming the bad value: a name outside [A-Za-z0-9._-]{1,64}; no id
// pattern; a pattern or licence of the wrong syntax; more than kMaxTrustPatterns in a list; the
// same entry twice in one list.
Status ValidateTrustedKey(const TrustedKey& key);

// OK, or kInvalidArgument naming the value: one id pattern (for unsigned_prefixes too).
Status ValidateIdPattern(std::string_view pattern);

// Pattern matching as Evaluate applies it (for listings and `tessera trust` explanations).
bool IdPatternMatches(std::string_view pattern, std::string_view package_id);
bool CapabilityPatternMatches(std::string_view pattern, std::string_view capability);

}  // namespace tessera::registry

#endif  // TESSERA_REGISTRY_TRUST_POLICY_H_
