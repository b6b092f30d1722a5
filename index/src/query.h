// Parsing what a user typed and the filters they chose into Xapian queries. Private to index/.
#pragma once

#include <xapian.h>

#include <array>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "document.h"
#include "trove/fuzzy/live_dictionary.h"
#include "trove/fuzzy/typo_budget.h"
#include "trove/data/status.h"
#include "trove/index/catalog_index.h"
#include "trove/index/filter.h"

namespace trove::index_internal {

inline constexpr size_t kMaxQueryBytes = 512;
inline constexpr size_t kMaxQueryWords = 32;
inline constexpr double kStemWeight = 0.5;     // a stemmed match counts half an exact one
inline constexpr double kSynonymWeight = 0.8;

// One clause of the user's query.
struct Clause {
  enum Kind { kWord, kPhrase, kExcludeWord, kExcludePhrase } kind = kWord;
  std::string text;  // as typed
};

// `"dark chocolate" -milk nuts` -> phrase, exclusion, word. `*` alone matches everything.
struct ParsedQuery {
  std::vector<Clause> clauses;
  bool match_all = false;
};
Result<ParsedQuery> parse_query(std::string_view q, bool allow_empty);

// Synonyms as folded terms. An alternative is a group of terms that must all match. With them,
// the stopwords (SearchSettingsUpsert), folded: both are rebuilt when search config changes.
struct SynonymMap {
  using Alternatives = std::vector<std::vector<std::string>>;
  std::map<std::string, Alternatives> words;                 // one-word input -> alternatives
  std::map<std::vector<std::string>, Alternatives> phrases;  // several words typed in a row
  size_t longest_phrase = 0;                                 // words in the longest phrase key
  std::set<std::string> stopwords;
};
SynonymMap build_synonyms(const Analyzer& analyzer, const State& state);
// The folded terms of a typed word or synonym text (compound parts, not their joined form).
std::vector<std::string> terms_of(const Analyzer& analyzer, std::string_view text);

// Typo tolerance for word_query: vocabulary terms within the budget join the exact form.
struct TypoVariant {
  std::string typed;     // the query term it stands for
  uint8_t distance = 0;  // edits
};
struct TypoContext {
  const fuzzy::LiveDictionary* vocab = nullptr;
  fuzzy::TypoBudget budget;
  std::map<std::string, TypoVariant>* variants = nullptr;  // filled for explain and ranking
  // For each typed term that got variants: the terms that match it without a typo (the term,
  // its stems, its synonyms, its split), so ranking can tell a typo-only match.
  std::map<std::string, std::vector<std::string>>* exact_forms = nullptr;
  // False: the word's splits (`vocab`) without its typo variants (search asks for variants
  // only when the words as typed find too little).
  bool lookup_variants = true;
};
inline constexpr size_t kMaxTypoVariants = 24;  // per query term, nearest and most frequent
// A variant's weight is scaled by sqrt(its documents / the most frequent variant's, the typed
// word counting as one); below this share it is left out.
inline constexpr double kMinVariantShare = 0.1;
// A word typed as two catalog words ("cocacola" -> coca cola) or two typed as one ("t shirt"
// -> tshirt): below the exact form and its stem, above typos.
inline constexpr double kSplitJoinWeight = 0.4;
// The whole query as a whole title (document.h's E term): above any word's weight, so an item
// named exactly what was typed comes first in its typo tier.
inline constexpr double kExactTitleWeight = 4.0;

// The two vocabulary words `term` is written as without its space ("cocacola" -> "coca",
// "cola"), each of 2 code points or more and each more frequent than `term` itself; of
// several splits, the one whose rarer word is the most frequent. Empty when there is none.
std::vector<std::string> split_in_two(const fuzzy::LiveDictionary& vocab, const std::string& term);

// The terms that match a query term without a typo, each with the share of an exact match it
// counts for: the term itself (1), Z<stem> (a document's word that stems to it but differs
// from it, document.cpp) and the stem as a word (kStemWeight each). With `vocab`, a bare term
// it does not know is left out: opening a posting list costs a B-tree descent per shard even
// for a term no document has. Never empty.
std::vector<std::pair<std::string, double>> exact_forms(const DocumentBuilder& builder,
                                                        const fuzzy::LiveDictionary* vocab,
                                                        const std::string& term);
inline constexpr std::array<double, 4> kTypoWeight = {1.0, 0.1, 0.03, 0.01};

// `base` with the catalog's SearchSettingsUpsert typo fields over it (typos -> max_typos; a
// min_len_2typo below min_len_1typo reads as min_len_1typo).
TypoSettings with_search_settings(TypoSettings base, const SearchSettingsUpsert& s);

// The typo budget a request asks for (or the index's default), checked: InvalidArgument with
// the path "typos.min_len_1typo" or "typos.min_len_2typo".
Result<fuzzy::TypoBudget> typo_budget(const std::optional<TypoSettings>& asked,
                                      const TypoSettings& index_default);

// The query for one typed word: exact term OR its stem (scaled down) OR its synonyms OR, with
// `typos`, its split in two and its typo variants (scaled far down); for a compound
// ("t-light"): its parts together, or joined. Empty when the word has no terms.
Xapian::Query word_query(const DocumentBuilder& builder, const SynonymMap& synonyms,
                         const std::string& word, std::vector<std::string>* terms,
                         const TypoContext* typos = nullptr);
Xapian::Query phrase_query(const DocumentBuilder& builder, const std::string& text);
// All the terms of a group (AND), as a synonym alternative matches.
Xapian::Query and_of(const std::vector<std::string>& terms);

// A query matching every document. Never Xapian::Query::MatchAll: that is one static object
// whose reference count (not atomic in Xapian 1.4) every copy updates, so searches copying it
// on several threads at once corrupt it and crash.
inline Xapian::Query match_all() { return Xapian::Query(std::string()); }

// A filter (trove/index/filter.h) as one boolean query; match_all() when it matches everything.
Xapian::Query filter_query(const Filter& filter);
// Filters that must all hold ("brand=Acme", "price<10 OR price>100"; the i-th error's path is
// filters[i]) as one boolean query.
Result<Xapian::Query> filter_query(const std::vector<std::string>& filters);

bool valid_utf8(std::string_view s);
// A whole finite decimal number ("3", "-2.5", "1e3"; not "0x1", "inf" or " 3").
bool parse_double(std::string_view s, double* out);

}  // namespace trove::index_internal
