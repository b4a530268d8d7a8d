// Several writers at once: threads with their own Ledger (their own SQLite connections, as
// separate processes would have) and threads sharing one Ledger. The chain never forks or skips.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <thread>
#include <vector>

#include "evidence/ledger.h"
#include "evidence_fixture.h"

namespace tessera::evidence {
namespace {

// "<letter><writer>-<i>". (Built by appending: GCC 12 warns falsely on a chain of operator+.)
std::string Subject(char letter, int writer, int i) {
  std::string subject(1, letter);
  subject += std::to_string(writer);
  subject += '-';
  subject += std::to_string(i);
  return subject;
}

// Counts the records per subject prefix ("t2-17" -> "t2") and checks that each writer's records
// appear in the order it appended them.
void ExpectEveryWriterInOrder(Ledger& ledger, int writers, int per_writer) {
  std::map<std::string, int> next;
  Status s = ledger.Export(0, [&](const Record& r) {
    const std::size_t dash = r.subject.find('-');
    const std::string writer = r.subject.substr(0, dash);
    const int i = std::stoi(r.subject.substr(dash + 1));
    EXPECT_EQ(i, next[writer]) << r.subject;
    next[writer] = i + 1;
    return Status();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(next.size(), static_cast<std::size_t>(writers));
  for (const auto& [writer, count] : next) EXPECT_EQ(count, per_writer) << writer;
}

TEST(ConcurrencyTest, FourThreadsWithTheirOwnLedgerSerialise) {
  constexpr int kThreads = 4;
  constexpr int kEach = 200;
  const std::string path = LedgerPath(fixture::TempDir("threads"));
  fixture::FakeClock clock;
  std::vector<std::thread> threads;
  std::vector<Status> failures(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      LedgerOptions options;
      options.clock = &clock;
      Result<std::unique_ptr<Ledger>> ledger = Ledger::Open(path, options);
      if (!ledger.ok()) {
        failures[t] = ledger.status();
        return;
      }
      for (int i = 0; i < kEach; ++i) {
        const std::string subject = Subject('t', t, i);
        Result<Record> r =
            (*ledger)->Append("decision", subject, "{\"thread\":" + std::to_string(t) + "}");
        if (!r.ok()) {
          failures[t] = r.status();
          return;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (const Status& s : failures) EXPECT_TRUE(s.ok()) << s.ToString();
  std::unique_ptr<Ledger> ledger = fixture::OpenLedger(path, &clock);
  ASSERT_NE(ledger, nullptr);
  Result<VerifyReport> report = ledger->Verify();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->ok) << report->problem;
  EXPECT_EQ(report->records, kThreads * kEach);
  EXPECT_EQ(report->first_seq, 1);
  EXPECT_EQ(report->last_seq, kThreads * kEach);
  ExpectEveryWriterInOrder(*ledger, kThreads, kEach);
}

TEST(ConcurrencyTest, ThreadsMayShareOneLedger) {
  constexpr int kThreads = 2;
  constexpr int kEach = 100;
  fixture::FakeClock clock;
  std::unique_ptr<Ledger> ledger =
      fixture::OpenLedger(LedgerPath(fixture::TempDir("shared")), &clock);
  ASSERT_NE(ledger, nullptr);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        const std::string subject = Subject('s', t, i);
        Result<Record> r = ledger->Append("decision", subject, "{}");
        EXPECT_TRUE(r.ok()) << r.status().ToString();
        if (i % 25 == 0) {
          EXPECT_TRUE(ledger->Verify().ok());  // readers interleave
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  Result<VerifyReport> report = ledger->Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->problem;
  EXPECT_EQ(report->records, kThreads * kEach);
  ExpectEveryWriterInOrder(*ledger, kThreads, kEach);
}

TEST(ConcurrencyTest, AWriterWaitingPastTheBusyTimeoutIsUnavailable) {
  const std::string path = LedgerPath(fixture::TempDir("busy"));
  fixture::FakeClock clock;
  LedgerOptions options;
  options.clock = &clock;
  options.busy_timeout_ms = 50;
  std::unique_ptr<Ledger> ledger = Ledger::Open(path, options).value();
  ASSERT_TRUE(ledger->Append("decision", "before", "{}").ok());
  std::unique_ptr<sqlite::Db> raw = fixture::RawDb(path);
  ASSERT_NE(raw, nullptr);
  fixture::Exec(*raw, "BEGIN IMMEDIATE");  // another writer holds the lock
  Result<Record> blocked = ledger->Append("decision", "blocked", "{}");
  EXPECT_EQ(blocked.status().code(), StatusCode::kUnavailable) << blocked.status().ToString();
  fixture::Exec(*raw, "ROLLBACK");
  Result<Record> after = ledger->Append("decision", "after", "{}");
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->seq, 2);
  EXPECT_TRUE(ledger->Verify().value().ok);
}

}  // namespace
}  // namespace tessera::evidence
