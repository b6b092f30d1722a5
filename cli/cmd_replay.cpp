// `trove replay`: rebuilds the state of a data directory read-only (safe beside a running
// server), optionally as of a seq or an instant (time travel), and prints what it holds.
#include <fmt/core.h>

#include <memory>
#include <optional>
#include <string>

#include "common.h"
#include "trove/data/store.h"

namespace trove::cli {
namespace {

constexpr std::string_view kName = "replay";

struct ReplayCliOptions {
  std::string data_dir;
  std::optional<uint64_t> until_seq;
  std::string until;
  bool no_snapshots = false;
  bool json = false;
};

int run_replay(const ReplayCliOptions& o) {
  ReplayOptions opts;
  opts.until_seq = o.until_seq;
  opts.use_snapshots = !o.no_snapshots;
  if (!o.until.empty()) {
    Result<int64_t> ms = parse_iso8601(o.until);
    if (!ms.ok()) return fail(kName, ms.status().with_context("--until"));
    opts.until_ms = ms.value();
  }
  ReplayReport report;
  Result<State> state = replay(o.data_dir, opts, &report);
  print_warnings(kName, report.warnings);
  if (!state.ok()) return fail(kName, state.status());
  const State& s = state.value();

  if (o.json) {
    nlohmann::json out = {
        {"digest", s.digest()},
        {"last_seq", s.last_seq()},
        {"last_timestamp", s.last_timestamp_ms() == 0
                               ? nlohmann::json(nullptr)
                               : nlohmann::json(format_iso8601(s.last_timestamp_ms()))},
        {"snapshot_seq", report.snapshot_seq},
        {"replayed", report.replayed},
        {"seconds", report.seconds},
    };
    out.update(state_counts_json(s));
    fmt::print("{}\n", out.dump());
    return kExitOk;
  }
  fmt::print("{:<16} {}\n", "digest", s.digest());
  fmt::print("{:<16} {}\n", "last seq", s.last_seq());
  fmt::print("{:<16} {}\n", "last timestamp", format_time_or_dash(s.last_timestamp_ms()));
  print_state_counts(s);
  if (report.snapshot_seq == 0) {
    fmt::print("{:<16} none\n", "snapshot");
  } else {
    fmt::print("{:<16} seq {}\n", "snapshot", report.snapshot_seq);
  }
  fmt::print("{:<16} {} records\n", "replayed", report.replayed);
  fmt::print("{:<16} {:.3f}\n", "seconds", report.seconds);
  return kExitOk;
}

}  // namespace

Command add_replay_command(CLI::App& root) {
  auto o = std::make_shared<ReplayCliOptions>();
  CLI::App* app = root.add_subcommand(
      "replay",
      "Rebuild the state read-only from snapshots and the journal, optionally as of a seq or "
      "an instant (time travel), and print its digest and counts");
  app->add_option("--data-dir", o->data_dir, "Data directory")->required();
  CLI::Option* seq = app->add_option("--until-seq", o->until_seq, "Apply records 1..N only");
  app->add_option("--until", o->until,
                  "Apply the records stamped at or before this instant, e.g. "
                  "2011-11-01T00:00:00Z")
      ->excludes(seq);
  app->add_flag("--no-snapshots", o->no_snapshots, "Replay the whole journal from seq 1");
  app->add_flag("--json", o->json, "Print one JSON object");
  return {app, [o] { return run_replay(*o); }};
}

}  // namespace trove::cli
