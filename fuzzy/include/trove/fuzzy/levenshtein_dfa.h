// LevenshteinDfa: a LevenshteinAutomaton determinized lazily, one query at a time. Each
// distinct automaton State reached is interned once as a small integer id, together with
// everything a trie walk asks of it (distance, lower bound, sink, min_remaining, viable lead
// bytes, exact tail); transitions are cached by (state id, character class), a class being
// one distinct query code point or "any other". A walk over a term trie steps through a few
// thousand trie edges but only a few hundred distinct transitions (k = 2 over
// wamerican-large: about 2,100 steps, 220 transitions, 60 states per query), so most steps
// become one table read instead of a bit-parallel update plus the early-exit computations.
//
//   LevenshteinAutomaton a("chocolat", {.max_distance = 2});
//   LevenshteinDfa dfa(a);
//   auto s = dfa.start();
//   for (char32_t c : std::u32string_view(U"chocloate")) s = dfa.step(s, c);  // never kDead here
//   dfa.is_match(s);   // true; dfa.distance(s) == 2, as a.distance() would say
//
// Same contract as the automaton it wraps, state by state: for any candidate, the id reached
// by step() describes exactly the State that LevenshteinAutomaton::step() reaches (state()
// returns it), except that every State with can_match() false is the single id kDead.
// Bounds: step() is a class look-up (a table for ASCII, a scan of the query's distinct
// non-ASCII code points otherwise) plus one array read when the transition is cached; a miss
// runs the automaton's step and interns the result (one hash probe, amortised O(1)). Memory:
// O(states x classes); states and classes are both bounded by the query, states also by
// what the walk visits.
//
// Ownership: keeps a pointer to the automaton, which must outlive its use (or reset()).
// Thread-safety: none; step() mutates the caches. One per walk (reset() reuses the buffers).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "trove/fuzzy/levenshtein.h"

namespace trove::fuzzy {

class LevenshteinDfa {
 public:
  using StateId = uint32_t;
  static constexpr StateId kDead = 0;  // can_match() is false, whatever follows

  LevenshteinDfa() = default;  // unusable until reset()
  explicit LevenshteinDfa(const LevenshteinAutomaton& automaton) { reset(automaton); }
  // Forgets every state and transition and wraps `automaton`, keeping the buffers.
  void reset(const LevenshteinAutomaton& automaton);

  StateId start() const { return start_; }
  // The class of a code point: one per distinct query code point, and `other_class()` for the
  // rest (they all step the same way).
  uint32_t char_class(char32_t c) const {
    if (c < 128) return ascii_class_[c];
    for (size_t i = 0; i < non_ascii_.size(); ++i) {
      if (non_ascii_[i] == c) return first_non_ascii_class_ + static_cast<uint32_t>(i);
    }
    return other_class_;
  }
  uint32_t other_class() const { return other_class_; }
  // REQUIRES: s is a state of this DFA other than kDead; cls < class_count().
  StateId step_class(StateId s, uint32_t cls) {
    const StateId n = trans_[s * classes_ + cls];
    return n != kUnknown ? n : fill(s, cls);
  }
  // REQUIRES: s != kDead.
  StateId step(StateId s, char32_t c) { return step_class(s, char_class(c)); }
  // For hot loops: the cached transitions out of s by class (kUnknown where not computed
  // yet: call step_class(), which may move every row) and the class of each ASCII byte.
  static constexpr StateId kUnknown = UINT32_MAX;
  const StateId* row(StateId s) const { return trans_.data() + s * classes_; }
  const uint16_t* ascii_classes() const { return ascii_class_; }

  bool can_match(StateId s) const { return s != kDead; }
  bool is_match(StateId s) const { return info_[s].distance <= k_; }
  uint8_t distance(StateId s) const { return info_[s].distance; }
  uint8_t lower_bound(StateId s) const { return info_[s].lower_bound; }
  bool is_sink(StateId s) const { return info_[s].sink; }
  uint32_t min_remaining(StateId s) const { return info_[s].min_remaining; }
  uint32_t depth(StateId s) const { return info_[s].state.depth; }
  // The first bytes of the code points that may follow s without killing it, as a 256-bit
  // set, or null when any may. A superset: once the budget is spent it is the automaton's
  // forced_lead_bytes(); otherwise, when a character absent from the query kills s, only the
  // query characters in the window around s's depth can keep it alive. *highest is the
  // highest byte in the set (-1 when empty; only set when non-null). Computed on first use.
  const uint64_t* lead_bytes(StateId s, int* highest) {
    if (info_[s].lead == kLeadUnknown) compute_lead_bytes(s);
    const Info& i = info_[s];
    if (i.lead == kLeadAny) return nullptr;
    *highest = i.highest;
    return lead_sets_.data() + 4 * static_cast<size_t>(i.lead);
  }
  // As LevenshteinAutomaton::exact_tail.
  bool exact_tail(StateId s, std::string_view* rest) const {
    const Info& i = info_[s];
    if (i.tail < 0) return false;
    *rest = automaton_->query_utf8().substr(static_cast<size_t>(i.tail));
    return true;
  }

  const LevenshteinAutomaton::State& state(StateId s) const { return info_[s].state; }
  const LevenshteinAutomaton& automaton() const { return *automaton_; }
  size_t state_count() const { return info_.size(); }  // kDead included
  size_t class_count() const { return classes_; }
  size_t transitions_filled() const { return filled_; }

 private:
  static constexpr int32_t kLeadAny = -1;
  static constexpr uint32_t kWindows = 2 * kMaxEditDistance + 2;  // distinct windows per state
  static constexpr int32_t kLeadUnknown = -2;

  struct Info {
    LevenshteinAutomaton::State state;
    uint32_t min_remaining = 0;
    int32_t lead = -2;  // lead_bytes(): index into lead_sets_, or kLeadAny / kLeadUnknown
    int32_t tail = -1;  // exact_tail: byte offset into query_utf8(), -1: none
    int16_t highest = -1;
    // Transitions already computed by window (see fill()): window bits and target.
    uint8_t windows = 0;
    uint8_t window[kWindows] = {};
    StateId window_next[kWindows] = {};
    uint8_t distance = 0;
    uint8_t lower_bound = 0;
    bool sink = false;
  };

  StateId fill(StateId s, uint32_t cls);
  void compute_lead_bytes(StateId s);
  StateId intern(const LevenshteinAutomaton::State& st);
  void grow_table();

  const LevenshteinAutomaton* automaton_ = nullptr;
  uint8_t k_ = 0;
  StateId start_ = kDead;
  uint32_t classes_ = 0;
  uint32_t other_class_ = 0;
  uint32_t first_non_ascii_class_ = 0;
  uint16_t ascii_class_[128] = {};
  std::vector<char32_t> non_ascii_;       // distinct non-ASCII query code points, by class
  std::vector<char32_t> representative_;  // a code point of each class
  std::vector<uint32_t> class_at_;        // the class of each query position
  std::vector<Info> info_;                // by state id
  std::vector<StateId> trans_;            // state id * classes_ + class
  std::vector<uint64_t> lead_sets_;       // 4 words (256 bits) per lead_bytes() set
  std::vector<uint8_t> lead_at_;          // the first UTF-8 byte of each query position
  std::vector<StateId> table_;            // open addressing: state id + 1, 0 = empty
  size_t filled_ = 0;
};

}  // namespace trove::fuzzy
