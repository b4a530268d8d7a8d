// End to end: `tessera evidence list|show|verify|export|prune` on a ledger written through the
// library (as the orchestrator writes it) in a temporary home, and on a tampered one.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "base/clock.h"
#include "evidence/ledger.h"
#include "run_cli.h"
#include "sqlite/sqlite_db.h"

namespace tessera {
namespace {

using testing::CliRun;
using testing::RunCli;

class StepClock final : public base::Clock {
 public:
  std::int64_t NowUnixMillis() const override { return now_ += 1000; }

 private:
  mutable std::int64_t now_ = 999'999'999'000;  // the first reading is 2001-09-09T01:46:40Z
};

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

class EvidenceCli : public ::testing::Test {
 protected:
  void SetUp() override {
    static int counter = 0;
    work_ = ::testing::TempDir() + "tessera-evidence-cli-" + std::to_string(::getpid()) + "-" +
            std::to_string(counter++);
    home_ = work_ + "/home";
    ASSERT_EQ(std::system(("rm -rf '" + work_ + "' && mkdir -p '" + home_ + "'").c_str()), 0);
  }
  void TearDown() override {
    if (!HasFailure()) {
      EXPECT_EQ(std::system(("rm -rf '" + work_ + "'").c_str()), 0);
    }
  }

  // Five records: decisions for req-1..req-4, a calibration third.
  void WriteLedger() {
    evidence::LedgerOptions options;
    options.clock = &clock_;
    Result<std::unique_ptr<evidence::Ledger>> ledger =
        evidence::Ledger::Open(evidence::LedgerPath(home_), options);
    ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
    const char* kinds[] = {"decision", "decision", "calibration", "decision", "decision"};
    const char* subjects[] = {"req-1", "req-2", "dev.tessera.skills.date@2.0.0", "req-3", "req-4"};
    for (int i = 0; i < 5; ++i) {
      Result<evidence::Record> r = (*ledger)->Append(
          kinds[i], subjects[i], "{\"n\":" + std::to_string(i + 1) + ",\"z\":[1,2],\"a\":\"x\"}");
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      records_.push_back(*r);
    }
  }

  CliRun Run(std::vector<std::string> args) {
    args.insert(args.begin(), "evidence");
    args.push_back("--home");
    args.push_back(home_);
    return RunCli(args);
  }

  StepClock clock_;
  std::string work_, home_;
  std::vector<evidence::Record> records_;
};

TEST_F(EvidenceCli, ListsNewestFirstWithFilters) {
  WriteLedger();
  CliRun list = Run({"list"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  std::vector<std::string> lines = Lines(list.out);
  ASSERT_EQ(lines.size(), 5u) << list.out;
  EXPECT_EQ(lines[0],
            "5  2001-09-09T01:46:44Z  decision  req-4  " + records_[4].hash.substr(0, 12));
  EXPECT_EQ(lines[2], "3  2001-09-09T01:46:42Z  calibration  dev.tessera.skills.date@2.0.0  " +
                          records_[2].hash.substr(0, 12));
  EXPECT_EQ(Lines(Run({"list", "--limit", "2"}).out).size(), 2u);
  EXPECT_EQ(Lines(Run({"list", "--after", "3"}).out).size(), 2u);
  CliRun req = Run({"list", "--subject", "req-2"});
  ASSERT_EQ(Lines(req.out).size(), 1u);
  EXPECT_EQ(req.out.rfind("2  ", 0), 0u) << req.out;

  CliRun as_json = Run({"list", "--kind", "decision", "--json"});
  ASSERT_EQ(as_json.exit_code, 0) << as_json.err;
  nlohmann::json doc = nlohmann::json::parse(as_json.out, nullptr, false);
  ASSERT_TRUE(doc.is_array()) << as_json.out;
  ASSERT_EQ(doc.size(), 4u);
  EXPECT_EQ(doc[0]["seq"], 5);
  EXPECT_EQ(doc[0]["hash"], records_[4].hash);
  EXPECT_TRUE(doc[0]["body"].is_object());
  EXPECT_EQ(doc[0]["body"]["n"], 5);

  CliRun bad_limit = Run({"list", "--limit", "0"});
  EXPECT_EQ(bad_limit.exit_code, 2) << bad_limit.err;
}

TEST_F(EvidenceCli, ShowsOneRecord) {
  WriteLedger();
  CliRun show = Run({"show", "3"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  std::string expected = R"(record 3
  time:      2001-09-09T01:46:42Z (at_ms 1000000002000)
  kind:      calibration
  subject:   dev.tessera.skills.date@2.0.0
  prev_hash: PREV
  hash:      HASH
  body:
    {
      "a": "x",
      "n": 3,
      "z": [
        1,
        2
      ]
    }
)";
  expected.replace(expected.find("PREV"), 4, records_[1].hash);
  expected.replace(expected.find("HASH"), 4, records_[2].hash);
  EXPECT_EQ(show.out, expected);
  CliRun as_json = Run({"show", "3", "--json"});
  ASSERT_EQ(as_json.exit_code, 0);
  EXPECT_EQ(as_json.out, evidence::RecordJsonLine(records_[2]) + "\n");
  CliRun missing = Run({"show", "99"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("tessera: not_found: evidence: no record 99"), std::string::npos)
      << missing.err;
  EXPECT_EQ(Run({"show", "abc"}).exit_code, 2);
}

TEST_F(EvidenceCli, VerifiesAndExports) {
  WriteLedger();
  CliRun verify = Run({"verify"});
  ASSERT_EQ(verify.exit_code, 0) << verify.err;
  EXPECT_EQ(verify.out, "evidence: 5 records, chain verifies (seq 1..5)\n");
  CliRun as_json = Run({"verify", "--json"});
  ASSERT_EQ(as_json.exit_code, 0) << as_json.err;
  nlohmann::json report = nlohmann::json::parse(as_json.out, nullptr, false);
  EXPECT_EQ(report["ok"], true) << as_json.out;
  EXPECT_EQ(report["records"], 5);

  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"export"}, std::vector<std::string>{"export", "--jsonl"}}) {
    CliRun exported = Run(args);
    ASSERT_EQ(exported.exit_code, 0) << exported.err;
    std::vector<std::string> lines = Lines(exported.out);
    ASSERT_EQ(lines.size(), 5u);
    for (std::size_t i = 0; i < lines.size(); ++i) {
      EXPECT_EQ(lines[i], evidence::RecordJsonLine(records_[i]));
      Result<evidence::Record> parsed = evidence::ParseRecordJsonLine(lines[i]);
      ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
      EXPECT_EQ(evidence::RecordHash(*parsed), records_[i].hash);
    }
  }
  CliRun after = Run({"export", "--after", "3"});
  ASSERT_EQ(Lines(after.out).size(), 2u);
  EXPECT_EQ(Lines(after.out)[0], evidence::RecordJsonLine(records_[3]));
}

TEST_F(EvidenceCli, PrunesWithACheckpoint) {
  WriteLedger();
  EXPECT_EQ(Run({"prune"}).exit_code, 2);  // a bound is required
  EXPECT_EQ(Run({"prune", "--before", "3", "--older-than-days", "1"}).exit_code, 2);
  CliRun pruned = Run({"prune", "--before", "3", "--reason", "keep three"});
  ASSERT_EQ(pruned.exit_code, 0) << pruned.err;
  EXPECT_EQ(pruned.out, "evidence: removed 2 records (seq 1..2); checkpoint record 6\n");
  CliRun verify = Run({"verify"});
  ASSERT_EQ(verify.exit_code, 0) << verify.err;
  EXPECT_EQ(verify.out, "evidence: 4 records, chain verifies (seq 3..6)\n");
  CliRun show = Run({"show", "6"});
  EXPECT_NE(show.out.find("kind:      checkpoint"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("\"reason\": \"keep three\""), std::string::npos) << show.out;
  // Records made in 2001 by the fake clock are more than a day old for the real one, but the
  // newest record always stays.
  CliRun old = Run({"prune", "--older-than-days", "1"});
  ASSERT_EQ(old.exit_code, 0) << old.err;
  EXPECT_EQ(old.out, "evidence: removed 3 records (seq 3..5); checkpoint record 7\n");
  EXPECT_EQ(Run({"verify"}).out, "evidence: 2 records, chain verifies (seq 6..7)\n");
}

TEST_F(EvidenceCli, AHomeWithoutALedgerShowsAnEmptyOneAndCreatesNothing) {
  CliRun verify = Run({"verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.err;
  EXPECT_EQ(verify.out.rfind("evidence: 0 records, chain verifies", 0), 0u) << verify.out;
  CliRun list = Run({"list"});
  EXPECT_EQ(list.exit_code, 0);
  EXPECT_EQ(list.out, "");
  EXPECT_EQ(Run({"list", "--json"}).out, "[]\n");
  EXPECT_EQ(Run({"export"}).out, "");
  EXPECT_EQ(Run({"show", "1"}).exit_code, 1);
  EXPECT_EQ(Run({"prune", "--before", "5"}).exit_code, 0);
  EXPECT_NE(::access(evidence::LedgerPath(home_).c_str(), F_OK), 0);
}

TEST_F(EvidenceCli, ATamperedLedgerFailsVerifyNamingTheRecord) {
  WriteLedger();
  {
    const std::string path = evidence::LedgerPath(home_);
    Result<std::unique_ptr<sqlite::Db>> raw = sqlite::Db::Open(path, "test: raw " + path);
    ASSERT_TRUE(raw.ok());
    ASSERT_TRUE((*raw)->Exec("DROP TRIGGER records_no_update").ok());
    ASSERT_TRUE((*raw)->Exec("UPDATE records SET body = '{\"n\":30}' WHERE seq = 3").ok());
  }
  CliRun verify = Run({"verify"});
  EXPECT_EQ(verify.exit_code, 1);
  EXPECT_EQ(verify.out, "");
  EXPECT_EQ(verify.err,
            "tessera: integrity: evidence: record 3: hash does not match its contents (edited?)\n");
  CliRun as_json = Run({"verify", "--json"});
  EXPECT_EQ(as_json.exit_code, 1);
  nlohmann::json report = nlohmann::json::parse(as_json.out, nullptr, false);
  EXPECT_EQ(report["ok"], false) << as_json.out;
  EXPECT_EQ(report["bad_seq"], 3);
  // Retention refuses to remove records from a broken chain.
  CliRun prune = Run({"prune", "--before", "5"});
  EXPECT_EQ(prune.exit_code, 1);
  EXPECT_NE(prune.err.find("tessera: integrity: evidence: ledger "), std::string::npos)
      << prune.err;
  EXPECT_NE(prune.err.find("record 3: hash does not match"), std::string::npos) << prune.err;
  // The other commands still read it.
  EXPECT_EQ(Run({"list"}).exit_code, 0);
  EXPECT_EQ(Lines(Run({"export"}).out).size(), 5u);
}

TEST_F(EvidenceCli, AFileThatIsNotALedgerIsAnIntegrityError) {
  {
    const std::string path = evidence::LedgerPath(home_);
    Result<std::unique_ptr<sqlite::Db>> raw = sqlite::Db::Open(path, "test: raw " + path);
    ASSERT_TRUE(raw.ok());
    ASSERT_TRUE((*raw)->Exec("CREATE TABLE other(x)").ok());
  }
  CliRun verify = Run({"verify"});
  EXPECT_EQ(verify.exit_code, 1);
  EXPECT_NE(verify.err.find("tessera: integrity: evidence: ledger " + home_ + "/evidence.db"),
            std::string::npos)
      << verify.err;
}

}  // namespace
}  // namespace tessera
