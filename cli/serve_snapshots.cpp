#include "serve_snapshots.h"

#include <spdlog/spdlog.h>

#include "trove/recommend/models_file.h"

namespace trove::cli {
namespace {

constexpr size_t kKeep = 2;  // snapshots and models files kept by the automatic snapshots

void log_report(const AutoSnapshotReport& r) {
  if (!r.status.ok()) {
    spdlog::error("automatic snapshot ({}) failed after {:.2f} s: {}", r.trigger, r.seconds,
                  r.status.to_string());
    return;
  }
  for (const auto& w : r.warnings) spdlog::warn("automatic snapshot: {}", w);
  spdlog::info(
      "automatic snapshot ({}) at seq {}: {} ({:.1f} MiB), from snapshot {} + {} journal records: "
      "build {:.2f} s, encode {:.2f} s, write {:.2f} s",
      r.trigger, r.snapshot.seq, r.snapshot.path, static_cast<double>(r.snapshot.bytes) / (1 << 20),
      r.base_seq, r.replayed, r.build_seconds, r.encode_seconds, r.write_seconds);
  for (const auto& s : r.sides) {
    if (s.status.ok()) {
      spdlog::info("automatic snapshot at seq {}: {} {} ({:.1f} MiB, {:.2f} s)", r.snapshot.seq,
                   s.name, s.file.path, static_cast<double>(s.file.bytes) / (1 << 20), s.seconds);
    } else {
      spdlog::warn("automatic snapshot at seq {}: {} file not written ({:.2f} s): {}",
                   r.snapshot.seq, s.name, s.seconds, s.status.to_string());
    }
  }
}

}  // namespace

void add_snapshot_options(CLI::App* app, SnapshotArgs& args) {
  auto group = app->add_option_group(
      "snapshots", "Automatic snapshots (with the recommendation models) in the background, so "
                   "a restart after a crash replays only the journal after the newest");
  group->add_option("--snapshot-every-events", args.every_events,
                    "Snapshot once this many events were applied since the last (0: not by count)")
      ->capture_default_str();
  group->add_option("--snapshot-every-s", args.every_s,
                    "Snapshot once this many seconds passed since the last, if events came (0: "
                    "not by time)")
      ->capture_default_str();
}

std::unique_ptr<AutoSnapshots> start_auto_snapshots(const Store& store, const SnapshotArgs& args,
                                                    int nice) {
  if (args.every_events == 0 && args.every_s == 0) {
    spdlog::info("automatic snapshots off");
    return nullptr;
  }
  AutoSnapshotOptions o;
  o.every_events = args.every_events;
  o.every_ms = uint64_t{args.every_s} * 1000;
  o.keep = kKeep;
  o.nice = nice;
  o.side_writers.push_back(models_side_writer(store.data_dir(), {}, kKeep));
  spdlog::info("automatic snapshots: every {} events or {} s (0: off), keeping {}",
               args.every_events, args.every_s, kKeep);
  return AutoSnapshots::start(store, o, log_report);
}

void prefetch_models_for(const std::string& data_dir) { prefetch_models(data_dir, {}); }

void write_models_beside(const std::string& data_dir, uint64_t seq) {
  ModelsBuildReport report;
  auto built = build_models(data_dir, seq, {}, &report);
  auto file = built.ok() ? write_models_file(data_dir, built.value(), kKeep)
                         : Result<SnapshotInfo>(built.status());
  if (!file.ok()) {
    spdlog::warn("models file at seq {} not written: {}", seq, file.status().to_string());
    return;
  }
  spdlog::info("models file written at seq {}: {} (from models file {} + {} journal records, "
               "{:.2f} s)",
               seq, file->path, report.file_seq, report.folded, report.seconds);
}

}  // namespace trove::cli
