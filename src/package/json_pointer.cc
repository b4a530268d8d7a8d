#include "package/json_pointer.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "package/json_compare.h"

namespace tessera::package {
namespace {

constexpr std::size_t kMaxRenderedChars = 200;

void Append(const JsonPath* at, std::string* out) {
  if (at == nullptr) return;
  Append(at->parent, out);
  out->push_back('/');
  if (at->is_member) {
    *out += EscapePointerToken(at->name);
  } else {
    *out += std::to_string(at->index);
  }
}

}  // namespace

std::string EscapePointerToken(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (char c : name) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string PointerOf(const JsonPath* at) {
  std::string out;
  Append(at, &out);
  return out;
}

std::string RenderPointer(std::string_view pointer) {
  if (pointer.empty()) return "(root)";
  std::string out;
  for (char ch : pointer) {
    if (out.size() >= kMaxRenderedChars) {
      out += "...";
      break;
    }
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c < 0x7F) {
      out.push_back(ch);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

std::string BriefJson(const nlohmann::json& value, std::size_t max_chars) {
  std::string text =
      value.dump(-1, ' ', /*ensure_ascii=*/true, nlohmann::json::error_handler_t::replace);
  if (text.size() > max_chars) text = text.substr(0, max_chars) + "...";
  return text;
}

std::string JsonKindName(const nlohmann::json& value) {
  if (value.is_object()) return "an object";
  if (value.is_array()) return "an array";
  if (value.is_string()) return "a string";
  if (value.is_boolean()) return "a boolean";
  if (value.is_number() && IsIntegral(value)) return "an integer";
  if (value.is_number()) return "a number";
  return "null";
}

}  // namespace tessera::package
