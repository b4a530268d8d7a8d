#include "evidence/record_rules.h"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <span>

#include "base/sha256.h"
#include "base/utf8.h"
#include "package/canonical_json.h"
#include "package/strict_json.h"
#include "sqlite/sqlite_db.h"

namespace tessera::evidence {
namespace {

bool IsKindByte(char c, bool first) {
  if (c >= 'a' && c <= 'z') return true;
  if (first) return false;
  return (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

void HashField(base::Sha256Hasher& hasher, std::string_view text) {
  hasher.Update(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(text.data()),
                                              text.size()));
}

}  // namespace

std::string LedgerPath(const std::string& home) { return home + "/evidence.db"; }

std::string RecordHash(const Record& r) {
  base::Sha256Hasher hasher;
  const std::string seq = std::to_string(r.seq);
  const std::string at_ms = std::to_string(r.at_ms);
  for (std::string_view field :
       {kHashDomain, std::string_view(seq), std::string_view("\n"), std::string_view(at_ms),
        std::string_view("\n"), std::string_view(r.kind), std::string_view("\n"),
        std::string_view(r.subject), std::string_view("\n"), std::string_view(r.prev_hash),
        std::string_view("\n"), std::string_view(r.body)}) {
    HashField(hasher, field);
  }
  return base::ToHex(hasher.Finish());
}

std::string QuoteForMessage(std::string_view text) {
  constexpr std::size_t kShown = 64;
  std::string out = "\"";
  for (std::size_t i = 0; i < text.size() && i < kShown; ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", c);
      out += escaped;
    }
  }
  out += text.size() > kShown ? "\"..." : "\"";
  return out;
}

Status ValidateKind(std::string_view kind, bool allow_reserved) {
  bool ok = !kind.empty() && kind.size() <= kMaxKindBytes;
  for (std::size_t i = 0; ok && i < kind.size(); ++i) ok = IsKindByte(kind[i], i == 0);
  if (!ok) {
    return InvalidArgument("evidence: kind " + QuoteForMessage(kind) + " (" +
                           std::to_string(kind.size()) +
                           " bytes) must match [a-z][a-z0-9_.-]{0,63}");
  }
  if (!allow_reserved && kind == kCheckpointKind) {
    return InvalidArgument(
        "evidence: kind \"checkpoint\" is reserved for the records retention appends");
  }
  return Status();
}

Status ValidateText(std::string_view field, std::string_view text) {
  const std::string name(field);
  if (text.size() > kMaxSubjectBytes) {
    return OutOfRange("evidence: " + name + " is " + std::to_string(text.size()) +
                      " bytes, over the limit of " + std::to_string(kMaxSubjectBytes));
  }
  if (Status s = base::ValidateUtf8(text); !s.ok()) {
    return Status(StatusCode::kInvalidUtf8, "evidence: " + name + ": " + s.message());
  }
  for (std::size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    // C0 and DEL are single bytes; C1 (U+0080..U+009F) is C2 80..C2 9F in UTF-8.
    const bool c1 =
        c == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) <= 0x9F;
    if (c < 0x20 || c == 0x7f || c1) {
      char code[16];
      std::snprintf(code, sizeof code, "U+%04X",
                    c1 ? static_cast<unsigned>(static_cast<unsigned char>(text[i + 1])) : c);
      return InvalidArgument("evidence: " + name + " has the control character " + code +
                             " at byte " + std::to_string(i) +
                             "; it must be UTF-8 without control characters");
    }
  }
  return Status();
}

Result<std::string> CanonicalBody(std::string_view body_json) {
  if (body_json.size() > kMaxBodyBytes) {
    return OutOfRange("evidence: body is " + std::to_string(body_json.size()) +
                      " bytes, over the limit of " + std::to_string(kMaxBodyBytes));
  }
  if (Status s = base::ValidateUtf8(body_json); !s.ok()) {
    return Status(StatusCode::kInvalidUtf8, "evidence: body: " + s.message());
  }
  Result<nlohmann::json> parsed = package::ParseStrictJson(
      body_json, "evidence: body", package::StrictJsonLimits{kMaxBodyBytes, kMaxBodyDepth});
  if (!parsed.ok()) {
    const Status& s = parsed.status();
    // Nesting too deep is a limit on a value: out of range, like the size.
    if (s.code() == StatusCode::kResourceExhausted) return OutOfRange(s.message());
    return s;
  }
  if (!parsed->is_object()) {
    return InvalidArgument(std::string("evidence: body must be a JSON object, not ") +
                           parsed->type_name());
  }
  Result<std::string> canonical = package::CanonicalJson(*parsed);
  if (!canonical.ok()) return canonical.status().WithContext("evidence: body");
  if (canonical->size() > kMaxBodyBytes) {
    return OutOfRange("evidence: body is " + std::to_string(canonical->size()) +
                      " bytes in canonical form, over the limit of " +
                      std::to_string(kMaxBodyBytes));
  }
  return canonical;
}

bool IsHexHash(std::string_view text) {
  if (text.size() != 64) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Record ReadRecordRow(const sqlite::Stmt& row) {
  Record r;
  r.seq = row.Int(0);
  r.at_ms = row.Int(1);
  r.kind = row.Text(2);
  r.subject = row.Text(3);
  r.body = row.Text(4);
  r.prev_hash = row.Text(5);
  r.hash = row.Text(6);
  return r;
}

}  // namespace tessera::evidence
