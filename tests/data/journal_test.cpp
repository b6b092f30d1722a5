// Journal tests: CRC32C against published vectors, the on-disk layout decoded by hand, and
// recovery driven by damaging real segment files (cut at every byte, flip every bit).
#include "test_util.h"
#include "trove/data/journal.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

// Defined in data/src/crc32c.cpp, outside the public API, so both paths can be compared.
namespace trove::crc32c_internal {
uint32_t portable(const void* data, size_t n, uint32_t crc);
uint32_t hardware(const void* data, size_t n, uint32_t crc);
bool hardware_available();
}  // namespace trove::crc32c_internal

namespace {

namespace fs = std::filesystem;
using trove::Journal;
using trove::JournalOptions;
using trove::JournalRecovery;
using trove::RecordView;
using trove::StatusCode;

constexpr size_t kHeader = 26;

using TempDir = trove::test::TempDir;

struct OwnedRecord {
  uint64_t seq = 0;
  int64_t timestamp_ms = 0;
  uint16_t type = 0;
  std::string payload;
  bool operator==(const OwnedRecord&) const = default;
};

// Deterministic, varying sizes (including empty) so record boundaries fall everywhere.
OwnedRecord record_for(uint64_t seq) {
  OwnedRecord r;
  r.seq = seq;
  r.timestamp_ms = 1'700'000'000'000 + static_cast<int64_t>(seq) * 7;
  r.type = static_cast<uint16_t>(seq % 5);
  const size_t len = (seq * 37) % 61;
  for (size_t i = 0; i < len; ++i) r.payload += static_cast<char>('a' + (seq + i) % 26);
  return r;
}

RecordView view_of(const OwnedRecord& r) { return {r.seq, r.timestamp_ms, r.type, r.payload}; }

// Appends seqs last_seq()+1 .. last_seq()+n in batches of `batch`.
void append_n(Journal& j, uint64_t n, size_t batch = 1) {
  uint64_t next = j.last_seq() + 1;
  const uint64_t end = next + n;
  while (next < end) {
    std::vector<OwnedRecord> owned;
    for (size_t i = 0; i < batch && next < end; ++i) owned.push_back(record_for(next++));
    std::vector<RecordView> views;
    for (const auto& r : owned) views.push_back(view_of(r));
    auto s = j.append(views);
    REQUIRE(s.ok());
  }
}

std::vector<OwnedRecord> read_all(const Journal& j, uint64_t from = 1) {
  std::vector<OwnedRecord> out;
  auto s = j.read(from, [&](const RecordView& r) {
    out.push_back({r.seq, r.timestamp_ms, r.type, std::string(r.payload)});
    return true;
  });
  REQUIRE(s.ok());
  return out;
}

std::vector<OwnedRecord> expected_records(uint64_t from, uint64_t to) {
  std::vector<OwnedRecord> out;
  for (uint64_t s = from; s <= to; ++s) out.push_back(record_for(s));
  return out;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void spit(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

std::vector<std::string> segment_names(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".seg") names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string seg_name(uint64_t seq) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%020llu.seg", static_cast<unsigned long long>(seq));
  return buf;
}

void copy_dir(const std::string& from, const std::string& to) {
  fs::create_directories(to);
  for (const auto& e : fs::directory_iterator(from)) {
    fs::copy_file(e.path(), to + "/" + e.path().filename().string());
  }
}

// An encoder written from the header's format description, independent of journal.cpp.
std::string encode(const OwnedRecord& r) {
  std::string b(kHeader + r.payload.size(), '\0');
  auto put = [&](size_t off, uint64_t v, int n) {
    for (int i = 0; i < n; ++i) b[off + i] = static_cast<char>((v >> (8 * i)) & 0xFF);
  };
  put(0, r.payload.size(), 4);
  put(8, r.seq, 8);
  put(16, static_cast<uint64_t>(r.timestamp_ms), 8);
  put(24, r.type, 2);
  std::memcpy(b.data() + kHeader, r.payload.data(), r.payload.size());
  std::string covered = b.substr(0, 4) + b.substr(8);
  put(4, trove::crc32c(covered.data(), covered.size()), 4);
  return b;
}

JournalOptions small_segments(uint64_t bytes = 600) {
  JournalOptions o;
  o.segment_bytes = bytes;
  return o;
}

uint32_t crc_of(const std::string& s) { return trove::crc32c(s.data(), s.size()); }

}  // namespace

TEST_CASE("crc32c matches the standard test vectors", "[journal]") {
  std::string ascending, descending;
  for (int i = 0; i < 32; ++i) ascending += static_cast<char>(i);
  for (int i = 31; i >= 0; --i) descending += static_cast<char>(i);
  const std::vector<std::pair<std::string, uint32_t>> vectors = {
      {"", 0x00000000u},
      {"123456789", 0xE3069283u},
      {std::string(32, '\0'), 0x8A9136AAu},
      {std::string(32, '\xFF'), 0x62A8AB43u},
      {ascending, 0x46DD794Eu},
      {descending, 0x113FDB5Cu},
  };
  for (const auto& [input, want] : vectors) {
    CAPTURE(input.size());
    CHECK(crc_of(input) == want);
    CHECK(trove::crc32c_internal::portable(input.data(), input.size(), 0) == want);
    if (trove::crc32c_internal::hardware_available()) {
      CHECK(trove::crc32c_internal::hardware(input.data(), input.size(), 0) == want);
    }
  }
}

TEST_CASE("crc32c hardware and portable paths agree on random buffers and chain", "[journal]") {
  std::mt19937_64 rng(42);
  std::vector<unsigned char> buf(5000);
  for (auto& c : buf) c = static_cast<unsigned char>(rng());
  for (int iter = 0; iter < 2000; ++iter) {
    const size_t off = rng() % 16;  // misaligned starts exercise the byte-wise prologue
    const size_t len = rng() % (buf.size() - off);
    const uint32_t seed = iter % 3 == 0 ? 0 : static_cast<uint32_t>(rng());
    const uint32_t sw = trove::crc32c_internal::portable(buf.data() + off, len, seed);
    CAPTURE(off, len, seed);
    CHECK(trove::crc32c(buf.data() + off, len, seed) == sw);
    if (trove::crc32c_internal::hardware_available()) {
      CHECK(trove::crc32c_internal::hardware(buf.data() + off, len, seed) == sw);
    }
    const size_t split = len == 0 ? 0 : rng() % len;
    const uint32_t first = trove::crc32c(buf.data() + off, split, seed);
    CHECK(trove::crc32c(buf.data() + off + split, len - split, first) == sw);
  }
}

TEST_CASE("journal round-trips records across several segments after reopening", "[journal]") {
  TempDir tmp;
  const std::string dir = tmp.sub("data/journal");  // parents are created too
  {
    JournalRecovery rec;
    auto j = Journal::open(dir, small_segments(), &rec);
    REQUIRE(j.ok());
    CHECK(rec.last_seq == 0);
    CHECK(rec.warnings.empty());
    CHECK(j.value()->last_seq() == 0);
    CHECK(j.value()->dir() == dir);
    CHECK(read_all(*j.value()).empty());
    append_n(*j.value(), 50, 1);
    append_n(*j.value(), 150, 7);
    CHECK(j.value()->last_seq() == 200);
    CHECK(read_all(*j.value()) == expected_records(1, 200));
  }
  const auto names = segment_names(dir);
  REQUIRE(names.size() > 3);
  CHECK(names.front() == seg_name(1));
  uint64_t total = 0;
  for (const auto& n : names) total += fs::file_size(dir + "/" + n);

  JournalRecovery rec;
  auto j = Journal::open(dir, small_segments(), &rec);
  REQUIRE(j.ok());
  CHECK(rec.last_seq == 200);
  CHECK(rec.records == 200);
  CHECK(rec.bytes_dropped == 0);
  CHECK(rec.warnings.empty());
  CHECK(j.value()->segment_count() == names.size());
  CHECK(j.value()->bytes() == total);
  CHECK(read_all(*j.value()) == expected_records(1, 200));
  CHECK(read_all(*j.value(), 137) == expected_records(137, 200));
  CHECK(read_all(*j.value(), 201).empty());

  // Each segment is named after its first record.
  for (const auto& n : names) {
    const std::string bytes = slurp(dir + "/" + n);
    REQUIRE(bytes.size() >= kHeader);
    uint64_t seq = 0;
    std::memcpy(&seq, bytes.data() + 8, 8);
    CHECK(seg_name(seq) == n);
  }

  int seen = 0;
  CHECK(j.value()
            ->read(10,
                   [&](const RecordView& r) {
                     CHECK(r.seq == static_cast<uint64_t>(10 + seen));
                     return ++seen < 5;
                   })
            .ok());
  CHECK(seen == 5);

  append_n(*j.value(), 30, 4);
  CHECK(read_all(*j.value()) == expected_records(1, 230));
  CHECK(j.value()->segment_count() >= names.size());

  std::vector<OwnedRecord> scanned;
  j.value().reset();
  CHECK(Journal::scan(dir, 0, [&](const RecordView& r) {
          scanned.push_back({r.seq, r.timestamp_ms, r.type, std::string(r.payload)});
          return true;
        }).ok());
  CHECK(scanned == expected_records(1, 230));
}

TEST_CASE("journal writes the documented little-endian record layout", "[journal]") {
  TempDir tmp;
  auto j = Journal::open(tmp.path(), {});
  REQUIRE(j.ok());
  OwnedRecord r{1, -5, 0x0102, "hello"};
  RecordView v = view_of(r);
  REQUIRE(j.value()->append({&v, 1}).ok());
  CHECK(j.value()->bytes() == kHeader + 5);

  const std::string bytes = slurp(tmp.sub(seg_name(1)));
  using namespace std::string_literals;
  const std::string want =
      "\x05\x00\x00\x00"
      "CRC!"
      "\x01\x00\x00\x00\x00\x00\x00\x00"
      "\xFB\xFF\xFF\xFF\xFF\xFF\xFF\xFF"
      "\x02\x01"
      "hello"s;
  REQUIRE(bytes.size() == want.size());
  CHECK(bytes.substr(0, 4) == want.substr(0, 4));
  CHECK(bytes.substr(8) == want.substr(8));
  // The CRC covers the length field and everything after the crc field, in one pass.
  const uint32_t crc = crc_of(bytes.substr(0, 4) + bytes.substr(8));
  uint32_t stored = 0;
  for (int i = 3; i >= 0; --i) stored = (stored << 8) | static_cast<unsigned char>(bytes[4 + i]);
  CHECK(stored == crc);
  CHECK(bytes == encode(r));
}

TEST_CASE("journal append rejects a seq gap and an oversized payload without writing",
          "[journal]") {
  TempDir tmp;
  JournalOptions opts;
  opts.max_payload_bytes = 100;
  auto j = Journal::open(tmp.path(), opts);
  REQUIRE(j.ok());
  append_n(*j.value(), 3);

  OwnedRecord gap = record_for(5);
  RecordView v = view_of(gap);
  auto s = j.value()->append({&v, 1});
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK(s.to_string().find("seq 4 expected") != std::string::npos);

  OwnedRecord a = record_for(4), b = record_for(6);  // gap inside a batch
  std::vector<RecordView> batch = {view_of(a), view_of(b)};
  CHECK(j.value()->append(batch).code() == StatusCode::kInvalidArgument);

  OwnedRecord big{4, 0, 0, std::string(101, 'x')};
  v = view_of(big);
  s = j.value()->append({&v, 1});
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK(s.path() == "records[0].payload");

  CHECK(j.value()->last_seq() == 3);
  const uint64_t bytes = j.value()->bytes();
  CHECK(fs::file_size(tmp.sub(seg_name(1))) == bytes);
  // Rejected calls are not write failures: the journal stays usable.
  append_n(*j.value(), 2);
  CHECK(read_all(*j.value()) == expected_records(1, 5));
}

TEST_CASE("journal open reports a seq gap inside a segment as corruption", "[journal]") {
  TempDir tmp;
  const std::string seg = encode(record_for(1)) + encode(record_for(2));
  spit(tmp.sub(seg_name(1)), seg + encode(record_for(4)) + encode(record_for(5)));
  auto j = Journal::open(tmp.path(), {});
  REQUIRE_FALSE(j.ok());
  CHECK(j.status().code() == StatusCode::kCorruption);
  const std::string msg = j.status().to_string();
  CHECK(msg.find(seg_name(1)) != std::string::npos);
  CHECK(msg.find("offset " + std::to_string(seg.size())) != std::string::npos);
  CHECK(msg.find("seq 3") != std::string::npos);

  // Even as the very last record, a checksum-valid record with the wrong seq is no torn write.
  spit(tmp.sub(seg_name(1)), seg + encode(record_for(4)));
  CHECK(Journal::open(tmp.path(), {}).status().code() == StatusCode::kCorruption);
}

TEST_CASE("journal open reports a missing or misnamed segment as corruption", "[journal]") {
  TempDir tmp;
  {
    auto j = Journal::open(tmp.path(), small_segments(300));
    REQUIRE(j.ok());
    append_n(*j.value(), 60);
  }
  auto names = segment_names(tmp.path());
  REQUIRE(names.size() >= 3);

  SECTION("a middle segment deleted") {
    fs::remove(tmp.sub(names[1]));
    auto j = Journal::open(tmp.path(), {});
    CHECK(j.status().code() == StatusCode::kCorruption);
    CHECK(j.status().to_string().find(names[2]) != std::string::npos);
  }
  SECTION("a segment whose first record does not match its name") {
    spit(tmp.sub(seg_name(1)), encode(record_for(2)));
    for (size_t i = 1; i < names.size(); ++i) fs::remove(tmp.sub(names[i]));
    auto j = Journal::open(tmp.path(), {});
    CHECK(j.status().code() == StatusCode::kCorruption);
    CHECK(j.status().to_string().find("offset 0") != std::string::npos);
  }
  SECTION("an empty trailing segment with the wrong name") {
    spit(tmp.sub(seg_name(1000)), "");
    CHECK(Journal::open(tmp.path(), {}).status().code() == StatusCode::kCorruption);
  }
}

TEST_CASE("journal accepts an empty trailing segment and appends into it", "[journal]") {
  TempDir tmp;
  {
    auto j = Journal::open(tmp.path(), {});
    REQUIRE(j.ok());
    append_n(*j.value(), 10);
  }
  spit(tmp.sub(seg_name(11)), "");  // a crash right after rotation leaves this
  {
    JournalRecovery rec;
    auto j = Journal::open(tmp.path(), {}, &rec);
    REQUIRE(j.ok());
    CHECK(rec.last_seq == 10);
    CHECK(rec.warnings.empty());
    CHECK(j.value()->segment_count() == 2);
    append_n(*j.value(), 5);
  }
  CHECK(fs::file_size(tmp.sub(seg_name(11))) > 0);
  auto j = Journal::open(tmp.path(), {});
  REQUIRE(j.ok());
  CHECK(read_all(*j.value()) == expected_records(1, 15));
}

TEST_CASE("journal cuts a torn tail at every byte offset of the last record", "[journal]") {
  TempDir tmp;
  const std::string orig = tmp.sub("orig");
  constexpr uint64_t kN = 26;
  {
    auto j = Journal::open(orig, small_segments(400));
    REQUIRE(j.ok());
    append_n(*j.value(), kN - 1, 3);
    append_n(*j.value(), 1);
  }
  const auto names = segment_names(orig);
  REQUIRE(names.size() >= 2);
  const std::string last_seg = names.back();
  const uint64_t end = fs::file_size(orig + "/" + last_seg);
  const uint64_t start = end - (kHeader + record_for(kN).payload.size());
  REQUIRE(record_for(kN).payload.size() > 10);

  for (uint64_t cut = start; cut <= end; ++cut) {
    CAPTURE(cut, start, end);
    const std::string dir = tmp.sub("cut" + std::to_string(cut));
    copy_dir(orig, dir);
    fs::resize_file(dir + "/" + last_seg, cut);

    const uint64_t want_last = cut == end ? kN : kN - 1;
    {
      JournalRecovery rec;
      auto j = Journal::open(dir, small_segments(400), &rec);
      REQUIRE(j.ok());
      CHECK(rec.last_seq == want_last);
      CHECK(rec.records == want_last);
      CHECK(j.value()->last_seq() == want_last);
      if (cut == start || cut == end) {
        CHECK(rec.warnings.empty());
        CHECK(rec.bytes_dropped == 0);
      } else {
        REQUIRE(rec.warnings.size() == 1);
        CHECK(rec.bytes_dropped == cut - start);
        CHECK(rec.warnings[0] == "journal: torn tail in " + last_seg + " at offset " +
                                     std::to_string(start) + ": dropped " +
                                     std::to_string(cut - start) + " bytes");
        CHECK(fs::file_size(dir + "/" + last_seg) == start);
      }
      CHECK(read_all(*j.value()) == expected_records(1, want_last));
      append_n(*j.value(), kN + 2 - want_last);  // continues at want_last + 1
    }
    JournalRecovery rec;
    auto j = Journal::open(dir, small_segments(400), &rec);
    REQUIRE(j.ok());
    CHECK(rec.warnings.empty());
    CHECK(rec.last_seq == kN + 2);
    CHECK(read_all(*j.value()) == expected_records(1, kN + 2));
    j.value().reset();
    fs::remove_all(dir);
  }
}

TEST_CASE("journal cuts a zero-filled tail", "[journal]") {
  TempDir tmp;
  {
    auto j = Journal::open(tmp.path(), {});
    REQUIRE(j.ok());
    append_n(*j.value(), 10);
  }
  const std::string seg = tmp.sub(seg_name(1));
  const std::string good = slurp(seg);
  spit(seg, good + std::string(4096, '\0'));

  JournalRecovery rec;
  auto j = Journal::open(tmp.path(), {}, &rec);
  REQUIRE(j.ok());
  CHECK(rec.last_seq == 10);
  CHECK(rec.bytes_dropped == 4096);
  REQUIRE(rec.warnings.size() == 1);
  CHECK(rec.warnings[0].find("dropped 4096 bytes") != std::string::npos);
  CHECK(slurp(seg) == good);
  append_n(*j.value(), 1);
  CHECK(read_all(*j.value()) == expected_records(1, 11));
}

TEST_CASE("journal reports a flipped bit in any byte of a middle record as corruption",
          "[journal]") {
  TempDir tmp;
  constexpr uint64_t kN = 30, kMiddle = 15;
  {
    auto j = Journal::open(tmp.path(), {});
    REQUIRE(j.ok());
    append_n(*j.value(), kN, 4);
  }
  const std::string seg = tmp.sub(seg_name(1));
  const std::string good = slurp(seg);
  uint64_t offset = 0;
  for (uint64_t s = 1; s < kMiddle; ++s) offset += kHeader + record_for(s).payload.size();
  const size_t size = kHeader + record_for(kMiddle).payload.size();
  REQUIRE(good.substr(offset, size) == encode(record_for(kMiddle)));

  for (size_t byte = 0; byte < size; ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      CAPTURE(byte, bit);
      std::string bad = good;
      bad[offset + byte] = static_cast<char>(bad[offset + byte] ^ (1 << bit));
      spit(seg, bad);
      auto j = Journal::open(tmp.path(), {});
      REQUIRE_FALSE(j.ok());
      CHECK(j.status().code() == StatusCode::kCorruption);
      const std::string msg = j.status().to_string();
      CHECK(msg.find(seg_name(1)) != std::string::npos);
      CHECK(msg.find("at offset " + std::to_string(offset) + " ") != std::string::npos);
      CHECK(slurp(seg) == bad);  // corruption is reported, never "repaired" by cutting
    }
  }
  spit(seg, good);
  auto j = Journal::open(tmp.path(), {});
  REQUIRE(j.ok());
  CHECK(j.value()->last_seq() == kN);
}

TEST_CASE("journal refuses damage in a segment that is not the last", "[journal]") {
  TempDir tmp;
  {
    auto j = Journal::open(tmp.path(), small_segments(300));
    REQUIRE(j.ok());
    append_n(*j.value(), 40);
  }
  const auto names = segment_names(tmp.path());
  REQUIRE(names.size() >= 2);
  const std::string first = tmp.sub(names[0]);
  const std::string good = slurp(first);

  SECTION("its last record cut short") { spit(first, good.substr(0, good.size() - 3)); }
  SECTION("a bit flipped in its last byte") {
    std::string bad = good;
    bad.back() = static_cast<char>(bad.back() ^ 0x10);
    spit(first, bad);
  }
  SECTION("a zero-filled tail") { spit(first, good + std::string(64, '\0')); }
  auto j = Journal::open(tmp.path(), {});
  REQUIRE_FALSE(j.ok());
  CHECK(j.status().code() == StatusCode::kCorruption);
  CHECK(j.status().to_string().find(names[0]) != std::string::npos);
  CHECK(Journal::scan(tmp.path(), 0, [](const RecordView&) { return true; }).code() ==
        StatusCode::kCorruption);
}

TEST_CASE("journal scan stops quietly at a torn tail without modifying the files", "[journal]") {
  TempDir tmp;
  {
    auto j = Journal::open(tmp.path(), small_segments(500));
    REQUIRE(j.ok());
    append_n(*j.value(), 50, 2);
  }
  const std::string last = tmp.sub(segment_names(tmp.path()).back());
  const uint64_t torn_size = fs::file_size(last) - 7;
  fs::resize_file(last, torn_size);

  std::vector<OwnedRecord> got;
  auto collect = [&](const RecordView& r) {
    got.push_back({r.seq, r.timestamp_ms, r.type, std::string(r.payload)});
    return true;
  };
  CHECK(Journal::scan(tmp.path(), 0, collect).ok());
  CHECK(got == expected_records(1, 49));
  CHECK(fs::file_size(last) == torn_size);

  got.clear();
  CHECK(Journal::scan(tmp.path(), 33, collect).ok());
  CHECK(got == expected_records(33, 49));

  // Damage before the tail is still an error.
  const std::string first = tmp.sub(seg_name(1));
  std::string bad = slurp(first);
  bad[30] = static_cast<char>(bad[30] ^ 1);
  spit(first, bad);
  CHECK(Journal::scan(tmp.path(), 0, collect).code() == StatusCode::kCorruption);

  CHECK(Journal::scan(tmp.sub("missing"), 0, collect).code() == StatusCode::kNotFound);
}

TEST_CASE("journal refuses a second writer on the same directory", "[journal]") {
  TempDir tmp;
  auto a = Journal::open(tmp.path(), {});
  REQUIRE(a.ok());
  auto b = Journal::open(tmp.path(), {});
  CHECK(b.status().code() == StatusCode::kUnavailable);
  a.value().reset();
  CHECK(Journal::open(tmp.path(), {}).ok());
}

TEST_CASE("journal read sees a consecutive prefix while appends run", "[journal]") {
  TempDir tmp;
  auto j = Journal::open(tmp.path(), [] {
    JournalOptions o = small_segments(4096);
    o.fsync = false;
    return o;
  }());
  REQUIRE(j.ok());
  Journal& journal = *j.value();
  std::atomic<bool> done{false};
  std::thread writer([&] {
    append_n(journal, 3000, 5);
    done = true;
  });
  int rounds = 0;
  bool consistent = true;
  while (!done || rounds == 0) {
    const uint64_t floor = journal.last_seq();
    uint64_t next = 1;
    bool ok =
        journal
            .read(1,
                  [&](const RecordView& r) {
                    if (r.seq != next || std::string(r.payload) != record_for(r.seq).payload) {
                      consistent = false;
                    }
                    ++next;
                    return true;
                  })
            .ok();
    consistent = consistent && ok && next - 1 >= floor;
    ++rounds;
  }
  writer.join();
  CHECK(consistent);
  CHECK(read_all(journal) == expected_records(1, 3000));
}

// Sets RLIMIT_FSIZE (SIGXFSZ ignored) for as long as it lives: write() then stops part-way
// through a batch and fails with EFBIG, a real partial write on a real file.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(uint64_t bytes) {
    REQUIRE(::getrlimit(RLIMIT_FSIZE, &old_) == 0);
    old_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    struct rlimit tight = old_;
    tight.rlim_cur = bytes;
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &tight) == 0);
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &old_);
    std::signal(SIGXFSZ, old_handler_);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

 private:
  struct rlimit old_ {};
  void (*old_handler_)(int) = nullptr;
};

std::vector<RecordView> views_of(const std::vector<OwnedRecord>& owned) {
  std::vector<RecordView> views;
  for (const auto& r : owned) views.push_back(view_of(r));
  return views;
}

TEST_CASE("a batch refused part-way leaves none of its records, not even whole ones, for a restart",
          "[journal]") {
  // Issue 13 item 4: records of a refused batch that were written whole before the disk
  // filled stayed in the journal and were applied after a restart.
  TempDir tmp;
  const std::vector<OwnedRecord> refused = expected_records(11, 20);
  {
    auto j = Journal::open(tmp.path(), {});
    REQUIRE(j.ok());
    append_n(*j.value(), 10);
    const uint64_t before = j.value()->bytes();
    const uint64_t two_records = 2 * kHeader + refused[0].payload.size() + refused[1].payload.size();
    trove::Status s;
    {
      FileSizeLimit limit(before + two_records + 5);  // two whole records, then a torn one
      s = j.value()->append(views_of(refused));
    }
    CHECK(s.code() == StatusCode::kIOError);
    CHECK(s.message().find("journal unwritable") != std::string::npos);
    // Cut back before the call returned: nothing past the acknowledged end.
    CHECK(fs::file_size(tmp.sub(seg_name(1))) == before);
    CHECK(j.value()->last_seq() == 10);
    CHECK(read_all(*j.value()) == expected_records(1, 10));
  }
  JournalRecovery rec;
  auto j = Journal::open(tmp.path(), {}, &rec);
  REQUIRE(j.ok());
  CHECK(rec.last_seq == 10);
  CHECK(rec.bytes_dropped == 0);
  append_n(*j.value(), 4);
  CHECK(read_all(*j.value()) == expected_records(1, 14));
}

TEST_CASE("after a failed write the journal refuses at once, then writes again after the back-off",
          "[journal]") {
  // Issue 13 item 5: a failed write was sticky until a restart, even once the disk had room.
  TempDir tmp;
  JournalOptions opts;
  opts.retry_after_ms = 300;
  auto j = Journal::open(tmp.path(), opts);
  REQUIRE(j.ok());
  append_n(*j.value(), 10);
  const uint64_t before = j.value()->bytes();
  const std::vector<OwnedRecord> batch = expected_records(11, 14);
  const auto t0 = std::chrono::steady_clock::now();
  {
    FileSizeLimit limit(before + 40);
    CHECK(j.value()->append(views_of(batch)).code() == StatusCode::kIOError);
  }
  CHECK(j.value()->unwritable());
  // The limit is gone, but within the back-off the journal is not tried again.
  auto again = j.value()->append(views_of(batch));
  CHECK(again.code() == StatusCode::kIOError);
  CHECK(again.message().find("write error on") != std::string::npos);
  CHECK(again.message().find("tried again 300 ms after") != std::string::npos);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(300));
  CHECK(fs::file_size(tmp.sub(seg_name(1))) == before);

  std::this_thread::sleep_for(std::chrono::milliseconds(350));
  REQUIRE(j.value()->append(views_of(batch)).ok());
  CHECK_FALSE(j.value()->unwritable());
  CHECK(j.value()->last_seq() == 14);
  CHECK(read_all(*j.value()) == expected_records(1, 14));
  j.value().reset();
  JournalRecovery rec;
  auto reopened = Journal::open(tmp.path(), {}, &rec);
  REQUIRE(reopened.ok());
  CHECK(rec.bytes_dropped == 0);
  CHECK(read_all(*reopened.value()) == expected_records(1, 14));
}

TEST_CASE("a segment that is a full device refuses every append and holds nothing", "[journal]") {
  TempDir tmp;
  if (!fs::exists("/dev/full")) {
    WARN("skipped: /dev/full is absent");
    return;
  }
  fs::create_symlink("/dev/full", tmp.sub(seg_name(1)));
  JournalOptions opts;
  opts.retry_after_ms = 0;  // every append tries the device again
  auto j = Journal::open(tmp.path(), opts);
  REQUIRE(j.ok());
  OwnedRecord r = record_for(1);
  RecordView v = view_of(r);
  auto s = j.value()->append({&v, 1});
  CHECK(s.code() == StatusCode::kIOError);
  CHECK(s.message().find("No space left on device") != std::string::npos);
  CHECK(j.value()->append({&v, 1}).code() == StatusCode::kIOError);
  CHECK(j.value()->last_seq() == 0);
}
