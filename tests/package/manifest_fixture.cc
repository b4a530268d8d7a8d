#include "manifest_fixture.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "package/manifest.h"

namespace tessera::package::fixture {

std::string ReadTestData(const std::string& name) {
  const std::string path = std::string(TESSERA_SOURCE_DIR) + "/tests/package/data/" + name;
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

namespace {
nlohmann::json Load(const std::string& name) {
  const std::string text = ReadTestData(name);
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  EXPECT_TRUE(j.is_object()) << name;
  return j;
}
}  // namespace

nlohmann::json ModelManifestJson() { return Load("model_manifest.json"); }
nlohmann::json AdapterManifestJson() { return Load("adapter_manifest.json"); }

void ExpectRefusedBytes(const std::string& bytes, StatusCode code, const std::string& message) {
  Result<Manifest> m = ParseManifest(bytes);
  ASSERT_FALSE(m.ok()) << "accepted";
  EXPECT_EQ(m.status().code(), code) << m.status().ToString();
  EXPECT_NE(m.status().message().find(message), std::string::npos)
      << "message: " << m.status().message() << "\nexpected to contain: " << message;
  EXPECT_TRUE(m.status().message().starts_with("package: ")) << m.status().message();
}

void ExpectRefused(const std::vector<BrokenManifest>& cases) {
  const nlohmann::json model = ModelManifestJson();
  const nlohmann::json adapter = AdapterManifestJson();
  for (const BrokenManifest& c : cases) {
    SCOPED_TRACE(c.what);
    nlohmann::json doc = c.adapter ? adapter : model;
    c.edit(doc);
    ExpectRefusedBytes(doc.dump(), c.code, c.message);
  }
}

}  // namespace tessera::package::fixture
