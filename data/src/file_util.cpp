#include "file_util.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace trove::file_util {

std::string errno_text(std::string_view what, const std::string& path) {
  return std::string(what) + " " + path + ": " + std::strerror(errno);
}

Status fsync_dir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::io_error(errno_text("open", dir));
  const int rc = ::fsync(fd);
  const int saved = errno;
  ::close(fd);
  errno = saved;
  if (rc != 0) return Status::io_error(errno_text("fsync", dir));
  return {};
}

Status make_dirs(const std::string& path) {
  namespace fs = std::filesystem;
  fs::path p = fs::absolute(path).lexically_normal();
  if (fs::is_directory(p)) return {};
  if (p.has_parent_path() && p.parent_path() != p) {
    TROVE_RETURN_IF_ERROR(make_dirs(p.parent_path().string()));
  }
  if (::mkdir(p.c_str(), 0755) != 0 && errno != EEXIST) {
    return Status::io_error(errno_text("mkdir", p.string()));
  }
  return fsync_dir(p.parent_path().string());
}

namespace {
// Opens `path` read-only and tells its size; the caller closes *fd.
Status open_for_reading(const std::string& path, int* fd, size_t* size) {
  *fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (*fd < 0) return Status::io_error(errno_text("open", path));
  struct stat st {};
  if (::fstat(*fd, &st) != 0) {
    ::close(*fd);
    return Status::io_error(errno_text("stat", path));
  }
  *size = static_cast<size_t>(st.st_size);
  return {};
}
}  // namespace

Status read_file(const std::string& path, std::string* out) {
  int fd = -1;
  size_t size = 0;
  TROVE_RETURN_IF_ERROR(open_for_reading(path, &fd, &size));
  out->resize(size);
  size_t done = 0;
  while (done < out->size()) {
    const ssize_t n = ::read(fd, out->data() + done, out->size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return Status::io_error(errno_text("read", path));
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  return {};
}

Status MappedFile::open(const std::string& path, MappedFile* out) {
  int fd = -1;
  MappedFile m;
  TROVE_RETURN_IF_ERROR(open_for_reading(path, &fd, &m.size_));
  if (m.size_ > 0) {
    void* p = ::mmap(nullptr, m.size_, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    if (p == MAP_FAILED) {
      ::close(fd);
      return Status::io_error(errno_text("mmap", path));
    }
    m.addr_ = p;
  }
  ::close(fd);  // the mapping keeps the file
  *out = std::move(m);
  return {};
}

MappedFile::MappedFile(MappedFile&& o) noexcept : addr_(o.addr_), size_(o.size_) {
  o.addr_ = nullptr;
  o.size_ = 0;
}

MappedFile& MappedFile::operator=(MappedFile&& o) noexcept {
  if (this != &o) {
    if (addr_ != nullptr) ::munmap(addr_, size_);
    addr_ = o.addr_;
    size_ = o.size_;
    o.addr_ = nullptr;
    o.size_ = 0;
  }
  return *this;
}

MappedFile::~MappedFile() {
  if (addr_ != nullptr) ::munmap(addr_, size_);
}

Status write_file_durably(const std::string& tmp, const std::string& final_path,
                          std::initializer_list<std::string_view> pieces) {
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::io_error(errno_text("open", tmp));
  auto fail = [&](std::string_view what) {
    Status s = Status::io_error(errno_text(what, tmp));
    ::close(fd);
    ::unlink(tmp.c_str());
    return s;
  };
  for (std::string_view piece : pieces) {
    while (!piece.empty()) {
      const ssize_t n = ::write(fd, piece.data(), piece.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return fail("write");
      piece.remove_prefix(static_cast<size_t>(n));
    }
  }
  if (::fsync(fd) != 0) return fail("fsync");
  if (::close(fd) != 0) {
    ::unlink(tmp.c_str());
    return Status::io_error(errno_text("close", tmp));
  }
  if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return Status::io_error(errno_text("rename", tmp));
  }
  return fsync_dir(std::filesystem::path(final_path).parent_path().string());
}

}  // namespace trove::file_util
