// The store on hostile file systems and with hostile text (issue 17): mounted read-only, on a
// full disk, a --home that does not exist, and a manifest whose title holds terminal escapes.
// Read-only mounts and full disks are made in a user and mount namespace (unshare -rm: a
// read-only bind mount, a small tmpfs filled to the last block); where namespaces are not
// available the two tests skip, saying so.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "bundled_store.h"
#include "run_cli.h"

namespace tessera {
namespace {

using testing::CliRun;
using testing::RunCli;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool NamespacesWork() {
  return std::system("unshare -rm sh -c 'mount -t tmpfs -o size=1m none /mnt' >/dev/null 2>&1") ==
         0;
}

class StoreFs : public ::testing::Test {
 protected:
  void SetUp() override {
    work_ = ::testing::TempDir() + "tessera-store-fs-" + std::to_string(::getpid());
    home_ = work_ + "/home";
    ASSERT_EQ(std::system(("rm -rf '" + work_ + "' && mkdir -p '" + work_ + "'").c_str()), 0);
  }
  void TearDown() override { std::system(("rm -rf '" + work_ + "'").c_str()); }

  // Runs `steps` (name -> tessera arguments, quoted for sh) in one namespace after `setup` (sh),
  // each step's exit status, stdout and stderr kept in <work>/out/<name>.{rc,out,err}.
  struct Step {
    std::string name;
    std::string args;
  };
  void RunInNamespace(const std::string& setup, const std::vector<Step>& steps) {
    std::string script = "set -e\n" + setup + "\nset +e\nmkdir -p '" + work_ + "/out'\n";
    for (const Step& s : steps) {
      const std::string out = work_ + "/out/" + s.name;
      script += "'" + std::string(TESSERA_CLI_PATH) + "' " + s.args + " >'" + out + ".out' 2>'" +
                out + ".err'; echo $? >'" + out + ".rc'\n";
    }
    std::ofstream(work_ + "/script.sh") << script;
    ASSERT_EQ(std::system(("unshare -rm sh '" + work_ + "/script.sh'").c_str()), 0) << script;
  }
  CliRun Result(const std::string& name) {
    CliRun r;
    const std::string base = work_ + "/out/" + name;
    r.exit_code = std::atoi(Slurp(base + ".rc").c_str());
    r.out = Slurp(base + ".out");
    r.err = Slurp(base + ".err");
    return r;
  }

  std::string work_;
  std::string home_;
};

TEST_F(StoreFs, ReadingCommandsWorkOnAReadOnlyMount) {
  if (!NamespacesWork()) GTEST_SKIP() << "unshare -rm (user and mount namespaces) is not available";
  testing::MakeBundledStore(work_, home_);
  const std::string h = " --home '" + home_ + "'";
  RunInNamespace("mount --bind '" + home_ + "' '" + home_ + "'\nmount -o remount,bind,ro '" +
                     home_ + "' '" + home_ + "'\n! touch '" + home_ + "/probe' 2>/dev/null",
                 {{"list", "list" + h},
                  {"show", "show dev.tessera.skills.arith" + h},
                  {"verify", "verify --all" + h},
                  {"doctor", "doctor" + h},
                  {"trust", "trust list" + h},
                  {"evidence", "evidence list" + h},
                  {"run", "run dev.tessera.skills.date 'date: 5th of March, 2021' -t 1" + h},
                  {"ask_no_evidence", "ask 'what is 12 plus 7' --no-evidence -t 1" + h},
                  {"ask", "ask 'what is 12 plus 7' -t 1" + h},
                  {"remove", "remove dev.tessera.skills.arith" + h},
                  {"repair", "doctor --repair" + h}});
  for (const char* name : {"list", "show", "verify", "doctor", "trust", "evidence", "run"}) {
    CliRun r = Result(name);
    EXPECT_EQ(r.exit_code, 0) << name << ": " << r.err;
  }
  EXPECT_NE(Result("list").out.find("dev.tessera.skills.arith"), std::string::npos);
  EXPECT_NE(Result("verify").out.find("dev.tessera.skills.unit@2.0.0: ok"), std::string::npos);
  EXPECT_EQ(Result("run").out, "2021-03-05\n");
  const CliRun ask = Result("ask_no_evidence");
  EXPECT_TRUE(ask.exit_code == 0 || ask.exit_code == 3) << ask.err;
  for (const char* name : {"ask", "remove", "repair"}) {
    CliRun r = Result(name);
    EXPECT_EQ(r.exit_code, 1) << name;
    EXPECT_NE(r.err.find("read-only"), std::string::npos) << name << ": " << r.err;
  }
}

TEST_F(StoreFs, AFullDiskStillListsShowsRunsAndRemoves) {
  if (!NamespacesWork()) GTEST_SKIP() << "unshare -rm (user and mount namespaces) is not available";
  testing::MakeBundledStore(work_, home_);
  const std::string disk = work_ + "/disk";
  ASSERT_EQ(std::system(("mkdir -p '" + disk + "'").c_str()), 0);
  const std::string h = " --home '" + disk + "'";
  RunInNamespace("mount -t tmpfs -o size=48m none '" + disk + "'\ncp -a '" + home_ + "/.' '" +
                     disk + "/'\n'" + TESSERA_CLI_PATH + "' doctor --repair" + h +
                     " >/dev/null\ntest -s '" + disk + "/reserve'\n" + "dd if=/dev/zero of='" +
                     disk + "/fill' bs=64k 2>/dev/null || true\n" + "! dd if=/dev/zero of='" +
                     disk + "/probe' bs=4k count=1 2>/dev/null",
                 {{"list", "list" + h},
                  {"show", "show dev.tessera.skills.arith" + h},
                  {"verify", "verify --all" + h},
                  {"run", "run dev.tessera.skills.date 'date: 5th of March, 2021' -t 1" + h},
                  {"trust", "trust add local --prefix dev.other." + h},
                  {"remove_policy", "remove dev.tessera.policy.skills" + h},
                  {"remove_adapter", "remove dev.tessera.adapters.reverse" + h},
                  {"after", "list" + h}});
  for (const char* name : {"list", "show", "verify", "run", "remove_policy", "remove_adapter"}) {
    CliRun r = Result(name);
    EXPECT_EQ(r.exit_code, 0) << name << ": " << r.err;
  }
  EXPECT_EQ(Result("run").out, "2021-03-05\n");
  const CliRun trust = Result("trust");
  EXPECT_EQ(trust.exit_code, 1);
  EXPECT_NE(trust.err.find("resource_exhausted"), std::string::npos) << trust.err;
  EXPECT_NE(trust.err.find("no space left on device"), std::string::npos) << trust.err;
  const std::string after = Result("after").out;
  EXPECT_EQ(after.find("dev.tessera.adapters.reverse"), std::string::npos) << after;
  EXPECT_NE(after.find("dev.tessera.adapters.arith"), std::string::npos) << after;
}

TEST_F(StoreFs, ReadingCommandsNeverCreateAStore) {
  const std::string missing = work_ + "/no/such/store";
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"list"}, std::vector<std::string>{"show", "dev.x.y"},
        std::vector<std::string>{"doctor"}, std::vector<std::string>{"trust", "list"},
        std::vector<std::string>{"quarantine", "list"}}) {
    std::vector<std::string> full = args;
    full.insert(full.end(), {"--home", missing});
    CliRun r = RunCli(full);
    EXPECT_EQ(r.exit_code, 1) << args[0];
    EXPECT_NE(r.err.find("no store at " + missing), std::string::npos) << r.err;
    EXPECT_NE(::access((work_ + "/no").c_str(), F_OK), 0) << args[0] << " created the store";
  }
}

TEST_F(StoreFs, ShowEscapesTerminalControlsInManifestText) {
  testing::MakeBundledStore(work_, home_);
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.end(), {"--home", home_});
    return RunCli(args);
  };
  // The arith skill again as 1.0.1, its title and domain carrying escapes.
  CliRun shown = run({"show", "dev.tessera.skills.arith", "--json"});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  nlohmann::json j = nlohmann::json::parse(shown.out);
  nlohmann::json manifest = j["manifest"];
  manifest["version"] = "1.0.1";
  manifest["title"] = "Arith\x1b]0;pwned\a\x1b[2J\xE2\x80\xAE";
  manifest["contract"]["domain"] = "sums\x1b[31m in red";
  const std::string dir = work_ + "/evil";
  ASSERT_EQ(std::system(("mkdir -p '" + dir + "'").c_str()), 0);
  std::ofstream(dir + "/manifest.json") << manifest.dump(2);
  for (auto& [name, path] : j["paths"].items()) {
    ASSERT_EQ(
        std::system(("cp '" + path.get<std::string>() + "' '" + dir + "/" + name + "'").c_str()),
        0);
  }
  ASSERT_EQ(run({"pack", dir, "-o", work_ + "/evil.tpkg", "--key", "local"}).exit_code, 0);
  CliRun install = run({"install", work_ + "/evil.tpkg"});
  ASSERT_EQ(install.exit_code, 0) << install.err;
  CliRun show = run({"show", "dev.tessera.skills.arith@1.0.1"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_EQ(show.out.find('\x1b'), std::string::npos) << show.out;
  EXPECT_EQ(show.out.find('\a'), std::string::npos) << show.out;
  EXPECT_EQ(show.out.find("\xE2\x80\xAE"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("Arith\\x1B]0;pwned\\x07\\x1B[2J\\u{202E}"), std::string::npos)
      << show.out;
  EXPECT_NE(show.out.find("sums\\x1B[31m in red"), std::string::npos) << show.out;
}

}  // namespace
}  // namespace tessera
