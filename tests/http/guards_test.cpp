// The guards in front of cpp-httplib 0.11.4 (CVE-2025-46728: chunked bodies not bounded;
// CVE-2025-53628: header lines not bounded; a small pool that slow clients can occupy), with
// raw sockets sending what no well-behaved client would. No timed assertions: the tests ask
// whether the server answered, never how fast.
#include <algorithm>
#include <atomic>
#include <vector>

#include "http/http_harness.h"

using trove::test::Harness;
using trove::test::HarnessOptions;
using trove::test::bearer;
using trove::test::connect_to;
using trove::test::kSearchKey;
using trove::test::kWriteKey;
using trove::test::read_all;
using trove::test::send_some;
using trove::test::status_of;

namespace {
// A raw request head with a key: "METHOD TARGET HTTP/1.1", Host, Authorization, then `headers`
// (each line ending in \r\n) and the blank line.
std::string head(const std::string& method, const std::string& target, const char* key,
                 const std::string& headers) {
  return method + " " + target + " HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + key +
         "\r\n" + headers + "\r\n";
}

// Ten searches, each answered 200 within the client's 5 s read timeout.
void searches_answer(Harness& h) {
  auto c = h.client();
  c.set_read_timeout(5, 0);
  for (int i = 0; i < 10; ++i) {
    auto r = c.Get("/v1/search?q=anything", bearer(kSearchKey));
    REQUIRE(r);
    CHECK(r->status == 200);
  }
}
}  // namespace

TEST_CASE("Expect: 100-continue is answered before the body is sent, and the body is then read",
          "[http][guards]") {
  // curl sends the header with any body over 1 MiB and waits a second for the interim answer
  // before sending the body anyway: a bulk import lost that second on every request.
  Harness h;
  const int fd = connect_to(h.port());
  const std::string body = R"({"type":"HomePageView","user":{"visitor_id":"v-1"}})" "\n";
  REQUIRE(send_some(fd, head("POST", "/v1/events/bulk", kWriteKey,
                             "Content-Type: application/x-ndjson\r\nExpect: 100-continue\r\n"
                             "Connection: close\r\nContent-Length: " +
                                 std::to_string(body.size()) + "\r\n")));
  // No byte of the body sent yet: the server must answer on its own.
  std::string interim;
  char buf[512];
  while (interim.find("\r\n\r\n") == std::string::npos) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) break;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    interim.append(buf, static_cast<size_t>(n));
  }
  CHECK(interim == "HTTP/1.1 100 Continue\r\n\r\n");
  REQUIRE(send_some(fd, body));
  const std::string answer = read_all(fd);
  ::close(fd);
  CHECK(status_of(answer) == 200);
  CHECK(answer.find("\"accepted\":1") != std::string::npos);
  CHECK(h.store().last_seq() == 1);
}

TEST_CASE("an endless chunked body is cut at the limit with 413, and the server goes on",
          "[http][guards]") {
  HarnessOptions o;
  o.limits.max_bulk_bytes = 1u << 20;
  Harness h(o);
  const int fd = connect_to(h.port());
  REQUIRE(send_some(fd, head("POST", "/v1/events/bulk", kWriteKey,
                             "Content-Type: application/x-ndjson\r\n"
                             "Transfer-Encoding: chunked\r\n")));
  const std::string chunk = "10000\r\n" + std::string(65536, 'a') + "\r\n";
  size_t sent = 0;
  while (sent < (256u << 20) && send_some(fd, chunk)) sent += chunk.size();
  const std::string answer = read_all(fd);
  ::close(fd);
  INFO("sent " << sent << " bytes before the server stopped reading");
  CHECK(sent < (256u << 20));  // the server stopped taking it long before
  CHECK(status_of(answer) == 413);
  CHECK(answer.find("payload_too_large") != std::string::npos);
  CHECK(h.client().Get("/healthz")->status == 200);
}

TEST_CASE("an endless chunked body on a route without bodies is refused before it is read",
          "[http][guards]") {
  Harness h;
  for (const std::string target : {"/v1/events", "/v1/search?q=x"}) {
    const int fd = connect_to(h.port());
    const std::string method = target == "/v1/events" ? "POST" : "GET";
    REQUIRE(send_some(fd, head(method, target, kWriteKey,
                               "Content-Type: application/json\r\n"
                               "Transfer-Encoding: chunked\r\n")));
    const std::string chunk = "10000\r\n" + std::string(65536, 'a') + "\r\n";
    size_t sent = 0;
    while (sent < (64u << 20) && send_some(fd, chunk)) sent += chunk.size();
    const std::string answer = read_all(fd);
    ::close(fd);
    CHECK(sent < (64u << 20));
    CHECK(status_of(answer) == 411);
  }
  CHECK(h.client().Get("/healthz")->status == 200);
}

TEST_CASE("a header line of megabytes is refused with 431 without being buffered",
          "[http][guards]") {
  Harness h;
  const int fd = connect_to(h.port());
  REQUIRE(send_some(fd, "GET /healthz HTTP/1.1\r\nHost: t\r\nX-Long: "));
  const std::string block(1u << 16, 'a');
  size_t sent = 0;
  while (sent < (64u << 20) && send_some(fd, block)) sent += block.size();
  const std::string answer = read_all(fd);
  ::close(fd);
  INFO("sent " << sent << " bytes of one header line");
  CHECK(sent < (64u << 20));
  CHECK(status_of(answer) == 431);
  CHECK(h.client().Get("/healthz")->status == 200);
}

TEST_CASE("a request line of megabytes is refused with 414, too many headers with 431",
          "[http][guards]") {
  Harness h;
  {
    const int fd = connect_to(h.port());
    std::string line = "GET /v1/search?q=" + std::string(4u << 20, 'a');
    send_some(fd, line);
    const std::string answer = read_all(fd);
    ::close(fd);
    CHECK(status_of(answer) == 414);
  }
  {
    const int fd = connect_to(h.port());
    std::string head = "GET /healthz HTTP/1.1\r\nHost: t\r\n";
    for (int i = 0; i < 500; ++i) head += "X-H" + std::to_string(i) + ": v\r\n";
    head += "\r\n";
    send_some(fd, head);
    const std::string answer = read_all(fd);
    ::close(fd);
    CHECK(status_of(answer) == 431);
  }
}

TEST_CASE("64 slow clients holding partial requests do not stop searches from answering",
          "[http][guards]") {
  HarnessOptions o;
  o.limits.threads = 8;  // far fewer workers than slow clients
  o.limits.head_timeout_ms = 60000;
  Harness h(o);
  std::vector<int> slow;
  for (int i = 0; i < 64; ++i) {
    const int fd = connect_to(h.port());
    // Half a request head, then nothing: each waits for the rest.
    REQUIRE(send_some(fd, "GET /v1/search?q=slow HTTP/1.1\r\nHost: t\r\nX-Slow: "));
    slow.push_back(fd);
  }
  // And a few that trickle a byte now and then.
  for (int round = 0; round < 3; ++round) {
    for (int fd : slow) send_some(fd, "a");
    searches_answer(h);
  }
  // The slow ones are still waiting (nothing answered them yet), not dropped.
  for (int fd : slow) {
    pollfd p{fd, POLLIN, 0};
    CHECK(::poll(&p, 1, 0) == 0);
    ::close(fd);
  }
}

TEST_CASE("a slow request head is answered 408 at its deadline", "[http][guards]") {
  HarnessOptions o;
  o.limits.head_timeout_ms = 300;
  Harness h(o);
  const int fd = connect_to(h.port());
  REQUIRE(send_some(fd, "GET /healthz HTTP/1.1\r\nHost: t\r\n"));
  const std::string answer = read_all(fd, 10000);
  ::close(fd);
  CHECK(status_of(answer) == 408);
}

TEST_CASE("keep-alive connections and pipelined requests are served in order", "[http][guards]") {
  Harness h;
  const int fd = connect_to(h.port());
  REQUIRE(send_some(fd, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"
                        "GET /readyz HTTP/1.1\r\nHost: t\r\n\r\n"
                        "GET /nope HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
  const std::string answer = read_all(fd);
  ::close(fd);
  const size_t a = answer.find("HTTP/1.1 200");
  const size_t b = answer.find("HTTP/1.1 200", a + 1);
  const size_t c = answer.find("HTTP/1.1 404");
  CHECK(a != std::string::npos);
  CHECK(b != std::string::npos);
  CHECK(c != std::string::npos);
  CHECK((a < b && b < c));
}

TEST_CASE("searches keep answering while a bulk import runs (latency reported, not asserted)",
          "[http][guards]") {
  // No rate limit: repeated searches come from the answer cache faster than the default
  // 1,000/s per key allows, and this test is about the ingestion's effect on them.
  HarnessOptions o;
  o.limits.rate_per_second = 0;
  Harness h(o);
  auto c = h.client();
  REQUIRE(c.Post("/v1/events/bulk", bearer(kWriteKey), trove::test::shop_ndjson(500, 100),
                 "application/x-ndjson")->status == 200);
  REQUIRE(h.index().flush().ok());
  std::vector<std::string> bodies;
  for (uint64_t seed = 1; seed <= 4; ++seed) bodies.push_back(trove::test::shop_ndjson(2000, 20000, seed));
  std::atomic<bool> importing{true};
  std::atomic<int> import_failures{0};
  std::thread importer([&] {
    auto w = h.client();
    w.set_read_timeout(60, 0);
    for (const auto& b : bodies) {
      auto r = w.Post("/v1/events/bulk", bearer(kWriteKey), b, "application/x-ndjson");
      if (!r || r->status != 200) ++import_failures;
    }
    importing = false;
  });
  std::vector<double> during;
  int failures = 0;
  std::string first_failure;
  const char* words[] = {"oven", "cup", "pan", "knife", "espreso", "dutch", "*"};
  size_t i = 0;
  while (importing) {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = c.Get(std::string("/v1/search?q=") + words[i++ % 7], bearer(kSearchKey));
    during.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    if (!r || r->status != 200) {
      if (failures++ == 0) {
        first_failure = r ? std::to_string(r->status) + " " + r->body
                          : "no answer: " + httplib::to_string(r.error());
      }
    }
  }
  importer.join();
  INFO("first failed search: " << first_failure);
  CHECK(import_failures == 0);
  CHECK(failures == 0);
  REQUIRE(!during.empty());
  std::sort(during.begin(), during.end());
  const auto pct = [&](double p) { return during[std::min(during.size() - 1, static_cast<size_t>(p * during.size()))]; };
  WARN("search latency during a bulk import of " << bodies.size() << " x ~22k events: "
       << during.size() << " searches, p50 " << pct(0.5) << " ms, p99 " << pct(0.99)
       << " ms, max " << during.back() << " ms");
  CHECK(h.store().last_seq() > 80000);
}

TEST_CASE("with one run slot, a body still arriving and an answer nobody reads do not stop searches",
          "[http][guards]") {
  // One slot: GETs are processed one at a time. A worker must let go of it while it waits on a
  // peer: here a POST and a GET whose bodies never come, and pipelined GETs whose answers fill a socket
  // nobody reads. Its timeouts are far longer than the client's, so a worker that kept the
  // slot while waiting would make the searches below fail.
  HarnessOptions o;
  o.limits.max_running_reads = 1;
  o.limits.threads = 4;
  o.limits.write_timeout_ms = 60000;
  o.limits.read_timeout_ms = 60000;
  o.limits.rate_per_second = 0;
  Harness h(o);

  const int stuck_body = connect_to(h.port());
  REQUIRE(send_some(stuck_body, head("POST", "/v1/events", kWriteKey,
                                     "Content-Type: application/json\r\n"
                                     "Content-Length: 1000\r\n") +
                                    "{\"type\":"));
  const int stuck_get = connect_to(h.port());  // a GET with a body (refused or waited for)
  REQUIRE(send_some(stuck_get,
                    head("GET", "/v1/search?q=x", kSearchKey, "Content-Length: 1000\r\n") + "ab"));
  // A small receive buffer, set before connecting, and never read.
  const int no_reader = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(no_reader >= 0);
  const int small = 4096;
  REQUIRE(::setsockopt(no_reader, SOL_SOCKET, SO_RCVBUF, &small, sizeof small) == 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(h.port()));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(no_reader, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  std::string pipelined;
  for (int i = 0; i < 400; ++i) pipelined += "GET /openapi.json HTTP/1.1\r\nHost: t\r\n\r\n";
  REQUIRE(send_some(no_reader, pipelined));
  searches_answer(h);
  ::close(stuck_body);
  ::close(stuck_get);
  ::close(no_reader);
}
