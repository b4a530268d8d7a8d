// Base64, the standard alphabet of RFC 4648 section 4 (A-Z a-z 0-9 + /) with "=" padding, for
// binary values carried in JSON (signatures in the signature envelope).
//
// Decoding is strict, so that one byte string has exactly one accepted text:
//   - the length is a multiple of 4 (padding is required);
//   - only alphabet characters, then at most two "=" at the very end; no whitespace, no line
//     breaks, no URL-safe "-" "_";
//   - the bits that padding leaves over in the last character are zero (RFC 4648 section 3.5
//     allows decoders to refuse otherwise; we do, so "Zh==" is not a second spelling of "Zg==").
// Anything else is kMalformed naming the offset and the problem. The input is bounded by the
// caller (the decoded size is 3/4 of the text, computed before allocating).
//
// Thread safety: pure functions.
#ifndef TESSERA_PACKAGE_BASE64_H_
#define TESSERA_PACKAGE_BASE64_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/status.h"

namespace tessera::package {

// The padded base64 text of `bytes`.
std::string Base64Encode(std::span<const std::uint8_t> bytes);

// The bytes of padded base64 `text`. Messages start with "package: <what>: ".
Result<std::vector<std::uint8_t>> Base64Decode(std::string_view text, std::string_view what);

}  // namespace tessera::package

#endif  // TESSERA_PACKAGE_BASE64_H_
