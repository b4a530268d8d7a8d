// Checks that a call writing one file through base::AtomicFile keeps it atomic whatever file
// operation fails and wherever the process is killed. Used for every whole-file writer: key
// files, GGUF files, eval reports (base::WriteFileAtomic), package archives.
//
// A "write" is a callable Status(base::FileEnv&) that replaces (or creates) `path` with
// `new_bytes` through the env it is given. `old_bytes` is what `path` holds before (nullopt: no
// file). The directory of `path` must hold nothing else the call may touch.
//
// FailEveryOperation: one clean run records the call's operations; then for every operation N and
// every fault that applies to it (faulty_file_env.h) the file is reset and the call runs with N
// failing. After each: `path` holds the old bytes or the new ones, never anything else; the new
// ones only when the call succeeded, or when what failed was the directory's fsync after the
// rename (the call then says so); the call succeeded exactly when nothing failed that matters;
// no other file is left in the directory; no descriptor leaked.
//
// KillAtEveryOperation: a child process (fork) runs the call with a KillingFileEnv killing it with
// SIGKILL before each operation in turn (and half-way through each write); the parent checks that
// `path` holds the old bytes or the new ones, and that nothing but temporary files
// ("<name>.tmp-*") is left beside it.
//
// Both return the number of faulted or killed runs, for the figures in docs/reliability.md.
#ifndef TESSERA_TESTS_BASE_ATOMIC_WRITE_CHECKS_H_
#define TESSERA_TESTS_BASE_ATOMIC_WRITE_CHECKS_H_

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "faulty_file_env.h"

namespace tessera::fault {

// The file's bytes, or nullopt when it does not exist.
inline std::optional<std::string> ReadIfExists(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Names in `dir` other than `keep`.
inline std::set<std::string> OtherNames(const std::string& dir, const std::string& keep) {
  std::set<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name != keep) names.insert(name);
  }
  return names;
}

// Puts `path` back to `bytes` (nullopt: removes it) and removes everything else in its folder.
inline void ResetFile(const std::string& path, const std::optional<std::string>& bytes) {
  const std::filesystem::path p(path);
  for (const auto& entry : std::filesystem::directory_iterator(p.parent_path())) {
    std::filesystem::remove_all(entry.path());
  }
  if (bytes) std::ofstream(path, std::ios::binary) << *bytes;
}

template <typename Write>
int FailEveryOperation(const std::string& what, const std::string& path,
                       const std::optional<std::string>& old_bytes, const std::string& new_bytes,
                       Write write) {
  const std::filesystem::path p(path);
  const std::string dir = p.parent_path().string();
  const std::string name = p.filename().string();
  std::vector<Op> ops;
  {
    ResetFile(path, old_bytes);
    FaultyFileEnv env;
    env.Arm(0, Fault::kRemoveIo);
    const Status clean = write(static_cast<base::FileEnv&>(env));
    EXPECT_TRUE(clean.ok()) << what << ": a clean run fails: " << clean.ToString();
    EXPECT_EQ(ReadIfExists(path), new_bytes) << what << ": a clean run";
    ops = env.ops();
  }
  EXPECT_FALSE(ops.empty()) << what << " did no file operation through the env";
  const ::testing::TestResult& result =
      *::testing::UnitTest::GetInstance()->current_test_info()->result();
  int trials = 0, failed_trials = 0;
  for (int n = 1; n <= static_cast<int>(ops.size()); ++n) {
    for (Fault fault : FaultsFor(ops[n - 1])) {
      const int parts_before = result.total_part_count();
      ++trials;
      ResetFile(path, old_bytes);
      const std::size_t descriptors = OpenDescriptors();
      FaultyFileEnv env;
      env.Arm(n, fault);
      const Status status = write(static_cast<base::FileEnv&>(env));
      env.Disarm();
      EXPECT_TRUE(env.fired()) << what << ": operation " << n << " never came";
      if (!env.fired()) continue;
      SCOPED_TRACE(what + ": " + env.Describe(n));
      const std::optional<std::string> seen = ReadIfExists(path);
      const bool is_new = seen == new_bytes;
      EXPECT_TRUE(is_new || seen == old_bytes)
          << "neither the old file nor the new one (" << (seen ? seen->size() : 0) << " bytes)";
      if (status.ok()) {
        EXPECT_TRUE(is_new) << "the call succeeded but the file is the old one";
      } else {
        EXPECT_EQ(status.code(), StatusCode::kIoError) << status.ToString();
        EXPECT_TRUE(!is_new || ops[n - 1] == Op::kSyncDir)
            << "the call failed (" << status.ToString() << ") but the file is the new one";
      }
      EXPECT_EQ(OtherNames(dir, name), std::set<std::string>()) << "left beside " << name;
      EXPECT_EQ(OpenDescriptors(), descriptors) << "descriptors leaked";
      if (result.total_part_count() != parts_before && ++failed_trials == 5) {
        ADD_FAILURE() << "stopping after 5 failing trials";
        return trials;
      }
    }
  }
  std::printf("[   info   ] %s: %zu operations, %d faulted runs\n", what.c_str(), ops.size(),
              trials);
  return trials;
}

// Runs `write` in a child killed at operation `kill_at` (0: never); returns the wait status and,
// with kill_at 0, which of the child's operations were writes.
template <typename Write>
int RunKilledChild(int kill_at, bool torn, Write write, std::vector<bool>* writes) {
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) return -1;
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(pipe_fds[0]);
    KillingFileEnv env(kill_at, torn);
    env.Arm();
    const Status s = write(static_cast<base::FileEnv&>(env));
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

template <typename Write>
int KillAtEveryOperation(const std::string& what, const std::string& path,
                         const std::optional<std::string>& old_bytes, const std::string& new_bytes,
                         Write write) {
  const std::filesystem::path p(path);
  const std::string dir = p.parent_path().string();
  const std::string name = p.filename().string();
  std::vector<bool> writes;
  ResetFile(path, old_bytes);
  const int clean = RunKilledChild(0, false, write, &writes);
  EXPECT_TRUE(WIFEXITED(clean) && WEXITSTATUS(clean) == 0) << what << ": a clean run fails";
  EXPECT_EQ(ReadIfExists(path), new_bytes) << what << ": a clean run";
  EXPECT_FALSE(writes.empty()) << what << " did no file operation through the env";
  const int count = static_cast<int>(writes.size());
  int runs = 0;
  for (int n = 1; n <= count; ++n) {
    for (bool torn : {false, true}) {
      if (torn && !writes[n - 1]) continue;
      SCOPED_TRACE(what + ": killed at operation " + std::to_string(n) + " of " +
                   std::to_string(count) + (torn ? " (torn write)" : ""));
      ResetFile(path, old_bytes);
      const int status = RunKilledChild(n, torn, write, nullptr);
      ++runs;
      EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "wait status " << status;
      const std::optional<std::string> seen = ReadIfExists(path);
      EXPECT_TRUE(seen == old_bytes || seen == new_bytes)
          << "neither the old file nor the new one (" << (seen ? seen->size() : 0) << " bytes)";
      for (const std::string& other : OtherNames(dir, name)) {
        EXPECT_EQ(other.rfind(name + ".tmp-", 0), 0u) << other << " is not a temporary file";
      }
    }
  }
  std::printf("[   info   ] %s: %d operations, %d killed runs\n", what.c_str(), count, runs);
  return runs;
}

}  // namespace tessera::fault

#endif  // TESSERA_TESTS_BASE_ATOMIC_WRITE_CHECKS_H_
