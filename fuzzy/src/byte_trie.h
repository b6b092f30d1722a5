// ByteTrie: the compact, immutable byte trie under TermDictionary (private to fuzzy/).
//
// A node is one 64-bit word, so visiting it (and scanning its siblings, which are adjacent)
// costs one memory access: bits 0-7 the label byte of the edge from its parent, bit 8
// terminal (a term ends here), bit 9 last child of its parent, bits 10-35 the index of its
// first child (0 = none; the root is node 0 and never a child), bits 36-38 the height (bytes
// to the deepest descendant, saturated at kMaxHeight: lets a walk skip subtrees whose terms
// all end too soon without another memory access), bits 39-63 the rank of the first term of
// its subtree (terms are ranked in bytewise order, so a subtree is the rank range
// [rank(n), rank_end) and a terminal node's term is the first of its range). Children of a
// node form one contiguous block, sorted by label; blocks are laid out depth-first.
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
  static constexpr uint64_t kMaxNodes = uint64_t{1} << 26;
  static constexpr uint64_t kMaxTerms = uint64_t{1} << 25;
  static constexpr uint32_t kMaxHeight = 7;  // heights saturate here

  ByteTrie() : node_(1, 0) {}  // the root alone: no terms

  // REQUIRES: `terms` sorted bytewise, distinct, non-empty, fewer than kMaxTerms; the trie
  // must not exceed kMaxNodes nodes.
  static ByteTrie build(const std::vector<std::string_view>& terms);

  // A node's fields, from its word (the walk reads each word once).
  static uint8_t label_of(uint64_t w) { return static_cast<uint8_t>(w); }
  static bool terminal_of(uint64_t w) { return w & kTerminal; }
  static bool last_of(uint64_t w) { return w & kLast; }
  static uint32_t first_child_of(uint64_t w) {
    return static_cast<uint32_t>((w >> kChildShift) & (kMaxNodes - 1));
  }
  static uint32_t height_of(uint64_t w) {
    return static_cast<uint32_t>(w >> kHeightShift) & kMaxHeight;
  }
  static uint32_t rank_of(uint64_t w) { return static_cast<uint32_t>(w >> kRankShift); }

  uint64_t word(uint32_t n) const { return node_[n]; }
  uint8_t label(uint32_t n) const { return label_of(node_[n]); }
  bool terminal(uint32_t n) const { return terminal_of(node_[n]); }
  bool last(uint32_t n) const { return last_of(node_[n]); }
  uint32_t first_child(uint32_t n) const { return first_child_of(node_[n]); }
  uint32_t rank(uint32_t n) const { return rank_of(node_[n]); }
  // Bytes from n to its deepest descendant, or kMaxHeight if that is more.
  uint32_t height(uint32_t n) const { return height_of(node_[n]); }
  // One past the last rank in the subtree of child c, given its parent's end. Reads no node
  // past the block (c itself when it is the last child), so it can run without a branch.
  uint32_t rank_end(uint32_t c, uint32_t parent_end) const {
    const uint64_t w = node_[c];
    const uint32_t next = rank_of(node_[c + !last_of(w)]);
    return last_of(w) ? parent_end : next;
  }
  // A hint that the children of the node with word w will be read soon.
  void prefetch_children_of(uint64_t w) const {
    __builtin_prefetch(node_.data() + first_child_of(w));
  }

  // Follows `bytes` from *node (whose rank range ends at *end); false if the path leaves the
  // trie. On success both are updated to the node reached.
  bool descend_from(std::string_view bytes, uint32_t* node, uint32_t* end) const;
  // The term of rank r. REQUIRES: r < the number of terms.
  std::string term_at(uint32_t r) const;

  size_t node_count() const { return node_.size(); }
  size_t memory_bytes() const { return node_.capacity() * sizeof(uint64_t); }

 private:
  static constexpr uint64_t kTerminal = uint64_t{1} << 8;
  static constexpr uint64_t kLast = uint64_t{1} << 9;
  static constexpr int kChildShift = 10;
  static constexpr int kHeightShift = 36;
  static constexpr int kRankShift = 39;

  std::vector<uint64_t> node_;
};

}  // namespace trove::fuzzy
