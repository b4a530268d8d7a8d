// Issue 17, defect 1: an adapter runs on one exact base version, so it cannot be loaded while
// that base is retired, suspended or gone. A replacement that retires a base names the adapters
// it strands; CheckLoadable (what the runtime asks before loading) refuses them naming the base;
// resume refuses them until the base is back; doctor reports them and, on repair, suspends them.
#include <gtest/gtest.h>

#include "registry_fixture.h"

namespace tessera::registry {
namespace {

using fixture::Spec;

class AdapterBase : public ::testing::Test {
 protected:
  void SetUp() override {
    work_ = fixture::TempDir("adapter-base");
    store_ = fixture::OpenStore(work_ + "/home", key_, &clock_);
    ASSERT_NE(store_, nullptr);
    Install(fixture::BaseSpec());
    Spec a;
    a.id = "dev.test.adapters.date";
    a.adapter = true;
    a.weights = "adapters/date.lora.gguf";
    Install(a);
  }

  InstallResult Install(const Spec& spec) {
    Result<InstallResult> r = store_->Install(fixture::Pack(work_, spec, &key_));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : InstallResult{};
  }

  PackageRecord Adapter() { return store_->Show("dev.test.adapters.date", "1.0.0").value(); }

  // A successor base (same weights, another id) that replaces every dev.test.base.
  InstallResult ReplaceBase() {
    Spec next = fixture::BaseSpec();
    next.id = "dev.test.base-next";
    next.patch = {{"dependencies", {{"replaces", {{{"id", "dev.test.base"}, {"version", "*"}}}}}}};
    return Install(next);
  }

  fixture::FakeClock clock_;
  package::PrivateKey key_ = fixture::Key(1);
  std::string work_;
  std::unique_ptr<Registry> store_;
};

TEST_F(AdapterBase, AnAdapterOfAUsableBaseIsLoadable) {
  EXPECT_TRUE(store_->CheckLoadable(Adapter()).ok());
  DoctorReport report = store_->Doctor(false, false).value();
  EXPECT_TRUE(report.consistent);
  EXPECT_TRUE(report.findings.empty());
}

TEST_F(AdapterBase, ReplacingTheBaseStrandsItsAdapters) {
  InstallResult r = ReplaceBase();
  EXPECT_EQ(r.retired, std::vector<std::string>{"dev.test.base@1.0.0"});
  EXPECT_EQ(r.stranded, std::vector<std::string>{"dev.test.adapters.date@1.0.0"});
  const PackageRecord adapter = Adapter();
  EXPECT_EQ(adapter.state, State::kInstalled);  // its own state is untouched
  Status s = store_->CheckLoadable(adapter);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("adapter dev.test.adapters.date@1.0.0 cannot be loaded: its base "
                             "dev.test.base@1.0.0 is retired"),
            std::string::npos)
      << s.ToString();
}

TEST_F(AdapterBase, SuspendedOrRemovedBasesAreRefusedToo) {
  ASSERT_TRUE(store_->Suspend("dev.test.base", "1.0.0", "maintenance").ok());
  Status s = store_->CheckLoadable(Adapter());
  EXPECT_NE(s.message().find("dev.test.base@1.0.0 is suspended"), std::string::npos)
      << s.ToString();
  ASSERT_TRUE(store_->Resume("dev.test.base", "1.0.0", "done").ok());
  EXPECT_TRUE(store_->CheckLoadable(Adapter()).ok());
  // A suspended adapter no longer pins its base, which can then be removed.
  ASSERT_TRUE(store_->Suspend("dev.test.adapters.date", "", "x").ok());
  ASSERT_TRUE(store_->Remove("dev.test.base", "", "x").ok());
  Status resumed = store_->Resume("dev.test.adapters.date", "", "back");
  EXPECT_EQ(resumed.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(resumed.message().find("dev.test.base@1.0.0 is not installed"), std::string::npos)
      << resumed.ToString();
}

TEST_F(AdapterBase, DoctorReportsAndSuspendsAdaptersOfARetiredBase) {
  ReplaceBase();
  DoctorReport check = store_->Doctor(false, false).value();
  EXPECT_FALSE(check.consistent);
  ASSERT_EQ(check.findings.size(), 1u);
  EXPECT_NE(check.findings[0].find("dev.test.adapters.date@1.0.0: its base dev.test.base@1.0.0 "
                                   "is retired"),
            std::string::npos)
      << check.findings[0];
  DoctorReport fixed = store_->Doctor(true, false).value();
  EXPECT_TRUE(fixed.consistent);
  ASSERT_EQ(fixed.repairs.size(), 1u);
  EXPECT_EQ(Adapter().state, State::kSuspended);
  EXPECT_TRUE(store_->Doctor(false, false).value().findings.empty());
  // Back: the base first (the adapter is refused before), then the adapter.
  Status early = store_->Resume("dev.test.adapters.date", "", "x");
  EXPECT_EQ(early.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(early.message().find("resume the base first"), std::string::npos) << early.ToString();
  ASSERT_TRUE(store_->Resume("dev.test.base", "1.0.0", "still needed").ok());
  ASSERT_TRUE(store_->Resume("dev.test.adapters.date", "", "base is back").ok());
  EXPECT_EQ(Adapter().state, State::kInstalled);
  EXPECT_TRUE(store_->CheckLoadable(Adapter()).ok());
}

}  // namespace
}  // namespace tessera::registry
