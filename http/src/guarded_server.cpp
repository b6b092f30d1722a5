// GuardedServer: accepting, the epoll stage (heads, admission, bodies awaited, draining), the
// workers, the sweeper and the orderly stop. See conn.h for the stages.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstring>

#include "client_address.h"
#include "conn.h"
#include "conn_io.h"

namespace trove::http {

using conn_io::kReadChunk;
using conn_io::ms_until;

namespace {

// After an answer that leaves body bytes unread: how long and how much is drained before the
// close (a close with unread bytes sends a reset that can destroy the answer in flight).
constexpr int kDrainMs = 500;
constexpr size_t kDrainBytes = 1u << 20;

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

// Reads and drops what is waiting, without blocking. True at end of stream or on an error.
bool discard_available(int fd, size_t* total) {
  char buf[8192];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) {
      *total += static_cast<size_t>(n);
      if (*total > kDrainBytes) return true;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return !(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
  }
}

// An answer to a connection no worker will serve (over a cap): written, then closed without a
// reset for what the client already sent.
void refuse_socket(int fd, std::string_view message) {
  write_raw_error(fd, 503, "unavailable", message, 100);
  ::shutdown(fd, SHUT_WR);
  size_t dropped = 0;
  discard_available(fd, &dropped);
  ::close(fd);
}

bool is_read_method(std::string_view method) { return method == "GET" || method == "HEAD"; }

// Debian's cpp-httplib (a shared library, not built with ThreadSanitizer) builds
// function-local static regexes the first time it parses a request (its request line, a
// Range header). Two workers' first requests at once had the second read what the first built
// with no synchronisation TSan can see (the static's guard is checked inside the library): a
// data race reported by `make test-tsan` in libcpp-httplib's regex code. Parsing one request on
// a throw-away Server before any worker exists builds them on the starting thread, ordered
// before every worker by the thread's start.
void build_library_statics() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct Parser : httplib::Server {
      void parse_one() {
        httplib::detail::BufferStream s;
        const std::string request = "GET / HTTP/1.1\r\nHost: x\r\nRange: bytes=0-1\r\n\r\n";
        s.write(request.data(), request.size());
        bool closed = false;
        (void)process_request(s, true, closed, nullptr);
      }
    };
    Parser().parse_one();
  });
}

}  // namespace

void GuardedServer::hold_run_slot() {
  if (run_gate_ && !conn_io::tl_run_slot) {
    run_gate_->acquire();
    conn_io::tl_run_slot = run_gate_;
  }
}

GuardedServer::GuardedServer(const Limits& limits, RawLogger raw_logger, HeadAdmitter admitter)
    : limits_(limits), raw_logger_(std::move(raw_logger)), admitter_(std::move(admitter)) {
  new_task_queue = [] { return new InlineQueue; };
}

GuardedServer::~GuardedServer() { stop_all(); }

RequestGuard* GuardedServer::current() { return conn_io::tl_guard; }

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
  if (epfd_ < 0 || wakefd_ < 0) {
    return Status::io_error("epoll/eventfd: " + std::string(std::strerror(errno)));
  }
  epoll_event ev{};
  ev.events = EPOLLIN;  // level-triggered and never read: once written, it wakes every worker
  ev.data.fd = wakefd_;
  ::epoll_ctl(epfd_, EPOLL_CTL_ADD, wakefd_, &ev);

  size_t threads = limits_.threads;
  if (threads == 0) {
    threads = std::max<size_t>(8, 4 * std::max(1u, std::thread::hardware_concurrency()));
  }
  if (limits_.max_streamed_bodies == 0)
    limits_.max_streamed_bodies = std::max<size_t>(1, threads / 2);
  build_library_statics();
  sweep_thread_ = std::thread([this] { sweep_loop(); });
  for (size_t i = 0; i < threads; ++i) workers_.emplace_back([this] { worker(); });
  accept_thread_ = std::thread([this] { listen_after_bind(); });
  // stop() only stops a server that is running: wait until the accept loop is.
  while (!is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return Status();
}

bool GuardedServer::listen_backlog_empty() const {
  const int fd = svr_sock_.load();
  if (fd < 0) return true;
  pollfd pfd{fd, POLLIN, 0};
  return ::poll(&pfd, 1, 0) <= 0;
}

// In order: no new request starts (each is answered 503); connections the kernel completed
// but nobody accepted yet are accepted and answered too (closing the listening socket would
// reset them); requests being processed finish; then the workers go and the connections left
// close, a request already sent on one answered 503.
void GuardedServer::stop_all() {
  if (!accept_thread_.joinable() && !sweep_thread_.joinable() && workers_.empty()) return;
  stopping_ = true;
  const auto give_up = Clock::now() + std::chrono::seconds(1);
  while (!listen_backlog_empty() && Clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  stop();
  if (accept_thread_.joinable()) accept_thread_.join();
  quit_ = true;
  if (wakefd_ >= 0) {
    const uint64_t one = 1;
    (void)!::write(wakefd_, &one, sizeof one);
  }
  sweep_cv_.notify_all();
  if (sweep_thread_.joinable()) sweep_thread_.join();
  for (auto& t : workers_) t.join();
  workers_.clear();
  std::unordered_map<int, std::unique_ptr<Conn>> left;
  {
    std::lock_guard lock(conns_mu_);
    left.swap(conns_);
  }
  for (auto& [fd, c] : left) final_close(std::move(c));
  if (epfd_ >= 0) ::close(epfd_);
  if (wakefd_ >= 0) ::close(wakefd_);
  epfd_ = wakefd_ = -1;
}

void GuardedServer::final_close(std::unique_ptr<Conn> c) {
  if (!c->draining) {
    bool eof = false;
    read_available(*c, &eof);
    if (c->unconsumed() > 0) {
      write_raw_error(c->fd, 503, "unavailable", "the server is shutting down", 100, nullptr,
                      {{"Retry-After", "1"}});
      ::shutdown(c->fd, SHUT_WR);
    }
  }
  discard_available(c->fd, &c->drained);
  close_conn(std::move(c));
}

bool GuardedServer::process_and_close_socket(socket_t sock) {
  const int flags = ::fcntl(sock, F_GETFL, 0);
  ::fcntl(sock, F_SETFL, flags | O_NONBLOCK);
  auto c = std::make_unique<Conn>();
  c->fd = sock;
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getpeername(sock, reinterpret_cast<sockaddr*>(&ss), &len) == 0) {
    address_of(ss, &c->remote_ip, &c->remote_port);
    c->client = client_address(ss);
  }
  if (open_.load() >= limits_.max_connections) {
    ++refused_;
    refuse_socket(sock, "too many open connections");
    return true;
  }
  {
    std::lock_guard lock(addr_mu_);
    AddressUse& use = by_address_[c->client];
    if (limits_.max_connections_per_address > 0 &&
        use.conns >= limits_.max_connections_per_address) {
      if (use.conns == 0) by_address_.erase(c->client);
      ++refused_;
      refuse_socket(sock, "too many open connections from this address");
      return true;
    }
    ++use.conns;
  }
  ++open_;
  const int one = 1;
  ::setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  len = sizeof ss;
  if (::getsockname(sock, reinterpret_cast<sockaddr*>(&ss), &len) == 0) {
    address_of(ss, &c->local_ip, &c->local_port);
  }
  c->deadline = Clock::now() + std::chrono::milliseconds(limits_.head_timeout_ms);
  park(std::move(c));
  return true;
}

// Hands a connection back to the epoll set: into the table first, then re-armed, so the worker
// that sees its next event finds it there. Both under the table's lock: once the connection is
// in the table the sweeper may take and close it, and an epoll_ctl after that would re-arm a
// closed descriptor, or one the next accepted connection was given (ThreadSanitizer reported
// the close racing the re-arm under tsan_load.sh).
void GuardedServer::park(std::unique_ptr<Conn> c) {
  const int fd = c->fd;
  const bool fresh = !c->armed;
  c->armed = true;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT;
  ev.data.fd = fd;
  std::lock_guard lock(conns_mu_);
  conns_[fd] = std::move(c);
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

// The one place a connection ends (closing the socket also takes it out of the epoll set).
void GuardedServer::close_conn(std::unique_ptr<Conn> c) {
  release_body(*c);
  {
    std::lock_guard lock(addr_mu_);
    auto it = by_address_.find(c->client);
    if (it != by_address_.end() && --it->second.conns == 0) by_address_.erase(it);
  }
  ::close(c->fd);
  --open_;
}

bool GuardedServer::reserve_body(Conn& c, std::string* why) {
  if (c.admission.stream_body) {
    std::lock_guard lock(addr_mu_);
    AddressUse& use = by_address_[c.client];
    const size_t per_address = std::max<size_t>(1, limits_.max_streamed_bodies / 2);
    if (streams_ >= limits_.max_streamed_bodies) {
      *why = "too many bulk bodies are being received; retry later";
      return false;
    }
    if (use.streams >= per_address) {
      *why = "too many bulk bodies from this address at once; retry later";
      return false;
    }
    ++streams_;
    ++use.streams;
    c.streaming = true;
    return true;
  }
  const size_t body = c.ready_at - c.head_len;
  if (body == 0) return true;
  if (buffered_.fetch_add(body) + body > limits_.max_buffered_body_bytes) {
    buffered_.fetch_sub(body);
    *why = "too many request bodies are being received; retry later";
    return false;
  }
  c.reserved = body;
  return true;
}

void GuardedServer::release_body(Conn& c) {
  if (c.reserved > 0) {
    buffered_.fetch_sub(c.reserved);
    c.reserved = 0;
  }
  if (c.streaming) {
    std::lock_guard lock(addr_mu_);
    --streams_;
    auto it = by_address_.find(c.client);
    if (it != by_address_.end()) --it->second.streams;
    c.streaming = false;
  }
}

void GuardedServer::refuse(std::unique_ptr<Conn> c, int status, std::string_view code,
                           std::string_view message,
                           const std::vector<std::pair<std::string, std::string>>& headers) {
  size_t out = 0;
  write_raw_error(c->fd, status, code, message, limits_.write_timeout_ms, &out, headers);
  const std::string_view head(c->in.data() + c->off, c->unconsumed());
  const std::string_view method = head.substr(0, std::min<size_t>(head.find(' '), 16));
  if (raw_logger_) raw_logger_(*c, status, method, c->unconsumed(), out);
  drain(std::move(c));
}

void GuardedServer::drain(std::unique_ptr<Conn> c) {
  ::shutdown(c->fd, SHUT_WR);
  release_body(*c);
  c->admitted = false;
  c->draining = true;
  c->in.clear();
  c->off = 0;
  c->deadline = Clock::now() + std::chrono::milliseconds(kDrainMs);
  keep_draining(std::move(c));
}

void GuardedServer::keep_draining(std::unique_ptr<Conn> c) {
  if (discard_available(c->fd, &c->drained)) return close_conn(std::move(c));
  park(std::move(c));
}

void GuardedServer::answer_violation(std::unique_ptr<Conn> c, HeadVerdict v) {
  switch (v) {
    case HeadVerdict::kUriTooLong:
      return refuse(std::move(c), 414, "uri_too_long",
                    "the request target is over " + std::to_string(limits_.max_uri_bytes) +
                        " bytes or its query over " + std::to_string(limits_.max_query_bytes));
    case HeadVerdict::kHeadersTooLarge:
      return refuse(std::move(c), 431, "headers_too_large",
                    "request head over the limits (" +
                        std::to_string(limits_.max_header_line_bytes) + " bytes a line, " +
                        std::to_string(limits_.max_header_bytes) + " in all, " +
                        std::to_string(limits_.max_headers) + " headers)");
    case HeadVerdict::kIncomplete: {  // a deadline passed
      const bool body = c->admitted;
      return refuse(
          std::move(c), 408, "request_timeout",
          std::string(body ? "the request body" : "the request head") + " did not arrive within " +
              std::to_string(body ? limits_.body_timeout_ms : limits_.head_timeout_ms) + " ms");
    }
    default:
      return refuse(std::move(c), 400, "bad_request", "malformed request head");
  }
}

// Head, body and keep-alive deadlines. A request past its deadline is answered 408 here.
void GuardedServer::sweep_loop() {
  while (!quit_) {
    {
      std::unique_lock lock(sweep_mu_);
      sweep_cv_.wait_for(lock, std::chrono::milliseconds(50), [&] { return quit_.load(); });
    }
    if (quit_) break;
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
      if (c->partial && !c->draining) {
        answer_violation(std::move(c), HeadVerdict::kIncomplete);
      } else {
        close_conn(std::move(c));
      }
    }
  }
}

// Reads what is there without blocking, up to enough to decide: a full head (or more than a
// head may be), or the buffered body the admitted request waits for.
void GuardedServer::read_available(Conn& c, bool* eof) {
  const size_t want = std::max(c.admitted ? c.ready_at : 0, limits_.max_header_bytes) + kReadChunk;
  while (c.unconsumed() <= want) {
    const size_t old = c.in.size();
    c.in.resize(old + kReadChunk);
    const ssize_t r = ::recv(c.fd, c.in.data() + old, kReadChunk, 0);
    c.in.resize(old + (r > 0 ? static_cast<size_t>(r) : 0));
    if (r > 0) {
      if (static_cast<size_t>(r) < kReadChunk) break;
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    *eof = true;
    break;
  }
}

GuardedServer::Stage GuardedServer::advance(std::unique_ptr<Conn>& c) {
  while (!c->admitted) {
    if (stopping_ && c->unconsumed() > 0) {
      refuse(std::move(c), 503, "unavailable", "the server is shutting down",
             {{"Retry-After", "1"}});
      return Stage::kAnswered;
    }
    size_t head_len = 0;
    const HeadVerdict v = check_head(std::string_view(c->in).substr(c->off), limits_, &head_len);
    if (v == HeadVerdict::kIncomplete) {
      if (!c->partial && c->unconsumed() > 0) {
        c->partial = true;
        c->deadline = Clock::now() + std::chrono::milliseconds(limits_.head_timeout_ms);
      }
      return Stage::kNeedMore;
    }
    if (v != HeadVerdict::kComplete) {
      answer_violation(std::move(c), v);
      return Stage::kAnswered;
    }
    RequestHead head;
    if (auto err = parse_request_head(std::string_view(c->in).substr(c->off, head_len), &head)) {
      const std::string_view code = err->status == 501   ? "not_implemented"
                                    : err->status == 417 ? "expectation_failed"
                                                         : "bad_request";
      refuse(std::move(c), err->status, code, err->message);
      return Stage::kAnswered;
    }
    Admission a = admitter_ ? admitter_(head, *c) : Admission{};
    if (a.status != 0) {
      if (!refuse_and_go_on(c, head, head_len, std::move(a))) return Stage::kAnswered;
      continue;  // the next request on the connection, if it has arrived
    }
    admit(*c, head, head_len, std::move(a));
    std::string why;
    if (!reserve_body(*c, &why)) {
      refuse(std::move(c), 503, "overloaded", why, {{"Retry-After", "1"}});
      return Stage::kAnswered;
    }
    if (head.expect_continue && !c->admission.stream_body && c->unconsumed() < c->ready_at) {
      static constexpr std::string_view k100 = "HTTP/1.1 100 Continue\r\n\r\n";
      conn_io::send_all(c->fd, k100.data(), k100.size(), limits_.write_timeout_ms, nullptr);
    }
    c->partial = true;
    c->deadline = Clock::now() + std::chrono::milliseconds(limits_.body_timeout_ms);
  }
  return c->unconsumed() < c->ready_at ? Stage::kNeedMore : Stage::kReady;
}

// A refusal keeps the connection when nothing of the request is left to read (no body, or a
// Content-Length body that has already arrived and is skipped), so a client refused 401 or
// 429 does not reconnect for its next request. Otherwise the connection closes without
// waiting for the body. False: `c` was handed to drain().
bool GuardedServer::refuse_and_go_on(std::unique_ptr<Conn>& c, const RequestHead& head,
                                     size_t head_len, Admission a) {
  const size_t body = head.content_length.value_or(0);
  const bool whole = !head.chunked && c->unconsumed() >= head_len + body;
  const bool keep = whole && !stopping_ && c->requests + 1 < limits_.max_requests_per_connection &&
                    head.keep_alive();
  auto headers = a.headers;
  if (!a.request_id.empty()) headers.emplace_back("X-Request-Id", a.request_id);
  c->admission = std::move(a);  // its request id is logged
  if (!keep) {
    refuse(std::move(c), c->admission.status, c->admission.code, c->admission.message, headers);
    return false;
  }
  size_t out = 0;
  write_raw_error(c->fd, c->admission.status, c->admission.code, c->admission.message,
                  limits_.write_timeout_ms, &out, headers, /*close=*/false);
  if (raw_logger_) raw_logger_(*c, c->admission.status, head.method, head_len + body, out);
  c->admission = Admission{};
  c->off += head_len + body;
  if (c->off == c->in.size()) {
    c->in.clear();
    c->off = 0;
  } else if (c->off > (64u << 10)) {
    c->in.erase(0, c->off);
    c->off = 0;
  }
  ++c->requests;
  c->partial = false;
  c->deadline = Clock::now() + std::chrono::milliseconds(limits_.keep_alive_timeout_ms);
  return true;
}

// Records what admission decided and what the transport makes of the head: whether the body
// is awaited or streamed, and the head as httplib will see it. httplib must not see Range (it
// answers 206 with every range asked for, an amplification: no route of Trove serves ranges)
// nor an Expect answered here.
void GuardedServer::admit(Conn& c, const RequestHead& head, size_t head_len, Admission a) {
  const size_t body = head.content_length.value_or(0);
  a.stream_body = head.chunked || body > limits_.max_body_bytes;
  a.read_only = is_read_method(head.method);
  std::vector<std::pair<size_t, size_t>> cut;
  for (const HeadField& f : head.fields) {
    if (f.is("Range") || (f.is("Expect") && !a.stream_body)) {
      cut.emplace_back(f.line_begin, f.line_end - f.line_begin);
    }
  }
  for (auto it = cut.rbegin(); it != cut.rend(); ++it) {
    c.in.erase(c.off + it->first, it->second);
    head_len -= it->second;
  }
  c.chunked = head.chunked;
  c.admission = std::move(a);
  c.admitted = true;
  c.head_len = head_len;
  c.ready_at = head_len + (c.admission.stream_body ? 0 : body);
}

// Each worker waits on the shared epoll set itself and serves the connection whose bytes
// arrived (one-shot events: one worker per connection at a time). Under load a worker goes
// from one request to the next without a hand-off to another thread.
void GuardedServer::worker() {
  epoll_event ev{};
  while (!quit_) {
    // Leader/followers: a worker waits for connections only while it holds a run slot, and
    // keeps it from one request to the next, so on a busy core one worker serves GETs back
    // to back without a hand-off between threads; it lets go when it might block on a peer,
    // and for a POST (see serve).
    hold_run_slot();
    if (quit_) break;  // a waiter admitted during shutdown passes the slot on at once
    const int n = ::epoll_wait(epfd_, &ev, 1, 100);
    if (n <= 0 || ev.data.fd == wakefd_) continue;
    std::unique_ptr<Conn> c = take(ev.data.fd);
    if (!c) continue;  // its holder re-arms it when it parks it
    if (c->draining) {
      keep_draining(std::move(c));
      continue;
    }
    bool eof = false;
    read_available(*c, &eof);
    switch (advance(c)) {
      case Stage::kReady:
        serve(std::move(c));
        break;
      case Stage::kAnswered:
        break;
      case Stage::kNeedMore:
        if (eof) {
          close_conn(std::move(c));
        } else {
          park(std::move(c));
        }
        break;
    }
  }
  conn_io::release_run_slot();  // the next waiter sees quit_ in turn
}

void GuardedServer::serve(std::unique_ptr<Conn> c) {
  for (;;) {
    RequestGuard guard;
    guard.start = Clock::now();
    guard.body_limit = c->admission.body_limit;
    guard.route = c->admission.route;
    // A handler that takes a body clears this once it has read all of it.
    guard.close_after = c->admission.expects_body;
    const bool read_only = c->admission.read_only;
    guard.request_id = std::move(c->admission.request_id);
    guard.key_id = std::move(c->admission.key_id);
    c->admission = Admission{};
    GuardedStream strm(*c, limits_, guard, c->head_len, c->chunked);
    const bool closing = stopping_ || c->requests + 1 >= limits_.max_requests_per_connection;
    bool connection_closed = false;
    conn_io::tl_guard = &guard;
    // A GET or HEAD (no body to wait for) runs holding one of the run slots: no more
    // requests are mid-way at once than there are cores, so none is preempted half done
    // behind the others (with 8 workers time-slicing one core, p99 was 24 ms at 27 us a
    // request). POSTs may wait on their body or on a group commit: they run without one. A
    // GET pipelined behind a POST takes a free slot or runs without: waiting for one here
    // could last as long as the slot holders wait for connections.
    if (read_only) {
      if (run_gate_ && !conn_io::tl_run_slot && run_gate_->try_acquire()) {
        conn_io::tl_run_slot = run_gate_;
      }
    } else {
      conn_io::release_run_slot();
    }
    const bool processed = process_request(strm, closing, connection_closed, nullptr);
    const bool ok = strm.flush() && processed;
    conn_io::tl_guard = nullptr;
    ++c->requests;
    release_body(*c);
    c->admitted = false;
    c->partial = false;
    if (guard.close_after) return drain(std::move(c));
    if (!ok || connection_closed || closing || guard.body_too_large || guard.timed_out) {
      if (c->unconsumed() > 0) {
        if (stopping_) {
          return refuse(std::move(c), 503, "unavailable", "the server is shutting down",
                        {{"Retry-After", "1"}});
        }
        return drain(std::move(c));
      }
      return close_conn(std::move(c));
    }
    if (c->off == c->in.size()) {
      c->in.clear();
      c->off = 0;
    }
    c->deadline = Clock::now() + std::chrono::milliseconds(limits_.keep_alive_timeout_ms);
    switch (advance(c)) {
      case Stage::kReady:
        continue;
      case Stage::kAnswered:
        return;
      case Stage::kNeedMore:
        if (stopping_) return final_close(std::move(c));
        return park(std::move(c));
    }
  }
}

}  // namespace trove::http
