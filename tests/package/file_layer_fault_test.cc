// The package layer's file writes go through base::FileEnv (ADR 0019), so faults and kills reach
// them: unpacking a package into staging (ReadPackageFile), writing a package archive
// (TarWriter) and saving key files (PublicKey/PrivateKey::Save). Every operation of each is
// failed with every fault that applies, and the writing process is killed at every operation
// (tests/base/faulty_file_env.h, atomic_write_checks.h).
//
// Unpacking has no single target file: its promise is that a failed call leaves the staging
// directory as it found it (empty), except for a file whose own removal was the failed
// operation, and that a name <hex digest> in staging always holds bytes with that digest, even
// after a kill (only temporary files "<hex>.tmp-*" may be partial).
#include <gtest/gtest.h>

#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "../base/atomic_write_checks.h"
#include "base/sha256.h"
#include "oci_fixture.h"
#include "package/oci_reader.h"
#include "package/signature.h"
#include "package/tar_writer.h"

namespace tessera::package {
namespace {

using fault::Fault;
using fault::FaultsFor;
using fault::FaultyFileEnv;
using fault::Op;

std::string AsString(const fixture::Bytes& b) { return std::string(b.begin(), b.end()); }

// Every file in `staging` named by a digest holds bytes with that digest; other names must be
// temporary files. Returns the digest-named files.
std::set<std::string> CheckStagedNames(const std::string& staging) {
  std::set<std::string> complete;
  for (const std::string& name : fixture::ListDir(staging)) {
    if (name.find(".tmp-") != std::string::npos) continue;
    EXPECT_EQ(name.size(), 64u) << "staging holds " << name;
    EXPECT_EQ(fixture::Sha256Hex(fixture::ReadFile(staging + "/" + name)), name)
        << "staged " << name << " does not hold the bytes its name promises";
    complete.insert(name);
  }
  return complete;
}

TEST(FileLayerFaultTest, UnpackingLeavesStagingEmptyWhateverOperationFails) {
  fixture::SamplePackage sample("fault_unpack");
  const std::set<std::string> artifacts = {fixture::Sha256Hex(sample.model),
                                           fixture::Sha256Hex(sample.eval)};
  auto unpack = [&](base::FileEnv& env) {
    return ReadPackageFile(sample.package_path, sample.staging, {}, env);
  };
  auto clear = [&] {
    std::filesystem::remove_all(sample.staging);
    std::filesystem::create_directory(sample.staging);
  };
  FaultyFileEnv recorder;
  recorder.Arm(0, Fault::kRemoveIo);
  ASSERT_TRUE(unpack(recorder).ok());
  const std::vector<Op> ops = recorder.ops();
  for (Op op :
       {Op::kCreate, Op::kWrite, Op::kSync, Op::kClose, Op::kRename, Op::kRemove, Op::kSyncDir}) {
    EXPECT_TRUE(fault::Contains(ops, op)) << "unpacking does no " << fault::OpName(op);
  }
  int trials = 0, failed = 0;
  for (int n = 1; n <= static_cast<int>(ops.size()); ++n) {
    for (Fault f : FaultsFor(ops[n - 1])) {
      clear();
      ++trials;
      const std::size_t descriptors = fault::OpenDescriptors();
      FaultyFileEnv env;
      env.Arm(n, f);
      Result<UnpackedPackage> r = unpack(env);
      env.Disarm();
      ASSERT_TRUE(env.fired()) << "operation " << n << " never came";
      SCOPED_TRACE(env.Describe(n));
      const std::set<std::string> staged = CheckStagedNames(sample.staging);
      if (r.ok()) {
        EXPECT_EQ(staged, artifacts);
      } else {
        ++failed;
        EXPECT_EQ(r.status().code(), StatusCode::kIoError) << r.status().ToString();
        std::set<std::string> left;  // what a failed removal may leave
        if (ops[n - 1] == Op::kRemove) {
          left.insert(std::filesystem::path(env.paths()[n - 1]).filename().string());
        }
        for (const std::string& name : fixture::ListDir(sample.staging)) {
          EXPECT_TRUE(left.count(name)) << "a failed unpack left " << name << " in staging";
        }
      }
      EXPECT_EQ(fault::OpenDescriptors(), descriptors) << "descriptors leaked";
    }
  }
  std::printf("[   info   ] unpacking: %zu operations, %d faulted runs, %d failed\n", ops.size(),
              trials, failed);
  EXPECT_GT(failed, 0);
}

TEST(FileLayerFaultTest, UnpackingStagesOnlyCompleteBlobsWhereverItIsKilled) {
  fixture::SamplePackage sample("kill_unpack");
  auto unpack = [&](base::FileEnv& env) {
    return ReadPackageFile(sample.package_path, sample.staging, {}, env).status();
  };
  auto clear = [&] {
    std::filesystem::remove_all(sample.staging);
    std::filesystem::create_directory(sample.staging);
  };
  std::vector<bool> writes;
  clear();
  const int clean = fault::RunKilledChild(0, false, unpack, &writes);
  ASSERT_TRUE(WIFEXITED(clean) && WEXITSTATUS(clean) == 0);
  ASSERT_FALSE(writes.empty());
  int runs = 0;
  for (int n = 1; n <= static_cast<int>(writes.size()); ++n) {
    for (bool torn : {false, true}) {
      if (torn && !writes[n - 1]) continue;
      SCOPED_TRACE("killed at operation " + std::to_string(n) + (torn ? " (torn write)" : ""));
      clear();
      const int status = fault::RunKilledChild(n, torn, unpack, nullptr);
      ++runs;
      EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
      CheckStagedNames(sample.staging);
    }
  }
  std::printf("[   info   ] unpacking: %zu operations, %d killed runs\n", writes.size(), runs);
}

TEST(FileLayerFaultTest, AnArchiveIsAbsentOrCompleteWhateverOperationFails) {
  fixture::TempDir dir("fault_tar");
  std::filesystem::create_directory(dir.File("out"));
  const std::string path = dir.File("out/p.tar");
  const fixture::Bytes payload = fixture::RandomBytes(200000, 5);
  auto write = [&](base::FileEnv& env) -> Status {
    TS_ASSIGN_OR_RETURN(TarWriter tar, TarWriter::Create(path, env));
    TS_RETURN_IF_ERROR(tar.AddDirectory("blobs"));
    TS_RETURN_IF_ERROR(tar.AddFile("blobs/a", payload));
    return tar.Finish();
  };
  ASSERT_TRUE(write(base::DefaultFileEnv()).ok());
  const std::string archive = AsString(fixture::ReadFile(path));
  fault::FailEveryOperation("package archive", path, std::nullopt, archive, write);
  fault::KillAtEveryOperation("package archive", path, std::string("old"), archive, write);
}

TEST(FileLayerFaultTest, KeyFilesAreOldOrNewWhateverOperationFailsOrWhereverKilled) {
  fixture::TempDir dir("fault_keys");
  std::filesystem::create_directory(dir.File("keys"));
  Result<PrivateKey> old_key = PrivateKey::Generate();
  Result<PrivateKey> key = PrivateKey::Generate();
  ASSERT_TRUE(old_key.ok() && key.ok());
  const std::string priv = dir.File("keys/k.key");
  const std::string pub = dir.File("keys/k.pub");
  ASSERT_TRUE(old_key->Save(priv).ok());
  const std::string old_private = AsString(fixture::ReadFile(priv));
  ASSERT_TRUE(key->Save(priv).ok());
  const std::string new_private = AsString(fixture::ReadFile(priv));
  auto save_private = [&](base::FileEnv& env) { return key->Save(priv, env); };
  auto save_public = [&](base::FileEnv& env) { return key->public_key().Save(pub, env); };
  fault::FailEveryOperation("private key", priv, old_private, new_private, save_private);
  fault::KillAtEveryOperation("private key", priv, old_private, new_private, save_private);
  fault::FailEveryOperation("public key", pub, std::nullopt, key->public_key().ToText(),
                            save_public);
}

}  // namespace
}  // namespace tessera::package
