#include "trove/fuzzy/term_dictionary.h"

#include <algorithm>
#include <cassert>
#include <limits>

#include "top_k.h"
#include "trove/fuzzy/utf8.h"

namespace trove::fuzzy {
namespace {

// link word of a node: first child index (0 = no children; the root is node 0 and never a
// child) and two flags.
constexpr uint32_t kTerminal = 1u << 31;  // a term ends at this node
constexpr uint32_t kLast = 1u << 30;      // last child of its parent
constexpr uint32_t kChildMask = kLast - 1;
constexpr uint32_t kMaxNodes = kChildMask;

uint32_t saturate32(uint64_t v) {
  return v > std::numeric_limits<uint32_t>::max() ? std::numeric_limits<uint32_t>::max()
                                                  : static_cast<uint32_t>(v);
}

// The first byte of the UTF-8 encoding of cp (U+FFFD for what is not a scalar value).
uint8_t first_utf8_byte(char32_t cp) {
  if (cp < 0x80) return static_cast<uint8_t>(cp);
  if (cp < 0x800) return static_cast<uint8_t>(0xC0 | (cp >> 6));
  if (cp < 0x10000) return static_cast<uint8_t>(0xE0 | (cp >> 12));
  return static_cast<uint8_t>(0xF0 | (cp >> 18));
}

}  // namespace

struct TermDictionary::Rep {
  std::vector<uint8_t> label;  // per node: the byte on the edge from its parent
  std::vector<uint32_t> link;  // per node: first child | kTerminal | kLast
  std::vector<uint32_t> rank;  // per node: rank of the first term of its subtree
  std::vector<uint32_t> freq;  // per term rank
  size_t dropped = 0;

  bool terminal(uint32_t node) const { return link[node] & kTerminal; }
  bool last(uint32_t node) const { return link[node] & kLast; }
  uint32_t first_child(uint32_t node) const { return link[node] & kChildMask; }
  // One past the last rank in the subtree of child c, given its parent's end.
  uint32_t rank_end(uint32_t c, uint32_t parent_end) const {
    return last(c) ? parent_end : rank[c + 1];
  }

  // Finds the node reached by `bytes` from the root; false if there is none. *end receives the
  // end of its rank range.
  bool descend(std::string_view bytes, uint32_t* node, uint32_t* end) const {
    *node = 0;
    *end = static_cast<uint32_t>(freq.size());
    return descend_from(bytes, node, end);
  }
  // The same from *node (whose rank range ends at *end); both are updated.
  bool descend_from(std::string_view bytes, uint32_t* node, uint32_t* end) const;
  std::string term_at(uint32_t r) const;
  std::vector<FuzzyMatch> materialize(TopK& top) const;
};

bool TermDictionary::Rep::descend_from(std::string_view bytes, uint32_t* node,
                                       uint32_t* end) const {
  uint32_t n = *node;
  uint32_t e = *end;
  for (char ch : bytes) {
    const auto b = static_cast<uint8_t>(ch);
    uint32_t c = first_child(n);
    if (c == 0) return false;
    // Children are sorted by label: stop at the first one not below b.
    while (label[c] < b && !last(c)) ++c;
    if (label[c] != b) return false;
    e = rank_end(c, e);
    n = c;
  }
  *node = n;
  *end = e;
  return true;
}

std::string TermDictionary::Rep::term_at(uint32_t r) const {
  std::string out;
  uint32_t n = 0;
  while (!(terminal(n) && rank[n] == r)) {
    uint32_t c = first_child(n);
    assert(c != 0);
    while (!last(c) && rank[c + 1] <= r) ++c;
    out.push_back(static_cast<char>(label[c]));
    n = c;
  }
  return out;
}

std::vector<FuzzyMatch> TermDictionary::Rep::materialize(TopK& top) const {
  std::vector<FuzzyMatch> out;
  for (const TopK::Candidate& c : top.take_sorted()) {
    out.push_back(FuzzyMatch{term_at(c.rank), c.distance, c.frequency});
  }
  return out;
}

TermDictionary::TermDictionary() : rep_(std::make_unique<Rep>()) {
  rep_->label.push_back(0);
  rep_->link.push_back(0);
  rep_->rank.push_back(0);
}

TermDictionary::TermDictionary(TermFrequencies terms) : rep_(std::make_unique<Rep>()) {
  Rep& r = *rep_;
  // Sort (skipped when the input is already sorted, as in LiveDictionary::merge), then merge
  // duplicates and drop what cannot be a term.
  const auto by_term = [](const auto& a, const auto& b) { return a.first < b.first; };
  if (!std::is_sorted(terms.begin(), terms.end(), by_term)) {
    std::sort(terms.begin(), terms.end(), by_term);
  }
  size_t out = 0;
  for (size_t i = 0; i < terms.size();) {
    uint64_t f = 0;
    size_t j = i;
    for (; j < terms.size() && terms[j].first == terms[i].first; ++j) {
      f = f + terms[j].second < f ? std::numeric_limits<uint64_t>::max() : f + terms[j].second;
    }
    if (terms[i].first.empty() || f == 0 || !is_valid_utf8(terms[i].first)) {
      r.dropped += j - i;
    } else {
      r.dropped += j - i - 1;  // duplicates folded into one
      if (out != i) terms[out] = std::move(terms[i]);
      terms[out].second = f;
      ++out;
    }
    i = j;
  }
  terms.resize(out);
  // REQUIRES: fewer than 2^32 terms (ranks are 32-bit).
  assert(terms.size() < std::numeric_limits<uint32_t>::max());

  r.freq.reserve(terms.size());
  for (const auto& t : terms) r.freq.push_back(saturate32(t.second));

  // Nodes: the root, then each node's children as one contiguous block, blocks emitted in
  // depth-first order so a walk down one branch reads nearby memory.
  r.label.push_back(0);
  r.link.push_back(0);
  r.rank.push_back(0);
  struct Task {
    uint32_t node, lo, hi, depth;
  };
  std::vector<Task> stack{{0, 0, static_cast<uint32_t>(terms.size()), 0}};
  std::vector<Task> children;
  while (!stack.empty()) {
    const Task t = stack.back();
    stack.pop_back();
    uint32_t lo = t.lo;
    // Terms in [lo, hi) share the node's prefix; sorted, so the one equal to it comes first.
    if (lo < t.hi && terms[lo].first.size() == t.depth) {
      r.link[t.node] |= kTerminal;
      ++lo;
    }
    if (lo == t.hi) continue;
    const auto first = static_cast<uint32_t>(r.label.size());
    children.clear();
    for (uint32_t i = lo; i < t.hi;) {
      const char b = terms[i].first[t.depth];
      uint32_t j = i + 1;
      while (j < t.hi && terms[j].first[t.depth] == b) ++j;
      const auto id = static_cast<uint32_t>(r.label.size());
      // REQUIRES: fewer than 2^30 trie nodes.
      assert(id < kMaxNodes);
      r.label.push_back(static_cast<uint8_t>(b));
      r.link.push_back(0);
      r.rank.push_back(i);
      children.push_back({id, i, j, t.depth + 1});
      i = j;
    }
    r.link.back() |= kLast;
    r.link[t.node] |= first;
    stack.insert(stack.end(), children.rbegin(), children.rend());
  }
  r.label.shrink_to_fit();
  r.link.shrink_to_fit();
  r.rank.shrink_to_fit();
}

TermDictionary::~TermDictionary() = default;
TermDictionary::TermDictionary(TermDictionary&&) noexcept = default;
TermDictionary& TermDictionary::operator=(TermDictionary&&) noexcept = default;

std::vector<FuzzyMatch> TermDictionary::search(std::string_view query,
                                               const LevenshteinOptions& options,
                                               size_t limit) const {
  return search(LevenshteinAutomaton(query, options), limit);
}

namespace {

// The depth-first walk of the trie with the automaton, k fixed at compile time so the step
// inlines into the loop.
template <int K, typename Rep>
void walk(const Rep& r, const LevenshteinAutomaton& a, TopK& top) {
  using State = LevenshteinAutomaton::State;
  struct Frame {
    uint32_t node;
    uint32_t rank_end;
    State state;
    char32_t partial;  // an incomplete multi-byte code point (see ByteState)
    uint32_t pending;
  };
  std::vector<Frame> stack;
  stack.reserve(256);
  stack.push_back({0, static_cast<uint32_t>(r.freq.size()), a.start(), 0, 0});
  while (!stack.empty()) {
    const Frame f = stack.back();
    stack.pop_back();
    const uint32_t node = f.node;
    if (f.pending == 0) {
      // Early exits: a full top-k cannot be improved by a subtree whose best possible
      // distance is worse than its worst entry; in prefix mode a sink state matches the
      // whole subtree at one distance, which is a contiguous rank range.
      if (top.full() && a.lower_bound(f.state) > top.worst_distance()) continue;
      if (a.is_sink(f.state)) {
        top.offer_range(r.rank[node], f.rank_end, a.distance(f.state));
        continue;
      }
      if (r.terminal(node)) {
        const uint8_t d = a.distance(f.state);
        if (d <= K) top.offer(d, r.rank[node]);
      }
      // Budget spent: look the few possible continuations up instead of walking.
      LevenshteinAutomaton::Continuation tails[LevenshteinAutomaton::kMaxContinuations];
      const int n_tails = a.exact_continuations(f.state, tails);
      if (n_tails >= 0) {
        for (int i = 0; i < n_tails; ++i) {
          uint32_t n = node, end = f.rank_end;
          if (!r.descend_from(tails[i].head, &n, &end) ||
              !r.descend_from(tails[i].rest, &n, &end)) {
            continue;
          }
          if (a.options().prefix) {
            top.offer_range(r.rank[n], end, K);
          } else if (r.terminal(n)) {
            top.offer(K, r.rank[n]);
          }
        }
        continue;
      }
    }
    uint32_t c = r.first_child(node);
    if (c == 0) continue;
    // With the budget spent only a few first bytes can continue: test labels against a
    // 256-bit set instead of stepping every child.
    uint64_t allowed[4] = {~0ull, ~0ull, ~0ull, ~0ull};
    if (f.pending == 0) {
      char32_t forced[2 * kMaxEditDistance + 1];
      const int n = a.forced_next(f.state, forced);
      if (n == 0) continue;
      if (n > 0) {
        allowed[0] = allowed[1] = allowed[2] = allowed[3] = 0;
        for (int i = 0; i < n; ++i) {
          const uint8_t lead = first_utf8_byte(forced[i]);
          allowed[lead >> 6] |= uint64_t{1} << (lead & 63);
        }
      }
    }
    for (;; ++c) {
      const uint8_t b = r.label[c];
      if (!((allowed[b >> 6] >> (b & 63)) & 1)) {
        // Skipped: cannot start any of the forced code points.
      } else if (f.pending == 0 && b < 0x80) {
        const State s = a.step_k<K>(f.state, b);
        if (a.can_match(s)) stack.push_back({c, r.rank_end(c, f.rank_end), s, 0, 0});
      } else if (f.pending == 0) {  // lead byte: wait for the rest of the code point
        const int n = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
        stack.push_back({c, r.rank_end(c, f.rank_end), f.state,
                         static_cast<char32_t>(b & (0x7F >> n)), static_cast<uint32_t>(n - 1)});
      } else {
        const char32_t cp = (f.partial << 6) | (b & 0x3F);
        if (f.pending > 1) {
          stack.push_back({c, r.rank_end(c, f.rank_end), f.state, cp, f.pending - 1});
        } else {
          const State s = a.step_k<K>(f.state, cp);
          if (a.can_match(s)) stack.push_back({c, r.rank_end(c, f.rank_end), s, 0, 0});
        }
      }
      if (r.last(c)) break;
    }
  }
}

}  // namespace

std::vector<FuzzyMatch> TermDictionary::search(const LevenshteinAutomaton& a,
                                               size_t limit) const {
  const Rep& r = *rep_;
  if (limit == 0 || r.freq.empty()) return {};
  TopK top(limit, r.freq.data());
  switch (a.max_distance()) {
    case 0:
      walk<0>(r, a, top);
      break;
    case 1:
      walk<1>(r, a, top);
      break;
    case 2:
      walk<2>(r, a, top);
      break;
    default:
      walk<3>(r, a, top);
      break;
  }
  return r.materialize(top);
}

std::vector<FuzzyMatch> TermDictionary::prefix_terms(std::string_view prefix,
                                                     size_t limit) const {
  const Rep& r = *rep_;
  uint32_t node, end;
  if (limit == 0 || r.freq.empty() || !r.descend(prefix, &node, &end)) return {};
  TopK top(limit, r.freq.data());
  top.offer_range(r.rank[node], end, 0);
  return r.materialize(top);
}

bool TermDictionary::contains(std::string_view term) const {
  uint32_t node, end;
  return !term.empty() && rep_->descend(term, &node, &end) && rep_->terminal(node);
}

uint64_t TermDictionary::frequency(std::string_view term) const {
  uint32_t node, end;
  if (term.empty() || !rep_->descend(term, &node, &end) || !rep_->terminal(node)) return 0;
  return rep_->freq[rep_->rank[node]];
}

size_t TermDictionary::size() const { return rep_->freq.size(); }
size_t TermDictionary::node_count() const { return rep_->label.size(); }
size_t TermDictionary::dropped_terms() const { return rep_->dropped; }

size_t TermDictionary::memory_bytes() const {
  const Rep& r = *rep_;
  return sizeof(*this) + sizeof(Rep) + r.label.capacity() * sizeof(uint8_t) +
         r.link.capacity() * sizeof(uint32_t) + r.rank.capacity() * sizeof(uint32_t) +
         r.freq.capacity() * sizeof(uint32_t);
}

void TermDictionary::for_each(const std::function<void(std::string_view, uint64_t)>& fn) const {
  const Rep& r = *rep_;
  std::string path;
  struct Item {
    uint32_t node, depth;
  };
  std::vector<Item> stack{{0, 0}};
  while (!stack.empty()) {
    const Item it = stack.back();
    stack.pop_back();
    if (it.depth > 0) {
      path.resize(it.depth - 1);
      path.push_back(static_cast<char>(r.label[it.node]));
    }
    if (r.terminal(it.node)) fn(path, r.freq[r.rank[it.node]]);
    const uint32_t first = r.first_child(it.node);
    if (first == 0) continue;
    uint32_t last = first;
    while (!r.last(last)) ++last;
    for (uint32_t c = last + 1; c-- > first;) stack.push_back({c, it.depth + 1});
  }
}

}  // namespace trove::fuzzy
