// CatalogIndex's internals, shared by catalog_index.cpp (writing, recovery) and search.cpp
// (queries). Private to index/.
#pragma once

#include <absl/container/flat_hash_set.h>
#include <xapian.h>

#include <absl/container/flat_hash_map.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "document.h"
#include "query.h"
#include "query_suggestions.h"
#include "trove/fuzzy/live_dictionary.h"
#include "trove/index/catalog_index.h"

namespace trove {
namespace index_internal {
inline constexpr ItemRef kPopularityBlock = 1024;  // refs per block of Rep::popularity_block_max
}  // namespace index_internal

struct CatalogIndex::Rep {
  std::string dir;
  IndexOptions opts;
  uint64_t instance = 0;  // distinguishes readers of different indexes in thread_local caches
  Store* store = nullptr;
  uint64_t listener = 0;  // the Store listener id, removed when the index goes

  std::mutex write_mu;  // one flush at a time; guards shards, builders and settings
  std::vector<std::unique_ptr<Xapian::WritableDatabase>> shards;
  std::vector<std::unique_ptr<index_internal::DocumentBuilder>> builders;  // one per shard
  index_internal::DocumentSettings settings;  // what the shards' documents were built with
  void set_settings(const index_internal::DocumentSettings& s) {
    settings = s;
    for (auto& b : builders) b->set_settings(s);
  }
  // Builds every document again into fresh shards beside the serving ones with `wanted`,
  // then swaps them in (readers open the new ones at their next search). REQUIRES: write_mu.
  Status reindex(const index_internal::DocumentSettings& wanted);
  // Writes the documents of the pending items and commits them with the seq they reflect;
  // adds the refs it took to `*taken` if given. REQUIRES: write_mu.
  Status write_pending(absl::flat_hash_set<ItemRef>* taken = nullptr);
  // Commits `seq` alone to every shard when it is kSeqCommitLag past the committed one (no
  // pending item may be older than `seq`). REQUIRES: write_mu.
  Status commit_seq_if_behind(uint64_t seq);
  std::atomic<bool> interrupted{false};  // CatalogIndex::interrupt(): a re-index gives up
  // Bumped when the shards were swapped: a reader opens them afresh rather than reopen().
  std::atomic<uint64_t> epoch{0};

  std::mutex pending_mu;  // guards pending (the Store listener adds under the state lock)
  absl::flat_hash_set<ItemRef> pending;

  // The free-text vocabulary with document frequencies: what typo tolerance searches. Built
  // from the shards at attach, kept current by flush (new and old versions of each document).
  std::unique_ptr<fuzzy::LiveDictionary> vocab = std::make_unique<fuzzy::LiveDictionary>();
  void load_vocabulary();  // from the shards (attach); throws Xapian::Error
  // Which item refs have a document (so flush knows whose old terms to take back). Guarded by
  // write_mu.
  std::vector<bool> docs;
  bool has_doc(ItemRef ref) const { return ref < docs.size() && docs[ref]; }
  void set_has_doc(ItemRef ref, bool v) {
    if (ref >= docs.size()) docs.resize(std::max<size_t>(ref + 1, docs.size() * 2));
    docs[ref] = v;
  }

  index_internal::QuerySuggestions searched_queries;  // refreshed by flush()

  std::atomic<uint64_t> generation{0};  // bumped after each commit: readers reopen
  std::atomic<uint64_t> indexed_seq{0};
  std::atomic<uint64_t> doc_count{0};

  // Synonyms folded into a term map, rebuilt when a synonyms event has been applied since.
  std::atomic<uint64_t> synonyms_version{1};
  mutable std::mutex synonyms_mu;
  mutable uint64_t synonyms_built = 0;
  mutable std::shared_ptr<const index_internal::SynonymMap> synonyms;
  // REQUIRES: called under the Store's read lock (reads state.synonyms()).
  std::shared_ptr<const index_internal::SynonymMap> synonyms_for(const State& state) const;

  // Search-as-you-type on a lone prefix (no earlier words, no filters) is the common
  // keystroke and the costly one ("c" matches a third of a catalog), so its answer is kept:
  // the most popular items under the prefix and its most frequent completions. An entry is
  // recomputed when the index changed and it is older than kPrefixFresh, or when older than
  // kPrefixMaxAge (popularity moves with every event).
  struct PrefixAnswer {
    std::vector<ItemRef> items;
    std::vector<std::string> completions;
    uint64_t generation = 0;
    uint64_t config = 0;  // synonyms_version: synonyms and settings apply at once, not in 2 s
    std::chrono::steady_clock::time_point computed;
  };
  mutable std::mutex prefix_mu;
  mutable absl::flat_hash_map<std::string, std::shared_ptr<const PrefixAnswer>> prefix_cache;
  // The completions of the last word's prefix in a query of several words ("chocolat n"):
  // the most frequent vocabulary words under it, which depend on the index alone, so an
  // entry holds while the generation it was read at does. Guarded by prefix_mu.
  // Each holds (generation, [(word, documents)]).
  mutable absl::flat_hash_map<
      std::string, std::pair<uint64_t, std::vector<std::pair<std::string, Xapian::doccount>>>>
      completion_cache;

  // An upper bound of the popularity of the items in each block of kPopularityBlock refs, so
  // ranking a lone prefix by popularity skips the blocks that cannot beat what it has (block-
  // max pruning: "c" over 800,000 items reads a few hundred postings, not 270,000). Computed
  // at attach, raised by the Store listener after every behaviour event, never lowered, so it
  // stays an upper bound even when counters go down.
  mutable std::mutex popularity_mu;
  std::vector<double> popularity_block_max;  // guarded by popularity_mu
  void raise_popularity(ItemRef ref, double popularity) {
    std::lock_guard lock(popularity_mu);
    const size_t b = ref / index_internal::kPopularityBlock;
    if (b >= popularity_block_max.size()) popularity_block_max.resize(b + 1, 0.0);
    if (popularity > popularity_block_max[b]) popularity_block_max[b] = popularity;
  }

  std::string shard_path(unsigned i) const;
  std::string shard_path(const char* subdir, unsigned i) const;
  // Leaves a mark in the directory that makes the next attach() rebuild (best effort), and
  // reads it back ("" when unmarked).
  void mark_damaged(const std::string& what) const;
  std::string damage_mark() const;
  // The calling thread's analyzer + stemmer (Xapian::Stem is not thread-safe).
  const index_internal::DocumentBuilder& query_builder() const;
  // A reader of all shards for the calling thread, reopened if a commit happened since.
  Xapian::Database& reader() const;
};

namespace index_internal {
inline constexpr const char* kSeqKey = "trove.seq";
// Journal records the committed seq may lag behind before a flush with nothing to write
// commits the seq alone (Rep::commit_seq_if_behind).
inline constexpr uint64_t kSeqCommitLag = 1 << 16;
inline constexpr const char* kConfigKey = "trove.config";
inline constexpr const char* kFieldsKey = "trove.fields";  // to_string(FieldWeights)
inline constexpr const char* kAttributesKey = "trove.attributes";  // AttributeSchema::layout()
inline constexpr const char* kNextDir = "next";  // a re-index's shards until they are swapped in
inline constexpr const char* kOldDir = "old";    // the swapped-out shards, removed right after
inline constexpr const char* kDamagedFile = "DAMAGED";
// Free-text terms (the vocabulary typo tolerance searches): Trove's prefixed terms start
// with an ASCII capital, and folded words never do.
inline bool is_vocabulary_term(const std::string& term) {
  return !term.empty() && !(term[0] >= 'A' && term[0] <= 'Z');
}
// What "popular" means for ranking (sort=popularity, suggest): the live counters, weighted.
inline double popularity(const State& s, ItemRef ref) {
  const ItemCounters* c = s.item_counters(ref);
  if (!c) return 0;
  return 5.0 * static_cast<double>(c->purchases) + 2.0 * static_cast<double>(c->cart_adds) +
         2.0 * static_cast<double>(c->clicks) + static_cast<double>(c->views);
}
inline Xapian::docid docid_of(ItemRef ref) { return static_cast<Xapian::docid>(ref) + 1; }
inline ItemRef ref_of(Xapian::docid did) { return static_cast<ItemRef>(did - 1); }
}  // namespace index_internal

}  // namespace trove
