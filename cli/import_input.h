// ImportInput: the bytes of `trove import`'s FILE as a file descriptor to read() from: the file
// itself, stdin (`-`), or, for a zstd-compressed file (a `.zst` name or the zstd magic number),
// a pipe fed by a thread running libzstd's streaming decompressor. The readers above
// (LineReader, CsvReader) then see plain bytes whatever the input, and decompression runs on
// another core, overlapping the parsing.
//
// Memory is bounded: the decompressor holds one input and one output buffer (libzstd's
// recommended sizes) plus its window; the pipe holds at most 1 MiB.
//
// Ownership: owns the fds it opens and the thread. Thread-safety: consumed_bytes() may be
// called from any thread; everything else from the thread that opened it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "trove/data/status.h"

namespace trove::cli {

class ImportInput {
 public:
  static Result<std::unique_ptr<ImportInput>> open(const std::string& path);
  ~ImportInput();  // stops and joins the decompressor if finish() was not called
  ImportInput(const ImportInput&) = delete;
  ImportInput& operator=(const ImportInput&) = delete;

  int fd() const { return read_fd_; }
  bool compressed() const { return compressed_; }
  // Size of the input on disk (compressed, for zstd); 0 when unknown (stdin, a pipe).
  uint64_t total_bytes() const { return total_bytes_; }
  // How much of the input on disk has been consumed, given the bytes read from fd() so far:
  // for zstd, the compressed bytes the decompressor has taken in.
  uint64_t consumed_bytes(uint64_t read_from_fd) const {
    return compressed_ ? compressed_consumed_.load(std::memory_order_relaxed) : read_from_fd;
  }
  // Closes fd() and waits for the decompressor. Returns its error, if any: a damaged or
  // truncated zstd stream, a read error. Stopping early (closing the pipe) is not an error.
  Status finish();

 private:
  ImportInput() = default;
  void decompress(int src_fd, int pipe_fd);

  int source_fd_ = -1;  // the file (or stdin); read by the decompressor when compressed
  int read_fd_ = -1;    // what the caller reads: source_fd_, or the pipe's read end
  bool owns_source_ = false;
  bool compressed_ = false;
  uint64_t total_bytes_ = 0;
  std::atomic<uint64_t> compressed_consumed_{0};
  std::thread decompressor_;
  Status decompress_status_;  // written by the decompressor before it closes the pipe
  bool finished_ = false;
};

}  // namespace trove::cli
