// Helpers the Store tests share (store_test.cpp, store_snapshot_test.cpp): opening a store,
// digests live and replayed, generated runs, ingest with checks, file bytes, and a Ledger of
// which event got which seq.
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "test_util.h"
#include "trove/data/events.h"
#include "trove/data/generator.h"
#include "trove/data/state.h"
#include "trove/data/store.h"

namespace trove::test::store {

namespace fs = std::filesystem;
using trove::Ack;
using trove::Event;
using trove::OpenReport;
using trove::ReplayOptions;
using trove::ReplayReport;
using trove::State;
using trove::Store;
using trove::StoreOptions;

using TempDir = trove::test::TempDir;

inline std::unique_ptr<Store> open_store(const std::string& dir, StoreOptions opts = {},
                                  OpenReport* report = nullptr) {
  auto s = Store::open(dir, std::move(opts), report);
  INFO(s.status().to_string());
  REQUIRE(s.ok());
  return std::move(s).value();
}

inline std::string live_digest(const Store& s) {
  std::string d;
  s.read([&](const State& st) { d = st.digest(); });
  return d;
}

inline std::string replay_digest(const std::string& dir, const ReplayOptions& opts,
                          ReplayReport* report = nullptr) {
  auto st = trove::replay(dir, opts, report);
  INFO(st.status().to_string());
  REQUIRE(st.ok());
  return st->digest();
}

inline std::vector<Event> small_run(uint64_t seed, size_t behaviour_events) {
  trove::GeneratorOptions g;
  g.seed = seed;
  g.items = 40;
  g.visitors = 25;
  g.behaviour_events = behaviour_events;
  return trove::generate_events(g);
}

inline trove::UserRef visitor(const std::string& v) {
  trove::UserRef u;
  u.visitor_id = v;
  return u;
}

inline Event view_event(const std::string& v, const std::string& item,
                 std::optional<std::string> id = std::nullopt,
                 std::optional<int64_t> ts = std::nullopt) {
  Event e;
  e.event_id = std::move(id);
  e.timestamp_ms = ts;
  e.body = trove::DetailItemView{visitor(v), item};
  return e;
}

inline std::vector<Ack> ingest_ok(Store& s, std::vector<Event> events) {
  auto r = s.ingest(std::move(events));
  INFO(r.status().to_string());
  REQUIRE(r.ok());
  return std::move(r).value();
}

inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}
inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline bool any_warning_mentions(const std::vector<std::string>& warnings, const std::string& what) {
  return std::any_of(warnings.begin(), warnings.end(),
                     [&](const std::string& w) { return w.find(what) != std::string::npos; });
}

// What the journal should hold: the events that got seq 1..N, as journaled (timestamp
// filled in), tracked from the acks alone.
struct Ledger {
  std::vector<Event> by_seq;                  // [seq - 1]
  std::map<std::string, uint64_t> first_seq;  // event_id -> seq that first carried it

  // Checks the acks of one ingest call against what the ledger expects, then records it.
  void record(const std::vector<Event>& batch, const std::vector<Ack>& acks, int64_t now) {
    REQUIRE(acks.size() == batch.size());
    for (size_t i = 0; i < batch.size(); ++i) {
      const Event& e = batch[i];
      const Ack& a = acks[i];
      const bool seen = e.event_id && first_seq.count(*e.event_id) > 0;
      REQUIRE(a.duplicate == seen);
      if (seen) {
        REQUIRE(a.seq == first_seq.at(*e.event_id));
        continue;
      }
      REQUIRE(a.seq == by_seq.size() + 1);
      Event journaled = e;
      if (!journaled.timestamp_ms) journaled.timestamp_ms = now;
      by_seq.push_back(std::move(journaled));
      if (e.event_id) first_seq.emplace(*e.event_id, a.seq);
    }
  }

  // Digests of a fresh State folded over seq 1..n, for every n in `ns`.
  std::map<uint64_t, std::string> prefix_digests(std::set<uint64_t> ns) const {
    std::map<uint64_t, std::string> out;
    State s;
    for (uint64_t n : ns) {
      REQUIRE(n <= by_seq.size());
      while (s.last_seq() < n) s.apply(s.last_seq() + 1, by_seq[s.last_seq()]);
      out[n] = s.digest();
    }
    return out;
  }

  // The length of the longest prefix whose timestamps are all <= t (what until_ms means).
  uint64_t prefix_until_ms(int64_t t) const {
    uint64_t n = 0;
    while (n < by_seq.size() && *by_seq[n].timestamp_ms <= t) ++n;
    return n;
  }
};

}  // namespace trove::test::store
