// A measured footprint as the registry keeps it between runs (Registry::RecordFootprint):
//   {"artifacts":[{"sha256":"…","host":N,"device":N}],"private":{"host":N,"device":N},
//    "kv_bytes_per_token":N,"session_bytes":N}
#ifndef TESSERA_RUNTIME_FOOTPRINT_JSON_H_
#define TESSERA_RUNTIME_FOOTPRINT_JSON_H_

#include <string>

#include "resident/budget.h"
#include "tessera/status.h"

namespace tessera::runtime {

std::string FootprintToJson(const resident::Footprint& footprint);
// kMalformed naming what is wrong; the result has measured = true.
Result<resident::Footprint> FootprintFromJson(const std::string& text);

}  // namespace tessera::runtime

#endif  // TESSERA_RUNTIME_FOOTPRINT_JSON_H_
