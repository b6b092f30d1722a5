#include "trove/data/store.h"

#include <absl/container/flat_hash_map.h>
#include <pthread.h>

#include <atomic>
#include <chrono>
#include <cctype>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <deque>
#include <filesystem>
#include <mutex>
#include <shared_mutex>

#include "file_util.h"
#include "replay.h"

namespace trove {
namespace {

namespace fs = std::filesystem;

int64_t system_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Applies journal records [state.last_seq()+1, until_seq] read through `source`.

}  // namespace

// A reader/writer lock that lets a waiting writer in ahead of new readers. std::shared_mutex
// on glibc prefers readers: with searches back to back, an ingest waited seconds to apply.
class WriterFirstMutex {
 public:
  WriterFirstMutex() {
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&lock_, &attr);
    pthread_rwlockattr_destroy(&attr);
  }
  ~WriterFirstMutex() { pthread_rwlock_destroy(&lock_); }
  WriterFirstMutex(const WriterFirstMutex&) = delete;
  WriterFirstMutex& operator=(const WriterFirstMutex&) = delete;
  void lock() { pthread_rwlock_wrlock(&lock_); }
  void unlock() { pthread_rwlock_unlock(&lock_); }
  void lock_shared() { pthread_rwlock_rdlock(&lock_); }
  void unlock_shared() { pthread_rwlock_unlock(&lock_); }

 private:
  pthread_rwlock_t lock_;
};

// Events applied per hold of the write lock (see commit()).
constexpr size_t kApplySlice = 1024;
// Events ahead whose id-table slot is prefetched (the dedupe probe, the insert at apply).
constexpr size_t kPrefetchAhead = 8;

struct Store::Rep {
  std::string data_dir;
  std::string snapshot_dir;
  StoreOptions opts;
  std::unique_ptr<Journal> journal;

  mutable WriterFirstMutex state_mu;  // guards state and listeners
  // state.last_seq(), published after each applied slice (release) for readers that must
  // not wait on state_mu (Store::last_seq).
  std::atomic<uint64_t> applied_seq{0};
  State state;
  struct Listening {
    uint64_t id = 0;
    Listener fn;
    BatchEnd batch_end;
    AfterSlice after_slice;
  };
  std::vector<Listening> listeners;
  uint64_t next_listener = 1;

  // Group commit: callers queue here; the front one leads.
  struct Writer {
    std::vector<Event>* events = nullptr;
    std::optional<Result<std::vector<Ack>>> result;  // written by the leader without queue_mu
    bool done = false;  // set under queue_mu once result is final
    std::condition_variable cv;
  };
  std::mutex queue_mu;
  std::deque<Writer*> queue;

  std::mutex snapshot_mu;  // one snapshot at a time
  StoreStats stats;

  // Runs as the leader for `batch`, without queue_mu held.
  void commit(std::vector<Writer*>& batch);
};

Status data_internal::apply_records(const data_internal::RecordSource& source, State& state,
                                    uint64_t until_seq, uint64_t* applied,
                                    const Store::Listener* listener) {
  EventParser parser;
  Status failure;
  TROVE_RETURN_IF_ERROR(source(state.last_seq() + 1, [&](const RecordView& r) {
    if (r.seq > until_seq) return false;
    auto ev = parser.parse(r.payload);
    if (!ev.ok()) {
      failure = Status::corruption("journal record " + std::to_string(r.seq) +
                                   " does not parse: " + ev.status().to_string());
      return false;
    }
    if (static_cast<uint16_t>(ev->type()) != r.type || ev->timestamp_ms != r.timestamp_ms) {
      failure = Status::corruption("journal record " + std::to_string(r.seq) +
                                   ": header type or timestamp differs from its payload");
      return false;
    }
    state.apply(r.seq, ev.value());
    if (listener) (*listener)(r.seq, ev.value(), state);
    ++*applied;
    return true;
  }));
  return failure;
}

namespace {
template <size_t N, size_t M>
void observe(const std::array<uint64_t, N>& bounds, std::array<std::atomic<uint64_t>, M>& buckets,
             uint64_t value) {
  static_assert(M == N + 1);
  size_t i = 0;
  while (i < N && value > bounds[i]) ++i;
  buckets[i].fetch_add(1, std::memory_order_relaxed);
}
}  // namespace

void Store::Rep::commit(std::vector<Writer*>& batch) {
  const int64_t now = opts.now_ms ? opts.now_ms() : system_now_ms();
  uint64_t next_seq = journal->last_seq() + 1;
  std::string payloads;             // the records' JSON, back to back (one allocation)
  std::vector<size_t> payload_ends;  // where each ends in `payloads`
  std::vector<RecordView> records;
  std::vector<std::pair<Writer*, std::vector<Ack>>> acks;
  absl::flat_hash_map<EventIdKey, uint64_t> batch_ids;  // ids first seen in this batch
  std::vector<const Event*> to_apply;
  std::vector<EventIdKey> apply_keys;  // to_apply[i]'s id key (unused when it has no id)
  {
    // Each id hashed once; the State's table (every id ever seen: a probe is a cache miss)
    // prefetched a few events ahead.
    std::vector<EventIdKey> keys;
    for (Writer* w : batch) {
      for (const Event& e : *w->events) {
        keys.push_back(e.event_id ? event_id_key(*e.event_id) : EventIdKey{});
      }
    }
    std::shared_lock lock(state_mu);  // only the leader writes state, so this view is stable
    for (size_t i = 0; i < std::min(kPrefetchAhead, keys.size()); ++i) {
      state.prefetch_event_key(keys[i]);
    }
    size_t k = 0;
    for (Writer* w : batch) {
      auto& mine = acks.emplace_back(w, std::vector<Ack>()).second;
      mine.reserve(w->events->size());
      for (Event& e : *w->events) {
        const EventIdKey& key = keys[k];
        if (k + kPrefetchAhead < keys.size()) state.prefetch_event_key(keys[k + kPrefetchAhead]);
        ++k;
        if (e.event_id) {
          if (auto seq = state.seq_of_event_key(key)) {
            mine.push_back({*seq, true});
            continue;
          }
          auto [it, fresh] = batch_ids.try_emplace(key, next_seq);
          if (!fresh) {
            mine.push_back({it->second, true});
            continue;
          }
        }
        if (!e.timestamp_ms) e.timestamp_ms = now;
        serialize_event(e, &payloads);
        payload_ends.push_back(payloads.size());
        mine.push_back({next_seq++, false});
        to_apply.push_back(&e);
        apply_keys.push_back(key);
      }
    }
  }
  records.reserve(payload_ends.size());
  for (size_t i = 0; i < payload_ends.size(); ++i) {
    const size_t from = i == 0 ? 0 : payload_ends[i - 1];
    records.push_back(RecordView{journal->last_seq() + 1 + i, *to_apply[i]->timestamp_ms,
                                 static_cast<uint16_t>(to_apply[i]->type()),
                                 std::string_view(payloads).substr(from, payload_ends[i] - from)});
  }
  uint64_t dups = 0;
  for (const auto& [w, a] : acks) {
    for (const Ack& k : a) dups += k.duplicate ? 1 : 0;
  }
  stats.duplicates.fetch_add(dups, std::memory_order_relaxed);
  const auto append_t0 = std::chrono::steady_clock::now();
  Status st = records.empty() ? Status() : journal->append(records);
  if (!records.empty() && st.ok()) {
    const auto micros = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                                  std::chrono::steady_clock::now() - append_t0)
                                                  .count());
    observe(StoreStats::kCommitMicrosBounds, stats.commit_micros_buckets, micros);
    stats.commit_micros_sum.fetch_add(micros, std::memory_order_relaxed);
    observe(StoreStats::kBatchEventsBounds, stats.batch_events_buckets, records.size());
    stats.batch_events_sum.fetch_add(records.size(), std::memory_order_relaxed);
    stats.commits.fetch_add(1, std::memory_order_relaxed);
  }
  if (!st.ok()) {
    // Nothing of the batch was applied, and the journal cut what it had written of it: every
    // caller in the batch is refused whole (the journal retries on a later commit).
    stats.failed_commits.fetch_add(1, std::memory_order_relaxed);
    for (Writer* w : batch) w->result = Result<std::vector<Ack>>(st);
    return;
  }
  // Applied in slices, the write lock taken per slice: readers (searches) wait for one
  // slice, not for a whole group commit of up to 65,536 events. Each event is applied whole;
  // a reader may see a commit's first slices before its last.
  for (size_t from = 0; from < to_apply.size(); from += kApplySlice) {
    const size_t to = std::min(to_apply.size(), from + kApplySlice);
    std::unique_lock lock(state_mu);
    bool after_slice = false;
    for (size_t i = from; i < to; ++i) {
      if (i + kPrefetchAhead < to && to_apply[i + kPrefetchAhead]->event_id) {
        state.prefetch_event_key(apply_keys[i + kPrefetchAhead]);
      }
      state.apply(records[i].seq, *to_apply[i], to_apply[i]->event_id ? &apply_keys[i] : nullptr);
      for (const Listening& l : listeners) l.fn(records[i].seq, *to_apply[i], state);
    }
    for (const Listening& l : listeners) {
      if (l.batch_end) l.batch_end(state);
      after_slice = after_slice || l.after_slice;
    }
    applied_seq.store(state.last_seq(), std::memory_order_release);
    lock.unlock();
    if (after_slice) {
      std::shared_lock read_lock(state_mu);  // listeners change under the write lock only
      for (const Listening& l : listeners) {
        if (l.after_slice) l.after_slice(state);
      }
    }
  }
  for (auto& [w, a] : acks) w->result = Result<std::vector<Ack>>(std::move(a));
}

Store::Store(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}
Store::~Store() = default;

Result<std::unique_ptr<Store>> Store::open(const std::string& data_dir, StoreOptions opts,
                                           OpenReport* report) {
  const auto t0 = std::chrono::steady_clock::now();
  OpenReport local;
  OpenReport& rep_out = report ? *report : local;
  auto rep = std::make_unique<Rep>();
  rep->data_dir = data_dir;
  rep->snapshot_dir = (fs::path(data_dir) / "snapshots").string();
  rep->opts = std::move(opts);
  TROVE_RETURN_IF_ERROR(file_util::make_dirs(rep->snapshot_dir));

  JournalRecovery recovery;
  auto journal = Journal::open((fs::path(data_dir) / "journal").string(), rep->opts.journal,
                               &recovery);
  if (!journal.ok()) return journal.status();
  rep->journal = std::move(journal).value();
  for (auto& w : recovery.warnings) rep_out.warnings.push_back(std::move(w));

  const uint64_t last = rep->journal->last_seq();
  // A snapshot past the journal's end holds events the journal lost. Ignoring it is not
  // enough: the seqs it covers are about to be reused by new events, after which it would
  // load as if it described them. Move it aside (whatever use_snapshots says).
  bool moved = false;
  for (const auto& s : list_snapshots(rep->snapshot_dir)) {
    if (s.seq <= last) continue;
    moved = true;
    const std::string aside = s.path + ".past-end";
    if (::rename(s.path.c_str(), aside.c_str()) != 0) {
      return Status::io_error(file_util::errno_text("rename", s.path) +
                              " (a snapshot past the journal's end must not stay in place)");
    }
    rep_out.warnings.push_back("snapshot " + s.path + " is past the journal's end (seq " +
                               std::to_string(last) + "); moved aside to " + aside);
  }
  // Durably, before any new event can reuse those seqs.
  if (moved) TROVE_RETURN_IF_ERROR(file_util::fsync_dir(rep->snapshot_dir));
  if (rep->opts.use_snapshots) {
    auto snap = load_newest_snapshot(rep->snapshot_dir, last, &rep_out.warnings);
    if (!snap.ok()) return snap.status();
    if (snap->has_value()) {
      rep->state = std::move((*snap)->state);
      rep_out.snapshot_seq = (*snap)->info.seq;
    }
  }
  Journal* j = rep->journal.get();
  TROVE_RETURN_IF_ERROR(data_internal::apply_records(
      [j](uint64_t from, const std::function<bool(const RecordView&)>& fn) {
        return j->read(from, fn);
      },
      rep->state, last, &rep_out.replayed));
  rep->applied_seq.store(rep->state.last_seq(), std::memory_order_release);
  rep_out.seconds = seconds_since(t0);
  return std::unique_ptr<Store>(new Store(std::move(rep)));
}

Result<std::vector<Ack>> Store::ingest(std::vector<Event> events, Origin origin) {
  return ingest_batch(events, origin);
}

Result<std::vector<Ack>> Store::ingest_batch(std::vector<Event>& events, Origin origin) {
  Rep& r = *rep_;
  if (origin == Origin::kBuiltInCode) {
    // In the caller's thread, before queueing: validation must not hold up the group.
    EventParser parser;
    std::string json;
    for (size_t i = 0; i < events.size(); ++i) {
      json.clear();
      serialize_event(events[i], &json);
      auto parsed = parser.parse(json);
      if (!parsed.ok()) {
        const Status& st = parsed.status();
        std::string path = "events[" + std::to_string(i) + "]";
        if (!st.path().empty()) path += "." + st.path();
        return Status::invalid(st.message(), path);
      }
    }
  }
  Rep::Writer w;
  w.events = &events;
  std::unique_lock lock(r.queue_mu);
  r.queue.push_back(&w);
  // Waiting on `done` (set under queue_mu), not on `result` (written without it): a spurious
  // wakeup must not see a half-written result, nor return and free `w` while the leader is
  // still about to notify it.
  while (!w.done && r.queue.front() != &w) w.cv.wait(lock);
  if (w.done) return std::move(*w.result);

  // Leader: take everything queued (bounded, so one huge batch does not starve latency).
  std::vector<Rep::Writer*> batch;
  size_t n = 0;
  for (Rep::Writer* q : r.queue) {
    if (!batch.empty() && n + q->events->size() > 65536) break;
    batch.push_back(q);
    n += q->events->size();
  }
  lock.unlock();
  r.commit(batch);
  lock.lock();
  for (size_t i = 0; i < batch.size(); ++i) r.queue.pop_front();
  for (Rep::Writer* q : batch) {
    q->done = true;
    if (q != &w) q->cv.notify_one();
  }
  if (!r.queue.empty()) r.queue.front()->cv.notify_one();
  return std::move(*w.result);
}

void Store::read(const std::function<void(const State&)>& fn) const {
  std::shared_lock lock(rep_->state_mu);
  fn(rep_->state);
}

Store::ReadLock::ReadLock(const Store& store) : store_(store) {
  store_.rep_->state_mu.lock_shared();
}
Store::ReadLock::~ReadLock() { store_.rep_->state_mu.unlock_shared(); }
const State& Store::ReadLock::state() const { return store_.rep_->state; }

void Store::exclusive(const std::function<void(const State&)>& fn) {
  std::unique_lock lock(rep_->state_mu);
  fn(rep_->state);
}

uint64_t Store::add_listener(Listener fn, BatchEnd batch_end, AfterSlice after_slice) {
  std::unique_lock lock(rep_->state_mu);
  const uint64_t id = rep_->next_listener++;
  rep_->listeners.push_back({id, std::move(fn), std::move(batch_end), std::move(after_slice)});
  return id;
}

void Store::remove_listener(uint64_t id) {
  std::unique_lock lock(rep_->state_mu);
  std::erase_if(rep_->listeners, [id](const Rep::Listening& l) { return l.id == id; });
}

Result<SnapshotInfo> Store::snapshot() {
  std::lock_guard snap_lock(rep_->snapshot_mu);
  std::string encoded;
  uint64_t seq;
  {
    std::shared_lock lock(rep_->state_mu);
    encoded = rep_->state.encode();
    seq = rep_->state.last_seq();
  }
  return write_snapshot(rep_->snapshot_dir, seq, encoded, rep_->opts.keep_snapshots);
}

void Store::mark_unwritable(std::string why) { rep_->journal->mark_unwritable(std::move(why)); }

bool Store::writes_refused() const { return rep_->journal->unwritable(); }

uint64_t Store::last_seq() const { return rep_->applied_seq.load(std::memory_order_acquire); }
uint64_t Store::journal_bytes() const { return rep_->journal->bytes(); }
const StoreStats& Store::stats() const { return rep_->stats; }
const std::string& Store::data_dir() const { return rep_->data_dir; }

Result<State> replay(const std::string& data_dir, const ReplayOptions& opts,
                     ReplayReport* report) {
  const auto t0 = std::chrono::steady_clock::now();
  ReplayReport local;
  ReplayReport& out = report ? *report : local;
  const std::string journal_dir = (fs::path(data_dir) / "journal").string();
  if (!fs::is_directory(journal_dir)) {
    return Status::not_found("no journal in " + data_dir + " (expected " + journal_dir + ")");
  }
  uint64_t until = opts.until_seq.value_or(UINT64_MAX);
  if (opts.until_ms) {
    // Headers only: the seq just before the first record stamped after the instant.
    uint64_t last_before = 0;
    TROVE_RETURN_IF_ERROR(Journal::scan(journal_dir, 1, [&](const RecordView& r) {
      if (r.timestamp_ms > *opts.until_ms || r.seq > until) return false;
      last_before = r.seq;
      return true;
    }));
    until = last_before;
  }
  State state;
  for (uint64_t max_seq = until; opts.use_snapshots;) {
    auto snap = load_newest_snapshot((fs::path(data_dir) / "snapshots").string(), max_seq,
                                     &out.warnings);
    if (!snap.ok()) return snap.status();
    if (!snap->has_value()) break;
    // The snapshot's own seq must be in the journal: one past its end describes events the
    // journal lost (Store::open moves such files aside; replay is read-only and skips them).
    const uint64_t seq = (*snap)->info.seq;
    bool in_journal = seq == 0;
    if (!in_journal) {
      TROVE_RETURN_IF_ERROR(Journal::scan(journal_dir, seq, [&](const RecordView& r) {
        in_journal = r.seq == seq;
        return false;
      }));
    }
    if (in_journal) {
      state = std::move((*snap)->state);
      out.snapshot_seq = seq;
      break;
    }
    out.warnings.push_back("snapshot " + (*snap)->info.path +
                           " is past the journal's end; ignored");
    max_seq = seq - 1;
  }
  TROVE_RETURN_IF_ERROR(data_internal::apply_records(
      [&](uint64_t from, const std::function<bool(const RecordView&)>& fn) {
        return Journal::scan(journal_dir, from, fn);
      },
      state, until, &out.replayed));
  if (opts.until_seq && state.last_seq() < *opts.until_seq) {
    out.warnings.push_back("the journal ends at seq " + std::to_string(state.last_seq()) +
                           ", before the requested " + std::to_string(*opts.until_seq));
  }
  out.seconds = seconds_since(t0);
  return state;
}

Result<int64_t> parse_iso8601(std::string_view text) {
  int y, mo, d, h = 0, mi = 0, s = 0, ms = 0, consumed = 0;
  const std::string t(text);
  if (std::sscanf(t.c_str(), "%4d-%2d-%2d%n", &y, &mo, &d, &consumed) != 3) {
    return Status::invalid("expected a date like 2011-11-01T00:00:00Z, got \"" + t + "\"");
  }
  size_t pos = static_cast<size_t>(consumed);
  int64_t offset_s = 0;
  if (pos < t.size() && (t[pos] == 'T' || t[pos] == ' ')) {
    if (std::sscanf(t.c_str() + pos + 1, "%2d:%2d:%2d%n", &h, &mi, &s, &consumed) != 3) {
      return Status::invalid("expected a time like T00:00:00Z in \"" + t + "\"");
    }
    pos += 1 + static_cast<size_t>(consumed);
    if (pos < t.size() && t[pos] == '.') {
      size_t digits = 0;
      ++pos;
      while (pos < t.size() && std::isdigit(static_cast<unsigned char>(t[pos]))) {
        if (digits++ < 3) ms = ms * 10 + (t[pos] - '0');
        ++pos;
      }
      for (; digits < 3; ++digits) ms *= 10;
    }
    if (pos < t.size() && (t[pos] == '+' || t[pos] == '-')) {
      int oh = 0, om = 0;
      if (std::sscanf(t.c_str() + pos + 1, "%2d:%2d", &oh, &om) != 2) {
        return Status::invalid("bad UTC offset in \"" + t + "\"");
      }
      offset_s = (t[pos] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
      pos += 6;
    } else if (pos < t.size() && t[pos] == 'Z') {
      ++pos;
    }
  }
  if (pos != t.size() || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) {
    return Status::invalid("expected an ISO 8601 UTC time like 2011-11-01T00:00:00Z, got \"" +
                           t + "\"");
  }
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  const std::time_t local_secs = timegm(&tm);
  std::tm check{};
  gmtime_r(&local_secs, &check);
  if (check.tm_mday != d || check.tm_mon != mo - 1) {  // timegm rolls Feb 31 into March
    return Status::invalid("no such date: \"" + t + "\"");
  }
  return (static_cast<int64_t>(local_secs) - offset_s) * 1000 + ms;
}

std::string format_iso8601(int64_t ms) {
  // Floor division, so instants before 1970 print as times, not negative milliseconds.
  const int64_t floor_secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
  const int64_t millis = ms - floor_secs * 1000;
  const std::time_t secs = static_cast<std::time_t>(floor_secs);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(millis));
  return buf;
}

}  // namespace trove
