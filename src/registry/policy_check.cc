#include "registry/policy_check.h"

#include <string_view>

#include "package/file_io.h"

namespace tessera::registry {
namespace {

Result<std::string> ReadArtifact(const std::string& path, std::uint64_t limit) {
  TS_ASSIGN_OR_RETURN(std::vector<std::uint8_t> bytes, package::ReadSmallFile(path, limit));
  return std::string(bytes.begin(), bytes.end());
}

bool Installed(const std::vector<PackageRecord>& installed, const std::string& id,
               const std::string& version) {
  for (const PackageRecord& r : installed) {
    if (r.id == id && IsUsable(r.state) && (version.empty() || r.version == version)) return true;
  }
  return false;
}

Status Missing(const std::string& ref, const std::string& where) {
  return NotFound("policy: " + where + " names " + ref +
                  ", which is not installed (or not usable): install it first");
}

}  // namespace

Result<package::Policy> CheckPolicyDocuments(
    const package::Manifest& manifest,
    const std::function<std::string(const std::string& name)>& path_of) {
  const package::Artifact& doc = manifest.primary_artifact();
  TS_ASSIGN_OR_RETURN(std::string text, ReadArtifact(path_of(doc.name), package::kMaxPolicyBytes));
  Result<package::Policy> policy = package::ParsePolicy(text);
  if (!policy.ok()) return policy.status().WithContext(doc.name);
  for (const package::RouterSpec& r : policy->routers) {
    if (r.kind != package::RouterKind::kEmbedding) continue;
    const package::Artifact* file = manifest.FindArtifact(r.exemplars);
    if (file == nullptr || file->role != package::ArtifactRole::kRouterExemplars) {
      return NotFound("policy: router \"" + r.name + "\" names exemplars \"" + r.exemplars +
                      "\", which is no artifact with role router-exemplars of this package");
    }
    TS_ASSIGN_OR_RETURN(std::string lines,
                        ReadArtifact(path_of(file->name), package::kMaxExemplarBytes));
    Result<std::vector<package::Exemplar>> exemplars = package::ParseExemplars(lines);
    if (!exemplars.ok()) return exemplars.status().WithContext(file->name);
    TS_RETURN_IF_ERROR(package::CheckExemplarLabels(r, *exemplars).WithContext(file->name));
  }
  return policy;
}

Status CheckPolicyReferences(const package::Policy& policy,
                             const std::vector<PackageRecord>& installed) {
  for (const package::RouterSpec& r : policy.routers) {
    if (r.module.empty()) continue;
    const std::size_t at = r.module.find('@');
    const std::string id = r.module.substr(0, at);
    const std::string version = at == std::string::npos ? "" : r.module.substr(at + 1);
    if (!Installed(installed, id, version)) return Missing(r.module, "router \"" + r.name + "\"");
  }
  for (const auto& [name, route] : policy.routes) {
    for (std::size_t s = 0; s < route.cascade.size(); ++s) {
      for (const package::CandidateRef& c : route.cascade[s]) {
        if (c.id.empty() || Installed(installed, c.id, c.version)) continue;
        return Missing(c.ToString(),
                       "route \"" + name + "\" (cascade step " + std::to_string(s + 1) + ")");
      }
    }
  }
  return Status::Ok();
}

}  // namespace tessera::registry
