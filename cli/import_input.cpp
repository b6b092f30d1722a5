#include "import_input.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <string_view>
#include <vector>

namespace trove::cli {
namespace {

constexpr unsigned char kZstdMagic[4] = {0x28, 0xB5, 0x2F, 0xFD};

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

// Writes all of [data, data+n) to fd; false when the reader has gone (EPIPE) or on error.
bool write_all(int fd, const char* data, size_t n, int* err) {
  while (n > 0) {
    const ssize_t w = ::write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      *err = errno;
      return false;
    }
    data += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

}  // namespace

Result<std::unique_ptr<ImportInput>> ImportInput::open(const std::string& path) {
  std::unique_ptr<ImportInput> in(new ImportInput());
  if (path == "-") {
    in->source_fd_ = STDIN_FILENO;
  } else {
    in->source_fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (in->source_fd_ < 0) return Status::io_error(errno_text("cannot open " + path));
    in->owns_source_ = true;
  }
  struct stat st {};
  if (::fstat(in->source_fd_, &st) == 0 && S_ISREG(st.st_mode)) {
    in->total_bytes_ = static_cast<uint64_t>(st.st_size);
    ::posix_fadvise(in->source_fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
    // A regular file can be sniffed without consuming it; stdin cannot.
    unsigned char head[4] = {};
    const bool magic = ::pread(in->source_fd_, head, 4, 0) == 4 &&
                       std::memcmp(head, kZstdMagic, sizeof kZstdMagic) == 0;
    in->compressed_ = magic || ends_with(path, ".zst");
  } else {
    in->compressed_ = ends_with(path, ".zst");
  }
  if (!in->compressed_) {
    in->read_fd_ = in->source_fd_;
    return in;
  }
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return Status::io_error(errno_text("pipe"));
  // A bigger pipe means fewer wakeups between the two threads; failure is harmless.
  (void)::fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
  in->read_fd_ = p[0];
  const int src = in->source_fd_;
  const int dst = p[1];
  ImportInput* self = in.get();
  in->decompressor_ = std::thread([self, src, dst] { self->decompress(src, dst); });
  return in;
}

void ImportInput::decompress(int src_fd, int pipe_fd) {
  // When the reader stops early it closes the pipe; the write must then fail with EPIPE
  // instead of killing the process with SIGPIPE. The signal is thread-directed, so blocking it
  // here leaves the rest of the process alone.
  sigset_t block;
  sigemptyset(&block);
  sigaddset(&block, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &block, nullptr);

  ZSTD_DCtx* dctx = ZSTD_createDCtx();
  std::vector<char> in_buf(ZSTD_DStreamInSize());
  std::vector<char> out_buf(ZSTD_DStreamOutSize());
  Status st;
  size_t last_ret = 0;  // 0: the last frame ended cleanly
  for (bool stop = false; !stop;) {
    const ssize_t n = ::read(src_fd, in_buf.data(), in_buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      st = Status::io_error(errno_text("read"));
      break;
    }
    if (n == 0) {
      if (last_ret != 0) {
        st = Status::corruption("truncated zstd stream: the input ends inside a frame");
      }
      break;
    }
    compressed_consumed_.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
    ZSTD_inBuffer input{in_buf.data(), static_cast<size_t>(n), 0};
    while (input.pos < input.size) {
      ZSTD_outBuffer output{out_buf.data(), out_buf.size(), 0};
      const size_t ret = ZSTD_decompressStream(dctx, &output, &input);
      if (ZSTD_isError(ret)) {
        st = Status::corruption(std::string("zstd: ") + ZSTD_getErrorName(ret));
        stop = true;
        break;
      }
      last_ret = ret;
      int err = 0;
      if (!write_all(pipe_fd, out_buf.data(), output.pos, &err)) {
        if (err != EPIPE) st = Status::io_error(std::string("pipe: ") + std::strerror(err));
        stop = true;  // EPIPE: the reader stopped; nothing more is wanted
        break;
      }
    }
  }
  ZSTD_freeDCtx(dctx);
  decompress_status_ = st;
  ::close(pipe_fd);  // the reader sees EOF after the last byte
}

Status ImportInput::finish() {
  if (finished_) return decompress_status_;
  finished_ = true;
  if (compressed_) {
    ::close(read_fd_);  // unblocks a decompressor still writing (EPIPE)
    if (decompressor_.joinable()) decompressor_.join();
  }
  if (owns_source_) ::close(source_fd_);
  read_fd_ = source_fd_ = -1;
  return decompress_status_;
}

ImportInput::~ImportInput() { (void)finish(); }

}  // namespace trove::cli
