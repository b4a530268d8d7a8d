// How JSON locations and values appear in error messages: every refusal of a JSON document names
// the JSON Pointer (RFC 6901) of the offending value, e.g. /artifacts/0/sha256, and shows values
// briefly.
//
// JsonPath is the location of a value during a recursive walk, as a chain of stack frames, so
// walking allocates nothing; the pointer text is built only when an error is reported.
//
// Thread safety: pure functions; a JsonPath borrows its parent and its name.
#ifndef TESSERA_PACKAGE_JSON_POINTER_H_
#define TESSERA_PACKAGE_JSON_POINTER_H_

#include <cstddef>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

namespace tessera::package {

struct JsonPath {
  const JsonPath* parent = nullptr;
  bool is_member = false;
  std::string_view name;  // the member name, when is_member
  std::size_t index = 0;  // the array index, when !is_member
};

// A reference token for a member name: "~" becomes "~0" and "/" becomes "~1".
std::string EscapePointerToken(std::string_view name);

// The pointer of `at`: "" for the root (nullptr), "/a/0" for element 0 of member "a".
std::string PointerOf(const JsonPath* at);

// A pointer as messages show it: "(root)" for "", bytes outside printable ASCII as \xNN, and at
// most 200 characters (then "...").
std::string RenderPointer(std::string_view pointer);

// A value for messages: compact JSON, ASCII only (other characters as \u escapes, invalid UTF-8
// as U+FFFD), at most `max_chars` characters (then "...").
std::string BriefJson(const nlohmann::json& value, std::size_t max_chars = 120);

// "an object", "an array", "a string", "a boolean", "an integer" (any number without a
// fractional part), "a number", "null".
std::string JsonKindName(const nlohmann::json& value);

}  // namespace tessera::package

#endif  // TESSERA_PACKAGE_JSON_POINTER_H_
