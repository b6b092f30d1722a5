// Store tests: the property that a state digest is the same live, after a full replay, after
// snapshot + tail, after reopening, and after time travel (checked against an independent
// fold of the same events into a fresh State); group commit under concurrency; idempotency;
// timestamps assigned on append. Snapshot damage and pruning: store_snapshot_test.cpp.
#include "trove/data/store.h"

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "trove/data/events.h"
#include "trove/data/generator.h"
#include "trove/data/journal.h"
#include "trove/data/snapshot.h"
#include "trove/data/state.h"
#include "store_fixture.h"

using namespace trove::test::store;


// ---- the digest property ---------------------------------------------------------------------

TEST_CASE(
    "random event sequences give the same digest live, after full replay, after "
    "snapshot + tail, and after time travel to seq N compared with a fresh replay of the "
    "first N events",
    "[store]") {
  for (uint64_t seed : {1u, 2u, 3u, 4u}) {
    INFO("seed " << seed);
    TempDir dir;
    std::mt19937_64 rng(seed * 7919);
    std::vector<Event> events = small_run(seed, 2500 + 500 * seed);
    // Some events arrive without a timestamp and get the store's (fixed) clock, which lands in
    // the middle of the generated timeline: timestamps in the journal are then not monotonic,
    // which until_ms must handle as "the prefix before the first later record".
    const int64_t now = events[events.size() / 2].timestamp_ms.value() + 1;
    for (Event& e : events) {
      if (rng() % 20 == 0) e.timestamp_ms.reset();
    }
    StoreOptions opts;
    opts.keep_snapshots = 4;
    opts.now_ms = [now] { return now; };

    Ledger ledger;
    std::vector<uint64_t> snapshot_seqs;
    {
      auto store = open_store(dir.path(), opts);
      size_t i = 0;
      while (i < events.size()) {
        const size_t n = std::min<size_t>(events.size() - i, 1 + rng() % 64);
        std::vector<Event> batch(events.begin() + static_cast<std::ptrdiff_t>(i),
                                 events.begin() + static_cast<std::ptrdiff_t>(i + n));
        i += n;
        const std::vector<Ack> acks = ingest_ok(*store, batch);
        ledger.record(batch, acks, now);
        if (rng() % 8 == 0) {
          auto info = store->snapshot();
          REQUIRE(info.ok());
          CHECK(info->seq == ledger.by_seq.size());
          snapshot_seqs.push_back(info->seq);
        }
      }
      REQUIRE(store->last_seq() == ledger.by_seq.size());
      REQUIRE(snapshot_seqs.size() >= 2);
      const uint64_t last = ledger.by_seq.size();
      CHECK(last < events.size());  // the generator repeats some event ids

      const std::string live = live_digest(*store);
      CHECK(ledger.prefix_digests({last}).at(last) == live);

      ReplayReport full;
      CHECK(replay_digest(dir.path(), {.use_snapshots = false}, &full) == live);
      CHECK(full.snapshot_seq == 0);
      CHECK(full.replayed == last);

      ReplayReport tail;
      CHECK(replay_digest(dir.path(), {}, &tail) == live);
      CHECK(tail.snapshot_seq == snapshot_seqs.back());
      CHECK(tail.replayed == last - snapshot_seqs.back());
      CHECK(tail.warnings.empty());
      store.reset();

      OpenReport report;
      auto reopened = open_store(dir.path(), opts, &report);
      CHECK(live_digest(*reopened) == live);
      CHECK(report.snapshot_seq == snapshot_seqs.back());
      CHECK(report.replayed == last - snapshot_seqs.back());
      CHECK(report.warnings.empty());
      reopened.reset();

      StoreOptions no_snap = opts;
      no_snap.use_snapshots = false;
      auto replayed = open_store(dir.path(), no_snap, &report);
      CHECK(live_digest(*replayed) == live);
    }

    // Time travel: at and around every retained snapshot, the ends, and random points.
    const uint64_t last = ledger.by_seq.size();
    const std::vector<trove::SnapshotInfo> kept = trove::list_snapshots(dir.sub("snapshots"));
    REQUIRE(kept.size() == std::min<size_t>(4, snapshot_seqs.size()));
    std::set<uint64_t> ns = {0, 1, last - 1, last};
    for (const auto& s : kept) ns.insert({s.seq - 1, s.seq, s.seq + 1});
    for (int k = 0; k < 8; ++k) ns.insert(rng() % (last + 1));
    // until_ms: at record timestamps (ties included), just before them, and before everything.
    std::vector<int64_t> instants = {trove::GeneratorOptions{}.start_ms - 1, now, now - 1};
    for (int k = 0; k < 8; ++k) {
      const int64_t t = ledger.by_seq[rng() % last].timestamp_ms.value();
      instants.push_back(t);
      instants.push_back(t - 1);
    }
    std::set<uint64_t> all_ns = ns;
    for (int64_t t : instants) all_ns.insert(ledger.prefix_until_ms(t));
    all_ns.erase(last + 1);
    const auto oracle = ledger.prefix_digests(all_ns);

    for (uint64_t n : ns) {
      if (n > last) continue;
      INFO("until_seq " << n);
      ReplayReport report;
      CHECK(replay_digest(dir.path(), {.until_seq = n}, &report) == oracle.at(n));
      CHECK(replay_digest(dir.path(), {.until_seq = n, .use_snapshots = false}) == oracle.at(n));
      // It starts from the newest retained snapshot at or before n.
      uint64_t want_snap = 0;
      for (const auto& s : kept) {
        if (s.seq <= n) want_snap = s.seq;
      }
      CHECK(report.snapshot_seq == want_snap);
      CHECK(report.replayed == n - want_snap);
    }
    for (int64_t t : instants) {
      const uint64_t n = ledger.prefix_until_ms(t);
      INFO("until_ms " << t << " -> prefix " << n);
      CHECK(replay_digest(dir.path(), {.until_ms = t}) == oracle.at(n));
    }
    // Both limits: the smaller prefix wins.
    const uint64_t n_now = ledger.prefix_until_ms(now);
    CHECK(replay_digest(dir.path(), {.until_seq = n_now / 2, .until_ms = now}) ==
          ledger.prefix_digests({n_now / 2}).at(n_now / 2));
    ReplayReport past;
    CHECK(replay_digest(dir.path(), {.until_seq = last + 10}, &past) == oracle.at(last));
    CHECK(any_warning_mentions(past.warnings, "ends at seq"));
  }
}

TEST_CASE("a repeated event id is acknowledged with its original seq and not applied again",
          "[store]") {
  TempDir dir;
  auto store = open_store(dir.path());
  auto a = ingest_ok(*store, {view_event("v1", "sku-1", "ev-a", 1000)});
  REQUIRE(a.size() == 1);
  CHECK(a[0].seq == 1);
  CHECK_FALSE(a[0].duplicate);
  const std::string after_one = live_digest(*store);

  // A retry with a different body is still the same event.
  a = ingest_ok(*store, {view_event("v2", "sku-2", "ev-a", 2000)});
  CHECK(a[0].seq == 1);
  CHECK(a[0].duplicate);
  CHECK(store->last_seq() == 1);
  CHECK(live_digest(*store) == after_one);

  // Within one call: the second carrier of a fresh id points at the first.
  a = ingest_ok(*store,
                {view_event("v1", "sku-1", "ev-b", 3000), view_event("v1", "sku-1"),
                 view_event("v1", "sku-2", "ev-b", 4000), view_event("v1", "sku-3", "ev-a", 5000)});
  REQUIRE(a.size() == 4);
  CHECK(a[0].seq == 2);
  CHECK_FALSE(a[0].duplicate);
  CHECK(a[1].seq == 3);  // no id: never a duplicate
  CHECK_FALSE(a[1].duplicate);
  CHECK(a[2].seq == 2);
  CHECK(a[2].duplicate);
  CHECK(a[3].seq == 1);
  CHECK(a[3].duplicate);
  CHECK(store->last_seq() == 3);
  const std::string live = live_digest(*store);

  // Only duplicates: nothing is journaled.
  const uint64_t bytes = store->journal_bytes();
  a = ingest_ok(*store, {view_event("v9", "sku-9", "ev-b", 6000)});
  CHECK(a[0].duplicate);
  CHECK(store->journal_bytes() == bytes);
  CHECK(live_digest(*store) == live);

  // The ids survive a restart, from the journal and from a snapshot.
  REQUIRE(store->snapshot().ok());
  ingest_ok(*store, {view_event("v1", "sku-1", "ev-c", 7000)});
  store.reset();
  for (bool use_snapshots : {true, false}) {
    StoreOptions opts;
    opts.use_snapshots = use_snapshots;
    auto again = open_store(dir.path(), opts);
    a = ingest_ok(*again, {view_event("v1", "sku-1", "ev-a"), view_event("v1", "sku-1", "ev-c")});
    CHECK(a[0].seq == 1);
    CHECK(a[0].duplicate);
    CHECK(a[1].seq == 4);
    CHECK(a[1].duplicate);
    CHECK(again->last_seq() == 4);
  }
}

TEST_CASE("ingest after reopening continues at the next seq", "[store]") {
  TempDir dir;
  std::vector<Event> events = small_run(5, 300);
  for (size_t i = 0; i < events.size(); ++i) {
    std::string id = "e";  // in steps: GCC 12 warns falsely (-Wrestrict) on "e" + to_string
    id += std::to_string(i);
    events[i].event_id = std::move(id);
  }
  {
    auto store = open_store(dir.path());
    std::vector<Event> first(events.begin(), events.begin() + 100);
    auto acks = ingest_ok(*store, first);
    CHECK(acks.back().seq == 100);
    CHECK(ingest_ok(*store, {}).empty());
  }
  {
    auto store = open_store(dir.path());
    CHECK(store->last_seq() == 100);
    std::vector<Event> second(events.begin() + 100, events.begin() + 150);
    auto acks = ingest_ok(*store, second);
    for (size_t i = 0; i < acks.size(); ++i) CHECK(acks[i].seq == 101 + i);
    REQUIRE(store->snapshot().ok());
  }
  {
    OpenReport report;
    auto store = open_store(dir.path(), {}, &report);
    CHECK(report.snapshot_seq == 150);
    CHECK(report.replayed == 0);
    std::vector<Event> third(events.begin() + 150, events.end());
    auto acks = ingest_ok(*store, third);
    CHECK(acks.front().seq == 151);
    CHECK(acks.back().seq == events.size());
    const std::string live = live_digest(*store);
    State oracle;
    for (size_t i = 0; i < events.size(); ++i) oracle.apply(i + 1, events[i]);
    CHECK(oracle.digest() == live);
    CHECK(replay_digest(dir.path(), {.use_snapshots = false}) == live);
  }
}

TEST_CASE("events without a timestamp get the store clock, others keep theirs", "[store]") {
  TempDir dir;
  int64_t clock = 1'234'567;
  int calls = 0;
  StoreOptions opts;
  opts.now_ms = [&] {
    ++calls;
    return clock;
  };
  {
    auto store = open_store(dir.path(), opts);
    ingest_ok(*store, {view_event("v1", "a"), view_event("v1", "b", std::nullopt, 99),
                       view_event("v2", "c")});
    clock = 2'000'000;
    ingest_ok(*store, {view_event("v1", "d")});
    store->read([](const State& s) { CHECK(s.last_timestamp_ms() == 2'000'000); });
  }
  CHECK(calls >= 2);
  std::vector<int64_t> stamps;
  REQUIRE(trove::Journal::scan(dir.path() + "/journal", 1, [&](const trove::RecordView& r) {
            stamps.push_back(r.timestamp_ms);
            return true;
          }).ok());
  CHECK(stamps == std::vector<int64_t>{1'234'567, 99, 1'234'567, 2'000'000});
  auto replayed = trove::replay(dir.path(), {});
  REQUIRE(replayed.ok());
  const trove::Profile* v2 = replayed->profile("v:v2");
  REQUIRE(v2 != nullptr);
  CHECK(v2->first_seen_ms == 1'234'567);

  // Without a clock in the options, the wall clock is used.
  TempDir dir2;
  auto store = open_store(dir2.path());
  const int64_t before = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  ingest_ok(*store, {view_event("v1", "a")});
  const int64_t after = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  store->read([&](const State& s) {
    CHECK(s.last_timestamp_ms() >= before);
    CHECK(s.last_timestamp_ms() <= after);
  });
}

TEST_CASE("ingest_batch journals the caller's vector, stamps it in place and leaves its storage",
          "[store]") {
  TempDir dir;
  StoreOptions opts;
  opts.now_ms = [] { return int64_t{5'000}; };
  auto store = open_store(dir.path(), opts);
  std::vector<Event> batch = {view_event("v1", "a"), view_event("v1", "b", std::nullopt, 99)};
  auto acks = store->ingest_batch(batch);
  REQUIRE(acks.ok());
  CHECK(acks->size() == 2);
  CHECK(batch[0].timestamp_ms == 5'000);  // the store's clock, set in the caller's event
  CHECK(batch[1].timestamp_ms == 99);
  const size_t capacity = batch.capacity();
  batch.clear();
  batch.push_back(view_event("v2", "c"));
  REQUIRE(store->ingest_batch(batch, trove::Store::Origin::kParsed).ok());
  CHECK(batch.capacity() == capacity);
  store->read([](const State& s) {
    CHECK(s.last_seq() == 3);
    CHECK(s.profile("v:v2") != nullptr);
  });
}

// ---- group commit ----------------------------------------------------------------------------

TEST_CASE("concurrent ingests get distinct consecutive seqs and every ack is visible at once",
          "[store]") {
  TempDir dir;
  constexpr int kThreads = 8;
  constexpr int kCallsPerThread = 40;
  auto store = open_store(dir.path());

  std::mutex mu;
  std::vector<uint64_t> all_seqs;
  std::atomic<int> failures{0};
  std::vector<std::string> failure_notes;
  auto fail = [&](std::string note) {
    ++failures;
    std::lock_guard lock(mu);
    if (failure_notes.size() < 10) failure_notes.push_back(std::move(note));
  };
  std::atomic<bool> done{false};

  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<Event> events = small_run(100 + static_cast<uint64_t>(t), 400);
      std::mt19937 rng(static_cast<unsigned>(t));
      size_t next = 0;
      for (int c = 0; c < kCallsPerThread && next < events.size(); ++c) {
        const size_t n = std::min<size_t>(events.size() - next, 1 + rng() % 6);
        std::vector<Event> batch;
        std::vector<std::string> ids;
        for (size_t i = 0; i < n; ++i, ++next) {
          Event e = events[next];
          // Appended piecewise: GCC 12 -O3 warns (-Wrestrict, a false positive) on
          // "t" + std::to_string(...).
          std::string id = std::to_string(t);
          id.insert(0, 1, 't');
          id += '-';
          id += std::to_string(next);
          e.event_id = std::move(id);
          ids.push_back(*e.event_id);
          batch.push_back(std::move(e));
        }
        auto acks = store->ingest(std::move(batch));
        if (!acks.ok()) {
          fail("ingest failed: " + acks.status().to_string());
          return;
        }
        for (size_t i = 0; i < acks->size(); ++i) {
          const Ack& a = (*acks)[i];
          if (a.duplicate) fail("unexpected duplicate " + ids[i]);
          // One call's events are journaled together, in order.
          if (a.seq != (*acks)[0].seq + i) fail("call's seqs not consecutive at " + ids[i]);
        }
        // Acknowledged means applied: visible to the next reader.
        store->read([&](const State& s) {
          for (size_t i = 0; i < acks->size(); ++i) {
            if (s.seq_of_event_id(ids[i]) != (*acks)[i].seq) fail("ack not visible: " + ids[i]);
            if (s.last_seq() < (*acks)[i].seq) fail("last_seq behind an ack");
          }
        });
        std::lock_guard lock(mu);
        for (const Ack& a : *acks) all_seqs.push_back(a.seq);
      }
    });
  }
  // Readers and snapshots run beside the writers.
  std::thread reader([&] {
    uint64_t seen = 0;
    while (!done) {
      store->read([&](const State& s) {
        if (s.last_seq() < seen) fail("last_seq went backwards");
        seen = s.last_seq();
      });
      std::this_thread::yield();
    }
  });
  std::thread snapshotter([&] {
    for (int i = 0; i < 5 && !done; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      auto s = store->snapshot();
      if (!s.ok()) fail("snapshot failed: " + s.status().to_string());
    }
  });
  for (auto& th : threads) th.join();
  done = true;
  reader.join();
  snapshotter.join();

  INFO((failure_notes.empty() ? std::string() : failure_notes.front()));
  CHECK(failures == 0);
  std::sort(all_seqs.begin(), all_seqs.end());
  REQUIRE_FALSE(all_seqs.empty());
  bool consecutive = true;
  for (size_t i = 0; i < all_seqs.size(); ++i) consecutive &= all_seqs[i] == i + 1;
  CHECK(consecutive);
  CHECK(store->last_seq() == all_seqs.size());

  const std::string live = live_digest(*store);
  store.reset();
  OpenReport report;
  auto reopened = open_store(dir.path(), {}, &report);
  CHECK(live_digest(*reopened) == live);
  CHECK(report.warnings.empty());
  CHECK(replay_digest(dir.path(), {.use_snapshots = false}) == live);
}

TEST_CASE("listeners see every applied event in seq order with the state already updated",
          "[store]") {
  TempDir dir;
  auto store = open_store(dir.path());
  std::vector<uint64_t> seen;
  bool consistent = true;
  store->add_listener([&](uint64_t seq, const Event& e, const State& s) {
    seen.push_back(seq);
    consistent &= s.last_seq() == seq && e.timestamp_ms.has_value();
  });
  ingest_ok(*store,
            {view_event("v1", "a", "x"), view_event("v1", "b", "x"), view_event("v1", "c")});
  CHECK(seen == std::vector<uint64_t>{1, 2});
  CHECK(consistent);
}

TEST_CASE("a second store on the same data directory is refused", "[store]") {
  TempDir dir;
  auto store = open_store(dir.path());
  auto second = Store::open(dir.path());
  REQUIRE_FALSE(second.ok());
  CHECK(second.status().code() == trove::StatusCode::kUnavailable);
  // A read-only replay beside it is fine.
  ingest_ok(*store, {view_event("v1", "a")});
  CHECK(replay_digest(dir.path(), {}) == live_digest(*store));
  auto none = trove::replay(dir.path() + "/nope", {});
  REQUIRE_FALSE(none.ok());
  CHECK(none.status().code() == trove::StatusCode::kNotFound);
}

// ---- snapshots -------------------------------------------------------------------------------
