// Packing a directory into a package file (tessera pack).
//
// The directory holds `manifest.json` and the artifact files it names (regular files or
// symbolic links to them). The manifest is written by hand except for what the bytes say:
//   - each artifact's `size` and `sha256` are computed (when present they must match);
//   - `gguf` is read from the weights or adapter GGUF (gguf_facts.h; when present it must match);
//   - for adapters, `base.targets`, `base.rank` and `base.alpha` are read from the adapter GGUF
//     when absent (when present they must match), and `base.weights_sha256` must equal the
//     adapter's own adapter.base.sha256 when the GGUF carries one.
// The completed manifest then goes through ParseManifest (the schema and every rule), is
// serialised canonically (RFC 8785), signed when a key is given, and written with the artifacts
// as an OCI layout (oci_writer.h). Mismatches are kIntegrity naming the member and both values.
#ifndef TESSERA_REGISTRY_PACK_H_
#define TESSERA_REGISTRY_PACK_H_

#include <string>

#include "package/manifest.h"
#include "package/signature.h"
#include "tessera/status.h"

namespace tessera::registry {

struct PackResult {
  package::Manifest manifest;
  std::string manifest_sha256;  // of the canonical bytes (the config blob)
  std::string key_id;           // empty when unsigned
  std::uint64_t bytes = 0;      // size of the package file
};

// `key` null: an unsigned package.
Result<PackResult> PackDirectory(const std::string& dir, const std::string& output,
                                 const package::PrivateKey* key);

}  // namespace tessera::registry

#endif  // TESSERA_REGISTRY_PACK_H_
