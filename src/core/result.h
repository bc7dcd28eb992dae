// tokki/core/result.h — Result<T>: a value or a non-OK Status.
//
// REQUIRES: a Result is only constructed from a non-OK Status (an OK Status without a
// value is a bug and becomes kInternal).
#pragma once

#include <cassert>
#include <utility>
#include <variant>

#include "core/status.h"

namespace tokki {

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT: implicit by design
    if (std::get<Status>(v_).ok()) v_ = Status::Internal("Result built from an OK status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }

  // REQUIRES: !ok() for a meaningful status; returns OK when a value is held.
  Status status() const { return ok() ? Status::Ok() : std::get<Status>(v_); }

  // REQUIRES: ok()
  T& value() & { assert(ok()); return std::get<T>(v_); }
  const T& value() const& { assert(ok()); return std::get<T>(v_); }
  T&& value() && { assert(ok()); return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace tokki

#define TOKKI_CONCAT_INNER(a, b) a##b
#define TOKKI_CONCAT(a, b) TOKKI_CONCAT_INNER(a, b)
// TOKKI_ASSIGN_OR_RETURN(auto x, Foo()); — returns Foo()'s status when it failed.
#define TOKKI_ASSIGN_OR_RETURN(lhs, expr)                                   \
  auto TOKKI_CONCAT(_res_, __LINE__) = (expr);                              \
  if (!TOKKI_CONCAT(_res_, __LINE__).ok())                                  \
    return TOKKI_CONCAT(_res_, __LINE__).status();                          \
  lhs = std::move(TOKKI_CONCAT(_res_, __LINE__)).value()
