#include "import_progress.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <utility>

namespace trove::cli {
namespace {

constexpr auto kBarInterval = std::chrono::milliseconds(100);
constexpr auto kLineInterval = std::chrono::seconds(10);

std::string format_duration(double seconds) {
  const auto s = static_cast<uint64_t>(std::llround(seconds));
  if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
  return fmt::format("{}:{:02}", s / 60, s % 60);
}

}  // namespace

ImportProgress::ImportProgress(Mode mode, uint64_t total_bytes, std::function<uint64_t()> consumed)
    : mode_(mode),
      total_(total_bytes),
      consumed_(std::move(consumed)),
      start_(std::chrono::steady_clock::now()),
      last_(start_) {}

std::string ImportProgress::status_text(uint64_t rows, double seconds) const {
  const double rate = seconds > 0 ? static_cast<double>(rows) / seconds : 0;
  std::string text = fmt::format("{} rows  {:.0f} rows/s", rows, rate);
  if (total_ > 0) {
    const double frac =
        std::min(1.0, static_cast<double>(consumed_()) / static_cast<double>(total_));
    text += fmt::format("  {:.1f}%", frac * 100);
    if (frac > 0.001) text += "  ETA " + format_duration(seconds * (1 - frac) / frac);
  }
  return text;
}

void ImportProgress::maybe_show(uint64_t rows) {
  const auto now = std::chrono::steady_clock::now();
  if (now - last_ < (mode_ == Mode::kBar ? kBarInterval : kLineInterval)) return;
  last_ = now;
  const double seconds = std::chrono::duration<double>(now - start_).count();
  if (mode_ == Mode::kLines) {
    fmt::print(stderr, "trove import: {}\n", status_text(rows, seconds));
    return;
  }
  std::string bar;
  if (total_ > 0) {
    constexpr int kWidth = 30;
    const double frac =
        std::min(1.0, static_cast<double>(consumed_()) / static_cast<double>(total_));
    const int filled = static_cast<int>(frac * kWidth);
    bar.reserve(kWidth + 4);
    bar.push_back('[');
    bar.append(static_cast<size_t>(filled), '#');
    bar.append(static_cast<size_t>(kWidth - filled), '.');
    bar.append("]  ");
  }
  // \r + erase-line: redraw in place, leaving nothing of a longer previous text.
  fmt::print(stderr, "\r\033[K{}{}", bar, status_text(rows, seconds));
  std::fflush(stderr);
  bar_shown_ = true;
}

void ImportProgress::clear() {
  if (!bar_shown_) return;
  std::fputs("\r\033[K", stderr);
  bar_shown_ = false;
}

void ImportProgress::finish() {
  clear();
  mode_ = Mode::kOff;
}

}  // namespace trove::cli
