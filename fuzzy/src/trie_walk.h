// walk_trie: the depth-first intersection of a LevenshteinAutomaton with a ByteTrie (private
// to fuzzy/). Matches go to a Sink with the interface of TopK:
//   bool full() const; uint8_t worst_distance() const;   // for pruning (full(): a top-k is full)
//   void offer(uint8_t distance, uint32_t rank);
//   void offer_range(uint32_t lo, uint32_t hi, uint8_t distance);  // every rank in [lo, hi)
//
// Early exits, cheapest first: a subtree is dropped as soon as can_match() fails (exact); a
// full top-k skips subtrees whose lower_bound() exceeds its worst distance; in prefix mode a
// sink state takes its whole subtree as one rank range; a subtree whose terms all end before
// the automaton's min_remaining() is skipped (node heights); once the edit budget is spent, a
// single remaining path is looked up (exact_tail) and otherwise only children whose label
// can start a forced character are stepped (forced_lead_bytes).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "byte_trie.h"
#include "trove/fuzzy/levenshtein.h"

namespace trove::fuzzy {

// k fixed at compile time so the automaton's step inlines into the loop.
// REQUIRES: K == a.max_distance(); term_count = the number of terms in `t`.
template <int K, typename Sink>
void walk_trie(const ByteTrie& t, uint32_t term_count, const LevenshteinAutomaton& a, Sink& sink) {
  using State = LevenshteinAutomaton::State;
  struct Frame {
    uint32_t node;
    uint32_t rank_end;
    State state;
    char32_t partial;  // an incomplete multi-byte code point (see ByteState)
    uint32_t pending;  // its continuation bytes still expected
  };
  const auto m = static_cast<uint32_t>(a.query_length());
  const bool prefix = a.options().prefix;
  // One stack per thread, reused: a walk allocates nothing.
  thread_local std::vector<Frame> stack;
  stack.clear();
  stack.push_back({0, term_count, a.start(), 0, 0});
  while (!stack.empty()) {
    const Frame f = stack.back();
    stack.pop_back();
    const uint32_t node = f.node;
    if (f.pending == 0) {
      if (sink.full() && a.lower_bound(f.state) > sink.worst_distance()) continue;
      if (a.is_sink(f.state)) {
        sink.offer_range(t.rank(node), f.rank_end, a.distance(f.state));
        continue;
      }
      if (t.terminal(node)) {
        const uint8_t d = a.distance(f.state);
        if (d <= K) sink.offer(d, t.rank(node));
      }
      // Budget spent on a single path: look the rest up instead of walking it.
      std::string_view rest;
      if (a.exact_tail(f.state, &rest)) {
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
    }
    uint32_t c = t.first_child(node);
    if (c == 0) continue;
    // With the budget spent only a few first bytes can continue: test labels against a
    // 256-bit set instead of stepping every child.
    uint64_t allowed[4] = {~0ull, ~0ull, ~0ull, ~0ull};
    unsigned highest = 255;  // labels are sorted: none past the highest allowed byte can pass
    if (f.pending == 0 && a.forced_lead_bytes(f.state, allowed)) {
      int word = 3;
      while (word >= 0 && allowed[word] == 0) --word;
      if (word < 0) continue;
      highest = static_cast<unsigned>(64 * word + 63 - __builtin_clzll(allowed[word]));
    }
    for (;; ++c) {
      const uint8_t b = t.label(c);
      if (b > highest) break;
      if (!((allowed[b >> 6] >> (b & 63)) & 1)) {
        // Skipped: cannot start any of the forced code points.
      } else if (f.pending == 0 && b < 0x80) {
        const State s = a.step_k<K>(f.state, b);
        // Also skipped when every term below ends before a match is possible (the need is
        // at most m - depth + k, so tall subtrees skip the computation).
        const uint32_t h = t.height(c);
        const bool tall_enough = h == 255 || h + s.depth >= m + K || h >= a.min_remaining_k<K>(s);
        if (a.can_match(s) && tall_enough) {
          stack.push_back({c, t.rank_end(c, f.rank_end), s, 0, 0});
        }
      } else if (f.pending == 0) {  // lead byte: wait for the rest of the code point
        const int n = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
        stack.push_back({c, t.rank_end(c, f.rank_end), f.state,
                         static_cast<char32_t>(b & (0x7F >> n)), static_cast<uint32_t>(n - 1)});
      } else {
        const char32_t cp = (f.partial << 6) | (b & 0x3F);
        if (f.pending > 1) {
          stack.push_back({c, t.rank_end(c, f.rank_end), f.state, cp, f.pending - 1});
        } else {
          const State s = a.step_k<K>(f.state, cp);
          if (a.can_match(s)) stack.push_back({c, t.rank_end(c, f.rank_end), s, 0, 0});
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
