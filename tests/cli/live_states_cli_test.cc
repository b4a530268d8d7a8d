// End to end: while another process holds a package in memory, `tessera list` and `show` print
// its lifecycle state and, apart from it, the live state with the pid (text and --json), and
// `remove` is refused naming the pid; once that process is killed, nothing is live, `doctor`
// finds the store consistent and `remove` succeeds (ADR 0016).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "run_cli.h"
#include "held_child.h"
#include "tessera/runtime.h"

namespace tessera {
namespace {

using testing::CliRun;
using testing::RunCli;

constexpr const char* kSkill = "dev.tessera.skills.date";

class LiveStatesCli : public ::testing::Test {
 protected:
  // The bundled skills packed and signed by a generated key, trusted.
  static void SetUpTestSuite() {
    // Per process: ctest runs each test of the suite as its own process, in parallel.
    work_ = ::testing::TempDir() + "tessera-live-cli-" + std::to_string(::getpid());
    home_ = work_ + "/home";
    ASSERT_EQ(std::system(("rm -rf '" + work_ + "' && mkdir -p '" + work_ + "'").c_str()), 0);
    ASSERT_EQ(Run({"key", "generate", "local"}).exit_code, 0);
    ASSERT_EQ(Run({"trust", "add", "local", "--prefix", "dev.tessera.", "--capability", "emit:*"})
                  .exit_code,
              0);
    const std::string cmd = "python3 '" TESSERA_SOURCE_DIR "/scripts/package-models' --tessera '" +
                            std::string(TESSERA_CLI_PATH) + "' --out '" + work_ +
                            "/pk' --key local --home '" + home_ + "' > /dev/null";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }

  // Each test starts with the skill installed (again, if a test before it removed it).
  void SetUp() override {
    CliRun installed = Run({"install", work_ + "/pk/date.tpkg"});
    ASSERT_EQ(installed.exit_code, 0) << installed.err;
  }

  static void TearDownTestSuite() { std::system(("rm -rf '" + work_ + "'").c_str()); }

  static CliRun Run(std::vector<std::string> args) {
    args.push_back("--home");
    args.push_back(home_);
    return RunCli(args);
  }

  static inline std::string work_;
  static inline std::string home_;
};

// A forked child holding `ref` in a runtime (a lease, so active) until it is killed.
class Holder : public tessera::testing::HeldChild {
 public:
  Holder(const std::string& home, const std::string& ref)
      : HeldChild([&] {
          RuntimeOptions o;
          o.home = home;
          o.n_threads = 1;
          Result<std::unique_ptr<Runtime>> rt = Runtime::Open(std::move(o));
          if (!rt.ok() || !(*rt)->Acquire(ref).ok()) return false;
          (void)(*rt)->Report();  // flushes the live file
          (void)rt->release();    // held until the child is killed
          return true;
        }) {}
};

nlohmann::json ParseOutput(const CliRun& r) {
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(j.is_discarded()) << r.out;
  return j;
}

TEST_F(LiveStatesCli, ListAndShowPrintTheLiveStateApartFromTheLifecycle) {
  {
    CliRun list = Run({"list", "--json"});
    ASSERT_EQ(list.exit_code, 0) << list.err;
    const nlohmann::json j = ParseOutput(list);
    ASSERT_EQ(j.size(), 1u);
    EXPECT_EQ(j[0]["state"], "installed");
    EXPECT_EQ(j[0]["live"], nlohmann::json::array());
  }
  Holder holder(home_, kSkill);
  ASSERT_TRUE(holder.ready());
  const std::string pid = std::to_string(holder.pid());
  const nlohmann::json live = nlohmann::json::array({{{"state", "active"}, {"pid", holder.pid()}}});

  CliRun list = Run({"list", "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  const nlohmann::json listed = ParseOutput(list);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0]["state"], "installed");  // the lifecycle, not overloaded
  EXPECT_EQ(listed[0]["live"], live);

  CliRun show = Run({"show", kSkill, "--json"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  const nlohmann::json shown = ParseOutput(show);
  EXPECT_EQ(shown["state"], "installed");
  EXPECT_EQ(shown["live"], live);
  for (const nlohmann::json& h : shown["history"]) EXPECT_EQ(h["to"], "installed");

  CliRun text = Run({"list"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("  installed, active in pid " + pid + "\n"), std::string::npos)
      << text.out;
  CliRun show_text = Run({"show", kSkill});
  ASSERT_EQ(show_text.exit_code, 0) << show_text.err;
  EXPECT_EQ(show_text.out.rfind(
                std::string(kSkill) + "@2.0.0  model  installed, active in pid " + pid + "\n", 0),
            0u)
      << show_text.out;

  CliRun refused = Run({"remove", kSkill});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("failed_precondition"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("it is active in pid " + pid), std::string::npos) << refused.err;

  holder.Kill();
  CliRun after = Run({"list", "--json"});
  ASSERT_EQ(after.exit_code, 0) << after.err;
  EXPECT_EQ(ParseOutput(after)[0]["live"], nlohmann::json::array());
  CliRun doctor = Run({"doctor"});
  EXPECT_EQ(doctor.exit_code, 0) << doctor.out << doctor.err;
  EXPECT_EQ(doctor.out, "the store is consistent\n");
  CliRun removed = Run({"remove", kSkill});
  EXPECT_EQ(removed.exit_code, 0) << removed.err;
}

TEST_F(LiveStatesCli, DoctorReportsAndRepairsTheFilesOfAKilledProcess) {
  {
    Holder holder(home_, kSkill);
    ASSERT_TRUE(holder.ready());
  }  // killed: its files stay until a reader or doctor removes them
  CliRun check = Run({"doctor"});
  EXPECT_NE(check.exit_code, 0);
  EXPECT_NE(check.out.find("which has ended"), std::string::npos) << check.out;
  CliRun repair = Run({"doctor", "--repair"});
  EXPECT_EQ(repair.exit_code, 0) << repair.err;
  EXPECT_NE(repair.out.find("repaired: removed live/"), std::string::npos) << repair.out;
  CliRun again = Run({"doctor"});
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
}

}  // namespace
}  // namespace tessera
