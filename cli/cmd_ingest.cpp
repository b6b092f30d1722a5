// `trove ingest`: NDJSON events from a file or stdin into a data directory.
//
// The input is streamed in large blocks (LineReader) and each line parsed in place
// (EventParser::parse_padded); parsed events go to Store::ingest in batches, which journals and
// fsyncs each batch once. While one batch is being committed the next one is parsed, so
// parsing overlaps the fsync. Batches are submitted one at a time and in order, so the seqs
// follow the input's line order.
#include <fcntl.h>
#include <fmt/core.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common.h"
#include "index_util.h"
#include "line_reader.h"
#include "trove/data/events.h"
#include "trove/data/store.h"
#include "trove/index/filter.h"

namespace trove::cli {
namespace {

constexpr std::string_view kName = "ingest";
// Bigger than the largest valid event, so a line that fills a block is invalid anyway.
constexpr size_t kBlockBytes = 8u << 20;
static_assert(kBlockBytes > ParseLimits::kMaxEventBytes);

struct IngestOptions {
  std::string data_dir;
  std::string input;
  std::string errors_file;
  size_t batch = 4096;
  std::string language;  // stemming language of the index ("" = as built, else English)
  bool strict = false;
  bool ack = false;
};

struct Totals {
  uint64_t lines = 0;
  uint64_t blank = 0;
  uint64_t accepted = 0;    // newly journaled
  uint64_t duplicates = 0;  // event_id seen before: acknowledged, not applied again
  uint64_t rejected = 0;
  uint64_t first_seq = 0;
  uint64_t last_seq = 0;
  uint64_t stopped_at_line = 0;  // --strict
};

bool is_blank(std::string_view s) { return s.find_first_not_of(" \t\r") == std::string_view::npos; }

// Where rejected lines are reported: stderr, and the --errors-file when given.
class RejectLog {
 public:
  Status open(const std::string& path) {
    if (path.empty()) return Status();
    file_ = std::fopen(path.c_str(), "w");
    if (file_ == nullptr) {
      return Status::io_error("cannot open --errors-file " + path + ": " + std::strerror(errno));
    }
    return Status();
  }
  ~RejectLog() {
    if (file_ != nullptr) std::fclose(file_);
  }
  void reject(uint64_t line, const Status& status) {
    const std::string text = fmt::format("line {}: {}\n", line, status.to_string());
    std::fputs(text.c_str(), stderr);
    if (file_ != nullptr) std::fputs(text.c_str(), file_);
  }
  Status close() {
    if (file_ == nullptr) return Status();
    const bool ok = std::fflush(file_) == 0 && std::ferror(file_) == 0;
    std::fclose(file_);
    file_ = nullptr;
    return ok ? Status() : Status::io_error("writing the --errors-file failed");
  }

 private:
  std::FILE* file_ = nullptr;
};

// Keeps one batch in flight on a worker thread; collect() waits for it and accounts the acks.
class BatchCommitter {
 public:
  BatchCommitter(Store& store, bool print_acks, Totals& totals)
      : store_(store), print_acks_(print_acks), totals_(totals) {}

  // Waits for the batch in flight (if any), then starts committing `events`.
  Status submit(std::vector<Event> events) {
    TROVE_RETURN_IF_ERROR(collect());
    if (events.empty()) return Status();
    in_flight_ = std::async(std::launch::async, [this, ev = std::move(events)]() mutable {
      return store_.ingest(std::move(ev), trove::Store::Origin::kParsed);
    });
    return Status();
  }

  // Waits for the batch in flight and records its acks (printed as `ack <seq>` with --ack:
  // each one durable, since ingest returns after the fsync).
  Status collect() {
    if (!in_flight_.valid()) return Status();
    Result<std::vector<Ack>> acks = in_flight_.get();
    if (!acks.ok()) return acks.status();
    std::string out;
    for (const Ack& a : acks.value()) {
      if (a.duplicate) {
        ++totals_.duplicates;
      } else {
        ++totals_.accepted;
        if (totals_.first_seq == 0) totals_.first_seq = a.seq;
        totals_.last_seq = a.seq;
      }
      if (print_acks_) fmt::format_to(std::back_inserter(out), "ack {}\n", a.seq);
    }
    if (print_acks_) {
      std::fwrite(out.data(), 1, out.size(), stdout);
      std::fflush(stdout);
    }
    return Status();
  }

 private:
  Store& store_;
  bool print_acks_;
  Totals& totals_;
  std::future<Result<std::vector<Ack>>> in_flight_;
};

void print_summary(const Totals& t, double seconds) {
  const uint64_t acked = t.accepted + t.duplicates;
  const double rate = seconds > 0 ? static_cast<double>(acked) / seconds : 0;
  std::string range =
      t.accepted == 0 ? std::string("none") : fmt::format("{}..{}", t.first_seq, t.last_seq);
  fmt::print(stderr,
             "lines       {}\n"
             "accepted    {}\n"
             "duplicates  {}\n"
             "rejected    {}\n"
             "seq range   {}\n"
             "seconds     {:.3f}\n"
             "events/s    {:.0f}\n",
             t.lines, t.accepted, t.duplicates, t.rejected, range, seconds, rate);
  if (t.stopped_at_line != 0) {
    fmt::print(stderr, "stopped at line {} (--strict); the lines before it were kept\n",
               t.stopped_at_line);
  }
}

int run_ingest(const IngestOptions& o) {
  RejectLog rejects;
  if (Status st = rejects.open(o.errors_file); !st.ok()) return fail(kName, st);

  int fd = STDIN_FILENO;
  if (o.input != "-") {
    fd = ::open(o.input.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      return fail(kName, Status::io_error("cannot open " + o.input + ": " + std::strerror(errno)));
    }
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  }
  struct FdCloser {
    int fd;
    ~FdCloser() {
      if (fd != STDIN_FILENO) ::close(fd);
    }
  } closer{fd};

  OpenReport report;
  auto store = Store::open(o.data_dir, {}, &report);
  print_warnings(kName, report.warnings);
  if (!store.ok()) return fail(kName, store.status());

  // The catalog index follows the store: catalog events mark items, one flush at the end.
  std::vector<std::string> index_warnings;
  IndexOptions index_opts;
  index_opts.language = o.language;
  auto index = open_index(*store.value(), &index_warnings, index_opts);
  print_warnings(kName, index_warnings);
  if (!index.ok()) return fail(kName, index.status());

  const auto t0 = std::chrono::steady_clock::now();
  Totals totals;
  BatchCommitter committer(*store.value(), o.ack, totals);
  LineReader reader(fd, kBlockBytes, EventParser::kPadding);
  EventParser parser;
  std::vector<Event> batch;
  batch.reserve(o.batch);
  Status fatal;
  Line line;
  while (reader.next(&line)) {
    ++totals.lines;
    Status bad;
    if (line.oversize_bytes > 0) {
      bad = Status::invalid(fmt::format("event of {} bytes is over the limit of {}",
                                        line.oversize_bytes, ParseLimits::kMaxEventBytes));
    } else if (is_blank(line.text)) {
      ++totals.blank;
      continue;
    } else {
      Result<Event> ev = parser.parse_padded(line.text);
      if (ev.ok()) {
        if (Status checked = check_event(*ev); !checked.ok()) ev = checked;
      }
      if (ev.ok()) {
        batch.push_back(std::move(ev).value());
        if (batch.size() >= o.batch) {
          fatal = committer.submit(std::move(batch));
          batch.clear();
          batch.reserve(o.batch);
          if (!fatal.ok()) break;
        }
        continue;
      }
      bad = ev.status();
    }
    ++totals.rejected;
    rejects.reject(line.number, bad);
    if (o.strict) {
      totals.stopped_at_line = line.number;
      break;
    }
  }
  // The lines parsed before a stop or a read error are still journaled.
  if (fatal.ok()) fatal = committer.submit(std::move(batch));
  if (fatal.ok()) fatal = committer.collect();
  if (fatal.ok()) fatal = index.value()->flush();
  if (fatal.ok() && !reader.status().ok()) {
    fatal = Status::io_error("reading " + o.input + ": " + reader.status().message());
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  print_summary(totals, seconds);
  if (Status st = rejects.close(); !st.ok() && fatal.ok()) fatal = st;
  if (!fatal.ok()) return fail(kName, fatal);
  return totals.rejected > 0 ? kExitRejected : kExitOk;
}

}  // namespace

Command add_ingest_command(CLI::App& root) {
  auto o = std::make_shared<IngestOptions>();
  CLI::App* app =
      root.add_subcommand("ingest",
                          "Append NDJSON events (one per line) to the journal and apply them.\n"
                          "Rejections (`line N: ...`) and the summary go to stderr.\n"
                          "Exit code: 0 all lines accepted, 1 some lines rejected, 2 fatal error.");
  app->add_option("--data-dir", o->data_dir, "Data directory (created if missing)")->required();
  app->add_option("FILE", o->input, "NDJSON file, or - for stdin")->required();
  app->add_option("--batch", o->batch, "Events per journal batch (one fsync each)")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1} << 20));
  app->add_flag("--strict", o->strict, "Stop at the first bad line (the lines before it are kept)");
  app->add_option("--errors-file", o->errors_file,
                  "Also write the `line N: ...` rejections to this file");
  app->add_option("--language", o->language,
                  "Stemming language of the search index (english, french, ..., none); changing "
                  "it rebuilds the index. Default: as built, English for a new index");
  app->add_flag("--ack", o->ack,
                "Print `ack <seq>` on stdout for each event once it is durable "
                "(flushed after each batch)");
  return {app, [o] { return run_ingest(*o); }};
}

}  // namespace trove::cli
