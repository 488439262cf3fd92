// The SQLite backend of the Store contract (caliper/storage/store.h).
//
// Concurrency model: a pool of up to options.pool_size connections, each used by one
// transaction at a time. Readers run in parallel on their own WAL snapshots. Writers inside
// this process queue on a semaphore (so they wait without busy-polling), and across processes
// on BEGIN IMMEDIATE with the busy timeout. Every connection runs with foreign keys on and
// synchronous=FULL.

#include "caliper/storage/store.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "caliper/common/clock.h"
#include "caliper/core/rules.h"
#include "storage/sqlite/migrations.h"
#include "storage/sqlite/sqlite_connection.h"

namespace caliper::storage {
namespace {

using sqlite::Connection;
using sqlite::Statement;
using SteadyTime = std::chrono::steady_clock::time_point;
using Json = nlohmann::json;

constexpr int kMaxPageLimit = 500;

SteadyTime DeadlineAfter(int timeout_ms) {
  return std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
}

// ---- connection pool ------------------------------------------------------------------------

// Hands out connections (opening up to pool_size lazily) and the in-process writer slot.
// Thread-safe. Shared by the store and every live transaction (shared_ptr) so that a
// transaction outliving its Store still returns its connection to a valid pool.
class ConnectionPool {
 public:
  ConnectionPool(std::string path, const SqliteOptions& options)
      : path_(std::move(path)), options_(options) {}

  const SqliteOptions& options() const { return options_; }

  // An idle or newly opened connection. kUnavailable when the pool is closed or every
  // connection stays in use until `deadline`.
  Result<std::unique_ptr<Connection>> Acquire(SteadyTime deadline) {
    std::unique_lock lock(mu_);
    for (;;) {
      if (closed_) return Error(ErrorCode::kUnavailable, "the store is closed");
      if (!idle_.empty()) {
        std::unique_ptr<Connection> conn = std::move(idle_.back());
        idle_.pop_back();
        return conn;
      }
      if (open_ < options_.pool_size) break;
      if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() && !closed_ &&
          open_ >= options_.pool_size) {
        return Error(ErrorCode::kUnavailable,
                     "all " + std::to_string(options_.pool_size) +
                         " database connections stayed in use for the busy timeout");
      }
    }
    ++open_;
    lock.unlock();
    auto conn = Connection::Open(path_, options_.busy_timeout_ms);
    if (!conn.ok()) {
      lock.lock();
      --open_;
      cv_.notify_one();
    }
    return conn;
  }

  // Takes `conn` back. A connection still inside a transaction (a failed rollback) or handed
  // back after Close() is closed instead of kept.
  void Release(std::unique_ptr<Connection> conn) {
    std::unique_lock lock(mu_);
    if (closed_ || conn->InTransaction()) {
      --open_;
      lock.unlock();
      conn.reset();
      cv_.notify_one();
      return;
    }
    idle_.push_back(std::move(conn));
    lock.unlock();
    cv_.notify_one();
  }

  // The one in-process writer slot, granted first come, first served (a ticket queue, so no
  // writer waits while later ones overtake it); kUnavailable when it is not free by
  // `deadline`.
  Status AcquireWriter(SteadyTime deadline) {
    std::unique_lock lock(writer_mu_);
    const std::uint64_t ticket = next_ticket_++;
    if (writer_cv_.wait_until(lock, deadline, [&] { return serving_ == ticket; })) {
      return Status::Ok();
    }
    abandoned_.insert(ticket);  // skipped when its turn comes
    return Error(ErrorCode::kUnavailable,
                 "another write transaction held the database for the busy timeout");
  }
  // May be called by any thread (whichever ends the transaction).
  void ReleaseWriter() {
    {
      std::lock_guard lock(writer_mu_);
      ++serving_;
      while (abandoned_.erase(serving_) > 0) ++serving_;
    }
    writer_cv_.notify_all();
  }

  // Closes the idle connections; connections in use close when released. Idempotent.
  void Close() {
    std::vector<std::unique_ptr<Connection>> idle;
    {
      std::lock_guard lock(mu_);
      closed_ = true;
      idle.swap(idle_);
      open_ -= static_cast<int>(idle.size());
    }
    cv_.notify_all();
    idle.clear();  // finalizes statements and closes; the last close checkpoints the WAL
  }

 private:
  const std::string path_;
  const SqliteOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by mu_
  int open_ = 0;                                   // idle + in use; guarded by mu_
  bool closed_ = false;                            // guarded by mu_
  std::mutex writer_mu_;                           // guards the ticket queue below
  std::condition_variable writer_cv_;
  std::uint64_t next_ticket_ = 0;
  std::uint64_t serving_ = 0;                      // the ticket that holds the writer slot
  std::set<std::uint64_t> abandoned_;              // tickets whose waiters timed out
};

// Starts a transaction on `conn`: BEGIN IMMEDIATE for kWrite (takes the database's write lock,
// waiting up to the busy timeout), BEGIN DEFERRED for kRead, which then takes its snapshot at
// once so that it does not see commits made after Begin returned. SQLite may answer BUSY without waiting (e.g. in WAL while another
// connection recovers the log); such attempts are retried with backoff until `deadline`.
Status BeginWithRetry(Connection& conn, TxnMode mode, SteadyTime deadline) {
  auto backoff = std::chrono::milliseconds(1);
  for (;;) {
    Status status = conn.Exec(mode == TxnMode::kWrite ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED");
    if (status.ok() && mode == TxnMode::kRead) {
      auto st = conn.Prepare("SELECT count(*) FROM sqlite_master");
      status = st.ok() ? st->Step().status() : st.status();
    }
    if (status.ok()) return status;
    if (conn.InTransaction()) (void)conn.Exec("ROLLBACK");
    if (status.code() != ErrorCode::kUnavailable ||
        std::chrono::steady_clock::now() + backoff > deadline) {
      return status.WithContext("beginning a transaction");
    }
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(50));
  }
}

// ---- migrations -----------------------------------------------------------------------------

// The highest applied migration; 0 for an empty database.
Result<int> ReadSchemaVersion(Connection& conn) {
  {
    CALIPER_ASSIGN_OR_RETURN(
        Statement st, conn.Prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                                   "name = 'schema_version'"));
    CALIPER_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row || st.Int(0) == 0) return 0;
  }
  CALIPER_ASSIGN_OR_RETURN(Statement st,
                           conn.Prepare("SELECT COALESCE(MAX(number), 0) FROM schema_version"));
  CALIPER_ASSIGN_OR_RETURN(bool row, st.Step());
  return row ? static_cast<int>(st.Int(0)) : 0;
}

Status ApplyMigration(Connection& conn, const sqlite::Migration& migration) {
  // Another process may have applied it since we looked.
  CALIPER_ASSIGN_OR_RETURN(int current, ReadSchemaVersion(conn));
  if (current >= migration.number) return Status::Ok();
  CALIPER_RETURN_IF_ERROR(conn.Exec(migration.sql));
  CALIPER_ASSIGN_OR_RETURN(
      Statement st,
      conn.Prepare("INSERT INTO schema_version (number, name, applied_at) VALUES (?1, ?2, ?3)"));
  return st.Bind(migration.number).Bind(migration.name).Bind(SystemClock::Instance().Now()).Run();
}

// Applies every embedded migration newer than the database, each in its own transaction.
Status Migrate(Connection& conn, int busy_timeout_ms) {
  const auto& migrations = sqlite::Migrations();
  const int known = migrations.empty() ? 0 : migrations.back().number;
  CALIPER_ASSIGN_OR_RETURN(int current, ReadSchemaVersion(conn));
  if (current > known) {
    return Error(ErrorCode::kUnavailable, "database schema " + std::to_string(current) +
                                              " is newer than this caliper (" +
                                              std::to_string(known) + ")");
  }
  for (const sqlite::Migration& migration : migrations) {
    if (migration.number <= current) continue;
    CALIPER_RETURN_IF_ERROR(
        BeginWithRetry(conn, TxnMode::kWrite, DeadlineAfter(busy_timeout_ms)));
    Status status = ApplyMigration(conn, migration);
    if (status.ok()) status = conn.Exec("COMMIT");
    if (!status.ok()) {
      if (conn.InTransaction()) (void)conn.Exec("ROLLBACK");
      return status.WithContext("applying migration " + std::string(migration.name));
    }
  }
  return Status::Ok();
}

// ---- value conversions ----------------------------------------------------------------------

std::string ToJson(const std::vector<std::string>& values) {
  Json array = Json::array();
  for (const std::string& v : values) array.push_back(v);
  // replace: invalid UTF-8 must not throw
  return array.dump(-1, ' ', false, Json::error_handler_t::replace);
}

template <typename E>
std::string NamesToJson(const std::vector<E>& values) {
  std::vector<std::string> names;
  names.reserve(values.size());
  for (E v : values) names.emplace_back(core::ToString(v));
  return ToJson(names);
}

Result<std::vector<std::string>> StringsFromJson(const std::string& text, std::string_view column) {
  Json array = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!array.is_array()) {
    return Error(ErrorCode::kStorage, "column " + std::string(column) + " is not a JSON array");
  }
  std::vector<std::string> out;
  for (const Json& v : array) {
    if (!v.is_string()) {
      return Error(ErrorCode::kStorage,
                   "column " + std::string(column) + " holds a non-string element");
    }
    out.push_back(v.get<std::string>());
  }
  return out;
}

template <typename E>
Result<std::vector<E>> NamesFromJson(const std::string& text, std::string_view column,
                                     Result<E> (*parse)(std::string_view)) {
  CALIPER_ASSIGN_OR_RETURN(std::vector<std::string> names, StringsFromJson(text, column));
  std::vector<E> out;
  out.reserve(names.size());
  for (const std::string& name : names) {
    CALIPER_ASSIGN_OR_RETURN(E v, parse(name));
    out.push_back(v);
  }
  return out;
}

// Wraps a parse failure of a stored value as kStorage (the database holds a value this binary
// does not understand).
template <typename T>
Result<T> Stored(Result<T> value, std::string_view column) {
  if (value.ok()) return value;
  return Error(ErrorCode::kStorage,
               "stored " + std::string(column) + ": " + value.status().message());
}

// ---- row readers ----------------------------------------------------------------------------
// Each *_COLUMNS list is a macro so it can be spliced into string-literal SQL (statements are
// cached by their text); the reader below it reads columns in exactly that order.

#define USER_COLUMNS                                                                      \
  "id, username, display_name, password_hash, is_admin, disabled, must_change_password, " \
  "locked_until, qualifications, created_at"
Result<core::User> ReadUser(const Statement& st) {
  core::User u;
  u.id = st.Text(0);
  u.username = st.Text(1);
  u.display_name = st.Text(2);
  u.password_hash = st.Text(3);
  u.is_admin = st.Bool(4);
  u.disabled = st.Bool(5);
  u.must_change_password = st.Bool(6);
  u.locked_until = st.OptInt(7);
  CALIPER_ASSIGN_OR_RETURN(u.qualifications, Stored(NamesFromJson(st.Text(8), "qualifications",
                                                                  &core::ParseQualification),
                                                    "users.qualifications"));
  u.created_at = st.Int(9);
  return u;
}

#define SESSION_COLUMNS                                                            \
  "id, user_id, token_hash, csrf_hash, source_address, created_at, last_seen_at, " \
  "absolute_expires_at, revoked_at"
Result<Session> ReadSession(const Statement& st) {
  Session s;
  s.id = st.Text(0);
  s.user_id = st.Text(1);
  s.token_hash = st.Text(2);
  s.csrf_hash = st.Text(3);
  s.source_address = st.Text(4);
  s.created_at = st.Int(5);
  s.last_seen_at = st.Int(6);
  s.absolute_expires_at = st.Int(7);
  s.revoked_at = st.OptInt(8);
  return s;
}

#define API_TOKEN_COLUMNS                                                            \
  "id, name, user_id, project_id, permissions, token_hash, created_at, expires_at, " \
  "revoked_at, item_id"
Result<ApiToken> ReadApiToken(const Statement& st) {
  ApiToken t;
  t.id = st.Text(0);
  t.name = st.Text(1);
  t.user_id = st.Text(2);
  t.project_id = st.Text(3);
  CALIPER_ASSIGN_OR_RETURN(t.permissions, StringsFromJson(st.Text(4), "api_tokens.permissions"));
  t.token_hash = st.Text(5);
  t.created_at = st.Int(6);
  t.expires_at = st.OptInt(7);
  t.revoked_at = st.OptInt(8);
  t.item_id = st.Text(9);
  return t;
}

#define EXPORT_COLUMNS                                                                            \
  "id, project_id, version, spec_json, reason, status, requested_by, requested_at, decided_by, " \
  "decided_at, decision_note, snapshot_blob, snapshot_bytes, manifest_sha256, error, revision, build_started_at, " \
  "build_renewed_at"
Result<DatasetExport> ReadExport(const Statement& st) {
  DatasetExport e;
  e.id = st.Text(0);
  e.project_id = st.Text(1);
  e.version = st.Int(2);
  e.spec_json = st.Text(3);
  e.reason = st.Text(4);
  e.status = st.Text(5);
  e.requested_by = st.Text(6);
  e.requested_at = st.Int(7);
  e.decided_by = st.Text(8);
  e.decided_at = st.OptInt(9);
  e.decision_note = st.Text(10);
  e.snapshot_blob = st.Text(11);
  e.snapshot_bytes = st.Int(12);
  e.manifest_sha256 = st.Text(13);
  e.error = st.Text(14);
  e.revision = st.Int(15);
  e.build_started_at = st.OptInt(16);
  e.build_renewed_at = st.OptInt(17);
  return e;
}

#define EXPORT_TOKEN_COLUMNS "id, export_id, token_hash, issued_to, created_at, expires_at, used_at"
Result<ExportToken> ReadExportToken(const Statement& st) {
  ExportToken t;
  t.id = st.Text(0);
  t.export_id = st.Text(1);
  t.token_hash = st.Text(2);
  t.issued_to = st.Text(3);
  t.created_at = st.Int(4);
  t.expires_at = st.Int(5);
  t.used_at = st.OptInt(6);
  return t;
}

#define PROJECT_COLUMNS "p.id, p.name, p.description, p.created_at, p.created_by"
Result<core::Project> ReadProject(const Statement& st) {
  core::Project p;
  p.id = st.Text(0);
  p.name = st.Text(1);
  p.description = st.Text(2);
  p.created_at = st.Int(3);
  p.created_by = st.Text(4);
  return p;
}

#define MEMBERSHIP_COLUMNS "project_id, user_id, roles, scopes, created_at"
Result<core::Membership> ReadMembership(const Statement& st) {
  core::Membership m;
  m.project_id = st.Text(0);
  m.user_id = st.Text(1);
  CALIPER_ASSIGN_OR_RETURN(
      m.roles, Stored(NamesFromJson(st.Text(2), "roles", &core::ParseRole), "memberships.roles"));
  CALIPER_ASSIGN_OR_RETURN(
      m.scopes,
      Stored(NamesFromJson(st.Text(3), "scopes", &core::ParseDataType), "memberships.scopes"));
  m.created_at = st.Int(4);
  return m;
}

#define ITEM_COLUMNS                                                              \
  "id, project_id, data_type, modality, patient_key, cohort_json, content_blob, " \
  "content_type, content_bytes, created_at, created_by"
Result<core::Item> ReadItem(const Statement& st) {
  core::Item i;
  i.id = st.Text(0);
  i.project_id = st.Text(1);
  CALIPER_ASSIGN_OR_RETURN(i.data_type, Stored(core::ParseDataType(st.Text(2)), "items.data_type"));
  i.modality = st.Text(3);
  i.patient_key = st.Text(4);
  i.cohort_json = st.Text(5);
  i.content_blob = st.Text(6);
  i.content_type = st.Text(7);
  i.content_bytes = st.Int(8);
  i.created_at = st.Int(9);
  i.created_by = st.Text(10);
  return i;
}

#define NOTE_COLUMNS \
  "item_id, project_id, source_hash, deid_mode, deid_edition, chars, phi_json, created_at"
Result<core::Note> ReadNote(const Statement& st) {
  core::Note n;
  n.item_id = st.Text(0);
  n.project_id = st.Text(1);
  n.source_hash = st.Text(2);
  n.deid_mode = st.Text(3);
  n.deid_edition = st.Text(4);
  n.chars = st.Int(5);
  n.phi_json = st.Text(6);
  n.created_at = st.Int(7);
  return n;
}

#define DICOM_INSTANCE_COLUMNS \
  "project_id, sop_instance_uid, item_id, series_uid, study_uid, blob, bytes, created_at"
Result<DicomInstance> ReadDicomInstance(const Statement& st) {
  DicomInstance d;
  d.project_id = st.Text(0);
  d.sop_instance_uid = st.Text(1);
  d.item_id = st.Text(2);
  d.series_uid = st.Text(3);
  d.study_uid = st.Text(4);
  d.blob = st.Text(5);
  d.bytes = st.Int(6);
  d.created_at = st.Int(7);
  return d;
}

#define QUARANTINE_COLUMNS                                                                            \
  "id, project_id, sop_instance_uid, series_uid, study_uid, modality, patient_key, cohort_json, reasons, blob, " \
  "link_blob, bytes, status, created_at, created_by, decided_at, decided_by, reason, rects, item_id"
Result<QuarantinedInstance> ReadQuarantined(const Statement& st) {
  QuarantinedInstance q;
  q.id = st.Text(0);
  q.project_id = st.Text(1);
  q.sop_instance_uid = st.Text(2);
  q.series_uid = st.Text(3);
  q.study_uid = st.Text(4);
  q.modality = st.Text(5);
  q.patient_key = st.Text(6);
  q.cohort_json = st.Text(7);
  CALIPER_ASSIGN_OR_RETURN(q.reasons, Stored(StringsFromJson(st.Text(8), "reasons"), "dicom_quarantine.reasons"));
  q.blob = st.Text(9);
  q.link_blob = st.Text(10);
  q.bytes = st.Int(11);
  q.status = st.Text(12);
  q.created_at = st.Int(13);
  q.created_by = st.Text(14);
  q.decided_at = st.OptInt(15);
  q.decided_by = st.Text(16);
  q.reason = st.Text(17);
  q.rects_json = st.Text(18);
  q.item_id = st.Text(19);
  return q;
}

Result<core::DicomSource> ReadDicomSource(const Statement& st) {
  return core::DicomSource{st.Text(0), st.Text(1)};
}

Result<std::string> ReadFirstText(const Statement& st) { return st.Text(0); }

#define LINK_COLUMNS "item_id, project_id, blob, created_at"
Result<ReidentificationLink> ReadLink(const Statement& st) {
  ReidentificationLink l;
  l.item_id = st.Text(0);
  l.project_id = st.Text(1);
  l.blob = st.Text(2);
  l.created_at = st.Int(3);
  return l;
}

#define MASK_COLUMNS "id, item_id, project_id, author, version, blob, bytes, created_at"
Result<ItemMask> ReadMask(const Statement& st) {
  ItemMask m;
  m.id = st.Text(0);
  m.item_id = st.Text(1);
  m.project_id = st.Text(2);
  m.author = st.Text(3);
  m.version = st.Int(4);
  m.blob = st.Text(5);
  m.bytes = st.Int(6);
  m.created_at = st.Int(7);
  return m;
}

#define MARKUP_COLUMNS "id, item_id, project_id, author, kind, version, blob, bytes, created_at"
Result<ItemMarkup> ReadMarkup(const Statement& st) {
  ItemMarkup m;
  m.id = st.Text(0);
  m.item_id = st.Text(1);
  m.project_id = st.Text(2);
  m.author = st.Text(3);
  const std::string kind = st.Text(4);
  if (kind == MarkupKindName(MarkupKind::kRegions)) {
    m.kind = MarkupKind::kRegions;
  } else if (kind == MarkupKindName(MarkupKind::kIntervals)) {
    m.kind = MarkupKind::kIntervals;
  } else {
    return Error(ErrorCode::kIntegrity, "markup " + m.id + " has unknown kind '" + kind + "'");
  }
  m.version = st.Int(5);
  m.blob = st.Text(6);
  m.bytes = st.Int(7);
  m.created_at = st.Int(8);
  return m;
}

#define SLIDE_TILE_COLUMNS "item_id, level, col, row, blob, bytes"
Result<SlideTile> ReadSlideTile(const Statement& st) {
  SlideTile t;
  t.item_id = st.Text(0);
  t.level = static_cast<int>(st.Int(1));
  t.col = st.Int(2);
  t.row = st.Int(3);
  t.blob = st.Text(4);
  t.bytes = st.Int(5);
  return t;
}

#define SLIDE_VIEW_COLUMNS "id, item_id, user_id, created_at, expires_at"
Result<SlideView> ReadSlideView(const Statement& st) {
  SlideView v;
  v.id = st.Text(0);
  v.item_id = st.Text(1);
  v.user_id = st.Text(2);
  v.created_at = st.Int(3);
  v.expires_at = st.Int(4);
  return v;
}

#define TEXT_SETTINGS_COLUMNS "project_id, deid_mode, clinician_names, updated_at"
Result<core::TextSettings> ReadTextSettings(const Statement& st) {
  core::TextSettings t;
  t.project_id = st.Text(0);
  t.deid_mode = st.Text(1);
  CALIPER_ASSIGN_OR_RETURN(t.clinician_names,
                           Stored(StringsFromJson(st.Text(2), "clinician_names"), "text_settings.clinician_names"));
  t.updated_at = st.Int(3);
  return t;
}

#define DICOM_SETTINGS_COLUMNS "project_id, options, safe_private, blanking, updated_at"
Result<core::DicomSettings> ReadDicomSettings(const Statement& st) {
  core::DicomSettings d;
  d.project_id = st.Text(0);
  CALIPER_ASSIGN_OR_RETURN(d.options, Stored(StringsFromJson(st.Text(1), "options"), "dicom_settings.options"));
  CALIPER_ASSIGN_OR_RETURN(d.safe_private,
                           Stored(StringsFromJson(st.Text(2), "safe_private"), "dicom_settings.safe_private"));
  CALIPER_ASSIGN_OR_RETURN(d.blanking, Stored(StringsFromJson(st.Text(3), "blanking"), "dicom_settings.blanking"));
  d.updated_at = st.Int(4);
  return d;
}

#define TASK_COLUMNS                                                                         \
  "id, project_id, item_id, assignee, state, lease_expires_at, revision, created_at, updated_at, " \
  "kind, repeat_of, due_at, due_after_readings"
Result<core::Task> ReadTask(const Statement& st) {
  core::Task t;
  t.id = st.Text(0);
  t.project_id = st.Text(1);
  t.item_id = st.Text(2);
  t.assignee = st.Text(3);
  CALIPER_ASSIGN_OR_RETURN(t.state, Stored(core::ParseTaskState(st.Text(4)), "tasks.state"));
  t.lease_expires_at = st.OptInt(5);
  t.revision = st.Int(6);
  t.created_at = st.Int(7);
  t.updated_at = st.Int(8);
  CALIPER_ASSIGN_OR_RETURN(t.kind, Stored(core::ParseTaskKind(st.Text(9)), "tasks.kind"));
  t.repeat_of = st.Text(10);
  t.due_at = st.OptInt(11);
  t.due_after_readings = st.OptInt(12);
  return t;
}

#define ANNOTATION_COLUMNS                                                                 \
  "id, project_id, item_id, task_id, author, guideline_version_id, evidence_kind, "        \
  "evidence_json, label_class, code_system, code, confidence, assertion, status, origin, " \
  "revision, created_at, updated_at, temporality, experiencer, relations_json"
Result<core::Annotation> ReadAnnotation(const Statement& st) {
  core::Annotation a;
  a.id = st.Text(0);
  a.project_id = st.Text(1);
  a.item_id = st.Text(2);
  a.task_id = st.Text(3);
  a.author = st.Text(4);
  a.guideline_version_id = st.Text(5);
  a.evidence_kind = st.Text(6);
  a.evidence_json = st.Text(7);
  a.label_class = st.Text(8);
  a.code_system = st.Text(9);
  a.code = st.Text(10);
  a.confidence = st.OptDouble(11);
  CALIPER_ASSIGN_OR_RETURN(a.assertion,
                           Stored(core::ParseAssertion(st.Text(12)), "annotations.assertion"));
  CALIPER_ASSIGN_OR_RETURN(a.status,
                           Stored(core::ParseLabelStatus(st.Text(13)), "annotations.status"));
  a.origin = st.Text(14);
  a.revision = st.Int(15);
  a.created_at = st.Int(16);
  a.updated_at = st.Int(17);
  CALIPER_ASSIGN_OR_RETURN(a.temporality,
                           Stored(core::ParseTemporality(st.Text(18)), "annotations.temporality"));
  CALIPER_ASSIGN_OR_RETURN(a.experiencer,
                           Stored(core::ParseExperiencer(st.Text(19)), "annotations.experiencer"));
  a.relations_json = st.Text(20);
  return a;
}

// Binds the ANNOTATION_COLUMNS of `a` in order (the statement's next 21 parameters).
Statement& BindAnnotation(Statement& st, const core::Annotation& a) {
  return st.Bind(a.id)
      .Bind(a.project_id)
      .Bind(a.item_id)
      .Bind(a.task_id)
      .Bind(a.author)
      .Bind(a.guideline_version_id)
      .Bind(a.evidence_kind)
      .Bind(a.evidence_json)
      .Bind(a.label_class)
      .Bind(a.code_system)
      .Bind(a.code)
      .Bind(a.confidence)
      .Bind(core::ToString(a.assertion))
      .Bind(core::ToString(a.status))
      .Bind(a.origin)
      .Bind(a.revision)
      .Bind(a.created_at)
      .Bind(a.updated_at)
      .Bind(core::ToString(a.temporality))
      .Bind(core::ToString(a.experiencer))
      .Bind(a.relations_json.empty() ? std::string("[]") : a.relations_json);
}

// ANNOTATION_COLUMNS, then replaced_by, replaced_at, reason.
Result<core::AnnotationVersion> ReadAnnotationVersion(const Statement& st) {
  core::AnnotationVersion v;
  CALIPER_ASSIGN_OR_RETURN(v.annotation, ReadAnnotation(st));
  v.replaced_by = st.Text(21);
  v.replaced_at = st.Int(22);
  v.reason = st.Text(23);
  return v;
}

#define IDEMPOTENT_REPLY_COLUMNS "user_id, key, scope, status, body, created_at"
Result<IdempotentReply> ReadIdempotentReply(const Statement& st) {
  return IdempotentReply{st.Text(0), st.Text(1), st.Text(2), static_cast<int>(st.Int(3)), st.Text(4), st.Int(5)};
}

#define OUTCOME_COLUMNS                                                                          \
  "id, project_id, item_id, patient_key, evidence_type, label_class, value, confirms, observed_at, " \
  "recorded_by, recorded_at"
Result<core::Outcome> ReadOutcome(const Statement& st) {
  return core::Outcome{st.Text(0), st.Text(1),  st.Text(2), st.Text(3), st.Text(4), st.Text(5),
                       st.Text(6), st.Bool(7), st.Int(8),  st.Text(9), st.Int(10)};
}

#define FEEDBACK_COLUMNS \
  "id, project_id, item_id, label_class, guideline_version_id, kind, note, author, created_at"
Result<core::GuidelineFeedback> ReadFeedback(const Statement& st) {
  CALIPER_ASSIGN_OR_RETURN(core::FeedbackKind kind, core::ParseFeedbackKind(st.Text(5)));
  return core::GuidelineFeedback{st.Text(0), st.Text(1), st.Text(2), st.Text(3), st.Text(4),
                                 kind,       st.Text(6), st.Text(7), st.Int(8)};
}

#define GOLD_COLUMNS "item_id, project_id, answer, set_by, set_at"
Result<core::GoldItem> ReadGoldItem(const Statement& st) {
  core::GoldItem g{st.Text(0), st.Text(1), {}, st.Text(3), st.Int(4)};
  const auto answer = Json::parse(st.Text(2), nullptr, false);
  if (!answer.is_array()) return Error(ErrorCode::kStorage, "gold_items.answer is not a JSON array");
  for (const auto& c : answer) {
    if (!c.is_string()) return Error(ErrorCode::kStorage, "gold_items.answer holds a non-string");
    g.answer.push_back(c.get<std::string>());
  }
  return g;
}

#define ADJUDICATION_TRIGGER_COLUMNS "id, project_id, item_id, label_class, reason, detail, created_at"
Result<core::AdjudicationTrigger> ReadAdjudicationTrigger(const Statement& st) {
  return core::AdjudicationTrigger{st.Text(0), st.Text(1), st.Text(2), st.Text(3), st.Text(4), st.Text(5), st.Int(6)};
}

#define GUIDELINE_COLUMNS                                                                  \
  "id, project_id, version, status, schema_json, based_on, revision, created_at, created_by, " \
  "published_at"
Result<core::GuidelineVersion> ReadGuideline(const Statement& st) {
  core::GuidelineVersion g;
  g.id = st.Text(0);
  g.project_id = st.Text(1);
  g.version = static_cast<int>(st.Int(2));
  CALIPER_ASSIGN_OR_RETURN(g.status, Stored(core::ParseGuidelineStatus(st.Text(3)), "guideline_versions.status"));
  g.schema_json = st.Text(4);
  g.based_on = st.Text(5);
  g.revision = st.Int(6);
  g.created_at = st.Int(7);
  g.created_by = st.Text(8);
  g.published_at = st.OptInt(9);
  return g;
}

#define WORKFLOW_SETTINGS_COLUMNS                                                              \
  "project_id, readers_per_item, required_qualification, data_types, lease_minutes, updated_at, " \
  "task_order, prelabel_hidden_share, gold_rate, review_rate, repeat_rate, washout_days, washout_readings"
Result<core::WorkflowSettings> ReadWorkflowSettings(const Statement& st) {
  core::WorkflowSettings w;
  w.project_id = st.Text(0);
  w.readers_per_item = static_cast<int>(st.Int(1));
  if (!st.Text(2).empty()) {
    CALIPER_ASSIGN_OR_RETURN(w.required_qualification,
                             Stored(core::ParseQualification(st.Text(2)), "workflow_settings.required_qualification"));
  }
  CALIPER_ASSIGN_OR_RETURN(w.data_types, Stored(NamesFromJson(st.Text(3), "data_types", &core::ParseDataType),
                                                "workflow_settings.data_types"));
  w.lease_minutes = static_cast<int>(st.Int(4));
  w.updated_at = st.Int(5);
  CALIPER_ASSIGN_OR_RETURN(w.task_order, Stored(core::ParseTaskOrder(st.Text(6)), "workflow_settings.task_order"));
  w.prelabel_hidden_share = st.OptDouble(7).value_or(0.0);
  w.gold_rate = st.OptDouble(8).value_or(0.0);
  w.review_rate = st.OptDouble(9).value_or(1.0);
  w.repeat_rate = st.OptDouble(10).value_or(0.0);
  w.washout_days = static_cast<int>(st.Int(11));
  w.washout_readings = static_cast<int>(st.Int(12));
  return w;
}

#define SOFT_LABEL_COLUMNS "item_id, project_id, label_class, method, probability, readings, computed_at"
Result<SoftLabel> ReadSoftLabel(const Statement& st) {
  return SoftLabel{st.Text(0), st.Text(1), st.Text(2), st.Text(3), st.OptDouble(4).value_or(0.0), st.Int(5), st.Int(6)};
}

#define QA_FINDING_COLUMNS \
  "id, project_id, item_id, rule, severity, label_class, annotation_id, message, fix, source, found_at"
Result<QaFindingRow> ReadQaFinding(const Statement& st) {
  return QaFindingRow{st.Text(0), st.Text(1), st.Text(2), st.Text(3), st.Text(4), st.Text(5),
                      st.Text(6), st.Text(7), st.Text(8), st.Text(9), st.Int(10)};
}

#define REVIEW_COLUMNS \
  "id, task_id, annotation_id, reviewer, decision, reason, corrected_annotation_id, created_at, reject_reason"
Result<core::Review> ReadReview(const Statement& st) {
  core::Review r;
  r.id = st.Text(0);
  r.task_id = st.Text(1);
  r.annotation_id = st.Text(2);
  r.reviewer = st.Text(3);
  CALIPER_ASSIGN_OR_RETURN(r.decision, Stored(core::ParseReviewDecision(st.Text(4)), "reviews.decision"));
  r.reason = st.Text(5);
  r.corrected_annotation_id = st.Text(6);
  r.created_at = st.Int(7);
  if (!st.Text(8).empty()) {
    CALIPER_ASSIGN_OR_RETURN(r.reject_reason, Stored(core::ParseRejectReason(st.Text(8)), "reviews.reject_reason"));
  }
  return r;
}

#define ADJUDICATION_COLUMNS                                                                    \
  "id, project_id, item_id, adjudicator, source_annotation_id, final_annotation_id, rationale, " \
  "created_at"
Result<core::Adjudication> ReadAdjudication(const Statement& st) {
  core::Adjudication a;
  a.id = st.Text(0);
  a.project_id = st.Text(1);
  a.item_id = st.Text(2);
  a.adjudicator = st.Text(3);
  a.source_annotation_id = st.Text(4);
  a.final_annotation_id = st.Text(5);
  a.rationale = st.Text(6);
  a.created_at = st.Int(7);
  return a;
}

#define PRELABEL_COLUMNS                                                                      \
  "id, project_id, item_id, model_name, model_version, guideline_version_id, evidence_kind, "  \
  "evidence_json, label_class, code_system, code, assertion, attributes_json, score, scores_json, " \
  "created_at, created_by"
Result<core::Prelabel> ReadPrelabel(const Statement& st) {
  core::Prelabel p;
  p.id = st.Text(0);
  p.project_id = st.Text(1);
  p.item_id = st.Text(2);
  p.model_name = st.Text(3);
  p.model_version = st.Text(4);
  p.guideline_version_id = st.Text(5);
  p.evidence_kind = st.Text(6);
  p.evidence_json = st.Text(7);
  p.label_class = st.Text(8);
  p.code_system = st.Text(9);
  p.code = st.Text(10);
  CALIPER_ASSIGN_OR_RETURN(p.assertion, Stored(core::ParseAssertion(st.Text(11)), "prelabels.assertion"));
  p.attributes_json = st.Text(12);
  p.score = st.OptDouble(13);
  p.scores_json = st.Text(14);
  p.created_at = st.Int(15);
  p.created_by = st.Text(16);
  return p;
}

#define PRELABEL_DECISION_COLUMNS                                                            \
  "id, prelabel_id, project_id, item_id, reader, task_id, status, annotation_id, correction_size, " \
  "reason, decided_at"
Result<core::PrelabelDecision> ReadPrelabelDecision(const Statement& st) {
  core::PrelabelDecision d;
  d.id = st.Text(0);
  d.prelabel_id = st.Text(1);
  d.project_id = st.Text(2);
  d.item_id = st.Text(3);
  d.reader = st.Text(4);
  d.task_id = st.Text(5);
  CALIPER_ASSIGN_OR_RETURN(d.status, Stored(core::ParsePrelabelStatus(st.Text(6)), "prelabel_decisions.status"));
  d.annotation_id = st.Text(7);
  d.correction_size = st.OptDouble(8);
  d.reason = st.Text(9);
  d.decided_at = st.Int(10);
  return d;
}

#define AUDIT_EVENT_COLUMNS                                                                 \
  "seq, time, actor, session_id, source_address, action, object_type, object_id, outcome, " \
  "details_json, prev_hash, hash"
Result<AuditEvent> ReadAuditEvent(const Statement& st) {
  AuditEvent e;
  e.seq = st.Int(0);
  e.time = st.Int(1);
  e.actor = st.Text(2);
  e.session_id = st.Text(3);
  e.source_address = st.Text(4);
  e.action = st.Text(5);
  e.object_type = st.Text(6);
  e.object_id = st.Text(7);
  e.outcome = st.Text(8);
  e.details_json = st.Text(9);
  e.prev_hash = st.Text(10);
  e.hash = st.Text(11);
  return e;
}

#define AUDIT_CHECKPOINT_COLUMNS "seq, hash, signature, time"
Result<AuditCheckpoint> ReadAuditCheckpoint(const Statement& st) {
  AuditCheckpoint c;
  c.seq = st.Int(0);
  c.hash = st.Text(1);
  c.signature = st.Text(2);
  c.time = st.Int(3);
  return c;
}

#define PROJECT_KEY_COLUMNS "project_id, wrapped, version, created_at"
Result<ProjectKey> ReadProjectKey(const Statement& st) {
  ProjectKey k;
  k.project_id = st.Text(0);
  k.wrapped = st.Blob(1);
  k.version = st.Int(2);
  k.created_at = st.Int(3);
  return k;
}

#define DATA_KEY_COLUMNS \
  "id, project_id, patient_key, wrapped, project_key_version, created_at, destroyed_at"
Result<DataKey> ReadDataKey(const Statement& st) {
  DataKey k;
  k.id = st.Text(0);
  k.project_id = st.Text(1);
  k.patient_key = st.Text(2);
  k.wrapped = st.Blob(3);
  k.project_key_version = st.Int(4);
  k.created_at = st.Int(5);
  k.destroyed_at = st.OptInt(6);
  return k;
}

// ---- query helpers --------------------------------------------------------------------------

int ClampLimit(int limit) { return std::clamp(limit, 1, kMaxPageLimit); }

// The single row of `st`, or kNotFound with `what` ("no user with id ...").
template <typename T>
Result<T> ReadOne(Statement& st, Result<T> (*read)(const Statement&), const std::string& what) {
  CALIPER_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return Error(ErrorCode::kNotFound, what);
  return read(st);
}

// Every row of `st`.
template <typename T>
Result<std::vector<T>> ReadAll(Statement& st, Result<T> (*read)(const Statement&)) {
  std::vector<T> rows;
  for (;;) {
    CALIPER_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return rows;
    CALIPER_ASSIGN_OR_RETURN(T value, read(st));
    rows.push_back(std::move(value));
  }
}

// A page from a query bound with LIMIT `limit` + 1 (the extra row only says there is more);
// `next` is the cursor (`key_of`) of the last row returned when more rows exist.
template <typename T, typename KeyOf>
Result<Page<T>> ReadPage(Statement& st, int limit, Result<T> (*read)(const Statement&),
                         KeyOf key_of) {
  Page<T> page;
  for (;;) {
    CALIPER_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    if (static_cast<int>(page.rows.size()) == limit) {
      page.next = key_of(page.rows.back());
      break;
    }
    CALIPER_ASSIGN_OR_RETURN(T value, read(st));
    page.rows.push_back(std::move(value));
  }
  return page;
}

template <typename T>
std::string IdOf(const T& row) {
  return row.id;
}

// ---- transaction ----------------------------------------------------------------------------

// One transaction on one pooled connection. Not thread-safe (one thread at a time, like every
// Transaction). Rolls back in the destructor unless committed; then gives the connection (and
// for a writer, the writer slot) back to the pool.
class SqliteTransaction final : public Transaction {
 public:
  SqliteTransaction(std::shared_ptr<ConnectionPool> pool, TxnMode mode)
      : pool_(std::move(pool)), mode_(mode) {}
  ~SqliteTransaction() override { Finish(/*rollback=*/true); }

  // Takes the writer slot (kWrite) and a connection, then BEGINs. On failure the destructor
  // gives back whatever was taken.
  Status Start(SteadyTime deadline) {
    if (mode_ == TxnMode::kWrite) {
      CALIPER_RETURN_IF_ERROR(pool_->AcquireWriter(deadline));
      holds_writer_ = true;
    }
    CALIPER_ASSIGN_OR_RETURN(conn_, pool_->Acquire(deadline));
    CALIPER_RETURN_IF_ERROR(BeginWithRetry(*conn_, mode_, deadline));
    active_ = true;
    return Status::Ok();
  }

  Status Commit() override {
    if (!active_) return Finished();
    Status status = conn_->Exec("COMMIT");
    Finish(/*rollback=*/!status.ok());
    if (!status.ok()) return Error(ErrorCode::kStorage, "commit failed: " + status.message());
    return Status::Ok();
  }

  // ---- users ----

  Status InsertUser(const core::User& u) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st,
                             Prepare("INSERT INTO users (" USER_COLUMNS
                                     ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"));
    return st.Bind(u.id)
        .Bind(u.username)
        .Bind(u.display_name)
        .Bind(u.password_hash)
        .Bind(u.is_admin)
        .Bind(u.disabled)
        .Bind(u.must_change_password)
        .Bind(u.locked_until)
        .Bind(NamesToJson(u.qualifications))
        .Bind(u.created_at)
        .Run();
  }

  // Replaces every field but id and created_at.
  Status UpdateUser(const core::User& u) override {
    CALIPER_ASSIGN_OR_RETURN(
        Statement st,
        Prepare("UPDATE users SET username = ?2, display_name = ?3, password_hash = ?4, "
                "is_admin = ?5, disabled = ?6, must_change_password = ?7, locked_until = ?8, "
                "qualifications = ?9 WHERE id = ?1"));
    CALIPER_RETURN_IF_ERROR(st.Bind(u.id)
                                .Bind(u.username)
                                .Bind(u.display_name)
                                .Bind(u.password_hash)
                                .Bind(u.is_admin)
                                .Bind(u.disabled)
                                .Bind(u.must_change_password)
                                .Bind(u.locked_until)
                                .Bind(NamesToJson(u.qualifications))
                                .Run());
    return ChangedOne("no user with id " + u.id);
  }

  Result<core::User> GetUser(const std::string& id) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st,
                             Prepare("SELECT " USER_COLUMNS " FROM users WHERE id = ?1"));
    st.Bind(id);
    return ReadOne(st, &ReadUser, "no user with id " + id);
  }

  Result<core::User> GetUserByUsername(const std::string& username) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st,
                             Prepare("SELECT " USER_COLUMNS " FROM users WHERE username = ?1"));
    st.Bind(username);
    return ReadOne(st, &ReadUser, "no user named " + username);
  }

  Result<Page<core::User>> ListUsers(const PageRequest& page) override {
    CALIPER_ASSIGN_OR_RETURN(
        Statement st,
        Prepare("SELECT " USER_COLUMNS " FROM users WHERE id > ?1 ORDER BY id LIMIT ?2"));
    const int limit = ClampLimit(page.limit);
    st.Bind(page.after).Bind(limit + 1);
    return ReadPage(st, limit, &ReadUser, &IdOf<core::User>);
  }

  // ---- sign-in attempts ----

  Status InsertLoginAttempt(const LoginAttempt& a) override {
    CALIPER_ASSIGN_OR_RETURN(
        Statement st, Prepare("INSERT INTO login_attempts (username, source_address, at, success) "
                              "VALUES (?1, ?2, ?3, ?4)"));
    return st.Bind(a.username).Bind(a.source_address).Bind(a.at).Bind(a.success).Run();
  }

  // "After the most recent success" orders attempts by (at, insertion order), so a failure
  // recorded after a success with the same timestamp still counts.
  Result<int> CountRecentFailures(const std::string& username, TimeMicros since) override {
    CALIPER_ASSIGN_OR_RETURN(
        Statement st,
        Prepare("SELECT count(*) FROM login_attempts AS f "
                "WHERE f.username = ?1 AND f.success = 0 AND f.at >= ?2 AND NOT EXISTS ("
                "  SELECT 1 FROM login_attempts AS s WHERE s.username = ?1 AND s.success = 1 "
                "  AND (s.at, s.id) > (f.at, f.id))"));
    st.Bind(username).Bind(since);
    return CountOf(st);
  }

  Result<int> CountAttemptsFromAddress(const std::string& address, TimeMicros since) override {
    CALIPER_ASSIGN_OR_RETURN(
        Statement st,
        Prepare("SELECT count(*) FROM login_attempts "
                "WHERE source_address = ?1 AND at >= ?2 AND success = 0"));
    st.Bind(address).Bind(since);
    return CountOf(st);
  }

  // ---- sessions ----

  Status InsertSession(const Session& s) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st,
                             Prepare("INSERT INTO sessions (" SESSION_COLUMNS
                                     ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"));
    return st.Bind(s.id)
        .Bind(s.user_id)
        .Bind(s.token_hash)
        .Bind(s.csrf_hash)
        .Bind(s.source_address)
        .Bind(s.created_at)
        .Bind(s.last_seen_at)
        .Bind(s.absolute_expires_at)
        .Bind(s.revoked_at)
        .Run();
  }

  Result<Session> GetSessionByTokenHash(const std::string& token_hash) override {
    CALIPER_ASSIGN_OR_RETURN(
        Statement st, Prepare("SELECT " SESSION_COLUMNS " FROM sessions WHERE token_hash = ?1"));
    st.Bind(token_hash);
    return ReadOne(st, &ReadSession, "no session with that token");
  }

  Result<Session> GetSession(const std::string& id) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st,
                             Prepare("SELECT " SESSION_COLUMNS " FROM sessions WHERE id = ?1"));
    st.Bind(id);
    return ReadOne(st, &ReadSession, "no session with id " + id);
  }

  Status TouchSession(const std::string& id, TimeMicros last_seen_at) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st,
                             Prepare("UPDATE sessions SET last_seen_at = ?2 WHERE id = ?1"));
    CALIPER_RETURN_IF_ERROR(st.Bind(id).Bind(last_seen_at).Run());
    return ChangedOne("no session with id " + id);
  }

  // Keeps the first revocation time when already revoked.
  Status RevokeSession(const std::string& id, TimeMicros at) override {
    CALIPER_ASSIGN_OR_RETURN(
        Statement st,
        Prepare("UPDATE sessions SET revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1"));
    CALIPER_RETURN_IF_ERROR(st.Bind(id).Bind(at).Run());
    return ChangedOne("no session with id " + id);
  }

  // Returns how many sessions were live (not yet revoked) and are now revoked.
  Result<int> RevokeUserSessions(const std::string& user_id, TimeMicros at) override {
    CALIPER_ASSIGN_OR_RETURN(
        Statement st,
        Prepare("UPDATE sessions SET revoked_at = ?2 WHERE user_id = ?1 AND revoked_at IS NULL"));
    CALIPER_RETURN_IF_ERROR(st.Bind(user_id).Bind(at).Run());
    return conn_->Changes();
  }

  // ---- API tokens ----

  Status InsertApiToken(const ApiToken& t) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st,
                             Prepare("INSERT INTO api_tokens (" API_TOKEN_COLUMNS
                                     ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"));
    return st.Bind(t.id)
        .Bind(t.name)
        .Bind(t.user_id)
        .Bind(t.project_id)
        .Bind(ToJson(t.permissions))
        .Bind(t.token_hash)
        .Bind(t.created_at)
        .Bind(t.expires_at)
        .Bind(t.revoked_at)
        .Bind(t.item_id)
        .Run();
  }

  Result<ApiToken> GetApiTokenByHash(const std::string& token_hash) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("SELECT " API_TOKEN_COLUMNS
                                                   " FROM api_tokens WHERE token_hash = ?1"));
    st.Bind(token_hash);
    return ReadOne(st, &ReadApiToken, "no API token with that secret");
  }

  Result<ApiToken> GetApiToken(const std::string& id) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st,
                             Prepare("SELECT " API_TOKEN_COLUMNS " FROM api_tokens WHERE id = ?1"));
    st.Bind(id);
    return ReadOne(st, &ReadApiToken, "no API token with id " + id);
  }

  // Keeps the first revocation time when already revoked.
  Status RevokeApiToken(const std::string& id, TimeMicros at) override {
    CALIPER_ASSIGN_OR_RETURN(
        Statement st,
        Prepare("UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1"));
    CALIPER_RETURN_IF_ERROR(st.Bind(id).Bind(at).Run());
    return ChangedOne("no API token with id " + id);
  }

  Result<Page<ApiToken>> ListApiTokens(const std::string& user_id,
                                       const PageRequest& page) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st,
                             Prepare("SELECT " API_TOKEN_COLUMNS " FROM api_tokens "
                                     "WHERE user_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3"));
    const int limit = ClampLimit(page.limit);
    st.Bind(user_id).Bind(page.after).Bind(limit + 1);
    return ReadPage(st, limit, &ReadApiToken, &IdOf<ApiToken>);
  }

  // ---- projects and memberships ----

  Status InsertProject(const core::Project& p) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st,
                             Prepare("INSERT INTO projects (id, name, description, created_at, "
                                     "created_by) VALUES (?1, ?2, ?3, ?4, ?5)"));
    return st.Bind(p.id)
        .Bind(p.name)
        .Bind(p.description)
        .Bind(p.created_at)
        .Bind(p.created_by)
        .Run();
  }

  Result<core::Project> GetProject(const std::string& id) override {
    CALIPER_ASSIGN_OR_RETURN(
        Statement st, Prepare("SELECT " PROJECT_COLUMNS " FROM projects AS p WHERE p.id = ?1"));
    st.Bind(id);
    return ReadOne(st, &ReadProject, "no project with id " + id);
  }

  Result<Page<core::Project>> ListProjects(const PageRequest& page) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("SELECT " PROJECT_COLUMNS " FROM projects AS p "
                                                   "WHERE p.id > ?1 ORDER BY p.id LIMIT ?2"));
    const int limit = ClampLimit(page.limit);
    st.Bind(page.after).Bind(limit + 1);
    return ReadPage(st, limit, &ReadProject, &IdOf<core::Project>);
  }

  Result<Page<core::Project>> ListProjectsOfUser(const std::string& user_id,
                                                 const PageRequest& page) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st,
                             Prepare("SELECT " PROJECT_COLUMNS " FROM projects AS p "
                                     "JOIN memberships AS m ON m.project_id = p.id "
                                     "WHERE m.user_id = ?1 AND p.id > ?2 ORDER BY p.id LIMIT ?3"));
    const int limit = ClampLimit(page.limit);
    st.Bind(user_id).Bind(page.after).Bind(limit + 1);
    return ReadPage(st, limit, &ReadProject, &IdOf<core::Project>);
  }

  Status PutMembership(const core::Membership& m) override {
    CALIPER_ASSIGN_OR_RETURN(
        Statement st,
        Prepare("INSERT INTO memberships (" MEMBERSHIP_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5) "
                "ON CONFLICT (project_id, user_id) DO UPDATE SET roles = excluded.roles, "
                "scopes = excluded.scopes, created_at = excluded.created_at"));
    return st.Bind(m.project_id)
        .Bind(m.user_id)
        .Bind(NamesToJson(m.roles))
        .Bind(NamesToJson(m.scopes))
        .Bind(m.created_at)
        .Run();
  }

  Status DeleteMembership(const std::string& project_id, const std::string& user_id) override {
    CALIPER_ASSIGN_OR_RETURN(
        Statement st, Prepare("DELETE FROM memberships WHERE project_id = ?1 AND user_id = ?2"));
    CALIPER_RETURN_IF_ERROR(st.Bind(project_id).Bind(user_id).Run());
    return ChangedOne("user " + user_id + " is not a member of project " + project_id);
  }

  Result<core::Membership> GetMembership(const std::string& project_id,
                                         const std::string& user_id) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("SELECT " MEMBERSHIP_COLUMNS " FROM memberships "
                                                   "WHERE project_id = ?1 AND user_id = ?2"));
    st.Bind(project_id).Bind(user_id);
    return ReadOne(st, &ReadMembership,
                   "user " + user_id + " is not a member of project " + project_id);
  }

  // Ordered and paged by user_id.
  Result<Page<core::Membership>> ListMemberships(const std::string& project_id,
                                                 const PageRequest& page) override {
    CALIPER_ASSIGN_OR_RETURN(
        Statement st, Prepare("SELECT " MEMBERSHIP_COLUMNS " FROM memberships "
                              "WHERE project_id = ?1 AND user_id > ?2 ORDER BY user_id LIMIT ?3"));
    const int limit = ClampLimit(page.limit);
    st.Bind(project_id).Bind(page.after).Bind(limit + 1);
    return ReadPage(st, limit, &ReadMembership,
                    [](const core::Membership& m) { return m.user_id; });
  }

  // ---- items ----

  Status InsertItem(const core::Item& i) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st,
                             Prepare("INSERT INTO items (" ITEM_COLUMNS
                                     ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"));
    return st.Bind(i.id)
        .Bind(i.project_id)
        .Bind(core::ToString(i.data_type))
        .Bind(i.modality)
        .Bind(i.patient_key)
        .Bind(i.cohort_json.empty() ? std::string("{}") : i.cohort_json)
        .Bind(i.content_blob)
        .Bind(i.content_type)
        .Bind(i.content_bytes)
        .Bind(i.created_at)
        .Bind(i.created_by)
        .Run();
  }

  Result<std::vector<core::Item>> ListItemsOfPatient(const std::string& project_id, const std::string& patient_key,
                                                     core::DataType data_type) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("SELECT " ITEM_COLUMNS " FROM items WHERE project_id = ?1 AND "
                                                   "patient_key = ?2 AND data_type = ?3 ORDER BY id"));
    st.Bind(project_id).Bind(patient_key).Bind(core::ToString(data_type));
    std::vector<core::Item> out;
    while (true) {
      CALIPER_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      CALIPER_ASSIGN_OR_RETURN(core::Item item, ReadItem(st));
      out.push_back(std::move(item));
    }
    return out;
  }

  // ---- notes ----

  Status InsertNote(const core::Note& n) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st,
                             Prepare("INSERT INTO notes (" NOTE_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
    return st.Bind(n.item_id)
        .Bind(n.project_id)
        .Bind(n.source_hash)
        .Bind(n.deid_mode)
        .Bind(n.deid_edition)
        .Bind(n.chars)
        .Bind(n.phi_json)
        .Bind(n.created_at)
        .Run();
  }

  Result<core::Note> GetNote(const std::string& item_id) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("SELECT " NOTE_COLUMNS " FROM notes WHERE item_id = ?1"));
    st.Bind(item_id);
    return ReadOne(st, &ReadNote, "item " + item_id + " is not a note");
  }

  Result<core::Note> FindNoteBySource(const std::string& project_id, const std::string& source_hash) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("SELECT " NOTE_COLUMNS
                                                   " FROM notes WHERE project_id = ?1 AND source_hash = ?2"));
    st.Bind(project_id).Bind(source_hash);
    return ReadOne(st, &ReadNote, "no note from that source");
  }

  Status PutTextSettings(const core::TextSettings& t) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("INSERT OR REPLACE INTO text_settings (" TEXT_SETTINGS_COLUMNS
                                                   ") VALUES (?1, ?2, ?3, ?4)"));
    return st.Bind(t.project_id).Bind(t.deid_mode).Bind(ToJson(t.clinician_names)).Bind(t.updated_at).Run();
  }

  Result<core::TextSettings> GetTextSettings(const std::string& project_id) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("SELECT " TEXT_SETTINGS_COLUMNS
                                                   " FROM text_settings WHERE project_id = ?1"));
    st.Bind(project_id);
    return ReadOne(st, &ReadTextSettings, "project " + project_id + " has no text settings");
  }

  Status PutDicomSettings(const core::DicomSettings& d) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("INSERT OR REPLACE INTO dicom_settings (" DICOM_SETTINGS_COLUMNS
                                                   ") VALUES (?1, ?2, ?3, ?4, ?5)"));
    return st.Bind(d.project_id)
        .Bind(ToJson(d.options))
        .Bind(ToJson(d.safe_private))
        .Bind(ToJson(d.blanking))
        .Bind(d.updated_at)
        .Run();
  }

  Result<core::DicomSettings> GetDicomSettings(const std::string& project_id) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("SELECT " DICOM_SETTINGS_COLUMNS
                                                   " FROM dicom_settings WHERE project_id = ?1"));
    st.Bind(project_id);
    return ReadOne(st, &ReadDicomSettings, "project " + project_id + " has no DICOM settings");
  }

  Status UpdateItemContent(const std::string& item_id, const std::string& content_blob,
                           const std::string& content_type, std::int64_t content_bytes) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("UPDATE items SET content_blob = ?2, content_type = ?3, "
                                                   "content_bytes = ?4 WHERE id = ?1"));
    CALIPER_RETURN_IF_ERROR(st.Bind(item_id).Bind(content_blob).Bind(content_type).Bind(content_bytes).Run());
    return ChangedOne("no item with id " + item_id);
  }

  Status InsertDicomInstance(const DicomInstance& d) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("INSERT INTO dicom_instances (" DICOM_INSTANCE_COLUMNS
                                                   ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
    return st.Bind(d.project_id)
        .Bind(d.sop_instance_uid)
        .Bind(d.item_id)
        .Bind(d.series_uid)
        .Bind(d.study_uid)
        .Bind(d.blob)
        .Bind(d.bytes)
        .Bind(d.created_at)
        .Run();
  }

  Result<DicomInstance> FindDicomInstance(const std::string& project_id, const std::string& sop_instance_uid) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("SELECT " DICOM_INSTANCE_COLUMNS " FROM dicom_instances "
                                                   "WHERE project_id = ?1 AND sop_instance_uid = ?2"));
    st.Bind(project_id).Bind(sop_instance_uid);
    return ReadOne(st, &ReadDicomInstance, "no DICOM instance with that SOP Instance UID");
  }

  Result<std::string> FindSeriesItem(const std::string& project_id, const std::string& series_uid) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("SELECT " DICOM_INSTANCE_COLUMNS " FROM dicom_instances "
                                                   "WHERE project_id = ?1 AND series_uid = ?2 LIMIT 1"));
    st.Bind(project_id).Bind(series_uid);
    CALIPER_ASSIGN_OR_RETURN(DicomInstance d, ReadOne(st, &ReadDicomInstance, "no item holds that series"));
    return d.item_id;
  }

  Result<std::vector<DicomInstance>> ListDicomInstances(const std::string& item_id) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("SELECT " DICOM_INSTANCE_COLUMNS " FROM dicom_instances "
                                                   "WHERE item_id = ?1 ORDER BY sop_instance_uid"));
    st.Bind(item_id);
    return ReadAll(st, &ReadDicomInstance);
  }

  Status InsertQuarantinedInstance(const QuarantinedInstance& q) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st,
                             Prepare("INSERT INTO dicom_quarantine (" QUARANTINE_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, "
                                     "?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)"));
    return st.Bind(q.id)
        .Bind(q.project_id)
        .Bind(q.sop_instance_uid)
        .Bind(q.series_uid)
        .Bind(q.study_uid)
        .Bind(q.modality)
        .Bind(q.patient_key)
        .Bind(q.cohort_json)
        .Bind(ToJson(q.reasons))
        .Bind(q.blob)
        .Bind(q.link_blob)
        .Bind(q.bytes)
        .Bind(q.status)
        .Bind(q.created_at)
        .Bind(q.created_by)
        .Bind(q.decided_at)
        .Bind(q.decided_by)
        .Bind(q.reason)
        .Bind(q.rects_json)
        .Bind(q.item_id)
        .Run();
  }

  Result<QuarantinedInstance> GetQuarantinedInstance(const std::string& id) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("SELECT " QUARANTINE_COLUMNS " FROM dicom_quarantine WHERE id = ?1"));
    st.Bind(id);
    return ReadOne(st, &ReadQuarantined, "no quarantined instance " + id);
  }

  Result<QuarantinedInstance> FindPendingQuarantine(const std::string& project_id,
                                                    const std::string& sop_instance_uid) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("SELECT " QUARANTINE_COLUMNS " FROM dicom_quarantine WHERE "
                                                   "project_id = ?1 AND sop_instance_uid = ?2 AND status = 'pending'"));
    st.Bind(project_id).Bind(sop_instance_uid);
    return ReadOne(st, &ReadQuarantined, "no pending quarantined instance with that SOP Instance UID");
  }

  Result<Page<QuarantinedInstance>> ListQuarantine(const std::string& project_id, const std::string& status,
                                                   const PageRequest& page) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st,
                             Prepare("SELECT " QUARANTINE_COLUMNS " FROM dicom_quarantine WHERE project_id = ?1 "
                                     "AND (?2 = '' OR status = ?2) AND id > ?3 ORDER BY id LIMIT ?4"));
    const int limit = ClampLimit(page.limit);
    st.Bind(project_id).Bind(status).Bind(page.after).Bind(limit + 1);
    return ReadPage(st, limit, &ReadQuarantined, &IdOf<QuarantinedInstance>);
  }

  Result<std::int64_t> CountPendingQuarantine(const std::string& project_id) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("SELECT count(*) FROM dicom_quarantine WHERE project_id = ?1 "
                                                   "AND status = 'pending'"));
    st.Bind(project_id);
    CALIPER_ASSIGN_OR_RETURN(int n, CountOf(st));
    return std::int64_t{n};
  }

  Status DecideQuarantinedInstance(const QuarantinedInstance& q) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st,
                             Prepare("UPDATE dicom_quarantine SET status = ?2, decided_at = ?3, decided_by = ?4, "
                                     "reason = ?5, rects = ?6, item_id = ?7, blob = ?8, link_blob = ?9 "
                                     "WHERE id = ?1 AND status = 'pending'"));
    CALIPER_RETURN_IF_ERROR(st.Bind(q.id)
                                .Bind(q.status)
                                .Bind(q.decided_at)
                                .Bind(q.decided_by)
                                .Bind(q.reason)
                                .Bind(q.rects_json)
                                .Bind(q.item_id)
                                .Bind(q.blob)
                                .Bind(q.link_blob)
                                .Run());
    if (conn_->Changes() == 1) return Status::Ok();
    CALIPER_RETURN_IF_ERROR(GetQuarantinedInstance(q.id).status());
    return Error(ErrorCode::kConflict, "quarantined instance " + q.id + " was decided meanwhile");
  }

  Result<std::vector<core::DicomSource>> ListDicomSources(const std::string& project_id) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("SELECT ae_title, description FROM dicom_sources "
                                                   "WHERE project_id = ?1 ORDER BY ae_title"));
    st.Bind(project_id);
    return ReadAll(st, &ReadDicomSource);
  }

  Status ReplaceDicomSources(const std::string& project_id, const std::vector<core::DicomSource>& sources,
                             TimeMicros updated_at) override {
    CALIPER_ASSIGN_OR_RETURN(Statement clear, Prepare("DELETE FROM dicom_sources WHERE project_id = ?1"));
    CALIPER_RETURN_IF_ERROR(clear.Bind(project_id).Run());
    for (const auto& source : sources) {
      CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("INSERT INTO dicom_sources (ae_title, project_id, description, "
                                                     "updated_at) VALUES (?1, ?2, ?3, ?4)"));
      CALIPER_RETURN_IF_ERROR(st.Bind(source.ae_title).Bind(project_id).Bind(source.description).Bind(updated_at).Run());
    }
    return Status::Ok();
  }

  Result<std::string> FindDicomSourceProject(const std::string& ae_title) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("SELECT project_id FROM dicom_sources WHERE ae_title = ?1"));
    st.Bind(ae_title);
    return ReadOne(st, &ReadFirstText, "no project takes DICOM from that AE title");
  }

  Status InsertReidentificationLink(const ReidentificationLink& l) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st,
                             Prepare("INSERT INTO reidentification_links (" LINK_COLUMNS ") VALUES (?1, ?2, ?3, ?4)"));
    return st.Bind(l.item_id).Bind(l.project_id).Bind(l.blob).Bind(l.created_at).Run();
  }

  Result<ReidentificationLink> GetReidentificationLink(const std::string& item_id) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st,
                             Prepare("SELECT " LINK_COLUMNS " FROM reidentification_links WHERE item_id = ?1"));
    st.Bind(item_id);
    return ReadOne(st, &ReadLink, "item " + item_id + " has no re-identification link");
  }

  Status InsertMask(const ItemMask& m) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("INSERT INTO item_masks (" MASK_COLUMNS
                                                   ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
    return st.Bind(m.id)
        .Bind(m.item_id)
        .Bind(m.project_id)
        .Bind(m.author)
        .Bind(m.version)
        .Bind(m.blob)
        .Bind(m.bytes)
        .Bind(m.created_at)
        .Run();
  }

  Result<ItemMask> GetLatestMask(const std::string& item_id, const std::string& author) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("SELECT " MASK_COLUMNS " FROM item_masks WHERE item_id = ?1 "
                                                   "AND author = ?2 ORDER BY version DESC LIMIT 1"));
    st.Bind(item_id).Bind(author);
    return ReadOne(st, &ReadMask, "you have no mask on this item");
  }

  Result<ItemMask> GetMask(const std::string& item_id, const std::string& author, std::int64_t version) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("SELECT " MASK_COLUMNS " FROM item_masks WHERE item_id = ?1 "
                                                   "AND author = ?2 AND version = ?3"));
    st.Bind(item_id).Bind(author).Bind(version);
    return ReadOne(st, &ReadMask, "no mask version " + std::to_string(version) + " of this author on item " + item_id);
  }

  Status InsertMarkup(const ItemMarkup& m) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("INSERT INTO item_markup (" MARKUP_COLUMNS
                                                   ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"));
    return st.Bind(m.id)
        .Bind(m.item_id)
        .Bind(m.project_id)
        .Bind(m.author)
        .Bind(MarkupKindName(m.kind))
        .Bind(m.version)
        .Bind(m.blob)
        .Bind(m.bytes)
        .Bind(m.created_at)
        .Run();
  }

  Result<ItemMarkup> GetLatestMarkup(const std::string& item_id, const std::string& author,
                                     MarkupKind kind) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st,
                             Prepare("SELECT " MARKUP_COLUMNS " FROM item_markup WHERE item_id = ?1 AND author = ?2 "
                                     "AND kind = ?3 ORDER BY version DESC LIMIT 1"));
    st.Bind(item_id).Bind(author).Bind(MarkupKindName(kind));
    return ReadOne(st, &ReadMarkup, "you have no " + std::string(MarkupKindName(kind)) + " on this item");
  }

  Result<std::vector<ItemMarkup>> ListLatestMarkup(const std::string& item_id, MarkupKind kind) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st,
                             Prepare("SELECT " MARKUP_COLUMNS " FROM item_markup AS m WHERE item_id = ?1 AND kind = ?2 "
                                     "AND version = (SELECT MAX(version) FROM item_markup WHERE item_id = m.item_id "
                                     "AND author = m.author AND kind = m.kind) ORDER BY author"));
    st.Bind(item_id).Bind(MarkupKindName(kind));
    return ReadAll(st, &ReadMarkup);
  }

  Status InsertSlideTile(const SlideTile& t) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("INSERT INTO slide_tiles (" SLIDE_TILE_COLUMNS
                                                   ") VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
    return st.Bind(t.item_id).Bind(t.level).Bind(t.col).Bind(t.row).Bind(t.blob).Bind(t.bytes).Run();
  }

  Result<SlideTile> GetSlideTile(const std::string& item_id, int level, std::int64_t col, std::int64_t row) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("SELECT " SLIDE_TILE_COLUMNS " FROM slide_tiles WHERE item_id = ?1 "
                                                   "AND level = ?2 AND col = ?3 AND row = ?4"));
    st.Bind(item_id).Bind(level).Bind(col).Bind(row);
    return ReadOne(st, &ReadSlideTile, "no such tile");
  }

  Result<std::int64_t> CountSlideTiles(const std::string& item_id) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("SELECT count(*) FROM slide_tiles WHERE item_id = ?1"));
    st.Bind(item_id);
    CALIPER_ASSIGN_OR_RETURN(int n, CountOf(st));
    return std::int64_t{n};
  }

  Status ForEachBlobReference(const std::function<Status(const std::string& address)>& fn) override {
    std::string sql;
    for (const auto& [table, column] : SqliteBlobColumns()) {
      if (!sql.empty()) sql += " UNION ALL ";
      sql += "SELECT " + column + " FROM " + table + " WHERE " + column + " != ''";
    }
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare(sql));
    for (;;) {
      CALIPER_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) return Status::Ok();
      CALIPER_RETURN_IF_ERROR(fn(st.Text(0)));
    }
  }

  Status InsertSlideView(const SlideView& v) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("INSERT INTO slide_views (" SLIDE_VIEW_COLUMNS
                                                   ") VALUES (?1, ?2, ?3, ?4, ?5)"));
    return st.Bind(v.id).Bind(v.item_id).Bind(v.user_id).Bind(v.created_at).Bind(v.expires_at).Run();
  }

  Result<SlideView> GetSlideView(const std::string& id) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("SELECT " SLIDE_VIEW_COLUMNS " FROM slide_views WHERE id = ?1"));
    st.Bind(id);
    return ReadOne(st, &ReadSlideView, "no viewer session " + id);
  }

  Result<core::Item> GetItem(const std::string& id) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st,
                             Prepare("SELECT " ITEM_COLUMNS " FROM items WHERE id = ?1"));
    st.Bind(id);
    return ReadOne(st, &ReadItem, "no item with id " + id);
  }

  Result<Page<core::Item>> ListItems(const std::string& project_id,
                                     const PageRequest& page) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st,
                             Prepare("SELECT " ITEM_COLUMNS " FROM items "
                                     "WHERE project_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3"));
    const int limit = ClampLimit(page.limit);
    st.Bind(project_id).Bind(page.after).Bind(limit + 1);
    return ReadPage(st, limit, &ReadItem, &IdOf<core::Item>);
  }

  // ---- tasks ----

  Status InsertTask(const core::Task& t) override {
    CALIPER_ASSIGN_OR_RETURN(
        Statement st,
        Prepare("INSERT INTO tasks (" TASK_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"));
    return st.Bind(t.id)
        .Bind(t.project_id)
        .Bind(t.item_id)
        .Bind(t.assignee)
        .Bind(core::ToString(t.state))
        .Bind(t.lease_expires_at)
        .Bind(t.revision)
        .Bind(t.created_at)
        .Bind(t.updated_at)
        .Bind(core::ToString(t.kind))
        .Bind(t.repeat_of)
        .Bind(t.due_at)
        .Bind(t.due_after_readings)
        .Run();
  }

  Result<std::vector<core::Task>> ListTasksOfItem(const std::string& item_id) override {
    CALIPER_ASSIGN_OR_RETURN(
        Statement st,
        Prepare("SELECT " TASK_COLUMNS " FROM tasks WHERE item_id = ?1 AND kind = 'reading' ORDER BY id"));
    st.Bind(item_id);
    return ReadAll(st, &ReadTask);
  }

  Result<core::Task> GetRepeatTask(const std::string& item_id, const std::string& user_id) override {
    // `assignee != ''` lets SQLite use the partial index tasks_one_per_reader (item, reader, kind);
    // without it SQLite chose tasks_by_assignee and walked every task of the reader.
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("SELECT " TASK_COLUMNS " FROM tasks WHERE item_id = ?1 "
                                                   "AND assignee = ?2 AND assignee != '' AND kind = 'repeat'"));
    st.Bind(item_id).Bind(user_id);
    return ReadOne(st, &ReadTask, "no repeat read of this item for " + user_id);
  }

  Result<std::int64_t> CountReadings(const std::string& project_id, const std::string& user_id) override {
    CALIPER_ASSIGN_OR_RETURN(
        Statement st,
        Prepare("SELECT count(*) FROM tasks WHERE project_id = ?1 AND assignee = ?2 AND kind = 'reading' "
                "AND state IN ('submitted', 'in_review', 'accepted', 'escalated', 'adjudicated')"));
    st.Bind(project_id).Bind(user_id);
    CALIPER_ASSIGN_OR_RETURN(int n, CountOf(st));
    return std::int64_t{n};
  }

  Result<core::Task> GetTask(const std::string& id) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("SELECT " TASK_COLUMNS " FROM tasks WHERE id = ?1"));
    st.Bind(id);
    return ReadOne(st, &ReadTask, "no task with id " + id);
  }

  Status UpdateTask(const core::Task& t, std::int64_t expected_revision) override {
    CALIPER_ASSIGN_OR_RETURN(
        Statement st,
        Prepare("UPDATE tasks SET assignee = ?3, state = ?4, lease_expires_at = ?5, revision = ?6, "
                "updated_at = ?7 WHERE id = ?1 AND revision = ?2"));
    CALIPER_RETURN_IF_ERROR(st.Bind(t.id)
                                .Bind(expected_revision)
                                .Bind(t.assignee)
                                .Bind(core::ToString(t.state))
                                .Bind(t.lease_expires_at)
                                .Bind(t.revision)
                                .Bind(t.updated_at)
                                .Run());
    if (conn_->Changes() == 1) return Status::Ok();
    CALIPER_ASSIGN_OR_RETURN(Statement probe, Prepare("SELECT revision FROM tasks WHERE id = ?1"));
    probe.Bind(t.id);
    CALIPER_ASSIGN_OR_RETURN(bool row, probe.Step());
    if (!row) return Error(ErrorCode::kNotFound, "no task with id " + t.id);
    return Error(ErrorCode::kPreconditionFailed, "task " + t.id + " is at revision " +
                                                     std::to_string(probe.Int(0)) + ", not " +
                                                     std::to_string(expected_revision));
  }

  Result<Page<core::Task>> ListTasks(const TaskFilter& f, const PageRequest& page) override {
    // Only the filters given are in the statement, so that SQLite can use an index for them
    // (tasks_by_reader for a reader's tasks); "?2 = 0 OR assignee = ?3" walked the project's tasks.
    std::string sql = "SELECT " TASK_COLUMNS " FROM tasks WHERE project_id = ?1 AND kind = ?8";
    if (f.assignee) sql += " AND assignee = ?3";
    if (f.state) sql += " AND state = ?5";
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare(sql + " AND id > ?6 ORDER BY id LIMIT ?7"));
    const int limit = ClampLimit(page.limit);
    st.Bind(f.project_id)
        .Bind(f.assignee.has_value())
        .Bind(f.assignee.value_or(""))
        .Bind(f.state.has_value())
        .Bind(f.state ? core::ToString(*f.state) : std::string_view())
        .Bind(page.after)
        .Bind(limit + 1)
        .Bind(core::ToString(f.kind));
    return ReadPage(st, limit, &ReadTask, &IdOf<core::Task>);
  }

  Result<core::Task> FindClaimableTask(const std::string& project_id, const std::string& user_id,
                                       const std::vector<core::DataType>& data_types, TimeMicros now,
                                       core::TaskOrder order, std::uint64_t seed, bool gold_first) override {
#define CLAIMABLE_TASKS                                                                                  \
  "SELECT t.id, t.project_id, t.item_id, t.assignee, t.state, t.lease_expires_at, t.revision, "          \
  "t.created_at, t.updated_at, t.kind, t.repeat_of, t.due_at, t.due_after_readings "                    \
  "FROM tasks AS t JOIN items AS i ON i.id = t.item_id "                                                \
  "WHERE t.project_id = ?1 AND t.kind = 'reading' "                                                     \
  "AND (t.state = 'open' OR (t.state = 'claimed' AND t.lease_expires_at <= ?3)) "                        \
  "AND i.data_type IN (SELECT value FROM json_each(?4)) "                                                \
  "AND NOT EXISTS (SELECT 1 FROM tasks AS o INDEXED BY tasks_by_item "                                  \
  "                WHERE o.item_id = t.item_id AND o.assignee = ?2 "                                      \
  "                AND o.id != t.id) "
    // kRandom: rowid -> (rowid * a + b) mod p with p = 2^31 - 1 prime and 1 <= a < p is a
    // bijection on rowids below p, so every seed orders the tasks by a different permutation.
    constexpr std::int64_t kPrime = 2147483647;
    // ?5 is 1 when gold items come first, 0 when they come last.
#define GOLD_ORDER "ORDER BY EXISTS (SELECT 1 FROM gold_items AS g WHERE g.item_id = t.item_id) = ?5 DESC, "
    if (order == core::TaskOrder::kFifo) {
      // The oldest task, without sorting the project's tasks: open tasks and claimed ones whose
      // lease ran out each walk tasks_by_project_state in creation order and stop at the first
      // that fits; the preferred kind (gold or not) first, then the other.
#define FIFO_TASKS(STATE)                                                                                  \
  "SELECT * FROM (" CLAIMABLE_TASKS "AND t.state = " STATE " AND EXISTS (SELECT 1 FROM gold_items AS g "   \
  "WHERE g.item_id = t.item_id) = ?5 ORDER BY t.created_at, t.id LIMIT 1)"
      const char* fifo = FIFO_TASKS("'open'") " UNION ALL " FIFO_TASKS("'claimed'") " ORDER BY 8, 1 LIMIT 1";
#undef FIFO_TASKS
      for (const bool gold : {gold_first, !gold_first}) {
        CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare(fifo));
        st.Bind(project_id).Bind(user_id).Bind(now).Bind(NamesToJson(data_types)).Bind(gold);
        auto found = ReadOne(st, &ReadTask, "no claimable task");
        if (found.ok() || found.status().code() != ErrorCode::kNotFound || gold != gold_first) return found;
      }
    }
    const char* sql = order == core::TaskOrder::kRandom
                          ? CLAIMABLE_TASKS GOLD_ORDER "(t.rowid * ?6 + ?7) % 2147483647, t.id LIMIT 1"
                          : CLAIMABLE_TASKS GOLD_ORDER
                            "(SELECT max(p.score) FROM prelabels AS p WHERE p.item_id = t.item_id) "
                            "ASC NULLS LAST, t.created_at, t.id LIMIT 1";
#undef GOLD_ORDER
#undef CLAIMABLE_TASKS
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare(sql));
    st.Bind(project_id).Bind(user_id).Bind(now).Bind(NamesToJson(data_types)).Bind(gold_first);
    if (order == core::TaskOrder::kRandom) {
      st.Bind(static_cast<std::int64_t>(1 + seed % (kPrime - 1)))
          .Bind(static_cast<std::int64_t>((seed >> 32) % kPrime));
    }
    return ReadOne(st, &ReadTask, "no claimable task");
  }

  // ---- guideline versions ----

  Status InsertGuidelineVersion(const core::GuidelineVersion& g) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("INSERT INTO guideline_versions (" GUIDELINE_COLUMNS
                                                   ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"));
    return st.Bind(g.id)
        .Bind(g.project_id)
        .Bind(g.version)
        .Bind(core::ToString(g.status))
        .Bind(g.schema_json)
        .Bind(g.based_on)
        .Bind(g.revision)
        .Bind(g.created_at)
        .Bind(g.created_by)
        .Bind(g.published_at)
        .Run();
  }

  Result<core::GuidelineVersion> GetGuidelineVersion(const std::string& id) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st,
                             Prepare("SELECT " GUIDELINE_COLUMNS " FROM guideline_versions WHERE id = ?1"));
    st.Bind(id);
    return ReadOne(st, &ReadGuideline, "no guideline version with id " + id);
  }

  Status UpdateGuidelineVersion(const core::GuidelineVersion& g, std::int64_t expected_revision) override {
    CALIPER_ASSIGN_OR_RETURN(
        Statement st,
        Prepare("UPDATE guideline_versions SET version = ?3, status = ?4, schema_json = ?5, based_on = ?6, "
                "revision = ?7, published_at = ?8 WHERE id = ?1 AND revision = ?2 AND status = 'draft'"));
    CALIPER_RETURN_IF_ERROR(st.Bind(g.id)
                                .Bind(expected_revision)
                                .Bind(g.version)
                                .Bind(core::ToString(g.status))
                                .Bind(g.schema_json)
                                .Bind(g.based_on)
                                .Bind(g.revision)
                                .Bind(g.published_at)
                                .Run());
    if (conn_->Changes() == 1) return Status::Ok();
    CALIPER_ASSIGN_OR_RETURN(core::GuidelineVersion stored, GetGuidelineVersion(g.id));
    if (stored.status == core::GuidelineStatus::kPublished) {
      return Error(ErrorCode::kConflict, "guideline version " + g.id + " is published and cannot change");
    }
    return Error(ErrorCode::kPreconditionFailed, "guideline version " + g.id + " is at revision " +
                                                     std::to_string(stored.revision) + ", not " +
                                                     std::to_string(expected_revision));
  }

  Result<Page<core::GuidelineVersion>> ListGuidelineVersions(const std::string& project_id,
                                                             const PageRequest& page) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st,
                             Prepare("SELECT " GUIDELINE_COLUMNS " FROM guideline_versions "
                                     "WHERE project_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3"));
    const int limit = ClampLimit(page.limit);
    st.Bind(project_id).Bind(page.after).Bind(limit + 1);
    return ReadPage(st, limit, &ReadGuideline, &IdOf<core::GuidelineVersion>);
  }

  Result<core::GuidelineVersion> GetCurrentGuideline(const std::string& project_id) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("SELECT " GUIDELINE_COLUMNS " FROM guideline_versions "
                                                   "WHERE project_id = ?1 AND status = 'published' "
                                                   "ORDER BY version DESC LIMIT 1"));
    st.Bind(project_id);
    return ReadOne(st, &ReadGuideline, "project " + project_id + " has no published guideline");
  }

  // ---- workflow settings ----

  Status PutWorkflowSettings(const core::WorkflowSettings& w) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("INSERT OR REPLACE INTO workflow_settings (" WORKFLOW_SETTINGS_COLUMNS
                                                   ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"));
    return st.Bind(w.project_id)
        .Bind(w.readers_per_item)
        .Bind(w.required_qualification ? core::ToString(*w.required_qualification) : std::string_view())
        .Bind(NamesToJson(w.data_types))
        .Bind(w.lease_minutes)
        .Bind(w.updated_at)
        .Bind(core::ToString(w.task_order))
        .Bind(std::optional<double>(w.prelabel_hidden_share))
        .Bind(std::optional<double>(w.gold_rate))
        .Bind(std::optional<double>(w.review_rate))
        .Bind(std::optional<double>(w.repeat_rate))
        .Bind(w.washout_days)
        .Bind(w.washout_readings)
        .Run();
  }

  Result<core::WorkflowSettings> GetWorkflowSettings(const std::string& project_id) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("SELECT " WORKFLOW_SETTINGS_COLUMNS
                                                   " FROM workflow_settings WHERE project_id = ?1"));
    st.Bind(project_id);
    return ReadOne(st, &ReadWorkflowSettings, "project " + project_id + " has no workflow settings");
  }

  // ---- reviews and adjudications ----

  Status InsertReview(const core::Review& r) override {
    CALIPER_ASSIGN_OR_RETURN(
        Statement st, Prepare("INSERT INTO reviews (" REVIEW_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"));
    return st.Bind(r.id)
        .Bind(r.task_id)
        .Bind(r.annotation_id)
        .Bind(r.reviewer)
        .Bind(core::ToString(r.decision))
        .Bind(r.reason)
        .Bind(r.corrected_annotation_id)
        .Bind(r.created_at)
        .Bind(r.reject_reason ? core::ToString(*r.reject_reason) : std::string_view(""))
        .Run();
  }

  Result<std::vector<core::Review>> ListReviewsOfTask(const std::string& task_id) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st,
                             Prepare("SELECT " REVIEW_COLUMNS " FROM reviews WHERE task_id = ?1 ORDER BY id"));
    st.Bind(task_id);
    return ReadAll(st, &ReadReview);
  }

  Status InsertAdjudication(const core::Adjudication& a) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("INSERT INTO adjudications (" ADJUDICATION_COLUMNS
                                                   ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
    return st.Bind(a.id)
        .Bind(a.project_id)
        .Bind(a.item_id)
        .Bind(a.adjudicator)
        .Bind(a.source_annotation_id)
        .Bind(a.final_annotation_id)
        .Bind(a.rationale)
        .Bind(a.created_at)
        .Run();
  }

  Result<std::vector<core::Adjudication>> ListAdjudicationsOfItem(const std::string& item_id) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("SELECT " ADJUDICATION_COLUMNS
                                                   " FROM adjudications WHERE item_id = ?1 ORDER BY id"));
    st.Bind(item_id);
    return ReadAll(st, &ReadAdjudication);
  }

  Status InsertIdempotentReply(const IdempotentReply& r) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("INSERT INTO idempotent_replies (" IDEMPOTENT_REPLY_COLUMNS
                                                   ") VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
    return st.Bind(r.user_id).Bind(r.key).Bind(r.scope).Bind(r.status).Bind(r.body).Bind(r.created_at).Run();
  }

  Result<IdempotentReply> GetIdempotentReply(const std::string& user_id, const std::string& key) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("SELECT " IDEMPOTENT_REPLY_COLUMNS
                                                   " FROM idempotent_replies WHERE user_id = ?1 AND key = ?2"));
    st.Bind(user_id).Bind(key);
    return ReadOne(st, &ReadIdempotentReply, "no reply kept for that Idempotency-Key");
  }

  Status InsertOutcome(const core::Outcome& o) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("INSERT INTO outcomes (" OUTCOME_COLUMNS
                                                   ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"));
    // An item is referenced when named; NULL keeps the foreign key out of patient-level rows.
    st.Bind(o.id).Bind(o.project_id);
    if (o.item_id.empty()) {
      st.Bind(std::optional<std::int64_t>());
    } else {
      st.Bind(o.item_id);
    }
    return st.Bind(o.patient_key)
        .Bind(o.evidence_type)
        .Bind(o.label_class)
        .Bind(o.value)
        .Bind(o.confirms)
        .Bind(o.observed_at)
        .Bind(o.recorded_by)
        .Bind(o.recorded_at)
        .Run();
  }

  Result<std::vector<core::Outcome>> ListOutcomes(const std::string& project_id) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("SELECT " OUTCOME_COLUMNS
                                                   " FROM outcomes WHERE project_id = ?1 ORDER BY id"));
    st.Bind(project_id);
    return ReadAll(st, &ReadOutcome);
  }

  Status InsertGuidelineFeedback(const core::GuidelineFeedback& f) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("INSERT INTO guideline_feedback (" FEEDBACK_COLUMNS
                                                   ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"));
    return st.Bind(f.id)
        .Bind(f.project_id)
        .Bind(f.item_id)
        .Bind(f.label_class)
        .Bind(f.guideline_version_id)
        .Bind(core::ToString(f.kind))
        .Bind(f.note)
        .Bind(f.author)
        .Bind(f.created_at)
        .Run();
  }

  Status ReplaceSoftLabels(const std::string& project_id, const std::vector<SoftLabel>& rows) override {
    CALIPER_ASSIGN_OR_RETURN(Statement drop, Prepare("DELETE FROM soft_labels WHERE project_id = ?1"));
    CALIPER_RETURN_IF_ERROR(drop.Bind(project_id).Run());
    for (const auto& r : rows) {
      CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("INSERT INTO soft_labels (" SOFT_LABEL_COLUMNS
                                                     ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
      CALIPER_RETURN_IF_ERROR(st.Bind(r.item_id)
                                  .Bind(r.project_id)
                                  .Bind(r.label_class)
                                  .Bind(r.method)
                                  .Bind(std::optional<double>(r.probability))
                                  .Bind(r.readings)
                                  .Bind(r.computed_at)
                                  .Run());
    }
    return Status::Ok();
  }

  Result<std::vector<SoftLabel>> ListSoftLabels(const std::string& project_id, const std::string& item_id) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("SELECT " SOFT_LABEL_COLUMNS " FROM soft_labels WHERE project_id = ?1 "
                                                   "AND (?2 = '' OR item_id = ?2) ORDER BY item_id, label_class"));
    st.Bind(project_id).Bind(item_id);
    return ReadAll(st, &ReadSoftLabel);
  }

  Status ReplaceQaFindings(const std::string& project_id, const std::optional<std::string>& item_id,
                           const std::vector<QaFindingRow>& rows) override {
    CALIPER_ASSIGN_OR_RETURN(Statement drop,
                             Prepare("DELETE FROM qa_findings WHERE project_id = ?1 AND (?2 = 0 OR item_id = ?3)"));
    CALIPER_RETURN_IF_ERROR(drop.Bind(project_id).Bind(item_id.has_value()).Bind(item_id.value_or("")).Run());
    for (const auto& r : rows) {
      CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("INSERT INTO qa_findings (" QA_FINDING_COLUMNS
                                                     ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"));
      CALIPER_RETURN_IF_ERROR(st.Bind(r.id)
                                  .Bind(r.project_id)
                                  .Bind(r.item_id)
                                  .Bind(r.rule)
                                  .Bind(r.severity)
                                  .Bind(r.label_class)
                                  .Bind(r.annotation_id)
                                  .Bind(r.message)
                                  .Bind(r.fix)
                                  .Bind(r.source)
                                  .Bind(r.found_at)
                                  .Run());
    }
    return Status::Ok();
  }

  Result<std::vector<QaFindingRow>> ListQaFindings(const std::string& project_id) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("SELECT " QA_FINDING_COLUMNS " FROM qa_findings WHERE project_id = ?1 "
                                                   "ORDER BY item_id, id"));
    st.Bind(project_id);
    return ReadAll(st, &ReadQaFinding);
  }

  Result<std::vector<core::GuidelineFeedback>> ListGuidelineFeedback(const std::string& project_id) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("SELECT " FEEDBACK_COLUMNS
                                                   " FROM guideline_feedback WHERE project_id = ?1 ORDER BY id"));
    st.Bind(project_id);
    return ReadAll(st, &ReadFeedback);
  }

  Status PutGoldItem(const core::GoldItem& g) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("INSERT OR REPLACE INTO gold_items (" GOLD_COLUMNS
                                                   ") VALUES (?1, ?2, ?3, ?4, ?5)"));
    return st.Bind(g.item_id).Bind(g.project_id).Bind(Json(g.answer).dump()).Bind(g.set_by).Bind(g.set_at)
        .Run();
  }

  Result<core::GoldItem> GetGoldItem(const std::string& item_id) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("SELECT " GOLD_COLUMNS " FROM gold_items WHERE item_id = ?1"));
    st.Bind(item_id);
    return ReadOne(st, &ReadGoldItem, "item " + item_id + " is not a gold item");
  }

  Result<std::vector<core::GoldItem>> ListGoldItems(const std::string& project_id) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("SELECT " GOLD_COLUMNS
                                                   " FROM gold_items WHERE project_id = ?1 ORDER BY item_id"));
    st.Bind(project_id);
    return ReadAll(st, &ReadGoldItem);
  }

  Status InsertAdjudicationTrigger(const core::AdjudicationTrigger& g) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("INSERT INTO adjudication_triggers (" ADJUDICATION_TRIGGER_COLUMNS
                                                   ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
    return st.Bind(g.id).Bind(g.project_id).Bind(g.item_id).Bind(g.label_class).Bind(g.reason).Bind(g.detail)
        .Bind(g.created_at)
        .Run();
  }

  Result<std::vector<core::AdjudicationTrigger>> ListAdjudicationTriggersOfItem(const std::string& item_id) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("SELECT " ADJUDICATION_TRIGGER_COLUMNS
                                                   " FROM adjudication_triggers WHERE item_id = ?1 ORDER BY id"));
    st.Bind(item_id);
    return ReadAll(st, &ReadAdjudicationTrigger);
  }

  // ---- pre-labels ----

  Status InsertPrelabel(const core::Prelabel& p) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("INSERT INTO prelabels (" PRELABEL_COLUMNS
                                                   ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
                                                   "?13, ?14, ?15, ?16, ?17)"));
    return st.Bind(p.id)
        .Bind(p.project_id)
        .Bind(p.item_id)
        .Bind(p.model_name)
        .Bind(p.model_version)
        .Bind(p.guideline_version_id)
        .Bind(p.evidence_kind)
        .Bind(p.evidence_json)
        .Bind(p.label_class)
        .Bind(p.code_system)
        .Bind(p.code)
        .Bind(core::ToString(p.assertion))
        .Bind(p.attributes_json)
        .Bind(p.score)
        .Bind(p.scores_json)
        .Bind(p.created_at)
        .Bind(p.created_by)
        .Run();
  }

  Result<core::Prelabel> GetPrelabel(const std::string& id) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("SELECT " PRELABEL_COLUMNS " FROM prelabels WHERE id = ?1"));
    st.Bind(id);
    return ReadOne(st, &ReadPrelabel, "no pre-label with id " + id);
  }

  Result<std::vector<core::Prelabel>> ListPrelabelsOfItem(const std::string& item_id) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st,
                             Prepare("SELECT " PRELABEL_COLUMNS " FROM prelabels WHERE item_id = ?1 ORDER BY id"));
    st.Bind(item_id);
    return ReadAll(st, &ReadPrelabel);
  }

  Result<Page<core::Prelabel>> ListPrelabelsOfProject(const std::string& project_id,
                                                      const PageRequest& page) override {
    const int limit = ClampLimit(page.limit);
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("SELECT " PRELABEL_COLUMNS " FROM prelabels "
                                                   "WHERE project_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3"));
    st.Bind(project_id).Bind(page.after).Bind(limit + 1);
    return ReadPage(st, limit, &ReadPrelabel, &IdOf<core::Prelabel>);
  }

  Status InsertPrelabelDecision(const core::PrelabelDecision& d) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("INSERT INTO prelabel_decisions (" PRELABEL_DECISION_COLUMNS
                                                   ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"));
    return st.Bind(d.id)
        .Bind(d.prelabel_id)
        .Bind(d.project_id)
        .Bind(d.item_id)
        .Bind(d.reader)
        .Bind(d.task_id)
        .Bind(core::ToString(d.status))
        .Bind(d.annotation_id)
        .Bind(d.correction_size)
        .Bind(d.reason)
        .Bind(d.decided_at)
        .Run();
  }

  Result<std::vector<core::PrelabelDecision>> ListPrelabelDecisionsOfItem(const std::string& item_id) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("SELECT " PRELABEL_DECISION_COLUMNS
                                                   " FROM prelabel_decisions WHERE item_id = ?1 ORDER BY id"));
    st.Bind(item_id);
    return ReadAll(st, &ReadPrelabelDecision);
  }

  Result<Page<core::PrelabelDecision>> ListPrelabelDecisions(const std::string& project_id,
                                                             const PageRequest& page) override {
    const int limit = ClampLimit(page.limit);
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("SELECT " PRELABEL_DECISION_COLUMNS " FROM prelabel_decisions "
                                                   "WHERE project_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3"));
    st.Bind(project_id).Bind(page.after).Bind(limit + 1);
    return ReadPage(st, limit, &ReadPrelabelDecision, &IdOf<core::PrelabelDecision>);
  }

  // ---- annotations ----

  Status InsertAnnotation(const core::Annotation& a) override {
    CALIPER_ASSIGN_OR_RETURN(
        Statement st,
        Prepare("INSERT INTO annotations (" ANNOTATION_COLUMNS
                ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
                "?16, ?17, ?18, ?19, ?20, ?21)"));
    return BindAnnotation(st, a).Run();
  }

  Status InsertAnnotationVersion(const core::AnnotationVersion& v) override {
    CALIPER_ASSIGN_OR_RETURN(
        Statement st,
        Prepare("INSERT INTO annotation_versions (" ANNOTATION_COLUMNS
                ", replaced_by, replaced_at, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
                "?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24)"));
    return BindAnnotation(st, v.annotation).Bind(v.replaced_by).Bind(v.replaced_at).Bind(v.reason).Run();
  }

  Result<std::vector<core::AnnotationVersion>> ListAnnotationVersions(const std::string& annotation_id) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("SELECT " ANNOTATION_COLUMNS
                                                   ", replaced_by, replaced_at, reason FROM annotation_versions "
                                                   "WHERE id = ?1 ORDER BY revision"));
    st.Bind(annotation_id);
    return ReadAll(st, &ReadAnnotationVersion);
  }

  Result<core::Annotation> GetAnnotation(const std::string& id) override {
    CALIPER_ASSIGN_OR_RETURN(
        Statement st, Prepare("SELECT " ANNOTATION_COLUMNS " FROM annotations WHERE id = ?1"));
    st.Bind(id);
    return ReadOne(st, &ReadAnnotation, "no annotation with id " + id);
  }

  // Replaces every field but id, project_id, item_id and created_at.
  Status UpdateAnnotation(const core::Annotation& a, std::int64_t expected_revision) override {
    // Parameters as BindAnnotation numbers them (?2 project_id, ?3 item_id and ?17 created_at
    // are bound but never stored), then the expected revision.
    CALIPER_ASSIGN_OR_RETURN(
        Statement st,
        Prepare("UPDATE annotations SET task_id = ?4, author = ?5, guideline_version_id = ?6, "
                "evidence_kind = ?7, evidence_json = ?8, label_class = ?9, code_system = ?10, "
                "code = ?11, confidence = ?12, assertion = ?13, status = ?14, origin = ?15, "
                "revision = ?16, updated_at = ?18, temporality = ?19, experiencer = ?20, "
                "relations_json = ?21 WHERE id = ?1 AND revision = ?22"));
    CALIPER_RETURN_IF_ERROR(BindAnnotation(st, a).Bind(expected_revision).Run());
    if (conn_->Changes() == 1) return Status::Ok();
    // Nothing changed: tell a missing annotation from a stale revision.
    CALIPER_ASSIGN_OR_RETURN(Statement probe,
                             Prepare("SELECT revision FROM annotations WHERE id = ?1"));
    probe.Bind(a.id);
    CALIPER_ASSIGN_OR_RETURN(bool row, probe.Step());
    if (!row) return Error(ErrorCode::kNotFound, "no annotation with id " + a.id);
    return Error(ErrorCode::kPreconditionFailed, "annotation " + a.id + " is at revision " +
                                                     std::to_string(probe.Int(0)) + ", not " +
                                                     std::to_string(expected_revision));
  }

  Result<Page<core::Annotation>> ListAnnotations(const std::string& item_id,
                                                 const PageRequest& page) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st,
                             Prepare("SELECT " ANNOTATION_COLUMNS " FROM annotations "
                                     "WHERE item_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3"));
    const int limit = ClampLimit(page.limit);
    st.Bind(item_id).Bind(page.after).Bind(limit + 1);
    return ReadPage(st, limit, &ReadAnnotation, &IdOf<core::Annotation>);
  }

  // ---- audit ----

  // seq is computed inside the statement; the write transaction serialises appenders, so seq
  // has no gaps and no duplicates.
  // ---- exports ----

  Status InsertExport(const DatasetExport& e) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("INSERT INTO exports (" EXPORT_COLUMNS
                                                   ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
                                                   "?12, ?13, ?14, ?15, ?16, ?17, ?18)"));
    return st.Bind(e.id)
        .Bind(e.project_id)
        .Bind(e.version)
        .Bind(e.spec_json)
        .Bind(e.reason)
        .Bind(e.status)
        .Bind(e.requested_by)
        .Bind(e.requested_at)
        .Bind(e.decided_by)
        .Bind(e.decided_at)
        .Bind(e.decision_note)
        .Bind(e.snapshot_blob)
        .Bind(e.snapshot_bytes)
        .Bind(e.manifest_sha256)
        .Bind(e.error)
        .Bind(e.revision)
        .Bind(e.build_started_at)
        .Bind(e.build_renewed_at)
        .Run();
  }

  Result<DatasetExport> GetExport(const std::string& id) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("SELECT " EXPORT_COLUMNS " FROM exports WHERE id = ?1"));
    st.Bind(id);
    return ReadOne(st, &ReadExport, "no export with id " + id);
  }

  Status UpdateExport(const DatasetExport& e, std::int64_t expected_revision) override {
    CALIPER_ASSIGN_OR_RETURN(
        Statement st,
        Prepare("UPDATE exports SET status = ?3, decided_by = ?4, decided_at = ?5, decision_note = ?6, "
                "snapshot_blob = ?7, snapshot_bytes = ?8, manifest_sha256 = ?9, error = ?10, revision = ?11, "
                "build_started_at = ?12, build_renewed_at = ?13 WHERE id = ?1 AND revision = ?2"));
    CALIPER_RETURN_IF_ERROR(st.Bind(e.id)
                                .Bind(expected_revision)
                                .Bind(e.status)
                                .Bind(e.decided_by)
                                .Bind(e.decided_at)
                                .Bind(e.decision_note)
                                .Bind(e.snapshot_blob)
                                .Bind(e.snapshot_bytes)
                                .Bind(e.manifest_sha256)
                                .Bind(e.error)
                                .Bind(e.revision)
                                .Bind(e.build_started_at)
                                .Bind(e.build_renewed_at)
                                .Run());
    if (conn_->Changes() == 1) return Status::Ok();
    CALIPER_RETURN_IF_ERROR(GetExport(e.id).status());
    return Error(ErrorCode::kConflict, "export " + e.id + " changed meanwhile (revision " +
                                           std::to_string(expected_revision) + " is stale)");
  }

  Result<Page<DatasetExport>> ListExports(const std::string& project_id, const PageRequest& page) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("SELECT " EXPORT_COLUMNS " FROM exports "
                                                   "WHERE project_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3"));
    const int limit = ClampLimit(page.limit);
    st.Bind(project_id).Bind(page.after).Bind(limit + 1);
    return ReadPage(st, limit, &ReadExport, &IdOf<DatasetExport>);
  }

  Result<std::int64_t> NextExportVersion(const std::string& project_id) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st,
                             Prepare("SELECT COALESCE(MAX(version), 0) + 1 FROM exports WHERE project_id = ?1"));
    st.Bind(project_id);
    CALIPER_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return Error(ErrorCode::kStorage, "no export version row");
    return st.Int(0);
  }

  Status InsertExportToken(const ExportToken& t) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("INSERT INTO export_tokens (" EXPORT_TOKEN_COLUMNS
                                                   ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
    return st.Bind(t.id)
        .Bind(t.export_id)
        .Bind(t.token_hash)
        .Bind(t.issued_to)
        .Bind(t.created_at)
        .Bind(t.expires_at)
        .Bind(t.used_at)
        .Run();
  }

  Result<ExportToken> GetExportTokenByHash(const std::string& token_hash) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st,
                             Prepare("SELECT " EXPORT_TOKEN_COLUMNS " FROM export_tokens WHERE token_hash = ?1"));
    st.Bind(token_hash);
    return ReadOne(st, &ReadExportToken, "no download token with that secret");
  }

  Status UseExportToken(const std::string& id, TimeMicros at) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st,
                             Prepare("UPDATE export_tokens SET used_at = ?2 WHERE id = ?1 AND used_at IS NULL"));
    CALIPER_RETURN_IF_ERROR(st.Bind(id).Bind(at).Run());
    if (conn_->Changes() == 1) return Status::Ok();
    return Error(ErrorCode::kConflict, "the download token was already used");
  }

  Status AppendAuditEvent(AuditEvent& e) override {
    CALIPER_ASSIGN_OR_RETURN(
        Statement st, Prepare("INSERT INTO audit_events (" AUDIT_EVENT_COLUMNS ") VALUES ("
                              "(SELECT COALESCE(MAX(seq), 0) + 1 FROM audit_events), "
                              "?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) RETURNING seq"));
    st.Bind(e.time)
        .Bind(e.actor)
        .Bind(e.session_id)
        .Bind(e.source_address)
        .Bind(e.action)
        .Bind(e.object_type)
        .Bind(e.object_id)
        .Bind(e.outcome)
        .Bind(e.details_json)
        .Bind(e.prev_hash)
        .Bind(e.hash);
    CALIPER_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return Error(ErrorCode::kStorage, "appending an audit event returned no seq");
    const std::int64_t seq = st.Int(0);
    // Step to completion so the insert is finished before the statement is reset.
    CALIPER_ASSIGN_OR_RETURN(bool more, st.Step());
    if (more) return Error(ErrorCode::kStorage, "appending an audit event returned two rows");
    e.seq = seq;
    return Status::Ok();
  }

  Result<AuditEvent> GetLastAuditEvent() override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("SELECT " AUDIT_EVENT_COLUMNS
                                                   " FROM audit_events ORDER BY seq DESC LIMIT 1"));
    return ReadOne(st, &ReadAuditEvent, "the audit log is empty");
  }

  // A `limit` of 0 or less returns no events.
  Result<std::vector<AuditEvent>> ListAuditEvents(std::int64_t after_seq, int limit) override {
    if (limit <= 0) return std::vector<AuditEvent>{};
    CALIPER_ASSIGN_OR_RETURN(
        Statement st, Prepare("SELECT " AUDIT_EVENT_COLUMNS " FROM audit_events WHERE seq > ?1 "
                              "ORDER BY seq LIMIT ?2"));
    st.Bind(after_seq).Bind(limit);
    return ReadAll(st, &ReadAuditEvent);
  }

  // kNotFound when no audit event has `checkpoint.seq`; kAlreadyExists when that seq already
  // has a checkpoint.
  Status InsertAuditCheckpoint(const AuditCheckpoint& c) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st,
                             Prepare("INSERT INTO audit_checkpoints (" AUDIT_CHECKPOINT_COLUMNS
                                     ") VALUES (?1, ?2, ?3, ?4)"));
    return st.Bind(c.seq).Bind(c.hash).Bind(c.signature).Bind(c.time).Run();
  }

  Result<AuditCheckpoint> GetLastAuditCheckpoint() override {
    CALIPER_ASSIGN_OR_RETURN(Statement st,
                             Prepare("SELECT " AUDIT_CHECKPOINT_COLUMNS
                                     " FROM audit_checkpoints ORDER BY seq DESC LIMIT 1"));
    return ReadOne(st, &ReadAuditCheckpoint, "no audit checkpoint yet");
  }

  // ---- keys ----

  Status PutProjectKey(const ProjectKey& k) override {
    CALIPER_ASSIGN_OR_RETURN(
        Statement st,
        Prepare("INSERT INTO project_keys (" PROJECT_KEY_COLUMNS ") VALUES (?1, ?2, ?3, ?4) "
                "ON CONFLICT (project_id) DO UPDATE SET wrapped = excluded.wrapped, "
                "version = excluded.version, created_at = excluded.created_at"));
    return st.Bind(k.project_id).Bind(k.wrapped).Bind(k.version).Bind(k.created_at).Run();
  }

  Result<ProjectKey> GetProjectKey(const std::string& project_id) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("SELECT " PROJECT_KEY_COLUMNS
                                                   " FROM project_keys WHERE project_id = ?1"));
    st.Bind(project_id);
    return ReadOne(st, &ReadProjectKey, "no key for project " + project_id);
  }

  // Ordered by project_id.
  Result<std::vector<ProjectKey>> ListProjectKeys() override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("SELECT " PROJECT_KEY_COLUMNS
                                                   " FROM project_keys ORDER BY project_id"));
    return ReadAll(st, &ReadProjectKey);
  }

  // kAlreadyExists on an id clash or when (project_id, patient_key) already has a key.
  Status InsertDataKey(const DataKey& k) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("INSERT INTO data_keys (" DATA_KEY_COLUMNS
                                                   ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
    return st.Bind(k.id)
        .Bind(k.project_id)
        .Bind(k.patient_key)
        .Bind(k.wrapped)
        .Bind(k.project_key_version)
        .Bind(k.created_at)
        .Bind(k.destroyed_at)
        .Run();
  }

  Status UpdateDataKey(const DataKey& k) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st,
                             Prepare("UPDATE data_keys SET wrapped = ?2, project_key_version = ?3, "
                                     "destroyed_at = ?4 WHERE id = ?1"));
    CALIPER_RETURN_IF_ERROR(
        st.Bind(k.id).Bind(k.wrapped).Bind(k.project_key_version).Bind(k.destroyed_at).Run());
    return ChangedOne("no data key with id " + k.id);
  }

  Result<DataKey> GetDataKey(const std::string& id) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st,
                             Prepare("SELECT " DATA_KEY_COLUMNS " FROM data_keys WHERE id = ?1"));
    st.Bind(id);
    return ReadOne(st, &ReadDataKey, "no data key with id " + id);
  }

  Result<DataKey> FindDataKey(const std::string& project_id,
                              const std::string& patient_key) override {
    CALIPER_ASSIGN_OR_RETURN(Statement st, Prepare("SELECT " DATA_KEY_COLUMNS " FROM data_keys "
                                                   "WHERE project_id = ?1 AND patient_key = ?2"));
    st.Bind(project_id).Bind(patient_key);
    // The patient key is pseudonymous, but it still stays out of messages.
    return ReadOne(st, &ReadDataKey, "no data key for that patient in project " + project_id);
  }

  // Ordered by id.
  Result<std::vector<DataKey>> ListDataKeys(const std::string& project_id) override {
    CALIPER_ASSIGN_OR_RETURN(
        Statement st,
        Prepare("SELECT " DATA_KEY_COLUMNS " FROM data_keys WHERE project_id = ?1 ORDER BY id"));
    st.Bind(project_id);
    return ReadAll(st, &ReadDataKey);
  }

 private:
  static Status Finished() {
    return Error(ErrorCode::kInternal, "the transaction has already been committed or failed");
  }

  // The cached statement for `sql`, refusing use after the end and writes in a read
  // transaction (kInternal: both are programming errors).
  Result<Statement> Prepare(std::string_view sql) {
    if (!active_) return Finished();
    CALIPER_ASSIGN_OR_RETURN(Statement st, conn_->Prepare(sql));
    if (mode_ == TxnMode::kRead && !st.ReadOnly()) {
      return Error(ErrorCode::kInternal,
                   "a read transaction (TxnMode::kRead) cannot write; refused: " +
                       std::string(sql.substr(0, 40)) + "...");
    }
    return st;
  }

  // kNotFound with `what` unless the last statement changed a row.
  Status ChangedOne(const std::string& what) const {
    return conn_->Changes() > 0 ? Status::Ok() : Error(ErrorCode::kNotFound, what);
  }

  static Result<int> CountOf(Statement& st) {
    CALIPER_ASSIGN_OR_RETURN(bool row, st.Step());
    return row ? static_cast<int>(st.Int(0)) : 0;
  }

  // Ends the transaction (rolling back when asked and still open) and gives everything back
  // to the pool. Idempotent.
  void Finish(bool rollback) {
    if (conn_ != nullptr) {
      if (rollback && conn_->InTransaction()) (void)conn_->Exec("ROLLBACK");
      pool_->Release(std::move(conn_));  // closes it if still inside a transaction
    }
    if (holds_writer_) {
      holds_writer_ = false;
      pool_->ReleaseWriter();
    }
    active_ = false;
  }

  std::shared_ptr<ConnectionPool> pool_;
  const TxnMode mode_;
  std::unique_ptr<Connection> conn_;  // null before Start and after Finish
  bool holds_writer_ = false;
  bool active_ = false;  // between a successful BEGIN and the end
};

// ---- store ----------------------------------------------------------------------------------

// Thread-safe (all state is in the thread-safe pool).
class SqliteStore final : public Store {
 public:
  explicit SqliteStore(std::shared_ptr<ConnectionPool> pool) : pool_(std::move(pool)) {}
  ~SqliteStore() override { Close(); }

  Result<std::unique_ptr<Transaction>> Begin(TxnMode mode) override {
    auto txn = std::make_unique<SqliteTransaction>(pool_, mode);
    CALIPER_RETURN_IF_ERROR(txn->Start(DeadlineAfter(pool_->options().busy_timeout_ms)));
    return std::unique_ptr<Transaction>(std::move(txn));
  }

  Result<int> SchemaVersion() override {
    CALIPER_ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn,
                             pool_->Acquire(DeadlineAfter(pool_->options().busy_timeout_ms)));
    Result<int> version = ReadSchemaVersion(*conn);
    pool_->Release(std::move(conn));
    return version;
  }

  void Close() override { pool_->Close(); }

 private:
  std::shared_ptr<ConnectionPool> pool_;
};

}  // namespace

const std::vector<std::pair<std::string, std::string>>& SqliteBlobColumns() {
  static const std::vector<std::pair<std::string, std::string>> columns = {
      {"items", "content_blob"},  {"dicom_instances", "blob"}, {"reidentification_links", "blob"},
      {"item_masks", "blob"},     {"item_markup", "blob"},     {"slide_tiles", "blob"},
      {"exports", "snapshot_blob"}, {"dicom_quarantine", "blob"}, {"dicom_quarantine", "link_blob"}};
  return columns;
}

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path,
                                               const SqliteOptions& options) {
  if (options.pool_size < 1 || options.busy_timeout_ms < 0) {
    return Error(ErrorCode::kInvalidArgument,
                 "SqliteOptions: pool_size must be at least 1 and busy_timeout_ms not negative");
  }
  auto pool = std::make_shared<ConnectionPool>(path, options);
  CALIPER_ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn,
                           pool->Acquire(DeadlineAfter(options.busy_timeout_ms)));
  Status migrated = Migrate(*conn, options.busy_timeout_ms);
  pool->Release(std::move(conn));
  if (!migrated.ok()) {
    pool->Close();
    return migrated;
  }
  return std::unique_ptr<Store>(std::make_unique<SqliteStore>(std::move(pool)));
}

}  // namespace caliper::storage
