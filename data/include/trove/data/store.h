// Store: a data directory brought to life. It owns the journal, the in-memory State and the
// snapshots, and is the only way events enter:
//
//   auto store = Store::open("/var/lib/trove", {});          // snapshot + journal tail
//   auto acks = store.value()->ingest(std::move(events));     // durable when it returns
//   store.value()->read([](const State& s) { ... });          // consistent view
//
// ingest() is group-committed: concurrent callers queue, the first becomes the leader, and
// the leader journals everything queued with one write and one fsync, applies it in seq
// order, then wakes the others. An event whose event_id was seen before is acknowledged with
// its original seq and not applied again. Events without a timestamp get the wall-clock time
// here, before journaling, so apply() never reads a clock.
//
// A failed journal write or fsync (a full disk, EIO) refuses the group commit with kIOError and
// leaves nothing of it: not applied, not in the journal (cut back), not replayed at a restart.
// Ingests are then refused at once for JournalOptions::retry_after_ms (1 s); the first one
// after that tries the journal again, so writes resume by themselves when space returns.
// Reads go on throughout. Thread-safety: every method may be called from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "trove/data/events.h"
#include "trove/data/journal.h"
#include "trove/data/snapshot.h"
#include "trove/data/state.h"
#include "trove/data/status.h"

namespace trove {

struct StoreOptions {
  JournalOptions journal;
  size_t keep_snapshots = 3;
  bool use_snapshots = true;  // false: always replay the whole journal on open
  // Clock for events without a timestamp (tests make it deterministic).
  std::function<int64_t()> now_ms;
};

struct OpenReport {
  std::vector<std::string> warnings;  // torn tail cut, damaged snapshot skipped, ...
  uint64_t snapshot_seq = 0;          // 0: no snapshot used
  uint64_t replayed = 0;              // journal records applied on top of it
  double seconds = 0;
};

struct Ack {
  uint64_t seq = 0;
  bool duplicate = false;  // event_id seen before: seq is the original one
};

// Cumulative figures about writes, for monitoring (the server's /metrics). Histograms keep a
// count per bucket (not cumulative): bucket i counts values <= its bound and above the one
// before; the last bucket counts the rest. Relaxed atomics: a reader may see a commit's
// bucket before its sum, never a torn value.
struct StoreStats {
  // Journal append + fsync of one group-commit batch, in microseconds.
  static constexpr std::array<uint64_t, 12> kCommitMicrosBounds = {
      100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 1000000};
  // Events journaled by one group commit.
  static constexpr std::array<uint64_t, 9> kBatchEventsBounds = {1,    4,    16,    64,   256,
                                                                 1024, 4096, 16384, 65536};
  std::array<std::atomic<uint64_t>, kCommitMicrosBounds.size() + 1> commit_micros_buckets{};
  std::atomic<uint64_t> commit_micros_sum{0};
  std::array<std::atomic<uint64_t>, kBatchEventsBounds.size() + 1> batch_events_buckets{};
  std::atomic<uint64_t> batch_events_sum{0};
  std::atomic<uint64_t> commits{0};           // batches that reached the journal
  std::atomic<uint64_t> duplicates{0};        // events acknowledged by an earlier event_id
  std::atomic<uint64_t> failed_commits{0};    // batches refused (write error, or waiting to retry)
};

class Store {
 public:
  static Result<std::unique_ptr<Store>> open(const std::string& data_dir, StoreOptions opts = {},
                                             OpenReport* report = nullptr);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Where the events come from. Events built in code are checked against the same rules as
  // parsed JSON (by a serialize + parse round trip) before anything is journaled: a record
  // that would not parse back would stop every later start-up.
  enum class Origin { kBuiltInCode, kParsed /* by EventParser: already checked */ };

  // Journals (fsync) and applies the events, in order; one Ack per event. All or none of a
  // call's events are journaled; an invalid one fails the call with its index in the path
  // (`events[3].user.visitor_id`).
  Result<std::vector<Ack>> ingest(std::vector<Event> events, Origin origin = Origin::kBuiltInCode);
  // As ingest(), on the caller's vector (the timestamps its events lack are set in place): a
  // caller that ingests batch after batch reuses the vector's storage (8,192 events are
  // 4 MB, and a fresh allocation of that size is fresh pages to fault in every time).
  Result<std::vector<Ack>> ingest_batch(std::vector<Event>& events,
                                        Origin origin = Origin::kBuiltInCode);

  // Runs fn with the state under a shared lock: no event is half-applied in what it sees.
  void read(const std::function<void(const State&)>& fn) const;
  // The same shared lock for as long as the object lives: a reader whose work has steps that
  // need no state (a search's matching in the index) holds one per step that does, and lets
  // the write slices of an import through in between.
  class ReadLock {
   public:
    explicit ReadLock(const Store& store);
    ~ReadLock();
    ReadLock(const ReadLock&) = delete;
    ReadLock& operator=(const ReadLock&) = delete;
    const State& state() const;

   private:
    const Store& store_;
  };

  // Runs fn with the state under the write lock, between group commits: a derived view swaps
  // in what it built elsewhere (the recommendation models rebuilt after a UserForget). fn must
  // not call back into the Store.
  void exclusive(const std::function<void(const State&)>& fn);

  // Called after each event is applied, under the state's write lock (derived views: the
  // search index, the recommendation models). Returns an id for remove_listener(), which a
  // view must call before it is destroyed if the Store outlives it. A group commit's events
  // are applied in slices of at most 1,024, the write lock taken per slice (so a reader waits
  // for one slice, not a whole commit); `batch_end`, when given, is called after each slice,
  // still under the write lock and before any reader sees it: a view may defer work to it (the
  // recommendation models apply their row updates row by row there). `after_slice`, when
  // given, is called after each slice once the write lock is let go, under the read lock, in
  // the committing thread: readers run beside it, the next slice waits for it (commits never
  // overlap, so it never runs beside the listener); for a view's work on its own data that
  // readers of the state need not wait for (the models' batches of row updates).
  using Listener = std::function<void(uint64_t seq, const Event& event, const State& state)>;
  using BatchEnd = std::function<void(const State& state)>;
  using AfterSlice = std::function<void(const State& state)>;
  uint64_t add_listener(Listener fn, BatchEnd batch_end = {}, AfterSlice after_slice = {});
  void remove_listener(uint64_t id);

  // Refuses ingests (kIOError, as after a failed journal write, with `why` in the message)
  // until the first one after the retry back-off finds the journal writable: for a caller
  // that found the disk unwritable elsewhere (`trove serve` when the index cannot be written
  // at start-up).
  void mark_unwritable(std::string why);
  // Whether ingests are being refused after a failed write (until a retry succeeds).
  bool writes_refused() const;

  // Writes a snapshot of the current state; returns what was written.
  Result<SnapshotInfo> snapshot();

  // The seq of the last event applied, without waiting on the state's lock (published after
  // each applied slice): a read started afterwards sees at least this state.
  uint64_t last_seq() const;
  uint64_t journal_bytes() const;
  const StoreStats& stats() const;
  const std::string& data_dir() const;

 private:
  struct Rep;
  explicit Store(std::unique_ptr<Rep> rep);
  std::unique_ptr<Rep> rep_;
};

// ---- replay and time travel ----------------------------------------------------------------

struct ReplayOptions {
  std::optional<uint64_t> until_seq;  // apply records 1..N
  // Apply the journal's prefix up to (not including) the first record stamped after this
  // instant: the state the system had then.
  std::optional<int64_t> until_ms;
  bool use_snapshots = true;  // start from the newest snapshot at or before the target
};

struct ReplayReport {
  std::vector<std::string> warnings;
  uint64_t snapshot_seq = 0;
  uint64_t replayed = 0;
  double seconds = 0;
};

// Rebuilds the state of `data_dir` read-only (safe beside a running server).
Result<State> replay(const std::string& data_dir, const ReplayOptions& opts,
                     ReplayReport* report = nullptr);

// Parses "2011-11-01T00:00:00Z" (also with milliseconds, or a numeric offset) to ms since the
// epoch.
Result<int64_t> parse_iso8601(std::string_view text);
std::string format_iso8601(int64_t ms);

}  // namespace trove
