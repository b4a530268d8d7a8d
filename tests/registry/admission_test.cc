// Hostile and incompatible packages: each is refused by the admission step that should catch it,
// with a message naming the problem, and nothing in the store changes except the rejected file
// moving to quarantine.
#include <gtest/gtest.h>

#include "package/tar_fixture.h"
#include "registry_fixture.h"

namespace tessera::registry {
namespace {

using fixture::Spec;
namespace tar = package::fixture;

class Admission : public ::testing::Test {
 protected:
  void SetUp() override {
    work_ = fixture::TempDir("admission");
    store_ = fixture::OpenStore(work_ + "/home", key_, &clock_);
    ASSERT_NE(store_, nullptr);
    Install(fixture::Pack(work_, Spec{}, &key_));  // dev.test.skills.date@1.0.0
  }

  void Install(const std::string& file) {
    Result<InstallResult> r = store_->Install(file);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }

  // Installs `file`, expects `code` with the step and `needle` in the message, the store
  // unchanged and one more quarantine record (`quarantined`) naming the step.
  void ExpectRefused(const std::string& file, StatusCode code, const std::string& step,
                     const std::string& needle, bool quarantined = true) {
    const fixture::Snapshot before = fixture::Take(*store_);
    Result<InstallResult> r = store_->Install(file);
    ASSERT_FALSE(r.ok()) << "installed " << file;
    EXPECT_EQ(r.status().code(), code) << r.status().ToString();
    EXPECT_NE(r.status().message().find(": " + step + ": "), std::string::npos)
        << r.status().ToString();
    EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status().ToString();
    fixture::Snapshot after = fixture::Take(*store_);
    EXPECT_EQ(after.quarantine, before.quarantine + (quarantined ? 1 : 0));
    after.quarantine = before.quarantine;
    EXPECT_EQ(after, before) << fixture::Describe(before) << "\n" << fixture::Describe(after);
    if (quarantined) {
      std::vector<QuarantineRecord> q = store_->QuarantineList().value();
      EXPECT_EQ(q.back().step, step);
      EXPECT_EQ(q.back().reason, r.status().message());
      EXPECT_EQ(fixture::ReadAll(store_->home() + "/" + q.back().path), fixture::ReadAll(file));
    }
  }

  Spec Named(const std::string& id, const std::string& version = "1.0.0") {
    Spec s;
    s.id = id;
    s.version = version;
    return s;
  }

  fixture::FakeClock clock_;
  package::PrivateKey key_ = fixture::Key(1);
  std::string work_;
  std::unique_ptr<Registry> store_;
};

TEST_F(Admission, RandomBytesAreNotAPackageFile) {
  std::vector<std::uint8_t> bytes(4096);
  std::uint32_t x = 12345;  // a fixed xorshift stream: the same bytes every run
  for (std::uint8_t& b : bytes) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    b = static_cast<std::uint8_t>(x);
  }
  const std::string file = work_ + "/random.tpkg";
  fixture::WriteAll(file, bytes);
  ExpectRefused(file, StatusCode::kMalformed, "artifacts", "not a package file");
}

TEST_F(Admission, FlippedByteInAnArtifactIsRefused) {
  const std::string good = fixture::Pack(work_, Named("dev.test.flip"), &key_);
  std::vector<std::uint8_t> bytes = fixture::ReadAll(good);
  // The weights layer is the largest part of the archive: its middle is weights.
  bytes[bytes.size() / 2] ^= 0x01;
  const std::string bad = work_ + "/flipped.tpkg";
  fixture::WriteAll(bad, bytes);
  ExpectRefused(bad, StatusCode::kIntegrity, "artifacts", "digest");
}

TEST_F(Admission, ManifestEditedAfterSigningIsRefused) {
  const std::string good = fixture::Pack(work_, Named("dev.test.edited"), &key_);
  const std::string bad = fixture::Repack(
      work_, good,
      [](nlohmann::json& m) {
        m["capabilities"] = {"emit:text", "emit:json"};
      },
      nullptr);
  ExpectRefused(bad, StatusCode::kIntegrity, "signature", "signature");
}

TEST_F(Admission, UnknownKeyIsRefused) {
  const package::PrivateKey stranger = fixture::Key(2);
  ExpectRefused(fixture::Pack(work_, Named("dev.test.stranger"), &stranger),
                StatusCode::kPermissionDenied, "signature", stranger.public_key().KeyId());
}

TEST_F(Admission, KeySigningOutsideItsPrefixIsRefused) {
  ExpectRefused(fixture::Pack(work_, Named("dev.other.skill"), &key_),
                StatusCode::kPermissionDenied, "signature", "dev.other.skill");
}

TEST_F(Admission, CapabilityTheKeyMayNotGrantIsRefused) {
  const package::PrivateKey narrow = fixture::Key(3);
  ASSERT_TRUE(
      store_->TrustAdd({"narrow", narrow.public_key(), {"dev.test."}, {"emit:text"}, {}}).ok());
  Spec s = Named("dev.test.json");
  s.patch = {{"capabilities", {"emit:json"}}};
  ExpectRefused(fixture::Pack(work_, s, &narrow), StatusCode::kPermissionDenied, "signature",
                "emit:json");
}

TEST_F(Admission, LicenceOutsideThePolicyIsRefused) {
  const package::PrivateKey mit_only = fixture::Key(4);
  ASSERT_TRUE(
      store_->TrustAdd({"mit-only", mit_only.public_key(), {"dev.test."}, {"*"}, {"MIT"}}).ok());
  Spec s = Named("dev.test.gpl");
  s.patch = {{"license", "GPL-3.0-only"}};
  ExpectRefused(fixture::Pack(work_, s, &mit_only), StatusCode::kPermissionDenied, "signature",
                "GPL-3.0-only");
}

TEST_F(Admission, UnsignedIsRefusedUnlessThePolicyAllowsIt) {
  const std::string file = fixture::Pack(work_, Named("dev.test.unsigned"), nullptr);
  ExpectRefused(file, StatusCode::kPermissionDenied, "signature", "unsigned");
  ASSERT_TRUE(store_->TrustUnsigned({"dev.test.unsigned"}).ok());
  Install(file);
  EXPECT_EQ(store_->Show("dev.test.unsigned").value().signer, "");
}

TEST_F(Admission, UnknownManifestFieldIsRefused) {
  const std::string bad = fixture::Repack(
      work_, fixture::Pack(work_, Named("dev.test.unknown"), &key_),
      [](nlohmann::json& m) { m["colour"] = "blue"; }, nullptr);
  ExpectRefused(bad, StatusCode::kMalformed, "artifacts", "colour");
}

TEST_F(Admission, VersionThatIsNotSemVerIsRefused) {
  const std::string bad = fixture::Repack(
      work_, fixture::Pack(work_, Named("dev.test.badversion"), &key_),
      [](nlohmann::json& m) { m["version"] = "1.0"; }, nullptr);
  ExpectRefused(bad, StatusCode::kMalformed, "artifacts", "1.0");
}

TEST_F(Admission, HugeManifestIsRefused) {
  const std::string bad = fixture::Repack(
      work_, fixture::Pack(work_, Named("dev.test.huge"), &key_),
      [](nlohmann::json& m) { m["description"] = std::string(300 * 1024, 'x'); }, nullptr);
  ExpectRefused(bad, StatusCode::kResourceExhausted, "artifacts", "manifest");
}

TEST_F(Admission, GgufFactsThatDifferFromTheFileAreRefused) {
  const std::string bad = fixture::Repack(
      work_, fixture::Pack(work_, Named("dev.test.facts"), &key_),
      [](nlohmann::json& m) { m["gguf"]["parameters"] = 12345; }, &key_);
  ExpectRefused(bad, StatusCode::kIntegrity, "structure", "gguf.parameters");
}

TEST_F(Admission, SameVersionWithOtherBytesIsRefused) {
  Spec s;  // dev.test.skills.date@1.0.0 is installed
  s.patch = {{"title", "another build"}};
  ExpectRefused(fixture::Pack(work_, s, &key_), StatusCode::kDuplicate, "graph",
                "already installed");
}

TEST_F(Admission, SameBytesAgainChangeNothing) {
  const std::string file = fixture::Pack(work_, Named("dev.test.twice"), &key_);
  Install(file);
  const fixture::Snapshot before = fixture::Take(*store_);
  Result<InstallResult> again = store_->Install(file);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->already_installed);
  EXPECT_EQ(fixture::Take(*store_), before);
}

TEST_F(Admission, MissingRequirementIsRefused) {
  Spec s = Named("dev.test.needy");
  s.patch = {
      {"dependencies", {{"requires", {{{"id", "dev.test.absent"}, {"version", "^1.0.0"}}}}}}};
  ExpectRefused(fixture::Pack(work_, s, &key_), StatusCode::kIncompatible, "graph",
                "dev.test.absent");
}

TEST_F(Admission, ConflictIsRefusedInBothDirections) {
  Spec s = Named("dev.test.rival");
  s.patch = {
      {"dependencies", {{"conflicts", {{{"id", "dev.test.skills.date"}, {"version", "*"}}}}}}};
  ExpectRefused(fixture::Pack(work_, s, &key_), StatusCode::kIncompatible, "graph", "conflicts");
  Spec picky = Named("dev.test.picky");
  picky.patch = {{"dependencies", {{"conflicts", {{{"id", "dev.test.late"}, {"version", "*"}}}}}}};
  Install(fixture::Pack(work_, picky, &key_));
  ExpectRefused(fixture::Pack(work_, Named("dev.test.late"), &key_), StatusCode::kIncompatible,
                "graph", "dev.test.picky");
}

TEST_F(Admission, DependencyCycleIsRefused) {
  Install(fixture::Pack(work_, Named("dev.test.y"), &key_));
  Spec x = Named("dev.test.x");
  x.patch = {{"dependencies", {{"requires", {{{"id", "dev.test.y"}, {"version", "^1.0.0"}}}}}}};
  Install(fixture::Pack(work_, x, &key_));
  Spec y2 = Named("dev.test.y", "1.1.0");
  y2.patch = {{"dependencies", {{"requires", {{{"id", "dev.test.x"}, {"version", "^1.0.0"}}}}}}};
  ExpectRefused(fixture::Pack(work_, y2, &key_), StatusCode::kIncompatible, "graph",
                "dev.test.y -> dev.test.x -> dev.test.y");
}

TEST_F(Admission, RuntimeOutsideTheRangeIsRefused) {
  Spec s = Named("dev.test.future");
  s.patch = {{"runtime", {{"versions", ">=9.0.0"}}}};
  ExpectRefused(fixture::Pack(work_, s, &key_), StatusCode::kIncompatible, "graph", ">=9.0.0");
}

class AdapterAdmission : public Admission {
 protected:
  Spec AdapterSpec() {
    Spec a;
    a.id = "dev.test.adapters.date";
    a.adapter = true;
    a.weights = "adapters/date.lora.gguf";
    return a;
  }
};

TEST_F(AdapterAdmission, AdapterOnItsExactBaseIsAdmitted) {
  Install(fixture::Pack(work_, fixture::BaseSpec(), &key_));
  Install(fixture::Pack(work_, AdapterSpec(), &key_));
  const PackageRecord r = store_->Show("dev.test.adapters.date").value();
  EXPECT_EQ(r.base, "dev.test.base@1.0.0");
}

TEST_F(AdapterAdmission, AdapterWithoutItsBaseIsRefused) {
  ExpectRefused(fixture::Pack(work_, AdapterSpec(), &key_), StatusCode::kIncompatible, "graph",
                "dev.test.base");
}

TEST_F(AdapterAdmission, AdapterWhoseBaseWeightsDifferIsRefused) {
  // dev.test.base@1.0.0 installed from other weights (same architecture and tokenizer).
  Spec base = fixture::BaseSpec();
  base.weights = "generalist.gguf";
  Install(fixture::Pack(work_, base, &key_));
  ExpectRefused(fixture::Pack(work_, AdapterSpec(), &key_), StatusCode::kIncompatible, "graph",
                "base weights sha256");
}

TEST_F(AdapterAdmission, AdapterWhoseTokenizerDiffersIsRefused) {
  Install(fixture::Pack(work_, fixture::BaseSpec(), &key_));
  Spec a = AdapterSpec();
  a.patch = {{"base", {{"tokenizer_sha256", std::string(64, 'a')}}}};
  ExpectRefused(fixture::Pack(work_, a, &key_), StatusCode::kIncompatible, "graph", "tokenizer");
}

// Archive-level attacks on a real signed package: entries appended before the end marker.
TEST_F(Admission, HostileArchiveEntriesAreRefused) {
  const std::string good = fixture::Pack(work_, Named("dev.test.tar"), &key_);
  auto link = [](char type, const std::string& name, const std::string& target) {
    tar::RawEntry e = tar::File(name, "");
    e.type = type;
    e.linkname = target;
    return e;
  };
  tar::RawEntry device = tar::File("blobs/sha256/dev", "");
  device.type = '3';
  tar::RawEntry oversized = tar::File("blobs/sha256/" + std::string(64, 'b'), "tiny");
  oversized.size = "77777777777";
  const std::vector<std::pair<std::string, std::vector<tar::RawEntry>>> cases = {
      {"..", {tar::File("../evil", "x")}},
      {"/etc/evil", {tar::File("/etc/evil", "x")}},
      {"symbolic link", {link('2', "blobs/sha256/link", "/etc/passwd")}},
      {"hard link", {link('1', "blobs/sha256/hard", "oci-layout")}},
      {"device", {device}},
      {"oci-layout", {tar::File("oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}")}},
      {"size", {oversized}},
  };
  for (const auto& [needle, entries] : cases) {
    SCOPED_TRACE(needle);
    const std::string bad = fixture::AppendRaw(work_, good, tar::RawTar(entries));
    const fixture::Snapshot before = fixture::Take(*store_);
    Result<InstallResult> r = store_->Install(bad);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find(": artifacts: "), std::string::npos)
        << r.status().ToString();
    fixture::Snapshot after = fixture::Take(*store_);
    EXPECT_EQ(after.quarantine, before.quarantine + 1) << r.status().ToString();
    after.quarantine = before.quarantine;
    EXPECT_EQ(after, before) << r.status().ToString();
  }
}

TEST_F(Admission, BlobLargerThanTheLimitIsRefused) {
  RegistryOptions options;
  options.clock = &clock_;
  options.limits.max_blob_bytes = 64 * 1024;  // the weights are ~1 MB
  std::unique_ptr<Registry> small = Registry::Open(store_->home(), options).value();
  Result<InstallResult> r = small->Install(fixture::Pack(work_, Named("dev.test.big"), &key_));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted) << r.status().ToString();
}

}  // namespace
}  // namespace tessera::registry
