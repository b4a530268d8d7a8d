// The JSON Schema of package manifest v1, docs/formats/package-manifest.schema.json, compiled
// into the library at build time (src/package/CMakeLists.txt generates its definition), so that
// the schema the runtime enforces is exactly the one in docs/ and is never read from disk.
//
// Thread safety: returns a view of a constant.
#ifndef TESSERA_PACKAGE_MANIFEST_SCHEMA_H_
#define TESSERA_PACKAGE_MANIFEST_SCHEMA_H_

#include <string_view>

namespace tessera::package {

// The schema document's text, byte for byte.
std::string_view ManifestSchemaJson();

}  // namespace tessera::package

#endif  // TESSERA_PACKAGE_MANIFEST_SCHEMA_H_
