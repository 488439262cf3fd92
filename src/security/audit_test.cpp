#include "caliper/security/audit.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace caliper::security {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

storage::AuditEvent SampleEvent() {
  storage::AuditEvent e;
  e.seq = 3;
  e.time = 1700000000000000;
  e.actor = "usr_1";
  e.session_id = "ses_1";
  e.source_address = "10.0.0.1";
  e.action = "item.read";
  e.object_type = "item";
  e.object_id = "itm_1";
  e.outcome = "success";
  e.details_json = "{}";
  e.prev_hash = "abc";
  return e;
}

TEST(AuditCanonicalTest, JoinsFieldsInOrder) {
  EXPECT_EQ(
      CanonicalForm(SampleEvent()),
      "3\n1700000000000000\nusr_1\nses_1\n10.0.0.1\nitem.read\nitem\nitm_1\nsuccess\n{}\nabc");
}

TEST(AuditCanonicalTest, EscapingPreventsForgedSeparators) {
  storage::AuditEvent a = SampleEvent();
  a.actor = "usr_1\nses_1";
  a.session_id = "";
  storage::AuditEvent b = SampleEvent();
  b.actor = "usr_1";
  b.session_id = "\nses_1";
  EXPECT_NE(CanonicalForm(a), CanonicalForm(b));
  EXPECT_NE(ChainHash("p", a), ChainHash("p", b));
  storage::AuditEvent c = SampleEvent();
  c.object_id = "x\\ny";
  EXPECT_THAT(CanonicalForm(c), HasSubstr("\nx\\\\ny\n"));
  storage::AuditEvent d = SampleEvent();
  d.object_id = "x\ny";
  EXPECT_THAT(CanonicalForm(d), HasSubstr("\nx\\ny\n"));
  EXPECT_NE(CanonicalForm(c), CanonicalForm(d));
}

TEST(AuditCanonicalTest, ChainHashCoversPrevHashAndEveryField) {
  const storage::AuditEvent e = SampleEvent();
  EXPECT_EQ(ChainHash(e.prev_hash, e), Sha256Hex(e.prev_hash + "\n" + CanonicalForm(e)));
  const std::string base = ChainHash(e.prev_hash, e);
  EXPECT_NE(ChainHash("other", e), base);
  std::vector<storage::AuditEvent> variants(11, e);
  variants[0].seq = 4;
  variants[1].time += 1;
  variants[2].actor += "x";
  variants[3].session_id += "x";
  variants[4].source_address += "x";
  variants[5].action += "x";
  variants[6].object_type += "x";
  variants[7].object_id += "x";
  variants[8].outcome = "denied";
  variants[9].details_json = "{\"n\":1}";
  variants[10].prev_hash = "abd";
  for (std::size_t i = 0; i < variants.size(); ++i) {
    EXPECT_NE(ChainHash(e.prev_hash, variants[i]), base) << "field " << i;
  }
  storage::AuditEvent with_hash = e;
  with_hash.hash = "ignored";  // the stored hash is not part of what is hashed
  EXPECT_EQ(ChainHash(e.prev_hash, with_hash), base);
}

class AuditTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_TRUE(InitCrypto().ok()); }
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "caliper-audit-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    db_path_ = dir_ + "/caliper.db";
    side_file_ = dir_ + "/audit-checkpoints.log";
    Result<std::unique_ptr<storage::Store>> store = storage::OpenSqliteStore(db_path_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    Result<AuditKeys> keys = LoadAuditKeys(dir_ + "/keys", true);
    ASSERT_TRUE(keys.ok()) << keys.status().ToString();
    keys_ = *keys;
    log_ = std::make_unique<AuditLog>(clock_, keys_, side_file_, 5);
  }
  void TearDown() override {
    if (store_) store_->Close();
    fs::remove_all(dir_);
  }

  std::unique_ptr<storage::Transaction> Write() {
    Result<std::unique_ptr<storage::Transaction>> txn = store_->Begin(storage::TxnMode::kWrite);
    EXPECT_TRUE(txn.ok()) << txn.status().ToString();
    return txn.ok() ? std::move(txn).value() : nullptr;
  }

  static AuditRecord Record(int i) {
    AuditRecord r;
    r.actor = "usr_" + std::to_string(i % 3);
    r.session_id = "ses_1";
    r.source_address = "192.0.2.7";
    r.action = "item.read";
    r.object_type = "item";
    r.object_id = "itm_" + std::to_string(i);
    r.details_json = "{\"i\":" + std::to_string(i) + "}";
    return r;
  }

  // Appends `n` events, one committed transaction each, one second apart.
  void AppendCommitted(int n) {
    for (int i = 0; i < n; ++i) {
      auto txn = Write();
      ASSERT_TRUE(txn);
      std::int64_t seq = 0;
      Status s = log_->Append(*txn, Record(i), &seq);
      ASSERT_TRUE(s.ok()) << s.ToString();
      ASSERT_TRUE(txn->Commit().ok());
      log_->FlushCheckpoints(seq);
      clock_.Advance(kMicrosPerSecond);
    }
  }

  // Runs SQL against the database file with the sqlite3 command-line tool, as an attacker
  // with file access would.
  void Sql(const std::string& sql) {
    const std::string script = dir_ + "/tamper.sql";
    {
      std::ofstream out(script);
      out << sql << "\n";
    }
    const std::string cmd = "sqlite3 -bail '" + db_path_ + "' < '" + script + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << sql;
  }

  AuditVerifyReport Verify() {
    Result<AuditVerifyReport> report = VerifyAuditChain(*store_, keys_.public_key, side_file_);
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    return report.ok() ? *report : AuditVerifyReport{};
  }

  std::vector<storage::AuditEvent> AllEvents() {
    std::vector<storage::AuditEvent> events;
    Status s = ExportAudit(*store_, 0, INT64_MAX, [&](const storage::AuditEvent& e) {
      events.push_back(e);
      return Status::Ok();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return events;
  }

  std::string dir_;
  std::string db_path_;
  std::string side_file_;
  FakeClock clock_;
  AuditKeys keys_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<AuditLog> log_;
};

TEST_F(AuditTest, EmptyLogVerifies) {
  const AuditVerifyReport report = Verify();
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.events, 0);
  EXPECT_EQ(report.checkpoints_checked, 0);
}

TEST_F(AuditTest, TwentyAppendsFormAVerifiedChain) {
  const TimeMicros start = clock_.Now();
  AppendCommitted(20);
  const AuditVerifyReport report = Verify();
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.events, 20);
  EXPECT_EQ(report.checkpoints_checked, 5);  // the database's newest + 4 side-file lines
  EXPECT_EQ(report.first_bad_seq, 0);
  EXPECT_TRUE(report.problem.empty());

  const std::vector<storage::AuditEvent> events = AllEvents();
  ASSERT_EQ(events.size(), 20u);
  std::string prev;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const storage::AuditEvent& e = events[i];
    EXPECT_EQ(e.seq, static_cast<std::int64_t>(i + 1));
    EXPECT_EQ(e.time, start + static_cast<TimeMicros>(i) * kMicrosPerSecond);
    EXPECT_EQ(e.object_id, "itm_" + std::to_string(i));
    EXPECT_EQ(e.outcome, "success");
    EXPECT_EQ(e.prev_hash, prev);
    EXPECT_EQ(e.hash, ChainHash(prev, e));
    prev = e.hash;
  }
}

TEST_F(AuditTest, CheckpointsAreSignedInTheDatabaseAndTheSideFile) {
  AppendCommitted(12);
  const std::vector<storage::AuditEvent> events = AllEvents();
  const std::vector<std::string> lines = Lines(ReadFile(side_file_));
  ASSERT_EQ(lines.size(), 2u);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::int64_t seq = 5 * static_cast<std::int64_t>(i + 1);
    std::istringstream fields(lines[i]);
    std::int64_t line_seq = 0;
    std::string hash, signature_hex;
    fields >> line_seq >> hash >> signature_hex;
    EXPECT_EQ(line_seq, seq);
    EXPECT_EQ(hash, events[seq - 1].hash);
    Result<Bytes> signature = FromHex(signature_hex);
    ASSERT_TRUE(signature.ok());
    EXPECT_TRUE(VerifySignature(keys_.public_key,
                                "caliper-audit-checkpoint\n" + std::to_string(seq) + "\n" + hash,
                                *signature));
  }
  auto txn = Write();
  Result<storage::AuditCheckpoint> last = txn->GetLastAuditCheckpoint();
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(last->seq, 10);
  EXPECT_EQ(last->hash, events[9].hash);
  EXPECT_EQ(last->time, events[9].time);
}

TEST_F(AuditTest, ChangedRowIsNamed) {
  AppendCommitted(20);
  Sql("DROP TRIGGER audit_events_no_update; UPDATE audit_events SET action='item.export' WHERE "
      "seq=7;");
  const AuditVerifyReport report = Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 7);
  EXPECT_EQ(report.problem, "event 7: hash does not match its contents (changed)");
}

TEST_F(AuditTest, ChangedRowWithRecomputedHashBreaksTheNextLink) {
  AppendCommitted(20);
  std::vector<storage::AuditEvent> events = AllEvents();
  storage::AuditEvent forged = events[6];
  forged.actor = "usr_innocent";
  forged.hash = ChainHash(forged.prev_hash, forged);
  Sql("DROP TRIGGER audit_events_no_update; UPDATE audit_events SET actor='usr_innocent', hash='" +
      forged.hash + "' WHERE seq=7;");
  const AuditVerifyReport report = Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 8);
  EXPECT_THAT(report.problem, HasSubstr("event 8: prev_hash does not match the hash of event 7"));
}

TEST_F(AuditTest, RewrittenChainIsCaughtBySignedCheckpoints) {
  AppendCommitted(20);
  // Rewrite events 7..20 consistently, as an attacker without the signing key can.
  std::vector<storage::AuditEvent> events = AllEvents();
  std::string sql = "DROP TRIGGER audit_events_no_update;\n";
  std::string prev = events[5].hash;
  for (std::size_t i = 6; i < events.size(); ++i) {
    storage::AuditEvent& e = events[i];
    if (i == 6) e.outcome = "denied";
    e.prev_hash = prev;
    e.hash = ChainHash(prev, e);
    prev = e.hash;
    sql += "UPDATE audit_events SET outcome='" + e.outcome + "', prev_hash='" + e.prev_hash +
           "', hash='" + e.hash + "' WHERE seq=" + std::to_string(e.seq) + ";\n";
  }
  Sql(sql);
  const AuditVerifyReport report = Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 10);  // the first signed checkpoint after the change
  EXPECT_THAT(report.problem, HasSubstr("event 10: hash differs from the signed checkpoint in"));
}

TEST_F(AuditTest, DeletedMiddleRowIsNamed) {
  AppendCommitted(20);
  Sql("DROP TRIGGER audit_events_no_delete; DELETE FROM audit_events WHERE seq=12;");
  const AuditVerifyReport report = Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 12);
  EXPECT_EQ(report.problem, "event 12 missing: seq jumps from 11 to 13 (deleted)");
}

TEST_F(AuditTest, DeletedFirstRowsAreNamed) {
  AppendCommitted(6);
  Sql("DROP TRIGGER audit_events_no_delete; DELETE FROM audit_events WHERE seq<=2;");
  const AuditVerifyReport report = Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 1);
  EXPECT_EQ(report.problem, "events 1 to 2 missing: seq jumps from 0 to 3 (deleted)");
}

TEST_F(AuditTest, TruncatedTailIsCaughtByTheSideFile) {
  AppendCommitted(20);
  Sql("DROP TRIGGER audit_events_no_delete;"
      "DELETE FROM audit_checkpoints WHERE seq > 17;"
      "DELETE FROM audit_events WHERE seq > 17;");
  const AuditVerifyReport report = Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 18);
  EXPECT_EQ(report.problem,
            "the log ends at event 17 but a signed checkpoint covers event 20: events after 17 "
            "were removed");
  EXPECT_EQ(report.events, 17);
}

TEST_F(AuditTest, ForgedSideFileLineIsRejected) {
  AppendCommitted(10);
  const std::vector<storage::AuditEvent> events = AllEvents();
  {
    std::ofstream out(side_file_, std::ios::app);
    out << "30 " << events[9].hash << " " << ToHex(Bytes(64, 7)) << "\n";
  }
  const AuditVerifyReport report = Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 30);
  EXPECT_THAT(report.problem, HasSubstr("invalid signature"));
}

TEST_F(AuditTest, MalformedSideFileLineIsAFinding) {
  AppendCommitted(5);
  {
    std::ofstream out(side_file_, std::ios::app);
    out << "garbage\n";
  }
  const AuditVerifyReport report = Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_THAT(report.problem, HasSubstr("line 2 is malformed"));
}

TEST_F(AuditTest, VerifyWithAnotherPublicKeyFails) {
  AppendCommitted(5);
  Result<AuditVerifyReport> report =
      VerifyAuditChain(*store_, NewSigningKeyPair().public_key, side_file_);
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->ok);
  EXPECT_EQ(report->first_bad_seq, 5);
}

TEST_F(AuditTest, RolledBackTransactionLeavesNoEvent) {
  AppendCommitted(3);
  {
    auto txn = Write();
    ASSERT_TRUE(log_->Append(*txn, Record(99)).ok());
  }  // destroyed without Commit
  std::vector<storage::AuditEvent> events = AllEvents();
  ASSERT_EQ(events.size(), 3u);
  AppendCommitted(1);
  events = AllEvents();
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[3].seq, 4);
  EXPECT_EQ(events[3].object_id, "itm_0");
  EXPECT_TRUE(Verify().ok);
}

TEST_F(AuditTest, RolledBackCheckpointNeverReachesTheSideFile) {
  AppendCommitted(4);
  {
    auto txn = Write();
    ASSERT_TRUE(log_->Append(*txn, Record(99)).ok());  // seq 5: a checkpoint is due
  }                                                    // rolled back
  AppendCommitted(1);                                  // the real seq 5
  const std::vector<std::string> lines = Lines(ReadFile(side_file_));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].substr(0, 2), "5 ");
  const AuditVerifyReport report = Verify();
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.checkpoints_checked, 2);
}

TEST_F(AuditTest, AnEarlierCommitNeverFlushesALaterUncommittedCheckpoint) {
  AppendCommitted(4);
  {
    auto txn = Write();
    std::int64_t seq = 0;
    ASSERT_TRUE(log_->Append(*txn, Record(99), &seq).ok());  // seq 5, checkpoint queued
    ASSERT_EQ(seq, 5);
    log_->FlushCheckpoints(4);  // another thread's commit of seq 4 flushing meanwhile
    EXPECT_TRUE(Lines(ReadFile(side_file_)).empty()) << "seq 5 is not committed yet";
  }  // rolled back
  EXPECT_TRUE(Verify().ok);
  AppendCommitted(1);
  const std::vector<std::string> lines = Lines(ReadFile(side_file_));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].substr(0, 2), "5 ");
  EXPECT_TRUE(Verify().ok);
}

TEST_F(AuditTest, ManyEventsInOneTransactionPageCorrectly) {
  {
    auto txn = Write();
    for (int i = 0; i < 1203; ++i) {
      ASSERT_TRUE(log_->Append(*txn, Record(i)).ok());
      clock_.Advance(1);
    }
    ASSERT_TRUE(txn->Commit().ok());
  }
  log_->FlushCheckpoints(1203);
  EXPECT_EQ(Lines(ReadFile(side_file_)).size(), 240u);
  const AuditVerifyReport report = Verify();
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.events, 1203);
  EXPECT_EQ(AllEvents().size(), 1203u);
}

TEST_F(AuditTest, ExportSelectsAnInclusiveTimeRange) {
  const TimeMicros start = clock_.Now();
  AppendCommitted(10);  // event i (1-based) at start + (i - 1) s
  std::vector<std::int64_t> seqs;
  Status s = ExportAudit(*store_, start + 3 * kMicrosPerSecond, start + 6 * kMicrosPerSecond,
                         [&](const storage::AuditEvent& e) {
                           seqs.push_back(e.seq);
                           return Status::Ok();
                         });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(seqs, (std::vector<std::int64_t>{4, 5, 6, 7}));

  seqs.clear();
  ASSERT_TRUE(ExportAudit(*store_, start + 100 * kMicrosPerSecond, start + 200 * kMicrosPerSecond,
                          [&](const storage::AuditEvent& e) {
                            seqs.push_back(e.seq);
                            return Status::Ok();
                          })
                  .ok());
  EXPECT_TRUE(seqs.empty());
}

TEST_F(AuditTest, ExportStopsAtTheSinksError) {
  AppendCommitted(5);
  int calls = 0;
  Status s = ExportAudit(*store_, 0, INT64_MAX, [&](const storage::AuditEvent&) {
    return ++calls == 2 ? Error(ErrorCode::kIo, "disk full") : Status::Ok();
  });
  EXPECT_EQ(s.code(), ErrorCode::kIo);
  EXPECT_EQ(calls, 2);
}

// ---- signing keys ---------------------------------------------------------------------------

TEST_F(AuditTest, LoadAuditKeysReloadsTheSamePair) {
  Result<AuditKeys> again = LoadAuditKeys(dir_ + "/keys", false);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->public_key, keys_.public_key);
  EXPECT_EQ(again->secret_key, keys_.secret_key);
  EXPECT_EQ(keys_.public_key.size(), 32u);
  EXPECT_EQ(keys_.secret_key.size(), 64u);
  struct stat st;
  ASSERT_EQ(::stat((dir_ + "/keys/audit-signing.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  const Bytes sig = Sign(again->secret_key, "m");
  EXPECT_TRUE(VerifySignature(keys_.public_key, "m", sig));
}

TEST_F(AuditTest, LoadAuditKeysWithoutCreateNeedsTheFiles) {
  Result<AuditKeys> missing = LoadAuditKeys(dir_ + "/nokeys", false);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), ErrorCode::kKeyUnavailable);
  EXPECT_THAT(missing.status().message(), HasSubstr("audit-signing.key"));
  EXPECT_FALSE(fs::exists(dir_ + "/nokeys"));
}

TEST_F(AuditTest, LoadAuditKeysRefusesALooseSecretFile) {
  const std::string key_path = dir_ + "/keys/audit-signing.key";
  ASSERT_EQ(::chmod(key_path.c_str(), 0644), 0);
  Result<AuditKeys> keys = LoadAuditKeys(dir_ + "/keys", true);
  ASSERT_FALSE(keys.ok());
  EXPECT_EQ(keys.status().code(), ErrorCode::kKeyUnavailable);
  EXPECT_THAT(keys.status().message(), HasSubstr("0644"));
}

TEST_F(AuditTest, LoadAuditKeysRefusesAMismatchedPublicKey) {
  {
    std::ofstream out(dir_ + "/keys/audit-signing.pub", std::ios::trunc);
    out << ToHex(NewSigningKeyPair().public_key) << "\n";
  }
  Result<AuditKeys> keys = LoadAuditKeys(dir_ + "/keys", false);
  ASSERT_FALSE(keys.ok());
  EXPECT_EQ(keys.status().code(), ErrorCode::kKeyUnavailable);
  EXPECT_THAT(keys.status().message(), HasSubstr("does not match"));
}

}  // namespace
}  // namespace caliper::security
