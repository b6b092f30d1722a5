// A deterministic generator of plausible shop activity: a catalog (items with titles, brands,
// category paths, prices, attributes), then shoppers who browse, search, cart, buy, rate and
// sometimes log in, merge, or ask to be forgotten. Shoppers favour a few categories, so
// co-occurrence is real signal, not noise. Used by `make demo`, the property and crash tests,
// and the benchmarks. Same seed, same events (given the same C++ standard library).
//
//   GeneratorOptions o{.seed = 7, .items = 2000, .visitors = 500, .behaviour_events = 20000};
//   std::vector<Event> events = generate_events(o);
//
// Thread-safety: a pure function.
#pragma once

#include <cstdint>
#include <vector>

#include "trove/data/events.h"

namespace trove {

struct GeneratorOptions {
  uint64_t seed = 1;
  size_t items = 2000;
  size_t visitors = 500;
  size_t behaviour_events = 20000;
  int64_t start_ms = 1700000000000;  // 2023-11-14T22:13:20Z
  int64_t step_ms = 60000;           // mean gap between behaviour events
  // Also emit config and rarer events (patches, removals, synonyms, placements, rankings,
  // offline lists, merges, forgets, repeated event_ids), for tests that must cover them all.
  bool all_kinds = true;
  bool with_event_ids = true;  // give each event an event_id (some deliberately repeated)
};

std::vector<Event> generate_events(const GeneratorOptions& opts);

}  // namespace trove
