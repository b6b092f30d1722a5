// `trove stats`: opens the store and prints what it holds: events per kind, entities, journal
// and memory bytes, and the state digest. Open warnings (a torn tail cut, a damaged snapshot
// skipped) go to stderr; an open failure (corruption) exits 2 with the segment and offset.
#include <fmt/core.h>

#include <memory>
#include <string>

#include "common.h"

namespace trove::cli {
namespace {

constexpr std::string_view kName = "stats";

struct StatsOptions {
  std::string data_dir;
  bool json = false;
};

int run_stats(const StatsOptions& o) {
  OpenReport report;
  auto opened = open_existing_store(o.data_dir, &report);
  print_warnings(kName, report.warnings);
  if (!opened.ok()) return fail(kName, opened.status());
  const Store& store = *opened.value();
  const uint64_t journal_bytes = store.journal_bytes();

  if (o.json) {
    nlohmann::json out;
    store.read([&](const State& s) {
      out = {
          {"digest", s.digest()},
          {"last_seq", s.last_seq()},
          {"last_timestamp", s.last_timestamp_ms() == 0
                                 ? nlohmann::json(nullptr)
                                 : nlohmann::json(format_iso8601(s.last_timestamp_ms()))},
          {"journal_bytes", journal_bytes},
          {"memory_bytes", s.memory_bytes()},
          {"snapshot_seq", report.snapshot_seq},
          {"replayed", report.replayed},
          {"open_seconds", report.seconds},
      };
      out.update(state_counts_json(s));
    });
    fmt::print("{}\n", out.dump());
    return kExitOk;
  }
  store.read([&](const State& s) {
    fmt::print("{:<16} {}\n", "data dir", store.data_dir());
    fmt::print("{:<16} {}\n", "last seq", s.last_seq());
    fmt::print("{:<16} {}\n", "last timestamp", format_time_or_dash(s.last_timestamp_ms()));
    print_state_counts(s);
    fmt::print("{:<16} {}\n", "journal bytes", journal_bytes);
    fmt::print("{:<16} {}\n", "memory bytes", s.memory_bytes());
    fmt::print("{:<16} {}\n", "digest", s.digest());
  });
  if (report.snapshot_seq == 0) {
    fmt::print("{:<16} journal only: {} records replayed in {:.3f} s\n", "opened from",
               report.replayed, report.seconds);
  } else {
    fmt::print("{:<16} snapshot seq {} + {} records in {:.3f} s\n", "opened from",
               report.snapshot_seq, report.replayed, report.seconds);
  }
  return kExitOk;
}

}  // namespace

Command add_stats_command(CLI::App& root) {
  auto o = std::make_shared<StatsOptions>();
  CLI::App* app = root.add_subcommand(
      "stats", "Open the store and print counts per event kind and entity, sizes and digest");
  app->add_option("--data-dir", o->data_dir, "Data directory")->required();
  app->add_flag("--json", o->json, "Print one JSON object");
  return {app, [o] { return run_stats(*o); }};
}

}  // namespace trove::cli
