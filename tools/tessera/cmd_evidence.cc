// tessera evidence list [--kind K] [--subject S] [--after SEQ] [--limit N] [--json]
//                  show SEQ [--json]
//                  verify [--json]
//                  export [--after SEQ] [--jsonl]
//                  prune (--before SEQ | --older-than-days D) [--reason R]
// The evidence ledger of a home, <home>/evidence.db (src/evidence/ledger.h). These commands never
// create it: on a home without a ledger they show an empty one.
//
// verify exits 0 when the chain verifies and 1 when it does not, with the first bad record in the
// error line ("tessera: integrity: evidence: record 17: hash does not match its contents ...").
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/printable.h"
#include "command.h"
#include "options.h"
#include "evidence/ledger.h"
#include "store_cli.h"

namespace tessera::cli {
namespace {

struct EvidenceOptions {
  std::string home;
  std::string kind;
  std::string subject;
  std::int64_t after = 0;
  std::size_t limit = 100;
  std::int64_t seq = 0;
  std::int64_t before = 0;
  std::int64_t older_than_days = -1;
  std::string reason;
  bool json = false;
  bool jsonl = false;
};

struct OpenedLedger {
  std::string path;
  std::unique_ptr<evidence::Ledger> ledger;  // null: there is no ledger at `path` yet
};

Result<OpenedLedger> OpenExisting(const std::string& home_flag, bool read_only = true) {
  TS_ASSIGN_OR_RETURN(std::string home, ResolveHome(home_flag));
  OpenedLedger out;
  out.path = evidence::LedgerPath(home);
  if (::access(out.path.c_str(), F_OK) != 0) {
    if (errno == ENOENT) return out;
    return Status(StatusCode::kIoError, "evidence: ledger " + out.path + ": cannot access it");
  }
  evidence::LedgerOptions options;
  options.read_only = read_only;  // reading works on a read-only mount or a full disk
  Result<std::unique_ptr<evidence::Ledger>> ledger = evidence::Ledger::Open(out.path, options);
  if (!ledger.ok() && ledger.status().code() == StatusCode::kNotFound) return out;  // empty
  TS_ASSIGN_OR_RETURN(out.ledger, std::move(ledger));
  return out;
}

int RunList(const EvidenceOptions& o) {
  Result<OpenedLedger> opened = OpenExisting(o.home);
  if (!opened.ok()) return ReportError(opened.status());
  std::vector<evidence::Record> records;
  if (opened->ledger != nullptr) {
    evidence::ListFilter filter;
    filter.kind = o.kind;
    filter.subject = o.subject;
    filter.after_seq = o.after;
    filter.limit = o.limit;
    Result<std::vector<evidence::Record>> list = opened->ledger->List(filter);
    if (!list.ok()) return ReportError(list.status());
    records = std::move(list).value();
  }
  if (o.json) {
    // One JSON array whose elements are the records' JSON lines, byte for byte.
    std::string out = "[";
    for (std::size_t i = 0; i < records.size(); ++i) {
      out += (i == 0 ? "\n" : ",\n") + evidence::RecordJsonLine(records[i]);
    }
    out += records.empty() ? "]\n" : "\n]\n";
    std::fputs(out.c_str(), stdout);
    return 0;
  }
  for (const evidence::Record& r : records) {
    std::printf("%lld  %s  %s  %s  %s\n", static_cast<long long>(r.seq),
                FormatTime(r.at_ms).c_str(), base::Printable(r.kind).c_str(),
                r.subject.empty() ? "-" : base::Printable(r.subject).c_str(),
                r.hash.substr(0, 12).c_str());
  }
  return 0;
}

int RunShow(const EvidenceOptions& o) {
  Result<OpenedLedger> opened = OpenExisting(o.home);
  if (!opened.ok()) return ReportError(opened.status());
  if (opened->ledger == nullptr) {
    return ReportError(NotFound("evidence: no record " + std::to_string(o.seq) +
                                " (there is no ledger at " + opened->path + " yet)"));
  }
  Result<evidence::Record> r = opened->ledger->Get(o.seq);
  if (!r.ok()) return ReportError(r.status());
  if (o.json) {
    std::printf("%s\n", evidence::RecordJsonLine(*r).c_str());
    return 0;
  }
  std::printf("record %lld\n", static_cast<long long>(r->seq));
  std::printf("  time:      %s (at_ms %lld)\n", FormatTime(r->at_ms).c_str(),
              static_cast<long long>(r->at_ms));
  std::printf("  kind:      %s\n", base::Printable(r->kind).c_str());
  std::printf("  subject:   %s\n", base::Printable(r->subject).c_str());
  std::printf("  prev_hash: %s\n", base::Printable(r->prev_hash).c_str());
  std::printf("  hash:      %s\n", base::Printable(r->hash).c_str());
  std::printf("  body:\n");
  const nlohmann::json body = nlohmann::json::parse(r->body, nullptr, false);
  const std::string text = body.is_discarded()
                               ? base::Printable(r->body)
                               : base::PrintableLines(DumpJson(body));
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::printf("    %s\n", text.substr(start, end - start).c_str());
    start = end + 1;
  }
  return 0;
}

int RunVerify(const EvidenceOptions& o) {
  Result<OpenedLedger> opened = OpenExisting(o.home);
  if (!opened.ok()) return ReportError(opened.status());
  evidence::VerifyReport report;
  if (opened->ledger != nullptr) {
    Result<evidence::VerifyReport> verified = opened->ledger->Verify();
    if (!verified.ok()) return ReportError(verified.status());
    report = std::move(verified).value();
  }
  if (o.json) {
    nlohmann::ordered_json out;
    out["ledger"] = opened->path;
    out["ok"] = report.ok;
    out["records"] = report.records;
    out["first_seq"] = report.first_seq;
    out["last_seq"] = report.last_seq;
    out["bad_seq"] = report.bad_seq;
    out["problem"] = report.problem;
    std::printf("%s\n", DumpJson(out).c_str());
  }
  if (!report.ok) {
    return ReportError(Status(StatusCode::kIntegrity, "evidence: " + report.problem));
  }
  if (o.json) return 0;
  if (report.records == 0) {
    std::printf(
        "evidence: 0 records, chain verifies%s\n",
        opened->ledger == nullptr ? (" (no ledger at " + opened->path + " yet)").c_str() : "");
    return 0;
  }
  std::printf("evidence: %lld records, chain verifies (seq %lld..%lld)\n",
              static_cast<long long>(report.records), static_cast<long long>(report.first_seq),
              static_cast<long long>(report.last_seq));
  return 0;
}

int RunExport(const EvidenceOptions& o) {
  Result<OpenedLedger> opened = OpenExisting(o.home);
  if (!opened.ok()) return ReportError(opened.status());
  if (opened->ledger == nullptr) return 0;
  Status exported = opened->ledger->Export(o.after, [](const evidence::Record& r) {
    const std::string line = evidence::RecordJsonLine(r) + "\n";
    if (std::fwrite(line.data(), 1, line.size(), stdout) != line.size()) {
      return Status(StatusCode::kIoError, "evidence: export: cannot write to standard output");
    }
    return Status();
  });
  if (!exported.ok()) return ReportError(exported);
  if (std::fflush(stdout) != 0) {
    return ReportError(
        Status(StatusCode::kIoError, "evidence: export: cannot write to standard output"));
  }
  return 0;
}

int RunPrune(const EvidenceOptions& o) {
  Result<OpenedLedger> opened = OpenExisting(o.home, /*read_only=*/false);
  if (!opened.ok()) return ReportError(opened.status());
  if (opened->ledger == nullptr) {
    std::printf("evidence: nothing to remove (no ledger at %s yet)\n", opened->path.c_str());
    return 0;
  }
  Result<evidence::PruneResult> pruned =
      o.older_than_days >= 0
          ? opened->ledger->PruneOlderThan(
                base::SystemClock().NowUnixMillis() - o.older_than_days * 86'400'000, o.reason)
          : opened->ledger->PruneBefore(o.before, o.reason);
  if (!pruned.ok()) return ReportError(pruned.status());
  if (pruned->removed == 0) {
    std::printf("evidence: nothing to remove\n");
    return 0;
  }
  const nlohmann::json body = nlohmann::json::parse(pruned->checkpoint.body, nullptr, false);
  const std::int64_t first = body.value("first_removed_seq", std::int64_t{0});
  const std::int64_t last = body.value("last_removed_seq", std::int64_t{0});
  std::printf("evidence: removed %lld records (seq %lld..%lld); checkpoint record %lld\n",
              static_cast<long long>(pruned->removed), static_cast<long long>(first),
              static_cast<long long>(last), static_cast<long long>(pruned->checkpoint.seq));
  return 0;
}

}  // namespace

RunFn AddEvidence(CLI::App& app) {
  auto o = std::make_shared<EvidenceOptions>();
  CLI::App* sub = app.add_subcommand("evidence",
                                     "The evidence ledger: list, show, verify, "
                                     "export and prune its records");
  sub->require_subcommand(1);

  CLI::App* list = sub->add_subcommand("list",
                                       "Records, newest first: seq, time (UTC), kind, "
                                       "subject, hash prefix");
  list->add_option("--kind", o->kind, "only records of this kind");
  list->add_option("--subject", o->subject, "only records with this subject");
  list->add_option("--after", o->after, "only records after this seq");
  list->add_option("--limit", o->limit, "at most this many records (default 100)")
      ->check(CLI::Range(std::size_t{1}, evidence::kMaxListLimit));
  list->add_flag("--json", o->json, "one JSON array of records");

  CLI::App* show = sub->add_subcommand("show", "One record with its body");
  show->add_option("seq", o->seq, "the record's seq")->required();
  show->add_flag("--json", o->json, "the record as one JSON line");

  CLI::App* verify = sub->add_subcommand("verify", "Check every hash and link of the chain");
  verify->add_flag("--json", o->json, "the report as JSON");

  CLI::App* exp = sub->add_subcommand("export", "Every record as JSON lines, oldest first");
  exp->add_option("--after", o->after, "only records after this seq");
  exp->add_flag("--jsonl", o->jsonl, "JSON lines (the default and only format)");

  CLI::App* prune = sub->add_subcommand("prune",
                                        "Remove the oldest records, leaving a "
                                        "checkpoint that keeps the chain verifiable");
  CLI::Option_group* bound = prune->add_option_group("bound", "which records to remove");
  bound->add_option("--before", o->before, "remove records with seq below SEQ")
      ->check(CLI::Range(std::int64_t{1}, INT64_MAX));
  bound
      ->add_option("--older-than-days", o->older_than_days,
                   "remove the oldest records made more than D days ago")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{100000}));
  bound->require_option(1);
  prune->add_option("--reason", o->reason, "why, kept in the checkpoint record");

  for (CLI::App* s : {list, show, verify, exp, prune}) AddHomeOption(s, &o->home);
  return [=]() -> int {
    if (list->parsed()) return RunList(*o);
    if (show->parsed()) return RunShow(*o);
    if (verify->parsed()) return RunVerify(*o);
    if (exp->parsed()) return RunExport(*o);
    return RunPrune(*o);
  };
}

}  // namespace tessera::cli
