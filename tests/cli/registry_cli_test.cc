// End to end: the bundled models packed by scripts/package-models, signed with a generated key,
// trusted, installed, listed, verified, shown, and refused when tampered with, all through the
// `tessera` command against a temporary store (--home).
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "run_cli.h"

namespace tessera {
namespace {

using testing::CliRun;
using testing::RunCli;

class RegistryCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    work_ = ::testing::TempDir() + "tessera-registry-cli";
    home_ = work_ + "/home";
    ASSERT_EQ(std::system(("rm -rf '" + work_ + "' && mkdir -p '" + work_ + "'").c_str()), 0);
  }

  static CliRun Run(std::vector<std::string> args) {
    args.push_back("--home");
    args.push_back(home_);
    return RunCli(args);
  }

  static std::vector<std::string> PackAll() {
    const std::string list = work_ + "/packages.txt";
    const std::string cmd = "python3 '" TESSERA_SOURCE_DIR "/scripts/package-models' --tessera '" +
                            std::string(TESSERA_CLI_PATH) + "' --out '" + work_ +
                            "/pk' --key local --home '" + home_ + "' > '" + list + "'";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    std::ifstream in(list);
    std::vector<std::string> files;
    for (std::string line; std::getline(in, line);) files.push_back(line);
    return files;
  }

  static inline std::string work_;
  static inline std::string home_;
};

TEST_F(RegistryCli, BundledSkillsGoThroughTheWholeLifecycle) {
  ASSERT_EQ(Run({"key", "generate", "local"}).exit_code, 0);
  CliRun again = Run({"key", "generate", "local"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("exists"), std::string::npos) << again.err;

  const std::vector<std::string> files = PackAll();
  ASSERT_EQ(files.size(), 16u);  // base, 6 specialists, generalist, router, 6 adapters, policy

  // Not trusted yet: refused and quarantined.
  CliRun refused = Run({"install", files[0]});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("permission_denied"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find(": signature: "), std::string::npos) << refused.err;

  ASSERT_EQ(Run({"trust", "add", "local", "--prefix", "dev.tessera.", "--capability", "emit:*",
                 "--capability", "route:skills"})
                .exit_code,
            0);
  for (const std::string& f : files) {
    CliRun r = Run({"install", f});
    ASSERT_EQ(r.exit_code, 0) << f << "\n" << r.err;
  }
  CliRun twice = Run({"install", files[0]});
  EXPECT_EQ(twice.exit_code, 0);
  EXPECT_NE(twice.out.find("already installed"), std::string::npos) << twice.out;

  ASSERT_EQ(Run({"verify", "--all"}).exit_code, 0);
  CliRun list = Run({"list", "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  nlohmann::json all = nlohmann::json::parse(list.out);
  ASSERT_EQ(all.size(), 16u);
  for (const auto& p : all) {
    EXPECT_EQ(p["state"], "verified") << p["id"];
    EXPECT_EQ(p["signer"], "local");
  }

  CliRun show = Run({"show", "dev.tessera.adapters.date", "--json"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  nlohmann::json s = nlohmann::json::parse(show.out);
  EXPECT_EQ(s["base"], "dev.tessera.base@1.0.0");
  EXPECT_EQ(s["history"].size(), 2u);
  EXPECT_EQ(s["manifest"]["quality"][0]["cases"], 500);
  for (const auto& [name, path] : s["paths"].items()) {
    EXPECT_TRUE(std::ifstream(path.get<std::string>()).good()) << name;
  }
  CliRun router = Run({"show", "dev.tessera.router", "--json"});
  EXPECT_EQ(nlohmann::json::parse(router.out)["granted"], nlohmann::json({"route:skills"}));

  CliRun graph = Run({"graph", "dev.tessera.adapters.date"});
  EXPECT_NE(graph.out.find("-> dev.tessera.base@1.0.0"), std::string::npos) << graph.out;
  CliRun remove = Run({"remove", "dev.tessera.base"});
  EXPECT_EQ(remove.exit_code, 1);
  EXPECT_NE(remove.err.find("is bound to"), std::string::npos) << remove.err;
  EXPECT_EQ(Run({"suspend", "dev.tessera.skills.date", "--reason", "test"}).exit_code, 0);
  EXPECT_EQ(Run({"resume", "dev.tessera.skills.date"}).exit_code, 0);
  CliRun doctor = Run({"doctor"});
  EXPECT_EQ(doctor.exit_code, 0) << doctor.out << doctor.err;

  // A tampered package: one flipped byte in the middle of the weights.
  std::ifstream in(files[1], std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  bytes[bytes.size() / 2] ^= 0x10;
  const std::string bad = work_ + "/tampered.tpkg";
  std::ofstream(bad, std::ios::binary) << bytes;
  CliRun tampered = Run({"install", bad});
  EXPECT_EQ(tampered.exit_code, 1);
  EXPECT_NE(tampered.err.find("integrity"), std::string::npos) << tampered.err;
  CliRun q = Run({"quarantine", "show", "2"});
  ASSERT_EQ(q.exit_code, 0) << q.err;
  nlohmann::json record = nlohmann::json::parse(q.out);
  EXPECT_EQ(record["step"], "artifacts");
  EXPECT_EQ(record["source"], bad);
  EXPECT_EQ(nlohmann::json::parse(Run({"list", "--json"}).out).size(), 16u);
}

}  // namespace
}  // namespace tessera
