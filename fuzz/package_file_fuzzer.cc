// Fuzz target: the package file reader (package::ReadPackageFile: the tar stream, the OCI
// layout, index.json, the OCI manifest, digests and sizes, staging of the blobs). Each input is
// written as a package file in a scratch directory in memory (/dev/shm), with an empty staging
// directory beside it.
//
// Properties (oci_reader.h): on failure the staging directory is empty again; on success it
// holds exactly one file per distinct artifact digest, each of the declared size.
// Seeds: fuzz/corpus/package_file (small package files written by fuzz/make_seeds.cc);
// dictionary fuzz/tar.dict.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <set>
#include <span>
#include <string>
#include <system_error>

#include "fuzz/fuzz_util.h"
#include "package/oci_reader.h"

namespace {

std::size_t CountFiles(const std::string& dir) {
  std::error_code ec;
  std::size_t n = 0;
  for (auto it = std::filesystem::directory_iterator(dir, ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++n;
  }
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tessera;
  static const std::string kPath = fuzz::ScratchDir() + "/package.tpkg";
  static const std::string kStaging = [] {
    const std::string dir = fuzz::ScratchDir() + "/staging";
    std::filesystem::create_directory(dir);
    return dir;
  }();
  fuzz::WriteScratchFile(kPath, std::span<const std::uint8_t>(data, size));

  package::PackageFileLimits limits;
  limits.sync_staged = false;  // memory: nothing to make durable
  limits.max_json_bytes = 64 << 10;
  limits.max_blob_bytes = 1 << 20;
  limits.max_total_bytes = 4 << 20;
  limits.max_entries = 64;
  Result<package::UnpackedPackage> p = package::ReadPackageFile(kPath, kStaging, limits);
  if (!p.ok()) {
    FUZZ_EXPECT(CountFiles(kStaging) == 0);
    return 0;
  }
  std::set<std::string> staged;
  for (const package::StagedArtifact& a : p->artifacts) {
    std::error_code ec;
    FUZZ_EXPECT(std::filesystem::file_size(a.staged_path, ec) == a.size && !ec);
    staged.insert(a.staged_path);
  }
  FUZZ_EXPECT(CountFiles(kStaging) == staged.size());
  for (const std::string& path : staged) std::filesystem::remove(path);
  return 0;
}
