#include "byte_trie.h"

#include <algorithm>
#include <cassert>

namespace trove::fuzzy {

ByteTrie ByteTrie::build(const std::vector<std::string_view>& terms) {
  assert(terms.size() < kMaxTerms);
  ByteTrie t;
  // Each node's children as one contiguous block, blocks emitted in depth-first order so a
  // walk down one branch reads nearby memory (and single-child chains are consecutive).
  struct Task {
    uint32_t node, lo, hi, depth;
  };
  std::vector<Task> stack{{0, 0, static_cast<uint32_t>(terms.size()), 0}};
  std::vector<Task> children;
  while (!stack.empty()) {
    const Task task = stack.back();
    stack.pop_back();
    uint32_t lo = task.lo;
    // Terms in [lo, hi) share the node's prefix; sorted, so the one equal to it comes first.
    if (lo < task.hi && terms[lo].size() == task.depth) {
      t.node_[task.node] |= kTerminal;
      ++lo;
    }
    if (lo == task.hi) continue;
    const uint64_t first = t.node_.size();
    children.clear();
    for (uint32_t i = lo; i < task.hi;) {
      const char b = terms[i][task.depth];
      uint32_t j = i + 1;
      while (j < task.hi && terms[j][task.depth] == b) ++j;
      const auto id = static_cast<uint32_t>(t.node_.size());
      // REQUIRES: fewer than kMaxNodes nodes.
      assert(id < kMaxNodes);
      t.node_.push_back(static_cast<uint8_t>(b) | (uint64_t{i} << kRankShift));
      children.push_back({id, i, j, task.depth + 1});
      i = j;
    }
    t.node_.back() |= kLast;
    t.node_[task.node] |= first << kChildShift;
    stack.insert(stack.end(), children.rbegin(), children.rend());
  }
  t.node_.shrink_to_fit();
  // Heights bottom-up: children always have larger indices than their parent.
  for (size_t n = t.node_.size(); n-- > 0;) {
    uint32_t c = t.first_child(static_cast<uint32_t>(n));
    if (c == 0) continue;
    uint32_t h = 0;
    for (;; ++c) {
      h = std::max(h, t.height(c) + 1);
      if (t.last(c)) break;
    }
    t.node_[n] |= uint64_t{std::min(h, kMaxHeight)} << kHeightShift;
  }
  return t;
}

bool ByteTrie::descend_from(std::string_view bytes, uint32_t* node, uint32_t* end) const {
  uint32_t n = *node;
  uint32_t e = *end;
  for (char ch : bytes) {
    const auto b = static_cast<uint8_t>(ch);
    uint32_t c = first_child(n);
    if (c == 0) return false;
    // Children are sorted by label: stop at the first one not below b.
    while (label(c) < b && !last(c)) ++c;
    if (label(c) != b) return false;
    e = rank_end(c, e);
    n = c;
  }
  *node = n;
  *end = e;
  return true;
}

std::string ByteTrie::term_at(uint32_t r) const {
  std::string out;
  uint32_t n = 0;
  while (!(terminal(n) && rank(n) == r)) {
    uint32_t c = first_child(n);
    assert(c != 0);
    while (!last(c) && rank(c + 1) <= r) ++c;
    out.push_back(static_cast<char>(label(c)));
    n = c;
  }
  return out;
}

}  // namespace trove::fuzzy
