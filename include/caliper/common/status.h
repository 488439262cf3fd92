#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace caliper {

// Every error Caliper can report. Each code has exactly one row in the error table
// (src/common/status.cpp): a stable snake_case name, the HTTP status it maps to, and a
// default message. Add a code there and here together.
enum class ErrorCode {
  kOk = 0,
  kInvalidArgument,
  kMalformedJson,
  kUnknownField,
  kPayloadTooLarge,
  kLengthRequired,
  kNotFound,
  kAlreadyExists,
  kConflict,
  kPreconditionFailed,
  kUnauthenticated,
  kSessionExpired,
  kCsrfFailed,
  kPermissionDenied,
  kPasswordChangeRequired,
  kAccountLocked,
  kTooManyRequests,
  kWeakPassword,
  kIntegrity,
  kCryptoFailed,
  kKeyUnavailable,
  kStorage,
  kIo,
  kUnsupported,
  kUnavailable,
  kInternal,
};

struct ErrorInfo {
  ErrorCode code;
  std::string_view name;      // stable, snake_case, part of the API contract
  int http_status;            // what the HTTP layer answers with
  std::string_view message;   // default human message
};

// Looks up the one row for `code`. Never fails: every enumerator has a row.
const ErrorInfo& DescribeError(ErrorCode code);

// The outcome of an operation that can fail in an expected way. Cheap to copy when ok.
// Thread-compatible.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  // The specific message, or the table's default when none was given.
  std::string message() const;
  std::string_view code_name() const { return DescribeError(code_).name; }
  int http_status() const { return DescribeError(code_).http_status; }
  // "code_name: message", for logs and CLI output.
  std::string ToString() const;

  // Prefixes the message with context ("reading blob ab12: ...").
  Status WithContext(std::string_view context) const;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

inline Status Error(ErrorCode code, std::string message = {}) {
  return Status(code, std::move(message));
}

// A value or the Status explaining why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    if (std::get<Status>(v_).ok()) v_ = Status(ErrorCode::kInternal, "Result built from Ok status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace caliper

#define CALIPER_CONCAT_INNER_(a, b) a##b
#define CALIPER_CONCAT_(a, b) CALIPER_CONCAT_INNER_(a, b)

// Returns the Status from the enclosing function when `expr` is not ok.
#define CALIPER_RETURN_IF_ERROR(expr)              \
  do {                                             \
    ::caliper::Status caliper_status_ = (expr);    \
    if (!caliper_status_.ok()) return caliper_status_; \
  } while (0)

#define CALIPER_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                   \
  if (!tmp.ok()) return tmp.status();                  \
  lhs = std::move(tmp).value()

// `CALIPER_ASSIGN_OR_RETURN(auto x, MakeX());` declares x or returns the error.
#define CALIPER_ASSIGN_OR_RETURN(lhs, expr) \
  CALIPER_ASSIGN_OR_RETURN_IMPL_(CALIPER_CONCAT_(caliper_result_, __LINE__), lhs, expr)
