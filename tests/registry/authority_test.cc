// Issue 17, defect 1: a trust decision covers every id a manifest acts on. A package may replace
// (retire at promotion) or conflict with only ids its signer is trusted for (an unsigned package:
// only ids the unsigned allow-list covers); requirements and adapter bases may name any id. A
// version retired by a replacement can be resumed, and installing its bytes again says so.
#include <gtest/gtest.h>

#include "registry_fixture.h"

namespace tessera::registry {
namespace {

using fixture::Spec;

class Authority : public ::testing::Test {
 protected:
  void SetUp() override {
    work_ = fixture::TempDir("authority");
    store_ = fixture::OpenStore(work_ + "/home", tester_, &clock_);  // tester: dev.test.
    ASSERT_NE(store_, nullptr);
    ASSERT_TRUE(store_->TrustAdd({"xkey", xkey_.public_key(), {"dev.x."}, {"*"}, {}}).ok());
    ASSERT_TRUE(store_->TrustAdd({"ykey", ykey_.public_key(), {"dev.y."}, {"*"}, {}}).ok());
    ASSERT_TRUE(store_->TrustUnsigned({"dev.x.unsigned."}).ok());
  }

  static Spec Named(const std::string& id, nlohmann::json patch = nlohmann::json::object(),
                    const std::string& version = "1.0.0") {
    Spec s;
    s.id = id;
    s.version = version;
    s.patch = std::move(patch);
    return s;
  }

  static nlohmann::json Replaces(const std::string& id) {
    return {{"dependencies", {{"replaces", {{{"id", id}, {"version", "*"}}}}}}};
  }

  InstallResult Install(const Spec& spec, const package::PrivateKey* key) {
    Result<InstallResult> r = store_->Install(fixture::Pack(work_, spec, key));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : InstallResult{};
  }

  // The install of `spec` is refused at the signature step naming every needle, and the store
  // is unchanged but for one more quarantine record.
  void ExpectRefused(const Spec& spec, const package::PrivateKey* key,
                     const std::vector<std::string>& needles) {
    const fixture::Snapshot before = fixture::Take(*store_);
    Result<InstallResult> r = store_->Install(fixture::Pack(work_, spec, key));
    ASSERT_FALSE(r.ok()) << spec.id << " was installed";
    EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied) << r.status().ToString();
    EXPECT_NE(r.status().message().find(": signature: "), std::string::npos)
        << r.status().ToString();
    for (const std::string& needle : needles) {
      EXPECT_NE(r.status().message().find(needle), std::string::npos)
          << "\"" << needle << "\" not in " << r.status().ToString();
    }
    fixture::Snapshot after = fixture::Take(*store_);
    EXPECT_EQ(after.quarantine, before.quarantine + 1);
    after.quarantine = before.quarantine;
    EXPECT_EQ(after, before) << fixture::Describe(before) << "\n" << fixture::Describe(after);
  }

  State StateOf(const std::string& id, const std::string& version = "1.0.0") {
    return store_->Show(id, version).value().state;
  }

  fixture::FakeClock clock_;
  package::PrivateKey tester_ = fixture::Key(1);
  package::PrivateKey xkey_ = fixture::Key(5);
  package::PrivateKey ykey_ = fixture::Key(6);
  std::string work_;
  std::unique_ptr<Registry> store_;
};

TEST_F(Authority, UnsignedPackageMayNotReplaceAnotherNamespace) {
  Install(Named("dev.test.victim"), &tester_);
  ExpectRefused(Named("dev.x.unsigned.evil", Replaces("dev.test.victim")), nullptr,
                {"(unsigned)", "may not replace package id \"dev.test.victim\"", "dev.x.unsigned."});
  EXPECT_EQ(StateOf("dev.test.victim"), State::kInstalled);
}

TEST_F(Authority, UnsignedPackageMayNotReplaceOutsideTheAllowList) {
  // dev.x. is trusted for keys, but the unsigned list covers only dev.x.unsigned.
  Install(Named("dev.x.signed"), &xkey_);
  ExpectRefused(Named("dev.x.unsigned.evil", Replaces("dev.x.signed")), nullptr,
                {"may not replace package id \"dev.x.signed\""});
  EXPECT_EQ(StateOf("dev.x.signed"), State::kInstalled);
}

TEST_F(Authority, KeyTrustedForOneNamespaceMayNotReplaceAnother) {
  Install(Named("dev.y.victim"), &ykey_);
  ExpectRefused(Named("dev.x.evil", Replaces("dev.y.victim")), &xkey_,
                {"key \"xkey\" may not replace package id \"dev.y.victim\"", "dev.x."});
  EXPECT_EQ(StateOf("dev.y.victim"), State::kInstalled);
}

TEST_F(Authority, ReplacingAnIdThatIsNotInstalledIsRefusedToo) {
  // The decision is about authority, not about what happens to be installed now.
  ExpectRefused(Named("dev.x.evil", Replaces("dev.y.later")), &xkey_, {"dev.y.later"});
}

TEST_F(Authority, ConflictWithAnotherNamespaceIsRefused) {
  ExpectRefused(Named("dev.x.evil",
                      {{"dependencies", {{"conflicts", {{{"id", "dev.y.victim"}, {"version", "*"}}}}}}}),
                &xkey_, {"key \"xkey\" may not declare a conflict with package id \"dev.y.victim\""});
  // Had it been admitted, it would now refuse every version of dev.y.victim.
  Install(Named("dev.y.victim"), &ykey_);
}

TEST_F(Authority, ReplaceWithinTheSignersNamespaceStillWorks) {
  Install(Named("dev.x.old"), &xkey_);
  InstallResult r = Install(Named("dev.x.new", Replaces("dev.x.old")), &xkey_);
  EXPECT_EQ(r.retired, std::vector<std::string>{"dev.x.old@1.0.0"});
  EXPECT_EQ(StateOf("dev.x.old"), State::kRetired);
  // An unsigned package replaces within the unsigned allow-list.
  Install(Named("dev.x.unsigned.a"), nullptr);
  r = Install(Named("dev.x.unsigned.b", Replaces("dev.x.unsigned.a")), nullptr);
  EXPECT_EQ(r.retired, std::vector<std::string>{"dev.x.unsigned.a@1.0.0"});
}

TEST_F(Authority, KeyTrustedForTheExactIdMayReplaceItAcrossNamespaces) {
  Install(Named("dev.y.victim"), &ykey_);
  const package::PrivateKey vendor = fixture::Key(7);
  ASSERT_TRUE(
      store_->TrustAdd({"vendor", vendor.public_key(), {"dev.x.", "dev.y.victim"}, {"*"}, {}}).ok());
  InstallResult r = Install(Named("dev.x.successor", Replaces("dev.y.victim")), &vendor);
  EXPECT_EQ(r.retired, std::vector<std::string>{"dev.y.victim@1.0.0"});
}

TEST_F(Authority, RequirementsMayNameAnyNamespace) {
  Install(Named("dev.y.lib"), &ykey_);
  Install(Named("dev.x.unsigned.user",
                {{"dependencies", {{"requires", {{{"id", "dev.y.lib"}, {"version", "^1.0.0"}}}}}}}),
          nullptr);
  EXPECT_EQ(StateOf("dev.y.lib"), State::kInstalled);
  // Its one effect on dev.y.lib: it cannot be removed from under its dependent.
  Status refused = store_->Remove("dev.y.lib", "", "x");
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.message().find("dev.x.unsigned.user@1.0.0 requires"), std::string::npos);
}

TEST_F(Authority, ARetiredVersionCanBeResumedAndReinstallingItSaysSo) {
  const std::string old_file = fixture::Pack(work_, Named("dev.x.old"), &xkey_);
  ASSERT_TRUE(store_->Install(old_file).ok());
  ASSERT_TRUE(store_->Verify("dev.x.old").ok());
  Install(Named("dev.x.new", Replaces("dev.x.old")), &xkey_);
  ASSERT_EQ(StateOf("dev.x.old"), State::kRetired);
  // Installing the same bytes again changes nothing, and reports the retired state.
  Result<InstallResult> again = store_->Install(old_file);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->already_installed);
  EXPECT_EQ(again->record.state, State::kRetired);
  // Resume returns it to the state it had before it was replaced.
  ASSERT_TRUE(store_->Resume("dev.x.old", "", "replaced by mistake").ok());
  EXPECT_EQ(StateOf("dev.x.old"), State::kVerified);
  std::vector<Transition> h = store_->History("dev.x.old", "1.0.0").value();
  EXPECT_EQ(h.back().from, "retired");
  EXPECT_EQ(h.back().reason, "replaced by mistake");
}

}  // namespace
}  // namespace tessera::registry
