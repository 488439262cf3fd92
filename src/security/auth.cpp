#include "caliper/security/auth.h"

#include <map>
#include <mutex>

#include "caliper/security/crypto.h"
#include "caliper/security/passwords.h"

namespace caliper::security {
namespace {

constexpr std::string_view kApiTokenPrefix = "cal_";

Status WrongCredentials() {
  return Error(ErrorCode::kUnauthenticated, "wrong username or password");
}

}  // namespace

const std::string& Authenticator::DummyHash() const {
  // One per cost, made once: unknown names cost the same Argon2id work as known ones.
  static std::mutex mu;
  static std::map<std::string, std::string> hashes;
  std::lock_guard lock(mu);
  auto it = hashes.find(settings_.hash_cost);
  if (it == hashes.end()) {
    auto hash = HashPassword("caliper-dummy-password", settings_.hash_cost);
    it = hashes.emplace(settings_.hash_cost, hash.ok() ? *hash : std::string()).first;
  }
  return it->second;
}

PasswordCheck Authenticator::CheckPassword(const std::string& stored_hash,
                                           const std::string& password) const {
  PasswordCheck check;
  check.verified_hash = stored_hash;
  const bool matches = VerifyPassword(password, stored_hash.empty() ? DummyHash() : stored_hash);
  check.matches = matches && !stored_hash.empty();
  return check;
}

LoginOutcome Authenticator::Login(storage::Transaction& txn, const std::string& username,
                                  const std::string& password,
                                  const std::string& source_address) const {
  auto user = txn.GetUserByUsername(username);
  return Login(txn, username, CheckPassword(user.ok() ? user->password_hash : "", password),
               source_address);
}

LoginOutcome Authenticator::Login(storage::Transaction& txn, const std::string& username,
                                  const PasswordCheck& check,
                                  const std::string& source_address) const {
  LoginOutcome out;
  const TimeMicros now = clock_.Now();
  auto record = [&](bool success) {
    return txn.InsertLoginAttempt({username, source_address, now, success});
  };

  auto from_address = txn.CountAttemptsFromAddress(source_address, now - kMicrosPerMinute);
  if (!from_address.ok()) return {from_address.status(), {}, {}};
  if (*from_address >= settings_.max_attempts_per_address_per_minute) {
    out.status = Error(ErrorCode::kTooManyRequests,
                       "too many sign-in attempts from this address; wait a minute");
    return out;
  }

  auto user = txn.GetUserByUsername(username);
  if (!user.ok()) {
    if (user.status().code() != ErrorCode::kNotFound) return {user.status(), {}, {}};
    Status s = record(false);
    out.status = s.ok() ? WrongCredentials() : s;
    return out;
  }
  out.user = *user;
  if (out.user.locked_until && *out.user.locked_until > now) {
    Status s = record(false);
    out.status = s.ok() ? Error(ErrorCode::kAccountLocked,
                                "the account is locked after repeated failed sign-ins; try again "
                                "after " + FormatRfc3339(*out.user.locked_until) +
                                    " or ask an administrator")
                        : s;
    return out;
  }
  // The check was made against the hash stored when it ran; a password changed since then
  // does not count as a match.
  const bool password_ok = check.matches && check.verified_hash == out.user.password_hash;
  if (out.user.disabled || !password_ok) {
    Status s = record(false);
    if (!s.ok()) return {s, out.user, {}};
    auto failures = txn.CountRecentFailures(username, now - settings_.failure_window);
    if (!failures.ok()) return {failures.status(), out.user, {}};
    if (*failures >= settings_.max_failures) {
      out.user.locked_until = now + settings_.lockout;
      Status u = txn.UpdateUser(out.user);
      if (!u.ok()) return {u, out.user, {}};
      out.status = Error(ErrorCode::kAccountLocked,
                         "the account is now locked after " + std::to_string(*failures) +
                             " failed sign-ins");
      return out;
    }
    out.status = WrongCredentials();
    return out;
  }

  if (Status s = record(true); !s.ok()) return {s, out.user, {}};
  if (out.user.locked_until) {
    out.user.locked_until.reset();
    if (Status s = txn.UpdateUser(out.user); !s.ok()) return {s, out.user, {}};
  }
  IssuedSession& issued = out.issued;
  issued.token = RandomToken(32);
  issued.csrf_token = RandomToken(32);
  storage::Session& session = issued.session;
  session.id = ids_.NewId("ses");
  session.user_id = out.user.id;
  session.token_hash = Sha256Hex(issued.token);
  session.csrf_hash = Sha256Hex(issued.csrf_token);
  session.source_address = source_address;
  session.created_at = now;
  session.last_seen_at = now;
  session.absolute_expires_at = now + settings_.absolute_timeout;
  out.status = txn.InsertSession(session);
  return out;
}

Result<Principal> Authenticator::ResumeSession(storage::Transaction& txn,
                                               const std::string& token) const {
  auto session = txn.GetSessionByTokenHash(Sha256Hex(token));
  if (!session.ok()) {
    if (session.status().code() == ErrorCode::kNotFound) {
      return Error(ErrorCode::kUnauthenticated, "unknown session; sign in");
    }
    return session.status();
  }
  if (session->revoked_at) return Error(ErrorCode::kUnauthenticated, "the session was ended; sign in");
  const TimeMicros now = clock_.Now();
  if (now >= session->absolute_expires_at) {
    return Error(ErrorCode::kSessionExpired, "the session reached its maximum lifetime; sign in again");
  }
  if (now - session->last_seen_at >= settings_.idle_timeout) {
    return Error(ErrorCode::kSessionExpired, "the session was idle too long; sign in again");
  }
  CALIPER_ASSIGN_OR_RETURN(core::User user, txn.GetUser(session->user_id));
  if (user.disabled) return Error(ErrorCode::kUnauthenticated, "the account is disabled");
  Principal p;
  p.user = std::move(user);
  p.session_id = session->id;
  p.touch_due = now - session->last_seen_at >= settings_.touch_interval;
  return p;
}

Status Authenticator::CheckCsrf(storage::Transaction& txn, const std::string& session_id,
                                const std::string& csrf_token) const {
  if (csrf_token.empty()) return Error(ErrorCode::kCsrfFailed, "missing X-CSRF-Token header");
  CALIPER_ASSIGN_OR_RETURN(storage::Session session, txn.GetSession(session_id));
  if (!ConstantTimeEquals(Sha256Hex(csrf_token), session.csrf_hash)) {
    return Error(ErrorCode::kCsrfFailed, "the X-CSRF-Token header does not match this session");
  }
  return Status::Ok();
}

Status Authenticator::Touch(storage::Transaction& txn, const std::string& session_id) const {
  return txn.TouchSession(session_id, clock_.Now());
}

Status Authenticator::EndSession(storage::Transaction& txn, const std::string& session_id) const {
  return txn.RevokeSession(session_id, clock_.Now());
}

Result<Authenticator::IssuedToken> Authenticator::IssueApiToken(
    storage::Transaction& txn, const core::User& user, const std::string& project_id,
    const std::string& name, const std::vector<Permission>& permissions,
    std::optional<TimeMicros> expires_at, const std::string& item_id) const {
  if (permissions.empty()) {
    return Error(ErrorCode::kInvalidArgument, "an API token needs at least one permission");
  }
  if (name.empty() || name.size() > 100) {
    return Error(ErrorCode::kInvalidArgument, "token name must be 1 to 100 characters");
  }
  IssuedToken out;
  out.secret = std::string(kApiTokenPrefix) + RandomToken(32);
  storage::ApiToken& t = out.token;
  t.id = ids_.NewId("tok");
  t.name = name;
  t.user_id = user.id;
  t.project_id = project_id;
  t.item_id = item_id;
  for (Permission p : permissions) {
    if (!IsProjectScoped(p)) {
      return Error(ErrorCode::kInvalidArgument,
                   "'" + std::string(ToString(p)) + "' cannot be granted to an API token");
    }
    t.permissions.emplace_back(ToString(p));
  }
  t.token_hash = Sha256Hex(out.secret);
  t.created_at = clock_.Now();
  t.expires_at = expires_at;
  CALIPER_RETURN_IF_ERROR(txn.InsertApiToken(t));
  return out;
}

Result<Principal> Authenticator::ResumeApiToken(storage::Transaction& txn,
                                                const std::string& secret) const {
  auto token = txn.GetApiTokenByHash(Sha256Hex(secret));
  if (!token.ok()) {
    if (token.status().code() == ErrorCode::kNotFound) {
      return Error(ErrorCode::kUnauthenticated, "unknown API token");
    }
    return token.status();
  }
  if (token->revoked_at) return Error(ErrorCode::kUnauthenticated, "the API token was revoked");
  if (token->expires_at && clock_.Now() >= *token->expires_at) {
    return Error(ErrorCode::kUnauthenticated, "the API token has expired");
  }
  CALIPER_ASSIGN_OR_RETURN(core::User user, txn.GetUser(token->user_id));
  if (user.disabled) return Error(ErrorCode::kUnauthenticated, "the token's account is disabled");
  Principal p;
  p.user = std::move(user);
  p.token_id = token->id;
  p.token_project_id = token->project_id;
  p.token_permissions = token->permissions;
  p.token_item_id = token->item_id;
  return p;
}

Result<std::string> Authenticator::HashNewPassword(const std::string& password,
                                                   const std::string& username) const {
  CALIPER_RETURN_IF_ERROR(CheckPasswordPolicy(password, username, settings_.password_min_length));
  return HashPassword(password, settings_.hash_cost);
}

}  // namespace caliper::security
