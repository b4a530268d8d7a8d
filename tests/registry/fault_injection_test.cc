// Fault injection into the registry's file operations (base::FileEnv). A clean install of
// package B into a store holding A, and a clean Remove(B), are run once to record their
// operations; then, for every operation N of that run and every fault that can hit an operation
// of its kind, a fresh copy of the store runs the call again with operation N failing:
//
//   create      ENOSPC
//   write       half of the bytes written, then ENOSPC (a full disk)
//   fsync       EIO (by descriptor, by path, and of directories)
//   close       EIO (the descriptor is released, as on Linux)
//   rename      EXDEV, and EIO
//   remove      EIO
//   mkdir       ENOSPC
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
// Nothing is sampled: every operation is failed with every fault that applies to it. Every
// FileEnv method is overridden; a new one must be added to FaultyFileEnv, or its operations go
// untested.
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

#include "base/sha256.h"
#include "registry_fixture.h"

namespace tessera::registry {
namespace {

using fixture::Snapshot;

enum class Op { kCreate, kWrite, kSync, kClose, kRename, kRemove, kMakeDir, kSyncDir, kSyncFile };

enum class Fault {
  kCreateNoSpace,
  kShortWriteNoSpace,
  kSyncIo,
  kCloseIo,
  kRenameCrossDevice,
  kRenameIo,
  kRemoveIo,
  kMakeDirNoSpace,
};

const char* OpName(Op op) {
  switch (op) {
    case Op::kCreate:
      return "create";
    case Op::kWrite:
      return "write";
    case Op::kSync:
      return "fsync";
    case Op::kClose:
      return "close";
    case Op::kRename:
      return "rename";
    case Op::kRemove:
      return "remove";
    case Op::kMakeDir:
      return "mkdir";
    case Op::kSyncDir:
      return "fsync-dir";
    case Op::kSyncFile:
      return "fsync-file";
  }
  return "?";
}

const char* FaultName(Fault fault) {
  switch (fault) {
    case Fault::kCreateNoSpace:
      return "create-ENOSPC";
    case Fault::kShortWriteNoSpace:
      return "short-write-ENOSPC";
    case Fault::kSyncIo:
      return "fsync-EIO";
    case Fault::kCloseIo:
      return "close-EIO";
    case Fault::kRenameCrossDevice:
      return "rename-EXDEV";
    case Fault::kRenameIo:
      return "rename-EIO";
    case Fault::kRemoveIo:
      return "remove-EIO";
    case Fault::kMakeDirNoSpace:
      return "mkdir-ENOSPC";
  }
  return "?";
}

// The faults that can hit an operation of kind `op`.
std::vector<Fault> FaultsFor(Op op) {
  switch (op) {
    case Op::kCreate:
      return {Fault::kCreateNoSpace};
    case Op::kWrite:
      return {Fault::kShortWriteNoSpace};
    case Op::kSync:
    case Op::kSyncDir:
    case Op::kSyncFile:
      return {Fault::kSyncIo};
    case Op::kClose:
      return {Fault::kCloseIo};
    case Op::kRename:
      return {Fault::kRenameCrossDevice, Fault::kRenameIo};
    case Op::kRemove:
      return {Fault::kRemoveIo};
    case Op::kMakeDir:
      return {Fault::kMakeDirNoSpace};
  }
  return {};
}

// Performs every operation through the real FileEnv and, while armed, records it; operation
// number `fail_at` (1-based, counted from Arm) fails with the armed fault instead. fail_at 0
// only records. Not thread-safe: the registry calls it from one thread.
class FaultyFileEnv final : public base::FileEnv {
 public:
  void Arm(int fail_at, Fault fault) {
    armed_ = true;
    fired_ = false;
    fail_at_ = fail_at;
    fault_ = fault;
    ops_.clear();
    paths_.clear();
  }
  void Disarm() { armed_ = false; }
  bool fired() const { return fired_; }
  // The operations seen since Arm, and the path each touched.
  const std::vector<Op>& ops() const { return ops_; }
  const std::vector<std::string>& paths() const { return paths_; }

  Result<int> CreateExclusive(const std::string& path) override {
    if (Hit(Op::kCreate, path)) return base::FileErrno("create", path, ENOSPC);
    return FileEnv::CreateExclusive(path);
  }
  Status Write(int fd, std::span<const std::uint8_t> bytes, std::string_view path) override {
    if (Hit(Op::kWrite, path)) {
      TS_RETURN_IF_ERROR(FileEnv::Write(fd, bytes.first(bytes.size() / 2), path));
      return base::FileErrno("write", path, ENOSPC);
    }
    return FileEnv::Write(fd, bytes, path);
  }
  Status Sync(int fd, std::string_view path) override {
    if (Hit(Op::kSync, path)) return base::FileErrno("fsync", path, EIO);
    return FileEnv::Sync(fd, path);
  }
  Status Close(int fd, std::string_view path) override {
    if (Hit(Op::kClose, path)) {
      FileEnv::Close(fd, path).IgnoreError();  // Linux frees the descriptor even on error
      return base::FileErrno("close", path, EIO);
    }
    return FileEnv::Close(fd, path);
  }
  Status Rename(const std::string& from, const std::string& to) override {
    if (Hit(Op::kRename, from + " -> " + to)) {
      return base::FileErrno("rename", from + " to " + to,
                             fault_ == Fault::kRenameCrossDevice ? EXDEV : EIO);
    }
    return FileEnv::Rename(from, to);
  }
  Status Remove(const std::string& path) override {
    if (Hit(Op::kRemove, path)) return base::FileErrno("remove", path, EIO);
    return FileEnv::Remove(path);
  }
  Status MakeDir(const std::string& path) override {
    if (Hit(Op::kMakeDir, path)) return base::FileErrno("mkdir", path, ENOSPC);
    return FileEnv::MakeDir(path);
  }
  Status SyncDir(const std::string& path) override {
    if (Hit(Op::kSyncDir, path)) return base::FileErrno("fsync directory", path, EIO);
    return FileEnv::SyncDir(path);
  }
  Status SyncFile(const std::string& path) override {
    if (Hit(Op::kSyncFile, path)) return base::FileErrno("fsync", path, EIO);
    return FileEnv::SyncFile(path);
  }

 private:
  // Records one operation; true when it is the one to fail.
  bool Hit(Op op, std::string_view path) {
    if (!armed_) return false;
    ops_.push_back(op);
    paths_.emplace_back(path);
    if (static_cast<int>(ops_.size()) != fail_at_) return false;
    const std::vector<Fault> applicable = FaultsFor(op);
    if (std::find(applicable.begin(), applicable.end(), fault_) == applicable.end()) {
      ADD_FAILURE() << "fault " << FaultName(fault_) << " armed for operation " << fail_at_
                    << ", a " << OpName(op) << " of " << path;
      return false;
    }
    fired_ = true;
    return true;
  }

  bool armed_ = false;
  bool fired_ = false;
  int fail_at_ = 0;
  Fault fault_ = Fault::kRemoveIo;
  std::vector<Op> ops_;
  std::vector<std::string> paths_;
};

std::size_t OpenDescriptors() {
  std::size_t n = 0;
  DIR* d = ::opendir("/proc/self/fd");
  if (d == nullptr) return 0;
  while (const dirent* e = ::readdir(d)) n += e->d_name[0] != '.';
  ::closedir(d);
  return n - 1;  // the directory stream's own descriptor
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
  std::set<std::string> allowed;  // blobs the call may leave unreferenced
  for (const std::vector<std::string>* blobs : {&before.blobs, &after.blobs}) {
    for (const std::string& b : *blobs) {
      allowed.insert(b);
      allowed.insert(b + ".tmp");
    }
  }
  for (const std::string& b : expected.blobs) {
    EXPECT_TRUE(std::binary_search(seen.blobs.begin(), seen.blobs.end(), b))
        << "blob " << b << " of the " << (*is_new ? "new" : "old") << " state is missing";
  }
  for (const std::string& b : seen.blobs) {
    EXPECT_TRUE(allowed.count(b)) << "blobs/sha256/" << b << " was not written by the call";
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
  static std::vector<Op> CleanRun(const std::string& from, const Snapshot& after, Call call) {
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

bool Contains(const std::vector<Op>& ops, Op op) {
  return std::find(ops.begin(), ops.end(), op) != ops.end();
}

TEST_F(FaultInjectionTest, InstallIsOldOrNewWhateverOperationFails) {
  auto install = [](Registry& store) -> Status {
    Result<InstallResult> r = store.Install(b_file_);
    if (r.ok() && r->already_installed) return Status(StatusCode::kInternal, "already installed");
    return r.ok() ? Status() : r.status();
  };
  const std::vector<Op> ops = CleanRun(with_a_, snap_ab_, install);
  // The install must route every kind of mutation through the env, or this test proves little.
  for (Op op : {Op::kMakeDir, Op::kCreate, Op::kWrite, Op::kSync, Op::kClose, Op::kRename,
                Op::kRemove, Op::kSyncDir, Op::kSyncFile}) {
    EXPECT_TRUE(Contains(ops, op)) << "a clean install does no " << OpName(op);
  }
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
