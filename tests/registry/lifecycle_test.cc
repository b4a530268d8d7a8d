// Installed packages through their lifecycle: list and show, history, shared blobs, suspend,
// resume, retire, rollback, replaces, remove with dependents, verify and doctor, and the runtime
// states an older store kept in the index.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "registry_fixture.h"

namespace tessera::registry {
namespace {

using fixture::Spec;

class Lifecycle : public ::testing::Test {
 protected:
  void SetUp() override {
    work_ = fixture::TempDir("lifecycle");
    store_ = fixture::OpenStore(work_ + "/home", key_, &clock_);
    ASSERT_NE(store_, nullptr);
  }

  InstallResult Install(const Spec& spec) {
    Result<InstallResult> r = store_->Install(fixture::Pack(work_, spec, &key_));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : InstallResult{};
  }

  Spec Version(const std::string& version, nlohmann::json patch = nlohmann::json::object()) {
    Spec s;
    s.id = "dev.test.skill";
    s.version = version;
    s.patch = std::move(patch);
    return s;
  }

  State StateOf(const std::string& version) {
    return store_->Show("dev.test.skill", version).value().state;
  }

  fixture::FakeClock clock_;
  package::PrivateKey key_ = fixture::Key(1);
  std::string work_;
  std::unique_ptr<Registry> store_;
};

TEST_F(Lifecycle, InstallRecordsEverythingAndSharesBlobs) {
  InstallResult first = Install(Version("1.0.0"));
  EXPECT_EQ(first.record.state, State::kInstalled);
  EXPECT_EQ(first.record.signer, "tester");
  EXPECT_EQ(first.record.granted, std::vector<std::string>{"emit:text"});
  // 1.1.0 has the same weights and eval set: only its manifest and signature are new.
  InstallResult second = Install(Version("1.1.0", {{"title", "same bytes, new version"}}));
  EXPECT_LT(second.new_blob_bytes, 4096u);
  std::vector<PackageRecord> all = store_->List().value();
  ASSERT_EQ(all.size(), 2u);
  const PackageRecord current = store_->Show("dev.test.skill").value();
  EXPECT_EQ(current.version, "1.1.0");
  for (const ArtifactRecord& a : current.artifacts) {
    struct stat st;
    ASSERT_EQ(::stat(store_->BlobPath(a.sha256).c_str(), &st), 0) << a.name;
    EXPECT_EQ(static_cast<std::uint64_t>(st.st_size), a.size);
  }
  const package::Manifest m = store_->LoadManifest(current).value();
  EXPECT_EQ(m.title, "same bytes, new version");
  std::vector<Transition> h = store_->History("dev.test.skill", "1.0.0").value();
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[0].to, "installed");
  EXPECT_NE(h[0].reason.find("signed by tester"), std::string::npos);
}

TEST_F(Lifecycle, SuspendResumeRetire) {
  Install(Version("1.0.0"));
  ASSERT_TRUE(store_->Verify("dev.test.skill").ok());
  EXPECT_EQ(StateOf("1.0.0"), State::kVerified);
  ASSERT_TRUE(store_->Suspend("dev.test.skill", "", "maintenance").ok());
  EXPECT_EQ(StateOf("1.0.0"), State::kSuspended);
  Status again = store_->Suspend("dev.test.skill", "1.0.0", "twice");
  EXPECT_EQ(again.code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(store_->Resume("dev.test.skill", "1.0.0", "done").ok());
  EXPECT_EQ(StateOf("1.0.0"), State::kVerified);  // back to where it was
  ASSERT_TRUE(store_->Retire("dev.test.skill", "1.0.0", "old").ok());
  EXPECT_EQ(StateOf("1.0.0"), State::kRetired);
  // Retired comes back too (issue 17), to the state before; a usable version is not resumed.
  ASSERT_TRUE(store_->Resume("dev.test.skill", "1.0.0", "needed after all").ok());
  EXPECT_EQ(StateOf("1.0.0"), State::kVerified);
  EXPECT_EQ(store_->Resume("dev.test.skill", "1.0.0", "no").code(),
            StatusCode::kFailedPrecondition);
  std::vector<Transition> h = store_->History("dev.test.skill", "1.0.0").value();
  ASSERT_EQ(h.size(), 6u);
  EXPECT_EQ(h[2].reason, "maintenance");
  EXPECT_LT(h[1].at, h[2].at);
  EXPECT_EQ(store_->Suspend("dev.test.absent", "", "x").code(), StatusCode::kNotFound);
}

TEST_F(Lifecycle, RollbackReturnsToTheKnownGoodVersion) {
  Install(Version("1.0.0"));
  Install(Version("1.1.0", {{"rollback", {{"known_good", "1.0.0"}}}}));
  EXPECT_EQ(store_->Show("dev.test.skill").value().version, "1.1.0");
  Result<std::string> now = store_->Rollback("dev.test.skill", "regression");
  ASSERT_TRUE(now.ok()) << now.status().ToString();
  EXPECT_EQ(*now, "1.0.0");
  EXPECT_EQ(StateOf("1.1.0"), State::kRetired);
  EXPECT_EQ(store_->Show("dev.test.skill").value().version, "1.0.0");
  // 1.0.0 names no known-good version of its own.
  EXPECT_EQ(store_->Rollback("dev.test.skill", "again").status().code(),
            StatusCode::kFailedPrecondition);
}

TEST_F(Lifecycle, RollbackRestoresARetiredKnownGood) {
  Install(Version("1.0.0"));
  ASSERT_TRUE(store_->Retire("dev.test.skill", "1.0.0", "superseded").ok());
  Install(Version("2.0.0", {{"rollback", {{"known_good", "1.0.0"}}}}));
  ASSERT_TRUE(store_->Rollback("dev.test.skill", "bad release").ok());
  EXPECT_EQ(StateOf("1.0.0"), State::kInstalled);
  EXPECT_EQ(StateOf("2.0.0"), State::kRetired);
}

TEST_F(Lifecycle, ReplacesRetiresTheOldPackage) {
  Spec old;
  old.id = "dev.test.legacy";
  Install(old);
  InstallResult r = Install(Version(
      "1.0.0",
      {{"dependencies", {{"replaces", {{{"id", "dev.test.legacy"}, {"version", "<2.0.0"}}}}}}}));
  EXPECT_EQ(r.retired, std::vector<std::string>{"dev.test.legacy@1.0.0"});
  EXPECT_EQ(store_->Show("dev.test.legacy").value().state, State::kRetired);
}

TEST_F(Lifecycle, RemoveRefusesWhileRequiredAndCollectsBlobs) {
  Install(Version("1.0.0"));
  Spec user;
  user.id = "dev.test.user";
  user.weights = "specialists/unit.gguf";
  user.eval_set = "eval/keys/unit.jsonl";
  user.patch = {
      {"dependencies", {{"requires", {{{"id", "dev.test.skill"}, {"version", "^1.0.0"}}}}}}};
  Install(user);
  Status refused = store_->Remove("dev.test.skill", "", "cleanup");
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.message().find("dev.test.user@1.0.0 requires"), std::string::npos);
  const std::size_t blobs_before = fixture::Take(*store_).blobs.size();
  ASSERT_TRUE(store_->Remove("dev.test.user", "", "done").ok());
  EXPECT_EQ(fixture::Take(*store_).blobs.size(), blobs_before - 4);  // gguf, jsonl, manifest, sig
  ASSERT_TRUE(store_->Remove("dev.test.skill", "", "done").ok());
  EXPECT_TRUE(fixture::Take(*store_).blobs.empty());
  std::vector<Transition> h = store_->History("dev.test.skill", "1.0.0").value();
  EXPECT_EQ(h.back().to, "removed");
}

TEST_F(Lifecycle, GraphResolvesTheHighestUsableVersion) {
  Install(Version("1.0.0"));
  Install(Version("1.2.0"));
  Spec user;
  user.id = "dev.test.user";
  user.patch = {
      {"dependencies", {{"requires", {{{"id", "dev.test.skill"}, {"version", "^1.0.0"}}}}}}};
  Install(user);
  std::vector<GraphEdge> g = store_->Graph("dev.test.user").value();
  ASSERT_EQ(g.size(), 1u);
  EXPECT_EQ(g[0].resolved, "dev.test.skill@1.2.0");
  ASSERT_TRUE(store_->Suspend("dev.test.skill", "1.2.0", "x").ok());
  EXPECT_EQ(store_->Graph("dev.test.user").value()[0].resolved, "dev.test.skill@1.0.0");
}

TEST_F(Lifecycle, VerifyQuarantinesDamagedBytesAndDoctorReportsThem) {
  Install(Version("1.0.0"));
  const PackageRecord r = store_->Show("dev.test.skill").value();
  const std::string blob = store_->BlobPath(r.artifacts[0].sha256);
  std::vector<std::uint8_t> bytes = fixture::ReadAll(blob);
  bytes[bytes.size() / 2] ^= 0x40;
  ::chmod(blob.c_str(), 0644);
  fixture::WriteAll(blob, bytes);
  std::vector<VerifyResult> v = store_->Verify().value();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_FALSE(v[0].ok);
  EXPECT_NE(v[0].problem.find("now hashes to"), std::string::npos) << v[0].problem;
  EXPECT_EQ(StateOf("1.0.0"), State::kQuarantined);
  EXPECT_EQ(store_->Suspend("dev.test.skill", "1.0.0", "x").code(),
            StatusCode::kFailedPrecondition);
}

TEST_F(Lifecycle, DoctorCleansLeftoversAndQuarantinesMissingBlobs) {
  Install(Version("1.0.0"));
  const std::string home = store_->home();
  ::mkdir((home + "/staging/123-crashed").c_str(), 0755);
  fixture::WriteAll(home + "/staging/123-crashed/package.tpkg", {1, 2, 3});
  fixture::WriteAll(home + "/blobs/sha256/" + std::string(64, 'c'), {4, 5});
  DoctorReport check = store_->Doctor(false, false).value();
  EXPECT_FALSE(check.consistent);
  EXPECT_EQ(check.findings.size(), 2u);
  DoctorReport fixed = store_->Doctor(true, false).value();
  EXPECT_TRUE(fixed.consistent);
  EXPECT_TRUE(store_->Doctor(false, true).value().findings.empty());
  const PackageRecord r = store_->Show("dev.test.skill").value();
  ASSERT_EQ(::remove(store_->BlobPath(r.artifacts[1].sha256).c_str()), 0);
  DoctorReport missing = store_->Doctor(true, false).value();
  ASSERT_EQ(missing.repairs.size(), 1u);
  EXPECT_EQ(StateOf("1.0.0"), State::kQuarantined);
}

// Stores written before ADR 0016 held "resident" and "active" in the index (with a resume state
// of installed or verified). They read as that resume state, are rewritten when the store is
// opened, and neither adds history nor blocks a lifecycle command.
TEST_F(Lifecycle, RuntimeStatesOfAnOlderStoreReadAsTheirResumeState) {
  Install(Version("1.0.0"));
  ASSERT_TRUE(store_->Verify("dev.test.skill", "1.0.0").value().at(0).ok);
  Install(Version("1.1.0", {{"title", "another version"}}));
  const std::string home = store_->home();
  const std::size_t history_10 = store_->History("dev.test.skill", "1.0.0").value().size();
  const std::size_t history_11 = store_->History("dev.test.skill", "1.1.0").value().size();
  store_.reset();
  auto stored = [](Index& index, const std::string& version) {
    Stmt s = index.db()
                 .Prepare("SELECT state || ' ' || resume_state FROM packages WHERE version='" +
                          version + "'")
                 .value();
    EXPECT_TRUE(s.Step().value());
    return s.Text(0);
  };
  {
    // What the old runtime wrote: states, resume states, and its transitions.
    std::unique_ptr<Index> old = Index::Open(home + "/registry.db").value();
    ASSERT_TRUE(old->db()
                    .Exec("UPDATE packages SET state='active', resume_state='verified' WHERE "
                          "version='1.0.0'; UPDATE packages SET state='resident', "
                          "resume_state='installed' WHERE version='1.1.0'")
                    .ok());
    ASSERT_TRUE(
        old->AddTransition({0, "dev.test.skill", "1.0.0", "verified", "resident", 1, "old"}).ok());
    ASSERT_TRUE(
        old->AddTransition({0, "dev.test.skill", "1.0.0", "resident", "active", 2, "old"}).ok());
    EXPECT_EQ(stored(*old, "1.0.0"), "active verified");
    // Read as their resume state even before the store is opened again.
    EXPECT_EQ(old->GetPackage("dev.test.skill", "1.0.0").value()->state, State::kVerified);
    EXPECT_EQ(old->GetPackage("dev.test.skill", "1.1.0").value()->state, State::kInstalled);
  }
  RegistryOptions options;
  options.clock = &clock_;
  store_ = Registry::Open(home, options).value();
  {
    std::unique_ptr<Index> index = Index::Open(home + "/registry.db").value();
    EXPECT_EQ(stored(*index, "1.0.0"), "verified verified");
    EXPECT_EQ(stored(*index, "1.1.0"), "installed installed");
  }
  EXPECT_EQ(StateOf("1.0.0"), State::kVerified);
  EXPECT_EQ(StateOf("1.1.0"), State::kInstalled);
  // The migration added nothing to the history; the old runtime's rows stay as they were.
  EXPECT_EQ(store_->History("dev.test.skill", "1.0.0").value().size(), history_10 + 2);
  EXPECT_EQ(store_->History("dev.test.skill", "1.1.0").value().size(), history_11);
  // No process holds either: lifecycle commands apply as to any verified or installed version.
  EXPECT_TRUE(store_->Suspend("dev.test.skill", "1.1.0", "x").ok());
  EXPECT_TRUE(store_->Remove("dev.test.skill", "1.0.0", "x").ok());
}

TEST_F(Lifecycle, StoreSurvivesReopening) {
  Install(Version("1.0.0"));
  const std::string home = store_->home();
  store_.reset();
  RegistryOptions options;
  options.clock = &clock_;
  std::unique_ptr<Registry> again = Registry::Open(home, options).value();
  EXPECT_EQ(again->List().value().size(), 1u);
  EXPECT_EQ(again->Trust().value().keys.size(), 1u);
}

}  // namespace
}  // namespace tessera::registry
