// Completions that lead somewhere (suggest's `completions`). Private to index/.
//
// A completion is taken from the text of an item that matched what was typed (every earlier
// word, or its stem, typo variant or synonym, and a word under the prefix), never from the
// vocabulary alone: searched, it finds at least that item with every word, so it never needs
// the relaxation that drops a word ("harry po" -> "Harry Potter", not "harry power", which no
// item holds). Where the item's text has the earlier words in a row before the completed word,
// the completion is that phrase as the catalog writes it ("lord of the r" -> "Lord of the
// Rings", "pâte à tart" -> "Pâte à tartiner", "hary pot" -> "Harry Potter"); otherwise the
// earlier words as the item writes them (or as typed, when they matched elsewhere), then the
// completed word; those are offered only when no item has the words in a row. Ranked by how
// many of the candidate items hold the phrase in a row, then hold it at all, then by the
// best-ranked item holding it; completions of the prefix's typo words after the others. A
// phrase is spelled as most of the items holding it spell it ("chocolate" over "Chocolate").
//
// Thread-safety: pure functions of their arguments.
#pragma once

#include <absl/container/flat_hash_map.h>
#include <absl/container/flat_hash_set.h>

#include <string>
#include <vector>

#include "document.h"
#include "trove/data/state.h"

namespace trove::index_internal {

// What was typed, folded, with what each word may stand for.
struct CompletionQuery {
  // Each earlier word: the folded forms an item's word may have to stand for it (the word,
  // its typo variants, one-word synonyms); a word whose stem equals the typed word's stem also
  // stands for it.
  std::vector<std::vector<std::string>> words;
  std::vector<std::string> typed;  // each earlier word as typed (same size as `words`)
  std::string prefix;              // folded; every item word that starts with it completes it
  // Whole words the prefix reaches with a typo ("pottr" -> potter): they complete it too,
  // ranked after the words under the prefix itself.
  absl::flat_hash_set<std::string> prefix_typos;
};

// A text's words: folded form and byte span as written (elisions split off as the index does).
struct SurfaceWord {
  std::string folded;
  size_t begin = 0, end = 0;
};
std::vector<SurfaceWord> surface_words(const DocumentBuilder& builder, std::string_view text);

// The words of item titles, read once per request: suggest reads them to rank its items and
// again to complete from them. Not thread-safe (one per request).
class TitleWords {
 public:
  explicit TitleWords(const DocumentBuilder& builder) : builder_(builder) {}
  const std::vector<SurfaceWord>& of(ItemRef ref, const Item& item);

 private:
  const DocumentBuilder& builder_;
  absl::flat_hash_map<ItemRef, std::vector<SurfaceWord>> cache_;
};

// At most `limit` completions from `items` (best first: their order is the candidates' rank),
// reading each item's title (through `titles`) and brand.
std::vector<std::string> completions_from_items(const DocumentBuilder& builder, const State& st,
                                                const std::vector<ItemRef>& items,
                                                const CompletionQuery& query, size_t limit,
                                                TitleWords& titles);

}  // namespace trove::index_internal
