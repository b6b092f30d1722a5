// Query suggestions: the queries shoppers searched and were shown items for
// (State::searched_queries), offered by suggest beside the completions made from item text,
// as Algolia's and Typesense's query suggestions are. Private to index/.
//
// The State keeps the queries as sent; this keeps them folded (the Analyzer's words, one
// space apart) and sorted, so what was typed finds them by prefix. Spellings that fold alike
// ("Harry Potter", "harry  potter") count together and show as the most searched spelling.
//
// Thread-safety: lookup() may run on many threads at once, beside one refresh().
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <unordered_map>

#include "trove/data/store.h"
#include "trove/fuzzy/live_dictionary.h"
#include "trove/index/analyzer.h"

namespace trove::index_internal {

// A query is suggested once searched with results this many times: one search is one
// shopper's query, possibly a bot's.
inline constexpr uint64_t kMinSearchesToSuggest = 2;

class QuerySuggestions {
 public:
  struct Entry {
    std::string folded;  // the query's words, folded, one space apart
    std::string text;    // the most searched spelling
    uint64_t count = 0;  // searches with results, over every spelling
  };
  using Table = std::vector<Entry>;  // sorted by folded

  // Takes the State's queries again when they changed (by the count of SearchQuery events)
  // and the table is at least `every` old: copied under the Store's read lock, folded after
  // it (spellings seen at the previous refresh are not folded again). CatalogIndex::flush
  // calls it, so suggest never pays for it. REQUIRES: one caller at a time.
  void refresh(Store& store, const Analyzer& analyzer, std::chrono::milliseconds every);

  // Up to `limit` queries whose folded text starts with `typed` folded (its last word a
  // prefix, or a whole word when `typed` ends with a space), most searched first; each
  // searched at least kMinSearchesToSuggest times and made of words the catalog holds
  // (`vocab`), so that searched it can answer. Each with its folded words (suggest compares
  // the item completions against them).
  std::vector<Entry> lookup(const Analyzer& analyzer, const fuzzy::LiveDictionary& vocab,
                                  std::string_view typed, size_t limit) const;

 private:
  mutable std::mutex mu_;  // guards table_
  std::shared_ptr<const Table> table_ = std::make_shared<const Table>();
  // Used by refresh() only.
  uint64_t version_ = 0;  // SearchQuery events the table reflects
  std::chrono::steady_clock::time_point built_{};
  std::unordered_map<std::string, std::string> folded_;  // spelling -> folded, last refresh
};

}  // namespace trove::index_internal
