// Segmented, checksummed journal. See trove/data/journal.h for the format and the recovery
// rules; this file adds the mechanics:
//
// - Writes: one batch = one buffer = one append = one fdatasync, through the Env. A failed
//   write or sync leaves the file's tail in an unknown state (part of the batch written; the
//   kernel may have dropped dirty pages and will not report it twice, see the PostgreSQL
//   "fsyncgate" discussion), so the segment is cut back to the committed size, which earlier
//   fsyncs made durable, and the next attempt writes through a freshly opened handle. Nothing
//   after the committed size was acknowledged, so the cut loses nothing.
// - Reads: segments are read through a 1 MiB buffer with pread (not mmap: a reader of a live
//   directory must not die of SIGBUS when the writer's recovery truncates a torn tail), and
//   only up to the sizes recorded after the last completed append, so a reader never sees a
//   half-written batch.
// - Validation walks every record once (CRC32C at a few GB/s), then classifies the first bad
//   record: torn tail (cut it) or corruption (refuse to open).
#include "trove/data/journal.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <optional>
#include <system_error>
#include <utility>

namespace trove {
namespace {

// [u32 payload_len][u32 crc32c][u64 seq][i64 timestamp_ms][u16 type]
constexpr size_t kLenOffset = 0;
constexpr size_t kCrcOffset = 4;
constexpr size_t kSeqOffset = 8;
constexpr size_t kTimestampOffset = 16;
constexpr size_t kTypeOffset = 24;
constexpr size_t kHeaderBytes = 26;
constexpr size_t kReadChunk = 1u << 20;
constexpr size_t kNameDigits = 20;
constexpr std::string_view kSegmentSuffix = ".seg";

std::string os_error(int err) { return std::error_code(err, std::generic_category()).message(); }

// Owns a file descriptor; closes it on destruction.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

// Explicit byte order so the format does not depend on the host.
void put_u16(unsigned char* p, uint16_t v) {
  p[0] = static_cast<unsigned char>(v);
  p[1] = static_cast<unsigned char>(v >> 8);
}
void put_u32(unsigned char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}
void put_u64(unsigned char* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}
uint16_t get_u16(const unsigned char* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t get_u32(const unsigned char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
uint64_t get_u64(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// Covers the length field and everything after the crc field.
uint32_t record_crc(const unsigned char* record, uint32_t payload_len) {
  const uint32_t crc = crc32c(record + kLenOffset, 4);
  return crc32c(record + kSeqOffset, kHeaderBytes - kSeqOffset + payload_len, crc);
}

std::string segment_name(uint64_t first_seq) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%020" PRIu64 ".seg", first_seq);
  return buf;
}

// "<20 digits>.seg" -> first seq; anything else is not a segment and is ignored.
std::optional<uint64_t> parse_segment_name(std::string_view name) {
  if (name.size() != kNameDigits + kSegmentSuffix.size()) return std::nullopt;
  if (name.substr(kNameDigits) != kSegmentSuffix) return std::nullopt;
  uint64_t seq = 0;
  const char* end = name.data() + kNameDigits;
  auto [ptr, ec] = std::from_chars(name.data(), end, seq);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return seq;
}

std::string join(const std::string& dir, std::string_view name) {
  std::string path = dir;
  if (!path.empty() && path.back() != '/') path += '/';
  path += name;
  return path;
}

std::string parent_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// mkdir -p that fsyncs the parent of every directory it creates, so the new directory entry
// survives a crash along with whatever is written inside it.
Status make_dirs(Env& env, const std::string& path) {
  if (path.empty()) return Status::invalid("journal directory is empty", "dir");
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    std::string prefix = path.substr(0, pos);
    while (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
    if (::mkdir(prefix.c_str(), 0755) == 0) {
      TROVE_RETURN_IF_ERROR(env.sync_dir(parent_of(prefix)));
      continue;
    }
    const int err = errno;
    struct stat st {};
    if (err == EEXIST && ::stat(prefix.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) continue;
    return Status::io_error("cannot create directory " + prefix + ": " + os_error(err));
  }
  return Status::ok_status();
}

struct SegmentInfo {
  uint64_t first_seq = 0;
  std::string name;
  uint64_t size = 0;  // validated / committed bytes
};

Result<std::vector<SegmentInfo>> list_segments(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    const int err = errno;
    if (err == ENOENT) return Status::not_found("journal directory " + dir + " does not exist");
    return Status::io_error("cannot list journal directory " + dir + ": " + os_error(err));
  }
  std::vector<SegmentInfo> segs;
  errno = 0;
  while (const dirent* e = ::readdir(d)) {
    if (auto seq = parse_segment_name(e->d_name)) segs.push_back({*seq, e->d_name, 0});
  }
  const int err = errno;
  ::closedir(d);
  if (err != 0)
    return Status::io_error("cannot list journal directory " + dir + ": " + os_error(err));
  std::sort(segs.begin(), segs.end(),
            [](const SegmentInfo& a, const SegmentInfo& b) { return a.first_seq < b.first_seq; });
  return segs;
}

enum class Defect { kNone, kTruncatedHeader, kTruncated, kTooLong, kBadChecksum };

struct Decoded {
  Defect defect = Defect::kNone;
  uint32_t payload_len = 0;
  RecordView record;
  size_t size() const { return kHeaderBytes + payload_len; }
};

// Decodes the record at p; `avail` bytes from p are readable and are all that is left of the
// segment (or at least all this record needs).
Decoded decode_record(const unsigned char* p, size_t avail, uint32_t max_payload) {
  Decoded d;
  if (avail < kHeaderBytes) {
    d.defect = Defect::kTruncatedHeader;
    return d;
  }
  d.payload_len = get_u32(p + kLenOffset);
  // Checked before the length is trusted for anything, so a flipped high bit never makes us
  // read (or allocate) gigabytes.
  if (d.payload_len > max_payload) {
    d.defect = Defect::kTooLong;
  } else if (avail - kHeaderBytes < d.payload_len) {
    d.defect = Defect::kTruncated;
  } else if (record_crc(p, d.payload_len) != get_u32(p + kCrcOffset)) {
    d.defect = Defect::kBadChecksum;
  }
  d.record.seq = get_u64(p + kSeqOffset);
  d.record.timestamp_ms = static_cast<int64_t>(get_u64(p + kTimestampOffset));
  d.record.type = get_u16(p + kTypeOffset);
  if (d.defect == Defect::kNone) {
    d.record.payload =
        std::string_view(reinterpret_cast<const char*>(p + kHeaderBytes), d.payload_len);
  }
  return d;
}

std::string describe(const Decoded& d, uint32_t max_payload) {
  switch (d.defect) {
    case Defect::kNone:
      return "valid record";
    case Defect::kTruncatedHeader:
      return "truncated record header";
    case Defect::kTruncated:
      return "truncated record (payload length " + std::to_string(d.payload_len) + ")";
    case Defect::kTooLong:
      return "payload length " + std::to_string(d.payload_len) + " over the limit of " +
             std::to_string(max_payload);
    case Defect::kBadChecksum:
      return "bad checksum";
  }
  return "bad record";
}

// Reads the first `limit` bytes of one segment in order, through a large buffer so a replay
// costs one pread per MiB rather than one per record.
class SegmentReader {
 public:
  SegmentReader(int fd, uint64_t limit, uint32_t max_payload)
      : fd_(fd), limit_(limit), max_payload_(max_payload) {}

  bool at_end() const { return pos_ >= limit_; }
  uint64_t offset() const { return pos_; }  // of the record next() decodes

  // Decodes the record at offset(); its payload view lives until the next call. Only an I/O
  // error is a non-OK status; a damaged record is reported through out->defect.
  // REQUIRES: !at_end().
  Status next(Decoded* out) {
    const uint64_t remaining = limit_ - pos_;
    size_t want = static_cast<size_t>(std::min<uint64_t>(kHeaderBytes, remaining));
    TROVE_RETURN_IF_ERROR(fill(want));
    if (buffered() >= kHeaderBytes) {
      const uint32_t len = get_u32(cur() + kLenOffset);
      if (len <= max_payload_) {
        want = static_cast<size_t>(std::min<uint64_t>(kHeaderBytes + len, remaining));
        TROVE_RETURN_IF_ERROR(fill(want));
      }
    }
    *out = decode_record(cur(), buffered(), max_payload_);
    return Status::ok_status();
  }

  void advance(size_t n) { pos_ += n; }

 private:
  const unsigned char* cur() const { return buf_.data() + (pos_ - buf_offset_); }
  size_t buffered() const { return static_cast<size_t>(buf_offset_ + buf_len_ - pos_); }

  // Makes at least `want` bytes from pos_ available (fewer only if the file is shorter).
  Status fill(size_t want) {
    if (buffered() >= want) return Status::ok_status();
    const size_t keep = buffered();
    if (keep > 0) std::memmove(buf_.data(), cur(), keep);
    buf_offset_ = pos_;
    buf_len_ = keep;
    // A chunk at most, and no more than the segment still holds: a short segment (the last
    // one, or every one the journal fuzzer makes) gets a buffer its size, not a chunk.
    const size_t chunk = static_cast<size_t>(std::min<uint64_t>(kReadChunk, limit_ - buf_offset_));
    if (buf_.size() < std::max(want, chunk)) buf_.resize(std::max(want, chunk));
    const size_t target =
        static_cast<size_t>(std::min<uint64_t>(buf_.size(), limit_ - buf_offset_));
    while (buf_len_ < target) {
      const ssize_t n = ::pread(fd_, buf_.data() + buf_len_, target - buf_len_,
                                static_cast<off_t>(buf_offset_ + buf_len_));
      if (n < 0) {
        if (errno == EINTR) continue;
        return Status::io_error("journal read failed: " + os_error(errno));
      }
      if (n == 0) break;  // the file shrank; the caller sees a truncated record
      buf_len_ += static_cast<size_t>(n);
    }
    return Status::ok_status();
  }

  int fd_;
  uint64_t limit_;
  uint32_t max_payload_;
  uint64_t pos_ = 0;
  std::vector<unsigned char> buf_;
  uint64_t buf_offset_ = 0;  // file offset of buf_[0]
  size_t buf_len_ = 0;
};

struct LaterRecord {
  uint64_t offset = 0;
  uint64_t seq = 0;
};

// Looks at every byte offset after `bad_offset` for a checksum-valid record with a seq past
// `last_good`. A torn write cannot produce one (the bytes after a tear were never written),
// so finding one means the bad record is damage in the middle of the log, e.g. a flipped bit
// in a length field that makes the record appear to run off the end of the file.
// Cost: one pass over the rest of the segment; most offsets fail the seq or length test
// before any checksum is computed.
Result<std::optional<LaterRecord>> find_later_record(int fd, uint64_t bad_offset, uint64_t size,
                                                     uint64_t last_good, uint32_t max_payload) {
  std::vector<unsigned char> rest(static_cast<size_t>(size - bad_offset));
  size_t have = 0;
  while (have < rest.size()) {
    const ssize_t n =
        ::pread(fd, rest.data() + have, rest.size() - have, static_cast<off_t>(bad_offset + have));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::io_error("journal read failed: " + os_error(errno));
    }
    if (n == 0) break;
    have += static_cast<size_t>(n);
  }
  for (size_t y = 1; y + kHeaderBytes <= have; ++y) {
    const unsigned char* p = rest.data() + y;
    const uint64_t seq = get_u64(p + kSeqOffset);
    if (seq <= last_good) continue;
    const uint32_t len = get_u32(p + kLenOffset);
    if (len > max_payload || len > have - y - kHeaderBytes) continue;
    if (record_crc(p, len) != get_u32(p + kCrcOffset)) continue;
    return std::optional<LaterRecord>(LaterRecord{bad_offset + y, seq});
  }
  return std::optional<LaterRecord>();
}

struct TornTail {
  size_t segment = 0;
  uint64_t offset = 0;
  uint64_t file_size = 0;
};

struct WalkResult {
  uint64_t last_seq = 0;
  uint64_t records = 0;
  std::optional<TornTail> torn;
};

using RecordFn = std::function<bool(const RecordView&)>;

// Validates the segments in order (names continuing the seq, every record's length, checksum
// and seq), calling fn (if any) for records with seq >= from_seq until it returns false.
// With skip_before, segments that hold only records below from_seq are not read. Fills each
// segment's size and stops at the first bad record: corruption is returned as an error, a
// torn tail in the last segment is reported in out->torn.
Status walk_segments(const std::string& dir, std::vector<SegmentInfo>& segs, uint32_t max_payload,
                     uint64_t from_seq, const RecordFn* fn, bool skip_before, WalkResult* out) {
  uint64_t expected = segs.empty() ? 1 : segs.front().first_seq;
  for (size_t i = 0; i < segs.size(); ++i) {
    SegmentInfo& seg = segs[i];
    const bool last = i + 1 == segs.size();
    if (seg.first_seq == 0) {
      return Status::corruption("journal segment " + seg.name + ": sequence numbers start at 1");
    }
    if (seg.first_seq != expected) {
      return Status::corruption("journal segment " + seg.name + ": starts at seq " +
                                std::to_string(seg.first_seq) + " but seq " +
                                std::to_string(expected) +
                                " was expected (a segment is missing or misnamed)");
    }
    if (skip_before && !last && segs[i + 1].first_seq <= from_seq) {
      expected = segs[i + 1].first_seq;
      continue;
    }
    const std::string path = join(dir, seg.name);
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return Status::io_error("cannot open " + path + ": " + os_error(errno));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
      return Status::io_error("cannot stat " + path + ": " + os_error(errno));
    }
    seg.size = static_cast<uint64_t>(st.st_size);

    SegmentReader reader(fd.get(), seg.size, max_payload);
    while (!reader.at_end()) {
      Decoded d;
      TROVE_RETURN_IF_ERROR(reader.next(&d));
      const uint64_t at = reader.offset();
      const std::string where = "journal segment " + seg.name + ": ";
      if (d.defect == Defect::kNone && d.record.seq != expected) {
        // A checksum-valid record is never the product of a torn write.
        return Status::corruption(where + "sequence gap at offset " + std::to_string(at) +
                                  ": found seq " + std::to_string(d.record.seq) + ", seq " +
                                  std::to_string(expected) + " expected");
      }
      if (d.defect != Defect::kNone) {
        const std::string what = where + describe(d, max_payload) + " at offset " +
                                 std::to_string(at) + " (record seq " + std::to_string(expected) +
                                 " expected)";
        if (!last) return Status::corruption(what + " in a segment that is not the last");
        auto later = find_later_record(fd.get(), at, seg.size, expected - 1, max_payload);
        if (!later.ok()) return later.status();
        if (later.value()) {
          return Status::corruption(what + "; valid record seq " +
                                    std::to_string(later.value()->seq) + " follows at offset " +
                                    std::to_string(later.value()->offset));
        }
        out->torn = TornTail{i, at, seg.size};
        out->last_seq = expected - 1;
        return Status::ok_status();
      }
      if (fn != nullptr && d.record.seq >= from_seq && !(*fn)(d.record)) {
        out->last_seq = expected;
        return Status::ok_status();
      }
      ++expected;
      ++out->records;
      reader.advance(d.size());
    }
  }
  out->last_seq = expected - 1;
  return Status::ok_status();
}

}  // namespace

struct Journal::Rep {
  using Clock = std::chrono::steady_clock;

  std::string dir;
  JournalOptions opts;
  Env* env = nullptr;
  Fd dir_fd;  // holds the writer's flock
  std::unique_ptr<WritableFile> seg_file;  // the last segment
  std::string encode_buf;

  // Set by a failed write or sync, or by mark_unwritable() (from any thread), until a retry
  // succeeds; read without a lock as the writer's fast check and by unwritable().
  std::atomic<bool> failed{false};
  std::mutex fail_mu;  // guards the three below (mark_unwritable may run beside append)
  std::string failure;          // what failed, for every refusal
  Clock::time_point failed_at;  // the next attempt waits opts.retry_after_ms from here
  bool tail_cut = true;         // the last segment is back at its committed size

  // Guards what read() and the accessors snapshot; append() is the only mutator.
  mutable std::mutex mu;
  std::vector<SegmentInfo> segments;  // sizes cover completed appends only
  uint64_t last_seq = 0;
  uint64_t bytes = 0;

  // A write or sync failed: refuse this batch and cut what it left, so that none of it is
  // ever read back (a restart would otherwise replay the records that made it to disk).
  Status fail(const Status& what) {
    std::lock_guard<std::mutex> lock(fail_mu);
    failed = true;
    failed_at = Clock::now();
    failure = what.message();
    tail_cut = cut_to_committed().ok();
    return refusal();
  }
  Status refusal() const {
    return Status::io_error("journal unwritable: " + failure +
                            (tail_cut ? "" : " (and the refused records could not be cut yet)") +
                            "; writes are tried again " + std::to_string(opts.retry_after_ms) +
                            " ms after the failure");
  }
  // Opens the last segment afresh and cuts it to its committed size (fsynced).
  Status cut_to_committed();
  // Failed and not yet due for a retry: the refusal. Due: cut and reopen; OK when writable.
  // REQUIRES: fail_mu held.
  Status retry();

  Status start_segment(uint64_t first_seq);
};

Status Journal::Rep::cut_to_committed() {
  const SegmentInfo& seg = segments.back();  // only append() changes it: no lock needed
  auto file = env->open_writable(join(dir, seg.name), Env::Open::kExisting);
  if (!file.ok()) return file.status();
  TROVE_RETURN_IF_ERROR(file.value()->truncate(seg.size));
  if (opts.fsync) TROVE_RETURN_IF_ERROR(file.value()->sync());
  seg_file = std::move(file).value();
  return Status::ok_status();
}

Status Journal::Rep::retry() {
  if (Clock::now() - failed_at < std::chrono::milliseconds(opts.retry_after_ms)) {
    return refusal();
  }
  if (Status st = cut_to_committed(); !st.ok()) {
    failed_at = Clock::now();
    failure = st.message();
    tail_cut = false;
    return refusal();
  }
  tail_cut = true;
  failed = false;
  return Status::ok_status();
}

Status Journal::Rep::start_segment(uint64_t first_seq) {
  const std::string name = segment_name(first_seq);
  const std::string path = join(dir, name);
  // kCreate empties a file of that name: only a failed earlier creation leaves one (a segment
  // on disk named after a seq past the end would have been found at open).
  auto file = env->open_writable(path, Env::Open::kCreate);
  if (!file.ok()) return file.status();
  // The directory entry must be durable before any record in the new file is acknowledged.
  if (opts.fsync) TROVE_RETURN_IF_ERROR(env->sync_dir(dir));
  seg_file = std::move(file).value();
  std::lock_guard<std::mutex> lock(mu);
  segments.push_back({first_seq, name, 0});
  return Status::ok_status();
}

Journal::Journal(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}
Journal::~Journal() {
  // A refused batch whose cut failed is still on disk: a restart would replay it. Last try.
  if (rep_->failed && !rep_->tail_cut) (void)rep_->cut_to_committed();
}

Result<std::unique_ptr<Journal>> Journal::open(const std::string& dir, const JournalOptions& opts,
                                               JournalRecovery* recovery) {
  Env* env = opts.env != nullptr ? opts.env : Env::posix();
  TROVE_RETURN_IF_ERROR(make_dirs(*env, dir));
  auto rep = std::make_unique<Rep>();
  rep->dir = dir;
  rep->opts = opts;
  rep->env = env;
  rep->dir_fd = Fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!rep->dir_fd.valid()) {
    return Status::io_error("cannot open journal directory " + dir + ": " + os_error(errno));
  }
  // Two writers would interleave records; scan() readers take no lock.
  if (::flock(rep->dir_fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      return Status::unavailable("journal " + dir + " is already open for writing");
    }
    return Status::io_error("cannot lock journal directory " + dir + ": " + os_error(errno));
  }

  auto listed = list_segments(dir);
  if (!listed.ok()) return listed.status();
  std::vector<SegmentInfo> segs = std::move(listed).value();

  JournalRecovery found;
  WalkResult walk;
  TROVE_RETURN_IF_ERROR(walk_segments(dir, segs, opts.max_payload_bytes, 0, nullptr, false, &walk));
  found.last_seq = walk.last_seq;
  found.records = walk.records;

  if (walk.torn) {
    SegmentInfo& seg = segs[walk.torn->segment];
    const std::string path = join(dir, seg.name);
    auto file = env->open_writable(path, Env::Open::kExisting);
    Status cut = file.ok() ? file.value()->truncate(walk.torn->offset) : file.status();
    if (cut.ok()) cut = file.value()->sync();
    if (!cut.ok()) return Status::io_error("cannot cut torn tail: " + cut.message());
    seg.size = walk.torn->offset;
    const uint64_t dropped = walk.torn->file_size - walk.torn->offset;
    found.bytes_dropped = dropped;
    found.warnings.push_back("journal: torn tail in " + seg.name + " at offset " +
                             std::to_string(walk.torn->offset) + ": dropped " +
                             std::to_string(dropped) + " bytes");
  }

  rep->last_seq = found.last_seq;
  for (const SegmentInfo& s : segs) rep->bytes += s.size;
  rep->segments = std::move(segs);
  if (rep->segments.empty()) {
    // Always-fsync here: creating the journal is rare and must not be lost.
    const bool fsync = rep->opts.fsync;
    rep->opts.fsync = true;
    Status s = rep->start_segment(1);
    rep->opts.fsync = fsync;
    if (!s.ok()) return Status::io_error("cannot create the first journal segment: " + s.message());
  } else {
    auto file = env->open_writable(join(dir, rep->segments.back().name), Env::Open::kExisting);
    if (!file.ok()) return file.status();
    rep->seg_file = std::move(file).value();
  }
  if (recovery != nullptr) *recovery = std::move(found);
  return std::unique_ptr<Journal>(new Journal(std::move(rep)));
}

Status Journal::append(std::span<const RecordView> records) {
  Rep& r = *rep_;
  if (records.empty()) return Status::ok_status();
  if (r.failed) {
    std::lock_guard<std::mutex> lock(r.fail_mu);
    TROVE_RETURN_IF_ERROR(r.retry());
  }

  // Checked at run time, not only asserted: a gap written in a release build would make the
  // journal refuse to open, which is far worse than a rejected call.
  const uint64_t next = r.last_seq + 1;  // only append() writes last_seq, so no lock needed
  size_t total = 0;
  for (size_t i = 0; i < records.size(); ++i) {
    const RecordView& rec = records[i];
    if (rec.seq != next + i) {
      return Status::invalid("record has seq " + std::to_string(rec.seq) + ", seq " +
                                 std::to_string(next + i) + " expected",
                             "records[" + std::to_string(i) + "].seq");
    }
    if (rec.payload.size() > r.opts.max_payload_bytes) {
      return Status::invalid("payload of " + std::to_string(rec.payload.size()) +
                                 " bytes is over the limit of " +
                                 std::to_string(r.opts.max_payload_bytes),
                             "records[" + std::to_string(i) + "].payload");
    }
    total += kHeaderBytes + rec.payload.size();
  }

  if (r.segments.back().size > r.opts.segment_bytes) {
    if (Status st = r.start_segment(next); !st.ok()) return r.fail(st);
  }

  r.encode_buf.resize(total);
  auto* out = reinterpret_cast<unsigned char*>(r.encode_buf.data());
  for (const RecordView& rec : records) {
    const auto len = static_cast<uint32_t>(rec.payload.size());
    put_u32(out + kLenOffset, len);
    put_u64(out + kSeqOffset, rec.seq);
    put_u64(out + kTimestampOffset, static_cast<uint64_t>(rec.timestamp_ms));
    put_u16(out + kTypeOffset, rec.type);
    if (len > 0) std::memcpy(out + kHeaderBytes, rec.payload.data(), len);
    put_u32(out + kCrcOffset, record_crc(out, len));
    out += kHeaderBytes + len;
  }

  if (Status st = r.seg_file->append(r.encode_buf); !st.ok()) return r.fail(st);
  if (r.opts.fsync) {
    if (Status st = r.seg_file->sync(); !st.ok()) return r.fail(st);
  }

  std::lock_guard<std::mutex> lock(r.mu);
  r.segments.back().size += total;
  r.bytes += total;
  r.last_seq = records.back().seq;
  return Status::ok_status();
}

void Journal::mark_unwritable(std::string why) {
  Rep& r = *rep_;
  std::lock_guard<std::mutex> lock(r.fail_mu);
  r.failed = true;
  r.failed_at = Rep::Clock::now();
  r.failure = std::move(why);
  // tail_cut stays as it was: nothing was written for this.
}

bool Journal::unwritable() const { return rep_->failed.load(); }

uint64_t Journal::last_seq() const {
  std::lock_guard<std::mutex> lock(rep_->mu);
  return rep_->last_seq;
}

uint64_t Journal::bytes() const {
  std::lock_guard<std::mutex> lock(rep_->mu);
  return rep_->bytes;
}

uint64_t Journal::segment_count() const {
  std::lock_guard<std::mutex> lock(rep_->mu);
  return rep_->segments.size();
}

const std::string& Journal::dir() const { return rep_->dir; }

Status Journal::read(uint64_t from_seq, const std::function<bool(const RecordView&)>& fn) const {
  std::vector<SegmentInfo> segs;
  uint64_t last = 0;
  {
    std::lock_guard<std::mutex> lock(rep_->mu);
    segs = rep_->segments;
    last = rep_->last_seq;
  }
  if (from_seq > last || segs.empty()) return Status::ok_status();
  // The last segment whose first seq is <= from_seq holds it; earlier ones are not opened.
  auto it = std::upper_bound(segs.begin(), segs.end(), from_seq,
                             [](uint64_t seq, const SegmentInfo& s) { return seq < s.first_seq; });
  size_t start = it == segs.begin() ? 0 : static_cast<size_t>(it - segs.begin()) - 1;

  const uint32_t max_payload = rep_->opts.max_payload_bytes;
  for (size_t i = start; i < segs.size(); ++i) {
    const SegmentInfo& seg = segs[i];
    if (seg.size == 0) continue;
    const std::string path = join(rep_->dir, seg.name);
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return Status::io_error("cannot open " + path + ": " + os_error(errno));
    SegmentReader reader(fd.get(), seg.size, max_payload);
    uint64_t expected = seg.first_seq;
    while (!reader.at_end()) {
      Decoded d;
      TROVE_RETURN_IF_ERROR(reader.next(&d));
      if (d.defect != Defect::kNone || d.record.seq != expected) {
        // Everything below the committed size was validated or written by us: the file
        // changed underneath the journal.
        return Status::corruption("journal segment " + seg.name + ": " +
                                  (d.defect != Defect::kNone
                                       ? describe(d, max_payload)
                                       : "found seq " + std::to_string(d.record.seq)) +
                                  " at offset " + std::to_string(reader.offset()) +
                                  " (record seq " + std::to_string(expected) + " expected)");
      }
      if (d.record.seq >= from_seq && !fn(d.record)) return Status::ok_status();
      ++expected;
      reader.advance(d.size());
    }
  }
  return Status::ok_status();
}

Status Journal::scan(const std::string& dir, uint64_t from_seq,
                     const std::function<bool(const RecordView&)>& fn) {
  auto listed = list_segments(dir);
  if (!listed.ok()) return listed.status();
  std::vector<SegmentInfo> segs = std::move(listed).value();
  // scan() has no options; records written with a larger max_payload_bytes would read as
  // corrupt here, which is the conservative answer.
  const uint32_t max_payload = JournalOptions{}.max_payload_bytes;
  WalkResult walk;
  return walk_segments(dir, segs, max_payload, from_seq, &fn, true, &walk);
}

}  // namespace trove
