// AutoSnapshots: snapshots taken by themselves while a Store runs, every N events or T seconds,
// so that a restart after a crash (kill -9, power loss) loads a recent snapshot and replays a
// short journal tail instead of the whole journal.
//
//   AutoSnapshotOptions o;                              // 100,000 events / 5 min, keep 2
//   o.side_writers.push_back({"models", write_models});  // a view's own file at the same seq
//   auto snaps = AutoSnapshots::start(*store, o, [](const AutoSnapshotReport& r) { log(r); });
//   ...
//   snaps->stop();                                      // before Store::snapshot() at shutdown
//
// How a snapshot is built: not from the live State. A background thread loads the newest
// snapshot on disk and replays the journal after it up to the Store's seq of the moment
// (State::apply is deterministic, so this is the State the Store had at that seq: the same
// digest), encodes it, writes it (snapshot.h: tmp + fsync + rename + directory fsync) and
// prunes to `keep`. It takes no lock of the Store and reads the journal as `trove replay` does,
// so ingestion and reads never wait for it; encoding the live State would have to hold the
// Store's read lock for the whole encoding (hundreds of ms at a million events), and the
// writer-first lock would then hold searches up behind the waiting ingest too. What it costs
// instead: CPU for the replay of the events since the previous snapshot (at the thread's nice
// value, so requests go first) and the memory of a second State while it runs.
//
// Side writers run after the State's snapshot, on the same thread, with its seq: each writes
// a view's own file (the recommendation models, recommend/snapshot_models.h) built the same
// way, from its previous file and the journal.
//
// Thread-safety: start() and stop() from one thread; stats() from any. The Store must outlive
// the object. Two writers must not target one snapshot directory: stop() it before calling
// Store::snapshot().
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "trove/data/snapshot.h"
#include "trove/data/status.h"
#include "trove/data/store.h"

namespace trove {

struct AutoSnapshotReport;

struct AutoSnapshotOptions {
  // Once this many events were applied since the last (0: off). A restart after a crash folds
  // the events since the newest snapshot into the State and into the models: the mean tail is
  // half of this (docs/BENCHMARKS.md, bench/restart.sh).
  uint64_t every_events = 100'000;
  uint64_t every_ms = 300'000;      // once this long passed since the last, if events came (0: off)
  size_t keep = 2;                  // snapshots (and side files of each kind) kept
  int nice = 10;                    // of the snapshot thread (as `trove serve --ingest-nice`)
  uint32_t poll_ms = 100;           // how often the triggers are looked at
  uint32_t retry_ms = 10'000;       // after a failed snapshot, the next try waits this long
  struct SideWriter {
    std::string name;  // for reports ("models")
    // Writes the view's file at `seq` (the State's snapshot was just written at it); may give
    // up with Unavailable once `stop` is set.
    std::function<Result<SnapshotInfo>(uint64_t seq, const std::atomic<bool>& stop)> write;
  };
  std::vector<SideWriter> side_writers;
};

struct AutoSnapshotReport {
  Status status;           // not OK: no snapshot was written (side files are reported apart)
  std::string trigger;     // "events" or "time"
  SnapshotInfo snapshot;   // what was written
  uint64_t base_seq = 0;   // the snapshot it was built from (0: from the journal's start)
  uint64_t replayed = 0;   // journal records applied on top of it
  double build_seconds = 0;   // load + replay
  double encode_seconds = 0;  // State::encode
  double write_seconds = 0;   // compress + write + fsync + rename + prune
  struct Side {
    std::string name;
    Status status;
    SnapshotInfo file;
    double seconds = 0;
  };
  std::vector<Side> sides;
  std::vector<std::string> warnings;  // damaged snapshots skipped while loading
  double seconds = 0;                 // the whole, side files included
};

class AutoSnapshots {
 public:
  using OnSnapshot = std::function<void(const AutoSnapshotReport&)>;
  // Starts the thread. The count starts from the newest snapshot on disk, the clock from now.
  static std::unique_ptr<AutoSnapshots> start(const Store& store, AutoSnapshotOptions opts,
                                               OnSnapshot on_snapshot = {});
  ~AutoSnapshots();  // stop()
  AutoSnapshots(const AutoSnapshots&) = delete;
  AutoSnapshots& operator=(const AutoSnapshots&) = delete;

  // Stops the thread; a snapshot being built is abandoned (nothing half-written stays: its
  // temp file is removed by the next write), a side writer is asked to stop.
  void stop();

  struct Stats {
    uint64_t written = 0;   // snapshots written
    uint64_t failed = 0;    // attempts that wrote none
    uint64_t last_seq = 0;  // of the newest snapshot on disk (written here or found at start)
    double last_seconds = 0;
  };
  Stats stats() const;

  // Builds and writes a snapshot of the journal's records 1..seq from the newest snapshot in
  // `snapshot_dir` at or before it (what the thread does; also for tests and tools). REQUIRES:
  // seq <= the journal's last seq.
  static AutoSnapshotReport build(const std::string& data_dir, uint64_t seq, size_t keep,
                                  const std::vector<AutoSnapshotOptions::SideWriter>& sides,
                                  const std::atomic<bool>& stop);

 private:
  struct Rep;
  explicit AutoSnapshots(std::unique_ptr<Rep> rep);
  std::unique_ptr<Rep> rep_;
};

}  // namespace trove
