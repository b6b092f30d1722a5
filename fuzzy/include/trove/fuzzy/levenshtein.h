// LevenshteinAutomaton: accepts the strings within edit distance k (0..3) of a query, fed one
// code point at a time. It has the shape of BurntSushi/fst's Automaton trait (start / step /
// is_match / can_match) so it can be intersected with any sorted term structure: a
// TermDictionary walks its trie with it and drops a whole subtree as soon as can_match fails.
//
//   LevenshteinAutomaton a("chocolat", {.max_distance = 2});
//   auto s = a.start();
//   for (char32_t c : std::u32string_view(U"chocloate")) s = a.step(s, c);
//   a.is_match(s);   // true
//   a.distance(s);   // 2: the swapped "lo" and the extra trailing "e"
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
// so each error level needs a window of 2k+1 bits around t, and the k+1 levels sit side by
// side in one 64-bit word: a State is 24 bytes and copying it is free, and nothing is built
// per query but one bit mask per distinct query character and a few per-depth tables.
// Bounds: step() is about twenty word operations (plus k for the deletion closure) whatever
// the query length; the set-up is O(m * distinct characters / 64) words for m code points.
// Early exits for walks: can_match() is exact (false only when no extension can ever match:
// every live NFA position can still reach the end by matching the rest of the query);
// lower_bound() is the least distance any extension can reach (a top-k walk skips subtrees
// that cannot beat its worst entry); is_sink() says every extension matches at one distance
// (prefix mode: take the subtree whole); min_remaining() is how many more code points a match
// needs (skip subtrees whose terms all end sooner); once the budget is spent,
// forced_lead_bytes() names the few characters that may follow and exact_tail() the single
// string that must, when there is one.
//
// Thread-safety: immutable after construction; all const methods are safe from any thread.
#pragma once

#include <array>
#include <cassert>
#include <climits>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace trove::fuzzy {

inline constexpr uint8_t kMaxEditDistance = 3;

struct LevenshteinOptions {
  uint8_t max_distance = 1;    // k, 0..kMaxEditDistance
  bool transpositions = true;  // optimal string alignment: an adjacent swap is 1 edit
  bool prefix = false;  // match if some prefix of the candidate is within k (search-as-you-type)
  bool first_char_costs_double = false;  // see TypoBudget; off by default here
  // Advanced, for splitting one search into cheaper ones (TermDictionary does): the edits
  // of an alignment that land before query code point `head_length` may number at most
  // `head_budget`. The automaton then accepts only alignments that respect this, and its
  // distance is that of the best such alignment. Default: no limit. Ignored together with
  // first_char_costs_double (the two are never combined).
  uint32_t head_length = 0;
  uint8_t head_budget = kMaxEditDistance;
};

class LevenshteinAutomaton {
 public:
  // Opaque to callers; 24 bytes, trivially copyable. Levels are 16-bit lanes of one word so
  // that a step updates all of them at once (see step_k()).
  struct State {
    uint64_t live = 0;       // lane e: window of live NFA positions with <= e edits
    uint64_t transpose = 0;  // lane e: first halves of swaps that would land on level e
    uint32_t depth = 0;      // code points consumed
    uint32_t best = 0;       // prefix mode: least distance over the prefixes seen so far
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
  // step() with k fixed at compile time, for hot loops that dispatch on k once.
  // REQUIRES: K == max_distance().
  template <int K>
  __attribute__((always_inline)) State step_k(State s, char32_t c) const;
  bool is_match(State s) const { return distance(s) <= k_; }
  // Same as lower_bound(s) <= k: levels above k are never kept, so any live bit (or pending
  // swap: with a head limit one can be the only way left) will do.
  bool can_match(State s) const { return (s.live | s.transpose) != 0 || (prefix_ && s.best <= k_); }
  // The candidate's distance so far (prefix mode: least over its prefixes); k+1 if over k.
  uint8_t distance(State s) const;
  // No extension of the candidate can have a distance below this; k+1 when none can match.
  uint8_t lower_bound(State s) const;
  // Prefix mode only: every extension matches at exactly distance(s), so a trie walk can take
  // the whole subtree without stepping further. Always false in full mode.
  bool is_sink(State s) const {
    return prefix_ && distance(s) <= k_ && distance(s) == lower_bound(s);
  }

  // Early exit for trie walks: how many more code points any matching extension needs at
  // least (0 once matched). A subtree whose terms all end sooner can be skipped.
  uint32_t min_remaining(State s) const;
  template <int K>
  uint32_t min_remaining_k(State s) const;  // REQUIRES: K == max_distance()

  // Early exit for trie walks: once the edit budget is spent (every live NFA position already
  // carries k edits and, in prefix mode, nothing has matched yet), an extension can only
  // survive by continuing with one of at most 2k+1 query characters. Sets the 256-bit set
  // `allowed` to their first UTF-8 bytes and returns true (an empty set: nothing can
  // follow), or returns false while any character may follow. A byte-trie walk then skips
  // the children with other labels without stepping the automaton.
  bool forced_lead_bytes(State s, uint64_t allowed[4]) const;

  // The sharper exit: the budget is spent and a single live position p is left (at level
  // k). Every matching extension then continues with exactly query[p..m): sets *rest to those
  // bytes of query_utf8() and returns true. In full mode the extension equal to *rest matches,
  // at distance k (empty: the candidate itself, already scored); in prefix mode every
  // extension that starts with it matches, at k. Returns false in every other case, and
  // whenever a swap is pending.
  bool exact_tail(State s, std::string_view* rest) const;

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
  // The query as decoded, re-encoded (bytes that were not UTF-8 became U+FFFD).
  std::string_view query_utf8() const { return query_utf8_; }

 private:
  // Bit j (j in 0..2k+1) set when query[depth - k + j] == c.
  uint32_t match_window(char32_t c, uint32_t depth) const;
  // Bits j of a window (old coordinates, 0..2k+2) whose position depth - k + j <= m.
  // All lanes: bits j of a window (old coordinates) whose position depth - k + j <= m.
  uint64_t valid_lanes(uint32_t depth) const { return depth < valid_.size() ? valid_[depth] : 0u; }
  // The head limit: in the lanes above head_budget, positions before head_length hold what
  // the head_budget lane holds (nothing more may be reached there). REQUIRES: head_limited_.
  uint64_t project_head(uint64_t v, uint32_t depth) const {
    const uint64_t low = depth < head_low_.size() ? head_low_[depth] : 0u;
    const uint64_t lane = (v >> (16 * head_budget_)) & 0xFFFF;
    return (v & ~low) | (lane * upper_lanes_ & low);
  }
  uint8_t full_distance(const State& s) const;

  LevenshteinOptions options_;
  uint8_t k_;
  bool prefix_;
  bool transpositions_;
  bool first_char_rule_;  // first_char_costs_double and a non-empty query
  uint32_t m_ = 0;
  char32_t first_ = 0;
  std::u32string query_;
  std::string query_utf8_;         // query_ re-encoded (invalid input bytes became U+FFFD)
  std::vector<uint32_t> offsets_;  // byte offset of each code point in query_utf8_, then size
  // First UTF-8 byte of query position p at index p + k (256 outside the query), padded so
  // any window read at depth <= m + k stays inside.
  std::vector<uint16_t> lead_;
  std::vector<uint64_t> valid_;  // valid_lanes() by depth, for depth <= m + k
  bool head_limited_ = false;
  uint8_t head_budget_ = 0;
  uint64_t upper_lanes_ = 0;        // low bit of each lane above head_budget (up to k)
  std::vector<uint64_t> head_low_;  // by depth: bits of positions < head_length, upper lanes
  State start_;
  // Per distinct query character: a bitset of its positions, shifted up by k bits so that the
  // window for depth t starts at bit t. `words_` uint64 per character; the block at offset 0
  // is all zeros and serves characters absent from the query.
  uint32_t words_ = 0;
  std::vector<uint64_t> bits_;
  std::array<uint32_t, 128> ascii_block_{};           // ASCII character -> block offset
  std::vector<std::pair<char32_t, uint32_t>> other_;  // sorted non-ASCII -> block offset
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

namespace levenshtein_internal {
// Lane e of a 64-bit word holds error level e; kLanes<K> has the low bit of lanes 0..K set.
template <int K>
inline constexpr uint64_t kLanes = K == 0   ? 0x1ull
                                   : K == 1 ? 0x10001ull
                                   : K == 2 ? 0x100010001ull
                                            : 0x1000100010001ull;
inline constexpr uint64_t kAllLanes = 0x0001000100010001ull;
inline int lowest_lane(uint64_t v) { return __builtin_ctzll(v) >> 4; }  // REQUIRES: v != 0
}  // namespace levenshtein_internal

template <int K>
inline LevenshteinAutomaton::State LevenshteinAutomaton::step_k(State s, char32_t c) const {
  using levenshtein_internal::kLanes;
  // Coordinates: bit j of a lane stands for query position depth - K + j. The new lanes are
  // computed in the old coordinates (bits 0..2K+2, plus up to K deletion bits: under 16) and
  // shifted down by one at the end. Lane e+1 gets level e's contribution by a 16-bit shift.
  constexpr uint64_t kWindow = ((1ull << (2 * K + 1)) - 1) * kLanes<K>;
  const uint64_t x = match_window(c, s.depth) * kLanes<K>;
  // Positions past the end of the query are never live: bit j is valid while j <= m - base.
  const uint64_t valid = valid_lanes(s.depth);
  const uint64_t below = s.live << 16;      // lane e: level e-1
  uint64_t v = ((s.live & x) << 1)          // match: i -> i+1
               | below                      // insertion in the candidate: i stays
               | (below << 1)               // substitution: i -> i+1
               | ((s.transpose & x) << 2);  // second half of a swap: i -> i+2
  v &= valid;
  // Deletions after this step: level e takes level e-1's new positions shifted by one, which
  // chains. Without a head limit, doubling covers up to 3 in two rounds; with one, each
  // single deletion is re-checked against the limit, K rounds.
  if (!head_limited_) {
    if constexpr (K >= 1) v |= (v << 17) & valid;
    if constexpr (K >= 2) v |= (v << 34) & valid;
  } else {
    v = project_head(v, s.depth);
    for (int round = 0; round < K; ++round) v = project_head(v | ((v << 17) & valid), s.depth);
  }
  State n;
  n.depth = s.depth + 1;
  n.live = (v >> 1) & kWindow;
  // First half of a swap: live at level e-1 and query[i+1] == c; it finishes on the next step
  // if that character equals query[i].
  n.transpose = transpositions_ ? ((below & (x >> 1)) >> 1) & kWindow : 0;
  uint32_t best = s.best;
  if (first_char_rule_ && s.depth == 0 && c != first_) {
    // Every path through this candidate pays one more edit: move each level up one lane.
    n.live = (n.live << 16) & kWindow;
    n.transpose = (n.transpose << 16) & kWindow;
    best = best + 1 > K + 1 ? K + 1 : best + 1;
  }
  n.best = best;
  if (prefix_) {
    const uint8_t d = full_distance(n);
    if (d < n.best) n.best = d;
  }
  return n;
}

inline LevenshteinAutomaton::State LevenshteinAutomaton::step(State s, char32_t c) const {
  switch (k_) {
    case 0:
      return step_k<0>(s, c);
    case 1:
      return step_k<1>(s, c);
    case 2:
      return step_k<2>(s, c);
    default:
      return step_k<3>(s, c);
  }
}

inline uint8_t LevenshteinAutomaton::full_distance(const State& s) const {
  // Query position m sits at bit m - depth + k of each lane, if inside the window.
  const int64_t bit = static_cast<int64_t>(m_) - static_cast<int64_t>(s.depth) + k_;
  if (bit < 0 || bit > 2 * k_) return static_cast<uint8_t>(k_ + 1);
  const uint64_t at_end = (s.live >> bit) & levenshtein_internal::kAllLanes;
  return at_end ? static_cast<uint8_t>(levenshtein_internal::lowest_lane(at_end))
                : static_cast<uint8_t>(k_ + 1);
}

inline uint8_t LevenshteinAutomaton::distance(State s) const {
  uint8_t d = prefix_ ? static_cast<uint8_t>(s.best) : full_distance(s);
  // Before the first step the empty candidate is scored: its first character "differs".
  if (first_char_rule_ && s.depth == 0 && d <= k_) ++d;
  return d;
}

inline uint8_t LevenshteinAutomaton::lower_bound(State s) const {
  // Live sets are nested (level e is a subset of level e+1): the lowest non-empty lane is the
  // least number of edits any extension can end with.
  // A pending swap lands on its own level, so it counts like a live position there.
  const uint8_t lb = prefix_ ? static_cast<uint8_t>(s.best) : static_cast<uint8_t>(k_ + 1);
  const uint64_t any = s.live | s.transpose;
  if (any == 0) return lb;
  const auto lane = static_cast<uint8_t>(levenshtein_internal::lowest_lane(any));
  return lane < lb ? lane : lb;
}

template <int K>
inline uint32_t LevenshteinAutomaton::min_remaining_k(State s) const {
  if (prefix_ && s.best <= K) return 0;
  // A live position p at level e still needs query[p..m) minus what k-e deletions can skip;
  // a swap pending at p lands on p+2 with one more code point, so it needs what p+1 needs.
  // The highest position of each level gives that level's least need:
  // m - (depth - k + bit) - (k - e).
  int64_t need = INT64_MAX;
  for (int e = 0; e <= K; ++e) {
    const uint64_t live = (s.live >> (16 * e)) & 0xFFFF;
    const uint64_t swap = (s.transpose >> (16 * e)) & 0xFFFF;
    const uint64_t lane = live | (swap << 1);
    if (lane == 0) continue;
    const int64_t n =
        static_cast<int64_t>(m_) - static_cast<int64_t>(s.depth) - (63 - __builtin_clzll(lane)) + e;
    if (n < need) need = n;
  }
  return need <= 0 ? 0 : need == INT64_MAX ? UINT32_MAX : static_cast<uint32_t>(need);
}

inline uint32_t LevenshteinAutomaton::min_remaining(State s) const {
  switch (k_) {
    case 0:
      return min_remaining_k<0>(s);
    case 1:
      return min_remaining_k<1>(s);
    case 2:
      return min_remaining_k<2>(s);
    default:
      return min_remaining_k<3>(s);
  }
}

inline bool LevenshteinAutomaton::forced_lead_bytes(State s, uint64_t allowed[4]) const {
  if (prefix_ && s.best <= k_) return false;
  const uint64_t lower_levels = (uint64_t{1} << (16 * k_)) - 1;
  if (s.live & lower_levels) return false;
  // Level k can only advance by a match, a pending swap only by its second character.
  // (Without a head limit every pending swap is also a live position; with one, not always.)
  // Bit j of the window is query position depth - k + j, i.e. padded position depth + j.
  uint64_t t = s.transpose;
  t |= t >> 32;
  t |= t >> 16;
  uint64_t w = ((s.live >> (16 * k_)) | t) & 0xFFFF;
  allowed[0] = allowed[1] = allowed[2] = allowed[3] = 0;
  const uint16_t* lead = lead_.data() + s.depth;
  for (; w != 0; w &= w - 1) {
    const uint16_t b = lead[__builtin_ctzll(w)];
    if (b < 256) allowed[b >> 6] |= uint64_t{1} << (b & 63);  // 256: the end of the query
  }
  return true;
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
