// The compiled form of a JsonSchema (json_schema.h), shared by its compiler
// (json_schema_compile.cc) and its validator (json_schema.cc). Not for use elsewhere.
//
// A schema is a vector of nodes; node 0 is the root. Subschemas, $defs and resolved $refs are
// node indices, so recursive schemas ({"$ref": "#"}) need no pointers.
//
// Thread safety: built by one thread, then immutable and shared (JsonSchema holds a shared_ptr to
// a const program).
#ifndef TESSERA_PACKAGE_JSON_SCHEMA_PROGRAM_H_
#define TESSERA_PACKAGE_JSON_SCHEMA_PROGRAM_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "package/json_pointer.h"
#include "package/safe_regex.h"

namespace tessera::package {

// Bits of SchemaNode::types.
enum TypeBit : std::uint8_t {
  kTypeNull = 1,
  kTypeBoolean = 2,
  kTypeObject = 4,
  kTypeArray = 8,
  kTypeNumber = 16,
  kTypeString = 32,
  kTypeInteger = 64,
};

struct SchemaNode {
  // A boolean schema: true accepts everything, false nothing. The other fields are unused.
  bool is_bool = false;
  bool bool_value = true;

  std::uint8_t types = 0;  // TypeBit set; 0 when "type" is absent
  std::optional<nlohmann::json> const_value;
  std::optional<std::vector<nlohmann::json>> enum_values;
  std::string const_text;  // const_value / enum_values as messages show them
  std::string enum_text;

  std::optional<nlohmann::json> minimum, maximum, exclusive_minimum, exclusive_maximum;

  std::optional<std::uint64_t> min_length, max_length;  // code points
  std::optional<SafeRegex> pattern;
  std::string pattern_text;

  std::optional<std::size_t> items;
  std::optional<std::uint64_t> min_items, max_items;
  bool unique_items = false;

  std::map<std::string, std::size_t> properties;
  std::vector<std::string> required;
  std::optional<std::size_t> additional_properties;
  std::optional<std::uint64_t> min_properties, max_properties;
  std::optional<std::size_t> property_names;

  std::optional<std::size_t> ref;
  std::vector<std::size_t> all_of, any_of, one_of;
  std::optional<std::size_t> not_schema;
  std::string not_text;
  std::optional<std::size_t> if_schema, then_schema, else_schema;
};

struct JsonSchemaProgram {
  std::vector<SchemaNode> nodes;  // [0] is the root
};

}  // namespace tessera::package

#endif  // TESSERA_PACKAGE_JSON_SCHEMA_PROGRAM_H_
