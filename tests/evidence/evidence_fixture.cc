#include "evidence_fixture.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <vector>

namespace tessera::evidence::fixture {
namespace {

// Removes every directory TempDir made once the process's tests have run, unless one failed:
// then they stay for inspection and their paths are printed.
class TempDirCleanup final : public ::testing::Environment {
 public:
  void Add(const std::string& dir) {
    std::lock_guard<std::mutex> lock(mu_);
    dirs_.push_back(dir);
  }
  void TearDown() override {
    std::lock_guard<std::mutex> lock(mu_);
    const bool failed = ::testing::UnitTest::GetInstance()->Failed();
    for (const std::string& d : dirs_) {
      if (failed) {
        std::fprintf(stderr, "kept for inspection: %s\n", d.c_str());
      } else if (std::system(("rm -rf '" + d + "'").c_str()) != 0) {
        std::fprintf(stderr, "could not remove %s\n", d.c_str());
      }
    }
    dirs_.clear();
  }

 private:
  std::mutex mu_;  // guards dirs_
  std::vector<std::string> dirs_;
};

// Registered before main runs, so gtest calls its TearDown after the last test.
TempDirCleanup* const kCleanup =
    static_cast<TempDirCleanup*>(::testing::AddGlobalTestEnvironment(new TempDirCleanup));

}  // namespace

std::string TempDir(const std::string& name) {
  static std::atomic<int> counter{0};
  const std::string dir = ::testing::TempDir() + "tessera-evidence-" + std::to_string(::getpid()) +
                          "-" + std::to_string(counter++) + "-" + name;
  EXPECT_EQ(std::system(("rm -rf '" + dir + "' && mkdir -p '" + dir + "'").c_str()), 0);
  kCleanup->Add(dir);
  return dir;
}

std::unique_ptr<Ledger> OpenLedger(const std::string& path, const base::Clock* clock) {
  LedgerOptions options;
  options.clock = clock;
  Result<std::unique_ptr<Ledger>> ledger = Ledger::Open(path, options);
  EXPECT_TRUE(ledger.ok()) << ledger.status().ToString();
  if (!ledger.ok()) return nullptr;
  return std::move(ledger).value();
}

void AppendMany(Ledger& ledger, int n) {
  for (int i = 0; i < n; ++i) {
    Result<Record> r = ledger.Append(
        "decision", "req-" + std::to_string(i),
        "{\"i\":" + std::to_string(i) + ",\"note\":\"selected dev.test.date@1.0.0\"}");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
}

std::unique_ptr<sqlite::Db> RawDb(const std::string& path) {
  Result<std::unique_ptr<sqlite::Db>> db = sqlite::Db::Open(path, "test: raw " + path);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  if (!db.ok()) return nullptr;
  return std::move(db).value();
}

void Exec(sqlite::Db& db, const std::string& sql) {
  Status s = db.Exec(sql);
  EXPECT_TRUE(s.ok()) << sql << ": " << s.ToString();
}

}  // namespace tessera::evidence::fixture
