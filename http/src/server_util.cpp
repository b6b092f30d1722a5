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

namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// '+' is a space; %XX a byte; a '%' not followed by two hex digits stays as it is.
std::string form_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const int hi = s[i] == '%' && i + 2 < s.size() ? hex_digit(s[i + 1]) : -1;
    const int lo = hi >= 0 ? hex_digit(s[i + 2]) : -1;
    if (lo >= 0) {
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += s[i] == '+' ? ' ' : s[i];
    }
  }
  return out;
}

}  // namespace

QueryParams query_params(const httplib::Request& req) {
  QueryParams out;
  const size_t q = req.target.find('?');
  if (q == std::string::npos) return out;
  std::string_view rest = std::string_view(req.target).substr(q + 1);
  const size_t fragment = rest.find('#');
  if (fragment != std::string_view::npos) rest = rest.substr(0, fragment);
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    out.emplace_back(form_decode(pair.substr(0, eq)),
                     eq == std::string_view::npos ? std::string() : form_decode(pair.substr(eq + 1)));
  }
  return out;
}

bool Query::has(std::string_view name) const {
  for (const auto& p : params_) {
    if (p.first == name) return true;
  }
  return false;
}

Status Query::only(std::initializer_list<std::string_view> allowed) const {
  for (const auto& [name, value] : params_) {
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
  std::vector<std::string> given = all(name);
  if (given.empty()) return std::optional<std::string>();
  if (given.size() > 1) return Status::invalid("given more than once", "query." + name);
  std::string v = std::move(given[0]);
  if (v.size() > max_len) {
    return Status::invalid("longer than " + std::to_string(max_len) + " bytes", "query." + name);
  }
  return std::optional<std::string>(std::move(v));
}

std::vector<std::string> Query::all(const std::string& name) const {
  std::vector<std::string> out;
  for (const auto& [n, v] : params_) {
    if (n == name) out.push_back(v);
  }
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
    for (auto& piece : split_list(v)) out.push_back(std::move(piece));
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
