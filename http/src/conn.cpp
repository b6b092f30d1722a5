#include "conn.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "conn_io.h"
#include "nlohmann/json.hpp"

namespace trove::http {

using conn_io::kReadChunk;
using conn_io::ms_until;

namespace {

constexpr size_t kWriteBuffer = 64 * 1024;  // an answer up to this size goes out in one send
// Raw body bytes a request may send beyond its decoded limit: chunk framing (a few bytes per
// chunk) and slack; the handlers check the decoded size exactly.
size_t raw_body_cap(size_t body_limit) { return body_limit + body_limit / 2 + (64u << 10); }

}  // namespace

std::string_view reason_phrase(int status);  // server_util.cpp

HeadVerdict check_head(std::string_view b, const Limits& L, size_t* head_len) {
  const size_t max_request_line = L.max_uri_bytes + 64;  // method, spaces, version, CRLF
  size_t line_start = 0;
  size_t lines = 0;
  for (size_t i = 0; i < b.size(); ++i) {
    if (b[i] != '\n') continue;
    const size_t len = i + 1 - line_start;
    const std::string_view line = b.substr(line_start, len);
    if (lines == 0) {
      if (len > max_request_line) return HeadVerdict::kUriTooLong;
      const size_t sp1 = line.find(' ');
      const size_t sp2 = line.rfind(' ');
      if (sp1 == std::string_view::npos || sp2 <= sp1) return HeadVerdict::kBadRequest;
      const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
      if (target.size() > L.max_uri_bytes) return HeadVerdict::kUriTooLong;
      const size_t q = target.find('?');
      if (q != std::string_view::npos && target.size() - q - 1 > L.max_query_bytes) {
        return HeadVerdict::kUriTooLong;
      }
    } else {
      if (line == "\r\n") {
        *head_len = i + 1;
        return *head_len > L.max_header_bytes ? HeadVerdict::kHeadersTooLarge
                                              : HeadVerdict::kComplete;
      }
      if (len > L.max_header_line_bytes) return HeadVerdict::kHeadersTooLarge;
    }
    if (++lines > L.max_headers + 1) return HeadVerdict::kHeadersTooLarge;
    line_start = i + 1;
  }
  const size_t partial = b.size() - line_start;
  if (lines == 0 && partial > max_request_line) return HeadVerdict::kUriTooLong;
  if (lines > 0 && partial > L.max_header_line_bytes) return HeadVerdict::kHeadersTooLarge;
  if (b.size() > L.max_header_bytes) return HeadVerdict::kHeadersTooLarge;
  return HeadVerdict::kIncomplete;
}

// ---- GuardedStream ----------------------------------------------------------------------------

GuardedStream::GuardedStream(Conn& conn, const Limits& limits, RequestGuard& guard,
                             size_t head_len, bool chunked)
    : conn_(conn),
      limits_(limits),
      guard_(guard),
      head_left_(head_len),
      body_deadline_(guard.start + std::chrono::milliseconds(limits.body_timeout_ms)) {
  if (chunked) framing_.emplace();
}

// A streamed body must average min_body_bytes_per_second once the grace has passed: the time
// left before what has arrived falls below that.
int GuardedStream::rate_wait_ms() const {
  const size_t rate = limits_.min_body_bytes_per_second;
  if (rate == 0) return -1;
  const auto due = guard_.start + std::chrono::milliseconds(limits_.min_body_rate_grace_ms) +
                   std::chrono::milliseconds(guard_.raw_body_bytes * 1000 / rate);
  return ms_until(due);
}

bool GuardedStream::fill(int timeout_ms) {
  // What was written before the request is read on goes out first: httplib writes the interim
  // "100 Continue" to an `Expect: 100-continue` request and then reads the body, which such a
  // client (curl, for bodies over 1 MiB) sends only after it, or after waiting a second.
  if (!out_.empty() && !flush()) return false;
  if (conn_.off > (64u << 10) && conn_.off * 2 > conn_.in.size()) {
    conn_.in.erase(0, conn_.off);
    conn_.off = 0;
  }
  conn_io::release_run_slot();
  for (;;) {
    int wait = std::min(timeout_ms, ms_until(body_deadline_));
    const int rate_wait = rate_wait_ms();
    if (rate_wait >= 0) wait = std::min(wait, rate_wait);
    pollfd pfd{conn_.fd, POLLIN, 0};
    const int r = ::poll(&pfd, 1, wait);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) {
      guard_.timed_out = true;
      return false;
    }
    if (r < 0) return false;
    const size_t old = conn_.in.size();
    conn_.in.resize(old + kReadChunk);
    const ssize_t n = ::recv(conn_.fd, conn_.in.data() + old, kReadChunk, 0);
    conn_.in.resize(old + (n > 0 ? static_cast<size_t>(n) : 0));
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) return false;
  }
}

ssize_t GuardedStream::read(char* ptr, size_t size) {
  if (guard_.body_too_large || guard_.timed_out) return -1;
  if (conn_.unconsumed() == 0 && !fill(limits_.read_timeout_ms)) {
    return guard_.timed_out ? -1 : 0;
  }
  size_t n = std::min(size, conn_.unconsumed());
  const size_t from_head = std::min(n, head_left_);
  head_left_ -= from_head;
  const size_t body = n - from_head;
  if (body > 0) {
    guard_.raw_body_bytes += body;
    if (guard_.raw_body_bytes > raw_body_cap(guard_.body_limit)) {
      guard_.body_too_large = true;
      guard_.close_after = true;
      return -1;
    }
    if (framing_ && !framing_->feed(conn_.in.data() + conn_.off + from_head, body)) {
      guard_.framing_error = framing_->error();
      guard_.close_after = true;
      return -1;
    }
  }
  std::memcpy(ptr, conn_.in.data() + conn_.off, n);
  conn_.off += n;
  guard_.bytes_in += n;
  return static_cast<ssize_t>(n);
}

// An answer is buffered and sent with one send() (httplib writes its head and its body
// separately: two sends woke the client twice); flush() sends the rest after the request, or
// before fill() waits for more of it.
ssize_t GuardedStream::write(const char* ptr, size_t size) {
  if (failed_) return -1;
  out_.append(ptr, size);
  guard_.bytes_out += size;
  if (out_.size() >= kWriteBuffer && !flush()) return -1;
  return static_cast<ssize_t>(size);
}

bool GuardedStream::flush() {
  if (failed_) return false;
  if (out_.empty()) return true;
  size_t sent = 0;
  const bool ok =
      conn_io::send_all(conn_.fd, out_.data(), out_.size(), limits_.write_timeout_ms, &sent);
  out_.clear();
  if (!ok) {
    failed_ = true;
    guard_.close_after = true;
    return false;
  }
  return true;
}

bool GuardedStream::is_readable() const {
  if (conn_.unconsumed() > 0) return true;
  pollfd pfd{conn_.fd, POLLIN, 0};
  return ::poll(&pfd, 1, limits_.read_timeout_ms) > 0;
}

bool GuardedStream::is_writable() const {
  if (out_.size() < kWriteBuffer) return true;  // the buffer takes it
  pollfd pfd{conn_.fd, POLLOUT, 0};
  return ::poll(&pfd, 1, limits_.write_timeout_ms) > 0;
}

void GuardedStream::get_remote_ip_and_port(std::string& ip, int& port) const {
  ip = conn_.remote_ip;
  port = conn_.remote_port;
}
void GuardedStream::get_local_ip_and_port(std::string& ip, int& port) const {
  ip = conn_.local_ip;
  port = conn_.local_port;
}

void write_raw_error(int fd, int status, std::string_view code, std::string_view message,
                     int timeout_ms, size_t* bytes_out,
                     const std::vector<std::pair<std::string, std::string>>& headers,
                     bool close) {
  const std::string body =
      nlohmann::json{{"error", {{"code", code}, {"message", message}}}}.dump() + "\n";
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " +
                    std::string(reason_phrase(status)) + "\r\n";
  for (const auto& [name, value] : headers) out += name + ": " + value + "\r\n";
  out += close ? "Connection: close\r\n" : "";
  out += "Content-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
  conn_io::send_all(fd, out.data(), out.size(), timeout_ms, bytes_out);
}

}  // namespace trove::http
