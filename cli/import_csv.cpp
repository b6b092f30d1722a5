#include "import_csv.h"

#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <cstring>
#include <string>

namespace trove::cli {

CsvReader::CsvReader(int fd, char delimiter, size_t block_bytes)
    : fd_(fd), delim_(delimiter), block_(block_bytes), buf_(block_bytes) {
  assert(block_bytes >= 16);
}

bool CsvReader::fill() {
  if (eof_ || !status_.ok()) return false;
  if (begin_ > 0) {
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  while (end_ < block_) {
    const ssize_t n = ::read(fd_, buf_.data() + end_, block_ - end_);
    if (n < 0) {
      if (errno == EINTR) continue;
      status_ = Status::io_error(std::string("read failed: ") + std::strerror(errno));
      return false;
    }
    if (n == 0) {
      eof_ = true;
      return false;
    }
    end_ += static_cast<size_t>(n);
    bytes_read_ += static_cast<uint64_t>(n);
    return true;
  }
  return false;  // full
}

CsvReader::Scan CsvReader::scan(size_t* record_end, size_t* next_begin, uint64_t* newlines,
                                Status* error) {
  enum class S { kFieldStart, kUnquoted, kQuoted, kAfterQuote, kAfterQuoteCr };
  spans_.clear();
  *newlines = 0;
  *error = Status();
  const char* b = buf_.data() + begin_;
  const size_t n = end_ - begin_;
  S s = S::kFieldStart;
  size_t fstart = 0;  // content start of the current field
  size_t qend = 0;    // closing quote of the current quoted field
  bool escaped = false;
  const auto unquoted_end = [&](size_t pos) {  // drops the CR of a CRLF
    return pos > fstart && b[pos - 1] == '\r' ? pos - 1 : pos;
  };
  const auto garbage = [&] {
    if (error->ok()) {
      *error = Status::invalid(
          "text after a closing quote (a quote inside a quoted field must be doubled)",
          "column " + std::to_string(spans_.size() + 1));
    }
  };
  for (size_t pos = 0; pos < n; ++pos) {
    const char c = b[pos];
    switch (s) {
      case S::kFieldStart:
        if (c == '"') {
          s = S::kQuoted;
          fstart = pos + 1;
          escaped = false;
        } else if (c == delim_) {
          spans_.push_back({pos, pos, false});
        } else if (c == '\n') {
          spans_.push_back({pos, pos, false});
          *record_end = pos;
          *next_begin = begin_ + pos + 1;
          return Scan::kComplete;
        } else {
          s = S::kUnquoted;
          fstart = pos;
        }
        break;
      case S::kUnquoted: {
        // The hot loop: jump to the next delimiter or newline.
        size_t p = pos;
        while (p < n && b[p] != delim_ && b[p] != '\n') ++p;
        if (p == n) {
          pos = n - 1;
          break;
        }
        spans_.push_back({fstart, b[p] == '\n' ? unquoted_end(p) : p, false});
        if (b[p] == '\n') {
          *record_end = p;
          *next_begin = begin_ + p + 1;
          return Scan::kComplete;
        }
        s = S::kFieldStart;
        pos = p;
        break;
      }
      case S::kQuoted: {
        const void* q = std::memchr(b + pos, '"', n - pos);
        const size_t p = q ? static_cast<size_t>(static_cast<const char*>(q) - b) : n;
        for (size_t i = pos; i < p; ++i) *newlines += b[i] == '\n';
        if (p == n) {
          pos = n - 1;
          break;
        }
        s = S::kAfterQuote;
        qend = p;
        pos = p;
        break;
      }
      case S::kAfterQuote:
        if (c == '"') {
          escaped = true;
          s = S::kQuoted;
        } else if (c == delim_ || c == '\n') {
          spans_.push_back({fstart, qend, escaped});
          if (c == '\n') {
            *record_end = pos;
            *next_begin = begin_ + pos + 1;
            return Scan::kComplete;
          }
          s = S::kFieldStart;
        } else if (c == '\r') {
          s = S::kAfterQuoteCr;
        } else {
          garbage();
          s = S::kUnquoted;  // the rest of the field is read as unquoted text
        }
        break;
      case S::kAfterQuoteCr:
        if (c == '\n') {
          spans_.push_back({fstart, qend, escaped});
          *record_end = pos;
          *next_begin = begin_ + pos + 1;
          return Scan::kComplete;
        }
        garbage();
        s = c == delim_ ? S::kFieldStart : S::kUnquoted;
        if (c == delim_) spans_.push_back({fstart, qend, escaped});
        break;
    }
  }
  if (!eof_) return Scan::kNeedMore;
  if (n == 0) return Scan::kEndOfInput;
  // The last record has no newline.
  switch (s) {
    case S::kFieldStart:
      spans_.push_back({n, n, false});
      break;
    case S::kUnquoted:
      spans_.push_back({fstart, unquoted_end(n), false});
      break;
    case S::kQuoted:
      *error = Status::invalid("quoted field is not closed before the end of the input",
                               "column " + std::to_string(spans_.size() + 1));
      spans_.push_back({fstart, n, escaped});
      break;
    case S::kAfterQuote:
    case S::kAfterQuoteCr:
      spans_.push_back({fstart, qend, escaped});
      break;
  }
  *record_end = n;
  *next_begin = end_;
  return Scan::kComplete;
}

bool CsvReader::next(CsvRecord* record) {
  if (!status_.ok()) return false;
  for (;;) {
    if (at_start_) {
      if (end_ - begin_ < 3 && !eof_) {
        if (!fill() && !status_.ok()) return false;
        if (end_ - begin_ < 3 && !eof_) continue;
      }
      at_start_ = false;
      if (end_ - begin_ >= 3 && std::memcmp(buf_.data() + begin_, "\xEF\xBB\xBF", 3) == 0) {
        begin_ += 3;
      }
    }
    size_t record_end = 0;
    size_t next_begin = 0;
    uint64_t newlines = 0;
    Status error;
    const Scan r = scan(&record_end, &next_begin, &newlines, &error);
    if (r == Scan::kEndOfInput) return false;
    if (r == Scan::kNeedMore) {
      if (begin_ == 0 && end_ == block_) {
        status_ = Status::invalid(
            "record longer than " + std::to_string(block_ >> 20) + " MiB (is a quote left open?)",
            "line " + std::to_string(line_));
        return false;
      }
      if (!fill() && !status_.ok()) return false;
      continue;
    }
    char* base = buf_.data() + begin_;
    const uint64_t start_line = line_;
    line_ += newlines + (next_begin > begin_ + record_end ? 1 : 0);
    const bool blank = record_end == 0 || (record_end == 1 && base[0] == '\r');
    begin_ = next_begin;
    if (blank) continue;
    record->line = start_line;
    record->error = std::move(error);
    record->fields.clear();
    for (const Span& sp : spans_) {
      char* f = base + sp.begin;
      size_t len = sp.end - sp.begin;
      if (sp.escaped) {
        // Collapse "" to " in place: the block is not rescanned after a complete scan.
        size_t w = 0;
        for (size_t i = 0; i < len; ++i) {
          f[w++] = f[i];
          if (f[i] == '"' && i + 1 < len && f[i + 1] == '"') ++i;
        }
        len = w;
      }
      record->fields.emplace_back(f, len);
    }
    return true;
  }
}

}  // namespace trove::cli
