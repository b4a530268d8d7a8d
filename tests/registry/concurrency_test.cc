// Several processes on one store at the same moment. Children are forked, each opens its own
// Registry, and all wait on one pipe until the parent closes it, so that they start together.
// Five rounds, each on a store that does not exist yet:
//   1 two processes create the store at once (Open creates the directories and the index);
//   2 two processes install different packages (A and B) at once: both are installed;
//   3 two processes install the same package (C) at once: one installs it, the other reports
//     "already installed" (not an error, not a second row, not a second transition).
// Afterwards the store equals, by snapshot, one where A, B and C were installed one after the
// other; a rehashing Doctor finds nothing and Verify passes.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "registry_fixture.h"

namespace tessera::registry {
namespace {

using fixture::Snapshot;

// A child's outcome, as its exit code.
constexpr int kFailed = 1;
constexpr int kOpened = 10;
constexpr int kInstalled = 11;
constexpr int kAlreadyInstalled = 12;

std::string DescribeWait(int status) {
  if (WIFEXITED(status)) return "exited " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

// In a child: waits for the gate to open, opens the store and installs `file` (only lists the
// packages when `file` is empty). Never returns.
[[noreturn]] void Child(int gate, const std::string& home, const std::string& file) {
  char c;
  while (::read(gate, &c, 1) < 0 && errno == EINTR) {
  }
  Result<std::unique_ptr<Registry>> store = Registry::Open(home);
  if (!store.ok()) {
    std::fprintf(stderr, "child %d: %s\n", ::getpid(), store.status().ToString().c_str());
    ::_exit(kFailed);
  }
  if (file.empty()) {
    Result<std::vector<PackageRecord>> list = (*store)->List();
    if (!list.ok())
      std::fprintf(stderr, "child %d: %s\n", ::getpid(), list.status().ToString().c_str());
    ::_exit(list.ok() ? kOpened : kFailed);
  }
  Result<InstallResult> r = (*store)->Install(file);
  if (!r.ok()) {
    std::fprintf(stderr, "child %d: %s\n", ::getpid(), r.status().ToString().c_str());
    ::_exit(kFailed);
  }
  ::_exit(r->already_installed ? kAlreadyInstalled : kInstalled);
}

// Forks one child per entry of `files`, lets them all go at once and returns their exit codes
// in order (sorted), failing the test for a child that did not exit normally.
std::vector<int> RunTogether(const std::string& home, const std::vector<std::string>& files) {
  int gate[2];
  if (::pipe(gate) != 0) {
    ADD_FAILURE() << "pipe: " << std::strerror(errno);
    return {};
  }
  std::fflush(nullptr);
  std::vector<pid_t> pids;
  for (const std::string& file : files) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::close(gate[1]);
      Child(gate[0], home, file);
    }
    if (pid < 0) ADD_FAILURE() << "fork: " << std::strerror(errno);
    if (pid > 0) pids.push_back(pid);
  }
  ::close(gate[0]);
  ::close(gate[1]);  // every child's read returns now
  std::vector<int> codes;
  for (pid_t pid : pids) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    EXPECT_TRUE(WIFEXITED(status)) << DescribeWait(status);
    codes.push_back(WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  }
  std::sort(codes.begin(), codes.end());
  return codes;
}

class ConcurrencyTest : public ::testing::Test {
 protected:
  // Packs A, B and C (three different specialists sharing one eval set) and builds the
  // reference store where they were installed one after the other.
  static void SetUpTestSuite() {
    work_ = fixture::TempDir("concurrency");
    const package::PrivateKey key = fixture::Key(7);
    const std::pair<const char*, const char*> specs[] = {
        {"dev.test.a", "specialists/date.gguf"},
        {"dev.test.b", "specialists/reverse.gguf"},
        {"dev.test.c", "specialists/extract.gguf"}};
    for (const auto& [id, weights] : specs) {
      fixture::Spec spec;
      spec.id = id;
      spec.weights = weights;
      files_.push_back(fixture::Pack(work_, spec, &key));
    }
    fixture::FakeClock clock;
    std::unique_ptr<Registry> store = fixture::OpenStore(work_ + "/reference", key, &clock);
    ASSERT_NE(store, nullptr);
    for (const std::string& file : files_) {
      Result<InstallResult> r = store->Install(file);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
    }
    reference_ = fixture::Take(*store);
  }

  static void TearDownTestSuite() { std::filesystem::remove_all(work_); }

  void SetUp() override {
    ASSERT_EQ(reference_.packages.size(), 3u) << fixture::Describe(reference_);
  }

  static inline std::string work_;
  static inline std::vector<std::string> files_;  // A, B, C
  static inline Snapshot reference_;
};

TEST_F(ConcurrencyTest, TwoProcessesInstallIntoOneStore) {
  const std::string& a = files_[0];
  const std::string& b = files_[1];
  const std::string& c = files_[2];
  for (int round = 0; round < 5; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const std::string home = work_ + "/round-" + std::to_string(round) + "/store";
    EXPECT_EQ(RunTogether(home, {"", ""}), (std::vector<int>{kOpened, kOpened}))
        << "creating the store from two processes";
    {
      fixture::FakeClock clock;
      ASSERT_NE(fixture::OpenStore(home, fixture::Key(7), &clock), nullptr);  // trusts the key
    }
    EXPECT_EQ(RunTogether(home, {a, b}), (std::vector<int>{kInstalled, kInstalled}))
        << "installing A and B at once";
    EXPECT_EQ(RunTogether(home, {c, c}), (std::vector<int>{kInstalled, kAlreadyInstalled}))
        << "installing C twice at once";

    Result<std::unique_ptr<Registry>> opened = Registry::Open(home);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    Registry& store = **opened;
    const Snapshot seen = fixture::Take(store);
    EXPECT_EQ(seen, reference_) << fixture::Describe(seen) << "\nexpected "
                                << fixture::Describe(reference_);
    Result<std::vector<Transition>> history = store.History("dev.test.c", "1.0.0");
    ASSERT_TRUE(history.ok()) << history.status().ToString();
    EXPECT_EQ(history->size(), 1u) << "C has " << history->size() << " transitions";
    Result<DoctorReport> check = store.Doctor(/*repair=*/false, /*rehash=*/true);
    ASSERT_TRUE(check.ok()) << check.status().ToString();
    EXPECT_TRUE(check->consistent);
    EXPECT_TRUE(check->findings.empty()) << check->findings.front();
    Result<std::vector<VerifyResult>> verified = store.Verify();
    ASSERT_TRUE(verified.ok()) << verified.status().ToString();
    EXPECT_EQ(verified->size(), 3u);
    for (const VerifyResult& v : *verified) EXPECT_TRUE(v.ok) << v.package << ": " << v.problem;
  }
}

}  // namespace
}  // namespace tessera::registry
