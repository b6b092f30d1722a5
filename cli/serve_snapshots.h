// `trove serve`'s automatic snapshots (trove/data/auto_snapshot.h) with the recommendation
// models beside each (trove/recommend/models_file.h): the flags, the log line per snapshot, and
// the models file written with the snapshot at shutdown, so that start-up after a crash or a
// clean stop loads both and replays only the journal after them.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include "trove/data/auto_snapshot.h"
#include "trove/data/store.h"

namespace trove::cli {

struct SnapshotArgs {  // the library's defaults
  uint64_t every_events = AutoSnapshotOptions{}.every_events;
  uint32_t every_s = static_cast<uint32_t>(AutoSnapshotOptions{}.every_ms / 1000);
};

void add_snapshot_options(CLI::App* app, SnapshotArgs& args);

// Starts the automatic snapshots (nullptr when both triggers are off); logs one line each.
std::unique_ptr<AutoSnapshots> start_auto_snapshots(const Store& store, const SnapshotArgs& args,
                                                    int nice);

// Before Store::open: the recommendation models start loading (newest models file + journal)
// on the second core while the Store opens (trove/recommend/models_file.h, prefetch_models).
void prefetch_models_for(const std::string& data_dir);

// After Store::snapshot() at shutdown: the models at its seq, beside it (logged; a failure
// costs only a longer start-up, which then folds the journal from an older models file).
void write_models_beside(const std::string& data_dir, uint64_t seq);

}  // namespace trove::cli
