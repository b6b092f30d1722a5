// A real server on a loopback port over a fresh data directory, a client for it, raw sockets
// for what a well-behaved client would never send, and a few generated events.
#pragma once

#include <arpa/inet.h>
#include <httplib.h>
#include <catch2/catch.hpp>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>

#include "test_util.h"
#include "trove/data/generator.h"
#include "trove/data/store.h"
#include "trove/http/server.h"
#include "trove/index/catalog_index.h"

namespace trove::test {

inline constexpr const char* kAdminKey = "adm-7f3c9a1e5b2d48c6a0e4";
inline constexpr const char* kWriteKey = "wrt-2b8e6d4f1a9c37e5b0d2";
inline constexpr const char* kSearchKey = "sch-9d1f3b7e5c2a48f6e0b4";

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

struct HarnessOptions {
  std::string host = "127.0.0.1";  // where the server listens
  bool keys = true;
  bool attach = true;
  http::Limits limits;
  int answer_cache_ttl_ms = 2000;
  // Runs on the data directory before the Store opens (to make the journal unwritable).
  std::function<void(const std::string& data_dir)> before_open;
};

class Harness {
 public:
  explicit Harness(HarnessOptions o = {}) {
    data_dir_ = dir_.sub("data");
    request_log_ = dir_.sub("requests.log");
    http::ServerOptions opts;
    opts.host = o.host;
    opts.port = 0;
    opts.request_log = request_log_;
    opts.index_flush_ms = 50;
    opts.limits = o.limits;
    opts.answer_cache_ttl_ms = o.answer_cache_ttl_ms;
    if (o.keys) {
      opts.keys_file = dir_.sub("keys");
      write_file(opts.keys_file, std::string("# test keys\nops admin ") + kAdminKey +
                                     "\ningest write " + kWriteKey + "\nfrontend search " +
                                     kSearchKey + "\n");
    }
    auto server = http::Server::start(opts);
    REQUIRE(server.ok());
    server_ = std::move(server).value();
    std::filesystem::create_directories(data_dir_);
    if (o.before_open) o.before_open(data_dir_);
    if (o.attach) open_and_attach();
  }

  void open_and_attach() {
    auto store = Store::open(data_dir_);
    REQUIRE(store.ok());
    store_ = std::move(store).value();
    auto index = CatalogIndex::open(data_dir_ + "/index");
    REQUIRE(index.ok());
    index_ = std::move(index).value();
    REQUIRE(index_->attach(*store_).ok());
    REQUIRE(server_->attach(*store_, *index_).ok());
  }

  ~Harness() { stop(); }

  void stop() {
    if (server_) (void)server_->shutdown();
    server_.reset();
    index_.reset();
    store_.reset();
  }

  int port() const { return server_->port(); }
  Store& store() { return *store_; }
  CatalogIndex& index() { return *index_; }
  http::Server& server() { return *server_; }
  const std::string& data_dir() const { return data_dir_; }
  const std::string& request_log() const { return request_log_; }

  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port());
    c.set_read_timeout(10, 0);
    return c;
  }

 private:
  TempDir dir_;
  std::string data_dir_;
  std::string request_log_;
  std::unique_ptr<http::Server> server_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<CatalogIndex> index_;
};

inline httplib::Headers bearer(const char* key) {
  return {{"Authorization", std::string("Bearer ") + key}};
}

// The answer is the JSON error shape with this status, code and (when given) path.
inline void check_error(const httplib::Result& r, int status, const std::string& code,
                        const std::string& path = {}) {
  REQUIRE(r);
  INFO(r->body);
  CHECK(r->status == status);
  auto j = nlohmann::json::parse(r->body);
  CHECK(j["error"]["code"] == code);
  CHECK(j["error"]["message"].is_string());
  if (!path.empty()) CHECK(j["error"]["path"] == path);
}

inline nlohmann::json body_json(const httplib::Result& r) {
  REQUIRE(r);
  return nlohmann::json::parse(r->body);
}

// The generated shop as NDJSON (catalog first, then behaviour).
inline std::string shop_ndjson(size_t items, size_t events, uint64_t seed = 7) {
  GeneratorOptions o;
  o.seed = seed;
  o.items = items;
  o.visitors = 50;
  o.behaviour_events = events;
  o.all_kinds = false;
  o.with_event_ids = false;
  std::string out;
  for (const Event& e : generate_events(o)) {
    out += serialize_event(e);
    out += '\n';
  }
  return out;
}

inline std::string url_encode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// ---- raw sockets ------------------------------------------------------------------------------

// A connection to the server on `port`, from the loopback address `from` (any of 127.0.0.0/8
// reaches the server; a second address stands for a second client).
inline int connect_to(int port, const char* from = nullptr) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  if (from != nullptr) {
    sockaddr_in local{};
    local.sin_family = AF_INET;
    REQUIRE(::inet_pton(AF_INET, from, &local.sin_addr) == 1);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) == 0);
  }
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  return fd;
}

// Sends as much of `data` as the peer takes; false once it stops taking (closed or reset).
inline bool send_some(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, 5000) <= 0) return false;
    const ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

// Reads until the peer closes or `timeout_ms` passes without data.
inline std::string read_all(int fd, int timeout_ms = 5000) {
  std::string out;
  char buf[8192];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) break;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

// Polls `get` until `done` holds of its JSON answer (the server's flusher applies index
// changes in the background), for up to 20 s.
inline bool eventually(const std::function<httplib::Result()>& get,
                       const std::function<bool(const nlohmann::json&)>& done) {
  for (int i = 0; i < 400; ++i) {
    auto r = get();
    if (r && r->status == 200 && done(nlohmann::json::parse(r->body))) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

inline int status_of(const std::string& raw_response) {
  if (raw_response.rfind("HTTP/1.1 ", 0) != 0 || raw_response.size() < 12) return 0;
  return std::stoi(raw_response.substr(9, 3));
}

}  // namespace trove::test
