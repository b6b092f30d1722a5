// Env::posix(): the journal's writes as plain POSIX calls (trove/data/env.h).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "trove/data/env.h"

namespace trove {
namespace {

std::string os_error(int err) { return std::error_code(err, std::generic_category()).message(); }

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~PosixWritableFile() override { ::close(fd_); }
  PosixWritableFile(const PosixWritableFile&) = delete;
  PosixWritableFile& operator=(const PosixWritableFile&) = delete;

  Status append(std::string_view data) override {
    while (!data.empty()) {
      const ssize_t n = ::write(fd_, data.data(), data.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        return Status::io_error("write error on " + path_ + ": " +
                                (n < 0 ? os_error(errno) : std::string("write returned 0")));
      }
      data.remove_prefix(static_cast<size_t>(n));
    }
    return {};
  }

  Status sync() override {
    if (::fdatasync(fd_) != 0) {
      return Status::io_error("fdatasync error on " + path_ + ": " + os_error(errno));
    }
    return {};
  }

  Status truncate(uint64_t size) override {
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
      return Status::io_error("cannot truncate " + path_ + ": " + os_error(errno));
    }
    return {};
  }

 private:
  int fd_;
  std::string path_;
};

class PosixEnv final : public Env {
 public:
  Result<std::unique_ptr<WritableFile>> open_writable(const std::string& path, Open mode) override {
    // O_APPEND: every write lands at the end, also after a truncate() cut the file back.
    int flags = O_WRONLY | O_APPEND | O_CLOEXEC;
    if (mode == Open::kCreate) flags |= O_CREAT | O_TRUNC;
    const int fd = ::open(path.c_str(), flags, 0644);
    if (fd < 0) {
      return Status::io_error(
          std::string(mode == Open::kCreate ? "cannot create " : "cannot open ") + path + ": " +
          os_error(errno));
    }
    return std::unique_ptr<WritableFile>(new PosixWritableFile(fd, path));
  }

  Status sync_dir(const std::string& dir) override {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return Status::io_error("cannot open directory " + dir + ": " + os_error(errno));
    const int rc = ::fsync(fd);
    const int err = errno;
    ::close(fd);
    if (rc != 0) return Status::io_error("fsync of directory " + dir + " failed: " + os_error(err));
    return {};
  }
};

}  // namespace

Env* Env::posix() {
  static Env* const env = new PosixEnv();  // never destroyed: files may outlive statics
  return env;
}

}  // namespace trove
