// Minimal, fast JSON text output for the canonical serializer and other writers that must not
// depend on a DOM: strings escaped per RFC 8259, shortest round-trip numbers.
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

namespace trove::json_out {

inline void string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  size_t run = 0;  // start of the pending unescaped run
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        out += "\\u00";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 15]);
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

inline void integer(std::string& out, int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// Shortest text that parses back to the same double (std::to_chars' text). Integral values
// print without a point.
inline void number(std::string& out, double v) {
  if (v == 0) v = 0;  // -0 and 0 are one value in Trove
  // Fast path for what events mostly carry (prices, quantities): at most 4 decimals and
  // 0.001 <= |v| < 100,000, where the shortest text is the fixed form with the fewest
  // decimals that parses back (n / 10^k, both exact doubles: the division rounds as a parse
  // of "n/10^k" does), and never longer than the exponent form to_chars would prefer.
  // Anything else goes to to_chars.
  const double a = v < 0 ? -v : v;
  if (a >= 0.001 && a < 100000) {
    static constexpr double kScale[] = {1, 10, 100, 1000, 10000};
    for (int k = 0; k <= 4; ++k) {
      const double n = static_cast<double>(static_cast<int64_t>(a * kScale[k] + 0.5));
      if (n / kScale[k] != a) continue;
      char buf[24];
      char* p = buf + sizeof buf;
      auto digits = static_cast<uint64_t>(n);
      for (int i = 0; i < k; ++i, digits /= 10) *--p = static_cast<char>('0' + digits % 10);
      if (k > 0) *--p = '.';
      do {
        *--p = static_cast<char>('0' + digits % 10);
        digits /= 10;
      } while (digits != 0);
      if (v < 0) *--p = '-';
      out.append(p, static_cast<size_t>(buf + sizeof buf - p));
      return;
    }
  }
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

inline void boolean(std::string& out, bool v) { out += v ? "true" : "false"; }

}  // namespace trove::json_out
