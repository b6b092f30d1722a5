// Store and snapshots: a damaged newest snapshot falls back, all damaged means a full replay,
// pruning, snapshots past the journal's end, torn tails after a snapshot; ISO 8601 instants.
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

namespace {

// A data dir with three snapshots (at 200, 400, 600) and a journal tail past them.
struct ThreeSnapshots {
  TempDir dir;
  std::string live;
  uint64_t last = 0;
  std::vector<trove::SnapshotInfo> snaps;

  ThreeSnapshots() {
    std::vector<Event> events = small_run(9, 800);
    auto store = open_store(dir.path());
    std::vector<Event> batch;
    for (size_t i = 0; i < events.size(); ++i) {
      events[i].event_id.reset();
      batch.push_back(events[i]);
      if (batch.size() == 100) {
        ingest_ok(*store, std::move(batch));
        batch.clear();
        const uint64_t seq = store->last_seq();
        if (seq == 200 || seq == 400 || seq == 600) REQUIRE(store->snapshot().ok());
      }
    }
    ingest_ok(*store, std::move(batch));
    live = live_digest(*store);
    last = store->last_seq();
    snaps = trove::list_snapshots(dir.sub("snapshots"));
    REQUIRE(snaps.size() == 3);
    REQUIRE(snaps[2].seq == 600);
  }
};

}  // namespace

TEST_CASE("a damaged newest snapshot falls back to the previous one with a warning", "[store]") {
  ThreeSnapshots fx;
  const std::string newest = fx.snaps[2].path;
  const std::string original = read_bytes(newest);
  REQUIRE(original.size() > 100);

  // Damage everywhere a check guards: magic, version, seq, sizes, hashes, the zstd payload,
  // the trailing header hash; and cuts of every kind.
  std::vector<std::pair<std::string, std::string>> damaged;
  for (size_t at : {size_t{0}, size_t{9}, size_t{17}, size_t{25}, size_t{33}, size_t{41},
                    size_t{48}, original.size() / 2, original.size() - 9, original.size() - 1}) {
    std::string bad = original;
    bad[at] = static_cast<char>(bad[at] ^ 0x10);
    damaged.emplace_back("flip at " + std::to_string(at), bad);
  }
  for (size_t len :
       {size_t{0}, size_t{10}, size_t{48}, size_t{56}, original.size() / 2, original.size() - 1}) {
    damaged.emplace_back("cut to " + std::to_string(len), original.substr(0, len));
  }
  damaged.emplace_back("one byte longer", original + "x");

  for (const auto& [what, bytes] : damaged) {
    INFO(what);
    write_bytes(newest, bytes);
    OpenReport report;
    {
      auto store = open_store(fx.dir.path(), {}, &report);
      CHECK(live_digest(*store) == fx.live);
      CHECK(store->last_seq() == fx.last);
    }
    CHECK(report.snapshot_seq == 400);
    CHECK(report.replayed == fx.last - 400);
    CHECK(any_warning_mentions(report.warnings, fs::path(newest).filename().string()));

    ReplayReport rr;
    CHECK(replay_digest(fx.dir.path(), {}, &rr) == fx.live);
    CHECK(rr.snapshot_seq == 400);
    CHECK(any_warning_mentions(rr.warnings, fs::path(newest).filename().string()));
  }
  write_bytes(newest, original);
  OpenReport report;
  auto store = open_store(fx.dir.path(), {}, &report);
  CHECK(report.snapshot_seq == 600);
  CHECK(report.warnings.empty());
}

TEST_CASE("with every snapshot damaged, open replays the whole journal and warns for each",
          "[store]") {
  ThreeSnapshots fx;
  for (size_t i = 0; i < fx.snaps.size(); ++i) {
    std::string bytes = read_bytes(fx.snaps[i].path);
    if (i == 0) {
      bytes.resize(bytes.size() / 3);
    } else {
      bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 1);
    }
    write_bytes(fx.snaps[i].path, bytes);
  }
  // Leftovers that are not snapshots are ignored: a crash's temp file, a stray name.
  write_bytes(fx.dir.sub("snapshots") + "/00000000000000000700.snap.tmp", "half a snapshot");
  write_bytes(fx.dir.sub("snapshots") + "/notes.txt", "hello");

  OpenReport report;
  {
    auto store = open_store(fx.dir.path(), {}, &report);
    CHECK(live_digest(*store) == fx.live);
    // It still writes after such an open.
    ingest_ok(*store, {view_event("v1", "a")});
  }
  CHECK(report.snapshot_seq == 0);
  CHECK(report.replayed == fx.last);
  CHECK(report.warnings.size() >= 3);
  for (const auto& s : fx.snaps) {
    CHECK(any_warning_mentions(report.warnings, fs::path(s.path).filename().string()));
  }
  ReplayReport rr;
  replay_digest(fx.dir.path(), {.until_seq = fx.last}, &rr);
  CHECK(rr.snapshot_seq == 0);
  CHECK(rr.warnings.size() >= 3);
}

TEST_CASE("a snapshot past the journal's end is moved aside with a warning", "[store]") {
  ThreeSnapshots fx;
  // A valid snapshot file under a later name: its header seq no longer matches the name, and
  // the name is past the journal.
  char name[64];
  std::snprintf(name, sizeof name, "/%020llu.snap", static_cast<unsigned long long>(fx.last + 50));
  fs::copy_file(fx.snaps[2].path, fx.dir.sub("snapshots") + name);
  OpenReport report;
  auto store = open_store(fx.dir.path(), {}, &report);
  CHECK(live_digest(*store) == fx.live);
  CHECK(report.snapshot_seq == 600);
  CHECK(any_warning_mentions(report.warnings, "past the journal"));
  CHECK(trove::list_snapshots(fx.dir.sub("snapshots")).back().seq == 600);
  CHECK(fs::exists(fx.dir.sub("snapshots") + name + ".past-end"));
}

TEST_CASE("snapshot files are pruned to keep_snapshots", "[store]") {
  TempDir dir;
  StoreOptions opts;
  opts.keep_snapshots = 2;
  auto store = open_store(dir.path(), opts);
  std::vector<uint64_t> taken;
  for (int i = 0; i < 5; ++i) {
    ingest_ok(*store, {view_event("v1", "sku-" + std::to_string(i))});
    auto info = store->snapshot();
    REQUIRE(info.ok());
    CHECK(fs::file_size(info->path) == info->bytes);
    taken.push_back(info->seq);
  }
  auto kept = trove::list_snapshots(dir.sub("snapshots"));
  REQUIRE(kept.size() == 2);
  CHECK(kept[0].seq == taken[3]);
  CHECK(kept[1].seq == taken[4]);
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir.sub("snapshots"))) {
    (void)e;
    ++files;
  }
  CHECK(files == 2);  // no temp files left behind

  // The default keeps three.
  store.reset();
  auto store3 = open_store(dir.path());
  for (int i = 0; i < 4; ++i) {
    ingest_ok(*store3, {view_event("v2", "sku-" + std::to_string(i))});
    REQUIRE(store3->snapshot().ok());
  }
  CHECK(trove::list_snapshots(dir.sub("snapshots")).size() == 3);
  CHECK(trove::list_snapshots(dir.sub("snapshots")).back().seq == store3->last_seq());
}

// ---- journal damage seen through the store ---------------------------------------------------

namespace {

std::string only_segment(const std::string& data_dir) {
  std::vector<std::string> segs;
  for (const auto& e : fs::directory_iterator(data_dir + "/journal")) {
    if (e.path().extension() == ".seg") segs.push_back(e.path().string());
  }
  REQUIRE(segs.size() == 1);
  return segs[0];
}

// Ingests `events` (ids dropped) in batches of 50, snapshotting at the given seqs.
Ledger fill(const std::string& dir, std::vector<Event> events, std::set<uint64_t> snapshot_at) {
  Ledger ledger;
  auto store = open_store(dir);
  for (size_t i = 0; i < events.size(); i += 50) {
    std::vector<Event> batch(
        events.begin() + static_cast<std::ptrdiff_t>(i),
        events.begin() + static_cast<std::ptrdiff_t>(std::min(events.size(), i + 50)));
    for (Event& e : batch) e.event_id.reset();
    const auto acks = ingest_ok(*store, batch);
    ledger.record(batch, acks, 0);
    if (snapshot_at.count(store->last_seq())) REQUIRE(store->snapshot().ok());
  }
  return ledger;
}

}  // namespace

TEST_CASE("a torn journal tail after the newest snapshot is cut and ingest resumes after it",
          "[store]") {
  TempDir dir;
  const Ledger ledger = fill(dir.path(), small_run(21, 400), {200});
  const std::string seg = only_segment(dir.path());
  fs::resize_file(seg, fs::file_size(seg) - 7);  // the last record loses its end

  const uint64_t survivors = ledger.by_seq.size() - 1;
  OpenReport report;
  auto store = open_store(dir.path(), {}, &report);
  CHECK(any_warning_mentions(report.warnings, "torn tail"));
  CHECK(report.snapshot_seq == 200);
  CHECK(store->last_seq() == survivors);
  CHECK(live_digest(*store) == ledger.prefix_digests({survivors}).at(survivors));
  auto acks = ingest_ok(*store, {view_event("v1", "a")});
  CHECK(acks[0].seq == survivors + 1);
  CHECK(replay_digest(dir.path(), {.use_snapshots = false}) == live_digest(*store));
}

// Regression: a snapshot past the journal's end (the journal lost its tail: fsync off and a
// power cut, or an older journal restored) was only warned about. Once new events refilled
// those seqs, the next open (and replay) loaded it: a state from another history.
TEST_CASE("a snapshot past the journal's end never comes back once the journal regrows",
          "[store]") {
  TempDir dir;
  const Ledger ledger = fill(dir.path(), small_run(22, 400), {100, 300});
  // Cut the journal back to seq 200: below the newest snapshot.
  const std::string seg = only_segment(dir.path());
  uint64_t cut = 0;
  REQUIRE(trove::Journal::scan(dir.path() + "/journal", 1, [&](const trove::RecordView& r) {
            if (r.seq > 200) return false;
            cut += 26 + r.payload.size();
            return true;
          }).ok());
  fs::resize_file(seg, cut);

  // replay() (read-only) must not return the snapshot's state either.
  ReplayReport rr;
  CHECK(replay_digest(dir.path(), {}, &rr) == ledger.prefix_digests({200}).at(200));
  CHECK(rr.snapshot_seq == 100);

  Ledger now;  // the new history: 200 old events, then different ones
  now.by_seq.assign(ledger.by_seq.begin(), ledger.by_seq.begin() + 200);
  {
    OpenReport report;
    auto store = open_store(dir.path(), {}, &report);
    CHECK(report.snapshot_seq == 100);
    CHECK(any_warning_mentions(report.warnings, "past the journal"));
    CHECK(store->last_seq() == 200);
    std::vector<Event> other = small_run(23, 300);
    for (size_t i = 0; i < other.size(); i += 40) {
      std::vector<Event> batch(
          other.begin() + static_cast<std::ptrdiff_t>(i),
          other.begin() + static_cast<std::ptrdiff_t>(std::min(other.size(), i + 40)));
      for (Event& e : batch) e.event_id.reset();
      now.record(batch, ingest_ok(*store, batch), 0);
    }
    REQUIRE(store->last_seq() > 300);
    CHECK(live_digest(*store) == now.prefix_digests({now.by_seq.size()}).at(now.by_seq.size()));
  }
  const std::string want = now.prefix_digests({now.by_seq.size()}).at(now.by_seq.size());
  OpenReport report;
  auto store = open_store(dir.path(), {}, &report);
  CHECK(report.snapshot_seq != 300);
  CHECK(live_digest(*store) == want);
  CHECK(replay_digest(dir.path(), {}) == want);
  CHECK(replay_digest(dir.path(), {.until_seq = 300}) == now.prefix_digests({300}).at(300));
}

TEST_CASE("iso8601 instants parse and format as UTC", "[store]") {
  auto p = trove::parse_iso8601("2011-11-01T00:00:00Z");
  REQUIRE(p.ok());
  CHECK(*p == 1320105600000);
  CHECK(*trove::parse_iso8601("2011-11-01") == 1320105600000);
  CHECK(*trove::parse_iso8601("2011-11-01T00:00:00.25Z") == 1320105600250);
  CHECK(*trove::parse_iso8601("2011-11-01T01:00:00+01:00") == 1320105600000);
  CHECK(*trove::parse_iso8601("2011-10-31T23:00:00-01:00") == 1320105600000);
  CHECK(trove::format_iso8601(1320105600250) == "2011-11-01T00:00:00.250Z");
  CHECK(*trove::parse_iso8601(trove::format_iso8601(1700000000123)) == 1700000000123);
  for (const char* bad : {"", "yesterday", "2011-13-01", "2011-11-01T25:00:00Z",
                          "2011-11-01T00:00:00Zjunk", "2011-11-01T00:00"}) {
    INFO(bad);
    auto r = trove::parse_iso8601(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == trove::StatusCode::kInvalidArgument);
  }
}
