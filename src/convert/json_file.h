// Reading the JSON files of a Hugging Face checkpoint (config.json, tokenizer.json,
// adapter_config.json, ...) without exceptions: nlohmann::json is used in non-throwing mode and
// every access goes through a typed getter that checks the type first and names the file and
// the key when it is wrong.
//
// Thread safety: pure functions.
#ifndef TESSERA_CONVERT_JSON_FILE_H_
#define TESSERA_CONVERT_JSON_FILE_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "tessera/status.h"

namespace tessera::convert {

using Json = nlohmann::json;

// Upper bound on one JSON file (tokenizer.json of a 256k vocabulary is ~20 MiB).
inline constexpr std::uint64_t kMaxJsonBytes = 256ull << 20;

// Reads and parses `path`. kNotFound (no such file), kIoError, kResourceExhausted (larger than
// kMaxJsonBytes), kMalformed (not JSON, or not an object when `require_object`).
Result<Json> ReadJsonFile(const std::string& path, bool require_object = true);

// Parses `text` (tests, in-memory data). Same errors as ReadJsonFile, named after `what`.
Result<Json> ParseJsonText(std::string_view text, std::string_view what,
                           bool require_object = true);

// Typed getters on an object. Absent keys (or JSON null) give nullopt; a present key of the
// wrong type is kTypeMismatch "<what>: \"<key>\" is <type>, expected <type>".
Result<std::optional<std::int64_t>> GetInt(const Json& obj, std::string_view key,
                                           std::string_view what);
Result<std::optional<double>> GetNumber(const Json& obj, std::string_view key,
                                        std::string_view what);
Result<std::optional<bool>> GetBool(const Json& obj, std::string_view key, std::string_view what);
Result<std::optional<std::string>> GetString(const Json& obj, std::string_view key,
                                             std::string_view what);
// A key whose absence is an error: kInvalidArgument "<what>: required field \"<key>\" is
// absent".
Result<std::int64_t> RequireInt(const Json& obj, std::string_view key, std::string_view what);
Result<double> RequireNumber(const Json& obj, std::string_view key, std::string_view what);

// "object", "array", "string", ... for messages.
std::string JsonTypeName(const Json& value);

}  // namespace tessera::convert

#endif  // TESSERA_CONVERT_JSON_FILE_H_
