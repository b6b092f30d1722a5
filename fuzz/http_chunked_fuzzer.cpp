// Fuzz target: the chunked body framing check (http/src/request_head.h ChunkedFraming), which
// sees a bulk body's bytes before httplib's chunked reader does.
//
// Input: the first byte picks how the rest is cut into the pieces feed() gets (as a socket
// delivers a body in reads of any size); the rest is the body. The verdict (accepted so far,
// done, or the error) must not depend on the cut, and an accepted body must respect the bounds
// the check promises: no chunk-size line longer than kMaxLine.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "request_head.h"

namespace {

struct Verdict {
  bool ok;
  bool done;
  std::string error;
  bool operator==(const Verdict&) const = default;
};

Verdict run(std::string_view body, size_t piece) {
  trove::http::ChunkedFraming f;
  bool ok = true;
  for (size_t at = 0; at < body.size() && ok && !f.done(); at += piece) {
    const std::string_view part = body.substr(at, piece);
    ok = f.feed(part.data(), part.size());
  }
  return {ok, f.done(), f.error()};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t piece = 1 + data[0] % 64;
  const std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);
  const Verdict whole = run(body, std::max<size_t>(1, body.size()));
  const Verdict bytewise = run(body, 1);
  const Verdict cut = run(body, piece);
  FUZZ_CHECK(whole == bytewise, "the verdict depends on how the body is cut (1 byte)");
  FUZZ_CHECK(whole == cut, "the verdict depends on how the body is cut");
  if (whole.ok) {
    // Every line before the data of the first chunk is a chunk-size line within the bound.
    const size_t eol = body.find('\n');
    FUZZ_CHECK(eol == std::string::npos ? body.size() <= trove::http::ChunkedFraming::kMaxLine + 1
                                        : eol <= trove::http::ChunkedFraming::kMaxLine + 1,
               "a chunk-size line over the bound was accepted");
  }
  return 0;
}
