// Status and Result<T>: how every Trove module reports an expected failure (bad input, a
// missing entity, I/O, corruption) as a value. No exception crosses a module API.
//
// A Status is either OK (no allocation) or a code plus a message and, for input errors, the
// path of the offending field (`user.visitor_id`, `lines[2].quantity`, `line 14`). Only
// http/ maps codes to HTTP statuses.
//
//   Result<Event> r = parse_event(json);
//   if (!r.ok()) return r.status();          // propagate
//   const Event& e = r.value();
//
// Thread-safety: values; const methods are safe to call concurrently.
#pragma once

#include <cassert>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace trove {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,   // bad input: the path names the field, the message says what was expected
  kNotFound,
  kAlreadyExists,
  kCorruption,        // stored data failed a checksum or a format check
  kIOError,           // the OS refused a read, write or fsync
  kUnavailable,       // not ready or shut down; try again later
  kResourceExhausted, // a configured limit was hit
  kInternal,
};

std::string_view status_code_name(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  static Status ok_status() { return Status(); }
  static Status invalid(std::string msg, std::string path = {}) {
    return Status(StatusCode::kInvalidArgument, std::move(msg), std::move(path));
  }
  static Status not_found(std::string msg) { return Status(StatusCode::kNotFound, std::move(msg)); }
  static Status corruption(std::string msg) {
    return Status(StatusCode::kCorruption, std::move(msg));
  }
  static Status io_error(std::string msg) { return Status(StatusCode::kIOError, std::move(msg)); }
  static Status unavailable(std::string msg) {
    return Status(StatusCode::kUnavailable, std::move(msg));
  }
  static Status exhausted(std::string msg) {
    return Status(StatusCode::kResourceExhausted, std::move(msg));
  }
  static Status internal(std::string msg) { return Status(StatusCode::kInternal, std::move(msg)); }

  Status(StatusCode code, std::string msg, std::string path = {});

  bool ok() const { return rep_ == nullptr; }
  StatusCode code() const { return rep_ ? rep_->code : StatusCode::kOk; }
  const std::string& message() const;
  // The field path ("user.visitor_id") or location ("line 14") the error is about; may be empty.
  const std::string& path() const;
  // "path: message" (or just the message when there is no path); "OK" when ok.
  std::string to_string() const;

  // Returns a copy whose path is `prefix` joined in front of this one ("line 3" + "user.id").
  Status with_context(std::string_view prefix) const;

 private:
  struct Rep {
    StatusCode code;
    std::string message;
    std::string path;
  };
  std::shared_ptr<const Rep> rep_;  // null = OK; shared so copies are cheap
};

// A value or an error Status. REQUIRES: value() only when ok().
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    assert(!status_.ok());
  }
  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & {
    assert(ok());
    return *value_;
  }
  const T& value() const& {
    assert(ok());
    return *value_;
  }
  T&& value() && {
    assert(ok());
    return std::move(*value_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace trove

// Propagates a non-OK Status out of the enclosing function.
#define TROVE_RETURN_IF_ERROR(expr)          \
  do {                                       \
    ::trove::Status trove_status_ = (expr);  \
    if (!trove_status_.ok()) return trove_status_; \
  } while (0)
