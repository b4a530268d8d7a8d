// kill -9 at every point of an install and of a remove. A child process (fork) opens the store
// with a FileEnv that sends itself a genuine SIGKILL at its N-th mutating file operation: before
// the operation runs, and for a write also after half of its bytes landed (a torn write)
// (fault::KillingFileEnv, tests/base/faulty_file_env.h). An install's operations include the
// store's lock file and the unpacking of the package into staging/. N runs over every operation
// of a clean run, plus one past the last (the child then exits normally).
// The parent reaps the child, checks that it died by SIGKILL (or exited 0), opens the store and
// checks that it holds the old state or the new one: the packages are exactly one or the other;
// apart from that only leftovers differ (unreferenced blobs the call wrote, staging/), which
// Doctor(repair) removes so that the snapshot then equals that state exactly; a rehashing
// Doctor finds nothing; Verify passes; and retrying the call succeeds. The same for a refusal
// (an untrusted package), whose new state is one more quarantine record.
//
// A black-box version spawns the real `tessera install` and SIGKILLs it after seeded random
// delays (10 trials, each bounded by the duration of one clean run), then checks the same way.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "../base/faulty_file_env.h"
#include "registry_fixture.h"

extern char** environ;

namespace tessera::registry {
namespace {

using fixture::Snapshot;

using fault::KillingFileEnv;

// A leftover blob file the call may have written: a blob of either state, or a temporary file of
// one ("<hex>.tmp-<16 hex digits>", base::AtomicFile).
bool WrittenByTheCall(const std::string& name, const Snapshot& before, const Snapshot& after) {
  const std::string blob = name.substr(0, name.find(".tmp-"));
  for (const std::vector<std::string>* blobs : {&before.blobs, &after.blobs}) {
    if (std::binary_search(blobs->begin(), blobs->end(), blob)) return true;
  }
  return false;
}

std::vector<std::string> Names(const Snapshot& s) {
  std::vector<std::string> out;
  for (const std::string& p : s.packages) out.push_back(p.substr(0, p.find(' ')));
  return out;
}

std::string DescribeWait(int status) {
  if (WIFEXITED(status)) return "exited " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

using Call = std::function<Status(Registry&)>;
using Retry = std::function<Status(Registry&, bool is_new)>;

Call InstallOf(const std::string& file) {
  return [file](Registry& store) -> Status {
    Result<InstallResult> r = store.Install(file);
    if (r.ok() && r->already_installed) return Status(StatusCode::kInternal, "already installed");
    return r.ok() ? Status() : r.status();
  };
}

// After an install was interrupted: install again (already installed when it was done).
Retry RetryInstallOf(const std::string& file) {
  return [file](Registry& store, bool is_new) -> Status {
    Result<InstallResult> r = store.Install(file);
    if (!r.ok()) return r.status();
    if (r->already_installed != is_new) {
      return Status(StatusCode::kInternal,
                    is_new ? "installed twice" : "already installed after a crash before commit");
    }
    return Status();
  };
}

Status RemoveB(Registry& store) { return store.Remove("dev.test.b", "1.0.0", "test"); }

// After a remove of B was interrupted: remove it again (not found when it was done).
Status RetryRemove(Registry& store, bool is_new) {
  Status s = store.Remove("dev.test.b", "1.0.0", "retry");
  if (is_new && s.code() != StatusCode::kNotFound) {
    return Status(StatusCode::kInternal, "removing a removed package: " + s.ToString());
  }
  return is_new ? Status() : s;
}

// Opens the store at `home` after an interrupted call and checks it (see the file comment).
// Sets *is_new to whether it holds the `after` state.
void CheckAfterCrash(const std::string& home, const Snapshot& before, const Snapshot& after,
                     const Retry& retry, bool* is_new) {
  fixture::FakeClock clock;
  RegistryOptions options;
  options.clock = &clock;
  Result<std::unique_ptr<Registry>> opened = Registry::Open(home, options);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  Registry& store = **opened;
  const Snapshot seen = fixture::Take(store);
  *is_new = seen.packages == after.packages && seen.quarantine == after.quarantine;
  ASSERT_TRUE(*is_new || (seen.packages == before.packages && seen.quarantine == before.quarantine))
      << "neither the old state (" << fixture::Describe(before) << ") nor the new ("
      << fixture::Describe(after) << "): " << fixture::Describe(seen);
  const Snapshot& expected = *is_new ? after : before;
  for (const std::string& b : expected.blobs) {
    EXPECT_TRUE(std::binary_search(seen.blobs.begin(), seen.blobs.end(), b))
        << "blob " << b << " of the " << (*is_new ? "new" : "old") << " state is missing";
  }
  for (const std::string& b : seen.blobs) {
    EXPECT_TRUE(WrittenByTheCall(b, before, after))
        << "blobs/sha256/" << b << " was not written by the call";
  }
  Result<DoctorReport> repaired = store.Doctor(/*repair=*/true, /*rehash=*/false);
  ASSERT_TRUE(repaired.ok()) << repaired.status().ToString();
  EXPECT_TRUE(repaired->consistent);
  const Snapshot clean = fixture::Take(store);
  EXPECT_EQ(clean, expected) << "after Doctor(repair): " << fixture::Describe(clean)
                             << "\nexpected: " << fixture::Describe(expected);
  Result<std::vector<QuarantineRecord>> records = store.QuarantineList();
  ASSERT_TRUE(records.ok()) << records.status().ToString();
  std::set<std::string> named, present;
  for (const QuarantineRecord& q : *records) {
    if (!q.path.empty()) named.insert(q.path);
  }
  for (const auto& entry : std::filesystem::directory_iterator(home + "/quarantine")) {
    present.insert("quarantine/" + entry.path().filename().string());
  }
  EXPECT_EQ(present, named) << "quarantine/ after Doctor(repair)";
  Result<DoctorReport> check = store.Doctor(/*repair=*/false, /*rehash=*/true);
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  EXPECT_TRUE(check->consistent);
  EXPECT_TRUE(check->findings.empty()) << check->findings.front();
  Result<std::vector<VerifyResult>> verified = store.Verify();
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_EQ(verified->size(), expected.packages.size());
  for (const VerifyResult& v : *verified) EXPECT_TRUE(v.ok) << v.package << ": " << v.problem;
  Status again = retry(store, *is_new);
  EXPECT_TRUE(again.ok()) << "retry: " << again.ToString();
  const Snapshot end = fixture::Take(store);
  EXPECT_EQ(Names(end), Names(after)) << fixture::Describe(end);
  EXPECT_EQ(end.blobs, after.blobs) << fixture::Describe(end);
  EXPECT_TRUE(end.staging.empty()) << fixture::Describe(end);
}

class CrashTest : public ::testing::Test {
 protected:
  // Packs A (specialists/date.gguf) and B (specialists/reverse.gguf, sharing A's eval set) and
  // builds the template stores holding A and A+B with their snapshots.
  static void SetUpTestSuite() {
    work_ = fixture::TempDir("crash");
    const package::PrivateKey key = fixture::Key(7);
    fixture::Spec a;
    a.id = "dev.test.a";
    fixture::Spec b;
    b.id = "dev.test.b";
    b.weights = "specialists/reverse.gguf";
    a_file_ = fixture::Pack(work_, a, &key);
    b_file_ = fixture::Pack(work_, b, &key);
    with_a_ = work_ + "/with-a";
    with_ab_ = work_ + "/with-ab";
    fixture::FakeClock clock;
    {
      std::unique_ptr<Registry> store = fixture::OpenStore(with_a_, key, &clock);
      ASSERT_NE(store, nullptr);
      Result<InstallResult> r = store->Install(a_file_);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      snap_a_ = fixture::Take(*store);
    }
    std::filesystem::copy(with_a_, with_ab_, std::filesystem::copy_options::recursive);
    std::unique_ptr<Registry> store = fixture::OpenStore(with_ab_, key, &clock);
    ASSERT_NE(store, nullptr);
    Result<InstallResult> r = store->Install(b_file_);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    snap_ab_ = fixture::Take(*store);
  }

  static void TearDownTestSuite() { std::filesystem::remove_all(work_); }

  void SetUp() override {
    ASSERT_EQ(snap_a_.packages.size(), 1u) << fixture::Describe(snap_a_);
    ASSERT_EQ(snap_ab_.packages.size(), 2u) << fixture::Describe(snap_ab_);
  }

  static std::string Fresh(const std::string& from, const std::string& name) {
    const std::string home = work_ + "/" + name;
    std::filesystem::remove_all(home);
    std::filesystem::copy(from, home, std::filesystem::copy_options::recursive);
    return home;
  }

  // Runs `call` on the store at `home` in a child process killed at operation `kill_at` (0:
  // never). Returns the child's wait status; with kill_at 0, *writes gets which of the child's
  // operations were writes.
  static int RunChild(const std::string& home, int kill_at, bool torn, const Call& call,
                      std::vector<bool>* writes) {
    int pipe_fds[2];
    if (::pipe(pipe_fds) != 0) return -1;
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::close(pipe_fds[0]);
      fixture::FakeClock clock;
      KillingFileEnv env(kill_at, torn);
      RegistryOptions options;
      options.clock = &clock;
      options.env = &env;
      Result<std::unique_ptr<Registry>> store = Registry::Open(home, options);
      if (!store.ok()) ::_exit(2);
      env.Arm();
      Status s = call(**store);
      if (!s.ok()) std::fprintf(stderr, "child: %s\n", s.ToString().c_str());
      for (bool w : env.writes()) {
        const char c = w ? 'w' : '.';
        if (::write(pipe_fds[1], &c, 1) != 1) ::_exit(3);
      }
      ::_exit(s.ok() ? 0 : 1);
    }
    ::close(pipe_fds[1]);
    std::string ops;
    char buffer[256];
    for (ssize_t n; (n = ::read(pipe_fds[0], buffer, sizeof buffer)) != 0;) {
      if (n > 0) ops.append(buffer, static_cast<std::size_t>(n));
      if (n < 0 && errno != EINTR) break;
    }
    ::close(pipe_fds[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (writes != nullptr) {
      writes->clear();
      for (char c : ops) writes->push_back(c == 'w');
    }
    return status;
  }

  // Kills a child running `call` on a fresh copy of `from` at every operation (and mid-way
  // through every write), checking the store after each.
  static void KillEverywhere(const char* what, const std::string& from, const Snapshot& before,
                             const Snapshot& after, const Call& call, const Retry& retry) {
    const auto start = std::chrono::steady_clock::now();
    std::vector<bool> writes;
    {
      const std::string home = Fresh(from, "clean");
      const int status = RunChild(home, 0, false, call, &writes);
      ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << DescribeWait(status);
      bool is_new = false;
      CheckAfterCrash(home, before, after, retry, &is_new);
      EXPECT_TRUE(is_new) << "a clean " << what << " did not reach the new state";
    }
    ASSERT_FALSE(writes.empty()) << what << " did no file operation through the env";
    const ::testing::TestResult& result =
        *::testing::UnitTest::GetInstance()->current_test_info()->result();
    const int count = static_cast<int>(writes.size());
    int runs = 0, ended_new = 0, failed_runs = 0;
    for (int n = 1; n <= count + 1; ++n) {
      for (bool torn : {false, true}) {
        if (torn && (n > count || !writes[n - 1])) continue;
        const int parts_before = result.total_part_count();
        SCOPED_TRACE(std::string(what) + ": killed at operation " + std::to_string(n) + " of " +
                     std::to_string(count) + (torn ? " (torn write)" : ""));
        const std::string home = Fresh(from, "trial");
        const int status = RunChild(home, n, torn, call, nullptr);
        if (n <= count) {
          EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << DescribeWait(status);
        } else {
          EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << DescribeWait(status);
        }
        bool is_new = false;
        CheckAfterCrash(home, before, after, retry, &is_new);
        ++runs;
        ended_new += is_new;
        std::filesystem::remove_all(home);
        if (result.total_part_count() != parts_before && ++failed_runs == 5) {
          ADD_FAILURE() << "stopping after 5 failing runs";
          return;
        }
      }
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf(
        "[   info   ] %s: %d operations, %d killed runs (%d ended in the new state) in "
        "%.1f s\n",
        what, count, runs, ended_new, seconds);
  }

  static inline std::string work_, a_file_, b_file_, with_a_, with_ab_;
  static inline Snapshot snap_a_, snap_ab_;
};

TEST_F(CrashTest, KillDuringInstallLeavesOldOrNewState) {
  KillEverywhere("install B", with_a_, snap_a_, snap_ab_, InstallOf(b_file_),
                 RetryInstallOf(b_file_));
}

TEST_F(CrashTest, KillDuringRemoveLeavesOldOrNewState) {
  KillEverywhere("remove B", with_ab_, snap_ab_, snap_a_, RemoveB, RetryRemove);
}

// A refusal (U is signed by an untrusted key) keeps the file in quarantine/ with a record: a
// kill leaves no record, or the record; a copy without a record is removed by Doctor.
TEST_F(CrashTest, KillDuringRefusalLeavesOldOrNewState) {
  const package::PrivateKey stranger = fixture::Key(9);
  fixture::Spec u;
  u.id = "dev.test.u";
  u.weights = "specialists/unit.gguf";
  const std::string u_file = fixture::Pack(work_, u, &stranger);
  auto refuse = [u_file](Registry& store) -> Status {
    Result<InstallResult> r = store.Install(u_file);
    if (r.ok()) return Status(StatusCode::kInternal, "an untrusted package was installed");
    return r.status().code() == StatusCode::kPermissionDenied ? Status() : r.status();
  };
  Snapshot refused = snap_a_;
  refused.quarantine = 1;
  KillEverywhere("refusal of U", with_a_, snap_a_, refused, refuse,
                 [refuse](Registry& store, bool) { return refuse(store); });
}

// Spawns `tessera install <b> --home <home>` and, when delay >= 0, SIGKILLs it after `delay`.
// Returns the wait status.
int RunCli(const std::string& cli, const std::string& package, const std::string& home,
           std::chrono::microseconds delay) {
  std::vector<std::string> args = {cli, "install", package, "--home", home};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    ADD_FAILURE() << "cannot spawn " << cli << ": " << std::strerror(rc);
    return -1;
  }
  if (delay.count() >= 0) {
    // The one real-time wait in these tests: the black box offers no other point to kill at.
    std::this_thread::sleep_for(delay);
    ::kill(pid, SIGKILL);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

TEST_F(CrashTest, KilledCliInstallLeavesOldOrNewState) {
  const std::string cli = std::string(TESSERA_BINARY_DIR) + "/bin/tessera";
  ASSERT_EQ(::access(cli.c_str(), X_OK), 0) << cli << " is missing: build the tessera_cli target";
  const auto start = std::chrono::steady_clock::now();
  // A clean run bounds the kill times.
  const std::string clean = Fresh(with_a_, "cli-clean");
  const auto clean_start = std::chrono::steady_clock::now();
  const int clean_status = RunCli(cli, b_file_, clean, std::chrono::microseconds(-1));
  const auto took = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - clean_start);
  ASSERT_TRUE(WIFEXITED(clean_status) && WEXITSTATUS(clean_status) == 0)
      << DescribeWait(clean_status);
  bool is_new = false;
  const Retry retry = RetryInstallOf(b_file_);
  CheckAfterCrash(clean, snap_a_, snap_ab_, retry, &is_new);
  ASSERT_TRUE(is_new);

  std::mt19937 rng(20240917);
  std::uniform_int_distribution<std::int64_t> delay_us(0, took.count() + took.count() / 5);
  int killed = 0, ended_new = 0;
  for (int trial = 0; trial < 10; ++trial) {
    const std::chrono::microseconds delay(delay_us(rng));
    SCOPED_TRACE("trial " + std::to_string(trial) + ": SIGKILL after " +
                 std::to_string(delay.count()) + " us of a " + std::to_string(took.count()) +
                 " us install");
    const std::string home = Fresh(with_a_, "cli-trial");
    const int status = RunCli(cli, b_file_, home, delay);
    if (WIFSIGNALED(status)) {
      EXPECT_EQ(WTERMSIG(status), SIGKILL) << DescribeWait(status);
      ++killed;
    } else {
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << DescribeWait(status);
    }
    CheckAfterCrash(home, snap_a_, snap_ab_, retry, &is_new);
    ended_new += is_new;
    std::filesystem::remove_all(home);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "[   info   ] cli install: %lld us clean; 10 trials, %d killed, %d ended in the new "
      "state, in %.1f s\n",
      static_cast<long long>(took.count()), killed, ended_new, seconds);
}

}  // namespace
}  // namespace tessera::registry
