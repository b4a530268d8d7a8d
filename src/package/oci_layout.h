// The Tessera package file: an OCI image layout (OCI Image Layout Specification 1.0) in a POSIX
// ustar archive (tar.h). This file holds the names, media types, digests and the JSON documents of
// the layout, shared by the writer (oci_writer.h) and the reader (oci_reader.h).
//
// Archive entries, in the order the writer emits them:
//   oci-layout                {"imageLayoutVersion":"1.0.0"}
//   index.json                OCI image index: schemaVersion 2, exactly one manifest descriptor
//   blobs/ , blobs/sha256/    directories
//   blobs/sha256/<hex>        every blob, named by the lowercase hex SHA-256 of its bytes, once
//                             each (deduplicated by digest): the OCI manifest, the config, the
//                             layers in manifest order
//
// index.json:
//   {"manifests":[{"digest":"sha256:<hex>","mediaType":"application/vnd.oci.image.manifest.v1+json",
//     "size":N}],"mediaType":"application/vnd.oci.image.index.v1+json","schemaVersion":2}
//
// OCI image manifest (mediaType application/vnd.oci.image.manifest.v1+json):
//   schemaVersion 2, artifactType "application/vnd.tessera.package.v1",
//   config: the Tessera package manifest, mediaType
//     "application/vnd.tessera.package.manifest.v1+json" (its schema is the manifest module's; here
//     it is opaque bytes),
//   layers: the artifacts, in the caller's order, each {mediaType (the caller's), digest, size,
//     annotations {"org.opencontainers.image.title": file name}}; then, when the package is signed,
//     one layer with mediaType "application/vnd.tessera.package.signature.v1" holding the signature
//     (opaque bytes here; no title). A layer rather than a blob named in an annotation, so any OCI
//     registry copies it with the package.
//
// JSON is written by nlohmann::json without whitespace, keys sorted, so the same inputs give the
// same bytes. When read (the reader bounds their size first), every document must be a JSON
// object without duplicate keys (kDuplicate); unknown fields are ignored (as the OCI
// specification requires); the fields above must be present with the values and types shown
// (kMalformed if absent, kTypeMismatch for a wrong type, kUnsupported for another version,
// media type or artifact type, or a digest algorithm other than sha256).
//
// Names: an artifact's title is a plain file name (1..255 bytes of UTF-8, no '/', '\', control
// characters, not "." or ".."), unique within the package. Media types follow RFC 6838 as the OCI
// specification restricts them: type/subtype, each 1..127 of [A-Za-z0-9!#$&^_.+-] starting with
// a letter or digit.
//
// Thread safety: pure functions.
#ifndef TESSERA_PACKAGE_OCI_LAYOUT_H_
#define TESSERA_PACKAGE_OCI_LAYOUT_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/sha256.h"
#include "tessera/status.h"

namespace tessera::package {

inline constexpr std::string_view kOciLayoutFile = "oci-layout";
inline constexpr std::string_view kOciIndexFile = "index.json";
inline constexpr std::string_view kOciBlobsDir = "blobs";
inline constexpr std::string_view kOciSha256Dir = "blobs/sha256";
inline constexpr std::string_view kOciImageLayoutVersion = "1.0.0";
inline constexpr std::string_view kOciIndexMediaType = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kOciManifestMediaType =
    "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kPackageArtifactType = "application/vnd.tessera.package.v1";
inline constexpr std::string_view kPackageManifestMediaType =
    "application/vnd.tessera.package.manifest.v1+json";
inline constexpr std::string_view kPackageSignatureMediaType =
    "application/vnd.tessera.package.signature.v1";
inline constexpr std::string_view kOciTitleAnnotation = "org.opencontainers.image.title";

// A content descriptor: what a blob is, which bytes, how many.
struct Descriptor {
  std::string media_type;
  base::Sha256Digest digest{};
  std::uint64_t size = 0;
  std::string title;  // layers: org.opencontainers.image.title ("" for none)
};

// The parsed OCI image manifest of a package.
struct OciManifest {
  Descriptor config;
  std::vector<Descriptor> layers;  // artifacts, then at most one signature layer, as stored
};

// "sha256:<64 lowercase hex>".
std::string DigestString(const base::Sha256Digest& digest);
// Parses "sha256:<hex>": kUnsupported for another algorithm, kMalformed otherwise.
Result<base::Sha256Digest> ParseDigest(std::string_view text);
// Parses exactly 64 lowercase hex digits (kMalformed otherwise).
Result<base::Sha256Digest> ParseDigestHex(std::string_view hex);
// "blobs/sha256/<hex>".
std::string BlobEntryName(const base::Sha256Digest& digest);

// kMalformed naming the problem (see the header comment for the rules).
Status ValidateArtifactName(std::string_view name);
Status ValidateMediaType(std::string_view media_type);

// The documents, as written.
std::string OciLayoutJson();
std::string OciIndexJson(const Descriptor& manifest);
std::string OciManifestJson(const OciManifest& manifest);

// The documents, as read. Each checks everything the header comment lists.
Status ParseOciLayout(std::span<const std::uint8_t> bytes);
// Returns the one manifest descriptor of index.json.
Result<Descriptor> ParseOciIndex(std::span<const std::uint8_t> bytes);
// Also checks every layer title (artifact layers need a valid, unique one) and that at most one
// layer is a signature.
Result<OciManifest> ParseOciManifest(std::span<const std::uint8_t> bytes);

}  // namespace tessera::package

#endif  // TESSERA_PACKAGE_OCI_LAYOUT_H_
