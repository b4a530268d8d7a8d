// Records as JSON lines: RecordJsonLine and its inverse ParseRecordJsonLine (ledger.h).
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "evidence/ledger.h"
#include "evidence/record_rules.h"
#include "package/canonical_json.h"
#include "package/strict_json.h"

namespace tessera::evidence {
namespace {

using Json = nlohmann::json;

// A JSON string; bytes that are not UTF-8 (only in a damaged ledger) become U+FFFD.
std::string JsonString(const std::string& text) {
  return Json(text).dump(-1, ' ', false, Json::error_handler_t::replace);
}

// Members of a record line, in their order.
constexpr const char* kLineMembers[] = {"seq",  "at_ms",     "kind", "subject",
                                        "body", "prev_hash", "hash"};

Result<std::int64_t> LineInteger(const Json& doc, const char* name) {
  const Json& v = doc[name];
  if (v.is_number_unsigned() && v.get<std::uint64_t>() > std::uint64_t{INT64_MAX}) {
    return OutOfRange(std::string("evidence: record line: \"") + name + "\" is over " +
                      std::to_string(INT64_MAX));
  }
  if (v.is_number_integer()) return v.get<std::int64_t>();
  return Status(StatusCode::kTypeMismatch, std::string("evidence: record line: \"") + name +
                                               "\" must be an integer, not " + v.type_name());
}

Result<std::string> LineString(const Json& doc, const char* name) {
  const Json& v = doc[name];
  if (v.is_string()) return v.get<std::string>();
  return Status(StatusCode::kTypeMismatch, std::string("evidence: record line: \"") + name +
                                               "\" must be a string, not " + v.type_name());
}

}  // namespace

std::string RecordJsonLine(const Record& r) {
  std::string line = "{\"seq\":" + std::to_string(r.seq) + ",\"at_ms\":" + std::to_string(r.at_ms) +
                     ",\"kind\":" + JsonString(r.kind) + ",\"subject\":" + JsonString(r.subject) +
                     ",\"body\":";
  // The stored body is canonical JSON; a damaged one is written as a string so that the line
  // stays JSON (and ParseRecordJsonLine refuses it).
  line += Json::accept(r.body) ? r.body : JsonString(r.body);
  line += ",\"prev_hash\":" + JsonString(r.prev_hash) + ",\"hash\":" + JsonString(r.hash) + "}";
  return line;
}

Result<Record> ParseRecordJsonLine(std::string_view line) {
  // The body's limits, plus room for the other members (the subject escaped at most 6-fold).
  const package::StrictJsonLimits limits{kMaxBodyBytes + 6 * kMaxSubjectBytes + 1024,
                                         kMaxBodyDepth + 1};
  Result<Json> parsed = package::ParseStrictJson(line, "evidence: record line", limits);
  if (!parsed.ok()) return parsed.status();
  const Json& doc = *parsed;
  if (!doc.is_object()) {
    return Status(
        StatusCode::kTypeMismatch,
        std::string("evidence: record line must be a JSON object, not ") + doc.type_name());
  }
  for (const char* name : kLineMembers) {
    if (!doc.contains(name)) {
      return Malformed(std::string("evidence: record line has no \"") + name + "\"");
    }
  }
  if (doc.size() != std::size(kLineMembers)) {
    for (const auto& [name, value] : doc.items()) {
      bool known = false;
      for (const char* member : kLineMembers) known = known || name == member;
      if (!known) {
        return Malformed("evidence: record line has the unknown member " + QuoteForMessage(name));
      }
    }
  }
  Record r;
  TS_ASSIGN_OR_RETURN(r.seq, LineInteger(doc, "seq"));
  if (r.seq < 1) {
    return OutOfRange("evidence: record line: seq " + std::to_string(r.seq) + " is not positive");
  }
  TS_ASSIGN_OR_RETURN(r.at_ms, LineInteger(doc, "at_ms"));
  TS_ASSIGN_OR_RETURN(r.kind, LineString(doc, "kind"));
  TS_RETURN_IF_ERROR(ValidateKind(r.kind, /*allow_reserved=*/true));
  TS_ASSIGN_OR_RETURN(r.subject, LineString(doc, "subject"));
  TS_RETURN_IF_ERROR(ValidateText("subject", r.subject));
  const Json& body = doc["body"];
  if (!body.is_object()) {
    return Status(StatusCode::kTypeMismatch,
                  std::string("evidence: record line: \"body\" must be a JSON object, not ") +
                      body.type_name());
  }
  Result<std::string> canonical = package::CanonicalJson(body);
  if (!canonical.ok()) return canonical.status().WithContext("evidence: record line: body");
  if (canonical->size() > kMaxBodyBytes) {
    return OutOfRange("evidence: record line: body is " + std::to_string(canonical->size()) +
                      " bytes in canonical form, over the limit of " +
                      std::to_string(kMaxBodyBytes));
  }
  r.body = std::move(canonical).value();
  TS_ASSIGN_OR_RETURN(r.prev_hash, LineString(doc, "prev_hash"));
  TS_ASSIGN_OR_RETURN(r.hash, LineString(doc, "hash"));
  for (const std::string* hash : {&r.prev_hash, &r.hash}) {
    if (!IsHexHash(*hash)) {
      return Malformed(
          "evidence: record line: " + std::string(hash == &r.hash ? "hash " : "prev_hash ") +
          QuoteForMessage(*hash) + " is not 64 lowercase hex digits");
    }
  }
  return r;
}

}  // namespace tessera::evidence
