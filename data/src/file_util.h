// File helpers with real durability: fsync of files and of the directories that name them.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

#include "trove/data/status.h"

namespace trove::file_util {

// mkdir -p; fsyncs each directory it creates and its parent.
Status make_dirs(const std::string& path);
Status fsync_dir(const std::string& dir);
Status read_file(const std::string& path, std::string* out);

// A whole file mapped read-only (MAP_PRIVATE, populated): a snapshot or models file read at
// start-up is already in the page cache, and mapping it touches no fresh memory where reading
// it into a buffer faults in as many new pages as it has bytes. Only for files never changed
// in place (written whole and renamed, as snapshots are): a file cut while mapped would raise
// SIGBUS on access. Movable, not copyable; the bytes stay valid until it is destroyed (an
// unlinked file stays readable). An empty file maps to an empty view.
class MappedFile {
 public:
  static Status open(const std::string& path, MappedFile* out);
  MappedFile() = default;
  MappedFile(MappedFile&& o) noexcept;
  MappedFile& operator=(MappedFile&& o) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();
  std::string_view bytes() const { return {static_cast<const char*>(addr_), size_}; }

 private:
  void* addr_ = nullptr;
  size_t size_ = 0;
};
// Writes the pieces to `tmp`, fsyncs it, renames it to `final_path`, fsyncs the directory.
Status write_file_durably(const std::string& tmp, const std::string& final_path,
                          std::initializer_list<std::string_view> pieces);
// "open /x/y: No such file or directory"
std::string errno_text(std::string_view what, const std::string& path);

}  // namespace trove::file_util
