// tessera install FILE | remove ID[@VERSION] | verify [ID[@VERSION]|--all] | doctor [--repair]
// [--rehash] | quarantine list|show N: admitting packages and checking the store.
#include <cstdio>
#include <string>

#include "command.h"
#include "store_cli.h"

namespace tessera::cli {
namespace {

struct Options {
  std::string home;
  std::string target;  // file or package ref
  std::string reason;
  bool all = false;
  bool repair = false;
  bool rehash = false;
  bool json = false;
  std::int64_t seq = 0;
};

int RunInstall(registry::Registry& store, const Options& o) {
  Result<registry::InstallResult> r = store.Install(o.target);
  if (!r.ok()) return ReportError(r.status());
  const registry::PackageRecord& rec = r->record;
  if (r->already_installed) {
    std::printf("%s@%s is already installed (same bytes)", rec.id.c_str(), rec.version.c_str());
    if (!registry::IsUsable(rec.state)) {
      // Installing again restores nothing; say what does.
      std::printf(", but it is %s: %s\n", std::string(registry::StateName(rec.state)).c_str(),
                  rec.state == registry::State::kQuarantined
                      ? "remove it, then install it again"
                      : ("tessera resume " + rec.id + "@" + rec.version + " makes it usable")
                            .c_str());
    } else {
      std::printf("\n");
    }
    return 0;
  }
  std::printf("installed %s@%s (%s), %s, %llu new bytes in the store\n", rec.id.c_str(),
              rec.version.c_str(), rec.kind.c_str(),
              rec.signer.empty() ? "unsigned" : ("signed by " + rec.signer).c_str(),
              static_cast<unsigned long long>(r->new_blob_bytes));
  for (const std::string& old : r->retired) std::printf("retired %s (replaced)\n", old.c_str());
  for (const std::string& adapter : r->stranded) {
    std::printf("note: adapter %s cannot be loaded while its base is retired\n", adapter.c_str());
  }
  return 0;
}

int RunVerify(registry::Registry& store, const Options& o) {
  std::string id, version;
  if (!o.all) SplitPackageRef(o.target, &id, &version);
  if (!o.all && id.empty()) {
    return ReportError(Status(StatusCode::kInvalidArgument, "verify: give ID[@VERSION] or --all"));
  }
  Result<std::vector<registry::VerifyResult>> results = store.Verify(id, version);
  if (!results.ok()) return ReportError(results.status());
  int failed = 0;
  for (const registry::VerifyResult& v : *results) {
    std::printf("%s: %s\n", v.package.c_str(), v.ok ? "ok" : ("QUARANTINED: " + v.problem).c_str());
    failed += v.ok ? 0 : 1;
  }
  if (failed > 0) {
    return ReportError(Status(StatusCode::kIntegrity, "verify: " + std::to_string(failed) +
                                                          " package(s) failed and were "
                                                          "quarantined"));
  }
  return 0;
}

int RunDoctor(registry::Registry& store, const Options& o) {
  Result<registry::DoctorReport> report = store.Doctor(o.repair, o.rehash);
  if (!report.ok()) return ReportError(report.status());
  for (const std::string& f : report->findings) std::printf("found: %s\n", f.c_str());
  for (const std::string& r : report->repairs) std::printf("repaired: %s\n", r.c_str());
  if (report->findings.empty()) std::printf("the store is consistent\n");
  if (!report->consistent) {
    return ReportError(
        Status(StatusCode::kIntegrity, o.repair ? "doctor: the store could not be repaired"
                                                : "doctor: problems found; run with --repair"));
  }
  return 0;
}

int RunQuarantine(registry::Registry& store, const Options& o, bool show) {
  Result<std::vector<registry::QuarantineRecord>> list = store.QuarantineList();
  if (!list.ok()) return ReportError(list.status());
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  bool found = false;
  for (const registry::QuarantineRecord& q : *list) {
    if (show && q.seq != o.seq) continue;
    found = true;
    if (o.json || show) {
      out.push_back({{"seq", q.seq},
                     {"at", FormatTime(q.at)},
                     {"source", q.source},
                     {"file_sha256", q.file_sha256},
                     {"package", q.package},
                     {"step", q.step},
                     {"code", q.code},
                     {"reason", q.reason},
                     {"path", store.home() + "/" + q.path}});
    } else {
      std::printf("%4lld  %s  %-10s %-30s %s\n", static_cast<long long>(q.seq),
                  FormatTime(q.at).c_str(), q.step.c_str(),
                  q.package.empty() ? "(unreadable)" : q.package.c_str(), q.source.c_str());
    }
  }
  if (show && !found) {
    return ReportError(
        Status(StatusCode::kNotFound, "quarantine: no record " + std::to_string(o.seq)));
  }
  if (show) std::printf("%s\n", out[0].dump(2).c_str());
  if (o.json && !show) std::printf("%s\n", out.dump(2).c_str());
  return 0;
}

}  // namespace

RunFn AddInstall(CLI::App& app) {
  auto o = std::make_shared<Options>();
  std::vector<std::pair<CLI::App*, std::function<int(registry::Registry&)>>> subs;
  CLI::App* install = app.add_subcommand("install", "Verify a package file and admit it");
  install->add_option("file", o->target, "package file")->required();
  subs.push_back({install, [o](registry::Registry& s) { return RunInstall(s, *o); }});
  CLI::App* remove = app.add_subcommand("remove",
                                        "Remove a package version (all versions "
                                        "without @VERSION)");
  remove->add_option("package", o->target, "ID[@VERSION]")->required();
  remove->add_option("--reason", o->reason, "recorded with the transition");
  subs.push_back({remove, [o](registry::Registry& s) {
                    std::string id, version;
                    SplitPackageRef(o->target, &id, &version);
                    Status st = s.Remove(id, version, o->reason.empty() ? "removed" : o->reason);
                    if (!st.ok()) return ReportError(st);
                    std::printf("removed %s\n", o->target.c_str());
                    return 0;
                  }});
  CLI::App* verify = app.add_subcommand("verify", "Hash the stored bytes of packages again");
  verify->add_option("package", o->target, "ID[@VERSION]");
  verify->add_flag("--all", o->all, "every installed package");
  subs.push_back({verify, [o](registry::Registry& s) { return RunVerify(s, *o); }});
  CLI::App* doctor = app.add_subcommand("doctor", "Check the store (and repair it after a crash)");
  doctor->add_flag("--repair", o->repair, "remove leftovers, quarantine damaged packages");
  doctor->add_flag("--rehash", o->rehash, "hash every blob (slow) instead of checking sizes");
  subs.push_back({doctor, [o](registry::Registry& s) { return RunDoctor(s, *o); }});
  CLI::App* quarantine = app.add_subcommand("quarantine", "Rejected packages and why");
  quarantine->require_subcommand(1);
  CLI::App* qlist = quarantine->add_subcommand("list", "List quarantine records");
  qlist->add_flag("--json", o->json, "JSON output");
  CLI::App* qshow = quarantine->add_subcommand("show", "Show one quarantine record");
  qshow->add_option("seq", o->seq, "record number")->required();
  subs.push_back({quarantine, [o, qshow](registry::Registry& s) {
                    return RunQuarantine(s, *o, qshow->parsed());
                  }});
  for (auto& [sub, fn] : subs) {
    if (sub != quarantine) AddHomeOption(sub, &o->home);
  }
  AddHomeOption(qlist, &o->home);
  AddHomeOption(qshow, &o->home);
  return [o, subs] {
    for (const auto& [sub, fn] : subs) {
      if (!sub->parsed()) continue;
      Result<std::unique_ptr<registry::Registry>> store = OpenStore(o->home);
      if (!store.ok()) return ReportError(store.status());
      return fn(**store);
    }
    return 2;
  };
}

}  // namespace tessera::cli
