// The request head and the chunked body framing as RFC 9112 defines them, checked strictly
// before httplib sees either. httplib 0.11 is lenient where leniency is a risk behind a proxy:
// it takes Content-Length beside Transfer-Encoding (the leftover bytes became the next request
// on the connection), a space before a header's colon, a `0x` prefix in a chunk size (strtoul),
// and a chunk-size line of any length. Whatever is refused here never reaches it.
//
// Both are plain functions of bytes (no sockets), so the fuzzers drive them directly
// (fuzz/http_head_fuzzer.cpp, fuzz/http_chunked_fuzzer.cpp).
//
// Thread-safety: parse_request_head is a pure function; a ChunkedFraming is used by one
// thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace trove::http {

// One header field: views into the head it was parsed from.
struct HeadField {
  std::string_view name;   // as sent (compare case-insensitively)
  std::string_view value;  // without surrounding whitespace
  size_t line_begin = 0;   // the field's line in the head, CRLF included
  size_t line_end = 0;
  bool is(std::string_view other) const;  // the name, compared case-insensitively
};

// A parsed request head. Views point into the bytes given to parse_request_head, which must
// outlive it.
struct RequestHead {
  std::string_view method;
  std::string_view target;  // as sent: path and query, still percent-encoded
  std::string_view path;    // target up to '?'
  int minor_version = 1;    // HTTP/1.<minor_version>
  std::vector<HeadField> fields;
  std::optional<uint64_t> content_length;
  bool chunked = false;          // Transfer-Encoding: chunked
  bool expect_continue = false;  // Expect: 100-continue

  // The value of the first field named `name` (case-insensitive), if any.
  std::optional<std::string_view> field(std::string_view name) const;
  // Whether the client keeps the connection after the answer (RFC 9112 section 9.3).
  bool keep_alive() const;
};

// Why a head is refused: the status to answer (400, or 501 for a transfer coding other than
// chunked) and a message for the client. The connection closes after it.
struct HeadError {
  int status = 400;
  std::string message;
};

// Parses a complete head (request line through the blank line; leading blank lines are
// skipped). Refuses: a malformed request line or version other than HTTP/1.0 or 1.1; a field
// name that is not a token (whitespace before the colon included) or a folded line; control
// characters in a value; Transfer-Encoding twice, on HTTP/1.0, or beside Content-Length;
// Content-Length values that are not all digits or disagree; an HTTP/1.1 request without
// exactly one Host.
std::optional<HeadError> parse_request_head(std::string_view head, RequestHead* out);

// Checks a chunked body as its bytes arrive, so that a malformed or unbounded chunk-size
// line is refused before the parser that follows reads it: the size is 1-16 hex digits (no
// sign, no `0x`, no leading space), a chunk-size line with its extensions is at most
// kMaxLine bytes, each chunk's data ends in CRLF, and the trailer section has at most
// kMaxTrailerBytes. A line may end in CRLF or a bare LF (RFC 9112 section 2.2).
class ChunkedFraming {
 public:
  static constexpr size_t kMaxLine = 4096;
  static constexpr size_t kMaxTrailerBytes = 16384;

  // Checks the next `n` bytes of the body. False on the first framing error (see error());
  // every later call is false too. Bytes after the end of the body are not looked at.
  bool feed(const char* p, size_t n);
  bool done() const { return state_ == State::kDone; }
  const std::string& error() const { return error_; }

 private:
  enum class State { kSize, kExt, kLineLf, kData, kDataCr, kDataLf, kTrailer, kDone, kFailed };
  bool fail(std::string message);
  bool end_of_size_line();

  State state_ = State::kSize;
  uint64_t size_ = 0;       // of the chunk whose size line is being read
  size_t digits_ = 0;       // hex digits of that size so far
  size_t line_ = 0;         // bytes of the current size or trailer line
  uint64_t data_left_ = 0;  // data bytes of the current chunk still to come
  bool last_chunk_ = false;
  size_t trailer_ = 0;  // bytes of the trailer section so far
  std::string error_;
};

}  // namespace trove::http
