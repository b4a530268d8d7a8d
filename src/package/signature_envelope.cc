#include "package/signature_envelope.h"

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/check.h"
#include "package/base64.h"
#include "package/canonical_json.h"
#include "package/strict_json.h"

namespace tessera::package {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kWhat = "package: signature envelope";
constexpr std::string_view kKeyIdPrefix = "ed25519:";
constexpr std::size_t kKeyIdHexDigits = 16;
constexpr std::array<std::string_view, 4> kMembers = {"schema", "key_id", "algorithm", "signature"};

Status EnvelopeError(StatusCode code, std::string_view member, const std::string& problem) {
  return Status(code, std::string(kWhat) + ": member \"" + std::string(member) + "\" " + problem);
}

// JSON text of a string value for messages, cut to a readable length.
std::string Quoted(const std::string& value) {
  constexpr std::size_t kMaxShown = 64;
  const std::string shown = value.size() > kMaxShown ? value.substr(0, kMaxShown) : value;
  std::string out =
      Json(shown).dump(-1, ' ', /*ensure_ascii=*/true, Json::error_handler_t::replace);
  if (shown.size() < value.size()) out += "...";
  return out;
}

// The string value of `member`; kMalformed if it is not a string.
Result<std::string> StringMember(const Json& object, std::string_view member) {
  const Json& value = object.at(std::string(member));
  if (!value.is_string()) {
    return EnvelopeError(StatusCode::kMalformed, member,
                         std::string("must be a string, not ") + value.type_name());
  }
  return value.get<std::string>();
}

}  // namespace

bool IsKeyIdSyntax(std::string_view key_id) {
  if (key_id.size() != kKeyIdPrefix.size() + kKeyIdHexDigits) return false;
  if (!key_id.starts_with(kKeyIdPrefix)) return false;
  for (char c : key_id.substr(kKeyIdPrefix.size())) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Result<std::string> SignManifest(const Manifest& manifest, const PrivateKey& key) {
  TS_ASSIGN_OR_RETURN(const std::string message, SigningMessage(manifest));
  const std::span<const std::uint8_t> message_bytes(
      reinterpret_cast<const std::uint8_t*>(message.data()), message.size());
  TS_ASSIGN_OR_RETURN(const Ed25519Signature signature, key.Sign(message_bytes));
  return SignatureEnvelopeJson(SignatureEnvelope{key.public_key().KeyId(), signature});
}

Result<SignatureEnvelope> ParseSignatureEnvelope(std::string_view bytes) {
  const StrictJsonLimits limits{.max_bytes = kMaxSignatureEnvelopeBytes,
                                .max_depth = kMaxSignatureEnvelopeDepth};
  TS_ASSIGN_OR_RETURN(const Json doc, ParseStrictJson(bytes, kWhat, limits));
  if (!doc.is_object()) {
    return Malformed(std::string(kWhat) + ": must be a JSON object, not " + doc.type_name());
  }

  // The schema first: a newer envelope may have other members.
  if (!doc.contains("schema")) {
    return EnvelopeError(StatusCode::kMalformed, "schema", "is missing");
  }
  TS_ASSIGN_OR_RETURN(const std::string schema, StringMember(doc, "schema"));
  if (schema != kSignatureEnvelopeSchemaV1) {
    return EnvelopeError(StatusCode::kUnsupported, "schema",
                         Quoted(schema) + " is not supported (this runtime reads \"" +
                             std::string(kSignatureEnvelopeSchemaV1) + "\")");
  }

  for (const auto& [name, value] : doc.items()) {
    bool known = false;
    for (std::string_view member : kMembers) known = known || name == member;
    if (!known) {
      return Malformed(std::string(kWhat) + ": unknown member " + Quoted(name) +
                       " (expected exactly schema, key_id, algorithm, signature)");
    }
  }
  for (std::string_view member : kMembers) {
    if (!doc.contains(std::string(member))) {
      return EnvelopeError(StatusCode::kMalformed, member, "is missing");
    }
  }

  TS_ASSIGN_OR_RETURN(const std::string algorithm, StringMember(doc, "algorithm"));
  if (algorithm != kSignatureAlgorithmEd25519) {
    return EnvelopeError(StatusCode::kUnsupported, "algorithm",
                         Quoted(algorithm) + " is not supported (only \"ed25519\")");
  }

  SignatureEnvelope envelope;
  TS_ASSIGN_OR_RETURN(envelope.key_id, StringMember(doc, "key_id"));
  if (!IsKeyIdSyntax(envelope.key_id)) {
    return EnvelopeError(
        StatusCode::kMalformed, "key_id",
        Quoted(envelope.key_id) + " is not \"ed25519:\" followed by 16 lowercase hex digits");
  }

  TS_ASSIGN_OR_RETURN(const std::string signature_text, StringMember(doc, "signature"));
  // Base64Decode's messages read "package: signature envelope: member "signature": ...".
  TS_ASSIGN_OR_RETURN(const std::vector<std::uint8_t> signature,
                      Base64Decode(signature_text, "signature envelope: member \"signature\""));
  if (signature.size() != kEd25519SignatureBytes) {
    return EnvelopeError(StatusCode::kMalformed, "signature",
                         "decodes to " + std::to_string(signature.size()) + " bytes, not " +
                             std::to_string(kEd25519SignatureBytes));
  }
  std::copy(signature.begin(), signature.end(), envelope.signature.begin());
  return envelope;
}

std::string SignatureEnvelopeJson(const SignatureEnvelope& envelope) {
  TS_CHECK(IsKeyIdSyntax(envelope.key_id));
  Json doc = Json::object();
  doc["schema"] = std::string(kSignatureEnvelopeSchemaV1);
  doc["key_id"] = envelope.key_id;
  doc["algorithm"] = std::string(kSignatureAlgorithmEd25519);
  doc["signature"] = Base64Encode(envelope.signature);
  Result<std::string> bytes = CanonicalJson(doc);
  TS_CHECK(bytes.ok());  // four ASCII strings always have a canonical form
  return std::move(bytes).value();
}

}  // namespace tessera::package
