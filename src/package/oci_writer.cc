#include "package/oci_writer.h"

#include <set>

#include "package/file_io.h"
#include "package/tar.h"
#include "package/tar_writer.h"

namespace tessera::package {
namespace {

constexpr std::size_t kHashBufferBytes = 256 << 10;

std::span<const std::uint8_t> AsBytes(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

Descriptor Describe(std::string_view media_type, std::span<const std::uint8_t> bytes) {
  Descriptor d;
  d.media_type = std::string(media_type);
  d.digest = base::Sha256(bytes);
  d.size = bytes.size();
  return d;
}

bool IsReservedMediaType(std::string_view media_type) {
  return media_type == kPackageManifestMediaType || media_type == kPackageSignatureMediaType ||
         media_type == kOciManifestMediaType || media_type == kOciIndexMediaType;
}

// The OCI manifest of `input`; hashes the artifacts that have no `known` reference.
Result<OciManifest> BuildManifest(const PackageFileInput& input) {
  OciManifest manifest;
  manifest.config = Describe(kPackageManifestMediaType, input.config);
  std::set<std::string> names;
  for (const ArtifactFile& artifact : input.artifacts) {
    TS_RETURN_IF_ERROR(ValidateArtifactName(artifact.name));
    TS_RETURN_IF_ERROR(ValidateMediaType(artifact.media_type));
    if (IsReservedMediaType(artifact.media_type)) {
      return InvalidArgument("oci: artifact \"" + artifact.name +
                             "\" has the reserved media type " + artifact.media_type);
    }
    if (!names.insert(artifact.name).second) {
      return Status(StatusCode::kDuplicate,
                    "oci: artifact name \"" + artifact.name + "\" occurs twice");
    }
    BlobRef ref;
    if (artifact.known.has_value()) {
      ref = *artifact.known;
    } else {
      TS_ASSIGN_OR_RETURN(ref, HashFile(artifact.path));
    }
    if (ref.size > kTarMaxWrittenFileSize) {
      return InvalidArgument("oci: artifact \"" + artifact.name + "\" is " +
                             std::to_string(ref.size) + " bytes, above the package limit of " +
                             std::to_string(kTarMaxWrittenFileSize));
    }
    manifest.layers.push_back(Descriptor{artifact.media_type, ref.digest, ref.size, artifact.name});
  }
  if (input.signature.has_value()) {
    manifest.layers.push_back(Describe(kPackageSignatureMediaType, *input.signature));
  }
  return manifest;
}

}  // namespace

Result<BlobRef> HashFile(const std::string& path) {
  TS_ASSIGN_OR_RETURN(OpenedFile file, OpenRegularFile(path));
  std::vector<std::uint8_t> buffer(kHashBufferBytes);
  base::Sha256Hasher hasher;
  BlobRef ref;
  while (true) {
    TS_ASSIGN_OR_RETURN(std::size_t n, ReadFull(file.fd.get(), buffer, path));
    if (n == 0) break;
    hasher.Update(std::span<const std::uint8_t>(buffer.data(), n));
    ref.size += n;
  }
  ref.digest = hasher.Finish();
  return ref;
}

Result<WrittenPackage> WritePackageFile(const std::string& output_path,
                                        const PackageFileInput& input) {
  WrittenPackage out;
  TS_ASSIGN_OR_RETURN(out.oci_manifest, BuildManifest(input));
  const std::string manifest_json = OciManifestJson(out.oci_manifest);
  out.manifest = Describe(kOciManifestMediaType, AsBytes(manifest_json));
  const std::string index_json = OciIndexJson(out.manifest);
  const std::string layout_json = OciLayoutJson();

  TS_ASSIGN_OR_RETURN(TarWriter tar, TarWriter::Create(output_path));
  TS_RETURN_IF_ERROR(tar.AddFile(kOciLayoutFile, AsBytes(layout_json)));
  TS_RETURN_IF_ERROR(tar.AddFile(kOciIndexFile, AsBytes(index_json)));
  TS_RETURN_IF_ERROR(tar.AddDirectory(kOciBlobsDir));
  TS_RETURN_IF_ERROR(tar.AddDirectory(kOciSha256Dir));
  std::set<base::Sha256Digest> written;
  auto add_bytes = [&](const base::Sha256Digest& digest, std::span<const std::uint8_t> bytes) {
    if (!written.insert(digest).second) return Status::Ok();
    return tar.AddFile(BlobEntryName(digest), bytes);
  };
  TS_RETURN_IF_ERROR(add_bytes(out.manifest.digest, AsBytes(manifest_json)));
  TS_RETURN_IF_ERROR(add_bytes(out.oci_manifest.config.digest, input.config));
  for (std::size_t i = 0; i < input.artifacts.size(); ++i) {
    const ArtifactFile& artifact = input.artifacts[i];
    const Descriptor& layer = out.oci_manifest.layers[i];
    if (!written.insert(layer.digest).second) continue;
    TS_ASSIGN_OR_RETURN(CopiedFile copied,
                        tar.AddFileFromPath(BlobEntryName(layer.digest), artifact.path));
    if (copied.digest != layer.digest || copied.size != layer.size) {
      return Status(StatusCode::kIntegrity,
                    "oci: artifact \"" + artifact.name + "\" (" + artifact.path +
                        "): the bytes packed are " + DigestString(copied.digest) + ", " +
                        std::to_string(copied.size) + " bytes; expected " +
                        DigestString(layer.digest) + ", " + std::to_string(layer.size) +
                        " bytes (the file changed while being packed, or its known reference is "
                        "wrong)");
    }
  }
  if (input.signature.has_value()) {
    TS_RETURN_IF_ERROR(add_bytes(out.oci_manifest.layers.back().digest, *input.signature));
  }
  TS_RETURN_IF_ERROR(tar.Finish());
  return out;
}

}  // namespace tessera::package
