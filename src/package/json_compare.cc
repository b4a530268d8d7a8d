#include "package/json_compare.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "base/check.h"

namespace tessera::package {
namespace {

using Json = nlohmann::json;
using Wide = __int128;  // holds every int64 and uint64 exactly

int Sign(Wide a, Wide b) { return a < b ? -1 : (a > b ? 1 : 0); }

Wide AsWide(const Json& integer) {
  if (integer.is_number_unsigned()) return static_cast<Wide>(integer.get<std::uint64_t>());
  return static_cast<Wide>(integer.get<std::int64_t>());
}

// An integer against a double, exactly.
int CompareIntegerToDouble(Wide i, double d) {
  constexpr double kTwo64 = 18446744073709551616.0;
  constexpr double kMinusTwo63 = -9223372036854775808.0;
  if (d >= kTwo64) return -1;
  if (d < kMinusTwo63) return 1;
  const double floor_d = std::floor(d);  // integral and within [-2^63, 2^64): exact as Wide
  const Wide f = static_cast<Wide>(floor_d);
  if (i != f) return Sign(i, f);
  return d > floor_d ? -1 : 0;
}

// Rank of a value's kind in the total order.
int Rank(const Json& v) {
  if (v.is_null()) return 0;
  if (v.is_boolean()) return 1;
  if (v.is_number()) return 2;
  if (v.is_string()) return 3;
  if (v.is_array()) return 4;
  if (v.is_object()) return 5;
  return 6;  // binary or discarded: never in parsed JSON; ordered last, equal among themselves
}

}  // namespace

int CompareNumbers(const Json& a, const Json& b) {
  TS_CHECK(a.is_number() && b.is_number());
  const bool a_float = a.is_number_float();
  const bool b_float = b.is_number_float();
  if (!a_float && !b_float) return Sign(AsWide(a), AsWide(b));
  if (a_float && b_float) {
    const double x = a.get<double>();
    const double y = b.get<double>();
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  if (b_float) return CompareIntegerToDouble(AsWide(a), b.get<double>());
  return -CompareIntegerToDouble(AsWide(b), a.get<double>());
}

bool IsIntegral(const Json& number) {
  if (!number.is_number()) return false;
  if (!number.is_number_float()) return true;
  const double d = number.get<double>();
  return std::isfinite(d) && std::floor(d) == d;
}

int CompareJson(const Json& a, const Json& b) {
  const int ra = Rank(a);
  const int rb = Rank(b);
  if (ra != rb) return ra < rb ? -1 : 1;
  switch (ra) {
    case 0:
      return 0;
    case 1:
      return static_cast<int>(a.get<bool>()) - static_cast<int>(b.get<bool>());
    case 2:
      return CompareNumbers(a, b);
    case 3: {
      const int c = a.get_ref<const std::string&>().compare(b.get_ref<const std::string&>());
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    case 4: {
      const std::size_t n = std::min(a.size(), b.size());
      for (std::size_t i = 0; i < n; ++i) {
        const int c = CompareJson(a[i], b[i]);
        if (c != 0) return c;
      }
      return a.size() < b.size() ? -1 : (a.size() > b.size() ? 1 : 0);
    }
    case 5: {
      // nlohmann objects iterate in sorted name order, so equal objects align member by member.
      auto ia = a.begin();
      auto ib = b.begin();
      for (; ia != a.end() && ib != b.end(); ++ia, ++ib) {
        const int k = ia.key().compare(ib.key());
        if (k != 0) return k < 0 ? -1 : 1;
        const int c = CompareJson(ia.value(), ib.value());
        if (c != 0) return c;
      }
      if (ia == a.end() && ib == b.end()) return 0;
      return ia == a.end() ? -1 : 1;
    }
    default:
      return 0;
  }
}

std::size_t JsonDepth(const Json& value, std::size_t limit) {
  std::size_t deepest = 0;
  std::vector<std::pair<const Json*, std::size_t>> stack = {{&value, 0}};
  while (!stack.empty()) {
    const auto [v, depth] = stack.back();
    stack.pop_back();
    if (!v->is_structured()) continue;
    const std::size_t inner = depth + 1;
    if (inner > deepest) deepest = inner;
    if (deepest > limit) return deepest;
    for (const Json& child : *v) stack.emplace_back(&child, inner);
  }
  return deepest;
}

}  // namespace tessera::package
