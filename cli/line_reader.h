// LineReader: streams a file descriptor in large blocks and hands out its lines in place, each
// followed by at least `padding` readable bytes, so a simdjson-backed parser can read them
// without a copy (EventParser::parse_padded).
//
// Memory is bounded by the block size: a line that does not fit in a block is not kept; it is
// skipped to its newline and reported with its length, so the caller can reject it (a block is
// larger than the biggest valid event).
//
// Ownership: the reader does not own the fd. A returned line's text stays valid until the
// next call to next(). Thread-safety: none; one reader per thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "trove/data/status.h"

namespace trove::cli {

struct Line {
  uint64_t number = 0;          // 1-based
  std::string_view text;        // without the '\n'; empty when oversize_bytes > 0
  uint64_t oversize_bytes = 0;  // > 0: the line was longer than a block and was skipped
};

class LineReader {
 public:
  // REQUIRES: block_bytes > 0.
  LineReader(int fd, size_t block_bytes, size_t padding);

  // The next line, or false at the end of input or on a read error (see status()).
  bool next(Line* line);
  // A read error that ended the input early; OK otherwise.
  const Status& status() const { return status_; }
  uint64_t bytes_read() const { return bytes_read_; }

 private:
  // Moves unconsumed bytes to the front and reads more after them; false at EOF or error.
  bool fill();

  int fd_;
  size_t block_;
  std::vector<char> buf_;  // block_ + padding bytes; data in [begin_, end_)
  size_t begin_ = 0;
  size_t end_ = 0;
  size_t scanned_ = 0;  // no '\n' in [begin_, scanned_)
  bool eof_ = false;
  uint64_t line_no_ = 0;
  uint64_t bytes_read_ = 0;
  Status status_;
};

}  // namespace trove::cli
