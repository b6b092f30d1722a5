// Fuzz target: the event parser (data/src/event_parse.cpp), JSON text -> typed Event, as
// POST /v1/events, /v1/events/bulk and `trove ingest` run it on untrusted text.
//
// Input: NDJSON; each of the first kMaxLines lines is one event text. Besides "no crash, no
// sanitizer report", each accepted event must keep the promises the journal relies on:
//   - parse() and parse_padded() agree;
//   - serialize_event() of it parses back to the same event and serializes to the same bytes
//     (the journal stores this text: one that did not parse back would stop every start-up);
// and the accepted events, applied to a State in order as the Store applies them, give a
// state whose encoding decodes to the same digest (what a snapshot of it would load as).
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "trove/data/events.h"
#include "trove/data/state.h"

namespace {

constexpr size_t kMaxLines = 64;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace trove;
  static EventParser parser;  // reused across inputs, as the server reuses one per thread
  static EventParser reparser;
  const std::string_view in(reinterpret_cast<const char*>(data), size);

  State state;
  int64_t clock_ms = 1700000000000;
  std::string padded;
  size_t start = 0;
  for (size_t line = 0; line < kMaxLines && start <= in.size(); ++line) {
    size_t end = in.find('\n', start);
    if (end == std::string_view::npos) end = in.size();
    const std::string_view text = in.substr(start, end - start);
    start = end + 1;

    Result<Event> parsed = parser.parse(text);
    padded.assign(text);
    padded.append(EventParser::kPadding, '\0');
    Result<Event> parsed_padded = parser.parse_padded(std::string_view(padded.data(), text.size()));
    FUZZ_CHECK(parsed.ok() == parsed_padded.ok(), "parse and parse_padded disagree");
    if (!parsed.ok()) {
      FUZZ_CHECK(parsed.status().to_string() == parsed_padded.status().to_string(),
                 "parse and parse_padded give different errors");
      FUZZ_CHECK(!parsed.status().message().empty(), "an error without a message");
      continue;
    }
    Event& ev = parsed.value();
    FUZZ_CHECK(ev == parsed_padded.value(), "parse and parse_padded give different events");

    const std::string json = serialize_event(ev);
    Result<Event> again = reparser.parse(json);
    FUZZ_CHECK(again.ok(), "canonical JSON does not parse back: " + again.status().to_string() +
                               "\n  in:  " + std::string(text) + "\n  out: " + json);
    FUZZ_CHECK(again.value() == ev, "canonical JSON parses to another event: " + json);
    FUZZ_CHECK(serialize_event(again.value()) == json, "canonical JSON is not stable: " + json);

    // As Store::ingest: a repeated event_id is acknowledged, not applied; the time is stamped.
    if (ev.event_id && state.seq_of_event_id(*ev.event_id)) continue;
    if (!ev.timestamp_ms) ev.timestamp_ms = clock_ms += 1000;
    state.apply(state.last_seq() + 1, ev);
  }

  if (state.last_seq() > 0) {
    const std::string encoded = state.encode();
    Result<State> decoded = State::decode(encoded);
    FUZZ_CHECK(decoded.ok(),
               "a state the events made does not decode: " + decoded.status().to_string());
    FUZZ_CHECK(decoded.value().digest() == state.digest(), "decoded state has another digest");
  }
  return 0;
}
