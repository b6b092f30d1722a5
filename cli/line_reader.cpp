#include "line_reader.h"

#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <cstring>
#include <string>

namespace trove::cli {

LineReader::LineReader(int fd, size_t block_bytes, size_t padding)
    : fd_(fd), block_(block_bytes), buf_(block_bytes + padding, '\0') {
  assert(block_bytes > 0);
}

bool LineReader::fill() {
  if (eof_ || !status_.ok()) return false;
  if (begin_ > 0) {
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    scanned_ -= begin_;
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
  return true;  // full: the caller decides what an over-long line means
}

bool LineReader::next(Line* line) {
  uint64_t skipped = 0;  // bytes of an over-long line already thrown away
  for (;;) {
    const char* base = buf_.data();
    const void* nl =
        scanned_ < end_ ? std::memchr(base + scanned_, '\n', end_ - scanned_) : nullptr;
    if (nl != nullptr) {
      const size_t pos = static_cast<size_t>(static_cast<const char*>(nl) - base);
      line->number = ++line_no_;
      line->oversize_bytes = skipped == 0 ? 0 : skipped + (pos - begin_);
      line->text =
          skipped == 0 ? std::string_view(base + begin_, pos - begin_) : std::string_view();
      begin_ = scanned_ = pos + 1;
      return true;
    }
    scanned_ = end_;
    if (begin_ == 0 && end_ == block_) {
      // The line fills a whole block: drop what we have and keep skipping to its newline.
      skipped += end_;
      begin_ = end_ = scanned_ = 0;
    }
    if (!fill()) {
      if (!status_.ok()) return false;
      if (begin_ == end_ && skipped == 0) return false;  // clean end
      // A last line without '\n'. end_ <= block_, so the padding after it is in buf_.
      line->number = ++line_no_;
      line->oversize_bytes = skipped == 0 ? 0 : skipped + (end_ - begin_);
      line->text =
          skipped == 0 ? std::string_view(buf_.data() + begin_, end_ - begin_) : std::string_view();
      begin_ = end_ = scanned_ = 0;
      return true;
    }
  }
}

}  // namespace trove::cli
