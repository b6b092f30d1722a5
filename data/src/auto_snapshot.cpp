#include "trove/data/auto_snapshot.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "replay.h"
#include "trove/data/journal.h"

namespace trove {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace

AutoSnapshotReport AutoSnapshots::build(const std::string& data_dir, uint64_t seq, size_t keep,
                                        const std::vector<AutoSnapshotOptions::SideWriter>& sides,
                                        const std::atomic<bool>& stop) {
  const auto t0 = Clock::now();
  AutoSnapshotReport out;
  const std::string snapshot_dir = (fs::path(data_dir) / "snapshots").string();
  const std::string journal_dir = (fs::path(data_dir) / "journal").string();
  State state;
  {
    auto snap = load_newest_snapshot(snapshot_dir, seq, &out.warnings);
    if (!snap.ok()) {
      out.status = snap.status();
      return out;
    }
    if (snap->has_value()) {
      state = std::move((*snap)->state);
      out.base_seq = (*snap)->info.seq;
    }
  }
  // The journal's records after it, applied as Store::open applies them; the build stops
  // when asked, and a gap in the seqs is corruption.
  Status failure;
  Status st = data_internal::apply_records(
      [&](uint64_t from, const std::function<bool(const RecordView&)>& apply) {
        return Journal::scan(journal_dir, from, [&](const RecordView& r) {
          if (r.seq > seq) return false;
          if (stop.load(std::memory_order_relaxed)) {
            failure = Status::unavailable("stopped");
            return false;
          }
          if (r.seq != state.last_seq() + 1) {
            failure = Status::corruption("journal record " + std::to_string(r.seq) +
                                         " follows " + std::to_string(state.last_seq()));
            return false;
          }
          return apply(r);
        });
      },
      state, seq, &out.replayed);
  if (st.ok()) st = failure;
  if (st.ok() && state.last_seq() != seq) {
    st = Status::corruption("the journal ends at seq " + std::to_string(state.last_seq()) +
                            ", before the snapshot's " + std::to_string(seq));
  }
  out.build_seconds = seconds_since(t0);
  if (!st.ok()) {
    out.status = st;
    out.seconds = seconds_since(t0);
    return out;
  }
  const auto t1 = Clock::now();
  std::string encoded = state.encode();
  state = State();  // the second State's memory goes back before the write's buffers are taken
  out.encode_seconds = seconds_since(t1);
  const auto t2 = Clock::now();
  auto written = write_snapshot(snapshot_dir, seq, encoded, keep);
  out.write_seconds = seconds_since(t2);
  encoded = std::string();
  if (!written.ok()) {
    out.status = written.status();
    out.seconds = seconds_since(t0);
    return out;
  }
  out.snapshot = written.value();
  for (const auto& side : sides) {
    const auto ts = Clock::now();
    AutoSnapshotReport::Side r;
    r.name = side.name;
    auto file = side.write(seq, stop);
    if (file.ok()) {
      r.file = file.value();
    } else {
      r.status = file.status();
    }
    r.seconds = seconds_since(ts);
    out.sides.push_back(std::move(r));
  }
  out.seconds = seconds_since(t0);
  return out;
}

struct AutoSnapshots::Rep {
  const Store* store = nullptr;
  AutoSnapshotOptions opts;
  OnSnapshot on_snapshot;

  std::atomic<bool> stop{false};
  std::mutex mu;  // guards the wake-up
  std::condition_variable cv;
  std::thread thread;

  std::atomic<uint64_t> written{0}, failed{0}, last_seq{0};
  std::atomic<double> last_seconds{0};

  void run() {
    if (opts.nice != 0) {
      // Per thread on Linux: the snapshot's CPU goes after requests on a busy machine.
      (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), opts.nice);
    }
    auto last_time = Clock::now();
    Clock::time_point not_before = last_time;
    std::unique_lock lock(mu);
    while (!stop.load()) {
      cv.wait_for(lock, std::chrono::milliseconds(opts.poll_ms), [&] { return stop.load(); });
      if (stop.load()) break;
      const uint64_t seq = store->last_seq();
      const uint64_t since = last_seq.load();
      if (seq <= since || Clock::now() < not_before) continue;
      const bool by_events = opts.every_events != 0 && seq - since >= opts.every_events;
      const bool by_time =
          opts.every_ms != 0 && Clock::now() - last_time >= std::chrono::milliseconds(opts.every_ms);
      if (!by_events && !by_time) continue;
      lock.unlock();
      AutoSnapshotReport report =
          build(store->data_dir(), seq, opts.keep, opts.side_writers, stop);
      report.trigger = by_events ? "events" : "time";
      last_time = Clock::now();
      if (report.status.ok()) {
        written.fetch_add(1);
        last_seq.store(seq);
        last_seconds.store(report.seconds);
      } else if (!stop.load()) {
        failed.fetch_add(1);
        not_before = last_time + std::chrono::milliseconds(opts.retry_ms);
      }
      if (on_snapshot && !stop.load()) on_snapshot(report);
      lock.lock();
    }
  }
};

AutoSnapshots::AutoSnapshots(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}

std::unique_ptr<AutoSnapshots> AutoSnapshots::start(const Store& store, AutoSnapshotOptions opts,
                                                    OnSnapshot on_snapshot) {
  auto rep = std::make_unique<Rep>();
  rep->store = &store;
  rep->opts = std::move(opts);
  rep->on_snapshot = std::move(on_snapshot);
  // Counted from the newest snapshot at or before the Store's seq (Store::open moved aside any
  // past the journal's end): the events a restart would replay now.
  const uint64_t now_seq = store.last_seq();
  for (const auto& s : list_snapshots((fs::path(store.data_dir()) / "snapshots").string())) {
    if (s.seq <= now_seq) rep->last_seq.store(s.seq);
  }
  Rep* r = rep.get();
  rep->thread = std::thread([r] { r->run(); });
  return std::unique_ptr<AutoSnapshots>(new AutoSnapshots(std::move(rep)));
}

AutoSnapshots::~AutoSnapshots() { stop(); }

void AutoSnapshots::stop() {
  {
    std::lock_guard lock(rep_->mu);
    rep_->stop.store(true);
  }
  rep_->cv.notify_all();
  if (rep_->thread.joinable()) rep_->thread.join();
}

AutoSnapshots::Stats AutoSnapshots::stats() const {
  Stats s;
  s.written = rep_->written.load();
  s.failed = rep_->failed.load();
  s.last_seq = rep_->last_seq.load();
  s.last_seconds = rep_->last_seconds.load();
  return s;
}

}  // namespace trove
