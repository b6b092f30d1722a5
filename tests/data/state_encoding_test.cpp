// The State's canonical encoding: round trip, and decode of truncated or damaged bytes
// returning Corruption instead of crashing.
#include "trove/data/state.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "trove/data/events.h"
#include "trove/data/generator.h"
#include "state_fixture.h"

using namespace trove::test::state;

TEST_CASE("encode then decode gives the same bytes and digest, and the copy folds on alike",
          "[state]") {
  trove::GeneratorOptions g;
  g.seed = 11;
  g.items = 60;
  g.visitors = 40;
  g.behaviour_events = 4000;
  const std::vector<Event> events = trove::generate_events(g);
  const size_t half = events.size() / 2;
  State live;
  for (size_t i = 0; i < half; ++i) live.apply(i + 1, events[i]);

  const std::string bytes = live.encode();
  auto copy = State::decode(bytes);
  REQUIRE(copy.ok());
  CHECK(copy->digest() == live.digest());
  CHECK(copy->encode() == bytes);
  CHECK(copy->last_seq() == live.last_seq());
  CHECK(copy->item_refs() == live.item_refs());
  CHECK(copy->profile_count() == live.profile_count());

  // The decoded copy must have rebuilt its lookup tables: the rest of the events fold the
  // same way on both.
  for (size_t i = half; i < events.size(); ++i) {
    live.apply(i + 1, events[i]);
    copy->apply(i + 1, events[i]);
  }
  CHECK(copy->digest() == live.digest());

  State empty;
  auto empty_copy = State::decode(empty.encode());
  REQUIRE(empty_copy.ok());
  CHECK(empty_copy->digest() == empty.digest());
  CHECK(empty.digest() != live.digest());
  CHECK(empty.digest().size() == 32);
}

TEST_CASE("a state touched by every event kind round-trips through its encoding", "[state]") {
  Feed f;
  for (const auto& body : one_of_each_kind()) f.apply(body, "id-" + std::to_string(f.ts));
  for (size_t t = 1; t <= trove::kEventTypeCount; ++t) {
    CHECK(f.state.event_count(static_cast<EventType>(t)) >= 1);
  }
  auto copy = State::decode(f.state.encode());
  REQUIRE(copy.ok());
  CHECK(copy->digest() == f.state.digest());
}

TEST_CASE("decode of every truncation of an encoding returns Corruption", "[state]") {
  Feed f;
  for (const auto& body : one_of_each_kind()) f.apply(body, "id-" + std::to_string(f.ts));
  const std::string bytes = f.state.encode();
  REQUIRE(State::decode(bytes).ok());
  for (size_t len = 0; len < bytes.size(); ++len) {
    auto r = State::decode(std::string_view(bytes).substr(0, len));
    INFO("length " << len << " of " << bytes.size());
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kCorruption);
  }
  auto longer = State::decode(bytes + '\0');
  REQUIRE_FALSE(longer.ok());
  CHECK(longer.status().code() == StatusCode::kCorruption);
}

TEST_CASE("decode of randomly damaged bytes returns Corruption or a usable state", "[state]") {
  Feed f;
  for (const auto& body : one_of_each_kind()) f.apply(body, "id-" + std::to_string(f.ts));
  const std::string bytes = f.state.encode();
  std::mt19937_64 rng(20240601);
  size_t rejected = 0;
  const int kTrials = 4000;
  for (int t = 0; t < kTrials; ++t) {
    std::string bad = bytes;
    const int flips = 1 + static_cast<int>(rng() % 3);
    for (int i = 0; i < flips; ++i) {
      const size_t at = rng() % bad.size();
      // Mostly single bits (a bad disk), sometimes a whole random byte.
      if (rng() % 2) {
        bad[at] = static_cast<char>(bad[at] ^ (1u << (rng() % 8)));
      } else {
        bad[at] = static_cast<char>(rng());
      }
    }
    auto r = State::decode(bad);
    if (!r.ok()) {
      CHECK(r.status().code() == StatusCode::kCorruption);
      ++rejected;
      continue;
    }
    // Accepted (the damage hit a string or a number): the state must still be safe to use.
    State& s = r.value();
    (void)s.digest();
    (void)s.memory_bytes();
    s.for_each_item([](const std::string&, const trove::Item&) {});
    for (const auto& [key, refs] : s.offline_recommendations()) {
      for (trove::ItemRef i : refs) REQUIRE(i < s.item_refs());
    }
    int64_t ts = kStartMs;
    for (const auto& body : one_of_each_kind()) {
      Event e;
      e.timestamp_ms = ts++;
      e.body = body;
      s.apply(s.last_seq() + 1, e);
    }
    auto again = State::decode(s.encode());
    REQUIRE(again.ok());
    CHECK(again->digest() == s.digest());
  }
  CHECK(rejected > kTrials / 4);
}

// Regression: decode trusted the length of the per-type event counter table, so an encoding
// with a short table decoded fine and the next apply() wrote past the end of the vector.
TEST_CASE("decode rejects an encoding whose event counter table has the wrong length", "[state]") {
  const std::string bytes = State().encode();
  // In an empty state every varint is 0 except the version (1) and the counter table's
  // length; the table is that length byte followed by kEventTypeCount zero counters.
  const size_t at = bytes.find(static_cast<char>(trove::kEventTypeCount));
  REQUIRE(at != std::string::npos);
  REQUIRE(bytes.size() >= at + 1 + trove::kEventTypeCount);

  std::string shorter = bytes;
  shorter.replace(at, 1 + trove::kEventTypeCount, std::string(1, '\0'));
  auto r = State::decode(shorter);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kCorruption);

  std::string longer = bytes;
  longer[at] = static_cast<char>(trove::kEventTypeCount + 1);
  longer.insert(at + 1, 1, '\0');
  auto r2 = State::decode(longer);
  REQUIRE_FALSE(r2.ok());
  CHECK(r2.status().code() == StatusCode::kCorruption);
}

// Regression: decode accepted item refs past the interned ids, which State::item_id() (and
// every reader of histories, carts and offline lists) then indexed out of bounds.
TEST_CASE("decode rejects an encoding that refers to an item ref never interned", "[state]") {
  Feed f;
  f.apply(trove::OfflineRecommendationsUpsert{trove::RecoScope::kGlobal, "*", {"a"}, std::nullopt});
  const std::string bytes = f.state.encode();
  REQUIRE(State::decode(bytes).ok());
  // The offline map entry: key "global/*/*", then the list: length 1, ref 0.
  const std::string key = "global/*/*";
  const size_t at = bytes.find(key);
  REQUIRE(at != std::string::npos);
  const size_t list = at + key.size();
  REQUIRE(bytes.substr(list, 2) == std::string("\x01\x00", 2));
  std::string bad = bytes;
  bad[list + 1] = 5;
  auto r = State::decode(bad);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kCorruption);
}

// Found by fuzz/snapshot_fuzzer.cpp (corpus/snapshot/enum-out-of-range): decode took any
// integer for an enum, so a placement's strategy of -32 made strategy_name() index its table
// out of bounds when the placement was serialized (UBSan: index 18446744073709551584).
TEST_CASE("decode rejects an encoding with an enum value no event can carry", "[state]") {
  Feed f;
  trove::PlacementUpsert p;
  p.id = "plc-x";
  p.strategy = trove::Strategy::kTrending;
  f.apply(p);
  f.apply(trove::DetailItemView{visitor("v1"), "a"});
  const std::string bytes = f.state.encode();
  REQUIRE(State::decode(bytes).ok());

  // The placements map: key "plc-x", then the PlacementUpsert: id "plc-x", strategy varint.
  const size_t key = bytes.find("plc-x");
  const size_t id = bytes.find("plc-x", key + 1);
  REQUIRE(id != std::string::npos);
  const size_t strategy = id + 5;
  REQUIRE(bytes[strategy] == static_cast<char>(2 * static_cast<int>(trove::Strategy::kTrending)));
  for (char bad_value : {'\x3f', '\x0e', '\x01'}) {  // -32, 7 (one past the last) and -1 (zigzag)
    std::string bad = bytes;
    bad[strategy] = bad_value;
    auto r = State::decode(bad);
    INFO("strategy byte " << static_cast<int>(bad_value));
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kCorruption);
  }

  // The history entry: item ref 0, kind DetailItemView (16), value 1.0f.
  const std::string entry("\x00\x10\x00\x00\x80\x3f", 6);
  const size_t at = bytes.find(entry);
  REQUIRE(at != std::string::npos);
  for (char bad_value : {'\x00', '\x7f'}) {  // kNone and past the last kind
    std::string bad = bytes;
    bad[at + 1] = bad_value;
    auto r = State::decode(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kCorruption);
  }
}
