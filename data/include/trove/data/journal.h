// Journal: the append-only, checksummed, segmented event log in DATA_DIR/journal/. It is the
// system of record: State is a fold over it.
//
// On disk: segment files named `<first seq, 20 digits>.seg`, each a run of records
//   [u32 payload_len][u32 crc32c][u64 seq][i64 timestamp_ms][u16 type][payload bytes]
// little-endian; the CRC32C covers the length field and every byte after the crc field, so a
// flipped bit anywhere in a record is detected. Sequence numbers start at 1 and are
// consecutive across segments.
//
// Recovery on open: a damaged record that no valid record follows is a torn tail (a crash in
// the middle of a write, or a zero-filled preallocated end): the segment is truncated there
// and a warning names the bytes dropped. A damaged record that valid records follow (or that
// lies in a segment other than the last) is corruption: open fails with kCorruption, naming
// the segment file and byte offset.
//
//   auto j = Journal::open(dir, {});
//   RecordView r{.seq = j.value()->last_seq() + 1, .timestamp_ms = ts, .type = 3, .payload = json};
//   TROVE_RETURN_IF_ERROR(j.value()->append({&r, 1}));   // returns after fsync
//
// A failed write or fsync (a full disk, EIO) refuses the batch and leaves nothing of it: the
// segment is cut back to the end of the last acknowledged batch (truncate + fsync) before
// append() returns. Appends are then refused at once for JournalOptions::retry_after_ms, and
// the first one after that tries the journal again (cut once more, then write): writes resume
// by themselves when space returns. Writes go through an Env (trove/data/env.h), which tests
// replace to inject faults.
//
// Thread-safety: append() needs external synchronization (the Store's group-commit leader is
// the only writer); mark_unwritable() and unwritable() may be called from any thread, beside
// it; read() / scan() may run concurrently with each other and with append(), and see a
// prefix of the log.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "trove/data/env.h"
#include "trove/data/status.h"

namespace trove {

struct RecordView {
  uint64_t seq = 0;
  int64_t timestamp_ms = 0;
  uint16_t type = 0;
  std::string_view payload;
};

struct JournalOptions {
  uint64_t segment_bytes = 64ull << 20;  // start a new segment once the current one is larger
  // false only for benchmarks that say so, and for the test that proves the power-loss test
  // can fail: an acknowledged batch is then not durable.
  bool fsync = true;
  uint32_t max_payload_bytes = 1u << 20;
  // After a failed write, appends are refused this long before the journal is tried again.
  uint32_t retry_after_ms = 1000;
  Env* env = nullptr;  // nullptr: Env::posix(); not owned, must outlive the journal
};

struct JournalRecovery {
  uint64_t last_seq = 0;
  uint64_t records = 0;
  uint64_t bytes_dropped = 0;          // cut from a torn tail
  std::vector<std::string> warnings;  // human-readable, one per event worth reporting
};

class Journal {
 public:
  // Opens (creating if needed) the journal in `dir`, validating every record and cutting a
  // torn tail. `recovery`, when given, receives what was found.
  static Result<std::unique_ptr<Journal>> open(const std::string& dir, const JournalOptions& opts,
                                               JournalRecovery* recovery = nullptr);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Writes `records` as one batch and (with opts.fsync) fdatasyncs before returning.
  // REQUIRES: records[i].seq == last_seq() + 1 + i; payloads within max_payload_bytes.
  // A write or fsync error fails the call with kIOError after cutting the segment back to
  // where the batch began, so no record of it is ever read or replayed (should the cut fail
  // too, the message says so and every later attempt retries it). Later calls fail at once
  // with kIOError until opts.retry_after_ms have passed; the first call after that cuts again
  // (on a fresh file handle: the old one may carry the kernel's record of the error) and
  // writes.
  Status append(std::span<const RecordView> records);

  // Refuses appends as after a failed write (kIOError, retried after opts.retry_after_ms),
  // for a caller that found the disk unwritable elsewhere; `why` is in every refusal.
  void mark_unwritable(std::string why);
  // Whether appends are being refused (until the next retry succeeds), and why.
  bool unwritable() const;

  uint64_t last_seq() const;
  uint64_t bytes() const;          // total bytes in all segments
  uint64_t segment_count() const;
  const std::string& dir() const;

  // Calls fn for every record with seq >= from_seq, in order, until fn returns false.
  // Reads only what was fully appended before the call.
  Status read(uint64_t from_seq, const std::function<bool(const RecordView&)>& fn) const;

  // Read-only scan of a journal directory without opening it for writing (for `trove replay`
  // on a live data dir). A torn tail ends the scan quietly; corruption before it is an error.
  static Status scan(const std::string& dir, uint64_t from_seq,
                     const std::function<bool(const RecordView&)>& fn);

 private:
  struct Rep;
  explicit Journal(std::unique_ptr<Rep> rep);
  std::unique_ptr<Rep> rep_;
};

// CRC32C (Castagnoli), hardware-accelerated with SSE4.2 when the CPU has it.
uint32_t crc32c(const void* data, size_t n, uint32_t crc = 0);

}  // namespace trove
