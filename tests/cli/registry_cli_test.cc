// End to end: the bundled models packed by scripts/package-models, signed with a generated key,
// trusted, installed, listed, verified, shown, and refused when tampered with, all through the
// `tessera` command against a temporary store (--home).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
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
  EXPECT_EQ(s["base"], "dev.tessera.base@2.0.0");
  EXPECT_EQ(s["history"].size(), 2u);
  EXPECT_EQ(s["manifest"]["quality"][0]["cases"], 500);
  for (const auto& [name, path] : s["paths"].items()) {
    EXPECT_TRUE(std::ifstream(path.get<std::string>()).good()) << name;
  }
  CliRun router = Run({"show", "dev.tessera.router", "--json"});
  EXPECT_EQ(nlohmann::json::parse(router.out)["granted"], nlohmann::json({"route:skills"}));

  CliRun graph = Run({"graph", "dev.tessera.adapters.date"});
  EXPECT_NE(graph.out.find("-> dev.tessera.base@2.0.0"), std::string::npos) << graph.out;
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

// Issue 17 through the command: an adapter of a retired base is refused at load and reported by
// doctor; `trust unsigned` without a flag prints the allow-list instead of emptying it; the
// quarantine's bounds, a record without a copy, and purge.
class StoreDefencesCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // Per process: ctest runs each test of the suite as its own process, in parallel.
    work_ = ::testing::TempDir() + "tessera-store-defences-" + std::to_string(::getpid());
    home_ = work_ + "/home";
    ASSERT_EQ(std::system(("rm -rf '" + work_ + "' && mkdir -p '" + work_ + "'").c_str()), 0);
    testing::MakeBundledStore(work_, home_);
  }

  static void TearDownTestSuite() { (void)std::system(("rm -rf '" + work_ + "'").c_str()); }

  static CliRun Run(std::vector<std::string> args) {
    args.push_back("--home");
    args.push_back(home_);
    return RunCli(args);
  }

  static inline std::string work_;
  static inline std::string home_;
};

TEST_F(StoreDefencesCli, AnAdapterOfARetiredBaseIsRefusedAtLoadAndDoctorReportsIt) {
  const std::vector<std::string> ask = {"run", "dev.tessera.adapters.arith@2.0.0",
                                        "what is 58 plus 16?\n", "-t", "1"};
  CliRun retired = Run({"retire", "dev.tessera.base"});
  ASSERT_EQ(retired.exit_code, 0) << retired.err;
  EXPECT_NE(retired.out.find("note: registry: adapter dev.tessera.adapters.arith@2.0.0 cannot be "
                             "loaded: its base dev.tessera.base@2.0.0 is retired"),
            std::string::npos)
      << retired.out;
  CliRun refused = Run(ask);
  EXPECT_EQ(refused.exit_code, 1) << refused.out;
  EXPECT_NE(refused.err.find("adapter dev.tessera.adapters.arith@2.0.0 cannot be loaded: its base "
                             "dev.tessera.base@2.0.0 is retired"),
            std::string::npos)
      << refused.err;
  CliRun doctor = Run({"doctor"});
  EXPECT_EQ(doctor.exit_code, 1);
  EXPECT_NE(doctor.out.find("found: dev.tessera.adapters.arith@2.0.0: its base "
                            "dev.tessera.base@2.0.0 is retired"),
            std::string::npos)
      << doctor.out;
  ASSERT_EQ(Run({"resume", "dev.tessera.base"}).exit_code, 0);
  EXPECT_EQ(Run({"doctor"}).exit_code, 0);
  CliRun answered = Run(ask);
  EXPECT_EQ(answered.exit_code, 0) << answered.err;
}

TEST_F(StoreDefencesCli, TrustUnsignedWithoutAFlagPrintsTheListAndClearIsExplicit) {
  ASSERT_EQ(Run({"trust", "unsigned", "--prefix", "dev.local."}).exit_code, 0);
  CliRun shown = Run({"trust", "unsigned"});
  EXPECT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_EQ(shown.out, "unsigned packages: allowed for dev.local.\n");
  nlohmann::json policy = nlohmann::json::parse(Run({"trust", "list", "--json"}).out);
  EXPECT_EQ(policy["unsigned_prefixes"], nlohmann::json({"dev.local."}));
  CliRun both = Run({"trust", "unsigned", "--prefix", "dev.other.", "--clear"});
  EXPECT_EQ(both.exit_code, 1);
  EXPECT_NE(both.err.find("not both"), std::string::npos) << both.err;
  CliRun cleared = Run({"trust", "unsigned", "--clear"});
  EXPECT_EQ(cleared.exit_code, 0);
  EXPECT_EQ(cleared.out, "unsigned packages: refused\n");
  policy = nlohmann::json::parse(Run({"trust", "list", "--json"}).out);
  EXPECT_TRUE(policy["unsigned_prefixes"].empty());
}

TEST_F(StoreDefencesCli, QuarantineBoundsARecordWithoutACopyAndPurge) {
  CliRun limits = Run({"quarantine", "limits", "--max-bytes", "4096", "--max-records", "10"});
  ASSERT_EQ(limits.exit_code, 0) << limits.err;
  EXPECT_EQ(limits.out, "quarantine bounds: 4096 bytes of copies, 10 records (oldest pruned first)\n");
  const std::string junk = work_ + "/junk.tpkg";
  std::ofstream(junk) << std::string(8192, 'j');
  ASSERT_EQ(Run({"install", junk}).exit_code, 1);
  nlohmann::json list = nlohmann::json::parse(Run({"quarantine", "list", "--json"}).out);
  ASSERT_FALSE(list.empty());
  const std::string seq = std::to_string(list.back()["seq"].get<long long>());
  CliRun show = Run({"quarantine", "show", seq});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  nlohmann::json record = nlohmann::json::parse(show.out);
  EXPECT_TRUE(record["path"].is_null()) << show.out;
  EXPECT_EQ(record["copy"], "no copy kept (the reason says why)");
  EXPECT_NE(record["reason"].get<std::string>().find("no copy kept: the file's 8192 bytes"),
            std::string::npos)
      << show.out;
  CliRun unspecified = Run({"quarantine", "purge"});
  EXPECT_EQ(unspecified.exit_code, 1);
  EXPECT_NE(unspecified.err.find("exactly one of"), std::string::npos) << unspecified.err;
  CliRun purged = Run({"quarantine", "purge", "--all"});
  EXPECT_EQ(purged.exit_code, 0) << purged.err;
  EXPECT_NE(purged.out.find("purged " + seq + " (no copy)"), std::string::npos) << purged.out;
  EXPECT_TRUE(nlohmann::json::parse(Run({"quarantine", "list", "--json"}).out).empty());
}

}  // namespace
}  // namespace tessera
