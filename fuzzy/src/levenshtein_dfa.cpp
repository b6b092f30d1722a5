#include "trove/fuzzy/levenshtein_dfa.h"

#include <algorithm>
#include <cassert>

#include "trove/fuzzy/utf8.h"

namespace trove::fuzzy {
namespace {

uint64_t hash_state(const LevenshteinAutomaton::State& s) {
  uint64_t h = s.live * 0x9E3779B97F4A7C15ull;
  h ^= (s.transpose + (uint64_t{s.depth} << 32 | s.best)) * 0xC2B2AE3D27D4EB4Full;
  return h ^ (h >> 29);
}

bool same(const LevenshteinAutomaton::State& a, const LevenshteinAutomaton::State& b) {
  return a.live == b.live && a.transpose == b.transpose && a.depth == b.depth && a.best == b.best;
}

}  // namespace

void LevenshteinDfa::reset(const LevenshteinAutomaton& automaton) {
  automaton_ = &automaton;
  k_ = automaton.max_distance();
  // Classes: the distinct query code points (ASCII first, then the rest), then "other".
  std::u32string q;
  decode_utf8(automaton.query_utf8(), &q);
  std::sort(q.begin(), q.end());
  q.erase(std::unique(q.begin(), q.end()), q.end());
  representative_.clear();
  non_ascii_.clear();
  for (char32_t c : q) {
    if (c < 128) representative_.push_back(c);
  }
  first_non_ascii_class_ = static_cast<uint32_t>(representative_.size());
  for (char32_t c : q) {
    if (c >= 128) {
      non_ascii_.push_back(c);
      representative_.push_back(c);
    }
  }
  other_class_ = static_cast<uint32_t>(representative_.size());
  std::fill(std::begin(ascii_class_), std::end(ascii_class_), static_cast<uint16_t>(other_class_));
  for (uint32_t i = 0; i < first_non_ascii_class_; ++i) {
    ascii_class_[representative_[i]] = static_cast<uint16_t>(i);
  }
  char32_t other = 0;  // a code point absent from the query (q is sorted)
  for (char32_t c : q) {
    if (c != other) break;
    ++other;
  }
  representative_.push_back(other);
  classes_ = other_class_ + 1;
  class_at_.clear();
  lead_at_.clear();
  const std::string_view q8 = automaton.query_utf8();
  for (size_t pos = 0; pos < q8.size();) {
    lead_at_.push_back(static_cast<uint8_t>(q8[pos]));
    class_at_.push_back(char_class(next_code_point(q8, &pos)));
  }

  info_.clear();
  trans_.clear();
  lead_sets_.clear();
  filled_ = 0;
  // Start with a small table; it doubles at half load.
  table_.assign(256, 0);
  // Id 0: the dead state (no transition out of it is ever taken).
  Info dead;
  dead.state.best = k_ + 1u;
  dead.distance = dead.lower_bound = static_cast<uint8_t>(k_ + 1);
  dead.min_remaining = UINT32_MAX;
  info_.push_back(dead);
  trans_.resize(classes_, kDead);
  start_ = intern(automaton.start());
  assert(start_ != kDead);
}

LevenshteinDfa::StateId LevenshteinDfa::fill(StateId s, uint32_t cls) {
  // REQUIRES: s != kDead (the walk never steps a dead state).
  assert(s != kDead && cls < classes_);
  // A step sees a character only through its positions in the window around the depth (query
  // positions depth - k .. depth + k + 1): classes with the same window positions step alike.
  // One absent from the window steps like any other absent character.
  uint32_t window = 0;
  if (cls != other_class_) {
    const int64_t base = static_cast<int64_t>(info_[s].state.depth) - k_;
    const int64_t lo = std::max<int64_t>(0, base);
    const int64_t hi = std::min<int64_t>(static_cast<int64_t>(class_at_.size()), base + 2 * k_ + 2);
    for (int64_t p = lo; p < hi; ++p) window |= uint32_t{class_at_[p] == cls} << (p - base);
    if (window == 0) {
      const StateId n = step_class(s, other_class_);
      trans_[s * classes_ + cls] = n;
      return n;
    }
    const Info& i = info_[s];
    for (uint32_t j = 0; j < i.windows; ++j) {
      if (i.window[j] == window) {
        trans_[s * classes_ + cls] = i.window_next[j];
        return i.window_next[j];
      }
    }
  }
  const LevenshteinAutomaton::State next = automaton_->step(info_[s].state, representative_[cls]);
  const StateId n = automaton_->can_match(next) ? intern(next) : kDead;
  trans_[s * classes_ + cls] = n;
  ++filled_;
  Info& i = info_[s];
  if (window != 0 && i.windows < kWindows) {
    i.window[i.windows] = static_cast<uint8_t>(window);
    i.window_next[i.windows++] = n;
  }
  return n;
}

void LevenshteinDfa::compute_lead_bytes(StateId s) {
  uint64_t set[4] = {0, 0, 0, 0};
  if (!automaton_->forced_lead_bytes(info_[s].state, set)) {
    if (step_class(s, other_class_) != kDead) {
      info_[s].lead = kLeadAny;
      return;
    }
    // A character absent from the window steps like one absent from the query: only the
    // window's characters can keep s alive (see fill()).
    const int64_t depth = info_[s].state.depth;
    const int64_t lo = std::max<int64_t>(0, depth - k_);
    const int64_t hi = std::min<int64_t>(static_cast<int64_t>(lead_at_.size()), depth + k_ + 2);
    for (int64_t p = lo; p < hi; ++p) set[lead_at_[p] >> 6] |= uint64_t{1} << (lead_at_[p] & 63);
  }
  Info& info = info_[s];
  info.lead = static_cast<int32_t>(lead_sets_.size() / 4);
  lead_sets_.insert(lead_sets_.end(), set, set + 4);
  info.highest = -1;
  for (int w = 3; w >= 0; --w) {
    if (set[w] != 0) {
      info.highest = static_cast<int16_t>(64 * w + 63 - __builtin_clzll(set[w]));
      break;
    }
  }
}

void LevenshteinDfa::grow_table() {
  std::vector<StateId> old(table_.size() * 2, 0);
  old.swap(table_);
  const size_t mask = table_.size() - 1;
  for (StateId id : old) {
    if (id == 0) continue;
    size_t i = hash_state(info_[id - 1].state) & mask;
    while (table_[i] != 0) i = (i + 1) & mask;
    table_[i] = id;
  }
}

LevenshteinDfa::StateId LevenshteinDfa::intern(const LevenshteinAutomaton::State& st) {
  const size_t mask = table_.size() - 1;
  size_t i = hash_state(st) & mask;
  for (; table_[i] != 0; i = (i + 1) & mask) {
    if (same(info_[table_[i] - 1].state, st)) return table_[i] - 1;
  }
  const auto id = static_cast<StateId>(info_.size());
  table_[i] = id + 1;
  const LevenshteinAutomaton& a = *automaton_;
  Info info;
  info.state = st;
  info.distance = a.distance(st);
  info.lower_bound = a.lower_bound(st);
  info.sink = a.is_sink(st);
  info.min_remaining = a.min_remaining(st);
  std::string_view rest;
  if (a.exact_tail(st, &rest)) {
    info.tail = static_cast<int32_t>(a.query_utf8().size() - rest.size());
  }
  info_.push_back(info);
  trans_.resize(trans_.size() + classes_, kUnknown);
  if (2 * info_.size() > table_.size()) grow_table();
  return id;
}

}  // namespace trove::fuzzy
