// tessera: the command-line front end. See command.h for exit statuses.
#include <cstdio>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "base/printable.h"
#include "command.h"
#include "version.h"

namespace tessera::cli {

int ReportError(const Status& status) {
  // Messages quote untrusted text (manifest values, metadata, file names): escaped, never raw.
  std::fprintf(stderr, "tessera: %s\n", base::PrintableLines(status.ToString()).c_str());
  return 1;
}

void ReportWarnings(const std::vector<std::string>& warnings) {
  for (const std::string& w : warnings) {
    std::fprintf(stderr, "tessera: warning: %s\n", base::PrintableLines(w).c_str());
  }
}

namespace {

int Main(int argc, char** argv) {
  CLI::App app{"tessera: a runtime for modular tiny language models"};
  app.require_subcommand(1);
  app.set_version_flag("--version", kVersion);
  // An adder may add several subcommands that share one run function.
  std::vector<std::pair<std::vector<CLI::App*>, RunFn>> commands;
  auto add = [&](RunFn (*adder)(CLI::App&)) {
    const std::size_t before = app.get_subcommands([](CLI::App*) { return true; }).size();
    RunFn run = adder(app);
    std::vector<CLI::App*> all = app.get_subcommands([](CLI::App*) { return true; });
    commands.emplace_back(std::vector<CLI::App*>(all.begin() + before, all.end()),
                          std::move(run));
  };
  add(&AddGenerate);
  add(&AddTokenize);
  add(&AddScore);
  add(&AddInspect);
  add(&AddSynth);
  add(&AddQuantize);
  add(&AddBench);
  add(&AddRoofline);
  add(&AddEval);
  add(&AddConvert);
  add(&AddPack);
  add(&AddKey);
  add(&AddTrust);
  add(&AddInstall);
  add(&AddList);
  add(&AddLifecycle);
  add(&AddRun);
  add(&AddAsk);
  add(&AddEvidence);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 signals usage errors and --help with exceptions; this is the only place they are seen.
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  for (auto& [subs, run] : commands) {
    for (CLI::App* sub : subs) {
      if (!sub->parsed()) continue;
      // Errors are Status values; an exception reaching here is a bug, reported as one line
      // and exit 1 rather than an abort, whatever the input.
      try {
        return run();
      } catch (const std::exception& e) {
        return ReportError(Status(StatusCode::kInternal,
                                  std::string("uncaught exception (a bug): ") + e.what()));
      }
    }
  }
  return 2;
}

}  // namespace
}  // namespace tessera::cli

int main(int argc, char** argv) { return tessera::cli::Main(argc, argv); }
