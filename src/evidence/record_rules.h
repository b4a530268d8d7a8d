// Internal to the evidence layer: the rules a record's fields obey (shared by Append and
// ParseRecordJsonLine), and reading a record from a row of the records table.
//
// Thread safety: pure functions.
#ifndef TESSERA_EVIDENCE_RECORD_RULES_H_
#define TESSERA_EVIDENCE_RECORD_RULES_H_

#include <string>
#include <string_view>

#include "evidence/ledger.h"
#include "tessera/status.h"

namespace tessera::sqlite {
class Stmt;
}  // namespace tessera::sqlite

namespace tessera::evidence {

// prev_hash of record 1.
inline constexpr std::string_view kZeroHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

// kInvalidArgument unless `kind` matches [a-z][a-z0-9_.-]{0,63}; the reserved "checkpoint" is
// refused too unless `allow_reserved`.
Status ValidateKind(std::string_view kind, bool allow_reserved);
// kOutOfRange over kMaxSubjectBytes, kInvalidUtf8, kInvalidArgument for a control character
// (C0, DEL, C1). `field` names it in messages ("subject", "reason").
Status ValidateText(std::string_view field, std::string_view text);
// The canonical text of a JSON object given as text, under the body limits (see Append).
Result<std::string> CanonicalBody(std::string_view body_json);
// 64 lowercase hex digits.
bool IsHexHash(std::string_view text);
// `text` quoted for an error message: at most 64 bytes, other than printable ASCII as \xNN.
std::string QuoteForMessage(std::string_view text);

// The columns of a record, in the order ReadRecordRow expects them.
inline constexpr const char* kRecordColumns = "seq, at_ms, kind, subject, body, prev_hash, hash";
Record ReadRecordRow(const sqlite::Stmt& row);

}  // namespace tessera::evidence

#endif  // TESSERA_EVIDENCE_RECORD_RULES_H_
