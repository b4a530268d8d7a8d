// Parsing JSON text that is signed or validated (package manifests, later model outputs checked
// against a contract): stricter than nlohmann's parser, which silently keeps the last of two
// members with the same name and nests without limit.
//
// ParseStrictJson reads one JSON value (RFC 8259: no comments, nothing after the value) and
// refuses, in this order:
//   - text longer than `max_bytes` (kResourceExhausted), before reading any of it;
//   - text that is not JSON, including strings that are not UTF-8 (kMalformed, naming the byte
//     offset where the parser stopped);
//   - containers nested deeper than `max_depth` (kResourceExhausted), so later recursive walks
//     over the value are bounded;
//   - an object with two members of the same name (kDuplicate, naming the JSON Pointer of the
//     second): two readers of a signed document must never see different values.
// Messages start with `what` ("package: manifest").
//
// The text is read twice: once by a checking SAX pass that allocates nothing but the names of
// the open objects, and only if that passes, once to build the value.
//
// Thread safety: a pure function.
#ifndef TESSERA_PACKAGE_STRICT_JSON_H_
#define TESSERA_PACKAGE_STRICT_JSON_H_

#include <cstddef>
#include <nlohmann/json_fwd.hpp>
#include <string_view>

#include "tessera/status.h"

namespace tessera::package {

struct StrictJsonLimits {
  std::size_t max_bytes = 256 * 1024;
  std::size_t max_depth = 64;  // [] is depth 1, [[]] depth 2
};

Result<nlohmann::json> ParseStrictJson(std::string_view text, std::string_view what,
                                       const StrictJsonLimits& limits);

}  // namespace tessera::package

#endif  // TESSERA_PACKAGE_STRICT_JSON_H_
