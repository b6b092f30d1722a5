// Who a per-client limit counts: the connection cap per address, the streamed bodies per
// address, the failed-key bucket and the rate limit of requests without a key all count one
// "client address", written here once.
//
// An IPv4 address is one client. An IPv6 client is its /64: one host (one customer line, one
// cloud instance) is routinely given a whole /64 and can take any address in it, so counting
// each /128 apart let one host open the whole connection cap from addresses of its own prefix.
// An IPv4-mapped IPv6 address (::ffff:192.0.2.1, from a dual-stack socket) is its IPv4 address.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <string>

namespace trove::http {

// "192.0.2.1", "2001:db8:1:2::/64"; empty for another family.
inline std::string client_address(const sockaddr_storage& ss) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET) {
    const auto& a = reinterpret_cast<const sockaddr_in&>(ss);
    ::inet_ntop(AF_INET, &a.sin_addr, buf, sizeof buf);
    return buf;
  }
  if (ss.ss_family != AF_INET6) return {};
  in6_addr a = reinterpret_cast<const sockaddr_in6&>(ss).sin6_addr;
  if (IN6_IS_ADDR_V4MAPPED(&a)) {
    in_addr v4{};
    std::memcpy(&v4, a.s6_addr + 12, sizeof v4);
    ::inet_ntop(AF_INET, &v4, buf, sizeof buf);
    return buf;
  }
  std::memset(a.s6_addr + 8, 0, 8);  // the interface identifier: the /64 remains
  ::inet_ntop(AF_INET6, &a, buf, sizeof buf);
  return std::string(buf) + "/64";
}

}  // namespace trove::http
