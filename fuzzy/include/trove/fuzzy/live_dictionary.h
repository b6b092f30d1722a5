// LiveDictionary: a TermDictionary that takes updates. New terms from later ItemUpserts (and
// frequency changes, and removals as negative deltas) go to a small sorted delta that every
// search sees at once; merge() folds the delta into a freshly built base and swaps it in.
//
//   LiveDictionary live(std::make_shared<const TermDictionary>(vocabulary));
//   live.add("oatly", 1);                       // findable by the next search
//   live.search("otaly", {.max_distance = 1}, 10);
//   if (live.delta_size() > 1024) std::thread([&] { live.merge(); }).detach();  // or a worker
//
// Effective frequency of a term = max(0, base frequency + delta); a term at 0 is absent.
// Search cost is the base walk plus O(delta size) automaton runs (each stops at the first
// code point that cannot match), so merge when the delta grows past about a thousand terms.
//
// Thread-safety: every method may be called from any thread at any time. search(),
// prefix_terms(), frequency() hold a shared lock only while they copy the base pointer and
// scan the delta; the base walk itself runs on the shared_ptr they took, so a merge never
// blocks them. add() takes the exclusive lock for a map update. merge() builds the new base
// without any lock held (concurrent merges are serialized among themselves), then swaps
// the pointer and subtracts what it merged from the delta under the exclusive lock: readers
// see either the old base with the whole delta, or the new base with what arrived since.
// One exception: a removal that takes a term below zero is clamped when it is merged, so a
// later increase of that same term starts from 0, not from the negative balance.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "trove/fuzzy/term_dictionary.h"

namespace trove::fuzzy {

class LiveDictionary {
 public:
  LiveDictionary();  // empty base
  explicit LiveDictionary(std::shared_ptr<const TermDictionary> base);

  // Adds `delta` to the frequency of `term` (UTF-8; empty or invalid terms are ignored).
  void add(std::string_view term, int64_t delta = 1);
  void add(const std::vector<std::pair<std::string, int64_t>>& deltas);  // one lock

  // Same contracts as TermDictionary's, over base + delta.
  std::vector<FuzzyMatch> search(std::string_view query, const LevenshteinOptions& options,
                                 size_t limit) const;
  std::vector<FuzzyMatch> prefix_terms(std::string_view prefix, size_t limit) const;
  uint64_t frequency(std::string_view term) const;
  bool contains(std::string_view term) const { return frequency(term) > 0; }

  // Rebuilds the base from base + delta (callable from a background thread).
  void merge();

  size_t delta_size() const;                           // distinct terms in the delta
  std::shared_ptr<const TermDictionary> base() const;  // the current immutable snapshot

 private:
  struct Entry {
    int64_t delta = 0;
    uint64_t base_frequency = 0;  // cached from base_, refreshed when base_ changes
  };
  using Delta = std::map<std::string, Entry, std::less<>>;

  void add_locked(std::string_view term, int64_t delta);

  mutable std::shared_mutex mu_;
  std::shared_ptr<const TermDictionary> base_;  // guarded by mu_
  Delta delta_;                                 // guarded by mu_
  std::mutex merge_mu_;                         // one merge at a time
};

}  // namespace trove::fuzzy
