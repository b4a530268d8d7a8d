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
      if (sub->parsed()) return run();
    }
  }
  return 2;
}

}  // namespace
}  // namespace tessera::cli

int main(int argc, char** argv) { return tessera::cli::Main(argc, argv); }
