// A GGUF metadata value: a scalar, a string, or a (possibly nested) array of values.
//
// Values own their data (strings and arrays are copied out of the file), so the same type serves
// the reader and the writer. Arrays keep their element type even when empty.
//
// Thread safety: values are plain data. Cost: copying an array copies every element; large
// arrays (a 32000-token vocabulary) should be read by const reference.
#ifndef TESSERA_GGUF_VALUE_H_
#define TESSERA_GGUF_VALUE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tessera::gguf {

enum class ValueType : std::uint32_t {
  kU8 = 0,
  kI8 = 1,
  kU16 = 2,
  kI16 = 3,
  kU32 = 4,
  kI32 = 5,
  kF32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kU64 = 10,
  kI64 = 11,
  kF64 = 12,
};

// "u8", "i32", "string", "array", ...; "unknown" for a number outside the enumeration.
std::string_view ValueTypeName(ValueType type);
bool IsKnownValueType(std::uint32_t raw);

class Value;

struct Array {
  ValueType element_type = ValueType::kU8;
  std::vector<Value> items;
};

class Value {
 public:
  Value() : type_(ValueType::kU8), data_(std::uint64_t{0}) {}

  static Value U8(std::uint8_t v) { return Value(ValueType::kU8, std::uint64_t{v}); }
  static Value I8(std::int8_t v) { return Value(ValueType::kI8, std::int64_t{v}); }
  static Value U16(std::uint16_t v) { return Value(ValueType::kU16, std::uint64_t{v}); }
  static Value I16(std::int16_t v) { return Value(ValueType::kI16, std::int64_t{v}); }
  static Value U32(std::uint32_t v) { return Value(ValueType::kU32, std::uint64_t{v}); }
  static Value I32(std::int32_t v) { return Value(ValueType::kI32, std::int64_t{v}); }
  static Value U64(std::uint64_t v) { return Value(ValueType::kU64, v); }
  static Value I64(std::int64_t v) { return Value(ValueType::kI64, v); }
  static Value F32(float v) { return Value(ValueType::kF32, double{v}); }
  static Value F64(double v) { return Value(ValueType::kF64, v); }
  static Value Bool(bool v) { return Value(ValueType::kBool, v); }
  static Value String(std::string v) { return Value(ValueType::kString, std::move(v)); }
  static Value MakeArray(Array a) { return Value(ValueType::kArray, std::move(a)); }
  // Convenience builders for the common homogeneous arrays.
  static Value StringArray(std::vector<std::string> items);
  static Value F32Array(const std::vector<float>& items);
  static Value I32Array(const std::vector<std::int32_t>& items);

  ValueType type() const { return type_; }
  bool is_integer() const;  // u8..i64
  bool is_float() const { return type_ == ValueType::kF32 || type_ == ValueType::kF64; }
  bool is_string() const { return type_ == ValueType::kString; }
  bool is_array() const { return type_ == ValueType::kArray; }

  // Value conversions; nullopt if the type does not match or the value does not fit.
  std::optional<std::uint64_t> AsU64() const;
  std::optional<std::int64_t> AsI64() const;
  std::optional<double> AsF64() const;  // f32, f64 (integers are not converted)
  std::optional<bool> AsBool() const;
  // Requires is_string() / is_array() (checked).
  const std::string& string() const;
  const Array& array() const;

  // Deep equality: same type and same contents (f32/f64 compared as doubles; an array's element
  // type is part of its value).
  bool operator==(const Value& other) const;

 private:
  using Data = std::variant<std::uint64_t, std::int64_t, double, bool, std::string, Array>;
  Value(ValueType t, Data d) : type_(t), data_(std::move(d)) {}
  ValueType type_;
  Data data_;
};

bool operator==(const Array& a, const Array& b);

}  // namespace tessera::gguf

#endif  // TESSERA_GGUF_VALUE_H_
