// Internal to the registry: one installation, step by step (the order and the rules are in
// registry.h). Not a public header.
#ifndef TESSERA_REGISTRY_INSTALLER_H_
#define TESSERA_REGISTRY_INSTALLER_H_

#include <optional>
#include <string>
#include <vector>

#include "package/manifest.h"
#include "package/oci_reader.h"
#include "registry/registry.h"

namespace tessera::registry {

class Installer {
 public:
  Installer(Registry& registry, std::string file) : r_(registry), file_(std::move(file)) {}
  // Runs every step; on a refusal quarantines the file and returns the error.
  Result<InstallResult> Run();

 private:
  Status Stage();
  Status CheckArtifacts();
  Status CheckSignature();
  Status CheckGraph(const std::vector<PackageRecord>& installed);
  Status CheckStructure(const std::vector<PackageRecord>& installed);
  Result<InstallResult> Promote(const std::vector<PackageRecord>& installed);
  Status Fail(std::string_view step, const Status& status, bool quarantine);
  void Cleanup();

  Registry& r_;
  std::string file_;
  std::string staging_;  // <home>/staging/<unique>
  std::uint64_t file_size_ = 0;
  std::optional<package::UnpackedPackage> unpacked_;
  std::optional<package::Manifest> manifest_;
  std::string manifest_sha256_;
  TrustDecision trust_;
  InstallResult result_;
};

}  // namespace tessera::registry

#endif  // TESSERA_REGISTRY_INSTALLER_H_
