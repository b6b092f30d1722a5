// The ordinary build's stand-in for libFuzzer's main(): runs LLVMFuzzerTestOneInput once over
// every file named on the command line (a directory: every regular file under it, in path
// order), so the seed corpus, and every crash input added to it, replays as a CTest test
// without clang. Arguments starting with '-' (libFuzzer flags) are ignored.
//
// Each input is copied into a heap buffer of exactly its size, so an ASan build of the replay
// catches a read past the end as libFuzzer would.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  std::vector<fs::path> files;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.starts_with("-")) continue;
    std::error_code ec;
    if (fs::is_directory(arg, ec)) {
      for (const auto& e : fs::recursive_directory_iterator(arg, ec)) {
        if (e.is_regular_file()) files.push_back(e.path());
      }
    } else if (fs::is_regular_file(arg, ec)) {
      files.emplace_back(arg);
    } else {
      std::fprintf(stderr, "replay: %s is neither a file nor a directory\n", arg.c_str());
      return 2;
    }
  }
  // A corpus directory that went missing or empty must not pass as "nothing crashed".
  if (files.empty()) {
    std::fprintf(stderr, "replay: no inputs (usage: %s FILE_OR_DIR...)\n", argv[0]);
    return 2;
  }
  std::sort(files.begin(), files.end());
  const auto t0 = std::chrono::steady_clock::now();
  size_t bytes = 0;
  for (const auto& path : files) {
    std::ifstream in(path, std::ios::binary);
    const std::vector<char> content((std::istreambuf_iterator<char>(in)),
                                    std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) {
      std::fprintf(stderr, "replay: cannot read %s\n", path.c_str());
      return 2;
    }
    auto copy = std::make_unique<uint8_t[]>(content.size());
    std::copy(content.begin(), content.end(), copy.get());
    // Named before the run, so a crash's output ends with the input that caused it.
    std::fprintf(stderr, "replay: %s\n", path.c_str());
    LLVMFuzzerTestOneInput(copy.get(), content.size());
    bytes += content.size();
  }
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::printf("replayed %zu inputs (%zu bytes) in %.0f ms, no crash\n", files.size(), bytes, ms);
  return 0;
}
