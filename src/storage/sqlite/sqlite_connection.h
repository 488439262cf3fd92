#pragma once

// The sqlite3 bridge: one connection, its cached prepared statements, and the conversion of
// sqlite result codes into Status. Internal to src/storage/sqlite/; no sqlite3 type leaves
// this folder.

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "caliper/common/status.h"

namespace caliper::storage::sqlite {

// Converts the sqlite result `rc` (with the message of `db`, which may be null) into a Status
// prefixed with `context`:
//   UNIQUE / PRIMARY KEY constraint -> kAlreadyExists
//   FOREIGN KEY constraint          -> kNotFound (a referenced row does not exist)
//   CHECK / NOT NULL constraint     -> kInvalidArgument
//   BUSY / LOCKED                   -> kUnavailable (retryable)
//   anything else                   -> kStorage with the sqlite message
Status StatusFromSqlite(sqlite3* db, int rc, std::string_view context);

// A prepared statement borrowed from a Connection's cache. Binds parameters in order (?1, ?2,
// ...) with Bind(), then steps. Resets itself and clears its bindings when destroyed, so the
// cached statement is ready for the next use. Move-only; must not outlive its Connection.
// Not thread-safe (neither is the Connection).
class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Binding never fails here; a failed bind is reported by the next Step()/Run().
  Statement& Bind(std::string_view text);
  Statement& Bind(const char* text) { return Bind(std::string_view(text)); }
  Statement& Bind(const std::string& text) { return Bind(std::string_view(text)); }
  Statement& Bind(std::int64_t value);
  Statement& Bind(int value) { return Bind(static_cast<std::int64_t>(value)); }
  Statement& Bind(bool value) { return Bind(static_cast<std::int64_t>(value ? 1 : 0)); }
  Statement& Bind(const std::optional<std::int64_t>& value);
  Statement& Bind(const std::optional<double>& value);
  Statement& Bind(const std::vector<unsigned char>& blob);  // empty -> zero-length BLOB

  // Advances: true when a row is ready, false when done.
  Result<bool> Step();
  // Steps to completion, expecting no row (INSERT/UPDATE/DELETE).
  Status Run();

  // Column readers for the current row (0-based). NULL reads as "" / 0 / nullopt / {}.
  std::string Text(int col) const;
  std::int64_t Int(int col) const;
  bool Bool(int col) const { return Int(col) != 0; }
  std::optional<std::int64_t> OptInt(int col) const;
  std::optional<double> OptDouble(int col) const;
  std::vector<unsigned char> Blob(int col) const;

  // True when the statement does not write to the database.
  bool ReadOnly() const { return sqlite3_stmt_readonly(stmt_) != 0; }
  // The SQL text, for error messages (never includes bound values).
  std::string_view Sql() const { return sqlite3_sql(stmt_); }

 private:
  void NoteBind(int rc);

  sqlite3* db_;
  sqlite3_stmt* stmt_;  // owned by the Connection's cache; null after a move
  int next_param_ = 1;
  int bind_rc_ = SQLITE_OK;
};

// One open sqlite3 database handle, configured for Caliper: WAL journal, foreign keys on,
// synchronous=FULL, extended result codes, and the given busy timeout. Used by one thread at
// a time (the pool hands it out); not thread-safe.
class Connection final {
 public:
  // Opens (creating if needed) the database file at `path`. kStorage when it cannot be opened
  // or configured (e.g. WAL refused).
  static Result<std::unique_ptr<Connection>> Open(const std::string& path, int busy_timeout_ms);

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  // Finalizes every cached statement and closes the handle. The last connection to a
  // database checkpoints the WAL into the main file as it closes.
  ~Connection();

  // Runs one or more SQL statements with no parameters and no result rows (pragmas, BEGIN,
  // COMMIT, migration scripts).
  Status Exec(std::string_view sql);

  // The cached prepared statement for `sql` (prepared on first use). kStorage when the SQL
  // does not compile.
  Result<Statement> Prepare(std::string_view sql);

  // Rows changed by the most recent INSERT/UPDATE/DELETE.
  int Changes() const { return sqlite3_changes(db_); }
  // True while a transaction is open on this connection.
  bool InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }

 private:
  explicit Connection(sqlite3* db) : db_(db) {}

  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> statements_;
};

}  // namespace caliper::storage::sqlite
