// Test data for the manifest tests: the valid manifests in tests/package/data/ and a runner for
// tables of edits that each make one of them invalid.
#ifndef TESSERA_TESTS_PACKAGE_MANIFEST_FIXTURE_H_
#define TESSERA_TESTS_PACKAGE_MANIFEST_FIXTURE_H_

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tessera/status.h"

namespace tessera::package::fixture {

// The bytes of tests/package/data/<name>.
std::string ReadTestData(const std::string& name);

// tests/package/data/model_manifest.json or adapter_manifest.json, parsed.
nlohmann::json ModelManifestJson();
nlohmann::json AdapterManifestJson();

// One way to break a valid manifest, and how ParseManifest must refuse the result.
struct BrokenManifest {
  std::string what;
  bool adapter = false;  // edit the adapter manifest, else the model manifest
  std::function<void(nlohmann::json&)> edit;
  StatusCode code = StatusCode::kMalformed;
  std::string message;  // a part of the message that names the problem
};

// Applies each edit, parses the result and checks the code and the message.
void ExpectRefused(const std::vector<BrokenManifest>& cases);

// Parses `bytes` and checks the code and that the message contains `message`.
void ExpectRefusedBytes(const std::string& bytes, StatusCode code, const std::string& message);

}  // namespace tessera::package::fixture

#endif  // TESSERA_TESTS_PACKAGE_MANIFEST_FIXTURE_H_
