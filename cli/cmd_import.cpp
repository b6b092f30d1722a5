// `trove import`: a catalog file (CSV or JSONL, plain or zstd-compressed) into a data
// directory, one ItemUpsert event per row, through the same journal as every other event.
//
// Per row: read (CsvReader / LineReader + simdjson), map to an ItemUpsert (RowMapper), then
// check it with the rules every event obeys by serializing it and parsing it back with
// EventParser, exactly as Store::ingest does for events built in code, but row by row, so one
// bad row is reported and skipped instead of failing its whole batch. The good rows go to
// Store::ingest as already-parsed events in batches, committed on a worker thread while the
// next batch is read (and, for .zst, decompressed on a third thread).
//
// Idempotency: each row's event_id is "import:" + the XXH3-64 of the event's canonical JSON
// (without event_id and timestamp). Re-running an import sends the same ids; the Store
// acknowledges them as duplicates and applies nothing, so the state digest stays the same.
#include <fmt/format.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <atomic>
#include <future>
#include <thread>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common.h"
#include "index_util.h"
#include "import_csv.h"
#include "import_input.h"
#include "import_mapper.h"
#include "import_progress.h"
#include "import_rows.h"
#include "line_reader.h"
#include "trove/data/events.h"
#include "trove/data/store.h"

namespace trove::cli {
namespace {

constexpr std::string_view kName = "import";
constexpr size_t kMaxStderrErrors = 100;
constexpr size_t kJsonlBlockBytes = 8u << 20;
constexpr size_t kReasonsShown = 10;

struct ImportOptions {
  std::string data_dir;
  std::string format;
  std::string input;
  std::vector<std::string> maps;
  std::string list_separator = "|";
  std::string delimiter = ",";
  std::string errors_file;
  std::string progress = "auto";
  std::string language;  // stemming language of the index ("" = as built, else English)
  size_t batch = 8192;
  bool strict = false;
  bool truncate = false;
};

struct Totals {
  uint64_t rows = 0;
  uint64_t imported = 0;   // newly journaled
  uint64_t unchanged = 0;  // event_id seen before: this exact row was imported already
  uint64_t failed = 0;
  uint64_t stopped_at_line = 0;             // --strict
  std::map<std::string, uint64_t> reasons;  // failures grouped by field and reason
};

// What a failure is grouped under in the summary: its field and reason without the value
// that was refused (`, got "abc"`) or other per-row details in parentheses.
std::string reason_key(const Status& st) {
  std::string_view msg = st.message();
  msg = msg.substr(0, std::min(msg.find(", got "), msg.find(" (")));
  return st.path().empty() ? std::string(msg) : st.path() + ": " + std::string(msg);
}

// Bad rows: all of them to the --errors-file, the first kMaxStderrErrors to stderr.
class RowErrors {
 public:
  Status open(const std::string& path) {
    if (path.empty()) return Status();
    file_ = std::fopen(path.c_str(), "w");
    if (file_ == nullptr) {
      return Status::io_error("cannot open --errors-file " + path + ": " + std::strerror(errno));
    }
    return Status();
  }
  ~RowErrors() {
    if (file_ != nullptr) std::fclose(file_);
  }
  void report(uint64_t line, const Status& st, ImportProgress& progress) {
    const std::string text = fmt::format("line {}: {}\n", line, st.to_string());
    if (++count_ <= kMaxStderrErrors) {
      progress.clear();
      std::fputs(text.c_str(), stderr);
    }
    if (file_ != nullptr) std::fputs(text.c_str(), file_);
  }
  void print_overflow(const std::string& errors_file) const {
    if (count_ <= kMaxStderrErrors) return;
    fmt::print(stderr, "... and {} more {}\n", count_ - kMaxStderrErrors,
               errors_file.empty() ? std::string("(--errors-file F keeps them all)")
                                   : "(all of them are in " + errors_file + ")");
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
  uint64_t count_ = 0;
};

// Checks each mapped row, gives it its idempotency key, and commits batches with one batch in
// flight on a worker thread.
class Importer {
 public:
  Importer(Store& store, RowMapper& mapper, RowErrors& errors, ImportProgress& progress,
           Totals& totals, const ImportOptions& o)
      : store_(store),
        mapper_(mapper),
        errors_(errors),
        progress_(progress),
        totals_(totals),
        opts_(o) {
    batch_.reserve(o.batch);
  }

  // Maps and queues one row. False: stop reading (--strict after a bad row, or a fatal error).
  bool add(uint64_t line, SourceRow& row) {
    ++totals_.rows;
    progress_.tick(totals_.rows);
    if (Status st = mapper_.map(row, &item_); !st.ok()) return reject(line, st);
    Event ev;
    ev.body = std::move(item_);
    json_.clear();
    serialize_event(ev, &json_);
    const size_t n = json_.size();
    json_.append(EventParser::kPadding, ' ');
    Result<Event> parsed = parser_.parse_padded(std::string_view(json_.data(), n));
    if (!parsed.ok()) {
      // Name the source column or key next to the field the event rules refused.
      const Status& st = parsed.status();
      const std::string source = mapper_.source_of(st.path());
      return reject(line,
                    Status::invalid(source.empty() ? st.message() : source + ": " + st.message(),
                                    st.path().empty() ? "row" : st.path()));
    }
    Event& e = parsed.value();
    e.event_id = fmt::format("import:{:016x}", XXH3_64bits(json_.data(), n));
    batch_.push_back(std::move(e));
    if (batch_.size() >= opts_.batch) {
      fatal_ = submit();
      if (!fatal_.ok()) return false;
    }
    return true;
  }

  // A row that failed before mapping (ragged CSV, bad JSON) or in it.
  bool reject(uint64_t line, const Status& st) {
    ++totals_.failed;
    ++totals_.reasons[reason_key(st)];
    errors_.report(line, st, progress_);
    if (opts_.strict) {
      totals_.stopped_at_line = line;
      return false;
    }
    return true;
  }

  // Commits what is queued and waits for it. The first fatal error, if any.
  Status finish() {
    if (fatal_.ok()) fatal_ = submit();
    if (fatal_.ok()) fatal_ = collect();
    return fatal_;
  }

 private:
  Status submit() {
    TROVE_RETURN_IF_ERROR(collect());
    if (batch_.empty()) return Status();
    in_flight_ = std::async(std::launch::async, [this, ev = std::move(batch_)]() mutable {
      return store_.ingest(std::move(ev), Store::Origin::kParsed);
    });
    batch_ = {};
    batch_.reserve(opts_.batch);
    return Status();
  }

  Status collect() {
    if (!in_flight_.valid()) return Status();
    Result<std::vector<Ack>> acks = in_flight_.get();
    if (!acks.ok()) return acks.status();
    for (const Ack& a : acks.value()) ++(a.duplicate ? totals_.unchanged : totals_.imported);
    return Status();
  }

  Store& store_;
  RowMapper& mapper_;
  RowErrors& errors_;
  ImportProgress& progress_;
  Totals& totals_;
  const ImportOptions& opts_;
  EventParser parser_;
  ItemUpsert item_;
  std::string json_;
  std::vector<Event> batch_;
  std::future<Result<std::vector<Ack>>> in_flight_;
  Status fatal_;
};

void print_summary(const Totals& t, double seconds) {
  const double rate = seconds > 0 ? static_cast<double>(t.rows) / seconds : 0;
  fmt::print(stderr,
             "rows        {}\n"
             "imported    {}\n"
             "unchanged   {}\n"
             "failed      {}\n"
             "seconds     {:.3f}\n"
             "rows/s      {:.0f}\n",
             t.rows, t.imported, t.unchanged, t.failed, seconds, rate);
  if (!t.reasons.empty()) {
    std::vector<std::pair<uint64_t, std::string>> by_count;
    for (const auto& [reason, n] : t.reasons) by_count.emplace_back(n, reason);
    std::stable_sort(by_count.begin(), by_count.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    fmt::print(stderr, "failed by reason:\n");
    for (size_t i = 0; i < by_count.size() && i < kReasonsShown; ++i) {
      fmt::print(stderr, "  {:>9}  {}\n", by_count[i].first, by_count[i].second);
    }
    if (by_count.size() > kReasonsShown) {
      fmt::print(stderr, "  ({} more reasons)\n", by_count.size() - kReasonsShown);
    }
  }
  if (t.stopped_at_line != 0) {
    fmt::print(stderr, "stopped at line {} (--strict); the rows before it were kept\n",
               t.stopped_at_line);
  }
}

// The input as rows: a CSV reader past its header, or a JSONL line reader, plus the mapper
// made for it. Prepared before the Store is opened, so a bad header or --map touches nothing.
struct RowSource {
  std::unique_ptr<CsvReader> csv;
  std::unique_ptr<LineReader> lines;
  std::vector<std::string> header;
  std::unique_ptr<RowMapper> mapper;

  uint64_t bytes_read() const { return csv ? csv->offset() : lines ? lines->bytes_read() : 0; }
};

Result<RowSource> prepare(const ImportOptions& o, const MapperOptions& mopts, int fd) {
  RowSource src;
  if (mopts.format == ImportFormat::kCsv) {
    src.csv = std::make_unique<CsvReader>(fd, o.delimiter[0]);
    CsvRecord rec;
    if (!src.csv->next(&rec)) {
      if (!src.csv->status().ok()) return src.csv->status();
      return Status::invalid("the input is empty: a CSV header row is required", "line 1");
    }
    if (!rec.error.ok()) return rec.error.with_context("header line " + std::to_string(rec.line));
    src.header.assign(rec.fields.begin(), rec.fields.end());
    for (size_t i = 0; i < src.header.size(); ++i) {
      const auto first = std::find(src.header.begin(), src.header.end(), src.header[i]);
      if (first != src.header.begin() + static_cast<std::ptrdiff_t>(i)) {
        print_warnings(kName, {"column \"" + src.header[i] +
                               "\" appears more than once in the header; the first one is used"});
      }
    }
  } else {
    static_assert(EventParser::kPadding >= simdjson::SIMDJSON_PADDING);
    src.lines = std::make_unique<LineReader>(fd, kJsonlBlockBytes, simdjson::SIMDJSON_PADDING);
  }
  auto mapper = RowMapper::create(mopts, src.header);
  if (!mapper.ok()) return mapper.status();
  src.mapper = std::move(mapper).value();
  return src;
}

// Feeds every row to the importer. Row errors go to the importer; a fatal error (unreadable
// input, a CSV record too long, a failed commit) comes back. The rows read before a stop or a
// fatal error are still journaled.
Status import_rows(RowSource& src, Importer& importer, Totals& totals) {
  if (src.csv) {
    CsvRow row(src.mapper->sources(), src.header);
    CsvRecord rec;
    while (src.csv->next(&rec)) {
      bool go = true;
      if (!rec.error.ok()) {
        ++totals.rows;
        go = importer.reject(rec.line, rec.error);
      } else if (rec.fields.size() != src.header.size()) {
        ++totals.rows;
        go = importer.reject(
            rec.line, Status::invalid(fmt::format("expected {} columns as in the header, found {}",
                                                  src.header.size(), rec.fields.size()),
                                      "row"));
      } else {
        row.reset(&rec);
        go = importer.add(rec.line, row);
      }
      if (!go) break;
    }
    Status st = importer.finish();
    return st.ok() ? src.csv->status() : st;
  }
  JsonRow row(src.mapper->sources());
  Line line;
  while (src.lines->next(&line)) {
    bool go = true;
    if (line.oversize_bytes > 0) {
      ++totals.rows;
      go = importer.reject(line.number,
                           Status::invalid(fmt::format("line of {} bytes is over the limit of {}",
                                                       line.oversize_bytes, kJsonlBlockBytes),
                                           "row"));
    } else if (line.text.find_first_not_of(" \t\r") == std::string_view::npos) {
      continue;  // blank
    } else if (Status st = row.parse(line.text); !st.ok()) {
      ++totals.rows;
      go = importer.reject(line.number, st);
    } else {
      go = importer.add(line.number, row);
    }
    if (!go) break;
  }
  Status st = importer.finish();
  return st.ok() ? src.lines->status() : st;
}

int run_import(const ImportOptions& o) {
  MapperOptions mopts;
  mopts.format = o.format == "csv" ? ImportFormat::kCsv : ImportFormat::kJsonl;
  mopts.maps = o.maps;
  mopts.list_separator = o.list_separator;
  mopts.truncate = o.truncate;
  if (o.delimiter.size() != 1 || o.delimiter[0] == '"' || o.delimiter[0] == '\n') {
    return fail(kName, Status::invalid("expected one character other than a quote or newline",
                                       "--delimiter"));
  }
  {
    // --map mistakes are usage errors: report them before reading or creating anything.
    MapperOptions probe = mopts;
    probe.format = ImportFormat::kJsonl;
    if (auto m = RowMapper::create(probe, {}); !m.ok()) return fail(kName, m.status());
  }

  RowErrors errors;
  if (Status st = errors.open(o.errors_file); !st.ok()) return fail(kName, st);
  auto input = ImportInput::open(o.input);
  if (!input.ok()) return fail(kName, input.status());
  ImportInput& in = *input.value();
  auto source = prepare(o, mopts, in.fd());
  if (!source.ok()) {
    const Status& st = source.status();
    Status read_error = in.finish();  // a damaged .zst explains a garbled header best
    return fail(kName, read_error.ok() ? st : read_error.with_context("reading " + o.input));
  }
  RowSource& src = source.value();
  fmt::print(stderr, "mapping     {}\n", fmt::join(src.mapper->describe(), "; "));

  OpenReport report;
  auto store = Store::open(o.data_dir, {}, &report);
  print_warnings(kName, report.warnings);
  if (!store.ok()) return fail(kName, store.status());

  ImportProgress::Mode mode = ImportProgress::Mode::kOff;
  if (o.progress == "bar" || (o.progress == "auto" && ::isatty(STDERR_FILENO))) {
    mode = ImportProgress::Mode::kBar;
  } else if (o.progress == "lines" || o.progress == "auto") {
    mode = ImportProgress::Mode::kLines;
  }
  ImportProgress progress(mode, in.total_bytes(),
                          [&] { return in.consumed_bytes(src.bytes_read()); });

  // The search index follows the store on a thread of its own: the importer journals and
  // applies, the indexer writes whatever the listener marked, in chunks, until the end.
  std::vector<std::string> index_warnings;
  IndexOptions index_opts;
  index_opts.language = o.language;
  auto index = open_index(*store.value(), &index_warnings, index_opts);
  print_warnings(kName, index_warnings);
  if (!index.ok()) return fail(kName, index.status());
  std::atomic<bool> importing{true};
  Status index_status;
  std::thread indexer([&] {
    while (importing.load() && index_status.ok()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      index_status = index.value()->flush();
    }
  });

  const auto t0 = std::chrono::steady_clock::now();
  Totals totals;
  Importer importer(*store.value(), *src.mapper, errors, progress, totals, o);
  Status fatal = import_rows(src, importer, totals);
  importing.store(false);
  indexer.join();
  if (fatal.ok()) fatal = index_status;
  if (fatal.ok()) fatal = index.value()->flush();
  // A damaged .zst shows up here, after the reader saw its (early) end. After --strict the
  // decompressor is stopped on purpose, which is not an error.
  if (Status st = in.finish(); fatal.ok() && !st.ok())
    fatal = st.with_context("reading " + o.input);
  progress.finish();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  errors.print_overflow(o.errors_file);
  print_summary(totals, seconds);
  if (Status st = errors.close(); !st.ok() && fatal.ok()) fatal = st;
  if (!fatal.ok()) return fail(kName, fatal);
  return totals.failed > 0 ? kExitRejected : kExitOk;
}

}  // namespace

Command add_import_command(CLI::App& root) {
  auto o = std::make_shared<ImportOptions>();
  CLI::App* app = root.add_subcommand(
      "import",
      "Import a catalog (CSV or JSONL; .zst accepted): one ItemUpsert event per row.\n"
      "Bad rows (`line N: field: reason`) go to stderr (the first 100) and --errors-file (all).\n"
      "Re-running the same import changes nothing (each row's event_id hashes its content).\n"
      "Exit code: 0 all rows imported, 1 some rows failed, 2 fatal error.");
  app->add_option("--data-dir", o->data_dir, "Data directory (created if missing)")->required();
  app->add_option("--format", o->format, "Input format")
      ->required()
      ->check(CLI::IsMember({"jsonl", "csv"}));
  app->add_option("FILE", o->input, "Input file (plain or .zst), or - for stdin")->required();
  app->add_option("--map", o->maps,
                  "item_field=source: a CSV column or JSON key (dotted path for nested JSON) for "
                  "an item field (id, title, description, brand, categories, price, currency, "
                  "in_stock, tags, url, image_url) or attributes.NAME[:text|:number|:bool|:list]; "
                  "an empty source skips the field. Repeatable.")
      ->allow_extra_args(false);
  app->add_option("--list-separator", o->list_separator,
                  "Separator that splits text into categories, tags and :list attributes")
      ->capture_default_str();
  app->add_option("--delimiter", o->delimiter, "CSV field delimiter (one character)")
      ->capture_default_str();
  app->add_flag("--strict", o->strict, "Stop at the first bad row (the rows before it are kept)");
  app->add_flag("--truncate", o->truncate,
                "Cut over-long title, description, brand and text attributes at their limit "
                "(on a character boundary) instead of failing the row");
  app->add_option("--errors-file", o->errors_file, "Write every `line N: ...` failure here too");
  app->add_option("--batch", o->batch, "Rows per journal batch (one fsync each)")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1} << 16));
  app->add_option("--language", o->language,
                  "Stemming language of the search index (english, french, ..., none); changing "
                  "it rebuilds the index. Default: as built, English for a new index");
  app->add_option("--progress", o->progress,
                  "auto: a bar on a terminal, a line every 10 s otherwise; bar; lines; off")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "bar", "lines", "off"}));
  return {app, [o] { return run_import(*o); }};
}

}  // namespace trove::cli
