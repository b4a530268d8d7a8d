// Policy packages (kind "policy"): packed and installed like skills, refused at pack and at the
// install's structure step when the policy document is broken, its exemplars do not fit its
// routers, or it names a package that is not installed.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "base/sha256.h"
#include "package/canonical_json.h"
#include "package/file_io.h"
#include "package/oci_writer.h"
#include "package/signature_envelope.h"
#include "registry/pack.h"
#include "registry_fixture.h"

namespace tessera::registry {
namespace {

using Json = nlohmann::json;

Json Policy() {
  return Json::parse(R"({
    "schema": "tessera.policy/v1",
    "routers": [
      {"name": "rules", "type": "rules", "rules": [{"route": "date", "keywords": ["iso"]}]},
      {"name": "nearest", "type": "embedding", "module": "dev.test.skills.date",
       "exemplars": "exemplars.jsonl", "labels": {"date": "date"}, "abstain_labels": ["none"]}
    ],
    "routes": {"date": {"cascade": ["dev.test.skills.date", {"role": "date-normalise"}]}}
  })");
}

const char* kExemplars = "{\"label\":\"date\",\"text\":\"March 3, 2021 as ISO\"}\n"
                         "{\"label\":\"none\",\"text\":\"tell me a joke\"}\n";

void Write(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// A policy package directory with `policy` and `exemplars`.
std::string PolicyDir(const std::string& work, const std::string& name, const Json& policy,
                      const std::string& exemplars) {
  const std::string dir = work + "/" + name;
  EXPECT_EQ(std::system(("mkdir -p '" + dir + "'").c_str()), 0);
  Write(dir + "/policy.json", policy.dump(1));
  Write(dir + "/exemplars.jsonl", exemplars);
  Json m = {{"schema", "tessera.package/v2"},
            {"id", "dev.test.policy.skills"},
            {"version", "1.0.0"},
            {"kind", "policy"},
            {"license", "Apache-2.0"},
            {"artifacts",
             {{{"role", "policy"},
               {"name", "policy.json"},
               {"media_type", "application/vnd.tessera.policy+json"}},
              {{"role", "router-exemplars"},
               {"name", "exemplars.jsonl"},
               {"media_type", "application/x-ndjson"}}}},
            {"runtime", {{"versions", ">=0.1.0 <0.2.0"}, {"package_abi", 1}}},
            {"capabilities", Json::array()}};
  Write(dir + "/manifest.json", m.dump(1));
  return dir;
}

// The package file of `dir` signed by `key`, written without pack's checks of the policy (so
// that the installer's own checks are what refuses it).
std::string PackUnchecked(const std::string& dir, const std::string& out,
                          const package::PrivateKey& key) {
  Json m = Json::parse(std::ifstream(dir + "/manifest.json"));
  std::vector<package::ArtifactFile> files;
  for (Json& a : m["artifacts"]) {
    const std::string path = dir + "/" + a["name"].get<std::string>();
    Result<package::BlobRef> ref = package::HashFile(path);
    EXPECT_TRUE(ref.ok());
    a["size"] = ref->size;
    a["sha256"] = base::ToHex(ref->digest);
    files.push_back({path, a["name"].get<std::string>(), a["media_type"].get<std::string>(), *ref});
  }
  Result<package::Manifest> manifest = package::ParseManifest(*package::CanonicalJson(m));
  EXPECT_TRUE(manifest.ok()) << manifest.status().ToString();
  const std::string canonical = *package::CanonicalManifestBytes(*manifest);
  const std::string envelope = *package::SignManifest(*manifest, key);
  package::PackageFileInput input;
  input.config = std::span<const std::uint8_t>(
      reinterpret_cast<const std::uint8_t*>(canonical.data()), canonical.size());
  input.artifacts = std::move(files);
  input.signature = std::span<const std::uint8_t>(
      reinterpret_cast<const std::uint8_t*>(envelope.data()), envelope.size());
  EXPECT_TRUE(package::WritePackageFile(out, input).ok());
  return out;
}

class PolicyPackage : public ::testing::Test {
 protected:
  void SetUp() override {
    work_ = fixture::TempDir("policy");
    store_ = fixture::OpenStore(work_ + "/home", key_, &clock_);
    ASSERT_NE(store_, nullptr);
    Result<InstallResult> r = store_->Install(fixture::Pack(work_, fixture::Spec{}, &key_));
    ASSERT_TRUE(r.ok()) << r.status().ToString();  // dev.test.skills.date@1.0.0
  }

  void ExpectInstallRefused(const std::string& name, const Json& policy,
                            const std::string& exemplars, StatusCode code,
                            const std::string& needle) {
    const std::string dir = PolicyDir(work_, name, policy, exemplars);
    const std::string file = PackUnchecked(dir, work_ + "/" + name + ".tpkg", key_);
    Result<InstallResult> r = store_->Install(file);
    ASSERT_FALSE(r.ok()) << "installed";
    EXPECT_EQ(r.status().code(), code) << r.status().ToString();
    EXPECT_NE(r.status().message().find(": structure: "), std::string::npos)
        << r.status().ToString();
    EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status().ToString();
    EXPECT_EQ(store_->QuarantineList()->back().step, "structure");
    Result<PackageRecord> absent = store_->Show("dev.test.policy.skills");
    EXPECT_EQ(absent.status().code(), StatusCode::kNotFound);
    // pack refuses the same directory, except for a missing package, which only the store
    // knows.
    Result<PackResult> packed = PackDirectory(dir, work_ + "/" + name + ".packed", &key_);
    EXPECT_EQ(packed.ok(), needle.find("which is not installed") != std::string::npos);
    EXPECT_EQ(packed.ok() ? code : packed.status().code(), code) << packed.status().ToString();
  }

  fixture::FakeClock clock_;
  package::PrivateKey key_ = fixture::Key(3);
  std::string work_;
  std::unique_ptr<Registry> store_;
};

TEST_F(PolicyPackage, PacksAndInstalls) {
  const std::string dir = PolicyDir(work_, "ok", Policy(), kExemplars);
  Result<PackResult> packed = PackDirectory(dir, work_ + "/ok.tpkg", &key_);
  ASSERT_TRUE(packed.ok()) << packed.status().ToString();
  EXPECT_EQ(packed->manifest.kind, package::PackageKind::kPolicy);
  EXPECT_EQ(packed->manifest.schema_version, 2u);
  Result<InstallResult> r = store_->Install(work_ + "/ok.tpkg");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->record.kind, "policy");
  Result<package::Manifest> m = store_->LoadManifest(r->record);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->primary_artifact().name, "policy.json");
  EXPECT_EQ(fixture::ReadAll(store_->BlobPath(m->primary_artifact().sha256)),
            fixture::ReadAll(dir + "/policy.json"));
}

TEST_F(PolicyPackage, AManifestChangedOnDiskIsRefusedWhenRead) {
  Result<PackageRecord> r = store_->Show("dev.test.skills.date");
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(store_->LoadManifest(*r).ok());
  const std::string blob = store_->BlobPath(r->manifest_sha256);
  std::vector<std::uint8_t> bytes = fixture::ReadAll(blob);
  bytes.back() = ' ';  // still JSON, other bytes
  ASSERT_EQ(::chmod(blob.c_str(), 0644), 0);
  fixture::WriteAll(blob, bytes);
  Result<package::Manifest> m = store_->LoadManifest(*r);
  EXPECT_EQ(m.status().code(), StatusCode::kIntegrity);
  EXPECT_NE(m.status().message().find("the stored manifest of dev.test.skills.date@1.0.0 does "
                                      "not match its sha256"),
            std::string::npos)
      << m.status().message();
}

TEST_F(PolicyPackage, NamingAMissingPackageIsRefused) {
  Json p = Policy();
  p["routes"]["date"]["cascade"].push_back("dev.test.generalist");
  ExpectInstallRefused("missing", p, kExemplars, StatusCode::kNotFound,
                       "policy: route \"date\" (cascade step 3) names dev.test.generalist, which "
                       "is not installed");
  p = Policy();
  p["routes"]["date"]["cascade"][0] = "dev.test.skills.date@2.0.0";
  ExpectInstallRefused("version", p, kExemplars, StatusCode::kNotFound,
                       "names dev.test.skills.date@2.0.0, which is not installed");
  p = Policy();
  p["routers"][1]["module"] = "dev.test.router";
  ExpectInstallRefused("router", p, kExemplars, StatusCode::kNotFound,
                       "policy: router \"nearest\" names dev.test.router, which is not installed");
}

TEST_F(PolicyPackage, ACycleIsRefused) {
  Json p = Policy();
  p["routes"]["time"] = {{"cascade", {"dev.test.skills.date"}}, {"fallback", "date"}};
  p["routes"]["date"]["fallback"] = "time";
  ExpectInstallRefused("cycle", p, kExemplars, StatusCode::kMalformed,
                       "fallbacks form a cycle: date -> time -> date");
}

TEST_F(PolicyPackage, BrokenDocumentsAreRefused) {
  ExpectInstallRefused("notjson", Json("not a policy"), kExemplars, StatusCode::kMalformed,
                       "policy.json: policy: (root): is not a JSON object");
  ExpectInstallRefused("label", Policy(), "{\"label\":\"unit\",\"text\":\"3 km\"}\n",
                       StatusCode::kMalformed, "label \"unit\" is neither mapped");
  ExpectInstallRefused("uncovered", Policy(), "{\"label\":\"none\",\"text\":\"hi\"}\n",
                       StatusCode::kMalformed, "no exemplar for label \"date\"");
  ExpectInstallRefused("lines", Policy(), "{\"label\":\"date\"}\n", StatusCode::kMalformed,
                       "exemplars: line 1: expected");
  Json p = Policy();
  p["routers"][1]["exemplars"] = "other.jsonl";
  ExpectInstallRefused("noartifact", p, kExemplars, StatusCode::kNotFound,
                       "names exemplars \"other.jsonl\", which is no artifact");
}

}  // namespace
}  // namespace tessera::registry
