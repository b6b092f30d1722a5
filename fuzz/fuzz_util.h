// Helpers the fuzz targets share: a byte cursor over the input, a scratch directory for targets
// that read files, and a check that aborts (libFuzzer and the replay driver both report an
// abort as a crash, with the input that caused it). Header-only.
//
// Thread-safety: none; a fuzz target runs one input at a time.
#pragma once

#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

// A property the code under test must keep for every input, checked in every build (a fuzz
// target must not depend on NDEBUG for its oracle).
#define FUZZ_CHECK(cond, what)                                                              \
  do {                                                                                      \
    if (!(cond)) {                                                                          \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK(%s) failed: %s\n", __FILE__, __LINE__, #cond, \
                   std::string(what).c_str());                                              \
      std::abort();                                                                         \
    }                                                                                       \
  } while (0)

namespace trove::fuzz {

// Reads the input front to back; past the end every read yields zeros / empty text, so a
// target never needs to check sizes.
class ByteReader {
 public:
  ByteReader(const uint8_t* data, size_t size) : in_(reinterpret_cast<const char*>(data), size) {}

  uint8_t u8() { return pos_ < in_.size() ? static_cast<uint8_t>(in_[pos_++]) : 0; }
  uint16_t u16() { return static_cast<uint16_t>(u8() | (u8() << 8)); }
  std::string_view bytes(size_t n) {
    n = std::min(n, in_.size() - pos_);
    std::string_view s = in_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  std::string_view rest() { return bytes(in_.size() - pos_); }
  bool empty() const { return pos_ >= in_.size(); }

 private:
  std::string_view in_;
  size_t pos_ = 0;
};

// One directory per process, under /dev/shm when it exists (files cost no disk I/O there, and
// the fsyncs of the code under test are cheap), removed at exit. Targets clear what they wrote
// in it after each input.
inline const std::string& scratch_dir() {
  static const std::string dir = [] {
    std::error_code ec;
    const char* base = std::filesystem::is_directory("/dev/shm", ec) ? "/dev/shm" : "/tmp";
    std::string tmpl = std::string(base) + "/trove_fuzz_XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) {
      std::perror("mkdtemp");
      std::abort();
    }
    static std::string to_remove;
    to_remove = tmpl;
    std::atexit([] {
      std::error_code e;
      std::filesystem::remove_all(to_remove, e);
    });
    return tmpl;
  }();
  return dir;
}

// A fresh (empty) subdirectory of scratch_dir().
inline std::string fresh_dir(const std::string& name) {
  const std::string path = scratch_dir() + "/" + name;
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  std::filesystem::create_directories(path, ec);
  FUZZ_CHECK(!ec, "cannot create " + path + ": " + ec.message());
  return path;
}

inline void write_file(const std::string& path, std::string_view bytes) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  FUZZ_CHECK(f != nullptr, "cannot create " + path);
  const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  FUZZ_CHECK(std::fclose(f) == 0 && ok, "cannot write " + path);
}

// A file descriptor reading `bytes` from the start (an anonymous in-memory file), for readers
// that take an fd. The caller closes it.
inline int memory_fd(std::string_view bytes) {
  const int fd = ::memfd_create("trove_fuzz_input", MFD_CLOEXEC);
  FUZZ_CHECK(fd >= 0, "memfd_create failed");
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    FUZZ_CHECK(n > 0, "write to memfd failed");
    done += static_cast<size_t>(n);
  }
  FUZZ_CHECK(::lseek(fd, 0, SEEK_SET) == 0, "lseek on memfd failed");
  return fd;
}

// Up to seven short strings from the input (`trove import --map` values, say): a count byte,
// then each as a length byte and its bytes.
inline std::vector<std::string> short_strings(ByteReader& in) {
  std::vector<std::string> out(in.u8() % 8);
  for (auto& s : out) s = std::string(in.bytes(in.u8() % 64));
  return out;
}

}  // namespace trove::fuzz
