// The connection layer between the socket and httplib: Trove's guards against what Debian's
// cpp-httplib 0.11.4 does not bound (CVE-2025-46728: chunked bodies beyond the payload limit;
// CVE-2025-53628: header lines of any length), against lenient framing (RFC 9112, checked in
// request_head.h), and against slow or many clients.
//
// GuardedServer derives from httplib::Server and takes over each accepted socket:
//  1. the socket waits in an epoll set (one-shot events, no thread holds it) until its request
//     head is complete. The workers of our pool wait on that set themselves: the one that gets
//     a connection's event reads what arrived without blocking and checks the head so far
//     (line length, total size, header count, URI and query length); a sweeper thread enforces
//     the deadline of the whole head and of idle kept-alive connections. A violation is
//     answered (414, 431, 408) there, and httplib never reads that head. An incomplete head
//     goes back to the set and frees the worker at once.
//  2. a complete head is parsed strictly (request_head.h) and admitted by the application
//     (route, key, rate, readiness: the HeadAdmitter) before any body byte is read: an unrouted
//     or unauthenticated request is answered without waiting for its body. An admitted body of
//     known length up to Limits::max_body_bytes is then awaited in the same epoll set (no
//     thread waits for it); only a streamed bulk body is read by a worker as it arrives, with
//     a minimum data rate and a cap on such bodies at once, in all and per client address.
//  3. with what it needs the same worker runs httplib's process_request() on a GuardedStream:
//     reads are served from the bytes already received, body bytes are counted against the
//     route's limit and chunked framing is checked as they arrive, every read and write has a
//     timeout and the whole body a deadline.
//  4. between requests a kept-alive connection goes back to the epoll set, so idle connections
//     hold no thread either. Under load a worker goes from one request to the next without
//     handing a connection to another thread (a hand-off cost two context switches a request).
//  5. an error answered before its body was read half-closes the connection and drains what
//     still arrives from the epoll set for a short while (closing with unread bytes would send
//     a reset that can destroy the answer), again without a thread waiting.
//
// Connections are capped in all (Limits::max_connections) and per client address
// (Limits::max_connections_per_address). On stop, requests already received are answered
// (503 if not yet started) before their connections close.
//
// Thread-safety: start()/stop() from one thread; the rest runs on the pool and the loop.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <httplib.h>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "fair_slots.h"
#include "request_head.h"
#include "trove/http/server.h"

namespace trove::http {

using Clock = std::chrono::steady_clock;

enum class HeadVerdict { kIncomplete, kComplete, kUriTooLong, kHeadersTooLarge, kBadRequest };

// What the application decided from a complete request head, before any of its body is read.
struct Admission {
  // Non-zero: refused; answered at once with this JSON error, and the connection closes.
  int status = 0;
  std::string code;
  std::string message;
  std::vector<std::pair<std::string, std::string>> headers;  // WWW-Authenticate, Retry-After...
  // Admitted: carried into the request's RequestGuard.
  int route = -1;
  std::string request_id;
  std::string key_id;
  size_t body_limit = 0;      // decoded body bytes the route accepts
  bool expects_body = false;  // the route reads a body (the connection closes if it did not)
  // Set by the transport:
  bool stream_body = false;  // read by the handler as it arrives (else awaited before dispatch)
  bool read_only = false;    // GET or HEAD

  static Admission refuse(int status, std::string code, std::string message) {
    Admission a;
    a.status = status;
    a.code = std::move(code);
    a.message = std::move(message);
    return a;
  }
};

struct Conn;
// Called on a worker for every complete head that passed the RFC 9112 checks.
using HeadAdmitter = std::function<Admission(const RequestHead& head, const Conn& conn)>;

// A connection between requests: its socket and the bytes read but not yet consumed.
struct Conn {
  int fd = -1;
  std::string in;
  size_t off = 0;  // in[off..] is unconsumed
  Clock::time_point deadline;
  bool partial = false;  // some bytes of a head have arrived
  uint64_t requests = 0;
  bool armed = false;  // registered in the epoll set (re-armed with EPOLL_CTL_MOD)
  std::string remote_ip;
  int remote_port = 0;
  std::string client;  // what per-client limits count (client_address.h): remote_ip or its /64
  std::string local_ip;
  int local_port = 0;
  // The request whose head is complete and admitted, until it has been served.
  bool admitted = false;
  size_t head_len = 0;
  size_t ready_at = 0;  // unconsumed bytes needed before dispatch: the head, a buffered body
  bool chunked = false;
  Admission admission;
  size_t reserved = 0;    // of GuardedServer's buffered-body budget, for this request's body
  bool streaming = false;  // counted among the streamed bodies
  // Answered and half-closed: what still arrives is read and dropped until the deadline.
  bool draining = false;
  size_t drained = 0;
  size_t unconsumed() const { return in.size() - off; }
};

// Checks the head at the start of `bytes` (leading blank lines allowed). On kComplete,
// *head_len is its length including the blank line.
HeadVerdict check_head(std::string_view bytes, const Limits& limits, size_t* head_len);

// Per request, what the guards saw; read by the handlers, the error handler and the logger
// through current_request() (one request at a time per worker thread).
struct RequestGuard {
  Clock::time_point start;
  size_t body_limit = 0;        // decoded body bytes the route accepts
  size_t raw_body_bytes = 0;    // body bytes as received, chunk framing included
  size_t bytes_in = 0;
  size_t bytes_out = 0;
  bool body_too_large = false;  // the raw body passed its cap: the read failed
  bool timed_out = false;       // a read or the body deadline timed out, or the body was slower
                                // than Limits::min_body_bytes_per_second
  std::string framing_error;    // the chunked framing was malformed (ChunkedFraming::error)
  bool close_after = false;     // do not read another request on this connection
  // Set by the application layer, for its logs and metrics.
  int route = -1;
  std::string request_id;
  std::string key_id;
};

class GuardedStream final : public httplib::Stream {
 public:
  GuardedStream(Conn& conn, const Limits& limits, RequestGuard& guard, size_t head_len,
                bool chunked);
  bool is_readable() const override;
  bool is_writable() const override;
  ssize_t read(char* ptr, size_t size) override;
  ssize_t write(const char* ptr, size_t size) override;
  void get_remote_ip_and_port(std::string& ip, int& port) const override;
  void get_local_ip_and_port(std::string& ip, int& port) const override;
  socket_t socket() const override { return conn_.fd; }
  // Sends what write() buffered; false when the peer did not take it in time.
  bool flush();

 private:
  bool fill(int timeout_ms);  // reads more into conn_.in; false on EOF, error or timeout
  int rate_wait_ms() const;   // until the body falls below the minimum rate (-1: never)

  Conn& conn_;
  const Limits& limits_;
  RequestGuard& guard_;
  size_t head_left_;
  Clock::time_point body_deadline_;
  std::optional<ChunkedFraming> framing_;  // for a chunked body
  std::string out_;      // written, not sent yet
  bool failed_ = false;  // a send failed: the connection closes
};

// Raw answers written outside httplib (guards, overload, admission): a JSON error with
// `headers`, and Connection: close unless `close` is false.
void write_raw_error(int fd, int status, std::string_view code, std::string_view message,
                     int timeout_ms, size_t* bytes_out = nullptr,
                     const std::vector<std::pair<std::string, std::string>>& headers = {},
                     bool close = true);

class GuardedServer : public httplib::Server {
 public:
  // Called for every request answered outside httplib (route "-"), for logs and metrics.
  using RawLogger = std::function<void(const Conn&, int status, std::string_view method,
                                       size_t bytes_in, size_t bytes_out)>;
  GuardedServer(const Limits& limits, RawLogger raw_logger, HeadAdmitter admitter);
  ~GuardedServer() override;

  // Binds, raises the listen backlog, starts the loop, the workers and the accept thread.
  Status start(const std::string& host, int port);
  int port() const { return port_; }
  // Stops accepting, closes waiting connections, lets dispatched requests finish, joins.
  void stop_all();
  bool stopping() const { return stopping_.load(); }
  size_t open_connections() const { return open_.load(); }
  uint64_t refused_connections() const { return refused_.load(); }

  // The current request's guard on this worker thread (nullptr outside a request).
  static RequestGuard* current();
  // GET and HEAD requests are processed holding one of `gate`'s slots (none: ungated). Set
  // before start(); the gate outlives the server.
  void set_run_gate(FairSlots* gate) { run_gate_ = gate; }

 private:
  bool process_and_close_socket(socket_t sock) override;
  void sweep_loop();                // the deadline thread
  void worker();                    // a pool thread
  void hold_run_slot();             // takes one of run_gate_'s slots unless this thread has one
  enum class Stage { kNeedMore, kReady, kAnswered };
  // Takes the connection's next request as far as it goes without waiting: head checks,
  // parsing, admission, the body awaited. kAnswered: refused and handed to drain().
  Stage advance(std::unique_ptr<Conn>& c);
  bool refuse_and_go_on(std::unique_ptr<Conn>& c, const RequestHead& head, size_t head_len,
                        Admission a);
  void admit(Conn& c, const RequestHead& head, size_t head_len, Admission a);
  void read_available(Conn& c, bool* eof);  // without blocking, up to what the stage needs
  void serve(std::unique_ptr<Conn> c);
  void park(std::unique_ptr<Conn> c);  // into the table, then (re-)armed in the epoll set
  std::unique_ptr<Conn> take(int fd);
  void close_conn(std::unique_ptr<Conn> c);
  // Answers with a raw error, half-closes and drains (see step 5 above).
  void refuse(std::unique_ptr<Conn> c, int status, std::string_view code, std::string_view message,
              const std::vector<std::pair<std::string, std::string>>& headers = {});
  void drain(std::unique_ptr<Conn> c);
  void keep_draining(std::unique_ptr<Conn> c);  // its socket is readable, or it is done
  void answer_violation(std::unique_ptr<Conn> c, HeadVerdict v);
  // What admission reserves and the end of a request gives back (buffered bytes, streams).
  bool reserve_body(Conn& c, std::string* why);
  void release_body(Conn& c);
  bool listen_backlog_empty() const;
  void final_close(std::unique_ptr<Conn> c);  // at stop: a request already sent gets a 503

  Limits limits_;
  RawLogger raw_logger_;
  HeadAdmitter admitter_;
  FairSlots* run_gate_ = nullptr;
  int port_ = 0;
  int epfd_ = -1;
  int wakefd_ = -1;
  std::atomic<bool> stopping_{false};  // no new request starts: each is answered 503
  std::atomic<bool> quit_{false};      // the workers and the sweeper exit
  std::atomic<size_t> open_{0};
  std::atomic<uint64_t> refused_{0};

  // Connections waiting for bytes (in the epoll set), by fd. A worker takes one out while it
  // serves it, so a connection is never in the table and in a worker at once.
  std::mutex conns_mu_;
  std::unordered_map<int, std::unique_ptr<Conn>> conns_;

  // Per client address: connections open and bodies streaming (both capped), under addr_mu_.
  struct AddressUse {
    size_t conns = 0;
    size_t streams = 0;
  };
  std::mutex addr_mu_;
  std::unordered_map<std::string, AddressUse> by_address_;  // by Conn::client
  size_t streams_ = 0;                  // bodies streaming at once, under addr_mu_
  std::atomic<size_t> buffered_{0};     // body bytes reserved for buffered bodies

  std::mutex sweep_mu_;
  std::condition_variable sweep_cv_;
  std::thread sweep_thread_;
  std::thread accept_thread_;
  std::vector<std::thread> workers_;
};

}  // namespace trove::http
