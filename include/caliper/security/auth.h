#pragma once

// Sign-in, sessions and API tokens. Every function works inside the caller's Transaction, so
// the caller commits it together with the audit event that records it.
//
// Secrets: session tokens, CSRF tokens and API tokens are 256-bit random values handed to the
// client once; only their SHA-256 is stored.

#include <string>
#include <vector>

#include "caliper/common/clock.h"
#include "caliper/common/ids.h"
#include "caliper/common/status.h"
#include "caliper/security/policy.h"
#include "caliper/storage/store.h"

namespace caliper::security {

struct AuthSettings {
  TimeMicros idle_timeout = 15 * kMicrosPerMinute;
  TimeMicros absolute_timeout = 12 * kMicrosPerHour;
  TimeMicros idle_warning = kMicrosPerMinute;  // how long before the idle timeout the UI warns
  int max_failures = 5;
  TimeMicros failure_window = 15 * kMicrosPerMinute;
  TimeMicros lockout = 15 * kMicrosPerMinute;
  int max_attempts_per_address_per_minute = 30;
  int password_min_length = 12;
  std::string hash_cost = "interactive";
  // A session's last_seen is written at most this often (saves a write per request).
  TimeMicros touch_interval = 15 * kMicrosPerSecond;
};

struct IssuedSession {
  storage::Session session;
  std::string token;       // the cookie value; shown once
  std::string csrf_token;  // sent back in X-CSRF-Token on state-changing requests
};

// The result of checking a password against the hash stored for a user (Argon2id, slow:
// made outside any write transaction).
struct PasswordCheck {
  std::string verified_hash;  // the stored hash it was checked against ("" for no such user)
  bool matches = false;
};

struct LoginOutcome {
  Status status;           // ok, or why sign-in failed
  core::User user;         // set when the username exists (for the audit event)
  IssuedSession issued;    // set when status is ok
};

// Thread-safe: holds only settings and borrowed services.
class Authenticator {
 public:
  Authenticator(const Clock& clock, IdGenerator& ids, AuthSettings settings)
      : clock_(clock), ids_(ids), settings_(std::move(settings)) {}

  const AuthSettings& settings() const { return settings_; }

  // Argon2id check of `password` against `stored_hash`; an empty hash (unknown user) is
  // checked against a dummy hash of the configured cost, so both take the same time.
  PasswordCheck CheckPassword(const std::string& stored_hash, const std::string& password) const;

  // Checks address throttling, lock-out and the password check made beforehand; records the
  // attempt; locks the account after too many failures; on success starts a session. Failures are reported as
  // kUnauthenticated ("wrong username or password", the same for unknown users),
  // kAccountLocked or kTooManyRequests. The caller commits the transaction either way, so the
  // attempt is remembered.
  LoginOutcome Login(storage::Transaction& txn, const std::string& username,
                     const PasswordCheck& check, const std::string& source_address) const;
  // The same, checking the password inside `txn` (for tools and tests; the server checks it
  // before opening its write transaction).
  LoginOutcome Login(storage::Transaction& txn, const std::string& username,
                     const std::string& password, const std::string& source_address) const;

  // Resolves a session token: kUnauthenticated when unknown or revoked, kSessionExpired when
  // idle or past its absolute lifetime. Works in a read transaction: when the session's
  // last_seen is older than touch_interval it sets principal.touch_due, and the caller then
  // calls Touch in a write transaction.
  Result<Principal> ResumeSession(storage::Transaction& txn, const std::string& token) const;
  Status Touch(storage::Transaction& txn, const std::string& session_id) const;
  // kCsrfFailed unless `csrf_token` belongs to `session_id`'s session.
  Status CheckCsrf(storage::Transaction& txn, const std::string& session_id,
                   const std::string& csrf_token) const;
  Status EndSession(storage::Transaction& txn, const std::string& session_id) const;

  // API tokens: "cal_" + random secret, shown once.
  struct IssuedToken {
    storage::ApiToken token;
    std::string secret;
  };
  // With `item_id`, the token reaches only that item of the project (item routes; nothing
  // project-wide): the model back-end protocol's scoped token.
  Result<IssuedToken> IssueApiToken(storage::Transaction& txn, const core::User& user,
                                    const std::string& project_id, const std::string& name,
                                    const std::vector<Permission>& permissions,
                                    std::optional<TimeMicros> expires_at,
                                    const std::string& item_id = "") const;
  Result<Principal> ResumeApiToken(storage::Transaction& txn, const std::string& secret) const;

  // Checks the policy and returns the Argon2id hash of `password`.
  Result<std::string> HashNewPassword(const std::string& password, const std::string& username) const;

 private:
  const std::string& DummyHash() const;

  const Clock& clock_;
  IdGenerator& ids_;
  AuthSettings settings_;
};

}  // namespace caliper::security
