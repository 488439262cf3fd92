#include "caliper/app/app.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

#include <nlohmann/json.hpp>

#include "app/lru_cache.h"
#include "app/workflow_internal.h"
#include "caliper/core/rules.h"
#include "caliper/security/crypto.h"
#include "caliper/security/passwords.h"

namespace caliper::app {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using security::AuditRecord;
using security::Permission;
using storage::TxnMode;

Status MakePrivateDir(const std::string& path) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) return Error(ErrorCode::kIo, "cannot create " + path + ": " + ec.message());
  fs::permissions(path, fs::perms::owner_all, fs::perm_options::replace, ec);
  if (ec) return Error(ErrorCode::kIo, "cannot set permissions on " + path + ": " + ec.message());
  return Status::Ok();
}

Result<security::AuthSettings> AuthSettingsFrom(const Config& c) {
  security::AuthSettings s;
  CALIPER_ASSIGN_OR_RETURN(auto idle, c.GetInt("session.idle_timeout_minutes"));
  CALIPER_ASSIGN_OR_RETURN(auto absolute, c.GetInt("session.absolute_timeout_minutes"));
  CALIPER_ASSIGN_OR_RETURN(auto warning, c.GetInt("session.idle_warning_seconds"));
  CALIPER_ASSIGN_OR_RETURN(auto failures, c.GetInt("login.max_failures"));
  CALIPER_ASSIGN_OR_RETURN(auto window, c.GetInt("login.failure_window_minutes"));
  CALIPER_ASSIGN_OR_RETURN(auto lockout, c.GetInt("login.lockout_minutes"));
  CALIPER_ASSIGN_OR_RETURN(auto per_address, c.GetInt("login.max_attempts_per_address_per_minute"));
  CALIPER_ASSIGN_OR_RETURN(auto min_length, c.GetInt("password.min_length"));
  if (warning < 0 || warning >= idle * 60) {
    return Error(ErrorCode::kInvalidArgument,
                 "session.idle_warning_seconds must be below the idle timeout");
  }
  if (idle > 7 * 24 * 60 || absolute > 30 * 24 * 60 || failures > 1000 || window > 7 * 24 * 60 ||
      lockout > 30 * 24 * 60 || per_address > 100000 || min_length > 256) {
    return Error(ErrorCode::kInvalidArgument,
                 "session and login settings are out of range (timeouts at most 7 days idle / 30 "
                 "days absolute, login.max_failures at most 1000, password.min_length at most 256)");
  }
  if (idle <= 0 || absolute <= 0 || failures <= 0 || window <= 0 || lockout <= 0 ||
      per_address <= 0 || min_length < 8) {
    return Error(ErrorCode::kInvalidArgument,
                 "session and login settings must be positive, password.min_length at least 8");
  }
  s.idle_timeout = idle * kMicrosPerMinute;
  s.absolute_timeout = absolute * kMicrosPerMinute;
  s.idle_warning = warning * kMicrosPerSecond;
  s.max_failures = static_cast<int>(failures);
  s.failure_window = window * kMicrosPerMinute;
  s.lockout = lockout * kMicrosPerMinute;
  s.max_attempts_per_address_per_minute = static_cast<int>(per_address);
  s.password_min_length = static_cast<int>(min_length);
  s.hash_cost = c.GetString("password.hash_ops");
  return s;
}

std::string MasterKeyPath(const DataPaths& paths, const Config& config) {
  const std::string& configured = config.GetString("keys.master_key_file");
  return configured.empty() ? paths.master_key : configured;
}

json RolesJson(const std::vector<core::Role>& roles) {
  json out = json::array();
  for (auto r : roles) out.push_back(core::ToString(r));
  return out;
}

json ScopesJson(const std::vector<core::DataType>& scopes) {
  json out = json::array();
  for (auto s : scopes) out.push_back(core::ToString(s));
  return out;
}

bool HasRole(const core::Membership& m, core::Role role) {
  return std::find(m.roles.begin(), m.roles.end(), role) != m.roles.end();
}

}  // namespace

DataPaths::DataPaths(std::string data_dir)
    : root(std::move(data_dir)),
      config_file(root + "/caliper.toml"),
      database(root + "/caliper.db"),
      blobs(root + "/blobs"),
      keys_dir(root + "/keys"),
      master_key(root + "/keys/master.key"),
      tls_dir(root + "/tls"),
      audit_checkpoints(root + "/audit/checkpoints.log") {}

namespace {
// The local operator's user id: no stored user has it (theirs are generated ids).
constexpr const char* kLocalOperatorId = "system";
}  // namespace

RequestContext LocalOperator() {
  RequestContext ctx;
  ctx.principal.user.id = kLocalOperatorId;
  ctx.principal.user.username = "local-operator";
  ctx.principal.user.is_admin = true;
  return ctx;
}

// ---- set-up ----------------------------------------------------------------------------------

Result<InitResult> App::Init(const std::string& data_dir, const Config& config) {
  CALIPER_RETURN_IF_ERROR(security::InitCrypto());
  DataPaths paths(data_dir);
  for (const auto& dir : {paths.root, paths.blobs, paths.keys_dir, paths.tls_dir,
                          fs::path(paths.audit_checkpoints).parent_path().string()}) {
    CALIPER_RETURN_IF_ERROR(MakePrivateDir(dir));
  }
  const std::string master = MasterKeyPath(paths, config);
  const char* env_key = std::getenv(config.GetString("keys.master_key_env").c_str());
  if ((env_key == nullptr || *env_key == '\0') && !fs::exists(master)) {
    CALIPER_RETURN_IF_ERROR(security::WriteNewMasterKeyFile(master, false));
  }
  CALIPER_RETURN_IF_ERROR(security::LoadAuditKeys(paths.keys_dir, true).status());

  Options options;
  CALIPER_ASSIGN_OR_RETURN(auto app, Open(data_dir, config, options));
  InitResult result;
  result.admin_username = "admin";
  {
    CALIPER_ASSIGN_OR_RETURN(auto txn, app->store_->Begin(TxnMode::kRead));
    auto users = txn->ListUsers({"", 1});
    if (!users.ok()) return users.status();
    if (!users->rows.empty()) return result;  // initialised before
  }
  NewUser admin;
  admin.username = result.admin_username;
  admin.display_name = "Administrator";
  admin.is_admin = true;
  CALIPER_ASSIGN_OR_RETURN(CreatedUser created, app->CreateUser(LocalOperator(), admin));
  result.admin_password = created.one_time_password;
  result.created = true;
  app->Close();
  return result;
}

Result<std::unique_ptr<App>> App::Open(const std::string& data_dir, const Config& config,
                                       const Options& options) {
  CALIPER_RETURN_IF_ERROR(security::InitCrypto());
  DataPaths paths(data_dir);
  if (!fs::is_directory(paths.keys_dir)) {
    return Error(ErrorCode::kUnavailable,
                 "no Caliper data directory at " + paths.root + "; run `caliper init --data " +
                     paths.root + "` first");
  }
  CALIPER_ASSIGN_OR_RETURN(auto auth, AuthSettingsFrom(config));
  CALIPER_ASSIGN_OR_RETURN(auto checkpoint_every, config.GetInt("audit.checkpoint_every"));
  if (checkpoint_every < 1 || checkpoint_every > 1'000'000) {
    return Error(ErrorCode::kInvalidArgument, "audit.checkpoint_every must be 1 to 1000000");
  }
  CALIPER_ASSIGN_OR_RETURN(auto tile_cache_bytes, config.GetInt("wsi.tile_cache_bytes"));
  CALIPER_ASSIGN_OR_RETURN(auto view_minutes, config.GetInt("wsi.viewer_session_minutes"));
  if (tile_cache_bytes < 0 || view_minutes < 1 || view_minutes > 24 * 60) {
    return Error(ErrorCode::kInvalidArgument,
                 "wsi.tile_cache_bytes must be 0 or more and wsi.viewer_session_minutes 1 to 1440");
  }
  std::unique_ptr<security::KeyProvider> owned_keys;
  const security::KeyProvider* keys = options.key_provider;
  if (keys == nullptr) {
    owned_keys = std::make_unique<security::FileKeyProvider>(MasterKeyPath(paths, config),
                                                             config.GetString("keys.master_key_env"));
    keys = owned_keys.get();
  }
  CALIPER_RETURN_IF_ERROR(keys->MasterKey().status());
  CALIPER_ASSIGN_OR_RETURN(auto audit_keys, security::LoadAuditKeys(paths.keys_dir, false));
  CALIPER_ASSIGN_OR_RETURN(auto store, storage::OpenSqliteStore(paths.database));
  {
    // A wrong master key (an old one put back, another deployment's) is refused here, not at
    // the first read of patient data.
    CALIPER_ASSIGN_OR_RETURN(security::Key master, keys->MasterKey());
    CALIPER_ASSIGN_OR_RETURN(auto txn, store->Begin(TxnMode::kRead));
    CALIPER_RETURN_IF_ERROR(security::VerifyMasterKey(*txn, master));
  }

  const Clock& clock = options.clock ? *options.clock : SystemClock::Instance();
  IdGenerator& ids = options.ids ? *options.ids : RandomIdGenerator::Instance();
  auto app = std::unique_ptr<App>(new App(std::move(paths), config, clock, ids, std::move(store),
                                          std::move(owned_keys), *keys, std::move(audit_keys), auth,
                                          options.export_lease_renewal));
  return app;
}

App::App(DataPaths paths, Config config, const Clock& clock, IdGenerator& ids,
         std::unique_ptr<storage::Store> store, std::unique_ptr<security::KeyProvider> owned_keys,
         const security::KeyProvider& keys, security::AuditKeys audit_keys, security::AuthSettings auth,
         std::chrono::milliseconds export_lease_renewal)
    : paths_(std::move(paths)),
      config_(std::move(config)),
      clock_(clock),
      ids_(ids),
      store_(std::move(store)),
      owned_keys_(std::move(owned_keys)),
      keys_(keys),
      key_manager_(keys_, clock_),
      blobs_(std::make_unique<security::FileBlobStore>(paths_.blobs)),
      audit_(clock_, audit_keys, paths_.audit_checkpoints,
             static_cast<int>(config_.GetInt("audit.checkpoint_every").value())),
      audit_public_key_(audit_keys.public_key),
      auth_(clock_, ids_, std::move(auth)),
      volume_cache_(std::make_unique<LruCache<dicom::Volume>>(std::size_t{1} << 30)),
      tile_cache_(std::make_unique<LruCache<std::string>>(
          static_cast<std::size_t>(config_.GetInt("wsi.tile_cache_bytes").value()))),
      slide_view_minutes_(config_.GetInt("wsi.viewer_session_minutes").value()),
      export_lease_renewal_(export_lease_renewal) {}

App::~App() { Close(); }

void App::Close() {
  if (store_) store_->Close();
}

bool App::Ready() {
  auto txn = store_->Begin(TxnMode::kRead);
  return txn.ok() && (*txn)->GetLastAuditEvent().status().code() != ErrorCode::kStorage;
}

// ---- helpers -----------------------------------------------------------------------------------

AuditRecord App::Record(const RequestContext& ctx, std::string action, std::string object_type,
                        std::string object_id, std::string details_json) const {
  AuditRecord r;
  r.actor = ctx.actor();
  r.session_id = ctx.principal.via_token() ? ctx.principal.token_id : ctx.principal.session_id;
  r.source_address = ctx.source_address;
  r.action = std::move(action);
  r.object_type = std::move(object_type);
  r.object_id = std::move(object_id);
  r.details_json = std::move(details_json);
  return r;
}

Status App::CommitWithAudit(storage::Transaction& txn, const AuditRecord& record) {
  std::int64_t seq = 0;
  CALIPER_RETURN_IF_ERROR(audit_.Append(txn, record, &seq));
  CALIPER_RETURN_IF_ERROR(txn.Commit());
  audit_.FlushCheckpoints(seq);
  return Status::Ok();
}

Status App::CommitWithAudit(storage::Transaction& txn, const std::vector<AuditRecord>& records) {
  std::int64_t seq = 0;
  for (const AuditRecord& record : records) CALIPER_RETURN_IF_ERROR(audit_.Append(txn, record, &seq));
  CALIPER_RETURN_IF_ERROR(txn.Commit());
  if (seq > 0) audit_.FlushCheckpoints(seq);
  return Status::Ok();
}

Status App::Audit(const AuditRecord& record) {
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
  return CommitWithAudit(*txn, record);
}

Result<core::Membership> App::MembershipOf(storage::Transaction& txn, const std::string& project_id,
                                           const std::string& user_id) {
  return txn.GetMembership(project_id, user_id);
}

bool App::IsBlinded(storage::Transaction& txn, const RequestContext& ctx, const std::string& project_id,
                    Permission permission) {
  // The local operator (the CLI on the data directory) reads no labels to label with; blinding
  // is for readers.
  if (ctx.principal.user.id == kLocalOperatorId) return false;
  auto m = MembershipOf(txn, project_id, ctx.principal.user.id);
  if (!m.ok()) return true;
  if (!HasRole(*m, core::Role::kAnnotator)) return false;
  const std::vector<core::Role> granting = security::RolesGranting(permission);
  for (core::Role r : m->roles) {
    if (r != core::Role::kAnnotator && std::find(granting.begin(), granting.end(), r) != granting.end()) {
      return false;
    }
  }
  return true;
}

// ---- authentication and authorisation --------------------------------------------------------

Result<LoginResult> App::Login(const std::string& username, const std::string& password,
                               const std::string& source_address) {
  // Argon2id runs before the write transaction, so sign-ins (anyone may send them) never hold
  // the single writer while hashing.
  std::string stored_hash;
  {
    CALIPER_ASSIGN_OR_RETURN(auto read, store_->Begin(TxnMode::kRead));
    auto user = read->GetUserByUsername(username);
    if (user.ok()) stored_hash = user->password_hash;
  }
  const security::PasswordCheck check = auth_.CheckPassword(stored_hash, password);
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
  security::LoginOutcome outcome = auth_.Login(*txn, username, check, source_address);
  RequestContext ctx;
  ctx.source_address = source_address;
  ctx.principal.user = outcome.user;
  ctx.principal.session_id = outcome.issued.session.id;
  AuditRecord record = Record(ctx, "auth.login", "user", outcome.user.id,
                              json{{"username_known", !outcome.user.id.empty()}}.dump());
  if (!outcome.status.ok()) {
    record.outcome = "failure";
    record.details_json = json{{"username_known", !outcome.user.id.empty()},
                               {"reason", outcome.status.code_name()}}.dump();
    if (outcome.status.code() == ErrorCode::kStorage) return outcome.status;
    CALIPER_RETURN_IF_ERROR(CommitWithAudit(*txn, record));  // the failed attempt is remembered
    return outcome.status;
  }
  CALIPER_RETURN_IF_ERROR(CommitWithAudit(*txn, record));
  return LoginResult{outcome.user, outcome.issued};
}

Status App::Logout(const RequestContext& ctx) {
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
  CALIPER_RETURN_IF_ERROR(auth_.EndSession(*txn, ctx.principal.session_id));
  return CommitWithAudit(*txn, Record(ctx, "auth.logout", "session", ctx.principal.session_id));
}

Result<security::Principal> App::AuthenticateSession(const std::string& token) {
  security::Principal principal;
  {
    CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
    CALIPER_ASSIGN_OR_RETURN(principal, auth_.ResumeSession(*txn, token));
  }
  if (principal.touch_due) {
    CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
    CALIPER_RETURN_IF_ERROR(auth_.Touch(*txn, principal.session_id));
    CALIPER_RETURN_IF_ERROR(txn->Commit());
  }
  return principal;
}

Result<security::Principal> App::AuthenticateApiToken(const std::string& token) {
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
  return auth_.ResumeApiToken(*txn, token);
}

Status App::CheckCsrf(const security::Principal& principal, const std::string& csrf_token) {
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
  return auth_.CheckCsrf(*txn, principal.session_id, csrf_token);
}

Status App::Authorize(const RequestContext& ctx, Permission permission,
                      const std::string& project_id_in, const std::string& item_id_in,
                      const std::string& action, const std::string& task_id, const std::string& annotation_id,
                      std::optional<core::DataType> as_data_type) {
  security::AccessTarget target;
  std::optional<core::Membership> membership;
  Status lookup;
  std::string item_id = item_id_in;
  {
    CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
    target.project_id = project_id_in;
    if (item_id.empty() && !task_id.empty()) {  // a task stands for its item
      auto task = txn->GetTask(task_id);
      if (!task.ok()) {
        lookup = task.status();
      } else if (!project_id_in.empty() && task->project_id != project_id_in) {
        lookup = Error(ErrorCode::kNotFound, "no such task");
      } else {
        item_id = task->item_id;
      }
    }
    if (item_id.empty() && !annotation_id.empty()) {  // so does an annotation
      auto annotation = txn->GetAnnotation(annotation_id);
      if (!annotation.ok()) {
        lookup = annotation.status();
      } else {
        item_id = annotation->item_id;
      }
    }
    if (!lookup.ok()) {
      // reported below
    } else if (!item_id.empty()) {
      auto item = txn->GetItem(item_id);
      if (!item.ok()) {
        lookup = item.status();
      } else {
        target.project_id = item->project_id;
        target.data_type = as_data_type.value_or(item->data_type);
        target.item_id = item->id;
        auto tasks = txn->ListTasksOfItem(item_id);
        if (!tasks.ok()) return tasks.status();
        for (const auto& t : *tasks) {
          if (t.assignee == ctx.principal.user.id) target.assigned = true;
        }
      }
    } else if (!target.project_id.empty()) {
      auto project = txn->GetProject(target.project_id);
      if (!project.ok()) lookup = project.status();
    }
    if (lookup.ok() && !target.project_id.empty() && !ctx.principal.user.id.empty()) {
      auto m = MembershipOf(*txn, target.project_id, ctx.principal.user.id);
      if (m.ok()) {
        membership = std::move(*m);
      } else if (m.status().code() != ErrorCode::kNotFound) {
        return m.status();
      }
    }
  }
  if (!lookup.ok() && lookup.code() != ErrorCode::kNotFound) return lookup;
  target.membership = membership ? &*membership : nullptr;
  security::Decision decision = security::Decide(ctx.principal, permission, target);
  if (lookup.ok() && decision.allowed) return Status::Ok();

  AuditRecord record = Record(ctx, action, item_id.empty() ? "project" : "item",
                              item_id.empty() ? project_id_in : item_id);
  record.outcome = "denied";
  record.details_json = json{{"permission", security::ToString(permission)},
                             {"reason", lookup.ok() ? "forbidden" : "not_found"}}
                            .dump();
  CALIPER_RETURN_IF_ERROR(Audit(record));
  if (!lookup.ok()) {
    return Error(ErrorCode::kNotFound, !task_id.empty()         ? "no such task"
                                       : !annotation_id.empty() ? "no such annotation"
                                       : item_id.empty()        ? "no such project"
                                                                : "no such item");
  }
  if (decision.reason == security::DenyReason::kOutOfScope && target.data_type) {
    return Error(ErrorCode::kPermissionDenied, "your scopes in this project do not include " +
                                                   std::string(core::ToString(*target.data_type)) + " data");
  }
  return Error(ErrorCode::kPermissionDenied,
               "you do not have the '" + std::string(security::ToString(permission)) +
                   "' permission here");
}

// ---- users -----------------------------------------------------------------------------------

Result<CreatedUser> App::CreateUser(const RequestContext& ctx, const NewUser& spec) {
  CALIPER_RETURN_IF_ERROR(core::ValidateUsername(spec.username));
  if (spec.display_name.size() > 200) {
    return Error(ErrorCode::kInvalidArgument, "display_name must be at most 200 characters");
  }
  CreatedUser out;
  std::string password = spec.password;
  if (password.empty()) {
    password = security::GenerateOneTimePassword();
    out.one_time_password = password;
  }
  CALIPER_ASSIGN_OR_RETURN(std::string hash, auth_.HashNewPassword(password, spec.username));
  core::User& u = out.user;
  u.id = ids_.NewId("usr");
  u.username = spec.username;
  u.display_name = spec.display_name.empty() ? spec.username : spec.display_name;
  u.password_hash = std::move(hash);
  u.is_admin = spec.is_admin;
  u.must_change_password = !out.one_time_password.empty();
  u.qualifications = spec.qualifications;
  u.created_at = clock_.Now();
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
  Status inserted = txn->InsertUser(u);
  if (inserted.code() == ErrorCode::kAlreadyExists) {
    return Error(ErrorCode::kAlreadyExists, "a user named '" + u.username + "' exists already");
  }
  CALIPER_RETURN_IF_ERROR(inserted);
  json quals = json::array();
  for (auto q : u.qualifications) quals.push_back(core::ToString(q));
  CALIPER_RETURN_IF_ERROR(CommitWithAudit(
      *txn, Record(ctx, "user.create", "user", u.id, json{{"is_admin", u.is_admin}, {"qualifications", quals}}.dump())));
  return out;
}

Result<storage::Page<core::User>> App::ListUsers(const RequestContext& ctx, const storage::PageRequest& page) {
  (void)ctx;
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
  return txn->ListUsers(page);
}

Result<core::User> App::GetUser(const RequestContext& ctx, const std::string& id) {
  (void)ctx;
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
  return txn->GetUser(id);
}

Result<core::User> App::FindUser(const RequestContext& ctx, const std::string& username) {
  (void)ctx;
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
  auto user = txn->GetUserByUsername(username);
  if (!user.ok() && user.status().code() == ErrorCode::kNotFound) {
    return Error(ErrorCode::kNotFound, "no user named '" + username + "'");
  }
  return user;
}

Status App::SetUserDisabled(const RequestContext& ctx, const std::string& user_id, bool disabled) {
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
  CALIPER_ASSIGN_OR_RETURN(core::User user, txn->GetUser(user_id));
  if (disabled && user.id == ctx.principal.user.id) {
    return Error(ErrorCode::kConflict, "you cannot disable your own account");
  }
  user.disabled = disabled;
  CALIPER_RETURN_IF_ERROR(txn->UpdateUser(user));
  if (disabled) CALIPER_RETURN_IF_ERROR(txn->RevokeUserSessions(user.id, clock_.Now()).status());
  return CommitWithAudit(*txn, Record(ctx, disabled ? "user.disable" : "user.enable", "user", user.id));
}

Result<std::string> App::ResetPassword(const RequestContext& ctx, const std::string& user_id,
                                       bool must_change) {
  std::string password = security::GenerateOneTimePassword();
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
  CALIPER_ASSIGN_OR_RETURN(core::User user, txn->GetUser(user_id));
  CALIPER_ASSIGN_OR_RETURN(user.password_hash, auth_.HashNewPassword(password, user.username));
  user.must_change_password = must_change;
  user.locked_until.reset();
  CALIPER_RETURN_IF_ERROR(txn->UpdateUser(user));
  CALIPER_RETURN_IF_ERROR(txn->RevokeUserSessions(user.id, clock_.Now()).status());
  CALIPER_RETURN_IF_ERROR(CommitWithAudit(*txn, Record(ctx, "user.reset_password", "user", user.id)));
  return password;
}

Status App::ChangeOwnPassword(const RequestContext& ctx, const std::string& old_password,
                              const std::string& new_password) {
  // As at sign-in: the slow hash checks run outside the write transaction, and a wrong
  // current password counts towards the lock-out and is audited.
  std::string stored_hash;
  {
    CALIPER_ASSIGN_OR_RETURN(auto read, store_->Begin(TxnMode::kRead));
    CALIPER_ASSIGN_OR_RETURN(core::User user, read->GetUser(ctx.principal.user.id));
    stored_hash = user.password_hash;
  }
  const security::PasswordCheck check = auth_.CheckPassword(stored_hash, old_password);
  if (!check.matches) {
    CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
    security::LoginOutcome outcome = auth_.Login(*txn, ctx.principal.user.username, check, ctx.source_address);
    if (outcome.status.code() == ErrorCode::kStorage) return outcome.status;
    AuditRecord record = Record(ctx, "user.change_password", "user", ctx.principal.user.id,
                                json{{"reason", outcome.status.code_name()}}.dump());
    record.outcome = "failure";
    CALIPER_RETURN_IF_ERROR(CommitWithAudit(*txn, record));
    return outcome.status.code() == ErrorCode::kUnauthenticated
               ? Error(ErrorCode::kUnauthenticated, "the current password is wrong")
               : outcome.status;
  }
  if (old_password == new_password) {
    return Error(ErrorCode::kWeakPassword, "the new password must differ from the current one");
  }
  CALIPER_ASSIGN_OR_RETURN(std::string new_hash, auth_.HashNewPassword(new_password, ctx.principal.user.username));
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
  CALIPER_ASSIGN_OR_RETURN(core::User user, txn->GetUser(ctx.principal.user.id));
  if (user.password_hash != check.verified_hash) {
    return Error(ErrorCode::kConflict, "the password changed meanwhile; sign in again");
  }
  user.password_hash = std::move(new_hash);
  user.must_change_password = false;
  CALIPER_RETURN_IF_ERROR(txn->UpdateUser(user));
  // Every session ends, this one too: a session stolen before the change dies with it.
  CALIPER_ASSIGN_OR_RETURN(int ended, txn->RevokeUserSessions(user.id, clock_.Now()));
  return CommitWithAudit(*txn, Record(ctx, "user.change_password", "user", user.id,
                                      json{{"sessions_ended", ended}}.dump()));
}

Result<int> App::RevokeSessions(const RequestContext& ctx, const std::string& user_id) {
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
  CALIPER_RETURN_IF_ERROR(txn->GetUser(user_id).status());
  CALIPER_ASSIGN_OR_RETURN(int revoked, txn->RevokeUserSessions(user_id, clock_.Now()));
  CALIPER_RETURN_IF_ERROR(CommitWithAudit(
      *txn, Record(ctx, "session.revoke_all", "user", user_id, json{{"sessions", revoked}}.dump())));
  return revoked;
}

// ---- projects --------------------------------------------------------------------------------

Result<core::Project> App::InsertNewProject(storage::Transaction& txn, const RequestContext& ctx,
                                            const std::string& name, const std::string& description) {
  CALIPER_RETURN_IF_ERROR(core::ValidateProjectName(name));
  if (description.size() > 10'000) {
    return Error(ErrorCode::kInvalidArgument, "description must be at most 10000 bytes");
  }
  core::Project p;
  p.id = ids_.NewId("prj");
  p.name = name;
  p.description = description;
  p.created_at = clock_.Now();
  p.created_by = ctx.actor();
  Status inserted = txn.InsertProject(p);
  if (inserted.code() == ErrorCode::kAlreadyExists) {
    return Error(ErrorCode::kAlreadyExists, "a project named '" + name + "' exists already");
  }
  CALIPER_RETURN_IF_ERROR(inserted);
  CALIPER_RETURN_IF_ERROR(key_manager_.EnsureProjectKey(txn, p.id));
  return p;
}

Result<core::Project> App::CreateProject(const RequestContext& ctx, const std::string& name,
                                         const std::string& description) {
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
  CALIPER_ASSIGN_OR_RETURN(core::Project p, InsertNewProject(*txn, ctx, name, description));
  CALIPER_RETURN_IF_ERROR(CommitWithAudit(*txn, Record(ctx, "project.create", "project", p.id)));
  return p;
}

Result<storage::Page<core::Project>> App::ListProjects(const RequestContext& ctx,
                                                       const storage::PageRequest& page) {
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
  if (ctx.principal.user.is_admin && !ctx.principal.via_token()) return txn->ListProjects(page);
  if (!ctx.principal.via_token()) return txn->ListProjectsOfUser(ctx.principal.user.id, page);
  return internal::FilteredPage<core::Project>(
      page, [&](const storage::PageRequest& p) { return txn->ListProjectsOfUser(ctx.principal.user.id, p); },
      [&](const core::Project& p) { return p.id == ctx.principal.token_project_id; });
}

Result<core::Project> App::GetProject(const RequestContext& ctx, const std::string& id) {
  (void)ctx;
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
  return txn->GetProject(id);
}

Result<core::Membership> App::PutMember(const RequestContext& ctx, const std::string& project_id,
                                        const std::string& user_id, const std::vector<core::Role>& roles,
                                        const std::vector<core::DataType>& scopes) {
  if (roles.empty()) return Error(ErrorCode::kInvalidArgument, "a member needs at least one role");
  if (std::find(roles.begin(), roles.end(), core::Role::kAdmin) != roles.end()) {
    return Error(ErrorCode::kInvalidArgument, "admin is a global role, not a project role");
  }
  // Separation of duties: nobody changes their own roles, and only administrators grant the
  // roles that oversee the others (data steward, auditor).
  const bool admin = ctx.principal.user.is_admin && !ctx.principal.via_token();
  if (user_id == ctx.principal.user.id && !admin) {
    return Error(ErrorCode::kPermissionDenied, "you cannot change your own roles");
  }
  for (core::Role r : {core::Role::kDataSteward, core::Role::kAuditor}) {
    if (!admin && std::find(roles.begin(), roles.end(), r) != roles.end()) {
      return Error(ErrorCode::kPermissionDenied,
                   "only an administrator grants the " + std::string(core::ToString(r)) + " role");
    }
  }
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
  CALIPER_RETURN_IF_ERROR(txn->GetProject(project_id).status());
  auto user = txn->GetUser(user_id);
  if (!user.ok()) {
    return user.status().code() == ErrorCode::kNotFound ? Error(ErrorCode::kNotFound, "no such user")
                                                        : user.status();
  }
  core::Membership m;
  m.project_id = project_id;
  m.user_id = user_id;
  m.roles = roles;
  m.scopes = scopes;
  m.created_at = clock_.Now();
  CALIPER_RETURN_IF_ERROR(txn->PutMembership(m));
  CALIPER_RETURN_IF_ERROR(CommitWithAudit(
      *txn, Record(ctx, "member.put", "project", project_id,
                   json{{"user_id", user_id}, {"roles", RolesJson(roles)}, {"scopes", ScopesJson(scopes)}}.dump())));
  return m;
}

Status App::RemoveMember(const RequestContext& ctx, const std::string& project_id,
                         const std::string& user_id) {
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
  CALIPER_RETURN_IF_ERROR(txn->DeleteMembership(project_id, user_id));
  return CommitWithAudit(*txn, Record(ctx, "member.remove", "project", project_id,
                                      json{{"user_id", user_id}}.dump()));
}

Result<storage::Page<core::Membership>> App::ListMembers(const RequestContext& ctx,
                                                         const std::string& project_id,
                                                         const storage::PageRequest& page) {
  (void)ctx;
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
  return txn->ListMemberships(project_id, page);
}

// ---- API tokens --------------------------------------------------------------------------------

Result<security::Authenticator::IssuedToken> App::CreateApiToken(
    const RequestContext& ctx, const std::string& user_id, const std::string& project_id,
    const std::string& name, const std::vector<Permission>& permissions,
    std::optional<TimeMicros> expires_at) {
  if (ctx.principal.via_token()) {
    // A token could otherwise mint a broader or longer-lived one that outlives its revocation.
    return Error(ErrorCode::kPermissionDenied, "API tokens cannot create API tokens; sign in");
  }
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
  CALIPER_ASSIGN_OR_RETURN(core::User user, txn->GetUser(user_id));
  CALIPER_RETURN_IF_ERROR(txn->GetProject(project_id).status());
  // A token can never hold more than its user: every permission must be granted to the user
  // in that project by the policy itself.
  auto membership = txn->GetMembership(project_id, user_id);
  security::Principal as_user;
  as_user.user = user;
  security::AccessTarget target;
  target.project_id = project_id;
  target.membership = membership.ok() ? &*membership : nullptr;
  for (Permission p : permissions) {
    security::AccessTarget t = target;
    if (security::ToString(p).rfind("item", 0) == 0 || security::ToString(p).rfind("annotation", 0) == 0) {
      t.assigned = true;  // item-level checks happen per request
      if (target.membership && !target.membership->scopes.empty()) t.data_type = target.membership->scopes.front();
    }
    if (!security::Decide(as_user, p, t).allowed) {
      return Error(ErrorCode::kPermissionDenied, "user '" + user.username + "' does not hold '" +
                                                     std::string(security::ToString(p)) +
                                                     "' in this project, so a token cannot either");
    }
  }
  CALIPER_ASSIGN_OR_RETURN(auto issued, auth_.IssueApiToken(*txn, user, project_id, name, permissions, expires_at));
  json perms = json::array();
  for (Permission p : permissions) perms.push_back(security::ToString(p));
  CALIPER_RETURN_IF_ERROR(CommitWithAudit(
      *txn, Record(ctx, "token.create", "api_token", issued.token.id,
                   json{{"user_id", user_id}, {"project_id", project_id}, {"permissions", perms}}.dump())));
  return issued;
}

Status App::RevokeApiToken(const RequestContext& ctx, const std::string& token_id) {
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
  CALIPER_ASSIGN_OR_RETURN(storage::ApiToken token, txn->GetApiToken(token_id));
  const bool admin = ctx.principal.user.is_admin && !ctx.principal.via_token();
  if (!admin && token.user_id != ctx.principal.user.id) {
    return Error(ErrorCode::kNotFound, "no such token");
  }
  CALIPER_RETURN_IF_ERROR(txn->RevokeApiToken(token_id, clock_.Now()));
  return CommitWithAudit(*txn, Record(ctx, "token.revoke", "api_token", token_id));
}

Result<storage::Page<storage::ApiToken>> App::ListApiTokens(const RequestContext& ctx,
                                                            const std::string& user_id,
                                                            const storage::PageRequest& page) {
  (void)ctx;
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
  return txn->ListApiTokens(user_id, page);
}

// ---- items -----------------------------------------------------------------------------------

Result<core::Item> App::CreateItem(const RequestContext& ctx, const std::string& project_id,
                                   const NewItem& spec, std::istream& content) {
  if (spec.patient_key.empty() || spec.patient_key.size() > 128) {
    return Error(ErrorCode::kInvalidArgument, "patient_key must be 1 to 128 characters");
  }
  if (spec.patient_key[0] == '#') {
    return Error(ErrorCode::kInvalidArgument, "patient_key must not start with '#' (reserved for project keys)");
  }
  if (spec.modality.size() > 32) return Error(ErrorCode::kInvalidArgument, "modality must be at most 32 characters");
  if (!json::accept(spec.cohort_json) || !json::parse(spec.cohort_json).is_object()) {
    return Error(ErrorCode::kInvalidArgument, "cohort must be a JSON object");
  }
  core::Item item;
  item.id = ids_.NewId("itm");
  item.project_id = project_id;
  item.data_type = spec.data_type;
  item.modality = spec.modality;
  item.patient_key = spec.patient_key;
  item.cohort_json = spec.cohort_json;
  item.content_type = spec.content_type;
  item.created_at = clock_.Now();
  item.created_by = ctx.actor();
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
  CALIPER_RETURN_IF_ERROR(txn->GetProject(project_id).status());
  CALIPER_RETURN_IF_ERROR(InsertItemWithContent(*txn, item, content));
  CALIPER_RETURN_IF_ERROR(CommitWithAudit(
      *txn, Record(ctx, "item.create", "item", item.id,
                   json{{"project_id", project_id}, {"bytes", item.content_bytes},
                        {"data_type", core::ToString(item.data_type)}}.dump())));
  return item;
}

Status App::InsertItemWithContent(storage::Transaction& txn, core::Item& item, std::istream& content) {
  CALIPER_ASSIGN_OR_RETURN(auto put, PutBlob(txn, item.project_id, item.patient_key, content));
  item.content_blob = put.address;
  item.content_bytes = put.bytes;
  return txn.InsertItem(item);
}

Result<security::BlobStore::PutResult> App::PutBlob(storage::Transaction& txn, const std::string& project_id,
                                                    const std::string& patient_key, std::istream& content) {
  CALIPER_ASSIGN_OR_RETURN(auto key, key_manager_.DataKeyFor(txn, project_id, patient_key));
  // The blob is written (and fsync'd) before the row that names it commits; a crash in
  // between leaves only an unreferenced blob, never a row without its content.
  auto put = blobs_->Put(key.key, key.id, content);
  security::SecureZero(key.key.data(), key.key.size());
  return put;
}

Result<std::string> App::GetBlob(storage::Transaction& txn, const std::string& address) {
  CALIPER_ASSIGN_OR_RETURN(std::string key_id, blobs_->KeyIdOf(address));
  CALIPER_ASSIGN_OR_RETURN(security::Key key, key_manager_.UnwrapDataKey(txn, key_id));
  std::ostringstream out;
  Status s = blobs_->Get(key, address, out);
  security::SecureZero(key.data(), key.size());
  CALIPER_RETURN_IF_ERROR(s);
  return std::move(out).str();
}

Result<storage::Page<core::Item>> App::ListItems(const RequestContext& ctx, const std::string& project_id,
                                                 const storage::PageRequest& page) {
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
  CALIPER_ASSIGN_OR_RETURN(auto items, txn->ListItems(project_id, page));
  if (!ctx.principal.user.is_admin && IsBlinded(*txn, ctx, project_id, Permission::kItemList)) {
    std::vector<core::Item> assigned;
    for (auto& item : items.rows) {
      CALIPER_ASSIGN_OR_RETURN(auto tasks, txn->ListTasksOfItem(item.id));
      if (std::any_of(tasks.begin(), tasks.end(), [&](const core::Task& t) { return t.assignee == ctx.principal.user.id; })) {
        assigned.push_back(std::move(item));
      }
    }
    items.rows = std::move(assigned);
  }
  return items;
}

Result<core::Item> App::GetItem(const RequestContext& ctx, const std::string& item_id) {
  (void)ctx;
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
  return txn->GetItem(item_id);
}

Result<std::string> App::DecryptContent(const core::Item& item) {
  if (item.content_blob.empty()) return Error(ErrorCode::kNotFound, "the item has no content");
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
  return GetBlob(*txn, item.content_blob);
}

Result<std::string> App::ReadItemContent(const RequestContext& ctx, const std::string& item_id) {
  // Only the audit event is a write, and it commits before any byte is returned.
  core::Item item;
  {
    CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
    CALIPER_ASSIGN_OR_RETURN(item, txn->GetItem(item_id));
  }
  CALIPER_ASSIGN_OR_RETURN(std::string content, DecryptContent(item));
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
  CALIPER_RETURN_IF_ERROR(CommitWithAudit(
      *txn, Record(ctx, "item.read", "item", item.id, json{{"bytes", item.content_bytes}}.dump())));
  return content;
}

Result<core::Task> App::AssignItem(const RequestContext& ctx, const std::string& item_id,
                                   const std::string& user_id) {
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
  CALIPER_ASSIGN_OR_RETURN(core::Item item, txn->GetItem(item_id));
  auto member = txn->GetMembership(item.project_id, user_id);
  if (!member.ok()) {
    return member.status().code() == ErrorCode::kNotFound
               ? Error(ErrorCode::kInvalidArgument, "the user is not a member of this project")
               : member.status();
  }
  if (!HasRole(*member, core::Role::kAnnotator)) {
    return Error(ErrorCode::kInvalidArgument, "only annotators can be assigned items");
  }
  if (std::find(member->scopes.begin(), member->scopes.end(), item.data_type) == member->scopes.end()) {
    return Error(ErrorCode::kInvalidArgument, "the item's data type is outside the annotator's scopes");
  }
  CALIPER_ASSIGN_OR_RETURN(auto tasks, txn->ListTasksOfItem(item_id));
  for (const auto& t : tasks) {
    if (t.assignee == user_id) return Error(ErrorCode::kAlreadyExists, "the item is assigned to this user already");
  }
  core::Task task;
  task.id = ids_.NewId("tsk");
  task.project_id = item.project_id;
  task.item_id = item_id;
  task.assignee = user_id;
  CALIPER_ASSIGN_OR_RETURN(task.state, core::TaskTransition(core::TaskState::kOpen, core::TaskEvent::kClaim));
  task.created_at = task.updated_at = clock_.Now();
  task.revision = 1;
  CALIPER_RETURN_IF_ERROR(txn->InsertTask(task));
  CALIPER_RETURN_IF_ERROR(CommitWithAudit(
      *txn, Record(ctx, "task.assign", "task", task.id, json{{"item_id", item_id}, {"user_id", user_id}}.dump())));
  return task;
}

// ---- annotations -------------------------------------------------------------------------------

Result<core::Annotation> App::CreateAnnotation(const RequestContext& ctx, const std::string& item_id,
                                               core::Annotation a) {
  CALIPER_RETURN_IF_ERROR(core::ValidateAnnotation(a));
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
  CALIPER_ASSIGN_OR_RETURN(core::Item item, txn->GetItem(item_id));
  a.id = ids_.NewId("ann");
  a.project_id = item.project_id;
  a.item_id = item_id;
  a.author = ctx.principal.user.id;
  a.revision = 1;
  a.created_at = a.updated_at = clock_.Now();
  CALIPER_ASSIGN_OR_RETURN(core::LabelClass cls, PinToGuideline(*txn, a, item));
  CALIPER_RETURN_IF_ERROR(internal::NeedsQualification(ctx.principal.user, cls, "labelling"));
  CALIPER_RETURN_IF_ERROR(TouchReaderTask(*txn, ctx, item, a));
  CALIPER_RETURN_IF_ERROR(txn->InsertAnnotation(a));
  CALIPER_RETURN_IF_ERROR(CommitWithAudit(
      *txn, Record(ctx, "annotation.create", "annotation", a.id,
                   json{{"item_id", item_id}, {"label_class", a.label_class}, {"task_id", a.task_id},
                        {"guideline_version_id", a.guideline_version_id}}.dump())));
  return a;
}

Result<storage::Page<core::Annotation>> App::ListAnnotations(const RequestContext& ctx,
                                                             const std::string& item_id,
                                                             const storage::PageRequest& page) {
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
  CALIPER_ASSIGN_OR_RETURN(core::Item item, txn->GetItem(item_id));
  auto list = [&](const storage::PageRequest& p) { return txn->ListAnnotations(item_id, p); };
  if (!IsBlinded(*txn, ctx, item.project_id, Permission::kAnnotationRead)) return list(page);
  // Blinding: here, not in the UI. A repeat read in progress is blind to the reader's own first
  // reading too.
  CALIPER_ASSIGN_OR_RETURN(auto repeat, internal::RepeatInProgress(*txn, item_id, ctx.principal.user.id));
  return internal::FilteredPage<core::Annotation>(page, list, [&](const core::Annotation& a) {
    return a.author == ctx.principal.user.id && (!repeat || a.task_id == repeat->id);
  });
}

Result<core::Annotation> App::GetAnnotation(const RequestContext& ctx, const std::string& id) {
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kRead));
  CALIPER_ASSIGN_OR_RETURN(core::Annotation a, txn->GetAnnotation(id));
  if (a.author != ctx.principal.user.id && IsBlinded(*txn, ctx, a.project_id, Permission::kAnnotationRead)) {
    return Error(ErrorCode::kNotFound, "no such annotation");
  }
  return a;
}

Result<core::Annotation> App::UpdateAnnotation(const RequestContext& ctx, const std::string& id,
                                               std::int64_t expected_revision, const AnnotationPatch& patch) {
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
  CALIPER_ASSIGN_OR_RETURN(core::Annotation a, txn->GetAnnotation(id));
  if (a.author != ctx.principal.user.id) {
    return Error(ErrorCode::kPermissionDenied, "only the author may edit an annotation");
  }
  if (a.revision != expected_revision) {
    return Error(ErrorCode::kPreconditionFailed,
                 "the annotation changed since you read it (revision " + std::to_string(a.revision) + ")");
  }
  if (patch.reason.size() > 2000) return Error(ErrorCode::kInvalidArgument, "reason must be at most 2000 characters");
  const core::Annotation before = a;
  if (patch.evidence_kind) a.evidence_kind = *patch.evidence_kind;
  if (patch.evidence_json) a.evidence_json = *patch.evidence_json;
  if (patch.label_class) a.label_class = *patch.label_class;
  if (patch.code_system) a.code_system = *patch.code_system;
  if (patch.code) a.code = *patch.code;
  if (patch.confidence) a.confidence = *patch.confidence;
  if (patch.assertion) a.assertion = *patch.assertion;
  if (patch.temporality) a.temporality = *patch.temporality;
  if (patch.experiencer) a.experiencer = *patch.experiencer;
  if (patch.relations_json) a.relations_json = *patch.relations_json;
  CALIPER_RETURN_IF_ERROR(core::ValidateAnnotation(a));
  CALIPER_ASSIGN_OR_RETURN(core::Item item, txn->GetItem(a.item_id));
  // An edit is made under the guideline in force now, while the reader's task is claimed.
  a.guideline_version_id.clear();
  CALIPER_ASSIGN_OR_RETURN(core::LabelClass cls, PinToGuideline(*txn, a, item));
  CALIPER_RETURN_IF_ERROR(internal::NeedsQualification(ctx.principal.user, cls, "labelling"));
  CALIPER_RETURN_IF_ERROR(TouchReaderTask(*txn, ctx, item, a));
  a.revision = expected_revision + 1;
  a.updated_at = clock_.Now();
  CALIPER_RETURN_IF_ERROR(txn->UpdateAnnotation(a, expected_revision));
  CALIPER_RETURN_IF_ERROR(txn->InsertAnnotationVersion({before, ctx.principal.user.id, a.updated_at, patch.reason}));
  CALIPER_RETURN_IF_ERROR(CommitWithAudit(
      *txn, Record(ctx, "annotation.update", "annotation", a.id,
                   json{{"revision", a.revision}, {"reason_given", !patch.reason.empty()}}.dump())));
  return a;
}

// ---- audit and keys --------------------------------------------------------------------------

Result<security::AuditVerifyReport> App::VerifyAudit(const RequestContext& ctx) {
  CALIPER_ASSIGN_OR_RETURN(auto report,
                           security::VerifyAuditChain(*store_, audit_public_key_, paths_.audit_checkpoints));
  AuditRecord record = Record(ctx, "audit.verify", "audit", "",
                              json{{"ok", report.ok}, {"events", report.events}}.dump());
  if (report.ok) CALIPER_RETURN_IF_ERROR(Audit(record));  // never extend a broken chain
  return report;
}

Status App::ExportAudit(const RequestContext& ctx, TimeMicros from, TimeMicros to,
                        const std::function<Status(const storage::AuditEvent&)>& sink) {
  CALIPER_RETURN_IF_ERROR(security::ExportAudit(*store_, from, to, sink));
  return Audit(Record(ctx, "audit.export", "audit", "",
                           json{{"from", FormatRfc3339(from)}, {"to", FormatRfc3339(to)}}.dump()));
}

Result<security::KeyManager::RotationReport> App::RotateKeys(const RequestContext& ctx, bool new_master) {
  std::optional<security::Key> master;
  if (new_master) master = security::RandomKey();
  const std::string master_path = MasterKeyPath(paths_, config_);
  const char* env_key = std::getenv(config_.GetString("keys.master_key_env").c_str());
  if (new_master && env_key != nullptr && *env_key != '\0') {
    return Error(ErrorCode::kUnsupported, "the master key comes from $" + config_.GetString("keys.master_key_env") +
                                              "; replace it there (a new key file would be ignored)");
  }
  if (new_master && !owned_keys_) {
    return Error(ErrorCode::kUnsupported, "the master key is not file-based here; rotate it where it is kept");
  }
  CALIPER_ASSIGN_OR_RETURN(auto txn, store_->Begin(TxnMode::kWrite));
  CALIPER_ASSIGN_OR_RETURN(auto report, key_manager_.Rotate(*txn, master ? &*master : nullptr));
  std::int64_t seq = 0;
  CALIPER_RETURN_IF_ERROR(audit_.Append(
      *txn,
      Record(ctx, "key.rotate", "keys", "",
             json{{"project_keys", report.project_keys}, {"data_keys", report.data_keys},
                  {"new_master", new_master}}.dump()),
      &seq));
  if (master) {
    // Keep the old key beside the new until the commit is durable, so a crash between the
    // two leaves a key that opens the database.
    std::error_code ec;
    fs::copy_file(master_path, master_path + ".previous", fs::copy_options::overwrite_existing, ec);
    if (ec) return Error(ErrorCode::kIo, "cannot back up the master key: " + ec.message());
    CALIPER_RETURN_IF_ERROR(security::WriteFileAtomically(master_path, security::ToHex(master->data(), master->size()) + "\n", true));
  }
  Status committed = txn->Commit();
  if (!committed.ok()) {
    if (master) {
      std::error_code ec;
      fs::rename(master_path + ".previous", master_path, ec);
    }
    return committed;
  }
  audit_.FlushCheckpoints(seq);
  if (master) {
    std::error_code ec;
    fs::remove(master_path + ".previous", ec);
  }
  return report;
}

}  // namespace caliper::app
