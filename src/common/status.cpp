#include "caliper/common/status.h"

#include <array>

namespace caliper {
namespace {

// The one error table. Order follows ErrorCode; a static_assert below keeps them in step.
constexpr std::array kErrorTable = {
    ErrorInfo{ErrorCode::kOk, "ok", 200, "ok"},
    ErrorInfo{ErrorCode::kInvalidArgument, "invalid_argument", 400, "the request is not valid"},
    ErrorInfo{ErrorCode::kMalformedJson, "malformed_json", 400, "the body is not valid JSON"},
    ErrorInfo{ErrorCode::kUnknownField, "unknown_field", 400, "the body has a field this endpoint does not take"},
    ErrorInfo{ErrorCode::kPayloadTooLarge, "payload_too_large", 413, "the body is larger than this endpoint accepts"},
    ErrorInfo{ErrorCode::kLengthRequired, "length_required", 411,
              "send the body with a Content-Length (chunked bodies are not accepted)"},
    ErrorInfo{ErrorCode::kNotFound, "not_found", 404, "no such resource"},
    ErrorInfo{ErrorCode::kAlreadyExists, "already_exists", 409, "the resource exists already"},
    ErrorInfo{ErrorCode::kConflict, "conflict", 409, "the request conflicts with the current state"},
    ErrorInfo{ErrorCode::kPreconditionFailed, "precondition_failed", 412, "the resource changed since it was read"},
    ErrorInfo{ErrorCode::kUnauthenticated, "unauthenticated", 401, "sign in first"},
    ErrorInfo{ErrorCode::kSessionExpired, "session_expired", 401, "the session has expired; sign in again"},
    ErrorInfo{ErrorCode::kCsrfFailed, "csrf_failed", 403, "missing or wrong CSRF token"},
    ErrorInfo{ErrorCode::kPermissionDenied, "permission_denied", 403, "you do not have permission for this"},
    ErrorInfo{ErrorCode::kPasswordChangeRequired, "password_change_required", 403,
              "change your one-time password first (POST /api/v1/me/password)"},
    ErrorInfo{ErrorCode::kAccountLocked, "account_locked", 423, "the account is locked after repeated failed sign-ins"},
    ErrorInfo{ErrorCode::kTooManyRequests, "too_many_requests", 429, "too many attempts; wait and try again"},
    ErrorInfo{ErrorCode::kWeakPassword, "weak_password", 400, "the password does not meet the password policy"},
    ErrorInfo{ErrorCode::kIntegrity, "integrity_error", 500, "stored data failed its integrity check"},
    ErrorInfo{ErrorCode::kCryptoFailed, "crypto_failed", 500, "a cryptographic operation failed"},
    ErrorInfo{ErrorCode::kKeyUnavailable, "key_unavailable", 500, "the key needed is not available"},
    ErrorInfo{ErrorCode::kStorage, "storage_error", 500, "the store failed"},
    ErrorInfo{ErrorCode::kIo, "io_error", 500, "a file operation failed"},
    ErrorInfo{ErrorCode::kUnsupported, "unsupported", 415, "this kind of input is not supported"},
    ErrorInfo{ErrorCode::kUnavailable, "unavailable", 503, "the service is not ready"},
    ErrorInfo{ErrorCode::kInternal, "internal", 500, "internal error"},
};

constexpr bool TableInOrder() {
  for (std::size_t i = 0; i < kErrorTable.size(); ++i) {
    if (static_cast<std::size_t>(kErrorTable[i].code) != i) return false;
  }
  return true;
}
static_assert(TableInOrder(), "kErrorTable must list ErrorCode values in order");
static_assert(kErrorTable.size() == static_cast<std::size_t>(ErrorCode::kInternal) + 1,
              "every ErrorCode needs a row in kErrorTable");

}  // namespace

const ErrorInfo& DescribeError(ErrorCode code) {
  auto i = static_cast<std::size_t>(code);
  return i < kErrorTable.size() ? kErrorTable[i] : kErrorTable.back();
}

std::string Status::message() const {
  return message_.empty() ? std::string(DescribeError(code_).message) : message_;
}

std::string Status::ToString() const {
  return std::string(code_name()) + ": " + message();
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  return Status(code_, std::string(context) + ": " + message());
}

}  // namespace caliper
