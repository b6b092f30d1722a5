// Fuzz target: the journal reader (data/src/journal.cpp), which every start-up runs over the
// segment files of the data directory: Journal::scan (read-only, `trove replay`) and
// Journal::open (validation and recovery: a torn tail is cut, corruption refuses to open).
//
// The first byte picks what the rest is:
//   even: the bytes of one segment file, 00000000000000000001.seg;
//   odd:  a recipe for checksum-valid records (so mutations reach the sequence, segment and
//         tail rules rather than dying at the first CRC), then damage to apply to the files:
//           [u8 n][n x (u8 kind, u16 where, u8 value)] damage, then records, each
//           [u8 op][u8 len][len payload bytes]: op bit 7 starts a new segment first (bit 6:
//           misnamed by (op & 3) - 1), bit 5 skews the record's seq by (op & 3) - 1, op & 31
//           is the record type.
// Properties, beyond "no crash, no sanitizer report":
//   - scan and open agree: both fail (corruption), or both see the same records;
//   - after open, read(1) returns exactly the records recovery counted, with consecutive seqs;
//   - a record appended after recovery reads back, and a second open finds nothing to cut.
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "trove/data/journal.h"

namespace {

using namespace trove;

constexpr size_t kHeaderBytes = 26;  // journal.h: len, crc, seq, timestamp, type
constexpr size_t kMaxRecords = 64;

void put(std::string* out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}

// One record in the format journal.h documents, checksum included.
void encode_record(std::string* out, uint64_t seq, int64_t ts, uint16_t type,
                   std::string_view payload) {
  std::string rec;
  put(&rec, payload.size(), 4);
  put(&rec, 0, 4);  // crc, below
  put(&rec, seq, 8);
  put(&rec, static_cast<uint64_t>(ts), 8);
  put(&rec, type, 2);
  rec.append(payload);
  uint32_t crc = crc32c(rec.data(), 4);
  crc = crc32c(rec.data() + 8, kHeaderBytes - 8 + payload.size(), crc);
  for (int i = 0; i < 4; ++i) rec[4 + i] = static_cast<char>(crc >> (8 * i));
  out->append(rec);
}

std::string segment_name(uint64_t first_seq) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%020llu.seg", static_cast<unsigned long long>(first_seq));
  return buf;
}

struct Segment {
  std::string name;
  std::string bytes;
};

std::vector<Segment> build(fuzz::ByteReader& in) {
  struct Damage {
    uint8_t kind;
    uint16_t where;
    uint8_t value;
  };
  std::vector<Damage> damage(in.u8() % 4);
  for (auto& d : damage) d = {in.u8(), in.u16(), in.u8()};

  std::vector<Segment> segs{{segment_name(1), {}}};
  uint64_t seq = 1;
  for (size_t i = 0; i < kMaxRecords && !in.empty(); ++i) {
    const uint8_t op = in.u8();
    const std::string_view payload = in.bytes(in.u8());
    if ((op & 0x80) && !segs.back().bytes.empty()) {
      segs.push_back({segment_name((op & 0x40) ? seq + (op & 3) - 1 : seq), {}});
    }
    const uint64_t s = (op & 0x20) ? seq + (op & 3) - 1 : seq;
    encode_record(&segs.back().bytes, s, 1700000000000 + static_cast<int64_t>(i), op & 31, payload);
    ++seq;
  }
  for (const Damage& d : damage) {
    std::string& b = segs[d.kind / 4 % segs.size()].bytes;
    switch (d.kind % 4) {
      case 0:
        if (!b.empty()) b[d.where % b.size()] ^= static_cast<char>(d.value | 1);
        break;
      case 1:
        b.resize(d.where % (b.size() + 1));
        break;
      case 2:
        b.append(d.value, '\0');  // a preallocated, zero-filled end
        break;
      case 3:
        b.append(d.value, static_cast<char>(d.where));
        break;
    }
  }
  return segs;
}

struct Seen {
  uint64_t seq;
  uint16_t type;
  std::string payload;
  bool operator==(const Seen&) const = default;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::ByteReader in(data, size);
  std::vector<Segment> segs;
  if (in.u8() % 2 == 0) {
    segs.push_back({segment_name(1), std::string(in.rest())});
  } else {
    segs = build(in);
  }
  const std::string dir = fuzz::fresh_dir("journal");
  for (const Segment& s : segs) fuzz::write_file(dir + "/" + s.name, s.bytes);

  std::vector<Seen> scanned;
  const Status scan = Journal::scan(dir, 1, [&](const RecordView& r) {
    scanned.push_back({r.seq, r.type, std::string(r.payload)});
    return true;
  });

  JournalOptions opts;
  opts.fsync = false;
  JournalRecovery recovery;
  auto journal = Journal::open(dir, opts, &recovery);
  FUZZ_CHECK(scan.ok() == journal.ok(),
             "scan says " + scan.to_string() + ", open says " + journal.status().to_string());
  if (!journal.ok()) {
    FUZZ_CHECK(journal.status().code() == StatusCode::kCorruption,
               "damaged bytes gave a non-corruption error: " + journal.status().to_string());
    return 0;
  }
  Journal& j = *journal.value();
  FUZZ_CHECK(recovery.records == scanned.size(), "open counted another number of records");
  FUZZ_CHECK(j.last_seq() == recovery.last_seq, "last_seq differs from recovery's");

  std::vector<Seen> read;
  Status st = j.read(1, [&](const RecordView& r) {
    read.push_back({r.seq, r.type, std::string(r.payload)});
    return true;
  });
  FUZZ_CHECK(st.ok(), "read after a successful open failed: " + st.to_string());
  FUZZ_CHECK(read == scanned, "read after open differs from scan before it");
  for (size_t i = 1; i < read.size(); ++i) {
    FUZZ_CHECK(read[i].seq == read[i - 1].seq + 1, "read returned non-consecutive seqs");
  }
  if (!read.empty()) FUZZ_CHECK(read.back().seq == j.last_seq(), "last record is not last_seq");

  const uint64_t next = j.last_seq() + 1;
  if (next == 0) return 0;  // seq 2^64 - 1 recovered: nothing can follow it
  const RecordView rec{.seq = next, .timestamp_ms = 1, .type = 1, .payload = "appended"};
  st = j.append({&rec, 1});
  FUZZ_CHECK(st.ok(), "append after recovery failed: " + st.to_string());
  journal.value().reset();

  JournalRecovery second;
  auto reopened = Journal::open(dir, opts, &second);
  FUZZ_CHECK(reopened.ok(), "a recovered journal with one append does not reopen: " +
                                reopened.status().to_string());
  FUZZ_CHECK(second.bytes_dropped == 0 && second.last_seq == next,
             "the second open cut bytes or lost the appended record");
  std::string last;
  st = reopened.value()->read(next, [&](const RecordView& r) {
    last.assign(r.payload);
    return false;
  });
  FUZZ_CHECK(st.ok() && last == "appended", "the appended record does not read back");
  return 0;
}
