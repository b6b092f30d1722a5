#include "conn.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "nlohmann/json.hpp"

namespace trove::http {
namespace {

constexpr size_t kReadChunk = 16 * 1024;
constexpr size_t kWriteBuffer = 64 * 1024;  // an answer up to this size goes out in one send
// Raw body bytes a request may send beyond its decoded limit: chunk framing (a few bytes per
// chunk) and slack; the handlers check the decoded size exactly.
size_t raw_body_cap(size_t body_limit) { return body_limit + body_limit / 2 + (64u << 10); }

int ms_until(Clock::time_point t) {
  const auto d = std::chrono::duration_cast<std::chrono::milliseconds>(t - Clock::now()).count();
  return d <= 0 ? 0 : static_cast<int>(std::min<int64_t>(d, 1 << 30));
}

thread_local RequestGuard* tl_guard = nullptr;
// The run slot this worker holds (nullptr: none): GuardedServer::worker.
thread_local FairSlots* tl_run_slot = nullptr;

// Gives the run slot back before the worker may block on its peer (a slow reader or a body
// still arriving must not hold the core's slot).
void release_run_slot() {
  if (tl_run_slot) {
    tl_run_slot->release();
    tl_run_slot = nullptr;
  }
}

}  // namespace

void GuardedServer::hold_run_slot() {
  if (run_gate_ && !tl_run_slot) {
    run_gate_->acquire();
    tl_run_slot = run_gate_;
  }
}

namespace {

// httplib hands each accepted socket to a task queue; ours runs it at once on the accept
// thread, where GuardedServer::process_and_close_socket only parks it in the epoll loop.
class InlineQueue final : public httplib::TaskQueue {
 public:
  void enqueue(std::function<void()> fn) override { fn(); }
  void shutdown() override {}
};

void address_of(const sockaddr_storage& ss, std::string* ip, int* port) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    ::inet_ntop(AF_INET, &a->sin_addr, buf, sizeof buf);
    *port = ntohs(a->sin_port);
  } else if (ss.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
    ::inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof buf);
    *port = ntohs(a->sin6_port);
  }
  *ip = buf;
}

// Sends everything or gives up after `timeout_ms` without progress.
bool send_all(int fd, const char* p, size_t n, int timeout_ms, size_t* sent) {
  while (n > 0) {
    const ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w > 0) {
      p += w;
      n -= static_cast<size_t>(w);
      if (sent) *sent += static_cast<size_t>(w);
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      release_run_slot();
      pollfd pfd{fd, POLLOUT, 0};
      const int r = ::poll(&pfd, 1, timeout_ms);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return false;
      continue;
    }
    return false;
  }
  return true;
}

// Closes after an error answer without resetting the connection: the peer may still be
// sending (a body we refused), and closing with unread bytes sends an RST that can destroy
// the answer before the peer reads it. Half-close, drain a bounded amount briefly, close.
void lingering_close(int fd) {
  ::shutdown(fd, SHUT_WR);
  const auto until = Clock::now() + std::chrono::milliseconds(500);
  size_t drained = 0;
  char buf[8192];
  while (drained < (1u << 20)) {
    pollfd pfd{fd, POLLIN, 0};
    const int r = ::poll(&pfd, 1, ms_until(until));
    if (r <= 0) break;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0 && !(n < 0 && errno == EINTR)) break;
    if (n > 0) drained += static_cast<size_t>(n);
  }
  ::close(fd);
}

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
                             size_t head_len)
    : conn_(conn),
      limits_(limits),
      guard_(guard),
      head_left_(head_len),
      body_deadline_(guard.start + std::chrono::milliseconds(limits.body_timeout_ms)) {}

bool GuardedStream::fill(int timeout_ms) {
  // What was written before the request is read on goes out first: httplib writes the interim
  // "100 Continue" to an `Expect: 100-continue` request and then reads the body, which such a
  // client (curl, for bodies over 1 MiB) sends only after it, or after waiting a second.
  if (!out_.empty() && !flush()) return false;
  if (conn_.off > (64u << 10) && conn_.off * 2 > conn_.in.size()) {
    conn_.in.erase(0, conn_.off);
    conn_.off = 0;
  }
  release_run_slot();
  for (;;) {
    const int wait = std::min(timeout_ms, ms_until(body_deadline_));
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
  const bool ok = send_all(conn_.fd, out_.data(), out_.size(), limits_.write_timeout_ms, &sent);
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
                     int timeout_ms, size_t* bytes_out) {
  const std::string body =
      nlohmann::json{{"error", {{"code", code}, {"message", message}}}}.dump() + "\n";
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " +
                    std::string(reason_phrase(status)) +
                    "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\n\r\n" + body;
  send_all(fd, out.data(), out.size(), timeout_ms, bytes_out);
}

// ---- GuardedServer ----------------------------------------------------------------------------

GuardedServer::GuardedServer(const Limits& limits, RawLogger raw_logger)
    : limits_(limits), raw_logger_(std::move(raw_logger)) {
  new_task_queue = [] { return new InlineQueue; };
}

GuardedServer::~GuardedServer() { stop_all(); }

RequestGuard* GuardedServer::current() { return tl_guard; }

Status GuardedServer::start(const std::string& host, int port) {
  if (port == 0) {
    port_ = bind_to_any_port(host);
    if (port_ < 0) return Status::io_error("cannot bind " + host + " to a free port");
  } else {
    if (!bind_to_port(host, port)) {
      return Status::io_error("cannot bind " + host + ":" + std::to_string(port) +
                              " (in use, or not an address of this machine)");
    }
    port_ = port;
  }
  // httplib listens with a backlog of 5: a burst of connections would wait for SYN retries.
  ::listen(svr_sock_, 1024);
  epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
  wakefd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epfd_ < 0 || wakefd_ < 0) return Status::io_error("epoll/eventfd: " + std::string(std::strerror(errno)));
  epoll_event ev{};
  ev.events = EPOLLIN;  // level-triggered and never read: once written, it wakes every worker
  ev.data.fd = wakefd_;
  ::epoll_ctl(epfd_, EPOLL_CTL_ADD, wakefd_, &ev);

  size_t threads = limits_.threads;
  if (threads == 0) threads = std::max<size_t>(8, 4 * std::max(1u, std::thread::hardware_concurrency()));
  sweep_thread_ = std::thread([this] { sweep_loop(); });
  for (size_t i = 0; i < threads; ++i) workers_.emplace_back([this] { worker(); });
  accept_thread_ = std::thread([this] { listen_after_bind(); });
  // stop() only stops a server that is running: wait until the accept loop is.
  while (!is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return Status();
}

void GuardedServer::stop_all() {
  if (!accept_thread_.joinable() && !sweep_thread_.joinable() && workers_.empty()) return;
  stopping_ = true;
  stop();
  if (accept_thread_.joinable()) accept_thread_.join();
  if (wakefd_ >= 0) {
    const uint64_t one = 1;
    (void)!::write(wakefd_, &one, sizeof one);
  }
  sweep_cv_.notify_all();
  if (sweep_thread_.joinable()) sweep_thread_.join();
  // Workers finish the requests they hold (a connection between requests is not read again).
  for (auto& t : workers_) t.join();
  workers_.clear();
  {
    std::lock_guard lock(conns_mu_);
    for (auto& [fd, c] : conns_) close_conn(std::move(c));
    conns_.clear();
  }
  if (epfd_ >= 0) ::close(epfd_);
  if (wakefd_ >= 0) ::close(wakefd_);
  epfd_ = wakefd_ = -1;
}

bool GuardedServer::process_and_close_socket(socket_t sock) {
  if (stopping_ || open_.load() >= limits_.max_connections) {
    ++refused_;
    const int flags = ::fcntl(sock, F_GETFL, 0);
    ::fcntl(sock, F_SETFL, flags | O_NONBLOCK);
    write_raw_error(sock, 503, "unavailable",
                    stopping_ ? "the server is shutting down" : "too many open connections", 100);
    ::close(sock);
    return true;
  }
  ++open_;
  const int flags = ::fcntl(sock, F_GETFL, 0);
  ::fcntl(sock, F_SETFL, flags | O_NONBLOCK);
  const int one = 1;
  ::setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  auto c = std::make_unique<Conn>();
  c->fd = sock;
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getpeername(sock, reinterpret_cast<sockaddr*>(&ss), &len) == 0) {
    address_of(ss, &c->remote_ip, &c->remote_port);
  }
  len = sizeof ss;
  if (::getsockname(sock, reinterpret_cast<sockaddr*>(&ss), &len) == 0) {
    address_of(ss, &c->local_ip, &c->local_port);
  }
  c->deadline = Clock::now() + std::chrono::milliseconds(limits_.head_timeout_ms);
  park(std::move(c));
  return true;
}

// Hands a connection back to the epoll set: into the table first, then re-armed, so the worker
// that sees its next event finds it there.
void GuardedServer::park(std::unique_ptr<Conn> c) {
  const int fd = c->fd;
  const bool fresh = !c->armed;
  c->armed = true;
  {
    std::lock_guard lock(conns_mu_);
    conns_[fd] = std::move(c);
  }
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT;
  ev.data.fd = fd;
  ::epoll_ctl(epfd_, fresh ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev);
}

// The connection of `fd`, taken out of the table (nullptr: another thread holds it, or the
// sweeper closed it).
std::unique_ptr<Conn> GuardedServer::take(int fd) {
  std::lock_guard lock(conns_mu_);
  auto it = conns_.find(fd);
  if (it == conns_.end()) return nullptr;
  std::unique_ptr<Conn> c = std::move(it->second);
  conns_.erase(it);
  return c;
}

void GuardedServer::close_conn(std::unique_ptr<Conn> c) {
  ::close(c->fd);
  --open_;
}

void GuardedServer::answer_violation(std::unique_ptr<Conn> c, HeadVerdict v) {
  int status = 400;
  std::string_view code = "bad_request";
  std::string msg = "malformed request head";
  switch (v) {
    case HeadVerdict::kUriTooLong:
      status = 414;
      code = "uri_too_long";
      msg = "the request target is over " + std::to_string(limits_.max_uri_bytes) +
            " bytes or its query over " + std::to_string(limits_.max_query_bytes);
      break;
    case HeadVerdict::kHeadersTooLarge:
      status = 431;
      code = "headers_too_large";
      msg = "request head over the limits (" + std::to_string(limits_.max_header_line_bytes) +
            " bytes a line, " + std::to_string(limits_.max_header_bytes) + " in all, " +
            std::to_string(limits_.max_headers) + " headers)";
      break;
    case HeadVerdict::kIncomplete:  // the head deadline passed
      status = 408;
      code = "request_timeout";
      msg = "the request head did not arrive within " +
            std::to_string(limits_.head_timeout_ms) + " ms";
      break;
    default:
      break;
  }
  size_t out = 0;
  write_raw_error(c->fd, status, code, msg, limits_.write_timeout_ms, &out);
  const std::string_view head(c->in.data() + c->off, c->unconsumed());
  const std::string_view method = head.substr(0, std::min<size_t>(head.find(' '), 16));
  if (raw_logger_) raw_logger_(*c, status, method, c->unconsumed(), out);
  lingering_close(c->fd);
  --open_;
}

// Head and keep-alive deadlines. A partial head past its deadline is answered 408 here.
void GuardedServer::sweep_loop() {
  while (!stopping_) {
    {
      std::unique_lock lock(sweep_mu_);
      sweep_cv_.wait_for(lock, std::chrono::milliseconds(50), [&] { return stopping_.load(); });
    }
    if (stopping_) break;
    const auto now = Clock::now();
    std::vector<std::unique_ptr<Conn>> expired;
    {
      std::lock_guard lock(conns_mu_);
      for (auto it = conns_.begin(); it != conns_.end();) {
        if (now >= it->second->deadline) {
          expired.push_back(std::move(it->second));
          it = conns_.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (auto& c : expired) {
      ::epoll_ctl(epfd_, EPOLL_CTL_DEL, c->fd, nullptr);
      if (c->partial) {
        answer_violation(std::move(c), HeadVerdict::kIncomplete);
      } else {
        close_conn(std::move(c));
      }
    }
  }
}

// Each worker waits on the shared epoll set itself and serves the connection whose bytes
// arrived (one-shot events: one worker per connection at a time). Under load a worker goes
// from one request to the next without a hand-off to another thread.
void GuardedServer::worker() {
  epoll_event ev{};
  while (!stopping_) {
    // Leader/followers: a worker waits for connections only while it holds a run slot, and
    // keeps it from one request to the next, so on a busy core one worker serves GETs back
    // to back without a hand-off between threads; it lets go when it might block on a peer,
    // and for a POST (see serve).
    hold_run_slot();
    if (stopping_) break;  // a waiter admitted during shutdown passes the slot on at once
    const int n = ::epoll_wait(epfd_, &ev, 1, 100);
    if (n <= 0 || ev.data.fd == wakefd_) continue;
    std::unique_ptr<Conn> c = take(ev.data.fd);
    if (!c) continue;  // its holder re-arms it when it parks it
    bool eof = false;
    // Read what is there, up to enough to decide (a full head, or more than a head may be).
    while (c->unconsumed() <= limits_.max_header_bytes + kReadChunk) {
      const size_t old = c->in.size();
      c->in.resize(old + kReadChunk);
      const ssize_t r = ::recv(c->fd, c->in.data() + old, kReadChunk, 0);
      c->in.resize(old + (r > 0 ? static_cast<size_t>(r) : 0));
      if (r > 0) {
        if (static_cast<size_t>(r) < kReadChunk) break;
        continue;
      }
      if (r < 0 && errno == EINTR) continue;
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      eof = true;
      break;
    }
    size_t head_len = 0;
    const HeadVerdict v = check_head(std::string_view(c->in).substr(c->off), limits_, &head_len);
    if (v == HeadVerdict::kComplete) {
      serve(std::move(c));
    } else if (v != HeadVerdict::kIncomplete) {
      ::epoll_ctl(epfd_, EPOLL_CTL_DEL, c->fd, nullptr);
      answer_violation(std::move(c), v);
    } else if (eof) {
      ::epoll_ctl(epfd_, EPOLL_CTL_DEL, c->fd, nullptr);
      close_conn(std::move(c));
    } else {
      if (!c->partial && c->unconsumed() > 0) {
        c->partial = true;
        c->deadline = Clock::now() + std::chrono::milliseconds(limits_.head_timeout_ms);
      }
      park(std::move(c));
    }
  }
  release_run_slot();  // the next waiter sees stopping_ in turn
}

void GuardedServer::serve(std::unique_ptr<Conn> c) {
  for (;;) {
    size_t head_len = 0;
    const HeadVerdict v = check_head(std::string_view(c->in).substr(c->off), limits_, &head_len);
    if (v == HeadVerdict::kIncomplete) {
      if (stopping_) {
        ::epoll_ctl(epfd_, EPOLL_CTL_DEL, c->fd, nullptr);
        return close_conn(std::move(c));
      }
      c->partial = c->unconsumed() > 0;
      c->deadline = Clock::now() + std::chrono::milliseconds(c->partial ? limits_.head_timeout_ms
                                                                         : limits_.keep_alive_timeout_ms);
      return park(std::move(c));
    }
    if (v != HeadVerdict::kComplete) {
      ::epoll_ctl(epfd_, EPOLL_CTL_DEL, c->fd, nullptr);
      return answer_violation(std::move(c), v);
    }

    RequestGuard guard;
    guard.start = Clock::now();
    guard.body_limit = limits_.max_body_bytes;
    GuardedStream strm(*c, limits_, guard, head_len);
    const bool closing = stopping_ || c->requests + 1 >= limits_.max_requests_per_connection;
    bool connection_closed = false;
    tl_guard = &guard;
    // A GET or HEAD (no body to wait for) runs holding one of the run slots: no more
    // requests are mid-way at once than there are cores, so none is preempted half done
    // behind the others (with 8 workers time-slicing one core, p99 was 24 ms at 27 us a
    // request). POSTs may wait on their body or on a group commit: they run without one.
    const std::string_view head = std::string_view(c->in).substr(c->off, 5);
    if (head.starts_with("GET ") || head.starts_with("HEAD ")) {
      hold_run_slot();
    } else {
      release_run_slot();
    }
    const bool processed = process_request(strm, closing, connection_closed, nullptr);
    const bool ok = strm.flush() && processed;
    tl_guard = nullptr;
    ++c->requests;
    if (guard.close_after) {
      ::epoll_ctl(epfd_, EPOLL_CTL_DEL, c->fd, nullptr);
      lingering_close(c->fd);
      --open_;
      return;
    }
    if (!ok || connection_closed || closing || guard.body_too_large || guard.timed_out) {
      ::epoll_ctl(epfd_, EPOLL_CTL_DEL, c->fd, nullptr);
      return close_conn(std::move(c));
    }
    if (c->off == c->in.size()) {
      c->in.clear();
      c->off = 0;
    }
  }
}

}  // namespace trove::http
