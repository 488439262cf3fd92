// SQLite-only behaviour that the backend-neutral conformance suite cannot see: the file's
// journal mode, the schema_version bookkeeping, refusing a newer schema, pool and writer
// limits, and two stores (as two processes would) writing to one file.

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "caliper/storage/store.h"
#include "storage/sqlite/migrations.h"

namespace caliper::storage {
namespace {

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "caliper_sqlite_XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    path_ = dir_ + "/caliper.db";
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  // Runs `sql` on a connection of our own (as the sqlite3 shell would); returns the first
  // column of the first row as text, or "" when there is none.
  std::string Raw(const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    std::string out;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK) {
      int rc = sqlite3_step(stmt);
      if (rc == SQLITE_ROW && sqlite3_column_text(stmt, 0) != nullptr) {
        out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
      } else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        out = std::string("error: ") + sqlite3_errmsg(db);
      }
    } else {
      out = std::string("error: ") + sqlite3_errmsg(db);
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return out;
  }

  std::unique_ptr<Store> Open(const SqliteOptions& options = {}) {
    auto store = OpenSqliteStore(path_, options);
    if (!store.ok()) {
      ADD_FAILURE() << store.status().ToString();
      return nullptr;
    }
    return std::move(store).value();
  }

  std::string dir_;
  std::string path_;
};

core::User MakeUser(const std::string& id) {
  core::User u;
  u.id = id;
  u.username = "name_" + id;
  u.display_name = id;
  u.password_hash = "h";
  return u;
}

TEST_F(SqliteStoreTest, DatabaseIsInWalModeAndRecordsItsMigrations) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(Raw("PRAGMA journal_mode"), "wal");
  const auto& migrations = sqlite::Migrations();
  ASSERT_FALSE(migrations.empty());
  EXPECT_EQ(migrations.front().number, 1);
  EXPECT_EQ(Raw("SELECT count(*) FROM schema_version"), std::to_string(migrations.size()));
  EXPECT_EQ(Raw("SELECT name FROM schema_version WHERE number = 1"), "0001_initial.sql");
  EXPECT_NE(Raw("SELECT applied_at FROM schema_version WHERE number = 1"), "0");
  auto version = store->SchemaVersion();
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(*version, migrations.back().number);
}

// Migration 0018 gives every earlier rejection a reason code: the web app's earlier codes map
// to the new ones (what followed them stays as the note); other text becomes "other" with the
// text as its note. Afterwards triggers keep a code on rejections and on nothing else.
TEST_F(SqliteStoreTest, Migration18GivesEarlierRejectionsAReasonCode) {
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    auto exec = [&](const std::string& sql) {
      char* error = nullptr;
      const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
      EXPECT_EQ(rc, SQLITE_OK) << (error != nullptr ? error : "") << "\n" << sql.substr(0, 200);
      sqlite3_free(error);
    };
    for (const auto& m : sqlite::Migrations()) {
      if (m.number >= 18) break;
      exec(std::string(m.sql));
      exec("INSERT INTO schema_version (number, name, applied_at) VALUES (" + std::to_string(m.number) + ", '" +
           std::string(m.name) + "', 1)");
    }
    // Parents are not needed: this connection does not enforce foreign keys.
    exec("INSERT INTO reviews (id, task_id, annotation_id, reviewer, decision, reason, corrected_annotation_id, "
         "created_at) VALUES "
         "('rev_1', 'tsk_1', '', 'usr_r', 'reject', 'wrong_evidence: within range once corrected', '', 1), "
         "('rev_2', 'tsk_1', '', 'usr_r', 'reject', 'incomplete', '', 2), "
         "('rev_3', 'tsk_1', '', 'usr_r', 'reject', 'looks off: to me', '', 3), "
         "('rev_4', 'tsk_1', '', 'usr_r', 'escalate', 'unsure', '', 4), "
         "('rev_5', 'tsk_1', '', 'usr_r', 'reject', 'low_quality: the margin', '', 5)");
    sqlite3_close(db);
    ASSERT_FALSE(HasFailure());
  }
  auto store = Open();
  ASSERT_NE(store, nullptr);
  auto row = [&](const std::string& id) {
    return Raw("SELECT reject_reason || '|' || reason FROM reviews WHERE id = '" + id + "'");
  };
  EXPECT_EQ(row("rev_1"), "insufficient_evidence|within range once corrected");
  EXPECT_EQ(row("rev_2"), "missed_finding|");
  EXPECT_EQ(row("rev_3"), "other|looks off: to me");
  EXPECT_EQ(row("rev_4"), "|unsure");
  EXPECT_EQ(row("rev_5"), "boundary_inaccurate|the margin");
  EXPECT_NE(Raw("INSERT INTO reviews VALUES ('rev_6', 'tsk_1', '', 'usr_r', 'reject', 'x', '', 6, '')")
                .find("only a rejection, has a reason code"),
            std::string::npos);
  EXPECT_NE(Raw("INSERT INTO reviews VALUES ('rev_7', 'tsk_1', '', 'usr_r', 'accept', '', '', 7, 'other')")
                .find("only a rejection, has a reason code"),
            std::string::npos);
}

TEST_F(SqliteStoreTest, RefusesADatabaseWithANewerSchema) {
  Open().reset();
  EXPECT_EQ(Raw("INSERT INTO schema_version (number, name, applied_at) "
                "VALUES (999, '0999_future.sql', 0) RETURNING number"),
            "999");
  auto store = OpenSqliteStore(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(store.status().message(), "database schema 999 is newer than this caliper (" +
                                          std::to_string(sqlite::Migrations().back().number) + ")");
}

TEST_F(SqliteStoreTest, RejectsInvalidOptions) {
  SqliteOptions options;
  options.pool_size = 0;
  auto store = OpenSqliteStore(path_, options);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), ErrorCode::kInvalidArgument);
}

TEST_F(SqliteStoreTest, UnopenableFileIsAStorageError) {
  auto store = OpenSqliteStore(dir_ + "/no/such/dir/caliper.db");
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), ErrorCode::kStorage);
}

TEST_F(SqliteStoreTest, AuditEventsAreAppendOnlyInTheFile) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  {
    auto txn = store->Begin(TxnMode::kWrite);
    ASSERT_TRUE(txn.ok());
    AuditEvent e;
    e.action = "x";
    ASSERT_TRUE((*txn)->AppendAuditEvent(e).ok());
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  EXPECT_NE(Raw("UPDATE audit_events SET action = 'y'").find("append-only"), std::string::npos);
  EXPECT_NE(Raw("DELETE FROM audit_events").find("append-only"), std::string::npos);
  EXPECT_EQ(Raw("SELECT action FROM audit_events WHERE seq = 1"), "x");
}

TEST_F(SqliteStoreTest, ForeignKeysAreEnforcedOnEveryPooledConnection) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  // Hold several read transactions so that the writer runs on a freshly opened connection.
  std::vector<std::unique_ptr<Transaction>> readers;
  for (int i = 0; i < 3; ++i) {
    auto txn = store->Begin(TxnMode::kRead);
    ASSERT_TRUE(txn.ok());
    readers.push_back(std::move(txn).value());
  }
  auto txn = store->Begin(TxnMode::kWrite);
  ASSERT_TRUE(txn.ok());
  Status status = (*txn)->PutMembership({"prj_missing", "usr_missing", {}, {}, 0});
  EXPECT_EQ(status.code(), ErrorCode::kNotFound) << status.ToString();
}

TEST_F(SqliteStoreTest, ASecondWriterTimesOutAsUnavailable) {
  SqliteOptions options;
  options.busy_timeout_ms = 100;
  auto store = Open(options);
  ASSERT_NE(store, nullptr);
  auto first = store->Begin(TxnMode::kWrite);
  ASSERT_TRUE(first.ok());
  auto start = std::chrono::steady_clock::now();
  auto second = store->Begin(TxnMode::kWrite);
  auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), ErrorCode::kUnavailable);
  EXPECT_GE(waited, std::chrono::milliseconds(90));
  // Readers are not blocked by the writer.
  EXPECT_TRUE(store->Begin(TxnMode::kRead).ok());
  first->reset();  // rolls back and frees the writer slot
  EXPECT_TRUE(store->Begin(TxnMode::kWrite).ok());
}

TEST_F(SqliteStoreTest, PoolSizeBoundsOpenTransactions) {
  SqliteOptions options;
  options.busy_timeout_ms = 100;
  options.pool_size = 2;
  auto store = Open(options);
  ASSERT_NE(store, nullptr);
  auto a = store->Begin(TxnMode::kRead);
  auto b = store->Begin(TxnMode::kRead);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  auto c = store->Begin(TxnMode::kRead);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), ErrorCode::kUnavailable);
  a->reset();
  EXPECT_TRUE(store->Begin(TxnMode::kRead).ok());
}

TEST_F(SqliteStoreTest, ATransactionMayOutliveItsStore) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  auto txn = store->Begin(TxnMode::kWrite);
  ASSERT_TRUE(txn.ok());
  store.reset();
  EXPECT_TRUE((*txn)->InsertUser(MakeUser("usr_a")).ok());
  EXPECT_TRUE((*txn)->Commit().ok());
  txn->reset();
  auto reopened = Open();
  ASSERT_NE(reopened, nullptr);
  auto read = reopened->Begin(TxnMode::kRead);
  ASSERT_TRUE(read.ok());
  EXPECT_TRUE((*read)->GetUser("usr_a").ok());
}

// Two stores on one file stand in for two processes: their writers meet only in SQLite's
// locking (BEGIN IMMEDIATE and the busy timeout).
TEST_F(SqliteStoreTest, TwoStoresOnOneFileBothCommitEveryWrite) {
  auto one = Open();
  auto two = Open();
  ASSERT_NE(one, nullptr);
  ASSERT_NE(two, nullptr);
  std::atomic<int> failures = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    Store* store = (t % 2 == 0) ? one.get() : two.get();
    threads.emplace_back([store, t, &failures] {
      for (int i = 0; i < 25; ++i) {
        auto txn = store->Begin(TxnMode::kWrite);
        Status status =
            txn.ok()
                ? (*txn)->InsertUser(MakeUser("usr_" + std::to_string(t) + "_" + std::to_string(i)))
                : txn.status();
        AuditEvent e;
        if (status.ok()) status = (*txn)->AppendAuditEvent(e);
        if (status.ok()) status = (*txn)->Commit();
        if (!status.ok()) {
          ++failures;
          ADD_FAILURE() << status.ToString();
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(Raw("SELECT count(*) FROM users"), "100");
  EXPECT_EQ(Raw("SELECT count(*) FROM audit_events"), "100");
  EXPECT_EQ(Raw("SELECT max(seq) FROM audit_events"), "100");
}

TEST_F(SqliteStoreTest, EveryColumnNamingABlobIsReadByTheBlobSweep) {
  // A column that holds blob addresses but is missing from SqliteBlobColumns would have its
  // blobs deleted by the sweep: every column named `blob` or `*_blob` must be listed.
  ASSERT_NE(Open(), nullptr);
  const std::string in_schema = Raw(
      "SELECT group_concat(t || '.' || c, ',') FROM (SELECT m.name AS t, p.name AS c "
      "FROM sqlite_master AS m, pragma_table_info(m.name) AS p WHERE m.type = 'table' "
      "AND (p.name = 'blob' OR p.name LIKE '%\\_blob' ESCAPE '\\') ORDER BY 1, 2)");
  std::vector<std::string> listed;
  for (const auto& [table, column] : SqliteBlobColumns()) listed.push_back(table + "." + column);
  std::sort(listed.begin(), listed.end());
  std::string joined;
  for (const auto& c : listed) joined += (joined.empty() ? "" : ",") + c;
  EXPECT_EQ(in_schema, joined);
  EXPECT_GE(listed.size(), 9u);
}

}  // namespace
}  // namespace caliper::storage
