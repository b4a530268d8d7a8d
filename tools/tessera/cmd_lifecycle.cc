// tessera suspend|resume|retire ID[@VERSION] [--reason R] | rollback ID [--reason R]: lifecycle
// changes, each recorded with its time and reason. Suspending or retiring a base notes the
// adapters it leaves unloadable.
#include <cstdio>
#include <string>
#include <vector>

#include "command.h"
#include "store_cli.h"

namespace tessera::cli {
namespace {

// After `id` was suspended, retired or rolled back: the usable adapters bound to one of its
// versions that can no longer be loaded (registry.h, CheckLoadable), one note each.
void NoteStrandedAdapters(registry::Registry& store, const std::string& id) {
  Result<std::vector<registry::PackageRecord>> all = store.List();
  if (!all.ok()) return;  // the change itself succeeded; the note is a courtesy
  for (const registry::PackageRecord& r : *all) {
    if (!registry::IsUsable(r.state) || r.base.rfind(id + "@", 0) != 0) continue;
    if (Status s = store.CheckLoadable(r); !s.ok()) std::printf("note: %s\n", s.message().c_str());
  }
}

}  // namespace

RunFn AddLifecycle(CLI::App& app) {
  struct Options {
    std::string home;
    std::string target;
    std::string reason;
  };
  auto o = std::make_shared<Options>();
  CLI::App* suspend = app.add_subcommand("suspend", "Refuse a package temporarily");
  CLI::App* resume = app.add_subcommand("resume",
                                        "Return a suspended or retired version to its state "
                                        "before");
  CLI::App* retire = app.add_subcommand("retire", "Allow no new activations of a version");
  CLI::App* rollback = app.add_subcommand("rollback",
                                          "Retire the current version and return to "
                                          "its known-good version");
  for (CLI::App* sub : {suspend, resume, retire, rollback}) {
    sub->add_option("package", o->target, sub == rollback ? "ID" : "ID[@VERSION]")->required();
    sub->add_option("--reason", o->reason, "recorded with the transition");
    AddHomeOption(sub, &o->home);
  }
  return [=] {
    Result<std::unique_ptr<registry::Registry>> store = OpenStore(o->home);
    if (!store.ok()) return ReportError(store.status());
    std::string id, version;
    SplitPackageRef(o->target, &id, &version);
    const std::string reason = o->reason.empty() ? "by the operator" : o->reason;
    if (rollback->parsed()) {
      if (!version.empty()) {
        return ReportError(Status(StatusCode::kInvalidArgument,
                                  "rollback: give the ID only; it returns to the current "
                                  "version's rollback.known_good"));
      }
      Result<std::string> now = (*store)->Rollback(id, reason);
      if (!now.ok()) return ReportError(now.status());
      std::printf("rolled back %s to %s\n", id.c_str(), now->c_str());
      NoteStrandedAdapters(**store, id);
      return 0;
    }
    Status s = suspend->parsed()  ? (*store)->Suspend(id, version, reason)
               : resume->parsed() ? (*store)->Resume(id, version, reason)
                                  : (*store)->Retire(id, version, reason);
    if (!s.ok()) return ReportError(s);
    std::printf("%s %s\n",
                suspend->parsed()  ? "suspended"
                : resume->parsed() ? "resumed"
                                   : "retired",
                o->target.c_str());
    if (!resume->parsed()) NoteStrandedAdapters(**store, id);
    return 0;
  };
}

}  // namespace tessera::cli
