// tokki/core/status.h — errors as values between modules.
//
// Every fallible call across a module boundary returns a Status (or a Result<T>, see
// result.h). No exception leaves a module. The api module maps a Status to an HTTP status
// in exactly one place (api/errors.cc).
//
// Thread safety: Status is a plain value type.
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace tokki {

class [[nodiscard]] Status {
 public:
  enum class Code {
    kOk = 0,
    kInvalidArgument,    // bad input from the caller (400)
    kUnauthenticated,    // no or bad credentials (401)
    kPermissionDenied,   // known caller, not allowed (403)
    kNotFound,           // unknown id, or another user's private thing (404)
    kAlreadyExists,      // unique constraint (409)
    kConflict,           // state does not allow it now (409)
    kTooLarge,           // body, file or field over its limit (413)
    kResourceExhausted,  // rate limited (429)
    kUnavailable,        // saturated or backend down; retry later (503)
    kCancelled,          // the caller stopped it
    kCorruption,         // stored data does not parse
    kInternal,           // a bug or an unexpected library failure (500)
  };

  Status() = default;  // OK
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
  static Status Unauthenticated(std::string m) { return {Code::kUnauthenticated, std::move(m)}; }
  static Status PermissionDenied(std::string m) { return {Code::kPermissionDenied, std::move(m)}; }
  static Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {Code::kAlreadyExists, std::move(m)}; }
  static Status Conflict(std::string m) { return {Code::kConflict, std::move(m)}; }
  static Status TooLarge(std::string m) { return {Code::kTooLarge, std::move(m)}; }
  static Status ResourceExhausted(std::string m) { return {Code::kResourceExhausted, std::move(m)}; }
  static Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
  static Status Cancelled(std::string m) { return {Code::kCancelled, std::move(m)}; }
  static Status Corruption(std::string m) { return {Code::kCorruption, std::move(m)}; }
  static Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsInvalidArgument() const { return code_ == Code::kInvalidArgument; }

  // "not_found: character 12 does not exist"
  std::string ToString() const;

  // Returns a copy whose message is "context: message".
  Status WithContext(std::string_view context) const;

  // For kResourceExhausted / kUnavailable: seconds after which a retry may succeed (the
  // API's Retry-After header); 0 = unknown.
  int retry_after_s() const { return retry_after_s_; }
  Status WithRetryAfter(int seconds) const {
    Status s = *this;
    s.retry_after_s_ = seconds;
    return s;
  }

 private:
  Code code_ = Code::kOk;
  std::string message_;
  int retry_after_s_ = 0;
};

// snake_case name of a code, e.g. "invalid_argument".
std::string_view CodeName(Status::Code code);

}  // namespace tokki

// Returns early from the calling function when `expr` is not OK.
#define TOKKI_RETURN_IF_ERROR(expr)        \
  do {                                     \
    ::tokki::Status _st = (expr);          \
    if (!_st.ok()) return _st;             \
  } while (0)
