// Shared by the package and registry subcommands: the --home option, opening the store, where
// keys live, and records as JSON.
#ifndef TESSERA_TOOLS_TESSERA_STORE_CLI_H_
#define TESSERA_TOOLS_TESSERA_STORE_CLI_H_

#include <CLI/CLI.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "registry/records.h"
#include "registry/registry.h"
#include "tessera/status.h"

namespace tessera::cli {

// Adds --home DIR (default: $TESSERA_HOME, else the XDG data directory) to `sub`.
void AddHomeOption(CLI::App* sub, std::string* home);
Result<std::string> ResolveHome(const std::string& flag);
// Commands that only read open the store read-only: they never create one (a mistyped --home
// is "no store at …", not a new empty store) and they work on a read-only mount or a full disk.
enum class StoreAccess { kRead, kWrite };
Result<std::unique_ptr<registry::Registry>> OpenStore(const std::string& flag,
                                                      StoreAccess access = StoreAccess::kWrite);

// <home>/keys/<name>.key and .pub; `name_or_path` containing '/' is taken as a path.
std::string PrivateKeyPath(const std::string& home, const std::string& name_or_path);
std::string PublicKeyPath(const std::string& home, const std::string& name_or_path);

// "ID" or "ID@VERSION".
void SplitPackageRef(const std::string& ref, std::string* id, std::string* version);

nlohmann::ordered_json RecordJson(const registry::PackageRecord& r);
std::string FormatTime(std::int64_t unix_ms);  // UTC, ISO 8601

}  // namespace tessera::cli

#endif  // TESSERA_TOOLS_TESSERA_STORE_CLI_H_
