// Writing a Tessera package file: the OCI image layout of oci_layout.h in a ustar archive,
// through TarWriter (deterministic bytes, atomic output, bounded memory).
//
// The writer takes the package manifest bytes (the config blob, opaque here), the artifact files
// and an optional signature (opaque bytes), describes each (SHA-256 and size), builds the OCI
// manifest and index, and writes the archive: oci-layout, index.json, blobs/, blobs/sha256/, then
// the OCI manifest, the config and the layers in order, each digest once. The same inputs always
// give the same bytes.
//
// Artifact files are read twice (once to hash, once to copy) unless the caller passes the digest
// and size it already computed (e.g. for the package manifest), in which case they are read once;
// either way the bytes copied are hashed again and any difference is kIntegrity: the file changed
// while the package was being written, and no output is left behind.
//
// Thread safety: reentrant; concurrent calls must use different output paths.
#ifndef TESSERA_PACKAGE_OCI_WRITER_H_
#define TESSERA_PACKAGE_OCI_WRITER_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/sha256.h"
#include "package/oci_layout.h"
#include "tessera/status.h"

namespace tessera::package {

// The SHA-256 and size of some bytes.
struct BlobRef {
  base::Sha256Digest digest{};
  std::uint64_t size = 0;
};

// Hashes a file, streamed through a fixed buffer. kNotFound, kIoError.
Result<BlobRef> HashFile(const std::string& path);

struct ArtifactFile {
  std::string path;              // file to pack
  std::string name;              // file name recorded as the layer title (oci_layout.h rules)
  std::string media_type;        // RFC 6838; not the config or signature media type
  std::optional<BlobRef> known;  // digest and size computed earlier, verified while copying
};

struct PackageFileInput {
  std::span<const std::uint8_t> config;  // the Tessera package manifest (borrowed)
  std::vector<ArtifactFile> artifacts;
  std::optional<std::span<const std::uint8_t>> signature;  // borrowed
};

struct WrittenPackage {
  Descriptor manifest;  // the OCI manifest blob, as index.json lists it
  OciManifest oci_manifest;
};

// Writes `input` as a package file at `output_path`. Errors: kMalformed (artifact name or media
// type), kDuplicate (two artifacts with one name), kInvalidArgument (a reserved media type; an
// artifact of 8 GiB or more), kNotFound/kIoError (files), kIntegrity (an artifact changed while
// being packed, or differs from its `known` digest). On error nothing is written at output_path.
Result<WrittenPackage> WritePackageFile(const std::string& output_path,
                                        const PackageFileInput& input);

}  // namespace tessera::package

#endif  // TESSERA_PACKAGE_OCI_WRITER_H_
