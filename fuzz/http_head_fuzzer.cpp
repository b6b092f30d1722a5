// Fuzz target: the request head checks in front of httplib (http/src/conn.h check_head, then
// http/src/request_head.h parse_request_head), as every connection's first bytes reach them.
//
// Besides "no crash, no sanitizer report": a head check_head calls complete is parsed without
// reading past it; every field's line lies inside the head and starts with its name; a head
// that is accepted never has both a Content-Length and chunked framing, nor chunked framing on
// HTTP/1.0, and an HTTP/1.1 head has exactly one Host.
#include <cstdint>
#include <string>
#include <string_view>

#include "conn.h"
#include "fuzz_util.h"
#include "request_head.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace trove::http;
  static const Limits limits;
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  size_t head_len = 0;
  if (check_head(bytes, limits, &head_len) != HeadVerdict::kComplete) return 0;
  FUZZ_CHECK(head_len <= bytes.size(), "check_head's head is longer than its input");
  const std::string head = bytes.substr(0, head_len);  // its own allocation: ASan sees overreads
  RequestHead parsed;
  if (parse_request_head(head, &parsed)) return 0;
  size_t hosts = 0;
  for (const HeadField& f : parsed.fields) {
    FUZZ_CHECK(f.line_begin < f.line_end && f.line_end <= head.size(), "a field outside the head");
    FUZZ_CHECK(std::string_view(head).substr(f.line_begin).starts_with(f.name),
               "a field's line does not start with its name");
    hosts += f.is("Host");
  }
  FUZZ_CHECK(!(parsed.chunked && parsed.content_length), "Content-Length beside chunked");
  FUZZ_CHECK(!(parsed.chunked && parsed.minor_version == 0), "chunked on HTTP/1.0");
  FUZZ_CHECK(parsed.minor_version == 0 || hosts == 1, "an HTTP/1.1 head without one Host");
  return 0;
}
