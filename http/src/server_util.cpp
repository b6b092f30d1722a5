// Answers and query parameters shared by the handlers.
#include <charconv>

#include "core.h"

namespace trove::http {

std::string_view reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    default: return "Error";
  }
}

void send_json(httplib::Response& res, const nlohmann::json& body, int status) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n",
                  "application/json");
}

void send_error(httplib::Response& res, int status, std::string_view code,
                std::string_view message, std::string_view path) {
  nlohmann::json err = {{"code", code}, {"message", message}};
  if (!path.empty()) err["path"] = path;
  send_json(res, {{"error", err}}, status);
}

void close_after(httplib::Response& res) {
  if (RequestGuard* g = GuardedServer::current()) g->close_after = true;
  res.set_header("Connection", "close");
}

void send_status(httplib::Response& res, const Status& st) {
  switch (st.code()) {
    case StatusCode::kOk:
      send_json(res, nlohmann::json::object());
      return;
    case StatusCode::kInvalidArgument:
      send_error(res, 400, "invalid_argument", st.message(), st.path());
      return;
    case StatusCode::kNotFound:
      send_error(res, 404, "not_found", st.message(), st.path());
      return;
    case StatusCode::kAlreadyExists:
      send_error(res, 409, "already_exists", st.message(), st.path());
      return;
    case StatusCode::kResourceExhausted:
      send_error(res, 429, "resource_exhausted", st.message());
      return;
    case StatusCode::kUnavailable:
      send_error(res, 503, "unavailable", st.message());
      return;
    case StatusCode::kIOError:
      send_error(res, 503, "unavailable", "storage unavailable; see the server's error log");
      return;
    default:
      send_error(res, 500, "internal", "internal error; see the server's error log");
      return;
  }
}

Status Query::only(std::initializer_list<std::string_view> allowed) const {
  for (const auto& [name, value] : req_.params) {
    bool known = false;
    for (auto a : allowed) known = known || a == name;
    if (!known) {
      std::string list;
      for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      return Status::invalid(list.empty() ? "this route takes no parameters"
                                          : "unknown parameter; expected one of: " + list,
                             "query." + name.substr(0, 64));
    }
  }
  return Status();
}

Result<std::optional<std::string>> Query::text(const std::string& name, size_t max_len) const {
  const size_t n = req_.get_param_value_count(name);
  if (n == 0) return std::optional<std::string>();
  if (n > 1) return Status::invalid("given more than once", "query." + name);
  std::string v = req_.get_param_value(name);
  if (v.size() > max_len) {
    return Status::invalid("longer than " + std::to_string(max_len) + " bytes", "query." + name);
  }
  return std::optional<std::string>(std::move(v));
}

std::vector<std::string> Query::all(const std::string& name) const {
  std::vector<std::string> out;
  const size_t n = req_.get_param_value_count(name);
  for (size_t i = 0; i < n; ++i) out.push_back(req_.get_param_value(name, i));
  return out;
}

Result<int64_t> Query::integer(const std::string& name, int64_t def, int64_t lo,
                               int64_t hi) const {
  auto t = text(name, 32);
  if (!t.ok()) return t.status();
  if (!t->has_value()) return def;
  const std::string& s = **t;
  int64_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  const std::string range = std::to_string(lo) + ".." + std::to_string(hi);
  if (ec != std::errc() || p != s.data() + s.size()) {
    return Status::invalid("expected an integer in " + range, "query." + name);
  }
  if (v < lo || v > hi) return Status::invalid("expected an integer in " + range, "query." + name);
  return v;
}

std::vector<std::string> split_commas(const std::vector<std::string>& values) {
  std::vector<std::string> out;
  for (const auto& v : values) {
    size_t pos = 0;
    while (pos <= v.size()) {
      size_t end = v.find(',', pos);
      if (end == std::string::npos) end = v.size();
      if (end > pos) out.push_back(v.substr(pos, end - pos));
      pos = end + 1;
    }
  }
  return out;
}

Result<bool> Query::boolean(const std::string& name, bool def) const {
  auto t = text(name, 8);
  if (!t.ok()) return t.status();
  if (!t->has_value()) return def;
  if (**t == "true" || **t == "1") return true;
  if (**t == "false" || **t == "0") return false;
  return Status::invalid("expected true or false", "query." + name);
}

}  // namespace trove::http
