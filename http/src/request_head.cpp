#include "request_head.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace trove::http {
namespace {

bool is_tchar(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

// A control character other than HTAB: never in a field value, an extension or a trailer.
bool is_ctl(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u < 0x20 && u != '\t') || u == 0x7f;
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (const char c : s) {
    if (!is_tchar(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const auto x = static_cast<unsigned char>(a[i]);
    const auto y = static_cast<unsigned char>(b[i]);
    if (std::tolower(x) != std::tolower(y)) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A line of the head without its terminator; *next is where the following line starts. A CR
// anywhere but before the LF is refused by the callers' character checks.
std::string_view next_line(std::string_view head, size_t from, size_t* next) {
  const size_t lf = head.find('\n', from);
  if (lf == std::string_view::npos) {
    *next = head.size();
    return head.substr(from);
  }
  *next = lf + 1;
  size_t end = lf;
  if (end > from && head[end - 1] == '\r') --end;
  return head.substr(from, end - from);
}

std::optional<HeadError> bad(std::string message) { return HeadError{400, std::move(message)}; }

std::optional<HeadError> parse_request_line(std::string_view line, RequestHead* out) {
  const size_t sp1 = line.find(' ');
  const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    return bad("malformed request line: expected `METHOD target HTTP/1.1`");
  }
  out->method = line.substr(0, sp1);
  out->target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (!is_token(out->method)) return bad("malformed request line: the method is not a token");
  if (out->target.empty()) return bad("malformed request line: empty request target");
  for (const char c : out->target) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return bad("the request target holds a control character");
  }
  if (version == "HTTP/1.1") {
    out->minor_version = 1;
  } else if (version == "HTTP/1.0") {
    out->minor_version = 0;
  } else {
    return bad("unsupported HTTP version (HTTP/1.0 and HTTP/1.1 are served)");
  }
  out->path = out->target.substr(0, out->target.find('?'));
  return std::nullopt;
}

std::optional<HeadError> parse_field(size_t begin, size_t end, std::string_view line,
                                     RequestHead* out) {
  if (line.front() == ' ' || line.front() == '\t') {
    return bad("obsolete line folding in the request head");
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return bad("a header line without a colon");
  const std::string_view name = line.substr(0, colon);
  if (!is_token(name)) {
    return bad("invalid header name (no whitespace is allowed before the colon)");
  }
  const std::string_view value = trim(line.substr(colon + 1));
  for (const char c : value) {
    if (is_ctl(c)) return bad("a header value holds a control character");
  }
  out->fields.push_back(HeadField{name, value, begin, end});
  return std::nullopt;
}

// Content-Length: every value (repeated fields, comma lists) all digits and the same.
std::optional<HeadError> check_content_length(RequestHead* out) {
  for (const HeadField& f : out->fields) {
    if (!iequals(f.name, "Content-Length")) continue;
    std::string_view rest = f.value;
    do {
      const size_t comma = rest.find(',');
      const std::string_view v = trim(rest.substr(0, comma));
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      uint64_t n = 0;
      const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (v.empty() || ec != std::errc() || p != v.data() + v.size() || v.front() == '+' ||
          n > (uint64_t{1} << 62)) {
        return bad("invalid Content-Length");
      }
      if (out->content_length && *out->content_length != n) {
        return bad("conflicting Content-Length values");
      }
      out->content_length = n;
    } while (!rest.empty());
  }
  return std::nullopt;
}

std::optional<HeadError> check_framing(RequestHead* out) {
  if (auto e = check_content_length(out)) return e;
  size_t te = 0;
  size_t hosts = 0;
  for (const HeadField& f : out->fields) {
    if (iequals(f.name, "Transfer-Encoding")) {
      ++te;
      if (!iequals(f.value, "chunked")) {
        return HeadError{501, "only the chunked transfer coding is supported"};
      }
    } else if (iequals(f.name, "Host")) {
      ++hosts;
    } else if (iequals(f.name, "Expect")) {
      if (!iequals(f.value, "100-continue")) {
        return HeadError{417, "only `Expect: 100-continue` is understood"};
      }
      out->expect_continue = true;
    }
  }
  if (te > 1) return bad("Transfer-Encoding given more than once");
  if (te == 1) {
    if (out->minor_version == 0) return bad("Transfer-Encoding in an HTTP/1.0 request");
    if (out->content_length) return bad("both Content-Length and Transfer-Encoding");
    out->chunked = true;
  }
  if (out->minor_version == 1 && hosts != 1) {
    return bad(hosts == 0 ? "an HTTP/1.1 request needs a Host header"
                          : "more than one Host header");
  }
  return std::nullopt;
}

}  // namespace

bool HeadField::is(std::string_view other) const { return iequals(name, other); }

std::optional<std::string_view> RequestHead::field(std::string_view name) const {
  for (const HeadField& f : fields) {
    if (iequals(f.name, name)) return f.value;
  }
  return std::nullopt;
}

bool RequestHead::keep_alive() const {
  std::string v(field("Connection").value_or(""));
  for (auto& ch : v) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (minor_version == 0) return v.find("keep-alive") != std::string::npos;
  return v.find("close") == std::string::npos;
}

std::optional<HeadError> parse_request_head(std::string_view head, RequestHead* out) {
  *out = RequestHead{};
  size_t pos = 0;
  while (pos < head.size() && (head[pos] == '\r' || head[pos] == '\n')) ++pos;
  size_t next = 0;
  const std::string_view request_line = next_line(head, pos, &next);
  if (request_line.find('\r') != std::string_view::npos)
    return bad("a bare CR in the request line");
  if (auto e = parse_request_line(request_line, out)) return e;
  for (pos = next; pos < head.size(); pos = next) {
    const std::string_view line = next_line(head, pos, &next);
    if (line.empty()) return check_framing(out);
    if (line.find('\r') != std::string_view::npos) return bad("a bare CR in a header line");
    if (auto e = parse_field(pos, next, line, out)) return e;
  }
  return bad("the request head does not end with a blank line");
}

// ---- ChunkedFraming ---------------------------------------------------------------------------

bool ChunkedFraming::fail(std::string message) {
  state_ = State::kFailed;
  error_ = std::move(message);
  return false;
}

// The size line ended: a data chunk follows, or (size 0) the trailer section.
bool ChunkedFraming::end_of_size_line() {
  line_ = 0;
  if (size_ == 0) {
    last_chunk_ = true;
    state_ = State::kTrailer;
  } else {
    data_left_ = size_;
    state_ = State::kData;
  }
  return true;
}

bool ChunkedFraming::feed(const char* p, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const char c = p[i];
    switch (state_) {
      case State::kDone:
        return true;
      case State::kFailed:
        return false;
      case State::kSize: {
        int v = -1;
        if (c >= '0' && c <= '9')
          v = c - '0';
        else if (c >= 'a' && c <= 'f')
          v = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
          v = c - 'A' + 10;
        if (v >= 0) {
          if (++digits_ > 16) return fail("chunk size over 16 hex digits");
          size_ = size_ * 16 + static_cast<uint64_t>(v);
          ++line_;
          break;
        }
        if (digits_ == 0) return fail("a chunk size must start with a hex digit");
        if (c == ';' || c == ' ' || c == '\t') {
          state_ = State::kExt;
          ++line_;
        } else if (c == '\r') {
          state_ = State::kLineLf;
        } else if (c == '\n') {
          end_of_size_line();
        } else {
          return fail("invalid character in a chunk size");
        }
        break;
      }
      case State::kExt:
        if (++line_ > kMaxLine) {
          return fail("chunk-size line over " + std::to_string(kMaxLine) + " bytes");
        }
        if (c == '\r') {
          state_ = State::kLineLf;
        } else if (c == '\n') {
          end_of_size_line();
        } else if (is_ctl(c)) {
          return fail("control character in a chunk extension");
        }
        break;
      case State::kLineLf:
        if (c != '\n') return fail("a bare CR in the chunked framing");
        if (last_chunk_) {  // the end of a trailer line, or of the body
          if (line_ == 0) {
            state_ = State::kDone;
            return true;
          }
          line_ = 0;
          state_ = State::kTrailer;
        } else {
          end_of_size_line();
        }
        break;
      case State::kData: {
        const uint64_t take = std::min<uint64_t>(data_left_, n - i);
        data_left_ -= take;
        i += static_cast<size_t>(take) - 1;
        if (data_left_ == 0) state_ = State::kDataCr;
        break;
      }
      case State::kDataCr:
        if (c == '\r') {
          state_ = State::kDataLf;
        } else if (c == '\n') {
          state_ = State::kSize;
          size_ = digits_ = line_ = 0;
        } else {
          return fail("chunk data longer than its size");
        }
        break;
      case State::kDataLf:
        if (c != '\n') return fail("chunk data longer than its size");
        state_ = State::kSize;
        size_ = digits_ = line_ = 0;
        break;
      case State::kTrailer:
        if (++trailer_ > kMaxTrailerBytes) {
          return fail("trailer section over " + std::to_string(kMaxTrailerBytes) + " bytes");
        }
        if (c == '\r') {
          state_ = State::kLineLf;
        } else if (c == '\n') {
          if (line_ == 0) {
            state_ = State::kDone;
            return true;
          }
          line_ = 0;
        } else if (is_ctl(c)) {
          return fail("control character in a trailer");
        } else {
          ++line_;
        }
        break;
    }
  }
  return state_ != State::kFailed;
}

}  // namespace trove::http
