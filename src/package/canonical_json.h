// Canonical JSON: the one byte sequence of a JSON value that package signatures cover, following
// RFC 8785, the JSON Canonicalization Scheme (JCS). Two parties that hold the same value produce
// the same bytes, whatever order or spacing the value was written in.
//
// The serialisation of a value:
//   - no whitespace anywhere; literals null, true, false;
//   - objects: members sorted by their names compared as arrays of UTF-16 code units (so
//     U+1F600, the surrogate pair D83D DE00, sorts before U+FB33, although its code point is
//     higher), "name":value joined by ",";
//   - arrays: elements in their order, joined by ",";
//   - strings (names and values): UTF-8 as is, except the escapes \" \\ \b \f \n \r \t and, for
//     the other code points below U+0020, \u00xx with lowercase hex; "/" and U+007F and above are
//     never escaped. Text that is not well-formed UTF-8 is refused (kInvalidUtf8);
//   - numbers: every number is an IEEE 754 double, written as ECMAScript's Number.prototype.
//     toString writes it: the shortest digits that round-trip; plain decimal notation for
//     1e-7 < |x| < 1e21 (1e21 -> "1e+21", 0.000001 -> "0.000001", 1e-7 -> "1e-7"); otherwise
//     d[.ddd]e+N / e-N; -0 -> "0". NaN and infinities are refused (kOutOfRange).
// Integers: nlohmann keeps integers as int64/uint64. One is written as the double nearest to it
// and refused (kOutOfRange) unless that text is its own decimal text, i.e. unless it survives a
// trip through a double: every integer of magnitude up to 2^53 does (9007199254740993 does
// not). Beyond 2^53 a few do, such as 10000000000000000000: they must be accepted because the
// doubles from 2^53 to 1e21 are written as integers and parse back as integers.
//
// Duplicate names cannot occur in an nlohmann object (its parser keeps the last one); a reader of
// signed documents that must refuse duplicates has to detect them while parsing.
// Binary values (from CBOR and friends) and discarded values are refused (kInvalidArgument).
// Nesting deeper than kMaxCanonicalDepth is refused (kOutOfRange) so recursion stays bounded.
// Error messages name the JSON Pointer (RFC 6901) of the offending value.
//
// Thread safety: pure functions.
#ifndef TESSERA_PACKAGE_CANONICAL_JSON_H_
#define TESSERA_PACKAGE_CANONICAL_JSON_H_

#include <cstddef>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "tessera/status.h"

namespace tessera::package {

inline constexpr std::size_t kMaxCanonicalDepth = 256;

// The canonical UTF-8 text of `value` (RFC 8785).
Result<std::string> CanonicalJson(const nlohmann::json& value);

// One number as RFC 8785 (ECMAScript) writes it; kOutOfRange for NaN and infinities.
Result<std::string> CanonicalNumber(double value);

}  // namespace tessera::package

#endif  // TESSERA_PACKAGE_CANONICAL_JSON_H_
