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
// Writes the pieces to `tmp`, fsyncs it, renames it to `final_path`, fsyncs the directory.
Status write_file_durably(const std::string& tmp, const std::string& final_path,
                          std::initializer_list<std::string_view> pieces);
// "open /x/y: No such file or directory"
std::string errno_text(std::string_view what, const std::string& path);

}  // namespace trove::file_util
