// Fuzz target: `trove import --format csv` up to the event (cli/import_csv.cpp CsvReader,
// cli/import_rows.cpp CsvRow, cli/import_mapper.cpp RowMapper), as run_import drives them:
// header, mapper, then each record mapped to an ItemUpsert that is serialized and parsed
// back with the event rules. No Store: committing is the journal's and the event fuzzer's.
//
// Input: [u8 options][--map values (fuzz_util.h short_strings)][CSV text]. Options: bits 0-2
// the reader's block size (16 << n bytes, so records cross block boundaries), bits 3-4 the
// delimiter (, ; tab |), bit 5 --truncate, bit 6 the list separator ("|" or ", ").
// Oracle: the reader with a small block returns the same records as one with a block the
// whole input fits in, up to the point where the small one gives up on a record longer
// than its block.
#include <simdjson.h>
#include <unistd.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "../cli/import_csv.h"
#include "../cli/import_mapper.h"
#include "../cli/import_rows.h"
#include "fuzz_util.h"
#include "trove/data/events.h"

namespace {

using namespace trove;
using namespace trove::cli;

// Holds any input the target reads (larger ones are skipped); not 1 MiB: ASan maps and faults
// in a fresh 1 MiB block per reader, which cut the target to ~30 executions a second.
constexpr size_t kLargeBlock = 1u << 16;
constexpr size_t kMaxRecords = 256;

struct Record {
  uint64_t line;
  std::vector<std::string> fields;
  std::string error;
  bool operator==(const Record&) const = default;
};

// All records (copied: a record's fields live only until the next call), and the status.
std::vector<Record> read_all(std::string_view text, char delim, size_t block, Status* status) {
  const int fd = fuzz::memory_fd(text);
  CsvReader reader(fd, delim, block);
  std::vector<Record> out;
  CsvRecord rec;
  uint64_t last_offset = 0;
  while (out.size() < kMaxRecords && reader.next(&rec)) {
    out.push_back({rec.line, {rec.fields.begin(), rec.fields.end()}, rec.error.to_string()});
    FUZZ_CHECK(reader.offset() >= last_offset && reader.offset() <= reader.bytes_read(),
               "offset() went backwards or past what was read");
    last_offset = reader.offset();
    if (out.size() > 1) FUZZ_CHECK(rec.line > out[out.size() - 2].line, "line numbers go back");
  }
  *status = reader.status();
  ::close(fd);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static EventParser parser;
  fuzz::ByteReader in(data, size);
  const uint8_t options = in.u8();
  const size_t block = size_t{16} << (options & 7);
  const char delim = ",;\t|"[(options >> 3) & 3];
  MapperOptions mopts;
  mopts.format = ImportFormat::kCsv;
  mopts.truncate = (options & 0x20) != 0;
  static const std::string kSeparators[] = {"|", ", "};
  mopts.list_separator = kSeparators[(options >> 6) & 1];
  mopts.maps = fuzz::short_strings(in);
  const std::string_view text = in.rest();
  if (text.size() >= kLargeBlock) return 0;

  Status small_status, large_status;
  const std::vector<Record> small = read_all(text, delim, block, &small_status);
  const std::vector<Record> large = read_all(text, delim, kLargeBlock, &large_status);
  FUZZ_CHECK(large_status.ok(), "a record longer than the whole input");
  if (small_status.ok()) {
    FUZZ_CHECK(small == large, "the block size changed the records");
  } else {
    FUZZ_CHECK(
        small.size() <= large.size() && std::equal(small.begin(), small.end(), large.begin()),
        "the block size changed the records before a record too long for the block");
  }

  // As run_import: a header without errors, a mapper for it, then the rows.
  if (large.empty() || !large[0].error.empty()) return 0;
  const std::vector<std::string>& header = large[0].fields;
  auto mapper = RowMapper::create(mopts, header);
  if (!mapper.ok()) return 0;
  RowMapper& m = *mapper.value();
  (void)m.describe();
  CsvRow row(m.sources(), header);
  ItemUpsert item;
  std::string json;
  for (size_t i = 1; i < large.size(); ++i) {
    const Record& r = large[i];
    if (!r.error.empty() || r.fields.size() != header.size()) continue;
    CsvRecord rec;
    rec.line = r.line;
    rec.fields.assign(r.fields.begin(), r.fields.end());
    row.reset(&rec);
    Status st = m.map(row, &item);
    if (!st.ok()) {
      FUZZ_CHECK(!st.message().empty(), "a row error without a message");
      (void)m.source_of(st.path());
      continue;
    }
    Event ev;
    ev.body = item;
    json.clear();
    serialize_event(ev, &json);
    const size_t n = json.size();
    json.append(EventParser::kPadding, ' ');
    Result<Event> parsed = parser.parse_padded(std::string_view(json.data(), n));
    if (!parsed.ok()) {
      (void)m.source_of(parsed.status().path());
    } else {
      FUZZ_CHECK(std::get<ItemUpsert>(parsed.value().body) == item,
                 "a mapped item changed on its way through JSON: " + json.substr(0, n));
    }
  }
  return 0;
}
