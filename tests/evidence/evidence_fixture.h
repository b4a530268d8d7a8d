// Test support for the evidence ledger: a settable fake clock, temporary directories removed
// after a passing run, a raw SQLite connection for tampering, and small record helpers.
#ifndef TESSERA_TESTS_EVIDENCE_EVIDENCE_FIXTURE_H_
#define TESSERA_TESTS_EVIDENCE_EVIDENCE_FIXTURE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "base/clock.h"
#include "evidence/ledger.h"
#include "sqlite/sqlite_db.h"

namespace tessera::evidence::fixture {

// Each reading returns the current time, then moves it on by step_ms. Thread-safe.
class FakeClock final : public base::Clock {
 public:
  explicit FakeClock(std::int64_t start_ms = 1'790'000'000'000, std::int64_t step_ms = 1000)
      : now_(start_ms), step_(step_ms) {}
  std::int64_t NowUnixMillis() const override { return now_.fetch_add(step_); }
  void Set(std::int64_t now_ms) { now_.store(now_ms); }

 private:
  mutable std::atomic<std::int64_t> now_;
  const std::int64_t step_;
};

// A new empty directory under the test temp dir, unique per call; removed after the process's
// last test unless a test failed.
std::string TempDir(const std::string& name);

// Opens the ledger at `path` on `clock`; aborts the test (returns null) on failure.
std::unique_ptr<Ledger> OpenLedger(const std::string& path, const base::Clock* clock);

// Appends `n` records of kind "decision", subjects "req-<i>", bodies {"i":<i>,"note":"..."}.
void AppendMany(Ledger& ledger, int n);

// A raw connection to the ledger's file, for tampering.
std::unique_ptr<sqlite::Db> RawDb(const std::string& path);

// Runs SQL on the raw connection and expects it to succeed.
void Exec(sqlite::Db& db, const std::string& sql);

}  // namespace tessera::evidence::fixture

#endif  // TESSERA_TESTS_EVIDENCE_EVIDENCE_FIXTURE_H_
