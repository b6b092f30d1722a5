// Models files: the recommendation models saved beside the State's snapshots, so that start-up
// loads them and folds only the journal after them instead of the whole journal.
//
//   // in the background, at a snapshot's seq (AutoSnapshots' side writer does this):
//   auto built = build_models(data_dir, seq, opts);        // newest file + journal tail
//   write_models_file(data_dir, built.value(), 2);         // DATA_DIR/snapshots/<seq>.models
//   // at start-up (Recommender::open):
//   auto built = build_models(data_dir, state_seq, opts, &report);
//
// File: `<seq, 20 digits>.models` in DATA_DIR/snapshots, in the snapshot container
// (trove/data/snapshot.h: magic "TROVEMDL", format version, zstd payload, XXH64 of payload and
// header, tmp + fsync + rename + directory fsync). Payload: a fingerprint of the journal record
// at seq (XXH64 of its payload, timestamp and type), the forget filter the models were built
// with (RecoModels::Forgotten, as Recommender::open leaves forgotten people's events out), and
// RecoModels::encode(). The fingerprint is checked against the journal when the file is used:
// should the journal ever lose its end and the seq be taken by another event, the file is not
// used for it.
//
// build_models gives exactly the models a fold of the whole journal gives (RecoModels'
// digest(), tested): a usable file plus the records after it, or, when no file is usable
// (missing, another format version, other model options, damaged, not matching the journal)
// or a UserForget is among the records after it (its person's earlier events must leave the
// models), the whole journal as Recommender::open always did.
//
// Thread-safety: the functions are reentrant; they read the journal as `trove replay` does
// (beside a running Store). Two writers must not target one directory.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "trove/data/auto_snapshot.h"
#include "trove/data/snapshot.h"
#include "trove/data/status.h"
#include "trove/recommend/models.h"

namespace trove {

inline constexpr SideFileKind kModelsFileKind{"models", "TROVEMDL", 1};

struct BuiltModels {
  RecoModels models;
  uint64_t seq = 0;  // the journal records 1..seq are in them
  // Whose events were left out (a UserForget later in the journal erased them).
  std::vector<RecoModels::Forgotten> filter;
  uint64_t fingerprint = 0;  // of the journal record at seq (0 at seq 0)
};

struct ModelsBuildReport {
  uint64_t file_seq = 0;  // the models file started from (0: none, the whole journal folded)
  uint64_t folded = 0;    // journal records folded (after the file, or all of them)
  std::string why_full;   // why the whole journal was folded (no file, a forget in the tail)
  std::vector<std::string> warnings;  // models files that could not be used, and why
  bool prefetched = false;  // most of it built by prefetch_models() while the Store opened
  double seconds = 0;
};

struct ModelsBuildOptions {
  bool use_files = true;                  // false: fold the whole journal
  const std::atomic<bool>* stop = nullptr;  // set: give up (Unavailable)
};

// The models of the journal records 1..until. REQUIRES: until <= the journal's last seq.
Result<BuiltModels> build_models(const std::string& data_dir, uint64_t until,
                                 const RecommendOptions& opts, ModelsBuildReport* report = nullptr,
                                 const ModelsBuildOptions& build = {});

// Start-up on two cores: starts build_models() of `data_dir` on a thread of its own, as far as
// the journal goes, so that it runs while the Store opens (the models file and the snapshot are
// separate files; both read the journal). The next build_models() of that directory with the
// same options takes the result and folds only the records the State has beyond it; a result it
// cannot use (a forget after it, a failure) is dropped and it builds as usual. One hand-over per
// call; a prefetch nobody takes costs only its CPU.
void prefetch_models(const std::string& data_dir, const RecommendOptions& opts = {});

// Writes DATA_DIR/snapshots/<built.seq>.models; keeps the newest `keep` models files.
Result<SnapshotInfo> write_models_file(const std::string& data_dir, const BuiltModels& built,
                                       size_t keep = 2);

// For AutoSnapshotOptions::side_writers: the models at the snapshot's seq, built from the
// newest models file and the journal after it (not from the live models: no lock is taken),
// written beside the snapshot.
AutoSnapshotOptions::SideWriter models_side_writer(std::string data_dir, RecommendOptions opts,
                                                   size_t keep = 2);

}  // namespace trove
