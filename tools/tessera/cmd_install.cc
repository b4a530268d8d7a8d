// tessera install FILE | remove ID[@VERSION] | verify [ID[@VERSION]|--all] | doctor [--repair]
// [--rehash] | quarantine list|show N|purge (--all|--older-than D|N...)|limits [--max-bytes B]
// [--max-records N]: admitting packages and checking the store. The quarantine's rules are in
// docs/formats/quarantine.md.
#include <cstdio>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "command.h"
#include "options.h"
#include "runtime_cli.h"
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
  std::vector<std::int64_t> seqs;  // quarantine purge
  std::string older_than;          // quarantine purge: "30d", "12h", "90m", "45s"
  std::string max_bytes;           // quarantine limits
  std::int64_t max_records = 0;    // quarantine limits; 0: unchanged
};

// "<N>s|m|h|d" -> milliseconds.
Result<std::int64_t> ParseAge(const std::string& text) {
  static constexpr std::pair<char, std::int64_t> kUnits[] = {
      {'s', 1000}, {'m', 60'000}, {'h', 3'600'000}, {'d', 86'400'000}};
  const Status bad = InvalidArgument("--older-than: \"" + text +
                                     "\" is not a number followed by s, m, h or d (\"30d\")");
  if (text.size() < 2 || text.size() > 12) return bad;
  std::int64_t n = 0;
  for (std::size_t i = 0; i + 1 < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return bad;
    n = n * 10 + (text[i] - '0');
  }
  for (const auto& [unit, ms] : kUnits) {
    if (text.back() == unit) return n * ms;
  }
  return bad;
}

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
                     {"path", q.path.empty() ? nlohmann::ordered_json()
                                             : nlohmann::ordered_json(store.home() + "/" + q.path)},
                     {"copy", q.path.empty() ? "no copy kept (the reason says why)" : "kept"}});
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
  if (show) std::printf("%s\n", DumpJson(out[0]).c_str());
  if (o.json && !show) std::printf("%s\n", DumpJson(out).c_str());
  return 0;
}

int RunPurge(registry::Registry& store, const Options& o) {
  registry::QuarantinePurge which;
  const int ways = (o.all ? 1 : 0) + (o.older_than.empty() ? 0 : 1) + (o.seqs.empty() ? 0 : 1);
  if (ways != 1) {
    return ReportError(InvalidArgument(
        "quarantine purge: give exactly one of --all, --older-than AGE or record numbers"));
  }
  which.seqs = o.seqs;
  if (o.all) which.before_unix_ms = std::numeric_limits<std::int64_t>::max();
  if (!o.older_than.empty()) {
    Result<std::int64_t> age = ParseAge(o.older_than);
    if (!age.ok()) return ReportError(age.status());
    which.before_unix_ms = base::SystemClock().NowUnixMillis() - *age;
  }
  Result<std::vector<registry::QuarantineRecord>> gone = store.PurgeQuarantine(which);
  if (!gone.ok()) return ReportError(gone.status());
  for (const registry::QuarantineRecord& q : *gone) {
    std::printf("purged %lld %s\n", static_cast<long long>(q.seq),
                q.path.empty() ? "(no copy)" : q.path.c_str());
  }
  std::printf("%zu record(s) purged\n", gone->size());
  return 0;
}

int RunLimits(registry::Registry& store, const Options& o) {
  Result<registry::QuarantineBounds> bounds = store.QuarantineLimits();
  if (!bounds.ok()) return ReportError(bounds.status());
  if (!o.max_bytes.empty() || o.max_records != 0) {
    if (o.max_records < 0) {
      return ReportError(InvalidArgument("--max-records: must be at least 1"));
    }
    if (!o.max_bytes.empty()) {
      Result<std::uint64_t> bytes = ParseBytes("--max-bytes", o.max_bytes);
      if (!bytes.ok()) return ReportError(bytes.status());
      bounds->max_bytes = *bytes;
    }
    if (o.max_records != 0) bounds->max_records = static_cast<std::uint64_t>(o.max_records);
    if (Status s = store.SetQuarantineLimits(*bounds); !s.ok()) return ReportError(s);
  }
  std::printf("quarantine bounds: %llu bytes of copies, %llu records (oldest pruned first)\n",
              static_cast<unsigned long long>(bounds->max_bytes),
              static_cast<unsigned long long>(bounds->max_records));
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
                    const std::string why = o->reason.empty() ? "removed" : o->reason;
                    Status st = s.Remove(id, version, why);
                    // On a full disk, the store's reserve makes room for the one command that
                    // frees space; it is made again once the blobs are gone.
                    if (st.code() == StatusCode::kResourceExhausted && s.ReleaseReserve().ok()) {
                      st = s.Remove(id, version, why);
                    }
                    if (st.ok()) s.EnsureReserve();
                    if (!st.ok()) return ReportError(st);
                    std::printf("removed %s\n", o->target.c_str());
                    return 0;
                  }});
  CLI::App* verify = app.add_subcommand("verify", "Hash the stored bytes of packages again");
  verify->add_option("package", o->target, "ID[@VERSION]");
  verify->add_flag("--all", o->all, "every installed package");
  subs.push_back({verify, [o](registry::Registry& s) { return RunVerify(s, *o); }});
  CLI::App* doctor = app.add_subcommand("doctor", "Check the store (and repair it after a crash)");
  doctor->add_flag("--repair", o->repair,
                   "remove leftovers, quarantine damaged packages, suspend adapters of "
                   "unusable bases, prune the quarantine to its bounds");
  doctor->add_flag("--rehash", o->rehash, "hash every blob (slow) instead of checking sizes");
  subs.push_back({doctor, [o](registry::Registry& s) { return RunDoctor(s, *o); }});
  CLI::App* quarantine = app.add_subcommand("quarantine", "Rejected packages and why");
  quarantine->require_subcommand(1);
  CLI::App* qlist = quarantine->add_subcommand("list", "List quarantine records");
  qlist->add_flag("--json", o->json, "JSON output");
  CLI::App* qshow = quarantine->add_subcommand("show", "Show one quarantine record");
  qshow->add_option("seq", o->seq, "record number")->required();
  CLI::App* qpurge = quarantine->add_subcommand("purge", "Remove quarantine records and copies");
  qpurge->add_option("seq", o->seqs, "record numbers");
  qpurge->add_flag("--all", o->all, "every record");
  qpurge->add_option("--older-than", o->older_than, "records older than AGE: 30d, 12h, 90m, 45s");
  CLI::App* qlimits = quarantine->add_subcommand(
      "limits", "Show or set the quarantine's bounds (kept in the store)");
  qlimits->add_option("--max-bytes", o->max_bytes,
                      "bytes of copies kept, all together: 1GiB, 200MB (0: keep no copies)");
  qlimits->add_option("--max-records", o->max_records, "records kept (at least 1)");
  subs.push_back({quarantine, [o, qshow, qpurge, qlimits](registry::Registry& s) {
                    if (qpurge->parsed()) return RunPurge(s, *o);
                    if (qlimits->parsed()) return RunLimits(s, *o);
                    return RunQuarantine(s, *o, qshow->parsed());
                  }});
  for (auto& [sub, fn] : subs) {
    if (sub != quarantine) AddHomeOption(sub, &o->home);
  }
  AddHomeOption(qlist, &o->home);
  AddHomeOption(qshow, &o->home);
  AddHomeOption(qpurge, &o->home);
  AddHomeOption(qlimits, &o->home);
  return [o, subs, verify, doctor, qlist, qshow] {
    for (const auto& [sub, fn] : subs) {
      if (!sub->parsed()) continue;
      // Reading commands open the store read-only (they work on a read-only mount or a full
      // disk, and never create a store); verify records what it finds when it can write.
      StoreAccess access = StoreAccess::kWrite;
      if ((sub == doctor && !o->repair) || qlist->parsed() || qshow->parsed()) {
        access = StoreAccess::kRead;
      } else if (sub == verify) {
        Result<std::string> home = ResolveHome(o->home);
        if (home.ok() && !registry::Registry::Writable(*home)) access = StoreAccess::kRead;
      }
      Result<std::unique_ptr<registry::Registry>> store = OpenStore(o->home, access);
      if (!store.ok()) return ReportError(store.status());
      return fn(**store);
    }
    return 2;
  };
}

}  // namespace tessera::cli
