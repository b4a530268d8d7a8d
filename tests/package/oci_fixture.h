// A sample Tessera package for the package-file tests: two artifact files, a config (package
// manifest) and a signature, written with WritePackageFile, plus helpers that take a package
// apart into its archive entries and put (possibly edited) entries back together.
#ifndef TESSERA_TESTS_PACKAGE_OCI_FIXTURE_H_
#define TESSERA_TESTS_PACKAGE_OCI_FIXTURE_H_

#include <string>
#include <vector>

#include "package/oci_writer.h"
#include "tar_fixture.h"

namespace tessera::package::fixture {

inline constexpr char kGgufMediaType[] = "application/vnd.gguf";
inline constexpr char kEvalMediaType[] = "application/vnd.tessera.eval.jsonl";

// One archive entry.
struct Part {
  std::string name;
  bool directory = false;
  Bytes data;
};

class SamplePackage {
 public:
  explicit SamplePackage(const std::string& tag);

  // The writer's input: model.gguf and eval.jsonl, the config, and the signature when `sign`.
  PackageFileInput Input(bool sign = true) const;
  // Writes Input(sign) to `path`; fails the test on error.
  WrittenPackage Write(const std::string& path, bool sign = true) const;

  TempDir dir;
  Bytes model;
  Bytes eval;
  Bytes config;
  Bytes signature;
  std::string package_path;  // the signed package, written by the constructor
  std::string staging;       // an empty directory
};

// The entries of a package file, in archive order.
std::vector<Part> ReadParts(const std::string& package_path);
// Writes `parts` with TarWriter and returns the archive's bytes.
Bytes WriteParts(const std::vector<Part>& parts, const std::string& scratch_dir);
// Index of the entry named `name`, or -1.
int FindPart(const std::vector<Part>& parts, const std::string& name);
// Replaces the OCI manifest blob with `manifest_json` (renamed to its digest) and rewrites
// index.json to point at it.
void ReplaceManifest(std::vector<Part>& parts, const std::string& manifest_json);
// The OCI manifest JSON text currently referenced by index.json.
std::string CurrentManifest(const std::vector<Part>& parts);

}  // namespace tessera::package::fixture

#endif  // TESSERA_TESTS_PACKAGE_OCI_FIXTURE_H_
