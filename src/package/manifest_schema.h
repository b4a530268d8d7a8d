// The JSON Schemas of package manifests (v1 and v2, docs/formats/package-manifest.schema.json)
// and of orchestration policies (docs/formats/policy.schema.json), compiled into the library at
// build time (src/package/CMakeLists.txt generates their definitions), so that the schemas the
// runtime enforces are exactly the ones in docs/ and are never read from disk.
//
// Thread safety: returns a view of a constant.
#ifndef TESSERA_PACKAGE_MANIFEST_SCHEMA_H_
#define TESSERA_PACKAGE_MANIFEST_SCHEMA_H_

#include <string_view>

namespace tessera::package {

// The schema document's text, byte for byte.
std::string_view ManifestSchemaJson();
std::string_view PolicySchemaJson();

}  // namespace tessera::package

#endif  // TESSERA_PACKAGE_MANIFEST_SCHEMA_H_
