// tessera: the command-line front end. See command.h for exit statuses.
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "command.h"
#include "version.h"

namespace tessera::cli {

int ReportError(const Status& status) {
  std::fprintf(stderr, "tessera: %s\n", status.ToString().c_str());
  return 1;
}

namespace {

int Main(int argc, char** argv) {
  CLI::App app{"tessera: a runtime for modular tiny language models"};
  app.require_subcommand(1);
  app.set_version_flag("--version", kVersion);
  std::vector<std::pair<CLI::App*, RunFn>> commands;
  auto add = [&](RunFn (*adder)(CLI::App&)) {
    RunFn run = adder(app);
    commands.emplace_back(app.get_subcommands([](CLI::App*) { return true; }).back(),
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
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 signals usage errors and --help with exceptions; this is the only place they are seen.
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  for (auto& [sub, run] : commands) {
    if (sub->parsed()) return run();
  }
  return 2;
}

}  // namespace
}  // namespace tessera::cli

int main(int argc, char** argv) { return tessera::cli::Main(argc, argv); }
