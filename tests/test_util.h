// Helpers every test binary shares. Header-only; include after <catch2/catch.hpp>.
#pragma once

#include <stdlib.h>
#include <sys/mount.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

namespace trove::test {

// A fresh directory under /tmp, removed with everything in it when the object goes.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/trove_test_XXXXXX";
    const char* made = ::mkdtemp(tmpl);
    REQUIRE(made != nullptr);
    path_ = made;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string sub(const std::string& name) const {
    std::string s = path_;  // in steps: GCC 12 warns falsely (-Wrestrict) on a + "/" + b here
    s += '/';
    s += name;
    return s;
  }

 private:
  std::string path_;
};

// A file of the real public datasets (../shared/data, or $TROVE_SHARED_DATA): `rel` is its
// path under that directory ("goodbooks-10k/books.csv"). Tests tagged [data] that find it
// absent say WARN("skipped: ...") and return.
inline std::string shared_data(const std::string& rel) {
  const char* env = std::getenv("TROVE_SHARED_DATA");
  std::string s = env ? env : TROVE_SOURCE_DIR "/../shared/data";
  s += '/';
  s += rel;
  return s;
}

// A tmpfs of `bytes` mounted on a fresh directory for as long as it lives: a small disk a test
// can fill. Mounting needs root (CAP_SYS_ADMIN); a test that gets !mounted() says
// WARN("skipped: ...") with error() and returns.
class TmpfsMount {
 public:
  explicit TmpfsMount(size_t bytes) {
    std::string opts = "size=";  // in steps: GCC 12 warns falsely (-Wrestrict) on "a" + b
    opts += std::to_string(bytes);
    if (::mount("tmpfs", dir_.path().c_str(), "tmpfs", 0, opts.c_str()) == 0) {
      mounted_ = true;
    } else {
      error_ = std::strerror(errno);
    }
  }
  ~TmpfsMount() {
    if (mounted_) ::umount2(dir_.path().c_str(), MNT_DETACH);
  }
  TmpfsMount(const TmpfsMount&) = delete;
  TmpfsMount& operator=(const TmpfsMount&) = delete;
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }
  std::string sub(const std::string& name) const { return dir_.sub(name); }

  // Writes zeros to the file `name` until the file system is full.
  void fill_up(const std::string& name) const {
    std::ofstream out(sub(name), std::ios::binary);
    const std::string block(4096, '\0');
    while (out.write(block.data(), static_cast<std::streamsize>(block.size()))) out.flush();
  }

 private:
  TempDir dir_;
  bool mounted_ = false;
  std::string error_;
};

}  // namespace trove::test
