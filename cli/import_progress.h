// ImportProgress: what `trove import` shows while it runs, on stderr.
//
// On a terminal: one bar redrawn in place at most 10 times a second (rows done, rows/s, and,
// when the input's size is known, percent and ETA). Otherwise: a quiet line at most every
// 10 seconds. Callers clear() the bar before printing anything else to stderr.
//
// Thread-safety: none; the thread that reads the input calls everything.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace trove::cli {

class ImportProgress {
 public:
  enum class Mode { kOff, kBar, kLines };
  // `consumed` reports the input bytes consumed so far; total_bytes == 0 means unknown.
  ImportProgress(Mode mode, uint64_t total_bytes, std::function<uint64_t()> consumed);

  // Cheap enough per row: looks at the clock once every 256 calls.
  void tick(uint64_t rows) {
    if (mode_ != Mode::kOff && (++calls_ & 255) == 0) maybe_show(rows);
  }
  void clear();   // erases the bar (a no-op in other modes)
  void finish();  // erases the bar for good

 private:
  void maybe_show(uint64_t rows);
  std::string status_text(uint64_t rows, double seconds) const;

  Mode mode_;
  uint64_t total_;
  std::function<uint64_t()> consumed_;
  uint64_t calls_ = 0;
  bool bar_shown_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace trove::cli
