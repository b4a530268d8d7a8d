#include "package/oci_reader.h"

#include <dirent.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <set>
#include <string_view>

#include "base/atomic_file.h"
#include "package/file_io.h"
#include "package/tar_reader.h"

namespace tessera::package {
namespace {

Status CheckEmptyDirectory(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return base::FileErrno("open directory", dir, errno);
  bool empty = true;
  while (const dirent* e = ::readdir(d)) {
    std::string_view name(e->d_name);
    if (name != "." && name != "..") {
      empty = false;
      break;
    }
  }
  ::closedir(d);
  if (!empty) {
    return Status(StatusCode::kFailedPrecondition,
                  "oci: staging directory " + dir + " is not empty");
  }
  return Status::Ok();
}

std::string EntryContext(const TarEntry& entry) { return "oci: entry " + QuoteTarName(entry.name); }

// Reads the current entry (at most `limit` bytes) into memory.
Result<std::vector<std::uint8_t>> ReadSmallEntry(TarReader& tar, const TarEntry& entry,
                                                 std::uint64_t limit) {
  if (entry.size > limit) {
    return Status(StatusCode::kResourceExhausted, EntryContext(entry) + " is " +
                                                      std::to_string(entry.size) +
                                                      " bytes, limit " + std::to_string(limit));
  }
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(entry.size));
  std::size_t done = 0;
  while (done < bytes.size()) {
    TS_ASSIGN_OR_RETURN(
        std::size_t n, tar.Read(std::span<std::uint8_t>(bytes.data() + done, bytes.size() - done)));
    if (n == 0) return Internal(EntryContext(entry) + " ended early");
    done += n;
  }
  return bytes;
}

// The blobs this call staged, each written through `env`. Removes them on destruction unless
// Keep() was called.
class Staging {
 public:
  Staging(base::FileEnv& env, std::string dir, bool sync)
      : env_(env), dir_(std::move(dir)), sync_(sync) {}
  Staging(const Staging&) = delete;
  Staging& operator=(const Staging&) = delete;
  ~Staging() {
    if (kept_) return;
    for (const auto& [digest, size] : sizes_) env_.Remove(PathOf(digest)).IgnoreError();
  }

  std::string PathOf(const base::Sha256Digest& digest) const {
    return dir_ + "/" + base::ToHex(digest);
  }

  // Streams the current entry to <dir>/<hex>, checking that its bytes hash to `digest`.
  Status Stage(TarReader& tar, const TarEntry& entry, const base::Sha256Digest& digest) {
    base::AtomicWriteOptions options;
    options.sync_file = sync_;
    options.sync_dir = sync_;
    TS_ASSIGN_OR_RETURN(base::AtomicFile file,
                        base::AtomicFile::Create(env_, PathOf(digest), std::move(options)));
    base::Sha256Hasher hasher;
    TS_RETURN_IF_ERROR(tar.ReadAll([&](std::span<const std::uint8_t> chunk) {
      hasher.Update(chunk);
      return file.Write(chunk);
    }));
    const base::Sha256Digest actual = hasher.Finish();
    if (actual != digest) {
      return Status(StatusCode::kIntegrity, "oci: blob " + DigestString(digest) +
                                                " holds bytes whose digest is " +
                                                DigestString(actual));
    }
    if (Status committed = file.Commit(); !committed.ok()) {
      // Only the directory's fsync fails after the rename: the blob must not outlive the call.
      (void)env_.Remove(PathOf(digest));
      return committed;
    }
    sizes_.emplace(digest, entry.size);
    return Status::Ok();
  }

  // A referenced blob must be staged with the size its descriptor declares.
  Status Check(const Descriptor& d, std::string_view what) const {
    auto it = sizes_.find(d.digest);
    if (it == sizes_.end()) {
      return Status(StatusCode::kIntegrity, "oci: " + std::string(what) + " blob " +
                                                DigestString(d.digest) + " is missing");
    }
    if (it->second != d.size) {
      return Status(StatusCode::kIntegrity,
                    "oci: " + std::string(what) + " blob " + DigestString(d.digest) + " is " +
                        std::to_string(it->second) + " bytes, its descriptor says " +
                        std::to_string(d.size));
    }
    return Status::Ok();
  }

  // Check() and read the blob into memory (at most `limit` bytes).
  Result<std::vector<std::uint8_t>> Read(const Descriptor& d, std::uint64_t limit,
                                         std::string_view what) const {
    TS_RETURN_IF_ERROR(Check(d, what));
    if (d.size > limit) {
      return Status(StatusCode::kResourceExhausted,
                    "oci: " + std::string(what) + " blob " + DigestString(d.digest) + " is " +
                        std::to_string(d.size) + " bytes, limit " + std::to_string(limit));
    }
    return ReadSmallFile(PathOf(d.digest), limit);
  }

  const std::map<base::Sha256Digest, std::uint64_t>& sizes() const { return sizes_; }

  // Keeps the blobs in `keep` and removes the others.
  Status Keep(const std::set<base::Sha256Digest>& keep) {
    for (const auto& [digest, size] : sizes_) {
      if (keep.count(digest) == 0) TS_RETURN_IF_ERROR(env_.Remove(PathOf(digest)));
    }
    kept_ = true;
    return Status::Ok();
  }

 private:
  base::FileEnv& env_;
  std::string dir_;
  bool sync_ = true;
  std::map<base::Sha256Digest, std::uint64_t> sizes_;  // staged blobs and their sizes
  bool kept_ = false;
};

// The documents of the layout, found while streaming the archive.
struct LayoutFiles {
  std::optional<std::vector<std::uint8_t>> oci_layout;
  std::optional<std::vector<std::uint8_t>> index;
  // What index.json and then the OCI manifest declare, as soon as they have been read (tessera
  // pack writes them before the blobs they describe): digest -> size. Once the manifest is known
  // (`declared_all`), a blob entry it does not declare, or whose tar size differs from its
  // descriptor's, is refused at its header, before its data is read or staged. Blobs before
  // the documents are checked after the archive ends, as every blob is.
  std::optional<Descriptor> manifest;
  std::map<base::Sha256Digest, std::pair<std::uint64_t, std::string>> declared;  // size, what
  bool declared_all = false;
};

// Refuses at its header a blob that the documents read so far rule out.
Status CheckDeclared(const LayoutFiles& files, const TarEntry& entry,
                     const base::Sha256Digest& digest) {
  auto it = files.declared.find(digest);
  if (it == files.declared.end()) {
    if (!files.declared_all) return Status::Ok();
    return Status(StatusCode::kIntegrity, "oci: blob " + DigestString(digest) + " (" +
                                              std::to_string(entry.size) +
                                              " bytes) is not referenced by the manifest "
                                              "(refused at its header, before reading it)");
  }
  const auto& [size, what] = it->second;
  if (size != entry.size) {
    return Status(StatusCode::kIntegrity,
                  "oci: " + what + " blob " + DigestString(digest) + " is " +
                      std::to_string(entry.size) + " bytes, its descriptor says " +
                      std::to_string(size) + " (refused at its header, before reading it)");
  }
  return Status::Ok();
}

// Learns what index.json (then the manifest blob, once staged) declares. Best effort: a document
// that does not parse here is refused with its own message after the archive ends.
void LearnDeclared(LayoutFiles& files, const Staging& staging, const base::Sha256Digest* staged,
                   const PackageFileLimits& limits) {
  if (!files.manifest && files.index) {
    Result<Descriptor> manifest = ParseOciIndex(*files.index);
    if (!manifest.ok()) return;
    files.manifest = *manifest;
    files.declared.emplace(manifest->digest, std::pair(manifest->size, std::string("manifest")));
  }
  if (files.declared_all || !files.manifest || staged == nullptr ||
      *staged != files.manifest->digest) {
    return;
  }
  Result<std::vector<std::uint8_t>> bytes =
      staging.Read(*files.manifest, limits.max_json_bytes, "manifest");
  if (!bytes.ok()) return;
  Result<OciManifest> manifest = ParseOciManifest(*bytes);
  if (!manifest.ok()) return;
  files.declared.emplace(manifest->config.digest,
                         std::pair(manifest->config.size, std::string("config")));
  for (const Descriptor& layer : manifest->layers) {
    files.declared.emplace(layer.digest,
                           std::pair(layer.size, layer.media_type == kPackageSignatureMediaType
                                                     ? std::string("signature")
                                                     : "artifact \"" + layer.title + "\""));
  }
  files.declared_all = true;
}

// Handles one archive entry: a document kept in memory, a blob staged, or a refusal.
Status TakeEntry(TarReader& tar, const TarEntry& entry, const PackageFileLimits& limits,
                 LayoutFiles& files, Staging& staging) {
  const std::string& name = entry.name;
  if (entry.type == TarEntryType::kDirectory) {
    if (name == kOciBlobsDir || name == kOciSha256Dir) return Status::Ok();
    return Malformed(EntryContext(entry) + ": unexpected directory in a package");
  }
  if (name == kOciLayoutFile || name == kOciIndexFile) {
    auto& slot = name == kOciLayoutFile ? files.oci_layout : files.index;
    TS_ASSIGN_OR_RETURN(slot, ReadSmallEntry(tar, entry, limits.max_json_bytes));
    LearnDeclared(files, staging, nullptr, limits);
    return Status::Ok();
  }
  const std::string sha256_prefix = std::string(kOciSha256Dir) + "/";
  if (name.rfind(sha256_prefix, 0) == 0) {
    Result<base::Sha256Digest> digest = ParseDigestHex(name.substr(sha256_prefix.size()));
    if (!digest.ok()) {
      return Malformed(EntryContext(entry) +
                       ": blob file name is not a lowercase 64-digit sha256 hex digest");
    }
    if (entry.size > limits.max_blob_bytes) {
      return Status(StatusCode::kResourceExhausted,
                    EntryContext(entry) + " is " + std::to_string(entry.size) + " bytes, limit " +
                        std::to_string(limits.max_blob_bytes));
    }
    TS_RETURN_IF_ERROR(CheckDeclared(files, entry, *digest));
    TS_RETURN_IF_ERROR(staging.Stage(tar, entry, *digest));
    LearnDeclared(files, staging, &*digest, limits);
    return Status::Ok();
  }
  const std::string blobs_prefix = std::string(kOciBlobsDir) + "/";
  if (name.rfind(blobs_prefix, 0) == 0 &&
      name.find('/', blobs_prefix.size()) != std::string::npos) {
    return Unsupported(EntryContext(entry) + ": only sha256 blobs are supported");
  }
  return Malformed(EntryContext(entry) + ": unexpected entry in a package");
}

}  // namespace

Result<UnpackedPackage> ReadPackageFile(const std::string& package_path,
                                        const std::string& staging_dir,
                                        const PackageFileLimits& limits, base::FileEnv& env) {
  TS_RETURN_IF_ERROR(CheckEmptyDirectory(staging_dir));
  Staging staging(env, staging_dir, limits.sync_staged);
  TarLimits tar_limits;
  tar_limits.max_entry_bytes = std::max(limits.max_blob_bytes, limits.max_json_bytes);
  tar_limits.max_total_bytes = limits.max_total_bytes;
  tar_limits.max_entries = limits.max_entries;
  TS_ASSIGN_OR_RETURN(TarReader tar, TarReader::Open(package_path, tar_limits));
  LayoutFiles files;
  while (true) {
    TS_ASSIGN_OR_RETURN(std::optional<TarEntry> entry, tar.Next());
    if (!entry.has_value()) break;
    TS_RETURN_IF_ERROR(TakeEntry(tar, *entry, limits, files, staging));
  }
  for (const auto& [doc, label] :
       {std::pair{&files.oci_layout, kOciLayoutFile}, std::pair{&files.index, kOciIndexFile}}) {
    if (!doc->has_value()) {
      return Malformed("oci: " + package_path + " has no " + std::string(label) +
                       " (not an OCI image layout)");
    }
  }
  TS_RETURN_IF_ERROR(ParseOciLayout(*files.oci_layout));

  UnpackedPackage out;
  TS_ASSIGN_OR_RETURN(out.manifest, ParseOciIndex(*files.index));
  TS_ASSIGN_OR_RETURN(out.oci_manifest,
                      staging.Read(out.manifest, limits.max_json_bytes, "manifest"));
  TS_ASSIGN_OR_RETURN(OciManifest manifest, ParseOciManifest(out.oci_manifest));
  TS_ASSIGN_OR_RETURN(out.config, staging.Read(manifest.config, limits.max_json_bytes, "config"));
  std::set<base::Sha256Digest> referenced = {out.manifest.digest, manifest.config.digest};
  std::set<base::Sha256Digest> artifact_digests;
  for (const Descriptor& layer : manifest.layers) {
    referenced.insert(layer.digest);
    if (layer.media_type == kPackageSignatureMediaType) {
      TS_ASSIGN_OR_RETURN(out.signature,
                          staging.Read(layer, limits.max_signature_bytes, "signature"));
      continue;
    }
    TS_RETURN_IF_ERROR(staging.Check(layer, "artifact \"" + layer.title + "\""));
    artifact_digests.insert(layer.digest);
    out.artifacts.push_back(StagedArtifact{layer.title, layer.media_type, layer.digest, layer.size,
                                           staging.PathOf(layer.digest)});
  }
  for (const auto& [digest, size] : staging.sizes()) {
    if (referenced.count(digest) == 0) {
      return Status(StatusCode::kIntegrity, "oci: blob " + DigestString(digest) + " (" +
                                                std::to_string(size) +
                                                " bytes) is not referenced by the manifest");
    }
  }
  TS_RETURN_IF_ERROR(staging.Keep(artifact_digests));
  return out;
}

}  // namespace tessera::package
