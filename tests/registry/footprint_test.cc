// Footprints the runtime measured, kept with the package (schema version 2), and the upgrade of
// a version-1 index.
#include <gtest/gtest.h>

#include "registry_fixture.h"
#include "sqlite/sqlite_db.h"

namespace tessera::registry {
namespace {

class Footprints : public ::testing::Test {
 protected:
  void SetUp() override {
    work_ = fixture::TempDir("footprints");
    store_ = fixture::OpenStore(work_ + "/home", key_, &clock_);
    ASSERT_NE(store_, nullptr);
    Result<InstallResult> r = store_->Install(fixture::Pack(work_, fixture::Spec{}, &key_));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    for (const ArtifactRecord& a : r->record.artifacts) {
      if (a.role == "weights") sha_ = a.sha256;
    }
  }
  fixture::FakeClock clock_;
  package::PrivateKey key_ = fixture::Key(3);
  std::string work_, sha_;
  std::unique_ptr<Registry> store_;
};

TEST_F(Footprints, AreKeptPerVersionAndBytes) {
  const std::string id = "dev.test.skills.date";
  EXPECT_FALSE(store_->LoadFootprint(id, "1.0.0", sha_).value().has_value());
  ASSERT_TRUE(store_->RecordFootprint(id, "1.0.0", sha_, "{\"x\":1}").ok());
  EXPECT_EQ(store_->LoadFootprint(id, "1.0.0", sha_).value(), "{\"x\":1}");
  ASSERT_TRUE(store_->RecordFootprint(id, "1.0.0", sha_, "{\"x\":2}").ok());  // replaced
  EXPECT_EQ(store_->LoadFootprint(id, "1.0.0", sha_).value(), "{\"x\":2}");
  // Measured on other bytes: not this package's.
  EXPECT_FALSE(store_->LoadFootprint(id, "1.0.0", std::string(64, '0')).value().has_value());
  // It goes with the package.
  ASSERT_TRUE(store_->Remove(id, "1.0.0", "test").ok());
  EXPECT_FALSE(store_->LoadFootprint(id, "1.0.0", sha_).value().has_value());
}

TEST_F(Footprints, AVersionOneIndexIsUpgraded) {
  store_.reset();
  const std::string db_path = work_ + "/home/registry.db";
  {
    Result<std::unique_ptr<sqlite::Db>> db =
        sqlite::Db::Open(db_path, "registry: index " + db_path);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec("DROP TABLE footprints; PRAGMA user_version=1").ok());
  }
  Result<std::unique_ptr<Registry>> again = Registry::Open(work_ + "/home");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ((*again)->List().value().size(), 1u);
  EXPECT_TRUE((*again)->RecordFootprint("dev.test.skills.date", "1.0.0", sha_, "{}").ok());
}

}  // namespace
}  // namespace tessera::registry
