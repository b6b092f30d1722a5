// CsvReader: streams RFC 4180 CSV from a file descriptor, one record at a time, in constant
// memory (one block; a record must fit in it).
//
// Grammar: fields separated by the delimiter; a field that starts with `"` is quoted and may
// hold the delimiter, newlines and doubled quotes (`""` is one `"`); records end at LF or CRLF
// outside quotes. Leniencies, as most producers need: a `"` inside an unquoted field is a
// literal character; a UTF-8 byte order mark before the header is skipped; empty lines are
// skipped. Text after a closing quote (`"ab"c`) and a quote still open at the end of the input
// make that record an error (CsvRecord::error), not a fatal one.
//
// Line numbers are 1-based physical lines; a record reports the line where it starts, so a
// record after one with an embedded newline still reports the right line.
//
// Ownership: does not own the fd. A record's fields point into the reader's block and stay
// valid until the next call to next(). Thread-safety: none; one reader per thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "trove/data/status.h"

namespace trove::cli {

struct CsvRecord {
  uint64_t line = 0;                     // where the record starts
  std::vector<std::string_view> fields;  // unquoted and unescaped
  Status error;                          // malformed quoting; fields are then unreliable
};

class CsvReader {
 public:
  static constexpr size_t kDefaultBlockBytes = 8u << 20;
  // REQUIRES: block_bytes >= 16.
  explicit CsvReader(int fd, char delimiter = ',', size_t block_bytes = kDefaultBlockBytes);

  // The next non-empty record; false at the end of the input or on a fatal error (status()):
  // a read error, or a record longer than the block (an unclosed quote, usually).
  bool next(CsvRecord* record);
  const Status& status() const { return status_; }
  uint64_t bytes_read() const { return bytes_read_; }
  // Bytes of the input consumed by the records returned so far.
  uint64_t offset() const { return bytes_read_ - (end_ - begin_); }

 private:
  struct Span {
    size_t begin;  // offsets from the record's start
    size_t end;
    bool escaped;  // holds doubled quotes to collapse
  };
  enum class Scan { kComplete, kNeedMore, kEndOfInput };
  // Scans one record from begin_ without modifying the block, so a scan cut short by the end
  // of the block can simply be redone after fill().
  Scan scan(size_t* record_end, size_t* next_begin, uint64_t* newlines, Status* error);
  bool fill();

  int fd_;
  char delim_;
  size_t block_;
  std::vector<char> buf_;
  size_t begin_ = 0;
  size_t end_ = 0;
  bool eof_ = false;
  bool at_start_ = true;  // a BOM may follow
  uint64_t line_ = 1;     // line of the byte at begin_
  uint64_t bytes_read_ = 0;
  std::vector<Span> spans_;
  Status status_;
};

}  // namespace trove::cli
