#include "registry/trust_policy.h"

#include <cstdint>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "base/ascii.h"
#include "package/signature_envelope.h"

namespace tessera::registry {
namespace {

constexpr std::size_t kMaxPatternChars = 128;
constexpr std::size_t kMaxLicenseChars = 64;

bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlnum(char c) { return IsLower(c) || IsDigit(c) || (c >= 'A' && c <= 'Z'); }

// A package id label: [a-z0-9] with inner "-".
bool IsIdLabel(std::string_view label) {
  if (label.empty() || label.front() == '-' || label.back() == '-') return false;
  for (char c : label) {
    if (!IsLower(c) && !IsDigit(c) && c != '-') return false;
  }
  return true;
}

// Dot-separated labels; at least `min_labels` of them.
bool IsLabels(std::string_view text, std::size_t min_labels) {
  std::size_t labels = 0;
  while (true) {
    const std::size_t dot = text.find('.');
    if (!IsIdLabel(text.substr(0, dot))) return false;
    ++labels;
    if (dot == std::string_view::npos) break;
    text.remove_prefix(dot + 1);
  }
  return labels >= min_labels;
}

// [a-z][a-z0-9-]*
bool IsVerb(std::string_view verb) {
  if (verb.empty() || !IsLower(verb.front())) return false;
  for (char c : verb) {
    if (!IsLower(c) && !IsDigit(c) && c != '-') return false;
  }
  return true;
}

// [a-z0-9][a-z0-9._-]*
bool IsObject(std::string_view object) {
  if (object.empty() || !(IsLower(object.front()) || IsDigit(object.front()))) return false;
  for (char c : object) {
    if (!IsLower(c) && !IsDigit(c) && c != '.' && c != '_' && c != '-') return false;
  }
  return true;
}

// Why `pattern` is not an id pattern, or "" if it is one.
std::string IdPatternProblem(std::string_view pattern) {
  if (pattern == "*") return "";
  if (pattern.empty() || pattern.size() > kMaxPatternChars) {
    return "must have 1 to " + std::to_string(kMaxPatternChars) + " characters";
  }
  const bool ok = pattern.ends_with('.') ? IsLabels(pattern.substr(0, pattern.size() - 1), 1)
                                         : IsLabels(pattern, 2);
  if (ok) return "";
  return "is not \"*\", a package id (\"dev.tessera.skills.date\") or labels ending in \".\" "
         "(\"dev.tessera.\")";
}

bool IsCapabilityPattern(std::string_view pattern) {
  if (pattern.size() > kMaxPatternChars) return false;
  if (pattern == "*") return true;
  const std::size_t colon = pattern.find(':');
  if (colon == std::string_view::npos || !IsVerb(pattern.substr(0, colon))) return false;
  const std::string_view object = pattern.substr(colon + 1);
  return object == "*" || IsObject(object);
}

// [A-Za-z0-9][A-Za-z0-9.+-]*, at most 64 characters.
bool IsLicenseId(std::string_view license) {
  if (license.empty() || license.size() > kMaxLicenseChars || !IsAlnum(license.front())) {
    return false;
  }
  for (char c : license) {
    if (!IsAlnum(c) && c != '.' && c != '+' && c != '-') return false;
  }
  return true;
}

bool IsKeyName(std::string_view name) {
  if (name.empty() || name.size() > kMaxTrustedKeyNameChars) return false;
  for (char c : name) {
    if (!IsAlnum(c) && c != '.' && c != '_' && c != '-') return false;
  }
  return true;
}

using base::EqualsIgnoringAsciiCase;

// A value for a message: quoted, control and non-ASCII bytes as \xNN, cut at 128 bytes.
std::string Quote(std::string_view value) {
  constexpr std::size_t kMaxShown = 128;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (std::size_t i = 0; i < value.size() && i < kMaxShown; ++i) {
    const auto u = static_cast<unsigned char>(value[i]);
    if (u < 0x20 || u >= 0x7f || u == '"' || u == '\\') {
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else {
      out += static_cast<char>(u);
    }
  }
  out += value.size() > kMaxShown ? "\"..." : "\"";
  return out;
}

std::string JoinQuoted(const std::vector<std::string>& values) {
  std::string out = "[";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ", ";
    out += Quote(values[i]);
  }
  return out + "]";
}

// "registry: trust: <id>@<version> (key <key id>): "
std::string MessagePrefix(const package::Manifest& manifest, std::string_view key_id) {
  std::string out = "registry: trust: " + manifest.id + "@" + manifest.version.ToString();
  out += key_id.empty() ? " (unsigned): " : " (key " + std::string(key_id) + "): ";
  return out;
}

Status Denied(const std::string& prefix, const std::string& rule) {
  return Status(StatusCode::kPermissionDenied, prefix + rule);
}

bool AnyIdPatternMatches(const std::vector<std::string>& patterns, std::string_view id) {
  for (const std::string& p : patterns) {
    if (IdPatternMatches(p, id)) return true;
  }
  return false;
}

// The ids a manifest acts on besides its own (rule 5b): what it replaces (retired when it is
// promoted) and what it conflicts with (refused at install while it is installed). Requirements
// and an adapter's base are not among them: they constrain only the package that names them.
std::vector<std::pair<std::string_view, const std::string*>> AffectedIds(
    const package::Manifest& manifest) {
  std::vector<std::pair<std::string_view, const std::string*>> out;
  for (const package::DependencyRef& d : manifest.dependencies.replaces) {
    out.emplace_back("replace", &d.id);
  }
  for (const package::DependencyRef& d : manifest.dependencies.conflicts) {
    out.emplace_back("declare a conflict with", &d.id);
  }
  return out;
}

Result<TrustDecision> EvaluateUnsigned(const TrustPolicy& policy,
                                       const package::Manifest& manifest) {
  const std::string prefix = MessagePrefix(manifest, "");
  if (!AnyIdPatternMatches(policy.unsigned_prefixes, manifest.id)) {
    return Denied(prefix,
                  "unsigned package refused by the trust policy (no unsigned prefix matches; "
                  "allowed: " +
                      JoinQuoted(policy.unsigned_prefixes) + ")");
  }
  for (const auto& [verb, id] : AffectedIds(manifest)) {
    if (!AnyIdPatternMatches(policy.unsigned_prefixes, *id)) {
      return Denied(prefix, "an unsigned package may not " + std::string(verb) + " package id " +
                                Quote(*id) + " (unsigned packages are allowed only for " +
                                JoinQuoted(policy.unsigned_prefixes) + ")");
    }
  }
  for (const std::string& capability : manifest.capabilities) {
    if (capability != kUnsignedCapability) {
      return Denied(prefix, "unsigned package may claim no capability other than \"" +
                                std::string(kUnsignedCapability) + "\"; it claims " +
                                Quote(capability));
    }
  }
  return TrustDecision{.signer = "", .key_id = "", .granted = manifest.capabilities};
}

// Rules 5 to 7 for one trusted entry whose key verified the signature.
Status CheckAuthority(const TrustedKey& key, const package::Manifest& manifest,
                      const std::string& prefix) {
  if (!AnyIdPatternMatches(key.id_prefixes, manifest.id)) {
    return Denied(prefix, "key " + Quote(key.name) + " may not sign package id " +
                              Quote(manifest.id) +
                              " (its id prefixes: " + JoinQuoted(key.id_prefixes) + ")");
  }
  for (const auto& [verb, id] : AffectedIds(manifest)) {
    if (!AnyIdPatternMatches(key.id_prefixes, *id)) {
      return Denied(prefix, "key " + Quote(key.name) + " may not " + std::string(verb) +
                                " package id " + Quote(*id) +
                                " (its id prefixes: " + JoinQuoted(key.id_prefixes) + ")");
    }
  }
  for (const std::string& capability : manifest.capabilities) {
    bool grantable = false;
    for (const std::string& pattern : key.capabilities) {
      grantable = grantable || CapabilityPatternMatches(pattern, capability);
    }
    if (!grantable) {
      return Denied(prefix, "key " + Quote(key.name) + " may not grant capability " +
                                Quote(capability) +
                                " (it may grant: " + JoinQuoted(key.capabilities) + ")");
    }
  }
  if (!key.licenses.empty()) {
    bool allowed = false;
    for (const std::string& license : key.licenses) {
      allowed = allowed || EqualsIgnoringAsciiCase(license, manifest.license);
    }
    if (!allowed) {
      return Denied(prefix, "key " + Quote(key.name) + " may not sign licence " +
                                Quote(manifest.license) +
                                " (allowed licences: " + JoinQuoted(key.licenses) + ")");
    }
  }
  return Status::Ok();
}

}  // namespace

bool IdPatternMatches(std::string_view pattern, std::string_view package_id) {
  if (pattern == "*") return true;
  if (package_id == pattern) return true;
  return pattern.ends_with('.') && package_id.size() > pattern.size() &&
         package_id.starts_with(pattern);
}

bool CapabilityPatternMatches(std::string_view pattern, std::string_view capability) {
  if (pattern == "*") return true;
  if (pattern.ends_with(":*")) {
    const std::string_view verb_colon = pattern.substr(0, pattern.size() - 1);  // "emit:"
    return capability.size() > verb_colon.size() && capability.starts_with(verb_colon);
  }
  return pattern == capability;
}

Status ValidateIdPattern(std::string_view pattern) {
  const std::string problem = IdPatternProblem(pattern);
  if (problem.empty()) return Status::Ok();
  return InvalidArgument("registry: trust: id pattern " + Quote(pattern) + " " + problem);
}

Status ValidateTrustedKey(const TrustedKey& key) {
  if (!IsKeyName(key.name)) {
    return InvalidArgument("registry: trust: key name " + Quote(key.name) +
                           " is not 1 to 64 characters of [A-Za-z0-9._-]");
  }
  const std::string what = "registry: trust: key " + Quote(key.name) + ": ";
  auto check_list = [&](const std::vector<std::string>& list,
                        std::string_view list_name) -> Status {
    if (list.size() > kMaxTrustPatterns) {
      return InvalidArgument(what + std::to_string(list.size()) + " " + std::string(list_name) +
                             ", more than " + std::to_string(kMaxTrustPatterns));
    }
    std::set<std::string_view> seen;
    for (const std::string& entry : list) {
      if (!seen.insert(entry).second) {
        return InvalidArgument(what + std::string(list_name) + " lists " + Quote(entry) + " twice");
      }
    }
    return Status::Ok();
  };

  if (key.id_prefixes.empty()) {
    return InvalidArgument(what + "id_prefixes is empty (a key must be allowed some ids)");
  }
  TS_RETURN_IF_ERROR(check_list(key.id_prefixes, "id_prefixes"));
  for (const std::string& pattern : key.id_prefixes) {
    const std::string problem = IdPatternProblem(pattern);
    if (!problem.empty()) {
      return InvalidArgument(what + "id pattern " + Quote(pattern) + " " + problem);
    }
  }

  TS_RETURN_IF_ERROR(check_list(key.capabilities, "capabilities"));
  for (const std::string& pattern : key.capabilities) {
    if (!IsCapabilityPattern(pattern)) {
      return InvalidArgument(what + "capability pattern " + Quote(pattern) +
                             " is not \"*\", \"<verb>:*\" or \"<verb>:<object>\" (verb "
                             "[a-z][a-z0-9-]*, object [a-z0-9][a-z0-9._-]*, at most 128 "
                             "characters)");
    }
  }

  TS_RETURN_IF_ERROR(check_list(key.licenses, "licenses"));
  for (const std::string& license : key.licenses) {
    if (!IsLicenseId(license)) {
      return InvalidArgument(what + "licence " + Quote(license) +
                             " is not an SPDX-style identifier ([A-Za-z0-9][A-Za-z0-9.+-]*, at "
                             "most 64 characters)");
    }
  }
  return Status::Ok();
}

Result<TrustDecision> Evaluate(const TrustPolicy& policy, const package::Manifest& manifest,
                               const std::optional<std::string_view>& envelope_bytes) {
  if (!envelope_bytes.has_value()) return EvaluateUnsigned(policy, manifest);

  Result<package::SignatureEnvelope> envelope = package::ParseSignatureEnvelope(*envelope_bytes);
  if (!envelope.ok()) {
    return envelope.status().WithContext("registry: trust: " + manifest.id + "@" +
                                         manifest.version.ToString() + " (envelope)");
  }
  const std::string prefix = MessagePrefix(manifest, envelope->key_id);

  std::vector<const TrustedKey*> candidates;
  for (const TrustedKey& key : policy.keys) {
    if (key.key.KeyId() == envelope->key_id) candidates.push_back(&key);
  }
  if (candidates.empty()) {
    return Denied(prefix, "unknown key: no trusted key has id " + envelope->key_id);
  }

  Result<std::string> message = package::SigningMessage(manifest);
  if (!message.ok()) return message.status().WithContext(prefix + "cannot canonicalise manifest");
  const std::span<const std::uint8_t> message_bytes(
      reinterpret_cast<const std::uint8_t*>(message->data()), message->size());

  // Every entry whose full key verifies the signature, in policy order.
  std::vector<const TrustedKey*> signers;
  for (const TrustedKey* key : candidates) {
    if (key->key.Verify(message_bytes, envelope->signature).ok()) signers.push_back(key);
  }
  if (signers.empty()) {
    return Status(StatusCode::kIntegrity,
                  prefix +
                      "signature does not match the manifest (edited after signing?); "
                      "tried " +
                      std::to_string(candidates.size()) + " trusted key(s) with this id");
  }

  Status first_refusal;
  for (const TrustedKey* key : signers) {
    Status s = CheckAuthority(*key, manifest, prefix);
    if (s.ok()) {
      return TrustDecision{
          .signer = key->name, .key_id = envelope->key_id, .granted = manifest.capabilities};
    }
    if (first_refusal.ok()) first_refusal = std::move(s);
  }
  return first_refusal;
}

}  // namespace tessera::registry
