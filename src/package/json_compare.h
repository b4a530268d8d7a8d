// Comparing JSON values the way JSON Schema does: numbers by their mathematical value (1 equals
// 1.0; 9007199254740993 does not equal 9007199254740992.0, although a double cannot tell them
// apart), strings by their bytes, arrays element by element, objects member by member.
//
// CompareJson is a total order consistent with that equality, so that `uniqueItems` can sort
// instead of comparing every pair: null < booleans (false < true) < numbers < strings (bytewise)
// < arrays (lexicographic) < objects (by their sorted members, name then value, lexicographic).
//
// The comparison recurses once per nesting level: callers bound the depth first (JsonDepth).
//
// Thread safety: pure functions.
#ifndef TESSERA_PACKAGE_JSON_COMPARE_H_
#define TESSERA_PACKAGE_JSON_COMPARE_H_

#include <cstddef>
#include <nlohmann/json_fwd.hpp>

namespace tessera::package {

// <0, 0, >0 as a is below, equal to or above b in the order above.
int CompareJson(const nlohmann::json& a, const nlohmann::json& b);

// Exact comparison of two JSON numbers (int64, uint64 or double, in any combination). Both must
// be numbers (TS_CHECK) and neither NaN (JSON cannot express it).
int CompareNumbers(const nlohmann::json& a, const nlohmann::json& b);

// True if the number has no fractional part: JSON Schema's "integer" (1.0 is an integer).
bool IsIntegral(const nlohmann::json& number);

// The nesting depth of a value: 0 for a scalar, 1 for [] or {}, 2 for [[]], ... Iterative: safe
// on any depth. Stops counting at `limit` + 1, so the cost is bounded by the value's size.
std::size_t JsonDepth(const nlohmann::json& value, std::size_t limit);

}  // namespace tessera::package

#endif  // TESSERA_PACKAGE_JSON_COMPARE_H_
