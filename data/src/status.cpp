#include "trove/data/status.h"

namespace trove {

std::string_view status_code_name(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kInvalidArgument: return "invalid_argument";
    case StatusCode::kNotFound: return "not_found";
    case StatusCode::kAlreadyExists: return "already_exists";
    case StatusCode::kCorruption: return "corruption";
    case StatusCode::kIOError: return "io_error";
    case StatusCode::kUnavailable: return "unavailable";
    case StatusCode::kResourceExhausted: return "resource_exhausted";
    case StatusCode::kInternal: return "internal";
  }
  return "unknown";
}

Status::Status(StatusCode code, std::string msg, std::string path) {
  if (code != StatusCode::kOk) {
    rep_ = std::make_shared<const Rep>(Rep{code, std::move(msg), std::move(path)});
  }
}

const std::string& Status::message() const {
  static const std::string kOkMessage = "OK";
  return rep_ ? rep_->message : kOkMessage;
}

const std::string& Status::path() const {
  static const std::string kEmpty;
  return rep_ ? rep_->path : kEmpty;
}

std::string Status::to_string() const {
  if (!rep_) return "OK";
  if (rep_->path.empty()) return rep_->message;
  return rep_->path + ": " + rep_->message;
}

Status Status::with_context(std::string_view prefix) const {
  if (!rep_) return *this;
  std::string path(prefix);
  if (!rep_->path.empty()) {
    path += rep_->path.front() == '[' ? "" : ": ";
    path += rep_->path;
  }
  return Status(rep_->code, rep_->message, std::move(path));
}

}  // namespace trove
