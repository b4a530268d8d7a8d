// The mapping between a Manifest (manifest.h) and its JSON value, member by member. Used by
// manifest.cc only: it validates before reading and after writing.
//
// Thread safety: pure functions.
#ifndef TESSERA_PACKAGE_MANIFEST_JSON_H_
#define TESSERA_PACKAGE_MANIFEST_JSON_H_

#include <nlohmann/json.hpp>

#include "package/manifest.h"
#include "tessera/status.h"

namespace tessera::package {

// Reads a document that the manifest schema accepted (types and required members are checked:
// a violation is a bug, TS_CHECK). Fails only on versions and ranges that do not parse
// (kMalformed naming the pointer) and contract schemas that are not canonical JSON.
Result<Manifest> ManifestFromJson(const nlohmann::json& doc);

// The JSON value of a manifest. Fails (kInvalidArgument) only if a contract's json_schema text
// is not JSON.
Result<nlohmann::json> ManifestToJsonValue(const Manifest& manifest);

}  // namespace tessera::package

#endif  // TESSERA_PACKAGE_MANIFEST_JSON_H_
