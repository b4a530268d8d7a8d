#include "batch_line.h"

#include "package/strict_json.h"

namespace tessera::cli {

Result<nlohmann::json> ParseBatchLine(std::string_view line, const std::string& where) {
  package::StrictJsonLimits limits;
  limits.max_bytes = kMaxBatchLineBytes;
  limits.max_depth = 16;
  TS_ASSIGN_OR_RETURN(nlohmann::json j, package::ParseStrictJson(line, where, limits));
  if (!j.is_object()) {
    return InvalidArgument(where + ": not a JSON object (a request is one object per line, " +
                           "found " + std::string(j.type_name()) + ")");
  }
  return j;
}

}  // namespace tessera::cli
