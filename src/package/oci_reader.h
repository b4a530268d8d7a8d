// Reading a Tessera package file (layout in oci_layout.h): streams the archive with TarReader,
// writes every blob into a staging directory while hashing it, and verifies the whole layout
// before returning anything.
//
// Checks, each failure a Status naming the entry or blob:
//   - the archive itself: every TarReader check (tar.h), with max_total_bytes and max_entries
//     as its limits; every blob at most max_blob_bytes (kResourceExhausted);
//   - entries: only oci-layout, index.json, the directories blobs/ and blobs/sha256/, and files
//     blobs/sha256/<64 lowercase hex> (kMalformed for anything else; kUnsupported for
//     blobs/<other algorithm>/);
//   - oci-layout, index.json, the OCI manifest and the package manifest (config) are at most
//     max_json_bytes each, the signature at most max_signature_bytes (kResourceExhausted), and
//     their JSON is checked as oci_layout.h describes;
//   - every blob's bytes hash to its file name (kIntegrity, found while staging it); every blob
//     the index and manifest reference is present with the declared size (kIntegrity); no blob is
//     present that they do not reference (kIntegrity);
//   - declared sizes before data: a member whose tar size exceeds the bytes left in the file is
//     refused at its header (TarReader, kTruncated, naming both sizes); and once index.json and
//     the OCI manifest have been read (tessera pack writes them first), a later blob entry they
//     do not declare, or whose size differs from its descriptor's, is refused at its header
//     (kIntegrity), before any of its bytes are read or staged.
//
// Staging: `staging_dir` must exist and be empty (kFailedPrecondition otherwise); it is the
// caller's, used by one call at a time. Blobs are written through `env` as base::AtomicFile
// (a temporary name, fsynced unless sync_staged is off, renamed to their hex digest). On success
// the directory holds exactly one file per distinct artifact digest (StagedArtifact::staged_path);
// the OCI manifest, config and signature are returned in memory and not left there. On any failure
// every file this call created is removed, so the directory is empty again.
//
// Memory: the small documents plus TarReader's bounded buffers; artifacts are streamed.
// Thread safety: reentrant; concurrent calls need distinct staging directories.
#ifndef TESSERA_PACKAGE_OCI_READER_H_
#define TESSERA_PACKAGE_OCI_READER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/file_env.h"
#include "base/sha256.h"
#include "package/oci_layout.h"
#include "package/tar.h"
#include "tessera/status.h"

namespace tessera::package {

struct PackageFileLimits {
  std::uint64_t max_json_bytes = 1ull << 20;              // each JSON document, the config included
  std::uint64_t max_signature_bytes = 64ull << 10;        // the signature layer
  std::uint64_t max_blob_bytes = kTarMaxWrittenFileSize;  // any one blob
  std::uint64_t max_total_bytes = 64ull << 30;            // all archive entries together
  std::uint64_t max_entries = 1024;                       // archive entries
  // fsync each staged blob (and the staging directory). The registry turns it off: it syncs
  // only the blobs it keeps, when it moves them into the store.
  bool sync_staged = true;
};

struct StagedArtifact {
  std::string name;        // the layer title: a plain file name
  std::string media_type;  // as the package declares it
  base::Sha256Digest digest{};
  std::uint64_t size = 0;
  std::string staged_path;  // <staging_dir>/<hex digest>; shared by artifacts with equal bytes
};

struct UnpackedPackage {
  Descriptor manifest;                     // the OCI manifest's descriptor in index.json
  std::vector<std::uint8_t> oci_manifest;  // its bytes
  std::vector<std::uint8_t> config;        // the Tessera package manifest bytes (unparsed)
  std::optional<std::vector<std::uint8_t>> signature;  // the signature layer's bytes, if any
  std::vector<StagedArtifact> artifacts;               // in manifest order
};

Result<UnpackedPackage> ReadPackageFile(const std::string& package_path,
                                        const std::string& staging_dir,
                                        const PackageFileLimits& limits = {},
                                        base::FileEnv& env = base::DefaultFileEnv());

}  // namespace tessera::package

#endif  // TESSERA_PACKAGE_OCI_READER_H_
