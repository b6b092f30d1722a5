// TermDictionary: an immutable, sorted set of terms (UTF-8) with a frequency each (the index
// uses document frequency), stored as a compact byte trie and searched by walking the trie
// depth-first together with a LevenshteinAutomaton: a subtree is dropped as soon as the
// automaton says no extension can match, so a k = 2 lookup over 130,000 words touches a few
// thousand trie nodes instead of every term (the technique behind Lucene's fuzzy queries).
//
//   TermDictionary dict({{"chocolate", 812}, {"chocolat", 95}, {"choco", 40}});
//   auto m = dict.search("chocolat", {.max_distance = 1}, 10);
//   // {chocolat, 0, 95}, {chocolate, 1, 812}
//   auto p = dict.search("chocl", {.max_distance = 1, .prefix = true}, 10);
//   // {chocolate, 1, 812}, {chocolat, 1, 95}, {choco, 1, 40}
//   auto s = dict.prefix_terms("choc", 2);   // {chocolate, 0, 812}, {chocolat, 0, 95}
//
// Layout (see docs/FUZZY.md): a trie node is one 64-bit word (label byte, terminal and
// last-sibling flags, first child, a saturating height, and the rank of the first term below
// it: a subtree is a contiguous rank range); children of a node are contiguous, and
// frequencies live in one array indexed by rank. A second trie holds the terms with their code
// points reversed, so that a full-mode search at k >= 1 can be split in two cheap walks (the
// forward-backward method: see search()). Each walk runs a LevenshteinDfa built lazily for
// the query. wamerican-large: 130,792 words, 51 bytes per term for both tries, against
// roughly 617 for a symmetric-delete (SymSpell) index.
//
// Results are sorted by distance, then frequency (descending), then term (bytewise).
// Frequencies are kept as 32-bit values and saturate at 2^32 - 1. At most 2^25 terms
// (and 2^26 nodes per trie, about 5 per term for English words).
//
// Thread-safety: immutable after construction; const methods are safe from any thread.
// Ownership: the dictionary owns its arrays; results are copies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "trove/fuzzy/levenshtein.h"

namespace trove::fuzzy {

struct FuzzyMatch {
  std::string term;
  uint8_t distance = 0;  // prefix mode: the best distance over prefixes of `term`
  uint64_t frequency = 0;
  bool operator==(const FuzzyMatch&) const = default;
};

using TermFrequencies = std::vector<std::pair<std::string, uint64_t>>;

class TermDictionary {
 public:
  TermDictionary();  // empty
  // Any order; duplicates are merged by summing frequencies. Empty terms, terms with invalid
  // UTF-8 and terms whose total frequency is 0 are dropped (dropped_terms() counts them).
  explicit TermDictionary(TermFrequencies terms);
  ~TermDictionary();
  TermDictionary(TermDictionary&&) noexcept;
  TermDictionary& operator=(TermDictionary&&) noexcept;
  TermDictionary(const TermDictionary&) = delete;
  TermDictionary& operator=(const TermDictionary&) = delete;

  // Terms within options.max_distance of `query`, best `limit` by (distance, frequency desc,
  // term). limit = SIZE_MAX returns every match. Full mode without the first-character rule
  // runs two walks (terms limited on the first half of the query, reversed terms on the
  // second); prefix mode and the rule run one.
  std::vector<FuzzyMatch> search(std::string_view query, const LevenshteinOptions& options,
                                 size_t limit) const;
  // One walk of the terms driven by a caller's automaton (built once, reused).
  std::vector<FuzzyMatch> search(const LevenshteinAutomaton& automaton, size_t limit) const;

  // The `limit` most frequent terms starting with `prefix` (bytes), distance 0, ties by term.
  std::vector<FuzzyMatch> prefix_terms(std::string_view prefix, size_t limit) const;

  bool contains(std::string_view term) const;
  uint64_t frequency(std::string_view term) const;  // 0 when absent

  size_t size() const;           // distinct terms
  size_t node_count() const;     // trie nodes of both tries, roots included
  size_t memory_bytes() const;   // heap bytes held, all arrays included
  size_t dropped_terms() const;  // input terms rejected by the constructor

  // Calls fn(term, frequency) for every term in bytewise order.
  void for_each(const std::function<void(std::string_view, uint64_t)>& fn) const;

 private:
  struct Rep;
  std::unique_ptr<Rep> rep_;
};

}  // namespace trove::fuzzy
