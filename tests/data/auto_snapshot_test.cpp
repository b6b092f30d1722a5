// AutoSnapshots: the triggers (events, time), snapshots built in the background from the
// previous one and the journal equal the live State at their seq, pruning, side writers, and
// that building one takes no lock of the Store.
#include "trove/data/auto_snapshot.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <thread>

#include "store_fixture.h"

using namespace trove::test::store;
using trove::AutoSnapshotOptions;
using trove::AutoSnapshotReport;
using trove::AutoSnapshots;

namespace {

using namespace std::chrono_literals;

AutoSnapshotOptions quick(uint64_t every_events, uint64_t every_ms) {
  AutoSnapshotOptions o;
  o.every_events = every_events;
  o.every_ms = every_ms;
  o.poll_ms = 5;
  o.nice = 0;
  return o;
}

// Waits (up to 20 s) until `pred` holds.
template <typename Pred>
bool eventually(Pred pred) {
  for (int i = 0; i < 2000; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

// prefix + n, in steps (GCC 12 warns falsely on `"lit" + std::to_string(n)`).
std::string numbered(std::string prefix, int n) {
  prefix += std::to_string(n);
  return prefix;
}

std::vector<Event> views(int from, int n) {
  std::vector<Event> out;
  for (int i = from; i < from + n; ++i) {
    out.push_back(
        view_event(numbered("v", i % 7), numbered("sku-", i % 13), std::nullopt, 1'700'000'000'000 + i));
  }
  return out;
}

// The digest of the snapshot file at `seq` (loaded alone, no journal).
std::string snapshot_digest(const std::string& data_dir, uint64_t seq) {
  auto snap = trove::load_newest_snapshot(data_dir + "/snapshots", seq, nullptr);
  REQUIRE(snap.ok());
  REQUIRE(snap->has_value());
  REQUIRE((*snap)->info.seq == seq);
  return (*snap)->state.digest();
}

}  // namespace

TEST_CASE("an automatic snapshot is taken once N events were applied since the last, not before",
          "[snapshot][auto]") {
  TempDir dir;
  auto store = open_store(dir.sub("d"));
  std::mutex mu;
  std::vector<AutoSnapshotReport> reports;
  auto snaps = AutoSnapshots::start(*store, quick(100, 0), [&](const AutoSnapshotReport& r) {
    std::lock_guard lock(mu);
    reports.push_back(r);
  });
  ingest_ok(*store, views(0, 99));
  std::this_thread::sleep_for(200ms);  // 40 polls
  CHECK(snaps->stats().written == 0);
  CHECK(trove::list_snapshots(dir.sub("d/snapshots")).empty());

  ingest_ok(*store, views(99, 1));
  REQUIRE(eventually([&] { return snaps->stats().written == 1; }));
  CHECK(snaps->stats().last_seq == 100);
  CHECK(snapshot_digest(dir.sub("d"), 100) == live_digest(*store));
  {
    std::lock_guard lock(mu);
    REQUIRE(reports.size() == 1);
    CHECK(reports[0].status.ok());
    CHECK(reports[0].trigger == "events");
    CHECK(reports[0].base_seq == 0);
    CHECK(reports[0].replayed == 100);
  }

  // The next one counts from the last snapshot, and is built from it.
  ingest_ok(*store, views(100, 150));
  REQUIRE(eventually([&] { return snaps->stats().written == 2; }));
  snaps->stop();
  std::lock_guard lock(mu);
  REQUIRE(reports.size() == 2);
  CHECK(reports[1].base_seq == 100);
  CHECK(reports[1].replayed == reports[1].snapshot.seq - 100);
  CHECK(snapshot_digest(dir.sub("d"), reports[1].snapshot.seq) == live_digest(*store));
}

TEST_CASE("an automatic snapshot is taken T after the last when events came, none when none did",
          "[snapshot][auto]") {
  TempDir dir;
  auto store = open_store(dir.sub("d"));
  auto snaps = AutoSnapshots::start(*store, quick(0, 300));
  std::this_thread::sleep_for(500ms);  // past T, but nothing to snapshot
  CHECK(snaps->stats().written == 0);
  ingest_ok(*store, views(0, 5));
  const auto t0 = std::chrono::steady_clock::now();
  REQUIRE(eventually([&] { return snaps->stats().written == 1; }));
  CHECK(snaps->stats().last_seq == 5);
  // T had already passed when the events came: no second wait.
  CHECK(std::chrono::steady_clock::now() - t0 < 5s);
  std::this_thread::sleep_for(700ms);  // more than twice T, and no new event
  CHECK(snaps->stats().written == 1);

  ingest_ok(*store, views(5, 3));
  REQUIRE(eventually([&] { return snaps->stats().written == 2; }));
  CHECK(snaps->stats().last_seq == 8);
  CHECK(snapshot_digest(dir.sub("d"), 8) == live_digest(*store));
}

TEST_CASE("automatic snapshots keep the newest two, count from the newest on disk, and a restart "
          "replays only the journal after it",
          "[snapshot][auto]") {
  TempDir dir;
  {
    auto store = open_store(dir.sub("d"));
    auto snaps = AutoSnapshots::start(*store, quick(50, 0));
    for (int round = 0; round < 4; ++round) {
      ingest_ok(*store, views(round * 60, 60));
      REQUIRE(eventually([&] { return snaps->stats().written == static_cast<uint64_t>(round + 1); }));
    }
    const auto kept = trove::list_snapshots(dir.sub("d/snapshots"));
    REQUIRE(kept.size() == 2);
    CHECK(kept[0].seq == 180);
    CHECK(kept[1].seq == 240);
    ingest_ok(*store, views(240, 7));  // the tail after the last snapshot
  }
  OpenReport report;
  auto store = open_store(dir.sub("d"), {}, &report);
  CHECK(report.snapshot_seq == 240);
  CHECK(report.replayed == 7);
  // A new AutoSnapshots counts from there: 43 more events make 50.
  auto snaps = AutoSnapshots::start(*store, quick(50, 0));
  CHECK(snaps->stats().last_seq == 240);
  ingest_ok(*store, views(247, 42));
  std::this_thread::sleep_for(150ms);
  CHECK(snaps->stats().written == 0);
  ingest_ok(*store, views(289, 1));
  REQUIRE(eventually([&] { return snaps->stats().written == 1; }));
  CHECK(snaps->stats().last_seq == 290);
}

TEST_CASE("a snapshot is built while the Store's write lock is held: it takes no lock of the "
          "Store, so ingestion never waits for it",
          "[snapshot][auto]") {
  TempDir dir;
  auto store = open_store(dir.sub("d"));
  ingest_ok(*store, small_run(3, 2000));
  const uint64_t seq = store->last_seq();
  const std::string digest = live_digest(*store);
  std::atomic<bool> stop{false};
  std::vector<std::pair<std::string, uint64_t>> sides;
  AutoSnapshotOptions::SideWriter side{
      "test", [&](uint64_t at, const std::atomic<bool>&) -> trove::Result<trove::SnapshotInfo> {
        sides.emplace_back("test", at);
        return trove::Status::io_error("disk full (test)");
      }};
  AutoSnapshotReport report;
  // Held exclusively (no reader, no writer gets in) for the whole build.
  store->exclusive([&](const State&) {
    auto built = std::async(std::launch::async, [&] {
      return AutoSnapshots::build(dir.sub("d"), seq, 2, {side}, stop);
    });
    REQUIRE(built.wait_for(60s) == std::future_status::ready);
    report = built.get();
  });
  INFO(report.status.to_string());
  REQUIRE(report.status.ok());
  CHECK(report.snapshot.seq == seq);
  CHECK(snapshot_digest(dir.sub("d"), seq) == digest);
  // The side writer ran at the same seq; its failure is reported, the snapshot stands.
  CHECK(sides == std::vector<std::pair<std::string, uint64_t>>{{"test", seq}});
  REQUIRE(report.sides.size() == 1);
  CHECK(report.sides[0].status.code() == trove::StatusCode::kIOError);
}

TEST_CASE("a damaged newest snapshot is skipped by the background build, which replays from an "
          "older one",
          "[snapshot][auto]") {
  TempDir dir;
  auto store = open_store(dir.sub("d"));
  ingest_ok(*store, views(0, 30));
  REQUIRE(store->snapshot().ok());  // at 30
  ingest_ok(*store, views(30, 30));
  auto at60 = store->snapshot();
  REQUIRE(at60.ok());
  ingest_ok(*store, views(60, 30));
  std::string bytes = read_bytes(at60->path);
  bytes[bytes.size() / 2] ^= 0x5a;
  write_bytes(at60->path, bytes);
  std::atomic<bool> stop{false};
  auto report = AutoSnapshots::build(dir.sub("d"), 90, 3, {}, stop);
  INFO(report.status.to_string());
  REQUIRE(report.status.ok());
  CHECK(report.base_seq == 30);
  CHECK(report.replayed == 60);
  CHECK(any_warning_mentions(report.warnings, "skipped"));
  CHECK(snapshot_digest(dir.sub("d"), 90) == live_digest(*store));
}
