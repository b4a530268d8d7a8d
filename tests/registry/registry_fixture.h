// Test support for the registry: temporary stores, a fake clock, seeded keys, packages built
// from the shipped models with edited manifests, and snapshots of a store's observable state
// (for "a refusal changes nothing else" assertions).
#ifndef TESSERA_TESTS_REGISTRY_REGISTRY_FIXTURE_H_
#define TESSERA_TESTS_REGISTRY_REGISTRY_FIXTURE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/clock.h"
#include "package/signature.h"
#include "registry/registry.h"

namespace tessera::registry::fixture {

class FakeClock final : public base::Clock {
 public:
  std::int64_t NowUnixMillis() const override { return now_ += 1000; }

 private:
  mutable std::int64_t now_ = 1'790'000'000'000;
};

// A new empty directory under the test temp dir, unique per call. Removed after the process's
// last test unless a test failed.
std::string TempDir(const std::string& name);
// models/<relative>.
std::string ModelPath(const std::string& relative);
// A deterministic key from one seed byte.
package::PrivateKey Key(std::uint8_t seed);

struct Spec {
  std::string id = "dev.test.skills.date";
  std::string version = "1.0.0";
  bool adapter = false;
  std::string weights = "specialists/date.gguf";  // under models/ (adapters: the .lora.gguf),
                                                  // or an absolute path
  std::string eval_set = "eval/keys/date.jsonl";
  std::string base_version = "1.0.0";               // adapters: dev.test.base@this
  nlohmann::json patch = nlohmann::json::object();  // RFC 7386 merge patch on manifest.json
};

// Writes a package directory for `spec` under `work` and packs it (signed when key != null).
// Returns the package file's path. Aborts the test on failure.
std::string Pack(const std::string& work, const Spec& spec, const package::PrivateKey* key);
// The base model package every adapter spec refers to: dev.test.base (models/base.gguf).
Spec BaseSpec(const std::string& version = "1.0.0");

// Rewrites the package file `package` with its manifest edited by `edit` (as JSON; the config
// bytes are `doc.dump()`, so an edit may make the manifest invalid). The signature: re-signed
// with `resign` when given (the edited manifest must then parse), else the old envelope is kept
// (so the signature no longer matches), or dropped when `drop_signature`.
std::string Repack(const std::string& work, const std::string& package,
                   const std::function<void(nlohmann::json&)>& edit,
                   const package::PrivateKey* resign, bool drop_signature = false);
// The package file with raw tar `entries` appended before its end marker.
std::string AppendRaw(const std::string& work, const std::string& package,
                      const std::vector<std::uint8_t>& raw_entries);

// A store with `key` trusted as "tester" for dev.test. with every capability.
std::unique_ptr<Registry> OpenStore(const std::string& home, const package::PrivateKey& key,
                                    const base::Clock* clock, base::FileEnv* env = nullptr);

// What a store looks like from outside: packages with states, blobs, quarantine records, and
// the files under staging/.
struct Snapshot {
  std::vector<std::string> packages;  // "id@version state"
  std::vector<std::string> blobs;
  std::size_t quarantine = 0;
  std::vector<std::string> staging;
  friend bool operator==(const Snapshot&, const Snapshot&) = default;
};
Snapshot Take(Registry& registry);
std::string Describe(const Snapshot& s);

std::vector<std::uint8_t> ReadAll(const std::string& path);
void WriteAll(const std::string& path, const std::vector<std::uint8_t>& bytes);

}  // namespace tessera::registry::fixture

#endif  // TESSERA_TESTS_REGISTRY_REGISTRY_FIXTURE_H_
