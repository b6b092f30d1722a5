// Crash-test helper (run by tests/data/crash_test.cpp): opens a Store and ingests generated
// events in small random batches until killed, reporting on stdout what became durable:
//
//   open <last_seq>        once, after recovery
//   ack <seq>              per acknowledged event, written after ingest() returned
//   ack <seq> dup          ... for an event whose event_id was already journaled
//   snap <seq>             after a snapshot was written
//
// Each batch's lines go out in one write(2) once ingest() has returned (so after the fsync),
// which makes every printed ack a promise the parent can check after SIGKILL.
//
// Usage: trove_crash_child <data_dir> <seed> [snapshot_one_in_n_batches (0: never)]
//                          [max_events (0: unbounded)]
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "trove/data/generator.h"
#include "trove/data/store.h"

namespace {

bool write_all(int fd, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    const ssize_t n = ::write(fd, s.data() + done, s.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s <data_dir> <seed> [snapshot_one_in_n] [max_events]\n", argv[0]);
    return 64;
  }
  const std::string dir = argv[1];
  const uint64_t seed = std::strtoull(argv[2], nullptr, 10);
  const uint64_t snapshot_one_in = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 0;
  const uint64_t max_events = argc > 4 ? std::strtoull(argv[4], nullptr, 10) : 0;

  trove::StoreOptions opts;
  opts.journal.segment_bytes = 64 << 10;  // small segments: crashes also hit segment rollover
  opts.keep_snapshots = 2;
  trove::OpenReport report;
  auto opened = trove::Store::open(dir, opts, &report);
  if (!opened.ok()) {
    std::fprintf(stderr, "crash_child: open %s: %s\n", dir.c_str(),
                 opened.status().to_string().c_str());
    return 2;
  }
  std::unique_ptr<trove::Store> store = std::move(opened).value();
  for (const auto& w : report.warnings) std::fprintf(stderr, "crash_child: %s\n", w.c_str());
  if (!write_all(1, "open " + std::to_string(store->last_seq()) + "\n")) return 5;

  std::mt19937_64 rng(seed);
  uint64_t sent = 0;
  for (uint64_t chunk = 0; max_events == 0 || sent < max_events; ++chunk) {
    // Chunks keep start-up fast; the same seed gives the same events (and event_ids), so a
    // child restarted with an earlier seed replays a client's retries.
    trove::GeneratorOptions g;
    g.seed = seed * 1000 + chunk;
    // Enough people that the state (and so a snapshot) takes a while to write: kills then
    // also land inside write_snapshot.
    g.items = 300;
    g.visitors = 1000;
    g.behaviour_events = 2000;
    std::vector<trove::Event> events = trove::generate_events(g);
    size_t i = 0;
    while (i < events.size() && (max_events == 0 || sent < max_events)) {
      const size_t n = std::min<size_t>(events.size() - i, 1 + rng() % 16);
      std::vector<trove::Event> batch(events.begin() + static_cast<std::ptrdiff_t>(i),
                                      events.begin() + static_cast<std::ptrdiff_t>(i + n));
      i += n;
      sent += n;
      auto acks = store->ingest(std::move(batch));
      if (!acks.ok()) {
        std::fprintf(stderr, "crash_child: ingest: %s\n", acks.status().to_string().c_str());
        return 3;
      }
      std::string out;
      for (const trove::Ack& a : acks.value()) {
        out += "ack " + std::to_string(a.seq) + (a.duplicate ? " dup\n" : "\n");
      }
      if (!write_all(1, out)) return 5;
      if (snapshot_one_in > 0 && rng() % snapshot_one_in == 0) {
        auto snap = store->snapshot();
        if (!snap.ok()) {
          std::fprintf(stderr, "crash_child: snapshot: %s\n", snap.status().to_string().c_str());
          return 4;
        }
        if (!write_all(1, "snap " + std::to_string(snap->seq) + "\n")) return 5;
      }
    }
  }
  return 0;
}
