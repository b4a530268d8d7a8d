// Runs the built `tessera` binary with arguments passed verbatim (no shell), capturing its exit
// status, stdout and stderr. Used by the end-to-end CLI tests only.
#ifndef TESSERA_TESTS_CLI_RUN_CLI_H_
#define TESSERA_TESTS_CLI_RUN_CLI_H_

#include <string>
#include <vector>

namespace tessera::testing {

struct CliRun {
  int exit_code = -1;  // -1 if the process did not exit normally (a crash)
  std::string out;
  std::string err;
};

CliRun RunCli(const std::vector<std::string>& args);

}  // namespace tessera::testing

#endif  // TESSERA_TESTS_CLI_RUN_CLI_H_
