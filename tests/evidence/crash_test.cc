// kill -9 during appends: a child process (fork) appends in a loop and is killed with SIGKILL
// after a seeded random number of microseconds; the ledger must then verify, hold at least one
// more record than before, and accept appends again. Rounds alternate kNormal and kFull.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <string>
#include <thread>

#include "evidence/ledger.h"
#include "evidence_fixture.h"

namespace tessera::evidence {
namespace {

// The child: appends ~1 KB records forever; after the first one has committed it writes one
// byte to `ready_fd`. Exits 3 on any error.
[[noreturn]] void AppendForever(const std::string& path, SyncMode sync, int ready_fd) {
  LedgerOptions options;
  options.sync = sync;
  Result<std::unique_ptr<Ledger>> ledger = Ledger::Open(path, options);
  if (!ledger.ok()) ::_exit(3);
  const std::string body =
      "{\"pad\":\"" + std::string(1000, 'p') + "\",\"pid\":" + std::to_string(::getpid()) + "}";
  for (long i = 0;; ++i) {
    if (!(*ledger)->Append("decision", "crash-" + std::to_string(i), body).ok()) ::_exit(3);
    if (i == 0) {
      const char byte = 1;
      if (::write(ready_fd, &byte, 1) != 1) ::_exit(3);
    }
  }
}

TEST(CrashTest, KillNineDuringAppendsLeavesAChainThatVerifies) {
  constexpr int kRounds = 24;
  const std::string path = LedgerPath(fixture::TempDir("crash"));
  std::mt19937 rng(20261126);
  std::uniform_int_distribution<int> delay_us(0, 4000);
  std::int64_t last_count = 0;
  for (int round = 0; round < kRounds; ++round) {
    const SyncMode sync = round % 2 == 0 ? SyncMode::kNormal : SyncMode::kFull;
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      AppendForever(path, sync, fds[1]);
    }
    ::close(fds[1]);
    // Wait (30 s at most) until the child's first append has committed, then let it run on.
    pollfd ready{fds[0], POLLIN, 0};
    const int polled = ::poll(&ready, 1, 30000);
    char byte = 0;
    const bool started = polled == 1 && ::read(fds[0], &byte, 1) == 1;
    const int wait_us = delay_us(rng);
    if (started) std::this_thread::sleep_for(std::chrono::microseconds(wait_us));
    ::kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ::close(fds[0]);
    ASSERT_TRUE(started) << "round " << round << ": the child did not append (status " << status
                         << ")";
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "round " << round << ": the child ended by itself, status " << status;

    Result<std::unique_ptr<Ledger>> ledger = Ledger::Open(path);
    ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
    Result<VerifyReport> report = (*ledger)->Verify();
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    ASSERT_TRUE(report->ok) << "round " << round << " (killed after " << wait_us
                            << " us): " << report->problem;
    EXPECT_GT(report->records, last_count) << "round " << round;
    last_count = report->records;
  }
  Result<std::unique_ptr<Ledger>> ledger = Ledger::Open(path);
  ASSERT_TRUE(ledger.ok());
  Result<Record> after = (*ledger)->Append("decision", "after-the-crashes", "{}");
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->seq, last_count + 1);
  Result<VerifyReport> report = (*ledger)->Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->problem;
  EXPECT_EQ(report->records, last_count + 1);
}

}  // namespace
}  // namespace tessera::evidence
