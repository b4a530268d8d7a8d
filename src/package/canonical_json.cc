#include "package/canonical_json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string_view>
#include <system_error>
#include <vector>

#include "base/check.h"
#include "base/utf8.h"

namespace tessera::package {
namespace {

using Json = nlohmann::json;

constexpr std::size_t kMaxPointerChars = 200;

// Where a value sits in the document, as a chain of stack frames (no allocation while walking).
struct PathNode {
  const PathNode* parent = nullptr;
  bool is_member = false;
  std::string_view name;  // when is_member
  std::size_t index = 0;  // when !is_member
};

void AppendPointer(const PathNode* node, std::string* out) {
  if (node == nullptr) return;
  AppendPointer(node->parent, out);
  out->push_back('/');
  if (!node->is_member) {
    *out += std::to_string(node->index);
    return;
  }
  for (char ch : node->name) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c == '~') {
      *out += "~0";
    } else if (c == '/') {
      *out += "~1";
    } else if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
      out->push_back(ch);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      *out += buf;
    }
  }
}

// "the root" or "\"/a/0\"" for messages.
std::string Where(const PathNode* node) {
  if (node == nullptr) return "the root";
  std::string pointer;
  AppendPointer(node, &pointer);
  if (pointer.size() > kMaxPointerChars) pointer = pointer.substr(0, kMaxPointerChars) + "...";
  return "\"" + pointer + "\"";
}

// "package: canonical json: value at "/a/1": <problem>".
Status Error(StatusCode code, const std::string& problem, const PathNode* at) {
  return Status(code, "package: canonical json: value at " + Where(at) + ": " + problem);
}

// ECMAScript Number::toString for a finite double.
std::string FormatFinite(double value) {
  if (value == 0) return "0";  // also -0
  std::string out;
  if (value < 0) {
    out.push_back('-');
    value = -value;
  }
  // Shortest round-trip digits in the form d.ddde+XX / de-XXX.
  char buf[64];
  const std::to_chars_result r =
      std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::scientific);
  TS_CHECK(r.ec == std::errc());
  const std::string_view sci(buf, static_cast<std::size_t>(r.ptr - buf));
  const std::size_t e_at = sci.find('e');
  TS_CHECK(e_at != std::string_view::npos && e_at + 2 < sci.size());
  std::string digits;
  for (char c : sci.substr(0, e_at)) {
    if (c != '.') digits.push_back(c);
  }
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  const bool negative_exponent = sci[e_at + 1] == '-';
  int exponent = 0;
  const std::string_view exp_digits = sci.substr(e_at + 2);
  const std::from_chars_result er =
      std::from_chars(exp_digits.data(), exp_digits.data() + exp_digits.size(), exponent);
  TS_CHECK(er.ec == std::errc());
  if (negative_exponent) exponent = -exponent;

  // value = digits * 10^(n - k), with k digits (the names of ECMA-262's Number::toString).
  const int k = static_cast<int>(digits.size());
  const int n = exponent + 1;
  if (k <= n && n <= 21) {
    out += digits;
    out.append(static_cast<std::size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out.append(digits, 0, static_cast<std::size_t>(n));
    out.push_back('.');
    out.append(digits, static_cast<std::size_t>(n));
  } else if (-6 < n && n <= 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-n), '0');
    out += digits;
  } else {
    out.push_back(digits[0]);
    if (k > 1) {
      out.push_back('.');
      out.append(digits, 1);
    }
    out.push_back('e');
    out.push_back(n - 1 < 0 ? '-' : '+');
    out += std::to_string(std::abs(n - 1));
  }
  return out;
}

// Appends `s` (already valid UTF-8) in double quotes with the RFC 8785 escapes.
void AppendEscaped(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        *out += "\\\"";
        break;
      case '\\':
        *out += "\\\\";
        break;
      case '\b':
        *out += "\\b";
        break;
      case '\f':
        *out += "\\f";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\r':
        *out += "\\r";
        break;
      case '\t':
        *out += "\\t";
        break;
      default:
        if (c < 0x20) {
          *out += "\\u00";
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 15]);
        } else {
          out->push_back(ch);
        }
    }
  }
  out->push_back('"');
}

// UTF-16 code units of valid UTF-8 text: the sort key of a member name.
std::u16string Utf16Of(std::string_view s) {
  std::u16string units;
  units.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    const unsigned char lead = static_cast<unsigned char>(s[i]);
    const std::size_t len = base::Utf8SequenceLength(lead);
    char32_t cp = len == 1   ? lead
                  : len == 2 ? (lead & 0x1F)
                  : len == 3 ? (lead & 0x0F)
                             : (lead & 0x07);
    for (std::size_t j = 1; j < len; ++j)
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + j]) & 0x3F);
    i += len;
    if (cp < 0x10000) {
      units.push_back(static_cast<char16_t>(cp));
    } else {
      cp -= 0x10000;
      units.push_back(static_cast<char16_t>(0xD800 + (cp >> 10)));
      units.push_back(static_cast<char16_t>(0xDC00 + (cp & 0x3FF)));
    }
  }
  return units;
}

Status CheckUtf8(std::string_view s, const char* what, const PathNode* at) {
  Status utf8 = base::ValidateUtf8(s);
  if (utf8.ok()) return utf8;
  return Error(StatusCode::kInvalidUtf8, std::string(what) + ": " + utf8.message(), at);
}

template <typename Int>
Status AppendInteger(Int value, const PathNode* at, std::string* out) {
  const std::string exact = std::to_string(value);
  if (FormatFinite(static_cast<double>(value)) != exact) {
    return Error(StatusCode::kOutOfRange,
                 "integer " + exact + " cannot be written exactly as an IEEE 754 double", at);
  }
  *out += exact;
  return Status::Ok();
}

struct Member {
  std::u16string sort_key;
  const std::string* name;
  const Json* value;
};

// `depth`: the number of arrays and objects around `value`.
Status AppendValue(const Json& value, const PathNode* at, std::size_t depth, std::string* out) {
  const bool container = value.is_object() || value.is_array();
  if (container && depth >= kMaxCanonicalDepth) {
    return Error(StatusCode::kOutOfRange,
                 "nesting deeper than " + std::to_string(kMaxCanonicalDepth) + " levels", at);
  }
  switch (value.type()) {
    case Json::value_t::null:
      *out += "null";
      return Status::Ok();
    case Json::value_t::boolean:
      *out += value.get<bool>() ? "true" : "false";
      return Status::Ok();
    case Json::value_t::number_integer:
      return AppendInteger(value.get<std::int64_t>(), at, out);
    case Json::value_t::number_unsigned:
      return AppendInteger(value.get<std::uint64_t>(), at, out);
    case Json::value_t::number_float: {
      const double d = value.get<double>();
      if (!std::isfinite(d)) {
        return Error(StatusCode::kOutOfRange,
                     std::string(std::isnan(d) ? "NaN" : "an infinity") + " is not a JSON number",
                     at);
      }
      *out += FormatFinite(d);
      return Status::Ok();
    }
    case Json::value_t::string: {
      const std::string& s = value.get_ref<const std::string&>();
      TS_RETURN_IF_ERROR(CheckUtf8(s, "string", at));
      AppendEscaped(s, out);
      return Status::Ok();
    }
    case Json::value_t::array: {
      out->push_back('[');
      std::size_t i = 0;
      for (const Json& element : value.get_ref<const Json::array_t&>()) {
        if (i > 0) out->push_back(',');
        const PathNode here{at, false, {}, i};
        TS_RETURN_IF_ERROR(AppendValue(element, &here, depth + 1, out));
        ++i;
      }
      out->push_back(']');
      return Status::Ok();
    }
    case Json::value_t::object: {
      const Json::object_t& object = value.get_ref<const Json::object_t&>();
      std::vector<Member> members;
      members.reserve(object.size());
      for (const auto& [name, member_value] : object) {
        const PathNode here{at, true, name, 0};
        TS_RETURN_IF_ERROR(CheckUtf8(name, "member name", &here));
        members.push_back({Utf16Of(name), &name, &member_value});
      }
      std::sort(members.begin(), members.end(),
                [](const Member& a, const Member& b) { return a.sort_key < b.sort_key; });
      out->push_back('{');
      for (std::size_t i = 0; i < members.size(); ++i) {
        if (i > 0) out->push_back(',');
        AppendEscaped(*members[i].name, out);
        out->push_back(':');
        const PathNode here{at, true, *members[i].name, 0};
        TS_RETURN_IF_ERROR(AppendValue(*members[i].value, &here, depth + 1, out));
      }
      out->push_back('}');
      return Status::Ok();
    }
    case Json::value_t::binary:
      return Error(StatusCode::kInvalidArgument, "a binary value, which JSON cannot hold", at);
    case Json::value_t::discarded:
      return Error(StatusCode::kInvalidArgument, "a discarded value (a failed parse)", at);
  }
  return Error(StatusCode::kInternal, "a value of unknown type", at);
}

}  // namespace

Result<std::string> CanonicalJson(const Json& value) {
  std::string out;
  TS_RETURN_IF_ERROR(AppendValue(value, nullptr, 0, &out));
  return out;
}

Result<std::string> CanonicalNumber(double value) {
  if (std::isnan(value)) return OutOfRange("package: canonical json: NaN is not a JSON number");
  if (std::isinf(value)) {
    return OutOfRange("package: canonical json: an infinity is not a JSON number");
  }
  return FormatFinite(value);
}

}  // namespace tessera::package
