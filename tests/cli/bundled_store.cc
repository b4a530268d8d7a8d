#include "bundled_store.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "run_cli.h"

namespace tessera::testing {

void MakeBundledStore(const std::string& work, const std::string& home) {
  auto run = [&](std::vector<std::string> args) {
    args.push_back("--home");
    args.push_back(home);
    return RunCli(args);
  };
  ASSERT_EQ(run({"key", "generate", "local"}).exit_code, 0);
  ASSERT_EQ(run({"trust", "add", "local", "--prefix", "dev.tessera.", "--capability", "emit:*",
                 "--capability", "route:skills"})
                .exit_code,
            0);
  const std::string list = work + "/packages.txt";
  const std::string cmd = "python3 '" TESSERA_SOURCE_DIR "/scripts/package-models' --tessera '" +
                          std::string(TESSERA_CLI_PATH) + "' --out '" + work +
                          "/pk' --key local --home '" + home + "' > '" + list + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::ifstream in(list);
  for (std::string f; std::getline(in, f);) ASSERT_EQ(run({"install", f}).exit_code, 0) << f;
  ASSERT_EQ(run({"verify", "--all"}).exit_code, 0);
}

}  // namespace tessera::testing
