// The ledger's plain operations: append, get, list and its filters, head, export, canonical
// bodies, the hash rule against values computed outside (Python's hashlib), every refusal of
// Append, opening files that are not ledgers, and records as JSON lines.
#include "evidence/ledger.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "evidence_fixture.h"

namespace tessera::evidence {
namespace {

using fixture::FakeClock;

class LedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fixture::TempDir("ledger");
    path_ = LedgerPath(dir_);
    ledger_ = fixture::OpenLedger(path_, &clock_);
    ASSERT_NE(ledger_, nullptr);
  }
  FakeClock clock_;
  std::string dir_, path_;
  std::unique_ptr<Ledger> ledger_;
};

TEST(LedgerPathTest, IsEvidenceDbInTheHome) {
  EXPECT_EQ(LedgerPath("/home/u/.local/share/tessera"), "/home/u/.local/share/tessera/evidence.db");
}

TEST(RecordHashTest, FollowsTheDocumentedRule) {
  // Expected values: hashlib.sha256(("tessera-evidence-v1\n" + "1\n" + ...).encode()).
  Record r;
  r.seq = 1;
  r.at_ms = 1790000000000;
  r.kind = "decision";
  r.subject = "req-1";
  r.prev_hash = std::string(64, '0');
  r.body = "{\"a\":1,\"b\":[true,null,\"\xc3\xa9\"]}";
  EXPECT_EQ(RecordHash(r), "6c06318e499ba6a25bf97fcef9cd05dccf43522cb9acab254ef3ef0390ed2414");
  Record s;
  s.seq = 2;
  s.at_ms = -5;
  s.kind = "calibration";
  s.prev_hash = "";
  for (int i = 0; i < 32; ++i) s.prev_hash += "ab";
  s.body = "{}";
  EXPECT_EQ(RecordHash(s), "4e7442abe265aa25b1cf136bca812b0ac329de3fa9ca3c41e797a831a3191e1a");
}

TEST_F(LedgerTest, AppendsAChain) {
  Result<Record> first = ledger_->Append("decision", "req-1", R"({"b":[true,null,"é"],"a":1})");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->seq, 1);
  EXPECT_EQ(first->at_ms, 1790000000000);
  EXPECT_EQ(first->prev_hash, std::string(64, '0'));
  EXPECT_EQ(first->body, R"({"a":1,"b":[true,null,"é"]})");
  EXPECT_EQ(first->hash, "6c06318e499ba6a25bf97fcef9cd05dccf43522cb9acab254ef3ef0390ed2414");
  Result<Record> second = ledger_->Append("calibration", "", "{}");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->seq, 2);
  EXPECT_EQ(second->at_ms, 1790000001000);
  EXPECT_EQ(second->prev_hash, first->hash);
  EXPECT_EQ(second->hash, RecordHash(*second));

  Result<Record> got = ledger_->Get(1);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->hash, first->hash);
  EXPECT_EQ(got->subject, "req-1");
  EXPECT_EQ(got->body, first->body);
  Result<Record> head = ledger_->Head();
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->seq, 2);
  EXPECT_EQ(head->kind, "calibration");

  Result<Record> missing = ledger_->Get(3);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("no record 3"), std::string::npos);

  // Reopened, it continues the same chain.
  ledger_.reset();
  ledger_ = fixture::OpenLedger(path_, &clock_);
  ASSERT_NE(ledger_, nullptr);
  Result<Record> third = ledger_->Append("decision", "req-2", "{}");
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->seq, 3);
  EXPECT_EQ(third->prev_hash, second->hash);
  Result<VerifyReport> report = ledger_->Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->problem;
  EXPECT_EQ(report->records, 3);
  EXPECT_EQ(report->first_seq, 1);
  EXPECT_EQ(report->last_seq, 3);
}

TEST_F(LedgerTest, AnEmptyLedgerHasNoHeadAndVerifies) {
  EXPECT_EQ(ledger_->Head().status().code(), StatusCode::kNotFound);
  Result<VerifyReport> report = ledger_->Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok);
  EXPECT_EQ(report->records, 0);
  EXPECT_EQ(ledger_->List(ListFilter{}).value().size(), 0u);
}

TEST_F(LedgerTest, SameJsonInTwoSpellingsHashesTheSame) {
  FakeClock other_clock;
  std::unique_ptr<Ledger> other = fixture::OpenLedger(dir_ + "/other.db", &other_clock);
  ASSERT_NE(other, nullptr);
  Result<Record> a = ledger_->Append("decision", "r", R"({"b":1,"a":[1.0,2,"\u00e9"],"c":{}})");
  Result<Record> b = other->Append(
      "decision", "r", "{ \"c\" : { },\n \"a\" : [ 1, 2e0, \"\xc3\xa9\" ], \"b\":1.00 }");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->body, R"({"a":[1,2,"é"],"b":1,"c":{}})");
  EXPECT_EQ(a->body, b->body);
  EXPECT_EQ(a->hash, b->hash);
}

TEST_F(LedgerTest, ListFiltersAndOrders) {
  for (int i = 1; i <= 30; ++i) {
    const std::string kind = i % 3 == 0 ? "calibration" : "decision";
    ASSERT_TRUE(ledger_->Append(kind, "mod-" + std::to_string(i % 2), "{}").ok());
  }
  auto seqs = [&](const ListFilter& f) {
    std::vector<std::int64_t> out;
    Result<std::vector<Record>> list = ledger_->List(f);
    EXPECT_TRUE(list.ok()) << list.status().ToString();
    if (list.ok()) {
      for (const Record& r : *list) out.push_back(r.seq);
    }
    return out;
  };
  ListFilter f;
  f.limit = 3;
  EXPECT_EQ(seqs(f), (std::vector<std::int64_t>{30, 29, 28}));
  f.newest_first = false;
  EXPECT_EQ(seqs(f), (std::vector<std::int64_t>{1, 2, 3}));
  f.after_seq = 10;
  EXPECT_EQ(seqs(f), (std::vector<std::int64_t>{11, 12, 13}));
  f = ListFilter{};
  f.kind = "calibration";
  f.before_seq = 16;
  EXPECT_EQ(seqs(f), (std::vector<std::int64_t>{15, 12, 9, 6, 3}));
  f.subject = "mod-1";
  EXPECT_EQ(seqs(f), (std::vector<std::int64_t>{15, 9, 3}));
  f = ListFilter{};
  f.subject = "mod-0";
  f.after_seq = 20;
  f.before_seq = 27;
  EXPECT_EQ(seqs(f), (std::vector<std::int64_t>{26, 24, 22}));
  f = ListFilter{};
  f.kind = "nothing";
  EXPECT_TRUE(seqs(f).empty());

  f = ListFilter{};
  f.limit = 0;
  EXPECT_EQ(ledger_->List(f).status().code(), StatusCode::kOutOfRange);
  f.limit = kMaxListLimit + 1;
  EXPECT_EQ(ledger_->List(f).status().code(), StatusCode::kOutOfRange);
}

TEST_F(LedgerTest, ExportStreamsOldestFirstAndStopsOnTheSinksError) {
  fixture::AppendMany(*ledger_, 12);
  std::vector<std::int64_t> seen;
  ASSERT_TRUE(ledger_
                  ->Export(4,
                           [&](const Record& r) {
                             seen.push_back(r.seq);
                             EXPECT_EQ(r.hash, RecordHash(r));
                             return Status();
                           })
                  .ok());
  EXPECT_EQ(seen, (std::vector<std::int64_t>{5, 6, 7, 8, 9, 10, 11, 12}));
  int calls = 0;
  Status stopped = ledger_->Export(0, [&](const Record&) {
    return ++calls == 3 ? Status(StatusCode::kIoError, "sink full") : Status();
  });
  EXPECT_EQ(stopped.code(), StatusCode::kIoError);
  EXPECT_EQ(calls, 3);
}

struct BadAppend {
  const char* name;
  std::string kind, subject, body;
  StatusCode code;
  const char* says;  // a piece of the message
};

TEST_F(LedgerTest, RefusesEveryInvalidInputAndAppendsNothing) {
  ASSERT_TRUE(ledger_->Append("decision", "ok", "{}").ok());
  const std::string deep = std::string(65, '[') + std::string(65, ']');
  const std::vector<BadAppend> cases = {
      {"empty kind", "", "s", "{}", StatusCode::kInvalidArgument, "[a-z][a-z0-9_.-]{0,63}"},
      {"upper-case kind", "Decision", "s", "{}", StatusCode::kInvalidArgument, "\"Decision\""},
      {"kind starting with a digit", "1x", "s", "{}", StatusCode::kInvalidArgument, "kind"},
      {"kind with a space", "a b", "s", "{}", StatusCode::kInvalidArgument, "kind"},
      {"kind with a slash", "a/b", "s", "{}", StatusCode::kInvalidArgument, "kind"},
      {"kind of 65 bytes", std::string(65, 'a'), "s", "{}", StatusCode::kInvalidArgument,
       "65 bytes"},
      {"reserved kind", "checkpoint", "s", "{}", StatusCode::kInvalidArgument, "reserved"},
      {"newline in subject", "decision", "a\nb", "{}", StatusCode::kInvalidArgument, "U+000A"},
      {"NUL in subject", "decision", std::string("a\0b", 3), "{}", StatusCode::kInvalidArgument,
       "U+0000 at byte 1"},
      {"DEL in subject", "decision", "a\x7f", "{}", StatusCode::kInvalidArgument, "U+007F"},
      {"C1 control in subject", "decision", "a\xc2\x85", "{}", StatusCode::kInvalidArgument,
       "U+0085"},
      {"invalid UTF-8 in subject", "decision", "a\xff", "{}", StatusCode::kInvalidUtf8,
       "subject: invalid UTF-8 at byte 1"},
      {"overlong UTF-8 in subject", "decision", "\xc0\xaf", "{}", StatusCode::kInvalidUtf8,
       "subject"},
      {"subject of 513 bytes", "decision", std::string(513, 's'), "{}", StatusCode::kOutOfRange,
       "513 bytes, over the limit of 512"},
      {"invalid UTF-8 in body", "decision", "s", "{\"a\":\"\xfe\"}", StatusCode::kInvalidUtf8,
       "body: invalid UTF-8 at byte 6"},
      {"body an array", "decision", "s", "[1]", StatusCode::kInvalidArgument,
       "must be a JSON object, not array"},
      {"body a number", "decision", "s", "1", StatusCode::kInvalidArgument, "not number"},
      {"body a string", "decision", "s", "\"x\"", StatusCode::kInvalidArgument, "not string"},
      {"body null", "decision", "s", "null", StatusCode::kInvalidArgument, "not null"},
      {"empty body", "decision", "s", "", StatusCode::kMalformed, "not valid JSON"},
      {"body not JSON", "decision", "s", "{", StatusCode::kMalformed, "not valid JSON"},
      {"body with trailing text", "decision", "s", "{} x", StatusCode::kMalformed,
       "not valid JSON"},
      {"body with a comment", "decision", "s", "{} // c", StatusCode::kMalformed, "JSON"},
      {"body with a duplicate name", "decision", "s", R"({"a":1,"a":2})", StatusCode::kDuplicate,
       "/a"},
      {"body nested 66 deep", "decision", "s", "{\"a\":" + deep + "}", StatusCode::kOutOfRange,
       "deeper than 64"},
      {"body with an integer past 2^53", "decision", "s", R"({"a":9007199254740993})",
       StatusCode::kOutOfRange, "body"},
      {"body over 1 MiB", "decision", "s", "{\"a\":\"" + std::string(kMaxBodyBytes, 'x') + "\"}",
       StatusCode::kOutOfRange, "over the limit of 1048576"},
  };
  for (const BadAppend& c : cases) {
    Result<Record> r = ledger_->Append(c.kind, c.subject, c.body);
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.status().code(), c.code) << c.name << ": " << r.status().ToString();
    EXPECT_NE(r.status().message().find(c.says), std::string::npos)
        << c.name << ": " << r.status().message();
    EXPECT_EQ(r.status().message().rfind("evidence: ", 0), 0u) << r.status().message();
  }
  EXPECT_EQ(ledger_->Head().value().seq, 1);
  EXPECT_TRUE(ledger_->Verify().value().ok);

  // At the limits: accepted.
  EXPECT_TRUE(ledger_->Append(std::string(64, 'a'), std::string(512, 's'), "{}").ok());
  EXPECT_TRUE(
      ledger_->Append("a0_.-z", "\xf0\x9f\x98\x80 dev.tessera.skills.date@1.0.0", "{}").ok());
  const std::string big = "{\"a\":\"" + std::string(kMaxBodyBytes - 8, 'x') + "\"}";
  ASSERT_EQ(big.size(), kMaxBodyBytes);
  Result<Record> at_limit = ledger_->Append("decision", "big", big);
  ASSERT_TRUE(at_limit.ok()) << at_limit.status().ToString();
  EXPECT_EQ(at_limit->body.size(), kMaxBodyBytes);
  // A body whose text fits but whose canonical form does not (1e20 is written out in full).
  std::string grows = "{\"a\":\"" + std::string(kMaxBodyBytes - 30, 'x') + "\",\"b\":[1e20]}";
  ASSERT_LE(grows.size(), kMaxBodyBytes);
  Result<Record> too_big = ledger_->Append("decision", "big", grows);
  EXPECT_EQ(too_big.status().code(), StatusCode::kOutOfRange);
  EXPECT_NE(too_big.status().message().find("canonical"), std::string::npos);
  EXPECT_TRUE(ledger_->Verify().value().ok);
}

TEST(LedgerOpenTest, RefusesFilesThatAreNotLedgers) {
  const std::string dir = fixture::TempDir("open");
  FakeClock clock;

  const std::string garbage = dir + "/garbage.db";
  {
    std::ofstream out(garbage, std::ios::binary);
    for (int i = 0; i < 4096; ++i) out.put(static_cast<char>((i * 131 + 7) & 0xff));
  }
  Result<std::unique_ptr<Ledger>> g = Ledger::Open(garbage);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), StatusCode::kIntegrity) << g.status().ToString();
  EXPECT_NE(g.status().message().find("evidence: ledger " + garbage), std::string::npos)
      << g.status().message();

  const std::string foreign = dir + "/registry.db";
  {
    std::unique_ptr<sqlite::Db> db = fixture::RawDb(foreign);
    ASSERT_NE(db, nullptr);
    fixture::Exec(*db, "CREATE TABLE packages(id TEXT); CREATE TABLE settings(name TEXT)");
  }
  Result<std::unique_ptr<Ledger>> f = Ledger::Open(foreign);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), StatusCode::kIntegrity);
  EXPECT_NE(f.status().message().find(foreign), std::string::npos);
  EXPECT_NE(f.status().message().find("packages, settings"), std::string::npos)
      << f.status().message();

  const std::string newer = dir + "/newer.db";
  {
    std::unique_ptr<Ledger> ledger = fixture::OpenLedger(newer, &clock);
    ASSERT_NE(ledger, nullptr);
    ASSERT_TRUE(ledger->Append("decision", "s", "{}").ok());
  }
  {
    std::unique_ptr<sqlite::Db> db = fixture::RawDb(newer);
    fixture::Exec(*db, "UPDATE ledger_schema SET version = 2");
  }
  Result<std::unique_ptr<Ledger>> n = Ledger::Open(newer);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(n.status().message().find("schema version 2"), std::string::npos);

  const std::string no_records = dir + "/no-records.db";
  {
    std::unique_ptr<Ledger> ledger = fixture::OpenLedger(no_records, &clock);
    ASSERT_NE(ledger, nullptr);
  }
  {
    std::unique_ptr<sqlite::Db> db = fixture::RawDb(no_records);
    fixture::Exec(*db, "DROP TABLE records");
  }
  Result<std::unique_ptr<Ledger>> r = Ledger::Open(no_records);
  EXPECT_EQ(r.status().code(), StatusCode::kIntegrity);
  EXPECT_NE(r.status().message().find("no records table"), std::string::npos);

  // A directory that does not exist: an I/O error naming the path, nothing created.
  Result<std::unique_ptr<Ledger>> d = Ledger::Open(dir + "/absent/evidence.db");
  EXPECT_EQ(d.status().code(), StatusCode::kIoError);
  EXPECT_NE(d.status().message().find(dir + "/absent/evidence.db"), std::string::npos);

  // An empty file is an empty database: it becomes a ledger.
  const std::string empty = dir + "/empty.db";
  { std::ofstream out(empty); }
  EXPECT_TRUE(Ledger::Open(empty).ok());
}

TEST_F(LedgerTest, TheFileRefusesUpdatesAndDeletesOutsideRetention) {
  fixture::AppendMany(*ledger_, 3);
  std::unique_ptr<sqlite::Db> db = fixture::RawDb(path_);
  ASSERT_NE(db, nullptr);
  Status update = db->Exec("UPDATE records SET body = '{}' WHERE seq = 2");
  EXPECT_FALSE(update.ok());
  EXPECT_NE(update.message().find("append-only"), std::string::npos) << update.message();
  Status remove = db->Exec("DELETE FROM records WHERE seq = 3");
  EXPECT_FALSE(remove.ok());
  EXPECT_NE(remove.message().find("only by retention"), std::string::npos);
  Status skip = db->Exec("INSERT INTO records VALUES(9, 0, 'x', '', '{}', '', '')");
  EXPECT_FALSE(skip.ok());
  EXPECT_NE(skip.message().find("follow the head"), std::string::npos);
  EXPECT_FALSE(db->Exec("UPDATE meta SET head_seq = 1").ok());
  EXPECT_FALSE(db->Exec("DELETE FROM meta").ok());
  EXPECT_TRUE(ledger_->Verify().value().ok);
}

TEST(RecordJsonLineTest, RoundTripsWithTheBodyAsJson) {
  Record r;
  r.seq = 42;
  r.at_ms = 1790000000123;
  r.kind = "decision";
  r.subject = "req \"7\" \xc3\xa9";
  r.body = R"({"a":[1,2.5,"x"],"b":{"c":null}})";
  r.prev_hash = std::string(64, '0');
  r.hash = RecordHash(r);
  const std::string line = RecordJsonLine(r);
  EXPECT_EQ(line,
            "{\"seq\":42,\"at_ms\":1790000000123,\"kind\":\"decision\",\"subject\":"
            "\"req \\\"7\\\" \xc3\xa9\",\"body\":{\"a\":[1,2.5,\"x\"],\"b\":{\"c\":null}},"
            "\"prev_hash\":\"" +
                r.prev_hash + "\",\"hash\":\"" + r.hash + "\"}");
  EXPECT_EQ(line.find('\n'), std::string::npos);
  Result<Record> back = ParseRecordJsonLine(line);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->seq, r.seq);
  EXPECT_EQ(back->at_ms, r.at_ms);
  EXPECT_EQ(back->kind, r.kind);
  EXPECT_EQ(back->subject, r.subject);
  EXPECT_EQ(back->body, r.body);
  EXPECT_EQ(back->prev_hash, r.prev_hash);
  EXPECT_EQ(back->hash, r.hash);
  EXPECT_EQ(RecordHash(*back), r.hash);
}

TEST(RecordJsonLineTest, ParsingRefusesBadLines) {
  Record r;
  r.seq = 1;
  r.kind = "decision";
  r.body = "{}";
  r.prev_hash = std::string(64, '0');
  r.hash = RecordHash(r);
  const std::string good = RecordJsonLine(r);
  ASSERT_TRUE(ParseRecordJsonLine(good).ok());
  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string line = good;
    const std::size_t at = line.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return line.replace(at, from.size(), to);
  };
  const struct {
    std::string line;
    StatusCode code;
  } cases[] = {
      {"", StatusCode::kMalformed},
      {"[]", StatusCode::kTypeMismatch},
      {replaced("\"seq\":1,", ""), StatusCode::kMalformed},
      {replaced("{\"seq\"", "{\"extra\":1,\"seq\""), StatusCode::kMalformed},
      {replaced("\"seq\":1", "\"seq\":0"), StatusCode::kOutOfRange},
      {replaced("\"seq\":1", "\"seq\":1.5"), StatusCode::kTypeMismatch},
      {replaced("\"seq\":1", "\"seq\":\"1\""), StatusCode::kTypeMismatch},
      {replaced("\"seq\":1", "\"seq\":18446744073709551615"), StatusCode::kOutOfRange},
      {replaced("\"decision\"", "\"Decision\""), StatusCode::kInvalidArgument},
      {replaced("\"subject\":\"\"", "\"subject\":\"a\\nb\""), StatusCode::kInvalidArgument},
      {replaced("\"body\":{}", "\"body\":\"{}\""), StatusCode::kTypeMismatch},
      {replaced("\"body\":{}", "\"body\":{\"a\":1,\"a\":2}"), StatusCode::kDuplicate},
      {replaced("\"hash\":\"", "\"hash\":\"X"), StatusCode::kMalformed},
      {replaced("\"prev_hash\":\"0", "\"prev_hash\":\"A"), StatusCode::kMalformed},
      {good + "\n{}", StatusCode::kMalformed},
  };
  for (const auto& c : cases) {
    Result<Record> parsed = ParseRecordJsonLine(c.line);
    EXPECT_EQ(parsed.status().code(), c.code) << c.line << "\n" << parsed.status().ToString();
  }
  // A checkpoint line is a record like any other (import tools carry them).
  Record checkpoint = r;
  checkpoint.kind = "checkpoint";
  EXPECT_TRUE(ParseRecordJsonLine(RecordJsonLine(checkpoint)).ok());
  // A damaged body (only from an edited file) still gives a JSON line, which parsing refuses.
  Record damaged = r;
  damaged.body = "{\"a\":";
  const std::string line = RecordJsonLine(damaged);
  EXPECT_NE(line.find("\"body\":\"{\\\"a\\\":\""), std::string::npos) << line;
  EXPECT_EQ(ParseRecordJsonLine(line).status().code(), StatusCode::kTypeMismatch);
}

}  // namespace
}  // namespace tessera::evidence
