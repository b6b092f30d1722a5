// Fuzz target: `trove import --format jsonl` up to the event (cli/line_reader.cpp LineReader,
// cli/import_rows.cpp JsonRow, cli/import_mapper.cpp RowMapper), as run_import drives them:
// each non-blank line parsed as a JSON object, mapped to an ItemUpsert, and the item
// serialized and parsed back with the event rules. No Store (see import_csv_fuzzer.cpp).
//
// Input: [u8 options][--map values (fuzz_util.h short_strings)][JSONL text]. Options: bits
// 0-2 the line reader's block size (16 << n bytes), bit 5 --truncate, bit 6 the list
// separator ("|" or ", ").
// Oracle: the reader with a small block returns the same lines as one with a block the whole
// input fits in, except that a line too long for the small block comes back as skipped, with
// its true length.
#include <simdjson.h>
#include <unistd.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "../cli/import_mapper.h"
#include "../cli/import_rows.h"
#include "../cli/line_reader.h"
#include "fuzz_util.h"
#include "trove/data/events.h"

namespace {

using namespace trove;
using namespace trove::cli;

constexpr size_t kLargeBlock = 1u << 16;  // see import_csv_fuzzer.cpp
constexpr size_t kMaxLines = 256;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static EventParser parser;
  fuzz::ByteReader in(data, size);
  const uint8_t options = in.u8();
  const size_t block = size_t{16} << (options & 7);
  MapperOptions mopts;
  mopts.format = ImportFormat::kJsonl;
  mopts.truncate = (options & 0x20) != 0;
  static const std::string kSeparators[] = {"|", ", "};
  mopts.list_separator = kSeparators[(options >> 6) & 1];
  mopts.maps = fuzz::short_strings(in);
  const std::string_view text = in.rest();
  if (text.size() >= kLargeBlock) return 0;

  auto mapper = RowMapper::create(mopts, {});
  std::unique_ptr<JsonRow> row;
  if (mapper.ok()) {
    (void)mapper.value()->describe();
    row = std::make_unique<JsonRow>(mapper.value()->sources());
  }

  const int small_fd = fuzz::memory_fd(text);
  const int large_fd = fuzz::memory_fd(text);
  LineReader small(small_fd, block, simdjson::SIMDJSON_PADDING);
  LineReader large(large_fd, kLargeBlock, simdjson::SIMDJSON_PADDING);
  ItemUpsert item;
  std::string json;
  Line s, l;
  for (size_t i = 0; i < kMaxLines; ++i) {
    const bool more = small.next(&s);
    FUZZ_CHECK(more == large.next(&l), "the block size changed the number of lines");
    if (!more) break;
    FUZZ_CHECK(s.number == l.number && s.number == i + 1, "line numbers disagree");
    FUZZ_CHECK(l.oversize_bytes == 0, "a line longer than the whole input");
    if (s.oversize_bytes > 0) {
      FUZZ_CHECK(s.oversize_bytes == l.text.size() && l.text.size() >= block,
                 "a line reported too long has another length, or fits the block");
      continue;
    }
    FUZZ_CHECK(s.text == l.text, "the block size changed a line");
    if (!row) continue;

    // As import_rows: blank lines skipped, then parse, map, and the event rules.
    if (s.text.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    Status st = row->parse(s.text);
    if (!st.ok()) continue;
    st = mapper.value()->map(*row, &item);
    if (!st.ok()) {
      FUZZ_CHECK(!st.message().empty(), "a row error without a message");
      (void)mapper.value()->source_of(st.path());
      continue;
    }
    Event ev;
    ev.body = item;
    json.clear();
    serialize_event(ev, &json);
    const size_t n = json.size();
    json.append(EventParser::kPadding, ' ');
    Result<Event> parsed = parser.parse_padded(std::string_view(json.data(), n));
    if (parsed.ok()) {
      FUZZ_CHECK(std::get<ItemUpsert>(parsed.value().body) == item,
                 "a mapped item changed on its way through JSON: " + json.substr(0, n));
    }
  }
  FUZZ_CHECK(small.status().ok() && large.status().ok(), "reading a memfd failed");
  ::close(small_fd);
  ::close(large_fd);
  return 0;
}
