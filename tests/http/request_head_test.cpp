// The strict request head parser and the chunked framing check (http/src/request_head.h), on
// bytes alone: what RFC 9112 lets through and what it does not.
#include "request_head.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <string>

using trove::http::ChunkedFraming;
using trove::http::parse_request_head;
using trove::http::RequestHead;

namespace {

// The status a head is refused with, 0 when it is accepted.
int refused(const std::string& head) {
  RequestHead h;
  const auto err = parse_request_head(head, &h);
  return err ? err->status : 0;
}

// Feeds `body` in pieces of `piece` bytes; "done", "more" (accepted so far) or the error.
std::string frame(const std::string& body, size_t piece) {
  ChunkedFraming f;
  for (size_t at = 0; at < body.size(); at += piece) {
    if (!f.feed(body.data() + at, std::min(piece, body.size() - at))) return f.error();
  }
  return f.done() ? "done" : "more";
}

}  // namespace

TEST_CASE("a well-formed head is parsed: fields, Content-Length lists, keep-alive",
          "[http][request_head]") {
  RequestHead h;
  const std::string head =
      "\r\nPOST /v1/events?x=1 HTTP/1.1\r\nHost: t\r\ncontent-length: 5, 5\r\n"
      "X-Empty:\r\nConnection: close\r\nUser-Agent: caf\xc3\xa9\r\n\r\n";
  REQUIRE_FALSE(parse_request_head(head, &h));
  CHECK(h.method == "POST");
  CHECK(h.target == "/v1/events?x=1");
  CHECK(h.path == "/v1/events");
  CHECK(h.content_length == 5u);
  CHECK_FALSE(h.chunked);
  CHECK(h.field("CONTENT-LENGTH") == "5, 5");
  CHECK(h.field("x-empty") == "");
  CHECK_FALSE(h.keep_alive());
  REQUIRE(h.fields.size() == 5);
  CHECK(head.substr(h.fields[0].line_begin, h.fields[0].line_end - h.fields[0].line_begin) ==
        "Host: t\r\n");
  REQUIRE_FALSE(parse_request_head("GET / HTTP/1.0\nConnection: Keep-Alive\n\n", &h));
  CHECK(h.keep_alive());
  REQUIRE_FALSE(parse_request_head("GET / HTTP/1.0\r\n\r\n", &h));  // no Host needed on 1.0
  CHECK_FALSE(h.keep_alive());
}

TEST_CASE("heads RFC 9112 forbids are refused with 400 (501 for an unknown coding)",
          "[http][request_head]") {
  const std::string ok = "POST /v1/events/bulk HTTP/1.1\r\nHost: t\r\n";
  CHECK(refused(ok + "Transfer-Encoding: chunked\r\n\r\n") == 0);
  CHECK(refused(ok + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n") == 400);
  CHECK(refused(ok + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n") == 400);
  CHECK(refused(ok + "Transfer-Encoding : chunked\r\n\r\n") == 400);
  CHECK(refused(ok + "Transfer-Encoding: gzip, chunked\r\n\r\n") == 501);
  CHECK(refused("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n") == 400);
  CHECK(refused(ok + "Content-Length: 2\r\nContent-Length: 3\r\n\r\n") == 400);
  CHECK(refused(ok + "Content-Length: +2\r\n\r\n") == 400);
  CHECK(refused(ok + "Content-Length: 0x2\r\n\r\n") == 400);
  CHECK(refused(ok + "Content-Length: 99999999999999999999999\r\n\r\n") == 400);
  CHECK(refused(ok + "X-A: b\r\n folded\r\n\r\n") == 400);
  CHECK(refused(ok + "X-A: b\x01" "c\r\n\r\n") == 400);
  CHECK(refused(ok + "X-A: b\rc\r\n\r\n") == 400);
  CHECK(refused(ok + "NoColon\r\n\r\n") == 400);
  CHECK(refused(ok + "Expect: something\r\n\r\n") == 417);
  CHECK(refused("GET /healthz HTTP/1.1\r\n\r\n") == 400);
  CHECK(refused("GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n") == 400);
  CHECK(refused("GET  /healthz HTTP/1.1\r\nHost: a\r\n\r\n") == 400);
  CHECK(refused("GET /healthz HTTP/2.0\r\nHost: a\r\n\r\n") == 400);
  CHECK(refused("G(T /healthz HTTP/1.1\r\nHost: a\r\n\r\n") == 400);
}

TEST_CASE("chunked framing: sizes, extensions, trailers, whatever the reads' sizes",
          "[http][request_head]") {
  const std::string good = "2\r\n{}\r\na;name=\"v\"\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\n";
  for (const size_t piece : {1u, 2u, 3u, 7u, 64u}) {
    INFO(piece);
    CHECK(frame(good, piece) == "done");
    CHECK(frame("2\n{}\n0\n\n", piece) == "done");  // bare LF line ends
    CHECK(frame("0x2\r\n{}\r\n0\r\n\r\n", piece) == "invalid character in a chunk size");
    CHECK(frame(" 2\r\n{}\r\n", piece) == "a chunk size must start with a hex digit");
    CHECK(frame("-2\r\n", piece) == "a chunk size must start with a hex digit");
    CHECK(frame("12345678901234567\r\n", piece) == "chunk size over 16 hex digits");
    CHECK(frame("2\r\n{}x\r\n", piece) == "chunk data longer than its size");
    CHECK(frame("2\r\n{}\rx", piece) == "chunk data longer than its size");
    CHECK(frame("2\r\n{}\r\n0\r\n", piece) == "more");
  }
  CHECK(frame("2;" + std::string(ChunkedFraming::kMaxLine - 3, 'e') + "\r\n{}\r\n0\r\n\r\n", 512) ==
        "done");
  CHECK(frame("2;" + std::string(ChunkedFraming::kMaxLine, 'e'), 512) ==
        "chunk-size line over 4096 bytes");
  CHECK(frame("0\r\n" + std::string(ChunkedFraming::kMaxTrailerBytes + 1, 't'), 512) ==
        "trailer section over 16384 bytes");
}
