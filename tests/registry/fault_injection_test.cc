// Fault injection into the registry's file operations (base::FileEnv). A clean install of
// package B into a store holding A, and a clean Remove(B), are run once to record their
// operations; then, for every operation N of that run and every fault that can hit an operation
// of its kind (the table in tests/base/faulty_file_env.h: create, open of the lock file, write,
// fsync, close, rename, remove, mkdir), a fresh copy of the store runs the call again with
// operation N failing. An install's operations include the unpacking of the package into
// staging/ (package::ReadPackageFile writes through the registry's FileEnv), the store's lock
// file, the blobs and their temporary files.
//
// After each faulted call the store must be in the state before the call or in the state a clean
// call leaves, and the call must have succeeded exactly when it is in the new one (an error means
// nothing changed). Besides that state only leftovers may differ: blobs the call wrote that no
// package references, and staging/. Doctor(repair) must remove them so that the snapshot equals
// that state exactly, a rehashing Doctor must then find nothing, Verify must pass, no descriptor
// may leak, and the same call without faults must then succeed.
//
// A third test fails every operation of a refusal (a package signed by an untrusted key): the
// refused file is copied into quarantine/ with a record. A fault may cost the copy but must not
// change the refusal, the record must still describe the refused file (its SHA-256), and Doctor
// must leave exactly the files the records name.
//
// Nothing is sampled: every operation is failed with every fault that applies to it.
#include <dirent.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "../base/faulty_file_env.h"
#include "base/sha256.h"
#include "registry_fixture.h"

namespace tessera::registry {
namespace {

using fixture::Snapshot;

using fault::Contains;
using fault::Fault;
using fault::FaultName;
using fault::FaultsFor;
using fault::FaultyFileEnv;
using fault::Op;
using fault::OpenDescriptors;
using fault::OpName;

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

std::unique_ptr<Registry> OpenWith(const std::string& home, const base::Clock& clock,
                                   base::FileEnv* env) {
  RegistryOptions options;
  options.clock = &clock;
  options.env = env;
  Result<std::unique_ptr<Registry>> r = Registry::Open(home, options);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(*r) : nullptr;
}

// Checks a store after a call that may have been interrupted by a fault: see the file comment.
// `call` is the call's outcome. Sets *is_new to whether the store is in the `after` state.
void CheckOldOrNew(Registry& store, const Status& call, const Snapshot& before,
                   const Snapshot& after, bool* is_new) {
  const Snapshot seen = fixture::Take(store);
  const bool old_state = seen.packages == before.packages;
  *is_new = seen.packages == after.packages;
  ASSERT_TRUE(old_state || *is_new)
      << "neither the old state (" << fixture::Describe(before) << ") nor the new ("
      << fixture::Describe(after) << "): " << fixture::Describe(seen);
  const Snapshot& expected = *is_new ? after : before;
  EXPECT_EQ(call.ok(), *is_new) << "the call "
                                << (call.ok() ? "succeeded" : "failed (" + call.ToString() + ")")
                                << " but the store is in the " << (*is_new ? "new" : "old")
                                << " state: an error must mean that nothing changed";
  if (!call.ok()) {
    EXPECT_EQ(call.code(), StatusCode::kIoError) << call.ToString();
  }
  EXPECT_EQ(seen.quarantine, expected.quarantine);
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
  Result<DoctorReport> check = store.Doctor(/*repair=*/false, /*rehash=*/true);
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  EXPECT_TRUE(check->consistent);
  EXPECT_TRUE(check->findings.empty()) << check->findings.front();
  Result<std::vector<VerifyResult>> verified = store.Verify();
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_EQ(verified->size(), expected.packages.size());
  for (const VerifyResult& v : *verified) EXPECT_TRUE(v.ok) << v.package << ": " << v.problem;
}

class FaultInjectionTest : public ::testing::Test {
 protected:
  // Packs A (specialists/date.gguf) and B (specialists/reverse.gguf; the eval set is shared
  // with A, so B has blobs of its own and a blob it shares), and builds the template stores
  // holding A and A+B with their snapshots.
  static void SetUpTestSuite() {
    work_ = fixture::TempDir("fault");
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
    std::unique_ptr<Registry> store = OpenWith(with_ab_, clock, nullptr);
    ASSERT_NE(store, nullptr);
    Result<InstallResult> r = store->Install(b_file_);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    snap_ab_ = fixture::Take(*store);
  }

  static void TearDownTestSuite() { std::filesystem::remove_all(work_); }

  void SetUp() override {
    ASSERT_EQ(snap_a_.packages.size(), 1u) << fixture::Describe(snap_a_);
    ASSERT_EQ(snap_ab_.packages.size(), 2u) << fixture::Describe(snap_ab_);
    ASSERT_GT(snap_ab_.blobs.size(), snap_a_.blobs.size());
  }

  // A fresh copy of a template store.
  static std::string Fresh(const std::string& from, const std::string& name) {
    const std::string home = work_ + "/" + name;
    std::filesystem::remove_all(home);
    std::filesystem::copy(from, home, std::filesystem::copy_options::recursive);
    return home;
  }

  // The operations of a clean run of `call` on a fresh copy of `from`, which must end in
  // `after`.
  template <typename Call>
  static std::vector<Op> CleanRun(const std::string& from, const Snapshot& after, Call call,
                                  std::vector<std::string>* paths = nullptr) {
    const std::string home = Fresh(from, "clean");
    fixture::FakeClock clock;
    FaultyFileEnv env;
    std::unique_ptr<Registry> store = OpenWith(home, clock, &env);
    if (store == nullptr) return {};
    env.Arm(0, Fault::kRemoveIo);
    Status s = call(*store);
    env.Disarm();
    EXPECT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(fixture::Take(*store), after);
    store.reset();
    std::filesystem::remove_all(home);
    if (paths != nullptr) *paths = env.paths();
    return env.ops();
  }

  // Runs `call` with each (operation, fault) on a fresh copy of `from`; checks as described at
  // the top; then `retry` must bring the store to `after` (by package names and blobs). Stops
  // after a few failing trials so that a systematic bug does not drown the log.
  template <typename Call, typename Retry>
  static void RunAll(const char* what, const std::string& from, const Snapshot& before,
                     const Snapshot& after, const std::vector<Op>& ops, Call call, Retry retry) {
    const auto start = std::chrono::steady_clock::now();
    const ::testing::TestResult& result =
        *::testing::UnitTest::GetInstance()->current_test_info()->result();
    int trials = 0, failed_trials = 0, ended_new = 0;
    for (int n = 1; n <= static_cast<int>(ops.size()); ++n) {
      for (Fault fault : FaultsFor(ops[n - 1])) {
        const int parts_before = result.total_part_count();
        ++trials;
        bool is_new = false;
        RunOne(what, from, before, after, n, fault, call, retry, &is_new);
        ended_new += is_new;
        if (result.total_part_count() != parts_before && ++failed_trials == 5) {
          ADD_FAILURE() << "stopping after 5 failing trials";
          return;
        }
      }
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf(
        "[   info   ] %s: %zu operations, %d faulted runs (%d ended in the new state) in "
        "%.1f s\n",
        what, ops.size(), trials, ended_new, seconds);
  }

  template <typename Call, typename Retry>
  static void RunOne(const char* what, const std::string& from, const Snapshot& before,
                     const Snapshot& after, int n, Fault fault, Call call, Retry retry,
                     bool* is_new) {
    const std::size_t descriptors = OpenDescriptors();
    const std::string home = Fresh(from, "trial");
    {
      fixture::FakeClock clock;
      FaultyFileEnv env;
      std::unique_ptr<Registry> store = OpenWith(home, clock, &env);
      ASSERT_NE(store, nullptr);
      env.Arm(n, fault);
      Status status = call(*store);
      env.Disarm();
      ASSERT_TRUE(env.fired()) << what << ": operation " << n << " never came (" << env.ops().size()
                               << " operations this time)";
      SCOPED_TRACE(std::string(what) + ": operation " + std::to_string(n) + " (" +
                   OpName(env.ops()[n - 1]) + " " + env.paths()[n - 1] + ") fails with " +
                   FaultName(fault));
      CheckOldOrNew(*store, status, before, after, is_new);
      if (::testing::Test::HasFatalFailure()) return;
      Status again = retry(*store, *is_new);
      EXPECT_TRUE(again.ok()) << "retry: " << again.ToString();
      const Snapshot end = fixture::Take(*store);
      EXPECT_EQ(Names(end), Names(after)) << fixture::Describe(end);
      EXPECT_EQ(end.blobs, after.blobs) << fixture::Describe(end);
      EXPECT_TRUE(end.staging.empty()) << fixture::Describe(end);
      Result<DoctorReport> check = store->Doctor(false, true);
      ASSERT_TRUE(check.ok()) << check.status().ToString();
      EXPECT_TRUE(check->findings.empty()) << check->findings.front();
    }
    EXPECT_EQ(OpenDescriptors(), descriptors) << "descriptors leaked";
    std::filesystem::remove_all(home);
  }

  static inline std::string work_, a_file_, b_file_, with_a_, with_ab_;
  static inline Snapshot snap_a_, snap_ab_;
};

TEST_F(FaultInjectionTest, InstallIsOldOrNewWhateverOperationFails) {
  auto install = [](Registry& store) -> Status {
    Result<InstallResult> r = store.Install(b_file_);
    if (r.ok() && r->already_installed) return Status(StatusCode::kInternal, "already installed");
    return r.ok() ? Status() : r.status();
  };
  std::vector<std::string> paths;
  const std::vector<Op> ops = CleanRun(with_a_, snap_ab_, install, &paths);
  // The install must route every kind of mutation through the env, or this test proves little.
  for (Op op : {Op::kOpen, Op::kMakeDir, Op::kCreate, Op::kWrite, Op::kSync, Op::kClose,
                Op::kRename, Op::kRemove, Op::kSyncDir, Op::kSyncFile}) {
    EXPECT_TRUE(Contains(ops, op)) << "a clean install does no " << OpName(op);
  }
  // Unpacking the package into staging/ too (issue 17: it used to write behind the env's back,
  // so no fault reached it): each staged blob is created, written, closed and renamed.
  int staged_creates = 0, staged_writes = 0;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    if (paths[i].find("/staging/") == std::string::npos) continue;
    staged_creates += ops[i] == Op::kCreate;
    staged_writes += ops[i] == Op::kWrite;
  }
  EXPECT_GE(staged_creates, 3) << "unpacking creates no staged blob through the env";
  EXPECT_GE(staged_writes, 3) << "unpacking writes no staged blob through the env";
  ASSERT_FALSE(HasFailure());
  RunAll("install B", with_a_, snap_a_, snap_ab_, ops, install,
         [](Registry& store, bool is_new) -> Status {
           Result<InstallResult> r = store.Install(b_file_);
           if (!r.ok()) return r.status();
           if (r->already_installed != is_new) {
             return Status(StatusCode::kInternal,
                           is_new ? "installed twice" : "already installed after a failure");
           }
           return Status();
         });
}

TEST_F(FaultInjectionTest, RemoveIsOldOrNewWhateverOperationFails) {
  auto remove = [](Registry& store) { return store.Remove("dev.test.b", "1.0.0", "test"); };
  const std::vector<Op> ops = CleanRun(with_ab_, snap_a_, remove);
  EXPECT_TRUE(Contains(ops, Op::kRemove)) << "a clean remove deletes no blob";
  ASSERT_FALSE(HasFailure());
  RunAll("remove B", with_ab_, snap_ab_, snap_a_, ops, remove,
         [](Registry& store, bool is_new) -> Status {
           Status s = store.Remove("dev.test.b", "1.0.0", "retry");
           if (is_new) {
             return s.code() == StatusCode::kNotFound
                        ? Status()
                        : Status(StatusCode::kInternal,
                                 "removing a removed package: " + s.ToString());
           }
           return s;
         });
}

// After a refusal, possibly with a fault: nothing but the quarantine changed; after repair the
// quarantine/ files are exactly those the `records` records name, each a complete copy of the
// refused file, and every record carries the file's SHA-256.
void CheckRefusal(Registry& store, const Snapshot& before, std::size_t records,
                  const std::vector<std::uint8_t>& refused) {
  const std::string sha256 = base::Sha256Hex(refused);
  Snapshot seen = fixture::Take(store);
  EXPECT_EQ(Names(seen), Names(before));
  EXPECT_EQ(seen.blobs, before.blobs);
  EXPECT_EQ(seen.quarantine, records);
  Result<DoctorReport> repaired = store.Doctor(/*repair=*/true, /*rehash=*/false);
  ASSERT_TRUE(repaired.ok()) << repaired.status().ToString();
  EXPECT_TRUE(repaired->consistent);
  Snapshot expected = before;
  expected.packages = seen.packages;  // states may have moved on (Verify)
  expected.quarantine = records;
  seen = fixture::Take(store);
  EXPECT_EQ(seen, expected) << fixture::Describe(seen);
  Result<std::vector<QuarantineRecord>> list = store.QuarantineList();
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  std::set<std::string> named;
  for (const QuarantineRecord& q : *list) {
    EXPECT_EQ(q.file_sha256, sha256) << "quarantine record " << q.seq << " (path '" << q.path
                                     << "') names other bytes than the refused file's";
    if (q.path.empty()) continue;
    named.insert(q.path);
    EXPECT_TRUE(fixture::ReadAll(store.home() + "/" + q.path) == refused)
        << q.path << " is not a complete copy of the refused file";
  }
  std::set<std::string> present;
  for (const auto& entry : std::filesystem::directory_iterator(store.home() + "/quarantine")) {
    present.insert("quarantine/" + entry.path().filename().string());
  }
  EXPECT_EQ(present, named);
  Result<DoctorReport> check = store.Doctor(/*repair=*/false, /*rehash=*/true);
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  EXPECT_TRUE(check->findings.empty()) << check->findings.front();
  Result<std::vector<VerifyResult>> verified = store.Verify();
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  for (const VerifyResult& v : *verified) EXPECT_TRUE(v.ok) << v.package << ": " << v.problem;
}

// U is signed by a key the store does not trust: the signature step refuses it. A fault before
// that step may turn the refusal into an I/O error that changed nothing; after it, the refusal
// (kPermissionDenied) stands and is recorded whatever else fails.
TEST_F(FaultInjectionTest, RefusalIsRecordedWhateverOperationFails) {
  const package::PrivateKey stranger = fixture::Key(9);
  fixture::Spec u;
  u.id = "dev.test.u";
  u.weights = "specialists/unit.gguf";
  const std::string u_file = fixture::Pack(work_, u, &stranger);
  const std::vector<std::uint8_t> u_bytes = fixture::ReadAll(u_file);
  auto install = [&u_file](Registry& store) -> Status {
    Result<InstallResult> r = store.Install(u_file);
    return r.ok() ? Status(StatusCode::kInternal, "an untrusted package was installed")
                  : r.status();
  };
  auto refused = [&install](Registry& store) -> Status {
    Status s = install(store);
    return s.code() == StatusCode::kPermissionDenied ? Status() : s;
  };
  Snapshot after_refusal = snap_a_;
  after_refusal.quarantine = 1;
  const std::vector<Op> ops = CleanRun(with_a_, after_refusal, refused);
  for (Op op : {Op::kCreate, Op::kWrite, Op::kSync, Op::kClose, Op::kRename}) {
    EXPECT_TRUE(Contains(ops, op)) << "a refusal does no " << OpName(op);
  }
  ASSERT_FALSE(HasFailure());
  const auto start = std::chrono::steady_clock::now();
  const ::testing::TestResult& result =
      *::testing::UnitTest::GetInstance()->current_test_info()->result();
  int trials = 0, failed_trials = 0, io_errors = 0;
  for (int n = 1; n <= static_cast<int>(ops.size()); ++n) {
    for (Fault fault : FaultsFor(ops[n - 1])) {
      const int parts_before = result.total_part_count();
      ++trials;
      const std::size_t descriptors = OpenDescriptors();
      const std::string home = Fresh(with_a_, "trial");
      {
        fixture::FakeClock clock;
        FaultyFileEnv env;
        std::unique_ptr<Registry> store = OpenWith(home, clock, &env);
        ASSERT_NE(store, nullptr);
        env.Arm(n, fault);
        const Status status = install(*store);
        env.Disarm();
        ASSERT_TRUE(env.fired()) << "operation " << n << " never came";
        SCOPED_TRACE(std::string("refusal: operation ") + std::to_string(n) + " (" +
                     OpName(env.ops()[n - 1]) + " " + env.paths()[n - 1] + ") fails with " +
                     FaultName(fault));
        const bool io_error = status.code() == StatusCode::kIoError;
        io_errors += io_error;
        EXPECT_TRUE(io_error || status.code() == StatusCode::kPermissionDenied)
            << status.ToString();
        CheckRefusal(*store, snap_a_, io_error ? 0 : 1, u_bytes);
        if (!HasFatalFailure()) {
          Status again = refused(*store);
          EXPECT_TRUE(again.ok()) << "retry: " << again.ToString();
          CheckRefusal(*store, snap_a_, io_error ? 1 : 2, u_bytes);
        }
      }
      EXPECT_EQ(OpenDescriptors(), descriptors) << "descriptors leaked";
      std::filesystem::remove_all(home);
      if (result.total_part_count() != parts_before && ++failed_trials == 5) {
        FAIL() << "stopping after 5 failing trials";
      }
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "[   info   ] refusal of U: %zu operations, %d faulted runs (%d ended in an I/O "
      "error) in %.1f s\n",
      ops.size(), trials, io_errors, seconds);
}

}  // namespace
}  // namespace tessera::registry
