// Tampering with the file through a raw SQLite connection (dropping the ledger's triggers where
// they would refuse), each found by Verify at the documented bad seq; and retention: prunes that
// keep the chain verifiable, and tampering after a prune.
#include <gtest/gtest.h>

#include <string>

#include "evidence/ledger.h"
#include "evidence_fixture.h"

namespace tessera::evidence {
namespace {

using fixture::Exec;

class TamperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = LedgerPath(fixture::TempDir("tamper"));
    ledger_ = fixture::OpenLedger(path_, &clock_);
    ASSERT_NE(ledger_, nullptr);
    fixture::AppendMany(*ledger_, 10);
    raw_ = fixture::RawDb(path_);
    ASSERT_NE(raw_, nullptr);
  }

  void DropTriggers() {
    for (const char* t : {"records_follow_head", "records_move_head", "records_no_update",
                          "records_no_delete", "meta_head_forward", "meta_keep"}) {
      Exec(*raw_, std::string("DROP TRIGGER IF EXISTS ") + t);
    }
  }

  // Verify's report, expected to be a broken chain at `bad_seq` whose problem contains `says`.
  void ExpectBroken(std::int64_t bad_seq, const std::string& says) {
    Result<VerifyReport> report = ledger_->Verify();
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_FALSE(report->ok);
    EXPECT_EQ(report->bad_seq, bad_seq) << report->problem;
    EXPECT_NE(report->problem.find(says), std::string::npos) << report->problem;
    EXPECT_EQ(report->problem.rfind("record " + std::to_string(bad_seq) + ": ", 0), 0u)
        << report->problem;
  }

  void ExpectOk(std::int64_t records) {
    Result<VerifyReport> report = ledger_->Verify();
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_TRUE(report->ok) << report->problem;
    EXPECT_EQ(report->records, records);
  }

  // Replaces record `seq` by `r` (its fields as given) through the raw connection.
  void Overwrite(const Record& r) {
    Result<sqlite::Stmt> s = raw_->Prepare(
        "UPDATE records SET at_ms=?, kind=?, subject=?, body=?, prev_hash=?, hash=? WHERE seq=?");
    ASSERT_TRUE(s.ok());
    s->Bind(1, r.at_ms).Bind(2, r.kind).Bind(3, r.subject).Bind(4, r.body);
    s->Bind(5, r.prev_hash).Bind(6, r.hash).Bind(7, r.seq);
    ASSERT_TRUE(s->Run().ok());
  }

  void Insert(const Record& r) {
    Result<sqlite::Stmt> s = raw_->Prepare("INSERT INTO records VALUES(?, ?, ?, ?, ?, ?, ?)");
    ASSERT_TRUE(s.ok());
    s->Bind(1, r.seq).Bind(2, r.at_ms).Bind(3, r.kind).Bind(4, r.subject).Bind(5, r.body);
    s->Bind(6, r.prev_hash).Bind(7, r.hash);
    Status run = s->Run();
    ASSERT_TRUE(run.ok()) << run.ToString();
  }

  fixture::FakeClock clock_;
  std::string path_;
  std::unique_ptr<Ledger> ledger_;
  std::unique_ptr<sqlite::Db> raw_;
};

TEST_F(TamperTest, AnUntouchedLedgerVerifies) { ExpectOk(10); }

TEST_F(TamperTest, AnEditedBodyIsFoundAtThatRecord) {
  DropTriggers();
  Exec(*raw_,
       "UPDATE records SET body = '{\"i\":4,\"note\":\"selected something else\"}' "
       "WHERE seq = 5");
  ExpectBroken(5, "hash does not match its contents (edited?)");
}

TEST_F(TamperTest, AnEditedTimeOrSubjectIsFound) {
  DropTriggers();
  Exec(*raw_, "UPDATE records SET at_ms = at_ms + 1 WHERE seq = 3");
  ExpectBroken(3, "hash does not match");
  Exec(*raw_, "UPDATE records SET at_ms = at_ms - 1 WHERE seq = 3");
  ExpectOk(10);
  Exec(*raw_, "UPDATE records SET subject = 'req-99' WHERE seq = 8");
  ExpectBroken(8, "hash does not match");
}

TEST_F(TamperTest, ARecordRehashedAfterAnEditIsFoundAtTheNextRecord) {
  DropTriggers();
  Record r = ledger_->Get(6).value();
  r.body = R"({"i":5,"note":"selected dev.test.math@9.9.9"})";
  r.hash = RecordHash(r);
  Overwrite(r);
  ExpectBroken(7, "prev_hash does not match record 6's hash");
}

TEST_F(TamperTest, AMiddleRecordDeletedIsFoundAsMissing) {
  DropTriggers();
  Exec(*raw_, "DELETE FROM records WHERE seq = 5");
  ExpectBroken(5, "missing: record 4 is followed by record 6");
}

TEST_F(TamperTest, TheNewestRecordsDeletedAreFoundByTheHead) {
  DropTriggers();
  Exec(*raw_, "DELETE FROM records WHERE seq >= 9");
  ExpectBroken(9, "the head names record 10 but the last record is 8");
}

TEST_F(TamperTest, AllRecordsDeletedAreFound) {
  DropTriggers();
  Exec(*raw_, "DELETE FROM records");
  ExpectBroken(1, "the head names record 10 but the ledger holds no records");
}

TEST_F(TamperTest, TheOldestRecordsDeletedWithoutACheckpointAreFound) {
  DropTriggers();
  Exec(*raw_, "DELETE FROM records WHERE seq <= 3");
  ExpectBroken(1, "records 1..3 are gone and no checkpoint covers them");
}

TEST_F(TamperTest, TwoRecordsSwappedAreFound) {
  DropTriggers();
  Exec(*raw_,
       "UPDATE records SET seq = -1 WHERE seq = 4; UPDATE records SET seq = 4 WHERE seq = 7;"
       "UPDATE records SET seq = 7 WHERE seq = -1");
  ExpectBroken(4, "hash does not match");
}

TEST_F(TamperTest, AForgedRecordInTheMiddleIsFoundAtItsSuccessor) {
  DropTriggers();
  Exec(*raw_, "DELETE FROM records WHERE seq = 5");
  Record forged;
  forged.seq = 5;
  forged.at_ms = ledger_->Get(4).value().at_ms + 1;
  forged.kind = "decision";
  forged.subject = "req-4";
  forged.body = R"({"i":4,"note":"forged"})";
  forged.prev_hash = ledger_->Get(4).value().hash;
  forged.hash = RecordHash(forged);
  Insert(forged);
  ExpectBroken(6, "prev_hash does not match record 5's hash");
}

TEST_F(TamperTest, AForgedHashOnANewRecordIsFound) {
  // Through the triggers: seq and prev_hash follow the head, the hash is made up.
  Record forged;
  forged.seq = 11;
  forged.kind = "decision";
  forged.body = "{}";
  forged.prev_hash = ledger_->Head().value().hash;
  forged.hash = std::string(64, 'f');
  Insert(forged);
  ExpectBroken(11, "hash does not match");
}

TEST_F(TamperTest, ARecordInsertedPastTheHeadIsFound) {
  DropTriggers();  // the head does not move
  Record forged;
  forged.seq = 11;
  forged.kind = "decision";
  forged.body = "{}";
  forged.prev_hash = ledger_->Head().value().hash;
  forged.hash = RecordHash(forged);
  Insert(forged);
  ExpectBroken(11, "past the head, which names record 10");
}

TEST_F(TamperTest, AReplacedHeadRowIsFound) {
  DropTriggers();
  Exec(*raw_, "UPDATE meta SET head_hash = '" + std::string(64, 'a') + "'");
  ExpectBroken(10, "does not match the head's hash");
  Exec(*raw_, "DELETE FROM meta");
  Result<VerifyReport> report = ledger_->Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->ok);
  EXPECT_NE(report->problem.find("meta row"), std::string::npos) << report->problem;
}

TEST_F(TamperTest, AFirstRecordWithAForgedPrevHashIsFound) {
  DropTriggers();
  Record r = ledger_->Get(1).value();
  r.prev_hash = std::string(64, '1');
  r.hash = RecordHash(r);
  Overwrite(r);
  ExpectBroken(1, "not 64 zeros");
}

TEST_F(TamperTest, PruneKeepsTheChainVerifiable) {
  Result<PruneResult> pruned = ledger_->PruneBefore(5, "keep the last six");
  ASSERT_TRUE(pruned.ok()) << pruned.status().ToString();
  EXPECT_EQ(pruned->removed, 4);
  EXPECT_EQ(pruned->checkpoint.seq, 11);
  EXPECT_EQ(pruned->checkpoint.kind, "checkpoint");
  EXPECT_EQ(pruned->checkpoint.body,
            R"({"first_removed_seq":1,"last_removed_hash":")" + ledger_->Get(5).value().prev_hash +
                R"(","last_removed_seq":4,"reason":"keep the last six","removed":4})");
  ExpectOk(7);  // 5..10 and the checkpoint
  Result<VerifyReport> report = ledger_->Verify();
  EXPECT_EQ(report->first_seq, 5);
  EXPECT_EQ(report->last_seq, 11);
  Result<Record> gone = ledger_->Get(2);
  EXPECT_EQ(gone.status().code(), StatusCode::kNotFound);
  EXPECT_NE(gone.status().message().find("removed by retention"), std::string::npos);

  // Appends continue the chain from the checkpoint.
  Result<Record> next = ledger_->Append("decision", "req-after", "{}");
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->seq, 12);
  EXPECT_EQ(next->prev_hash, pruned->checkpoint.hash);
  ExpectOk(8);

  // Twice: the second checkpoint covers the new lowest record; the first one is removed.
  Result<PruneResult> again = ledger_->PruneBefore(12);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->removed, 7);  // 5..11, the first checkpoint included
  EXPECT_EQ(again->checkpoint.seq, 13);
  EXPECT_NE(again->checkpoint.body.find("\"first_removed_seq\":5"), std::string::npos);
  EXPECT_NE(again->checkpoint.body.find("retention: records before seq 12"), std::string::npos);
  ExpectOk(2);

  // Nothing older: nothing removed, nothing appended. The newest record always stays.
  Result<PruneResult> none = ledger_->PruneBefore(12);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->removed, 0);
  EXPECT_EQ(none->checkpoint.seq, 0);
  Result<PruneResult> all = ledger_->PruneBefore(1000);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->removed, 1);  // record 12; the newest (13) stays
  EXPECT_EQ(ledger_->Head().value().seq, 14);
  ExpectOk(2);

  EXPECT_EQ(ledger_->PruneBefore(0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ledger_->PruneBefore(5, "bad\nreason").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(TamperTest, PruneOlderThanRemovesOnlyAPrefix) {
  // Records 1..10 are at t0, t0+1s, ... (the fake clock's step). Remove those before t0+3.5s.
  const std::int64_t t0 = ledger_->Get(1).value().at_ms;
  Result<PruneResult> pruned = ledger_->PruneOlderThan(t0 + 3500);
  ASSERT_TRUE(pruned.ok()) << pruned.status().ToString();
  EXPECT_EQ(pruned->removed, 4);
  ExpectOk(7);
  // A clock that went backwards: record 12 is older than record 11. Pruning stops at the first
  // record that is young enough, so no hole appears.
  clock_.Set(t0 + 100000);
  ASSERT_TRUE(ledger_->Append("decision", "late", "{}").ok());  // seq 12, t0+100s
  clock_.Set(t0);
  ASSERT_TRUE(ledger_->Append("decision", "early", "{}").ok());  // seq 13, t0
  Result<PruneResult> second = ledger_->PruneOlderThan(t0 + 50000);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->removed, 7);  // 5..11 (the first checkpoint, at t0+10s, included)
  ExpectOk(3);                    // 12, 13, the checkpoint
  EXPECT_EQ(ledger_->PruneOlderThan(t0 + 1000000).value().removed, 2);  // all but the newest
  ExpectOk(2);
}

TEST_F(TamperTest, PruneRefusesABrokenChain) {
  DropTriggers();
  Exec(*raw_, "UPDATE records SET body = '{}' WHERE seq = 2");
  Result<PruneResult> pruned = ledger_->PruneBefore(5);
  ASSERT_FALSE(pruned.ok());
  EXPECT_EQ(pruned.status().code(), StatusCode::kIntegrity);
  EXPECT_NE(pruned.status().message().find("record 2: hash does not match"), std::string::npos)
      << pruned.status().message();
  ExpectBroken(2, "hash does not match");  // nothing removed: still found
}

TEST_F(TamperTest, RecordsDeletedAfterAPruneAreFound) {
  ASSERT_TRUE(ledger_->PruneBefore(5).ok());  // removes 1..4, checkpoint 11
  DropTriggers();
  Exec(*raw_, "DELETE FROM records WHERE seq IN (5, 6)");
  ExpectBroken(5, "records 5..6 are gone and no checkpoint covers them");
}

TEST_F(TamperTest, AnEditedCheckpointIsFound) {
  ASSERT_TRUE(ledger_->PruneBefore(5).ok());  // checkpoint 11
  DropTriggers();
  // Its reason edited: the checkpoint's own hash fails.
  Exec(*raw_, "UPDATE records SET body = replace(body, 'retention', 'nothing') WHERE seq = 11");
  ExpectBroken(11, "hash does not match");
  // Its last_removed_hash edited: it no longer covers record 5.
  Exec(*raw_,
       "UPDATE records SET body = replace(body, '\"last_removed_hash\":\"', "
       "'\"last_removed_hash\":\"0') WHERE seq = 11");
  ExpectBroken(5, "does not match the last_removed_hash of checkpoint record 11");
}

TEST_F(TamperTest, AForgedCheckpointCannotBeAppended) {
  Result<Record> r =
      ledger_->Append("checkpoint", "", R"({"first_removed_seq":1,"last_removed_seq":4})");
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tessera::evidence
