// What per-client limits count as one client (http/src/client_address.h): an IPv4 address, an
// IPv6 /64, an IPv4-mapped IPv6 address as its IPv4 address. End to end: addresses of one /64
// share the connection cap of one address (IPv6 addresses the test adds to lo, as root).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>
#include <vector>

#include "client_address.h"
#include "http/http_harness.h"

namespace {

using trove::http::client_address;

sockaddr_storage v4(const char* text) {
  sockaddr_storage ss{};
  auto& a = reinterpret_cast<sockaddr_in&>(ss);
  a.sin_family = AF_INET;
  REQUIRE(::inet_pton(AF_INET, text, &a.sin_addr) == 1);
  return ss;
}

sockaddr_storage v6(const char* text) {
  sockaddr_storage ss{};
  auto& a = reinterpret_cast<sockaddr_in6&>(ss);
  a.sin6_family = AF_INET6;
  REQUIRE(::inet_pton(AF_INET6, text, &a.sin6_addr) == 1);
  return ss;
}

// A TCP connection to [to]:port from `from` (both IPv6); -1 when connect fails.
int connect6(const char* from, const char* to, int port) {
  const int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_storage local = v6(from);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof(sockaddr_in6)) == 0);
  sockaddr_storage remote = v6(to);
  reinterpret_cast<sockaddr_in6&>(remote).sin6_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&remote), sizeof(sockaddr_in6)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// IPv6 addresses of this machine on lo, for as long as it lives. Needs root (CAP_NET_ADMIN)
// and the `ip` tool.
class LoopbackAddresses {
 public:
  explicit LoopbackAddresses(std::vector<std::string> addresses) {
    for (auto& a : addresses) {
      if (std::system(("ip -6 addr add " + a + "/128 dev lo nodad 2>/dev/null").c_str()) != 0) {
        ok_ = false;
        break;
      }
      added_.push_back(std::move(a));
    }
  }
  ~LoopbackAddresses() {
    for (const auto& a : added_) (void)std::system(("ip -6 addr del " + a + "/128 dev lo").c_str());
  }
  bool ok() const { return ok_; }

 private:
  std::vector<std::string> added_;
  bool ok_ = true;
};

}  // namespace

TEST_CASE("a client address is an IPv4 address or an IPv6 /64", "[http][hostile]") {
  CHECK(client_address(v4("192.0.2.7")) == "192.0.2.7");
  CHECK(client_address(v6("2001:db8:1:2::1")) == "2001:db8:1:2::/64");
  CHECK(client_address(v6("2001:db8:1:2:ffff:abcd:1234:5678")) == "2001:db8:1:2::/64");
  CHECK(client_address(v6("2001:db8:1:3::1")) == "2001:db8:1:3::/64");
  CHECK(client_address(v6("::1")) == "::/64");
  CHECK(client_address(v6("::ffff:192.0.2.7")) == "192.0.2.7");
  sockaddr_storage other{};
  other.ss_family = AF_UNIX;
  CHECK(client_address(other).empty());
}

TEST_CASE("addresses of one IPv6 /64 share one address's connection cap", "[http][hostile]") {
  const std::vector<std::string> same_64 = {"fd00:7e57:0:1::a", "fd00:7e57:0:1::b",
                                            "fd00:7e57:0:1::c", "fd00:7e57:0:1::d",
                                            "fd00:7e57:0:1::e"};
  std::vector<std::string> all = same_64;
  all.push_back("fd00:7e57::1");      // the server's
  all.push_back("fd00:7e57:0:2::a");  // another /64
  LoopbackAddresses addresses(all);
  if (!addresses.ok()) {
    WARN("skipped: cannot add IPv6 addresses to lo (needs root and iproute2)");
    return;
  }
  trove::test::HarnessOptions o;
  o.host = "fd00:7e57::1";
  o.limits.max_connections_per_address = 4;
  trove::test::Harness h(o);
  // Four connections from four addresses of one /64, idle: the cap of that /64.
  std::vector<int> fds;
  for (size_t i = 0; i < 4; ++i) {
    fds.push_back(connect6(same_64[i].c_str(), "fd00:7e57::1", h.port()));
    REQUIRE(fds.back() >= 0);
  }
  const std::string get = "GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
  auto answer_from = [&](const char* from) {
    const int fd = connect6(from, "fd00:7e57::1", h.port());
    REQUIRE(fd >= 0);
    (void)trove::test::send_some(fd, get);
    const std::string out = trove::test::read_all(fd, 5000);
    ::close(fd);
    return trove::test::status_of(out);
  };
  // A fifth address of the same /64 is that client again: refused.
  CHECK(answer_from(same_64[4].c_str()) == 503);
  // Another /64 is another client.
  CHECK(answer_from("fd00:7e57:0:2::a") == 200);
  for (const int fd : fds) ::close(fd);
}
