// Live residency files (registry/live_states.h): published and read back, gone with their
// process (SIGKILL and SIGTERM, in a forked child), refused when malformed, ignored and removed
// when stale, reported and repaired by doctor, and consulted by remove.
#include "registry/live_states.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "registry_fixture.h"
#include "held_child.h"

namespace tessera::registry {
namespace {

using Published = std::vector<std::pair<std::string, LiveState>>;

std::vector<std::string> Files(const std::string& dir) {
  std::vector<std::string> names;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (const dirent* e = ::readdir(d)) {
      const std::string name = e->d_name;
      if (name != "." && name != "..") names.push_back(name);
    }
    ::closedir(d);
  }
  std::sort(names.begin(), names.end());
  return names;
}

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// A forked child that publishes `modules` in its own live file, tells the parent, and waits
// until it is killed.
class LiveChild : public tessera::testing::HeldChild {
 public:
  LiveChild(const std::string& home, const Published& modules)
      : HeldChild([&] {
          Result<std::unique_ptr<LiveStateFile>> file = LiveStateFile::Create(home);
          if (!file.ok() || !(*file)->Publish(modules).ok()) return false;
          (void)file->release();  // its lock is held until the child is killed
          return true;
        }) {}
};

class LiveStates : public ::testing::Test {
 protected:
  void SetUp() override {
    work_ = fixture::TempDir("live");
    home_ = work_ + "/home";
    ASSERT_EQ(::mkdir(home_.c_str(), 0755), 0);
  }

  std::vector<LiveModule> Read() {
    Result<std::vector<LiveModule>> live = ReadLiveStates(home_);
    EXPECT_TRUE(live.ok()) << live.status().ToString();
    return live.ok() ? *live : std::vector<LiveModule>{};
  }

  std::string work_;
  std::string home_;
};

TEST_F(LiveStates, PublishedSetsAreReadBackAndGoWithTheirPublisher) {
  EXPECT_TRUE(Read().empty());  // no live/ directory yet
  std::unique_ptr<LiveStateFile> file = LiveStateFile::Create(home_).value();
  EXPECT_EQ(file->pid(), ::getpid());
  EXPECT_TRUE(Read().empty());
  ASSERT_TRUE(file->Publish({{"dev.test.b@1.0.0", LiveState::kResident},
                             {"dev.test.a@2.0.0", LiveState::kActive}})
                  .ok());
  std::vector<LiveModule> live = Read();
  ASSERT_EQ(live.size(), 2u);
  EXPECT_EQ(live[0].key, "dev.test.a@2.0.0");
  EXPECT_EQ(live[0].state, LiveState::kActive);
  EXPECT_EQ(live[0].pid, ::getpid());
  EXPECT_EQ(live[1].key, "dev.test.b@1.0.0");
  EXPECT_EQ(live[1].state, LiveState::kResident);
  // A second publisher in the same process is a second file.
  std::unique_ptr<LiveStateFile> other = LiveStateFile::Create(home_).value();
  EXPECT_NE(other->stem(), file->stem());
  ASSERT_TRUE(other->Publish({{"dev.test.a@2.0.0", LiveState::kResident}}).ok());
  const std::string pid = std::to_string(::getpid());
  EXPECT_EQ(DescribeLive(Read(), "dev.test.a@2.0.0"),
            "active in pid " + pid + ", resident in pid " + pid);
  EXPECT_EQ(DescribeLive(Read(), "dev.test.c@1.0.0"), "");
  ASSERT_TRUE(file->Publish({}).ok());
  EXPECT_EQ(Read().size(), 1u);
  file.reset();
  other.reset();
  EXPECT_TRUE(Read().empty());
  EXPECT_TRUE(Files(home_ + "/live").empty());
}

TEST_F(LiveStates, AKilledProcessLeavesNothingLive) {
  for (int signal : {SIGKILL, SIGTERM}) {
    SCOPED_TRACE(signal);
    LiveChild child(home_, {{"dev.test.skill@1.0.0", LiveState::kActive}});
    ASSERT_TRUE(child.ready());
    const pid_t pid = child.pid();
    std::vector<LiveModule> live = Read();
    ASSERT_EQ(live.size(), 1u);
    EXPECT_EQ(live[0].pid, pid);
    EXPECT_EQ(live[0].state, LiveState::kActive);
    ASSERT_TRUE(child.Kill(signal));
    EXPECT_TRUE(Read().empty());
    EXPECT_TRUE(Files(home_ + "/live").empty());  // the reader removed the dead process's files
  }
}

TEST_F(LiveStates, StaleFilesAreFoundAndRemovedButLiveOnesAreNot) {
  LiveChild dead(home_, {{"dev.test.skill@1.0.0", LiveState::kResident}});
  ASSERT_TRUE(dead.ready());
  const std::string dead_pid = std::to_string(dead.pid());
  ASSERT_TRUE(dead.Kill(SIGKILL));
  std::unique_ptr<LiveStateFile> mine = LiveStateFile::Create(home_).value();
  // A .json without its .lock, and a .lock nobody holds without a .json.
  WriteText(home_ + "/live/77-00000000000000aa.json", "{}");
  WriteText(home_ + "/live/78-00000000000000bb.lock", "");
  WriteText(home_ + "/live/notes.txt", "not ours");
  std::vector<std::string> found = StaleLiveFiles(home_, false).value();
  ASSERT_EQ(found.size(), 4u);  // the dead child's .json and .lock, and the two orphans
  auto count = [&](const std::string& prefix) {
    return std::count_if(found.begin(), found.end(),
                         [&](const std::string& f) { return f.rfind(prefix, 0) == 0; });
  };
  EXPECT_EQ(count("live/" + dead_pid + "-"), 2);
  EXPECT_EQ(count("live/77-00000000000000aa.json"), 1);
  EXPECT_EQ(count("live/78-00000000000000bb.lock"), 1);
  EXPECT_EQ(StaleLiveFiles(home_, true).value(), found);
  EXPECT_TRUE(StaleLiveFiles(home_, false).value().empty());
  EXPECT_EQ(
      Files(home_ + "/live"),
      (std::vector<std::string>{mine->stem() + ".json", mine->stem() + ".lock", "notes.txt"}));
}

TEST_F(LiveStates, AMalformedFileOfALiveProcessIsNamed) {
  std::unique_ptr<LiveStateFile> file = LiveStateFile::Create(home_).value();
  const std::string json = home_ + "/live/" + file->stem() + ".json";
  struct Case {
    std::string text;
    std::string says;
  };
  for (const Case& c : std::vector<Case>{
           {"{\"pid\": 1, \"modules\": [", "not a JSON object"},
           {"[]", "not a JSON object"},
           {"{\"pid\": -4, \"modules\": []}", "\"pid\" is not a positive integer"},
           {"{\"pid\": 4}", "\"modules\" is not an array"},
           {"{\"pid\": 4, \"modules\": [{\"key\": \"\", \"state\": \"active\"}]}",
            "a module is not"},
           {"{\"pid\": 4, \"modules\": [{\"key\": \"a@1\", \"state\": \"verified\"}]}",
            "neither \"resident\" nor \"active\""},
           {std::string(kMaxLiveFileBytes + 1, ' '), "over the limit of 1048576"},
       }) {
    WriteText(json, c.text);
    Result<std::vector<LiveModule>> live = ReadLiveStates(home_);
    ASSERT_FALSE(live.ok());
    EXPECT_EQ(live.status().code(), StatusCode::kMalformed);
    EXPECT_NE(live.status().message().find(json), std::string::npos) << live.status().message();
    EXPECT_NE(live.status().message().find(c.says), std::string::npos) << live.status().message();
  }
  ASSERT_TRUE(file->Publish({{"dev.test.skill@1.0.0", LiveState::kActive}}).ok());
  EXPECT_EQ(Read().size(), 1u);  // the next publication replaces it whole
}

// Fails renames: a publication that cannot complete leaves the previous one in place.
class FailingRenames final : public base::FileEnv {
 public:
  Status Rename(const std::string& from, const std::string& to) override {
    if (fail) return Status(StatusCode::kIoError, "file: rename " + from + ": injected");
    return base::FileEnv::Rename(from, to);
  }
  bool fail = false;
};

TEST_F(LiveStates, AFailedPublicationKeepsThePreviousSet) {
  FailingRenames env;
  std::unique_ptr<LiveStateFile> file = LiveStateFile::Create(home_, env).value();
  ASSERT_TRUE(file->Publish({{"dev.test.skill@1.0.0", LiveState::kActive}}).ok());
  env.fail = true;
  EXPECT_EQ(file->Publish({}).code(), StatusCode::kIoError);
  std::vector<LiveModule> live = Read();
  ASSERT_EQ(live.size(), 1u);
  EXPECT_EQ(live[0].state, LiveState::kActive);
  EXPECT_EQ(Files(home_ + "/live"),
            (std::vector<std::string>{file->stem() + ".json", file->stem() + ".lock"}));
  env.fail = false;
}

// The store's side: remove consults the live states, doctor reports and repairs stale files.
class LiveStore : public LiveStates {
 protected:
  void SetUp() override {
    LiveStates::SetUp();
    store_ = fixture::OpenStore(home_, key_, &clock_);
    ASSERT_NE(store_, nullptr);
    fixture::Spec s;
    s.id = "dev.test.skill";
    Result<InstallResult> r = store_->Install(fixture::Pack(work_, s, &key_));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }

  fixture::FakeClock clock_;
  package::PrivateKey key_ = fixture::Key(3);
  std::unique_ptr<Registry> store_;
};

TEST_F(LiveStore, RemoveIsRefusedWhileALiveProcessHoldsTheVersion) {
  LiveChild child(home_, {{"dev.test.skill@1.0.0", LiveState::kResident}});
  ASSERT_TRUE(child.ready());
  const Status refused = store_->Remove("dev.test.skill", "", "test");
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.message().find("dev.test.skill@1.0.0: it is resident in pid " +
                                   std::to_string(child.pid())),
            std::string::npos)
      << refused.message();
  EXPECT_EQ(store_->Show("dev.test.skill").value().state, State::kInstalled);
  ASSERT_TRUE(child.Kill(SIGKILL));
  EXPECT_TRUE(store_->Remove("dev.test.skill", "", "test").ok());
}

TEST_F(LiveStore, DoctorReportsAndRemovesTheFilesOfEndedProcesses) {
  LiveChild child(home_, {{"dev.test.skill@1.0.0", LiveState::kActive}});
  ASSERT_TRUE(child.ready());
  const std::string pid = std::to_string(child.pid());
  EXPECT_TRUE(store_->Doctor(false, false).value().consistent);  // live: nothing to report
  ASSERT_TRUE(child.Kill(SIGKILL));
  DoctorReport check = store_->Doctor(false, false).value();
  EXPECT_FALSE(check.consistent);
  ASSERT_EQ(check.findings.size(), 2u);  // its .json and .lock
  EXPECT_EQ(check.findings[0].rfind("live/" + pid + "-", 0), 0u) << check.findings[0];
  EXPECT_NE(check.findings[0].find("left by process " + pid + ", which has ended"),
            std::string::npos)
      << check.findings[0];
  DoctorReport fixed = store_->Doctor(true, false).value();
  EXPECT_TRUE(fixed.consistent);
  ASSERT_EQ(fixed.repairs.size(), 2u);
  EXPECT_EQ(fixed.repairs[0],
            "removed " + check.findings[0].substr(0, check.findings[0].find(':')));
  DoctorReport after = store_->Doctor(false, false).value();
  EXPECT_TRUE(after.consistent);
  EXPECT_TRUE(after.findings.empty());
}

}  // namespace
}  // namespace tessera::registry
