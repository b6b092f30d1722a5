// LevenshteinAutomaton: accepts the strings within edit distance k (0..3) of a query, fed one
// code point at a time. It has the shape of BurntSushi/fst's Automaton trait (start / step /
// is_match / can_match) so it can be intersected with any sorted term structure: a
// TermDictionary walks its trie with it and drops a whole subtree as soon as can_match fails.
//
//   LevenshteinAutomaton a("chocolat", {.max_distance = 2});
//   auto s = a.start();
//   for (char32_t c : U"chocloate") s = a.step(s, c);
//   a.is_match(s);   // true
//   a.distance(s);   // 2 (one transposition "lo"/"ol" ... plus the trailing "e")
//
// Distance model: code points of the UTF-8 query (a multi-byte code point is one symbol).
// Insert, delete and substitute cost 1; with `transpositions`, swapping two adjacent code
// points costs 1 as well (optimal string alignment: a transposed pair is not edited again).
// In `prefix` mode a candidate matches when some prefix of it (possibly empty, possibly all
// of it) is within k, and distance() is the least such distance. With
// `first_char_costs_double`, a candidate whose first code point differs from the query's
// costs one more (distance + 1), so at k = 1 such a candidate never matches; an empty query
// has no first character and is never charged.
//
// How: the state is a bit-parallel simulation of the Levenshtein NFA (Wu-Manber, with Hyyrö's
// extra vector for transpositions), restricted to the diagonal band. After t code points an
// NFA position (i query code points consumed, e edits) can only be live if |i - t| <= e <= k,
// so each error level needs a window of 2k+1 bits around t: a State is 16 bytes and copying
// it is free, and nothing is built per query except one bit mask per distinct query
// character. Bounds: step() is O(k) word operations; the per-query set-up is
// O(m * distinct characters / 64) words for a query of m code points, any length.
// Early exits: can_match() is exact (false only when no extension can ever match: every
// live NFA position can still reach the end by matching the rest of the query), so a
// caller can prune on it; lower_bound() is the least distance any extension can reach, which
// lets a top-k search skip subtrees that cannot beat its current worst result.
//
// Thread-safety: immutable after construction; all const methods are safe from any thread.
#pragma once

#include <array>
#include <cassert>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace trove::fuzzy {

inline constexpr uint8_t kMaxEditDistance = 3;

struct LevenshteinOptions {
  uint8_t max_distance = 1;  // k, 0..kMaxEditDistance
  bool transpositions = true;  // optimal string alignment: an adjacent swap is 1 edit
  bool prefix = false;  // match if some prefix of the candidate is within k (search-as-you-type)
  bool first_char_costs_double = false;  // see TypoBudget; off by default here
};

class LevenshteinAutomaton {
 public:
  // Opaque to callers; 16 bytes, trivially copyable. Fields are described in step_impl().
  struct State {
    uint32_t depth = 0;                    // code points consumed
    std::array<uint8_t, 4> live{};         // live[e]: window of live NFA positions, <= e edits
    std::array<uint8_t, 4> transpose{};    // transpose[e]: pending swaps that land on level e
    uint8_t best = 0;                      // prefix mode: least distance over prefixes so far
    uint8_t pad[3] = {};
  };

  // A State plus the bytes of a code point not yet complete, for walking a UTF-8 byte trie.
  struct ByteState {
    State state;
    char32_t partial = 0;  // bits of the incomplete code point
    uint8_t pending = 0;   // continuation bytes still expected; state advances when 0
  };

  // REQUIRES: options.max_distance <= kMaxEditDistance. Invalid UTF-8 in the query decodes
  // to U+FFFD per bad byte (see utf8.h).
  LevenshteinAutomaton(std::string_view query_utf8, const LevenshteinOptions& options);

  State start() const { return start_; }
  State step(State s, char32_t c) const;
  bool is_match(State s) const { return distance(s) <= k_; }
  bool can_match(State s) const { return lower_bound(s) <= k_; }
  // The candidate's distance so far (prefix mode: least over its prefixes); k+1 if over k.
  uint8_t distance(State s) const;
  // No extension of the candidate can have a distance below this; k+1 when none can match.
  uint8_t lower_bound(State s) const;
  // Prefix mode only: every extension matches at exactly distance(s), so a trie walk can take
  // the whole subtree without stepping further. Always false in full mode.
  bool is_sink(State s) const {
    return prefix_ && distance(s) <= k_ && distance(s) == lower_bound(s);
  }

  // Byte-level stepping for a UTF-8 byte trie: continuation bytes accumulate and the
  // automaton steps once per complete code point. REQUIRES: the bytes fed from start form
  // well-formed UTF-8 (a TermDictionary only holds valid terms).
  ByteState start_bytes() const { return ByteState{start_, 0, 0}; }
  ByteState step_byte(ByteState s, uint8_t byte) const;

  // Runs the whole candidate (UTF-8) and returns its distance, or k+1 when it does not match.
  // Stops early once the outcome is decided.
  uint8_t evaluate(std::string_view candidate_utf8) const;

  uint8_t max_distance() const { return k_; }
  const LevenshteinOptions& options() const { return options_; }
  size_t query_length() const { return m_; }  // in code points

 private:
  template <int K>
  State step_impl(State s, char32_t c) const;
  // Bit j (j in 0..2k+1) set when query[depth - k + j] == c.
  uint32_t match_window(char32_t c, uint32_t depth) const;
  uint8_t full_distance(const State& s) const;

  LevenshteinOptions options_;
  uint8_t k_;
  bool prefix_;
  bool transpositions_;
  bool first_char_rule_;  // first_char_costs_double and a non-empty query
  uint32_t m_ = 0;
  char32_t first_ = 0;
  State start_;
  // Per distinct query character: a bitset of its positions, shifted up by k bits so that the
  // window for depth t starts at bit t. `words_` uint64 per character; the block at offset 0
  // is all zeros and serves characters absent from the query.
  uint32_t words_ = 0;
  std::vector<uint64_t> bits_;
  std::array<uint32_t, 128> ascii_block_{};             // ASCII character -> block offset
  std::vector<std::pair<char32_t, uint32_t>> other_;    // sorted non-ASCII -> block offset
};

// ---- inline hot path -------------------------------------------------------------------

inline uint32_t LevenshteinAutomaton::match_window(char32_t c, uint32_t depth) const {
  if (depth > m_ + k_) return 0;  // the window lies past the end of the query
  uint32_t block = 0;
  if (c < 128) {
    block = ascii_block_[c];
  } else {
    for (const auto& [cp, off] : other_) {
      if (cp == c) {
        block = off;
        break;
      }
    }
  }
  if (block == 0) return 0;
  const uint64_t* w = bits_.data() + block + (depth >> 6);
  const unsigned shift = depth & 63;
  // (w[1] << 1) << (63 - shift) is w[1] << (64 - shift) without the undefined shift by 64.
  const uint64_t v = (w[0] >> shift) | ((w[1] << 1) << (63 - shift));
  return static_cast<uint32_t>(v) & ((2u << (2 * k_ + 1)) - 1);
}

template <int K>
inline LevenshteinAutomaton::State LevenshteinAutomaton::step_impl(State s, char32_t c) const {
  // Coordinates: bit j of a window stands for query position depth - K + j. The new windows
  // are computed in the old coordinates (bits 0..2K+2) and shifted down by one at the end.
  constexpr uint32_t kWindow = (1u << (2 * K + 1)) - 1;
  const uint32_t x = match_window(c, s.depth);
  // Positions past the end of the query are never live: bit j is valid while j <= m - base.
  const int64_t last = static_cast<int64_t>(m_) - static_cast<int64_t>(s.depth) + K;
  const uint32_t valid = last < 0 ? 0u : last >= 2 * K + 3 ? (1u << (2 * K + 3)) - 1
                                                          : (2u << last) - 1;
  State n;
  n.depth = s.depth + 1;
  uint32_t below = ((s.live[0] & x) << 1) & valid;  // level 0: matches only
  n.live[0] = static_cast<uint8_t>((below >> 1) & kWindow);
  for (int e = 1; e <= K; ++e) {
    uint32_t v = ((s.live[e] & x) << 1)            // match: i -> i+1
                 | s.live[e - 1]                   // insertion in the candidate: i stays
                 | (uint32_t{s.live[e - 1]} << 1)  // substitution: i -> i+1
                 | ((s.transpose[e] & x) << 2)     // second half of a swap: i -> i+2
                 | (below << 1);                   // deletions after this step (closure)
    v &= valid;
    below = v;
    n.live[e] = static_cast<uint8_t>((v >> 1) & kWindow);
  }
  if (transpositions_) {
    // First half of a swap: live at level e-1 and query[i+1] == c; finishes on the next step
    // if that character equals query[i].
    for (int e = 1; e <= K; ++e) {
      n.transpose[e] = static_cast<uint8_t>(((s.live[e - 1] & (x >> 1)) >> 1) & kWindow);
    }
  }
  if (first_char_rule_ && s.depth == 0 && c != first_) {
    // Every path through this candidate pays one more edit: shift all levels up by one.
    for (int e = K; e >= 1; --e) {
      n.live[e] = n.live[e - 1];
      n.transpose[e] = e >= 2 ? n.transpose[e - 1] : 0;
    }
    n.live[0] = 0;
    s.best = static_cast<uint8_t>(s.best + 1 > K + 1 ? K + 1 : s.best + 1);
  }
  n.best = s.best;
  if (prefix_) {
    const uint8_t d = full_distance(n);
    if (d < n.best) n.best = d;
  }
  return n;
}

inline LevenshteinAutomaton::State LevenshteinAutomaton::step(State s, char32_t c) const {
  switch (k_) {
    case 0:
      return step_impl<0>(s, c);
    case 1:
      return step_impl<1>(s, c);
    case 2:
      return step_impl<2>(s, c);
    default:
      return step_impl<3>(s, c);
  }
}

inline uint8_t LevenshteinAutomaton::full_distance(const State& s) const {
  // Query position m sits at bit m - depth + k of the window, if inside it.
  const int64_t bit = static_cast<int64_t>(m_) - static_cast<int64_t>(s.depth) + k_;
  if (bit < 0 || bit > 2 * k_) return static_cast<uint8_t>(k_ + 1);
  for (uint8_t e = 0; e <= k_; ++e) {
    if ((s.live[e] >> bit) & 1) return e;
  }
  return static_cast<uint8_t>(k_ + 1);
}

inline uint8_t LevenshteinAutomaton::distance(State s) const {
  uint8_t d = prefix_ ? s.best : full_distance(s);
  // Before the first step the empty candidate is scored: its first character "differs".
  if (first_char_rule_ && s.depth == 0 && d <= k_) ++d;
  return d;
}

inline uint8_t LevenshteinAutomaton::lower_bound(State s) const {
  uint8_t lb = prefix_ ? s.best : static_cast<uint8_t>(k_ + 1);
  for (uint8_t e = 0; e < lb && e <= k_; ++e) {
    if (s.live[e] != 0) return e;  // live sets are nested: live[e] is a subset of live[e+1]
  }
  return lb;
}

inline LevenshteinAutomaton::ByteState LevenshteinAutomaton::step_byte(ByteState s,
                                                                      uint8_t byte) const {
  if (s.pending == 0) {
    if (byte < 0x80) return ByteState{step(s.state, byte), 0, 0};
    const int n = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : 2;
    // REQUIRES: a lead byte here (well-formed UTF-8).
    assert((byte & 0xC0) == 0xC0);
    return ByteState{s.state, static_cast<char32_t>(byte & (0x7F >> n)),
                     static_cast<uint8_t>(n - 1)};
  }
  assert((byte & 0xC0) == 0x80);
  const char32_t cp = (s.partial << 6) | (byte & 0x3F);
  if (s.pending > 1) return ByteState{s.state, cp, static_cast<uint8_t>(s.pending - 1)};
  return ByteState{step(s.state, cp), 0, 0};
}

}  // namespace trove::fuzzy
