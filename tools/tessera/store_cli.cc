#include "store_cli.h"

#include <ctime>

namespace tessera::cli {

void AddHomeOption(CLI::App* sub, std::string* home) {
  sub->add_option("--home", *home,
                  "the store (default: $TESSERA_HOME, else $XDG_DATA_HOME/tessera, else "
                  "~/.local/share/tessera)");
}

Result<std::string> ResolveHome(const std::string& flag) {
  if (!flag.empty()) return flag;
  return registry::Registry::DefaultHome();
}

Result<std::unique_ptr<registry::Registry>> OpenStore(const std::string& flag,
                                                      StoreAccess access) {
  TS_ASSIGN_OR_RETURN(std::string home, ResolveHome(flag));
  registry::RegistryOptions options;
  options.read_only = access == StoreAccess::kRead;
  return registry::Registry::Open(home, options);
}

std::string PrivateKeyPath(const std::string& home, const std::string& name_or_path) {
  if (name_or_path.find('/') != std::string::npos) return name_or_path;
  return home + "/keys/" + name_or_path + ".key";
}

std::string PublicKeyPath(const std::string& home, const std::string& name_or_path) {
  if (name_or_path.find('/') != std::string::npos) return name_or_path;
  return home + "/keys/" + name_or_path + ".pub";
}

void SplitPackageRef(const std::string& ref, std::string* id, std::string* version) {
  const std::size_t at = ref.find('@');
  *id = ref.substr(0, at);
  *version = at == std::string::npos ? "" : ref.substr(at + 1);
}

std::string FormatTime(std::int64_t unix_ms) {
  std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

nlohmann::ordered_json RecordJson(const registry::PackageRecord& r) {
  nlohmann::ordered_json out;
  out["id"] = r.id;
  out["version"] = r.version;
  out["kind"] = r.kind;
  out["state"] = std::string(registry::StateName(r.state));
  out["signer"] = r.signer.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(r.signer);
  out["key_id"] = r.key_id.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(r.key_id);
  out["granted"] = r.granted;
  out["license"] = r.license;
  out["base"] = r.base.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(r.base);
  out["known_good"] =
      r.known_good.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(r.known_good);
  out["installed_at"] = FormatTime(r.installed_at);
  out["manifest_sha256"] = r.manifest_sha256;
  std::uint64_t bytes = 0;
  nlohmann::ordered_json artifacts = nlohmann::ordered_json::array();
  for (const registry::ArtifactRecord& a : r.artifacts) {
    bytes += a.size;
    artifacts.push_back({{"name", a.name},
                         {"role", a.role},
                         {"media_type", a.media_type},
                         {"size", a.size},
                         {"sha256", a.sha256}});
  }
  out["bytes"] = bytes;
  out["artifacts"] = std::move(artifacts);
  nlohmann::ordered_json deps = nlohmann::ordered_json::array();
  for (const registry::DependencyRecord& d : r.dependencies) {
    deps.push_back({{"kind", d.kind}, {"id", d.id}, {"version", d.range}});
  }
  out["dependencies"] = std::move(deps);
  return out;
}

}  // namespace tessera::cli
