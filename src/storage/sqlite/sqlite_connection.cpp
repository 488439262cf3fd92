#include "storage/sqlite/sqlite_connection.h"

#include <utility>

namespace caliper::storage::sqlite {

Status StatusFromSqlite(sqlite3* db, int rc, std::string_view context) {
  std::string message(context);
  message += ": ";
  // The handle's message belongs to its most recent error; fall back to the code's text.
  message += (db != nullptr && sqlite3_extended_errcode(db) == rc) ? sqlite3_errmsg(db)
                                                                   : sqlite3_errstr(rc);
  switch (rc) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      return Error(ErrorCode::kAlreadyExists, std::move(message));
    case SQLITE_CONSTRAINT_FOREIGNKEY:
      return Error(ErrorCode::kNotFound, message + " (a referenced row does not exist)");
    case SQLITE_CONSTRAINT_CHECK:
    case SQLITE_CONSTRAINT_NOTNULL:
    case SQLITE_CONSTRAINT_DATATYPE:
      return Error(ErrorCode::kInvalidArgument, std::move(message));
    default:
      break;
  }
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Error(ErrorCode::kUnavailable, std::move(message));
    default:
      return Error(ErrorCode::kStorage, std::move(message));
  }
}

// ---- Statement ------------------------------------------------------------------------------

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_),
      stmt_(std::exchange(other.stmt_, nullptr)),
      next_param_(other.next_param_),
      bind_rc_(other.bind_rc_) {}

Statement::~Statement() {
  if (stmt_ == nullptr) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

void Statement::NoteBind(int rc) {
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  ++next_param_;
}

Statement& Statement::Bind(std::string_view text) {
  // A null data pointer would bind NULL; an empty string must stay an empty TEXT.
  const char* data = text.data() != nullptr ? text.data() : "";
  NoteBind(
      sqlite3_bind_text64(stmt_, next_param_, data, text.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
  return *this;
}

Statement& Statement::Bind(std::int64_t value) {
  NoteBind(sqlite3_bind_int64(stmt_, next_param_, value));
  return *this;
}

Statement& Statement::Bind(const std::optional<std::int64_t>& value) {
  NoteBind(value ? sqlite3_bind_int64(stmt_, next_param_, *value)
                 : sqlite3_bind_null(stmt_, next_param_));
  return *this;
}

Statement& Statement::Bind(const std::optional<double>& value) {
  NoteBind(value ? sqlite3_bind_double(stmt_, next_param_, *value)
                 : sqlite3_bind_null(stmt_, next_param_));
  return *this;
}

Statement& Statement::Bind(const std::vector<unsigned char>& blob) {
  // A null data pointer would bind NULL; an empty key must stay a zero-length BLOB.
  NoteBind(blob.empty() ? sqlite3_bind_zeroblob(stmt_, next_param_, 0)
                        : sqlite3_bind_blob64(stmt_, next_param_, blob.data(), blob.size(),
                                              SQLITE_TRANSIENT));
  return *this;
}

Result<bool> Statement::Step() {
  if (bind_rc_ != SQLITE_OK) return StatusFromSqlite(db_, bind_rc_, "binding parameters");
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return StatusFromSqlite(db_, rc, "sqlite");
}

Status Statement::Run() {
  CALIPER_ASSIGN_OR_RETURN(bool row, Step());
  if (row) return Error(ErrorCode::kInternal, "statement returned a row where none was expected");
  return Status::Ok();
}

std::string Statement::Text(int col) const {
  const unsigned char* text = sqlite3_column_text(stmt_, col);
  if (text == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)));
}

std::int64_t Statement::Int(int col) const { return sqlite3_column_int64(stmt_, col); }

std::optional<std::int64_t> Statement::OptInt(int col) const {
  if (sqlite3_column_type(stmt_, col) == SQLITE_NULL) return std::nullopt;
  return sqlite3_column_int64(stmt_, col);
}

std::optional<double> Statement::OptDouble(int col) const {
  if (sqlite3_column_type(stmt_, col) == SQLITE_NULL) return std::nullopt;
  return sqlite3_column_double(stmt_, col);
}

std::vector<unsigned char> Statement::Blob(int col) const {
  const auto* data = static_cast<const unsigned char*>(sqlite3_column_blob(stmt_, col));
  if (data == nullptr) return {};  // NULL or zero-length
  return std::vector<unsigned char>(data, data + sqlite3_column_bytes(stmt_, col));
}

// ---- Connection -----------------------------------------------------------------------------

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& path, int busy_timeout_ms) {
  sqlite3* db = nullptr;
  // NOMUTEX: the pool guarantees one thread at a time per connection.
  int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Status status = StatusFromSqlite(db, rc, "opening database " + path);
    sqlite3_close(db);  // a handle is returned even on failure (or null; both are fine)
    return status;
  }
  std::unique_ptr<Connection> conn(new Connection(db));
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, busy_timeout_ms);
  // journal_mode answers with the mode in force; anything but "wal" means WAL was refused
  // (e.g. a file system without shared memory).
  {
    CALIPER_ASSIGN_OR_RETURN(Statement st, conn->Prepare("PRAGMA journal_mode=WAL"));
    CALIPER_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row || st.Text(0) != "wal") {
      return Error(ErrorCode::kStorage, "database " + path + " refused WAL journal mode");
    }
  }
  // synchronous=FULL: the WAL is fsync'd at every commit, so an acknowledged commit survives
  // a crash or power loss.
  CALIPER_RETURN_IF_ERROR(conn->Exec("PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL;"));
  return conn;
}

Connection::~Connection() {
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  statements_.clear();
  sqlite3_close(db_);
}

Status Connection::Exec(std::string_view sql) {
  std::string text(sql);
  char* error = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &error);
  sqlite3_free(error);  // the same message is still available from the handle
  if (rc != SQLITE_OK) return StatusFromSqlite(db_, rc, "sqlite");
  return Status::Ok();
}

Result<Statement> Connection::Prepare(std::string_view sql) {
  std::string key(sql);
  auto it = statements_.find(key);
  if (it == statements_.end()) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, key.data(), static_cast<int>(key.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(stmt);
      return StatusFromSqlite(db_, rc, "preparing statement");
    }
    it = statements_.emplace(std::move(key), stmt).first;
  }
  return Statement(db_, it->second);
}

}  // namespace caliper::storage::sqlite
