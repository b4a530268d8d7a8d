// Reading and parsing `tessera eval` sets (eval_set.h). nlohmann::json is used in non-throwing
// mode and only through checked accessors, so nothing here throws.
#include "eval_set.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <span>
#include <utility>

#include "base/regular_file.h"
#include "base/sha256.h"

namespace tessera::cli {
namespace {

using nlohmann::json;

std::string Where(const std::string& name, std::int64_t line) {
  return "eval: " + name + ":" + std::to_string(line) + ": ";
}

// The string field `key` of `obj` into `out`; `required` fields must be present.
Status ReadField(const json& obj, const char* key, bool required, const std::string& where,
                 std::string& out, bool* present = nullptr) {
  const auto it = obj.find(key);
  if (it == obj.end()) {
    if (present != nullptr) *present = false;
    if (!required) return Status::Ok();
    return Malformed(where + "missing field \"" + key + "\"");
  }
  if (!it->is_string()) {
    return Status(
        StatusCode::kTypeMismatch,
        where + "field \"" + key + "\" is " + std::string(it->type_name()) + ", expected a string");
  }
  out = it->get_ref<const std::string&>();
  if (present != nullptr) *present = true;
  return Status::Ok();
}

}  // namespace

Result<std::vector<EvalCase>> ParseEvalSet(std::string_view text, const std::string& name) {
  std::vector<EvalCase> cases;
  std::map<std::string, std::int64_t, std::less<>> id_lines;
  std::int64_t line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;  // blank
    const std::string where = Where(name, line_no);
    const json obj = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (obj.is_discarded()) return Malformed(where + "not JSON");
    if (!obj.is_object()) {
      return Malformed(where + "a case must be a JSON object, not " + std::string(obj.type_name()));
    }
    EvalCase c;
    c.line = line_no;
    TS_RETURN_IF_ERROR(ReadField(obj, "id", true, where, c.id));
    TS_RETURN_IF_ERROR(ReadField(obj, "skill", true, where, c.skill));
    TS_RETURN_IF_ERROR(ReadField(obj, "prompt", true, where, c.prompt));
    TS_RETURN_IF_ERROR(ReadField(obj, "answer", true, where, c.answer));
    TS_RETURN_IF_ERROR(ReadField(obj, "split", false, where, c.split, &c.has_split));
    const auto [it, inserted] = id_lines.emplace(c.id, line_no);
    if (!inserted) {
      return Status(
          StatusCode::kDuplicate,
          where + "id \"" + c.id + "\" was already used on line " + std::to_string(it->second));
    }
    cases.push_back(std::move(c));
  }
  if (cases.empty()) return InvalidArgument("eval: " + name + ": the set has no cases");
  return cases;
}

Result<EvalSet> ReadEvalSet(const std::string& path) {
  Result<int> fd = base::OpenRegularFile(path);  // a FIFO or device is refused, not read
  if (!fd.ok()) return Status(fd.status().code(), "eval: set: " + fd.status().message());
  std::FILE* f = ::fdopen(*fd, "rb");
  if (f == nullptr) {
    const int err = errno;
    ::close(*fd);
    return Status(StatusCode::kIoError,
                  "eval: cannot open set \"" + path + "\": " + std::strerror(err));
  }
  std::string bytes;
  char buf[1 << 16];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) {
    if (bytes.size() + n > kMaxSetBytes) {
      std::fclose(f);
      return OutOfRange("eval: set \"" + path + "\" is larger than " +
                        std::to_string(kMaxSetBytes) + " bytes");
    }
    bytes.append(buf, n);
  }
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) {
    return Status(StatusCode::kIoError, "eval: cannot read set \"" + path + "\"");
  }
  EvalSet set;
  set.path = path;
  set.sha256 = base::Sha256Hex(std::span<const std::uint8_t>(
      reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
  TS_ASSIGN_OR_RETURN(set.cases, ParseEvalSet(bytes, path));
  return set;
}

}  // namespace tessera::cli
