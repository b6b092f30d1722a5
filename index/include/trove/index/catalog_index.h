// CatalogIndex: the Xapian full-text index of the catalog, a view derived from the Store.
//
// It lives in DATA_DIR/index/ as glass shards (shard-0, shard-1, ...). Item ref r (the dense
// id State interns) is document (r / shards) + 1 of shard r % shards, so in the combined
// database document r + 1 is item r, and no id lookup is ever needed. Each commit writes the
// documents and the last applied journal seq together ("trove.seq" metadata in every shard).
//
// Keeping in step: attach() registers a Store listener that notes which items catalog events
// touched; flush() (called after each ingest batch, by the importer, and by a background
// timer in the server) rewrites those documents from the current State and commits. On
// attach, the index catches up from the journal records after its seq, or is rebuilt from the
// State when missing, damaged, or built with other settings. Rewriting from the State makes
// every update idempotent, so a crash between the journal and the index loses nothing.
//
//   auto index = CatalogIndex::open(data_dir + "/index", {});
//   TROVE_RETURN_IF_ERROR(index.value()->attach(store));
//   SearchRequest req;
//   req.q = "creme brulee";
//   req.filters = {"brand=Maison Dorée", "price=10..50"};
//   req.facets = {"brand", "category", "price"};
//   Result<SearchResponse> res = index.value()->search(req);
//
// Thread-safety: search() and suggest() may run on many threads at once, beside flush();
// each thread keeps its own Xapian reader and reopens it after a commit.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "trove/data/status.h"
#include "trove/data/store.h"
#include "trove/index/attributes.h"

namespace trove {

// How many typos a query word may carry, by its length in code points (Algolia's and
// Typesense's defaults): none under min_len_1typo, one up to min_len_2typo - 1, two from
// min_len_2typo, never more than max_typos; a typo on the first letter counts double
// (a word with no match within its budget takes up to max_typos, the first letter counting
// once: docs/SEARCH.md);
// digits-only words are exact. A request sets them with typos=0|1|2, min_len_1typo and
// min_len_2typo (docs/SEARCH.md, "Typo tolerance").
struct TypoSettings {
  size_t min_len_1typo = 4;
  size_t min_len_2typo = 8;
  int max_typos = 2;  // 0..2
  bool first_char_counts_double = true;
  bool operator==(const TypoSettings&) const = default;
};

// The typo parameters of a request, as given (HTTP query parameters, CLI flags): `typos` is
// "0" (off), "1" (at most one), "2" (the length rule), or "false"/"true" for 0/2.
struct TypoParams {
  std::optional<std::string> typos;
  std::optional<int64_t> min_len_1typo;
  std::optional<int64_t> min_len_2typo;
};
// What they ask of a search or suggest whose index defaults are `index_default`: whether typo
// tolerance is on, and the settings when they differ from the defaults (nullopt: the index's,
// which keeps the answer cacheable). A value out of range is kInvalidArgument naming the
// parameter ("typos", "min_len_1typo", "min_len_2typo").
struct TypoChoice {
  bool tolerance = true;
  std::optional<TypoSettings> settings;
};
Result<TypoChoice> typo_choice(const TypoParams& params, const TypoSettings& index_default);

struct IndexOptions {
  unsigned shards = 2;                 // one writer thread per shard when building
  // Snowball stemmer for stemmed forms: "english", "french", ... ("none": off). Empty: the
  // language the index on disk was built with, English for a new one. A different language
  // than the one on disk rebuilds the index.
  std::string language;
  TypoSettings typos;  // the default of every search and suggest (a request may override it)
  // How often flush() takes the searched queries again for query suggestions (at most; only
  // when SearchQuery events came in).
  std::chrono::milliseconds query_suggestions_every{2000};
};

enum class SortOrder { kRelevance, kPriceAsc, kPriceDesc, kPopularity, kNewest };
// How a facet's values are ordered: by count (most first, then value), or by value (text in
// folded order, numbers by number). Ranges keep the order they were asked in.
enum class FacetSort { kCount, kValue };
inline constexpr size_t kMaxFacetValues = 100;
inline constexpr size_t kMaxSnippetWords = 100;

// A comma-separated list, each piece trimmed, empty ones left out unless `keep_empty`, commas
// inside parentheses kept: "price(0..10, 10..50), brand" -> "price(0..10, 10..50)", "brand".
// Sorts and facets are written so.
std::vector<std::string> split_list(std::string_view text, bool keep_empty = false);

// One key of a sort (SearchRequest::sort_by). Items without the key's value come after those
// with one, in either direction; ties go to the next key, then relevance, then item order.
struct SortKey {
  enum class Field { kRelevance, kPrice, kPopularity, kNewest, kAttribute } field =
      Field::kRelevance;
  std::string attribute;  // kAttribute: its name (a numeric or geo point attribute)
  bool descending = false;
  // kAttribute on a geo point: the distance from this point orders (nearest first unless
  // descending), and hits carry it (SearchHit::geo_distance_metres).
  std::optional<GeoPoint> from;
  bool operator==(const SortKey&) const = default;
};
inline constexpr size_t kMaxSortKeys = 3;
// A sort as an API takes it: up to kMaxSortKeys comma-separated keys, each `relevance`,
// `price`, `popularity`, `newest`, `attributes.<name>` or, for a geo point, the distance from
// a point `attributes.<name>(lat, lng)`, with `:asc` or `:desc` (defaults: price, attributes
// and distance ascending, popularity and newest descending): "attributes.rating:desc, price". The older names relevance, price_asc, price_desc, popularity and newest read as
// before. InvalidArgument with the path "sort".
Result<std::vector<SortKey>> parse_sort(std::string_view text);

// A hit offered to a re-ranking (SearchRequest::rerank).
struct RerankCandidate {
  std::string id;
  double score = 0;  // in: the text score; out: the score to report
  int typos = 0;     // edits the hit needed
  std::vector<std::pair<std::string, double>> ranking;  // out: the parts of the score (explain)
  size_t slot = 0;   // where the index found it (leave as is)
};
inline constexpr size_t kRerankWindow = 100;

struct SearchRequest {
  std::string q;
  // "brand=Acme", "category=Kitchen > Cookware" (path prefix), "price=10..50", "price>=10",
  // "price<=50", "in_stock=true", "attributes.color=red". All must hold.
  std::vector<std::string> filters;
  // "brand", "category", "price", "attributes.<name>"; price and numeric attributes may name
  // ranges to count, "price(0..10, 10..50, 50..)" (both ends included, as the filter reads
  // lo..hi).
  std::vector<std::string> facets;
  size_t max_facet_values = 20;  // 1..kMaxFacetValues a facet
  FacetSort facet_sort = FacetSort::kCount;
  // "<facet>:<text>" (the facet also in `facets`): only that facet's values whose words match
  // the text's, the last word as a prefix, with typos by length (search within facet values,
  // as a refinement list's search box asks).
  std::string facet_query;
  // Fields whose matched words hits return highlighted (SearchHit::highlights), beside the
  // title: brand, categories, tags, description (a snippet of snippet_words words around the
  // first match), attributes.<name> (retrievable ones).
  std::vector<std::string> highlight;
  size_t snippet_words = 20;  // 1..kMaxSnippetWords
  // Facets (each also in `facets`) counted disjunctively: under the filters but those that
  // test the facet's field alone, so its other values stay counted while one is selected
  // (InstantSearch's refinement lists, Algolia's disjunctiveFacets). One more match each.
  std::vector<std::string> disjunctive_facets;
  // "attributes.<name>": one hit per value of that attribute (a book series, a product's
  // variants), the best by the sort; hits carry their group's size, `total` and paging count
  // groups, an item without the attribute is a group of its own. The attribute must be
  // declared (AttributeSettingsUpsert) and facetable, and not a geo point. Typo tiers do not
  // apply: a hit that needed a typo may rank among exact ones.
  std::string distinct;
  SortOrder sort = SortOrder::kRelevance;
  // When given, the sort (parse_sort), in place of `sort`.
  std::vector<SortKey> sort_by;
  size_t page = 1;  // 1-based
  size_t per_page = 10;
  bool explain = false;
  // Words also match vocabulary words within a typo budget by length (see TypoSettings;
  // IndexOptions::typos unless `typos` is given), ranked below exact matches, one typo above
  // two.
  bool typo_tolerance = true;
  std::optional<TypoSettings> typos;
  // Re-ranking (personalized search: Recommender::search sets it). With sort by relevance and
  // a page inside the first kRerankWindow hits, those hits are passed to it in text order,
  // under the Store's read lock; it reorders them (and may set score and ranking). The page
  // is then cut from its order and only the page's hits are highlighted. Pages past the
  // window keep the text order.
  std::function<void(const State&, std::vector<RerankCandidate>&)> rerank;
};

// An item found by its text (similar_items), with its BM25 weight (comparable within one
// answer only).
struct ContentMatch {
  ItemRef ref = 0;
  double weight = 0;
};

struct SearchHit {
  std::string id;
  std::string title;
  std::string title_highlighted;  // matched words wrapped in <em>..</em>, the rest HTML-escaped
  // The item's stored fields a storefront shows (all but the description), so a page of
  // hits needs no item lookups.
  std::optional<std::string> brand;
  std::optional<double> price;
  std::optional<std::string> currency;
  std::optional<bool> in_stock;
  std::optional<std::string> url;
  std::optional<std::string> image_url;
  std::optional<std::vector<std::string>> categories;
  std::optional<std::vector<std::string>> tags;
  std::optional<Attributes> attributes;
  // Sorted by distance (SortKey::from): the item's distance from that point, in metres (the
  // first such key's).
  std::optional<double> geo_distance_metres;
  // With distinct: the matches that share this hit's value (itself included).
  std::optional<uint64_t> group_size;
  // The fields SearchRequest::highlight asked for, in its order, each as the item has it with
  // matched words in <em>..</em> and the rest HTML-escaped: one text, or one per element of a
  // list field (categories, tags, a list attribute). A field the item lacks is left out.
  struct Highlight {
    std::string field;
    std::vector<std::string> texts;
    bool list = false;
  };
  std::vector<Highlight> highlights;
  double score = 0;
  // With explain: the terms that matched; a typo variant reads "chocolate ~1 chocolat" (the
  // term, its edit distance, the word typed).
  std::vector<std::string> matched_terms;
  int typos = 0;  // edits the hit needed, summed over the words (0: no typo)
  // With explain, after a personalized re-ranking (Recommender::search): each part of the
  // blended score ("text", "affinity", "popularity", "typo_penalty") and its contribution.
  std::vector<std::pair<std::string, double>> ranking;
};

struct FacetValue {
  std::string value;
  uint64_t count = 0;
};
// The numbers of a numeric attribute's facet over every match that has one.
struct FacetStats {
  uint64_t count = 0;
  double min = 0, max = 0, sum = 0;  // avg = sum / count
};
struct Facet {
  std::string field;
  std::vector<FacetValue> values;  // by count, then value
  std::optional<FacetStats> stats;  // attributes with a number among their values
};

struct SearchResponse {
  // Matching items (groups with distinct, counted exactly): counted up to 100, estimated
  // beyond (exact when facets were asked for).
  // By relevance with typo tolerance, the items that need a typo are counted only when those
  // matching the words as typed are fewer than 10 (they are not shown otherwise either).
  uint64_t total = 0;
  bool total_exact = false;  // total is a count, not an estimate
  std::vector<SearchHit> hits;
  std::vector<Facet> facets;
  // When every word together matched nothing: the words left out to find something.
  std::vector<std::string> dropped_terms;
  // With explain: the query as Xapian describes it, each term as matched_terms shows it
  // ("brand:acme", "frais (stem)", "title word:potter"), not with the index's prefixes.
  std::string query_explained;
  double took_ms = 0;
};

struct SuggestRequest {
  std::string q;  // the text typed so far; its last word is a prefix
  size_t items = 5;
  size_t completions = 5;
  std::vector<std::string> filters;
  bool typo_tolerance = true;  // the last word also completes words within its typo budget
  std::optional<TypoSettings> typos;
};
struct SuggestResponse {
  // Items with every earlier word and the prefix (then typo matches), in tiers; within a tier
  // titles that start with what was typed first, then by popularity, then shorter titles;
  // score is the popularity (with filters: BM25 order and weight). docs/SEARCH.md,
  // "Search-as-you-type".
  std::vector<SearchHit> items;
  // Whole queries: first those shoppers searched with results that start with what was
  // typed (without filters; most searched first, each at least twice, every word in the
  // catalog), then phrases of items that matched, as the catalog spells them (earlier words +
  // the completed word): searched, each finds that item without dropping a word.
  std::vector<std::string> completions;
  double took_ms = 0;
};

struct FuzzyTerm {
  std::string term;
  int distance = 0;
  uint64_t frequency = 0;  // documents containing the term
};

class CatalogIndex {
 public:
  static Result<std::unique_ptr<CatalogIndex>> open(const std::string& dir,
                                                    IndexOptions opts = {});
  ~CatalogIndex();
  CatalogIndex(const CatalogIndex&) = delete;
  CatalogIndex& operator=(const CatalogIndex&) = delete;

  // Follows `store` from now on (it must outlive the index) and catches up or rebuilds.
  // warnings, when given, receives what recovery did. With `write_failure` given, a failed
  // write of the catch-up (a full disk) is put there instead of failing the call: the index is
  // then attached and searchable at what it had committed, and the items it could not write
  // stay pending for the next flush().
  Status attach(Store& store, std::vector<std::string>* warnings = nullptr,
                Status* write_failure = nullptr);

  // Writes the documents of items touched since the last flush and commits them with the
  // seq they reflect. Cheap when nothing is pending. When the catalog's searchable fields
  // (SearchSettingsUpsert) differ from those the index was built with, it first re-indexes
  // every item into fresh shards and swaps them in: searches keep answering from the old
  // ones meanwhile (which keep following events between chunks of the re-index), and see
  // the new ones after.
  Status flush();
  // Makes a re-index in progress, and any later one, give up (shutting down: a re-index of a
  // large catalog takes minutes). The index keeps serving and following the old weights.
  void interrupt();

  Result<SearchResponse> search(const SearchRequest& req) const;
  Result<SuggestResponse> suggest(const SuggestRequest& req) const;

  // Items whose text is like item `item_id`'s ("more like this"): the kSimilarTerms words of
  // its document that single it out most (Xapian's expand set, with the document as the
  // relevance feedback), ORed and ranked by BM25; the item itself left out. Up to n, best
  // first; empty when the item is not in the catalog or not yet indexed. No catalog filters:
  // the caller filters the candidates (ask for more than it needs).
  static constexpr size_t kSimilarTerms = 12;
  Result<std::vector<ContentMatch>> similar_items(std::string_view item_id, size_t n) const;

  // Vocabulary words within `max_distance` edits of `text` (analyzed like a query word; -1:
  // the typo budget for its length), sorted by distance then frequency. With `prefix`, words
  // that some prefix of is within reach (search-as-you-type).
  Result<std::vector<FuzzyTerm>> fuzzy_terms(std::string_view text, int max_distance, bool prefix,
                                             size_t limit) const;
  size_t vocabulary_size() const;
  // Vocabulary terms changed since its base was last rebuilt: every typo lookup runs its
  // automaton over each of them, so the index rebuilds the base (a merge) when they pass
  // 1/256 of it, at least 2,048, at the end of a flush.
  size_t vocabulary_unmerged() const;

  // Changes whenever what a search or suggest can answer from the index changes: after each
  // commit (flush, catch-up, rebuild) and after synonyms are applied. Answers cached against
  // one value are stale once it moved (popularity, which moves with every behaviour event,
  // is not covered: a cache bounds its age instead).
  uint64_t generation() const;
  uint64_t indexed_seq() const;   // journal seq the committed index reflects
  // The typo settings of a request that sets none: IndexOptions::typos, with the catalog's
  // SearchSettingsUpsert fields over them.
  TypoSettings typo_defaults() const;
  uint64_t document_count() const;
  uint64_t disk_bytes() const;

 private:
  struct Rep;
  explicit CatalogIndex(std::unique_ptr<Rep> rep);
  std::unique_ptr<Rep> rep_;
};

}  // namespace trove
