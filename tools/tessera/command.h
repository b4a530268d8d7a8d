// The `tessera` command's subcommands. Each lives in its own cmd_<name>.cc and registers itself
// on the CLI11 app; its run function returns the process exit status.
//
// Exit statuses: 0 success; 1 a Tessera error (one line on stderr: "tessera: <code>: <message>");
// 2 a usage error (from CLI11). CLI11 reports usage errors with exceptions: they are caught in
// main.cc and nowhere else (docs/adr/0003-cli11-exceptions-at-the-boundary.md).
#ifndef TESSERA_TOOLS_TESSERA_COMMAND_H_
#define TESSERA_TOOLS_TESSERA_COMMAND_H_

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

#include "tessera/status.h"

namespace tessera::cli {

using RunFn = std::function<int()>;

// Each Add* function adds one subcommand to `app` and returns the function that runs it after
// parsing (its options are bound to state owned by that function).
RunFn AddInspect(CLI::App& app);
RunFn AddTokenize(CLI::App& app);
RunFn AddGenerate(CLI::App& app);
RunFn AddScore(CLI::App& app);
RunFn AddSynth(CLI::App& app);
RunFn AddQuantize(CLI::App& app);
RunFn AddBench(CLI::App& app);
RunFn AddRoofline(CLI::App& app);
RunFn AddEval(CLI::App& app);
RunFn AddConvert(CLI::App& app);
// Packages and the registry (cmd_pack.cc, cmd_trust.cc, cmd_install.cc, cmd_list.cc,
// cmd_lifecycle.cc).
RunFn AddPack(CLI::App& app);
RunFn AddKey(CLI::App& app);
RunFn AddTrust(CLI::App& app);
RunFn AddInstall(CLI::App& app);  // install, remove, verify, doctor, quarantine
RunFn AddList(CLI::App& app);     // list, show, graph
RunFn AddLifecycle(CLI::App& app);  // suspend, resume, retire, rollback
RunFn AddRun(CLI::App& app);        // run, resident (cmd_run.cc)
RunFn AddAsk(CLI::App& app);        // ask, replay, calibrate (cmd_ask.cc)
RunFn AddEvidence(CLI::App& app);   // evidence list|show|verify|export|prune (cmd_evidence.cc)

// Prints "tessera: <code>: <message>" to stderr and returns exit status 1.
int ReportError(const Status& status);
// Prints "tessera: warning: <message>" to stderr for each of `warnings` (Model::warnings()).
void ReportWarnings(const std::vector<std::string>& warnings);

}  // namespace tessera::cli

#endif  // TESSERA_TOOLS_TESSERA_COMMAND_H_
