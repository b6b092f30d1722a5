// ByteTrie: the compact, immutable byte trie under TermDictionary (private to fuzzy/).
//
// A node is one 64-bit word, so visiting it (and scanning its siblings, which are adjacent)
// costs one memory access: bits 0-7 the label byte of the edge from its parent, bit 8
// terminal (a term ends here), bit 9 last child of its parent, bits 10-36 the index of its
// first child (0 = none; the root is node 0 and never a child), bits 37-63 the rank of the
// first term of its subtree (terms are ranked in bytewise order, so a subtree is the rank
// range [rank(n), rank_end) and a terminal node's term is the first of its range). Children
// of a node form one contiguous block, sorted by label; blocks are laid out depth-first.
// One more byte per node: the height (bytes to the deepest descendant, capped at 255) that
// lets a walk skip subtrees whose terms all end too soon.
//
// Thread-safety: immutable after build(); const methods are safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace trove::fuzzy {

class ByteTrie {
 public:
  static constexpr uint64_t kMaxNodes = uint64_t{1} << 27;
  static constexpr uint64_t kMaxTerms = uint64_t{1} << 27;

  ByteTrie() : node_(1, 0), height_(1, 0) {}  // the root alone: no terms

  // REQUIRES: `terms` sorted bytewise, distinct, non-empty, fewer than kMaxTerms; the trie
  // must not exceed kMaxNodes nodes.
  static ByteTrie build(const std::vector<std::string_view>& terms);

  uint8_t label(uint32_t n) const { return static_cast<uint8_t>(node_[n]); }
  bool terminal(uint32_t n) const { return node_[n] & kTerminal; }
  bool last(uint32_t n) const { return node_[n] & kLast; }
  uint32_t first_child(uint32_t n) const {
    return static_cast<uint32_t>((node_[n] >> kChildShift) & (kMaxNodes - 1));
  }
  uint32_t rank(uint32_t n) const { return static_cast<uint32_t>(node_[n] >> kRankShift); }
  uint8_t height(uint32_t n) const { return height_[n]; }
  // One past the last rank in the subtree of child c, given its parent's end.
  uint32_t rank_end(uint32_t c, uint32_t parent_end) const {
    return last(c) ? parent_end : rank(c + 1);
  }
  // A hint that the children of n (and their heights) will be read soon.
  void prefetch_children(uint32_t n) const {
    const uint32_t c = first_child(n);
    __builtin_prefetch(node_.data() + c);
    __builtin_prefetch(height_.data() + c);
  }
  const uint64_t* node_data() const { return node_.data(); }

  // Follows `bytes` from *node (whose rank range ends at *end); false if the path leaves the
  // trie. On success both are updated to the node reached.
  bool descend_from(std::string_view bytes, uint32_t* node, uint32_t* end) const;
  // The term of rank r. REQUIRES: r < the number of terms.
  std::string term_at(uint32_t r) const;

  size_t node_count() const { return node_.size(); }
  size_t memory_bytes() const { return node_.capacity() * sizeof(uint64_t) + height_.capacity(); }

 private:
  static constexpr uint64_t kTerminal = uint64_t{1} << 8;
  static constexpr uint64_t kLast = uint64_t{1} << 9;
  static constexpr int kChildShift = 10;
  static constexpr int kRankShift = 37;

  std::vector<uint64_t> node_;
  std::vector<uint8_t> height_;
};

}  // namespace trove::fuzzy
