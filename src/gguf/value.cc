#include "gguf/value.h"

#include <cstdint>
#include <limits>

#include "base/check.h"

namespace tessera::gguf {

std::string_view ValueTypeName(ValueType type) {
  switch (type) {
    case ValueType::kU8:
      return "u8";
    case ValueType::kI8:
      return "i8";
    case ValueType::kU16:
      return "u16";
    case ValueType::kI16:
      return "i16";
    case ValueType::kU32:
      return "u32";
    case ValueType::kI32:
      return "i32";
    case ValueType::kF32:
      return "f32";
    case ValueType::kBool:
      return "bool";
    case ValueType::kString:
      return "string";
    case ValueType::kArray:
      return "array";
    case ValueType::kU64:
      return "u64";
    case ValueType::kI64:
      return "i64";
    case ValueType::kF64:
      return "f64";
  }
  return "unknown";
}

bool IsKnownValueType(std::uint32_t raw) {
  return raw <= static_cast<std::uint32_t>(ValueType::kF64);
}

Value Value::StringArray(std::vector<std::string> items) {
  Array a;
  a.element_type = ValueType::kString;
  a.items.reserve(items.size());
  for (std::string& s : items) a.items.push_back(String(std::move(s)));
  return MakeArray(std::move(a));
}

Value Value::F32Array(const std::vector<float>& items) {
  Array a;
  a.element_type = ValueType::kF32;
  a.items.reserve(items.size());
  for (float f : items) a.items.push_back(F32(f));
  return MakeArray(std::move(a));
}

Value Value::I32Array(const std::vector<std::int32_t>& items) {
  Array a;
  a.element_type = ValueType::kI32;
  a.items.reserve(items.size());
  for (std::int32_t v : items) a.items.push_back(I32(v));
  return MakeArray(std::move(a));
}

bool Value::is_integer() const {
  switch (type_) {
    case ValueType::kU8:
    case ValueType::kI8:
    case ValueType::kU16:
    case ValueType::kI16:
    case ValueType::kU32:
    case ValueType::kI32:
    case ValueType::kU64:
    case ValueType::kI64:
      return true;
    default:
      return false;
  }
}

std::optional<std::uint64_t> Value::AsU64() const {
  if (!is_integer()) return std::nullopt;
  if (const auto* u = std::get_if<std::uint64_t>(&data_)) return *u;
  if (const auto* i = std::get_if<std::int64_t>(&data_)) {
    if (*i < 0) return std::nullopt;
    return static_cast<std::uint64_t>(*i);
  }
  return std::nullopt;
}

std::optional<std::int64_t> Value::AsI64() const {
  if (!is_integer()) return std::nullopt;
  if (const auto* i = std::get_if<std::int64_t>(&data_)) return *i;
  if (const auto* u = std::get_if<std::uint64_t>(&data_)) {
    if (*u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return std::nullopt;
    }
    return static_cast<std::int64_t>(*u);
  }
  return std::nullopt;
}

std::optional<double> Value::AsF64() const {
  if (!is_float()) return std::nullopt;
  if (const auto* d = std::get_if<double>(&data_)) return *d;
  return std::nullopt;
}

std::optional<bool> Value::AsBool() const {
  if (type_ != ValueType::kBool) return std::nullopt;
  if (const auto* b = std::get_if<bool>(&data_)) return *b;
  return std::nullopt;
}

const std::string& Value::string() const {
  const auto* s = std::get_if<std::string>(&data_);
  TS_CHECK(type_ == ValueType::kString && s != nullptr);
  return *s;
}

const Array& Value::array() const {
  const auto* a = std::get_if<Array>(&data_);
  TS_CHECK(type_ == ValueType::kArray && a != nullptr);
  return *a;
}

bool Value::operator==(const Value& other) const {
  return type_ == other.type_ && data_ == other.data_;
}

bool operator==(const Array& a, const Array& b) {
  return a.element_type == b.element_type && a.items == b.items;
}

}  // namespace tessera::gguf
