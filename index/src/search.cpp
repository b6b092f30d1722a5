// Queries: search (words, phrases, exclusions, synonyms, filters, facets, sorts, pages,
// highlighting, graceful relaxation, typo tiers). Suggest is in suggest.cpp.
#include <absl/container/flat_hash_map.h>
#include <absl/container/flat_hash_set.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <optional>
#include <set>

#include "hits.h"
#include "index_rep.h"
#include "ranking.h"

namespace trove {
namespace {

// A matched term as explain shows it, without the index's internal prefixes (document.h):
// a word as is, a stem as "frais (stem)"; boolean terms (filters, title words, prefixes) are
// not shown. Folded words never start with an ASCII capital, prefixes always do.
std::optional<std::string> explained_term(const std::string& term) {
  if (term.empty() || term[0] < 'A' || term[0] > 'Z') return term;
  if (term[0] == 'Z') return term.substr(1) + " (stem)";
  return std::nullopt;
}

using namespace index_internal;

constexpr size_t kMaxDepth = 10000;  // page * per_page
constexpr size_t kMaxRelaxWords = 8;
constexpr size_t kFacetValues = 20;
constexpr std::array<double, 7> kPriceEdges = {0, 10, 25, 50, 100, 250, 500};

// Sort keys computed from the live State (popularity changes with every event, so it is not
// stored in the index).
class StateKey : public Xapian::KeyMaker {
 public:
  enum Kind { kPopularity, kPriceAsc, kPriceDesc };
  StateKey(const State& s, Kind k) : s_(s), k_(k) {}
  std::string operator()(const Xapian::Document& doc) const override {
    const ItemRef ref = ref_of_document(doc);  // not get_docid(): that is the shard's docid
    if (k_ == kPopularity) return Xapian::sortable_serialise(popularity(s_, ref));
    const Item* item = s_.item_at(ref);
    if (!item || !item->data.price) return k_ == kPriceAsc ? std::string("\xff\xff") : std::string();
    return Xapian::sortable_serialise(*item->data.price);
  }

 private:
  const State& s_;
  Kind k_;
};

// Counts facet values over every match, reading the items from the State by docid. Brands
// and category paths are counted as the filters match them, folded ("Nestlé", "NESTLE" and
// "nestle" are one value), and shown in their most frequent spelling, so that filtering on a
// value finds exactly its count.
class FacetSpy : public Xapian::MatchSpy {
 public:
  FacetSpy(const State& s, const Analyzer& analyzer, bool brand, bool category, bool price)
      : s_(s), analyzer_(analyzer), brand_(brand), category_(category), price_(price) {}
  void operator()(const Xapian::Document& doc, double) override {
    const Item* item = s_.item_at(ref_of_document(doc));
    if (!item) return;
    const ItemUpsert& d = item->data;
    if (brand_ && d.brand) count(brands_, brand_term(analyzer_, *d.brand), *d.brand);
    if (category_ && d.categories) {
      std::map<std::string, std::string> seen;  // folded -> spelling: once per item and prefix
      for (const auto& path : *d.categories) {
        std::string prefix;
        size_t start = 0;
        while (start <= path.size()) {
          size_t end = path.find('>', start);
          if (end == std::string::npos) end = path.size();
          std::string level = path.substr(start, end - start);
          while (!level.empty() && level.front() == ' ') level.erase(0, 1);
          while (!level.empty() && level.back() == ' ') level.pop_back();
          if (!level.empty()) {
            prefix += prefix.empty() ? level : " > " + level;
            seen.emplace(folded_path(prefix), prefix);
          }
          start = end + 1;
        }
      }
      for (const auto& [key, spelling] : seen) count(categories_, key, spelling);
    }
    if (price_ && d.price) {
      size_t b = 0;
      while (b + 1 < kPriceEdges.size() && *d.price >= kPriceEdges[b + 1]) ++b;
      ++prices_[b];
    }
  }
  std::vector<Facet> facets(const std::vector<std::string>& order) const {
    auto top = [](const absl::flat_hash_map<std::string, Folded>& m) {
      std::vector<FacetValue> v;
      for (const auto& [key, f] : m) {
        const std::pair<const std::string, uint64_t>* best = nullptr;
        for (const auto& sp : f.spellings) {
          if (!best || sp.second > best->second ||
              (sp.second == best->second && sp.first < best->first)) {
            best = &sp;
          }
        }
        v.push_back({best->first, f.count});
      }
      std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
        return a.count != b.count ? a.count > b.count : a.value < b.value;
      });
      if (v.size() > kFacetValues) v.resize(kFacetValues);
      return v;
    };
    std::vector<Facet> out;
    for (const auto& f : order) {
      if (f == "brand") out.push_back({f, top(brands_)});
      if (f == "category") out.push_back({f, top(categories_)});
      if (f == "price") {
        Facet p{f, {}};
        for (size_t b = 0; b < kPriceEdges.size(); ++b) {
          if (!prices_[b]) continue;
          std::string label = fmt_edge(kPriceEdges[b]) + "..";
          if (b + 1 < kPriceEdges.size()) label += fmt_edge(kPriceEdges[b + 1]);
          p.values.push_back({label, prices_[b]});
        }
        out.push_back(std::move(p));
      }
    }
    return out;
  }

 private:
  struct Folded {
    uint64_t count = 0;
    absl::flat_hash_map<std::string, uint64_t> spellings;
  };
  static void count(absl::flat_hash_map<std::string, Folded>& m, const std::string& key,
                    const std::string& spelling) {
    Folded& f = m[key];
    ++f.count;
    ++f.spellings[spelling];
  }
  // Folding costs an ICU pass; a facet sees few distinct paths, so each is folded once.
  const std::string& folded_path(const std::string& path) {
    auto it = path_keys_.find(path);
    if (it == path_keys_.end()) it = path_keys_.emplace(path, fold_path(analyzer_, path)).first;
    return it->second;
  }
  static std::string fmt_edge(double v) { return std::to_string(static_cast<int64_t>(v)); }
  const State& s_;
  const Analyzer& analyzer_;
  bool brand_, category_, price_;
  absl::flat_hash_map<std::string, Folded> brands_, categories_;
  absl::flat_hash_map<std::string, std::string> path_keys_;
  std::array<uint64_t, kPriceEdges.size()> prices_{};
};

constexpr size_t kTypoRankWindow = 100;

// The edits a hit needed: for each typed word that got typo variants and that the hit matched
// only through them, the distance of its nearest matched variant.
unsigned typo_cost(const Xapian::Enquire& enquire, const Xapian::MSetIterator& hit,
                   const std::map<std::string, TypoVariant>& variants,
                   const std::map<std::string, std::vector<std::string>>& exact_forms) {
  std::vector<std::string> matched(enquire.get_matching_terms_begin(hit),
                                   enquire.get_matching_terms_end(hit));
  std::sort(matched.begin(), matched.end());
  auto has = [&](const std::string& t) { return std::binary_search(matched.begin(), matched.end(), t); };
  unsigned cost = 0;
  for (const auto& [typed, exact] : exact_forms) {
    if (std::any_of(exact.begin(), exact.end(), has)) continue;
    unsigned best = 0;
    for (const auto& t : matched) {
      auto v = variants.find(t);
      if (v != variants.end() && v->second.typed == typed && (best == 0 || v->second.distance < best)) {
        best = v->second.distance;
      }
    }
    cost += best;
  }
  return cost;
}

Status check_paging(size_t page, size_t per_page) {
  if (per_page < 1 || per_page > kMaxPerPage) {
    return Status::invalid("expected 1.." + std::to_string(kMaxPerPage) + ", got " +
                               std::to_string(per_page),
                           "per_page");
  }
  // page - 1 is bounded before the product, which would wrap around for pages near 2^64
  // (page 2^63 + 1 with per_page 2 passed as page 1).
  if (page < 1 || page - 1 >= kMaxDepth || (page - 1) * per_page >= kMaxDepth) {
    return Status::invalid("expected a page from 1 with page * per_page <= " +
                               std::to_string(kMaxDepth),
                           "page");
  }
  return {};
}

}  // namespace

namespace {
// Words typed in a row that spell a multi-word synonym input ("tee shirt") become one unit:
// all of them, or one of the input's alternatives (scaled as synonyms are). The unit is kept
// or dropped whole when the query is relaxed. Longest inputs win, left to right.
void merge_synonym_phrases(const Analyzer& analyzer, const SynonymMap& synonyms,
                           std::vector<Xapian::Query>* words, std::vector<std::string>* text) {
  if (synonyms.phrases.empty() || words->size() < 2) return;
  std::vector<std::vector<std::string>> terms;
  for (const auto& t : *text) terms.push_back(terms_of(analyzer, t));
  std::vector<Xapian::Query> out_words;
  std::vector<std::string> out_text;
  for (size_t i = 0; i < words->size();) {
    size_t matched = 0;
    const SynonymMap::Alternatives* alts = nullptr;
    for (size_t n = std::min(synonyms.longest_phrase, words->size() - i); n >= 2 && !alts; --n) {
      std::vector<std::string> key;
      for (size_t k = i; k < i + n; ++k) key.insert(key.end(), terms[k].begin(), terms[k].end());
      if (auto it = synonyms.phrases.find(key); it != synonyms.phrases.end()) {
        alts = &it->second;
        matched = n;
      }
    }
    if (!alts) {
      out_words.push_back((*words)[i]);
      out_text.push_back((*text)[i]);
      ++i;
      continue;
    }
    std::vector<Xapian::Query> typed;
    for (size_t k = i; k < i + matched; ++k) typed.push_back((*words)[k]);
    std::vector<Xapian::Query> either{and_all(typed)};
    for (const auto& group : *alts) {
      either.emplace_back(Xapian::Query::OP_SCALE_WEIGHT, and_of(group), kSynonymWeight);
    }
    out_words.emplace_back(Xapian::Query::OP_OR, either.begin(), either.end());
    std::string joined = (*text)[i];
    for (size_t k = i + 1; k < i + matched; ++k) joined += " " + (*text)[k];
    out_text.push_back(std::move(joined));
    i += matched;
  }
  *words = std::move(out_words);
  *text = std::move(out_text);
}

// Two words typed in a row that the catalog writes as one ("t shirt", "play station" ->
// tshirt, playstation) become one unit: both words, or the joined word (kSplitJoinWeight).
// Each of the two must be a single term; a pair already merged (a synonym phrase) is left.
void merge_joined_pairs(const Analyzer& analyzer, const fuzzy::LiveDictionary& vocab,
                        std::vector<Xapian::Query>* words, std::vector<std::string>* text) {
  if (words->size() < 2) return;
  std::vector<Xapian::Query> out_words;
  std::vector<std::string> out_text;
  auto single_term = [&](const std::string& t) {
    std::vector<Token> tokens;
    analyzer.analyze(t, &tokens);
    return tokens.size() == 1 ? tokens[0].text : std::string();
  };
  for (size_t i = 0; i < words->size();) {
    if (i + 1 < words->size()) {
      const std::string a = single_term((*text)[i]);
      const std::string b = single_term((*text)[i + 1]);
      if (!a.empty() && !b.empty() && a.size() + b.size() <= kMaxTermBytes &&
          vocab.contains(a + b)) {
        const Xapian::Query both(Xapian::Query::OP_AND, (*words)[i], (*words)[i + 1]);
        out_words.emplace_back(Xapian::Query::OP_OR, both,
                               Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT,
                                             Xapian::Query(a + b), kSplitJoinWeight));
        out_text.push_back((*text)[i] + " " + (*text)[i + 1]);
        i += 2;
        continue;
      }
    }
    out_words.push_back((*words)[i]);
    out_text.push_back((*text)[i]);
    ++i;
  }
  *words = std::move(out_words);
  *text = std::move(out_text);
}

// Stopwords (SearchSettingsUpsert) are not required: they add to the score where present.
// Takes the typed words that are one stopword each out of `words` (and their parallel
// `exact_words` and `text`) and returns their queries, unless every word is one (a query made
// only of stopwords still requires them, so it still answers).
std::vector<Xapian::Query> take_stopwords(const Analyzer& analyzer,
                                          const std::set<std::string>& stopwords,
                                          std::vector<Xapian::Query>* words,
                                          std::vector<Xapian::Query>* exact_words,
                                          std::vector<std::string>* text) {
  if (stopwords.empty()) return {};
  std::vector<bool> stop(words->size());
  size_t n = 0;
  for (size_t i = 0; i < words->size(); ++i) {
    const std::vector<std::string> terms = terms_of(analyzer, (*text)[i]);
    stop[i] = terms.size() == 1 && stopwords.contains(terms[0]);
    n += stop[i];
  }
  if (n == 0 || n == words->size()) return {};
  std::vector<Xapian::Query> optional, kept_words, kept_exact;
  std::vector<std::string> kept_text;
  for (size_t i = 0; i < words->size(); ++i) {
    if (stop[i]) {
      optional.push_back((*words)[i]);
    } else {
      kept_words.push_back((*words)[i]);
      kept_exact.push_back((*exact_words)[i]);
      kept_text.push_back((*text)[i]);
    }
  }
  *words = std::move(kept_words);
  *exact_words = std::move(kept_exact);
  *text = std::move(kept_text);
  return optional;
}
}  // namespace

Result<SearchResponse> CatalogIndex::search(const SearchRequest& req) const {
  const auto t0 = std::chrono::steady_clock::now();
  const Rep& r = *rep_;
  if (r.store == nullptr) return Status::unavailable("index is not attached to a store");
  TROVE_RETURN_IF_ERROR(check_paging(req.page, req.per_page));
  if (!req.rerank && req.sort == SortOrder::kRelevance) {
    // The catalog's business signal ranks relevance for everyone (ranking.h); a request with
    // its own re-ranking (personalized search) keeps that.
    std::optional<SearchSettingsUpsert> settings;
    r.store->read([&](const State& st) {
      if (st.search_settings().signal.value_or(RankingSignal::kNone) != RankingSignal::kNone) {
        settings = st.search_settings();
      }
    });
    if (settings) {
      SearchRequest ranked = req;
      ranked.rerank = signal_rerank(*settings);
      return search(ranked);
    }
  }
  auto budget = typo_budget(req.typos, typo_defaults());
  if (!budget.ok()) return budget.status();
  for (size_t i = 0; i < req.facets.size(); ++i) {
    const auto& f = req.facets[i];
    if (f != "brand" && f != "category" && f != "price") {
      return Status::invalid("unknown facet \"" + f + "\"; expected brand, category or price",
                             "facets[" + std::to_string(i) + "]");
    }
  }
  auto parsed = parse_query(req.q, false);
  if (!parsed.ok()) return parsed.status();
  const DocumentBuilder& builder = r.query_builder();
  auto filters = filter_query(builder.analyzer(), req.filters);
  if (!filters.ok()) return filters.status();

  SearchResponse out;
  Status failure;
  // The matching reads the State only to sort by popularity or price and for facets. Otherwise
  // it runs without the Store's read lock, taken twice briefly instead (the synonyms, then the
  // hits' items): a search holding it throughout held up each write slice of an import and,
  // behind that slice (the lock lets a waiting writer in first), every other search.
  const bool match_reads_state = !req.facets.empty() || req.sort == SortOrder::kPopularity ||
                                 req.sort == SortOrder::kPriceAsc ||
                                 req.sort == SortOrder::kPriceDesc;
  std::optional<Store::ReadLock> lock;
  std::shared_ptr<const index_internal::SynonymMap> synonyms;
  if (match_reads_state) {
    lock.emplace(*r.store);
    synonyms = r.synonyms_for(lock->state());
  } else {
    r.store->read([&](const State& st) { synonyms = r.synonyms_for(st); });
  }
  try {
    Xapian::Database& db = r.reader();
    std::vector<Xapian::Query> words, must, exclude;
    std::vector<std::string> word_text;
    std::map<std::string, TypoVariant> variants;
    std::map<std::string, std::vector<std::string>> exact_forms;
    TypoContext typos{r.vocab.get(), *budget, &variants, &exact_forms};
    std::vector<Xapian::Query> exact_words;  // the words without their typo variants
    for (const auto& c : parsed->clauses) {
      // Typo variants for words to find, never for words to exclude.
      Xapian::Query q = c.kind == Clause::kWord ? word_query(builder, *synonyms, c.text, nullptr,
                                                             req.typo_tolerance ? &typos : nullptr)
                        : c.kind == Clause::kExcludeWord
                            ? word_query(builder, *synonyms, c.text, nullptr)
                            : phrase_query(builder, c.text);
      if (q.empty()) continue;
      if (c.kind == Clause::kWord) {
        words.push_back(q);
        exact_words.push_back(word_query(builder, *synonyms, c.text, nullptr));
        word_text.push_back(c.text);
      } else if (c.kind == Clause::kPhrase) {
        must.push_back(q);
      } else {
        exclude.push_back(q);
      }
    }
    std::vector<std::string> exact_text = word_text;
    merge_synonym_phrases(builder.analyzer(), *synonyms, &exact_words, &exact_text);
    merge_synonym_phrases(builder.analyzer(), *synonyms, &words, &word_text);
    if (req.typo_tolerance) {
      merge_joined_pairs(builder.analyzer(), *r.vocab, &exact_words, &exact_text);
      merge_joined_pairs(builder.analyzer(), *r.vocab, &words, &word_text);
    }
    if (words.empty() && must.empty() && !parsed->match_all) {
      out.took_ms = ms_since(t0);
      return out;  // only punctuation or exclusions: nothing can match, and that is an answer
    }
    std::vector<Xapian::Query> optional_words;
    {
      // An item whose title is exactly the words typed comes first (kExactTitleWeight).
      std::string typed;
      for (const auto& t : word_text) typed += t + " ";
      const std::string e = exact_title_term(builder.analyzer(), typed);
      if (!e.empty() && db.term_exists(e)) {
        optional_words.emplace_back(Xapian::Query::OP_SCALE_WEIGHT, Xapian::Query(e),
                                    kExactTitleWeight);
      }
    }
    for (auto& q : take_stopwords(builder.analyzer(), synonyms->stopwords, &words, &exact_words,
                                  &word_text)) {
      optional_words.push_back(std::move(q));
    }
    auto compose = [&](const std::vector<size_t>& keep, bool with_typos = true) {
      std::vector<Xapian::Query> parts = must;
      for (size_t i : keep) parts.push_back(with_typos ? words[i] : exact_words[i]);
      Xapian::Query q = and_all(parts);
      if (!optional_words.empty()) {
        q = Xapian::Query(Xapian::Query::OP_AND_MAYBE, q,
                          Xapian::Query(Xapian::Query::OP_OR, optional_words.begin(),
                                        optional_words.end()));
      }
      if (!exclude.empty()) {
        q = Xapian::Query(Xapian::Query::OP_AND_NOT, q,
                          Xapian::Query(Xapian::Query::OP_OR, exclude.begin(), exclude.end()));
      }
      return Xapian::Query(Xapian::Query::OP_FILTER, q, *filters);
    };
    std::vector<size_t> keep(words.size());
    for (size_t i = 0; i < keep.size(); ++i) keep[i] = i;
    std::vector<size_t> kept = keep;
    Xapian::Enquire enquire(db);
    Xapian::Query query = compose(keep);
    enquire.set_query(query);
    // Relax: when all words together find nothing, drop as few as possible, keeping the
    // combination that finds the most. A word that finds nothing on its own is in no
    // combination that finds something, so it goes first; the search over combinations then
    // covers the first kMaxRelaxWords of the others (at most 2^8 probes).
    if (words.size() > 1 && enquire.get_mset(0, 1).empty()) {
      auto count = [&](const std::vector<size_t>& k) {
        Xapian::Enquire probe(db);
        probe.set_query(compose(k));
        return probe.get_mset(0, 0, db.get_doccount()).get_matches_estimated();
      };
      std::vector<size_t> live;
      for (size_t i = 0; i < words.size(); ++i) {
        if (count({i}) > 0) live.push_back(i);
      }
      const size_t n = std::min(live.size(), kMaxRelaxWords);
      std::vector<size_t> best_keep;
      for (size_t keep_n = n; keep_n >= 1 && best_keep.empty(); --keep_n) {
        Xapian::doccount best = 0;
        for (uint32_t mask = 0; mask < (1u << n); ++mask) {
          if (static_cast<size_t>(__builtin_popcount(mask)) != keep_n) continue;
          std::vector<size_t> k;
          for (size_t i = 0; i < n; ++i) {
            if (mask & (1u << i)) k.push_back(live[i]);
          }
          const Xapian::doccount c = count(k);
          if (c > best) best = c, best_keep = k;
        }
      }
      if (!best_keep.empty()) {
        for (size_t i = 0; i < words.size(); ++i) {
          if (std::find(best_keep.begin(), best_keep.end(), i) == best_keep.end()) {
            out.dropped_terms.push_back(word_text[i]);
          }
        }
        query = compose(best_keep);
        enquire.set_query(query);
        kept = best_keep;
      }
    }
    std::unique_ptr<StateKey> key;
    switch (req.sort) {
      case SortOrder::kRelevance:
        break;
      case SortOrder::kPopularity:
        key = std::make_unique<StateKey>(lock->state(), StateKey::kPopularity);
        break;
      case SortOrder::kPriceAsc:
        key = std::make_unique<StateKey>(lock->state(), StateKey::kPriceAsc);
        break;
      case SortOrder::kPriceDesc:
        key = std::make_unique<StateKey>(lock->state(), StateKey::kPriceDesc);
        break;
      case SortOrder::kNewest:
        enquire.set_sort_by_value_then_relevance(kSlotUpdated, true);
        break;
    }
    if (key) {
      enquire.set_sort_by_key_then_relevance(key.get(), req.sort != SortOrder::kPriceAsc);
    }
    std::unique_ptr<FacetSpy> spy;
    if (!req.facets.empty()) {
      auto has = [&](const char* f) {
        return std::find(req.facets.begin(), req.facets.end(), f) != req.facets.end();
      };
      spy = std::make_unique<FacetSpy>(lock->state(), builder.analyzer(), has("brand"),
                                       has("category"), has("price"));
      enquire.add_matchspy(spy.get());
    }
    // Facets need every match; otherwise counting the first 1,000 makes small totals exact.
    const Xapian::doccount check = spy ? db.get_doccount() : 1000;
    const size_t page_first = (req.page - 1) * req.per_page;
    // A re-ranking sees the whole window: fetch it all, cut the page after.
    const bool rerank = req.rerank && req.sort == SortOrder::kRelevance &&
                        page_first + req.per_page <= kRerankWindow;
    const size_t first = rerank ? 0 : page_first;
    const size_t want_n = rerank ? kRerankWindow : req.per_page;
    // Hits as (the enquire that found it, where in its MSet), in rank order.
    std::vector<std::pair<const Xapian::Enquire*, Xapian::MSetIterator>> order;
    std::vector<Xapian::MSet> msets;  // keeps the iterators' MSets alive
    msets.reserve(3);
    Xapian::Enquire exact_enquire(db), typo_enquire(db);
    if (req.sort == SortOrder::kRelevance && !exact_forms.empty()) {
      // By relevance, typos rank first: every hit that matches all its words without a typo
      // precedes every hit that needed one (two queries, so this holds on every page), and
      // among the others, in their first kTypoRankWindow, fewer edits rank first. Weight
      // orders each tier. The full query still gives the total and the facets.
      const Xapian::Query exact_query = compose(kept, false);
      if (spy) {
        msets.push_back(enquire.get_mset(0, 0, check));  // every match, for the facets
      } else {
        // Without facets: Xapian's estimate from the term statistics first (no posting is
        // read), then an exact count only when it cannot exceed `check`. Asked for no items
        // and `check` matches, Xapian 1.4 reads every posting anyway: 5.4 ms of a 10 ms
        // search for "chocolate" over 818,775 products, for the same estimate.
        msets.push_back(enquire.get_mset(0, 0, Xapian::doccount{0}));
        if (msets.back().get_matches_upper_bound() <= check) {
          msets.back() = enquire.get_mset(0, 0, check);
        }
      }
      out.total = msets.back().get_matches_estimated();
      out.total_exact =
          msets.back().get_matches_lower_bound() == msets.back().get_matches_upper_bound();
      exact_enquire.set_query(exact_query);
      msets.push_back(exact_enquire.get_mset(static_cast<Xapian::doccount>(first),
                                             static_cast<Xapian::doccount>(want_n),
                                             static_cast<Xapian::doccount>(first + want_n)));
      const Xapian::MSet& tier0 = msets.back();
      for (auto it = tier0.begin(); it != tier0.end(); ++it) order.emplace_back(&exact_enquire, it);
      if (order.size() < want_n) {
        // Fewer than asked: the exact tier's count is exact, and the page goes on in the next.
        const size_t exact_n = tier0.get_matches_estimated();
        const size_t from = first > exact_n ? first - exact_n : 0;
        const size_t want = want_n - order.size();
        typo_enquire.set_query(Xapian::Query(Xapian::Query::OP_AND_NOT, query, exact_query));
        msets.push_back(typo_enquire.get_mset(
            0, static_cast<Xapian::doccount>(std::max(kTypoRankWindow, from + want))));
        const Xapian::MSet& tier1 = msets.back();
        std::vector<std::pair<unsigned, Xapian::MSetIterator>> ranked;
        for (auto it = tier1.begin(); it != tier1.end(); ++it) {
          const bool in_window = ranked.size() < kTypoRankWindow;
          ranked.emplace_back(in_window ? typo_cost(typo_enquire, it, variants, exact_forms) : ~0u,
                              it);
        }
        std::stable_sort(ranked.begin(), ranked.end(),
                         [](const auto& a, const auto& b) { return a.first < b.first; });
        for (size_t i = from; i < ranked.size() && order.size() < want_n; ++i) {
          order.emplace_back(&typo_enquire, ranked[i].second);
        }
      }
    } else {
      msets.push_back(enquire.get_mset(static_cast<Xapian::doccount>(first),
                                       static_cast<Xapian::doccount>(want_n), check));
      out.total = msets.back().get_matches_estimated();
      out.total_exact =
          msets.back().get_matches_lower_bound() == msets.back().get_matches_upper_bound();
      for (auto it = msets.back().begin(); it != msets.back().end(); ++it)
        order.emplace_back(&enquire, it);
    }
    if (!lock) lock.emplace(*r.store);
    const State& st = lock->state();
    std::vector<RerankCandidate> reranked;
    if (rerank) {
      for (size_t i = 0; i < order.size(); ++i) {
        const auto& [found_by, it] = order[i];
        const ItemRef ref = ref_of(*it);
        if (!st.item_at(ref)) continue;
        RerankCandidate c;
        c.id = st.item_id(ref);
        c.score = it.get_weight();
        if (!exact_forms.empty())
          c.typos = static_cast<int>(typo_cost(*found_by, it, variants, exact_forms));
        c.slot = i;
        reranked.push_back(std::move(c));
      }
      req.rerank(st, reranked);
      decltype(order) page;
      for (size_t r = page_first; r < reranked.size() && page.size() < req.per_page; ++r) {
        page.push_back(order[reranked[r].slot]);
      }
      order = std::move(page);
      reranked.erase(reranked.begin(), reranked.begin() + static_cast<std::ptrdiff_t>(std::min(
                                                              page_first, reranked.size())));
    }
    for (size_t n = 0; n < order.size(); ++n) {
      const auto& [found_by, it] = order[n];
      const ItemRef ref = ref_of(*it);
      const Item* item = st.item_at(ref);
      if (!item) continue;  // removed since the index was last flushed
      SearchHit h = make_hit(*item, st.item_id(ref));
      h.score = it.get_weight();
      if (rerank) {  // typos already counted for the candidates
        h.score = reranked[n].score;
        h.typos = reranked[n].typos;
        h.ranking = std::move(reranked[n].ranking);
      } else if (!exact_forms.empty()) {
        h.typos = static_cast<int>(typo_cost(*found_by, it, variants, exact_forms));
      }
      absl::flat_hash_set<std::string> matched;
      for (auto t = found_by->get_matching_terms_begin(it);
           t != found_by->get_matching_terms_end(it); ++t) {
        matched.insert(*t);
        if (!req.explain) continue;
        // "chocolate ~1 chocolat": a typo variant, its distance, and the word it stands for.
        auto v = variants.find(*t);
        if (v == variants.end()) {
          if (auto shown = explained_term(*t)) h.matched_terms.push_back(std::move(*shown));
        } else {
          std::string e = *t;
          e += " ~";
          e += std::to_string(v->second.distance);
          e += " ";
          e += v->second.typed;
          h.matched_terms.push_back(std::move(e));
        }
      }
      h.title_highlighted = highlight(builder, item->data.title, matched);
      out.hits.push_back(std::move(h));
    }
    if (spy) out.facets = spy->facets(req.facets);
    if (req.explain) out.query_explained = query.get_description();
  } catch (const Xapian::DatabaseCorruptError& e) {
    r.mark_damaged(std::string("search: ") + e.get_msg());
    failure =
        Status::internal("search failed: the index is damaged and is rebuilt on the next start");
  } catch (const Xapian::Error& e) {
    failure = Status::internal(std::string("search failed in the index (") + e.get_type() + ")");
  }
  TROVE_RETURN_IF_ERROR(failure);
  out.took_ms = ms_since(t0);
  return out;
}

uint64_t CatalogIndex::generation() const {
  // Both only grow, so their sum changes when either does.
  return rep_->generation.load(std::memory_order_acquire) +
         rep_->synonyms_version.load(std::memory_order_acquire);
}

}  // namespace trove
