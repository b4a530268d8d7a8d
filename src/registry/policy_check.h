// The checks a policy package (kind "policy", package/policy.h) passes at pack and at install,
// in place of a model's GGUF structure: its "policy" artifact parses; each embedding router's
// exemplars file is an artifact of the package with role "router-exemplars", parses, and covers
// the router's labels; and, at install, every package id the policy names is installed (a
// policy naming a missing package is refused here, naming the route or router and the id).
//
// Thread safety: pure functions over their arguments and the files they read.
#ifndef TESSERA_REGISTRY_POLICY_CHECK_H_
#define TESSERA_REGISTRY_POLICY_CHECK_H_

#include <functional>
#include <string>
#include <vector>

#include "package/manifest.h"
#include "package/policy.h"
#include "registry/records.h"
#include "tessera/status.h"

namespace tessera::registry {

// `path_of(name)`: where the artifact `name` of the manifest is on disk. Returns the parsed
// policy. Errors: the policy's and the exemplars' (kMalformed, ...), kNotFound for an exemplars
// file that is no artifact of the package, kIoError.
Result<package::Policy> CheckPolicyDocuments(
    const package::Manifest& manifest,
    const std::function<std::string(const std::string& name)>& path_of);

// Every id the policy names has a usable installed version (an exact version when the policy
// names one). kNotFound naming the id and where the policy names it.
Status CheckPolicyReferences(const package::Policy& policy,
                             const std::vector<PackageRecord>& installed);

}  // namespace tessera::registry

#endif  // TESSERA_REGISTRY_POLICY_CHECK_H_
