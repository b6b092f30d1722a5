// walk_trie: the depth-first intersection of a LevenshteinAutomaton with a ByteTrie (private
// to fuzzy/), run through a LevenshteinDfa built lazily for the walk. Matches go to a Sink
// with the interface of TopK:
//   static constexpr bool kBounded;  // true: a top-k that full()/worst_distance() describe
//   bool full() const; uint8_t worst_distance() const;   // for pruning (full(): a top-k is full)
//   void offer(uint8_t distance, uint32_t rank);
//   void offer_range(uint32_t lo, uint32_t hi, uint8_t distance);  // every rank in [lo, hi)
//
// Early exits, cheapest first: a subtree is dropped as soon as can_match() fails (exact); a
// full top-k skips subtrees whose lower_bound() exceeds its worst distance; in prefix mode a
// sink state takes its whole subtree as one rank range; a subtree whose terms all end before
// the automaton's min_remaining() is skipped (node heights); once the edit budget is spent, a
// single remaining path is looked up (exact_tail); and only children whose label can start a
// code point that keeps the state alive are stepped (the DFA's lead_bytes). A bounded sink
// is fed the matches below distance k first (see the set-aside frames below).
// Bounds: one DFA look-up per child of a visited node, one automaton step per distinct
// (state, character class) transition; no allocation once the per-thread buffers have grown.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string_view>
#include <vector>

#include "byte_trie.h"
#include "trove/fuzzy/levenshtein.h"
#include "trove/fuzzy/levenshtein_dfa.h"

namespace trove::fuzzy {

// K is the automaton's k, fixed at compile time.
// REQUIRES: K == a.max_distance(); term_count = the number of terms in `t`.
template <int K, typename Sink>
void walk_trie(const ByteTrie& t, uint32_t term_count, const LevenshteinAutomaton& a, Sink& sink) {
  using StateId = LevenshteinDfa::StateId;
  struct Frame {
    uint32_t node;
    uint32_t rank_end;
    StateId state;
    // An incomplete multi-byte code point (see ByteState): its bits so far << 2 | the
    // continuation bytes still expected (0: none, the state is up to date).
    uint32_t partial;
  };
  static constexpr uint64_t kAnyByte[4] = {~0ull, ~0ull, ~0ull, ~0ull};
  const bool prefix = a.options().prefix;
  // One DFA and one stack per thread, reused: a walk allocates only when it outgrows them.
  thread_local LevenshteinDfa dfa;
  dfa.reset(a);
  // The stack's live frames are [0, top); its size is only capacity.
  thread_local std::vector<Frame> stack(1024);
  size_t top = 0;
  stack[top++] = {0, term_count, dfa.start(), 0};
  // A bounded sink (top-k) prunes subtrees that cannot beat its worst entry, which only bites
  // once it holds `limit` entries better than k. So the walk first explores only where a
  // distance below k is still possible and sets aside the frames that can only end at k;
  // when those first matches fill the sink, the set-aside frames are dropped unvisited
  // (short queries, prefix mode), and otherwise walked next. The order of a walk changes
  // nothing else: no work is repeated.
  constexpr bool kDefer = Sink::kBounded && K > 0;
  thread_local std::vector<Frame> later(kDefer ? 1024 : 0);
  size_t n_later = 0;
  bool deferring = kDefer;
  for (;;) {
    if (top == 0) {
      if (!deferring || n_later == 0) break;
      deferring = false;
      if (sink.full() && sink.worst_distance() < K) break;  // nothing set aside can enter
      if (stack.size() < n_later) stack.resize(n_later);
      std::copy(later.begin(), later.begin() + static_cast<std::ptrdiff_t>(n_later), stack.begin());
      top = n_later;
    }
    const Frame f = stack[--top];
    const uint32_t node = f.node;
    const StateId sid = f.state;
    const uint32_t pending = f.partial & 3;
    const uint64_t* allowed = kAnyByte;
    int highest = 255;  // labels are sorted: none past the highest allowed byte can pass
    if (pending == 0) {
      if (sink.full() && dfa.lower_bound(sid) > sink.worst_distance()) continue;
      if (dfa.is_sink(sid)) {
        sink.offer_range(t.rank(node), f.rank_end, dfa.distance(sid));
        continue;
      }
      // (Most states match nothing: test that first, it predicts better than the node.)
      if (dfa.distance(sid) <= K && t.terminal(node)) sink.offer(dfa.distance(sid), t.rank(node));
      // Budget spent on a single path: look the rest up instead of walking it.
      std::string_view rest;
      if (dfa.exact_tail(sid, &rest)) {
        uint32_t n = node, end = f.rank_end;
        if (!rest.empty() && t.descend_from(rest, &n, &end)) {
          if (prefix) {
            sink.offer_range(t.rank(n), end, K);
          } else if (t.terminal(n)) {
            sink.offer(K, t.rank(n));
          }
        }
        continue;
      }
      // Often only a few first bytes can continue (the budget is spent, or a character
      // absent from the query would kill the state): test labels against a 256-bit set
      // instead of stepping every child.
      if (const uint64_t* lead = dfa.lead_bytes(sid, &highest)) {
        if (highest < 0) continue;
        allowed = lead;
      }
    }
    uint32_t c = t.first_child(node);
    if (c == 0) continue;
    if (pending == 0) {
      // Without a branch per child that the data decides: each child is written to the next
      // free slot, and the slot is kept only when its step survives (not dead, and some term
      // below is long enough to match).
      if (stack.size() - top < 256) stack.resize(2 * stack.size() + 256);  // a block <= 256
      if (kDefer && later.size() - n_later < 256) later.resize(2 * later.size() + 256);
      Frame* frames = stack.data();
      Frame* set_aside = later.data();
      const uint16_t* cls = dfa.ascii_classes();
      const StateId* row = dfa.row(sid);
      if (allowed == kAnyByte) {
        for (;; ++c) {
          const uint64_t w = t.word(c);
          const uint8_t b = ByteTrie::label_of(w);
          if (b < 0x80) {
            StateId n = row[cls[b]];
            if (n == LevenshteinDfa::kUnknown) {
              n = dfa.step_class(sid, cls[b]);
              row = dfa.row(sid);
            }
            t.prefetch_children_of(w);
            const Frame child{c, t.rank_end(c, f.rank_end), n, 0};
            const bool keep =
                (n != LevenshteinDfa::kDead) &
                (ByteTrie::height_of(w) >= std::min(dfa.min_remaining(n), ByteTrie::kMaxHeight));
            frames[top] = child;
            if constexpr (kDefer) {
              const bool late = deferring & (dfa.lower_bound(n) >= K);
              set_aside[n_later] = child;
              n_later += keep & late;
              top += keep & !late;
            } else {
              top += keep;
            }
          } else {  // lead byte: wait for the rest of the code point
            const uint32_t len = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
            frames[top++] = {c, t.rank_end(c, f.rank_end), sid,
                             (uint32_t{b} & (0x7Fu >> len)) << 2 | (len - 1)};
          }
          if (ByteTrie::last_of(w)) break;
        }
      } else {
        // Only labels in `allowed` may continue; labels are sorted, so stop at the highest.
        for (;; ++c) {
          const uint64_t w = t.word(c);
          const uint8_t b = ByteTrie::label_of(w);
          const bool may = (allowed[b >> 6] >> (b & 63)) & 1;
          if (b < 0x80) {
            static_assert(LevenshteinDfa::kDead == 0);
            StateId n = row[cls[b]] & (0u - static_cast<StateId>(may));  // kDead unless `may`
            if (n == LevenshteinDfa::kUnknown) {
              n = dfa.step_class(sid, cls[b]);
              row = dfa.row(sid);
            }
            t.prefetch_children_of(w);
            const Frame child{c, t.rank_end(c, f.rank_end), n, 0};
            // (Bitwise: both sides are cheap and safe, and a branch here mispredicts.)
            const bool keep =
                (n != LevenshteinDfa::kDead) &
                (ByteTrie::height_of(w) >= std::min(dfa.min_remaining(n), ByteTrie::kMaxHeight));
            frames[top] = child;
            if constexpr (kDefer) {
              const bool late = deferring & keep & (dfa.lower_bound(n) >= K);
              set_aside[n_later] = child;
              n_later += late;
              top += keep && !late;
            } else {
              top += keep;
            }
          } else if (may) {
            const uint32_t len = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
            frames[top++] = {c, t.rank_end(c, f.rank_end), sid,
                             (uint32_t{b} & (0x7Fu >> len)) << 2 | (len - 1)};
          }
          if (ByteTrie::last_of(w) || b >= highest) break;
        }
      }
      continue;
    }
    if (stack.size() - top < 256) stack.resize(2 * stack.size() + 256);
    for (;; ++c) {
      const uint8_t b = t.label(c);
      if (b > highest) break;
      if (!((allowed[b >> 6] >> (b & 63)) & 1)) {
        // Skipped: cannot start any code point that keeps the state alive.
      } else if (pending == 0 && b < 0x80) {
        const StateId n = dfa.step_class(sid, dfa.char_class(b));
        // Also skipped when every term below ends before a match is possible (heights
        // saturate, so a tall subtree always passes).
        if (n != LevenshteinDfa::kDead &&
            t.height(c) >= std::min(dfa.min_remaining(n), ByteTrie::kMaxHeight)) {
          t.prefetch_children_of(t.word(c));
          stack[top++] = {c, t.rank_end(c, f.rank_end), n, 0};
        }
      } else if (pending == 0) {  // lead byte: wait for the rest of the code point
        const uint32_t n = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
        stack[top++] = {c, t.rank_end(c, f.rank_end), sid,
                        (uint32_t{b} & (0x7Fu >> n)) << 2 | (n - 1)};
      } else {
        const uint32_t cp = (f.partial >> 2) << 6 | (b & 0x3F);
        if (pending > 1) {
          stack[top++] = {c, t.rank_end(c, f.rank_end), sid, cp << 2 | (pending - 1)};
        } else {
          const StateId n = dfa.step(sid, cp);
          if (n != LevenshteinDfa::kDead) stack[top++] = {c, t.rank_end(c, f.rank_end), n, 0};
        }
      }
      if (t.last(c)) break;
    }
  }
}

// The same, dispatching on the automaton's k.
template <typename Sink>
void walk_trie_any_k(const ByteTrie& t, uint32_t term_count, const LevenshteinAutomaton& a,
                     Sink& sink) {
  switch (a.max_distance()) {
    case 0:
      walk_trie<0>(t, term_count, a, sink);
      break;
    case 1:
      walk_trie<1>(t, term_count, a, sink);
      break;
    case 2:
      walk_trie<2>(t, term_count, a, sink);
      break;
    default:
      walk_trie<3>(t, term_count, a, sink);
      break;
  }
}

}  // namespace trove::fuzzy
