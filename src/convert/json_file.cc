#include "convert/json_file.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>

#include "base/regular_file.h"

namespace tessera::convert {
namespace {

Status TypeError(std::string_view what, std::string_view key, const Json& v,
                 std::string_view expected) {
  return Status(StatusCode::kTypeMismatch, std::string(what) + ": \"" + std::string(key) +
                                               "\" is " + JsonTypeName(v) + ", expected " +
                                               std::string(expected));
}

const Json* FindKey(const Json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(std::string(key));
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

}  // namespace

std::string JsonTypeName(const Json& value) {
  if (value.is_object()) return "an object";
  if (value.is_array()) return "an array";
  if (value.is_string()) return "a string";
  if (value.is_boolean()) return "a boolean";
  if (value.is_number_integer()) return "an integer";
  if (value.is_number()) return "a number";
  if (value.is_null()) return "null";
  return "an unknown JSON value";
}

Result<Json> ParseJsonText(std::string_view text, std::string_view what, bool require_object) {
  Json j = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return Malformed("convert: " + std::string(what) + " is not valid JSON");
  }
  if (require_object && !j.is_object()) {
    return Malformed("convert: " + std::string(what) + " is " + JsonTypeName(j) +
                     ", expected a JSON object");
  }
  return j;
}

Result<Json> ReadJsonFile(const std::string& path, bool require_object) {
  Result<int> fd = base::OpenRegularFile(path);  // a FIFO or device is refused, not read
  if (!fd.ok()) {
    if (fd.status().code() == StatusCode::kNotFound) {
      return NotFound("convert: file \"" + path + "\" does not exist");
    }
    return Status(fd.status().code(), "convert: " + fd.status().message());
  }
  std::FILE* f = ::fdopen(*fd, "rb");
  if (f == nullptr) {
    const int err = errno;
    ::close(*fd);
    return Status(StatusCode::kIoError,
                  "convert: cannot open \"" + path + "\": " + std::strerror(err));
  }
  std::string text;
  char buf[1 << 16];
  bool too_big = false;
  while (true) {
    const std::size_t n = std::fread(buf, 1, sizeof(buf), f);
    if (n == 0) break;
    if (text.size() + n > kMaxJsonBytes) {
      too_big = true;
      break;
    }
    text.append(buf, n);
  }
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (too_big) {
    return Status(StatusCode::kResourceExhausted, "convert: \"" + path + "\" is larger than " +
                                                      std::to_string(kMaxJsonBytes) + " bytes");
  }
  if (failed) return Status(StatusCode::kIoError, "convert: reading \"" + path + "\" failed");
  return ParseJsonText(text, "\"" + path + "\"", require_object);
}

Result<std::optional<std::int64_t>> GetInt(const Json& obj, std::string_view key,
                                           std::string_view what) {
  const Json* v = FindKey(obj, key);
  if (v == nullptr) return std::optional<std::int64_t>();
  if (!v->is_number_integer()) return TypeError(what, key, *v, "an integer");
  if (v->is_number_unsigned() &&
      v->get<std::uint64_t>() >
          static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return OutOfRange(std::string(what) + ": \"" + std::string(key) + "\" is too large");
  }
  return std::optional<std::int64_t>(v->get<std::int64_t>());
}

Result<std::optional<double>> GetNumber(const Json& obj, std::string_view key,
                                        std::string_view what) {
  const Json* v = FindKey(obj, key);
  if (v == nullptr) return std::optional<double>();
  if (!v->is_number()) return TypeError(what, key, *v, "a number");
  return std::optional<double>(v->get<double>());
}

Result<std::optional<bool>> GetBool(const Json& obj, std::string_view key, std::string_view what) {
  const Json* v = FindKey(obj, key);
  if (v == nullptr) return std::optional<bool>();
  if (!v->is_boolean()) return TypeError(what, key, *v, "a boolean");
  return std::optional<bool>(v->get<bool>());
}

Result<std::optional<std::string>> GetString(const Json& obj, std::string_view key,
                                             std::string_view what) {
  const Json* v = FindKey(obj, key);
  if (v == nullptr) return std::optional<std::string>();
  if (!v->is_string()) return TypeError(what, key, *v, "a string");
  return std::optional<std::string>(v->get<std::string>());
}

Result<std::int64_t> RequireInt(const Json& obj, std::string_view key, std::string_view what) {
  TS_ASSIGN_OR_RETURN(std::optional<std::int64_t> v, GetInt(obj, key, what));
  if (!v.has_value()) {
    return InvalidArgument(std::string(what) + ": required field \"" + std::string(key) +
                           "\" is absent");
  }
  return *v;
}

Result<double> RequireNumber(const Json& obj, std::string_view key, std::string_view what) {
  TS_ASSIGN_OR_RETURN(std::optional<double> v, GetNumber(obj, key, what));
  if (!v.has_value()) {
    return InvalidArgument(std::string(what) + ": required field \"" + std::string(key) +
                           "\" is absent");
  }
  return *v;
}

}  // namespace tessera::convert
