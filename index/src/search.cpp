// Queries: search (words, phrases, exclusions, synonyms, filters, facets, sorts, pages,
// highlighting, graceful relaxation) and suggest (search-as-you-type).
#include <absl/container/flat_hash_map.h>
#include <absl/container/flat_hash_set.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <set>

#include "index_rep.h"

namespace trove {
namespace {

using namespace index_internal;

constexpr size_t kMaxPerPage = 100;
constexpr size_t kMaxDepth = 10000;  // page * per_page
constexpr size_t kMaxRelaxWords = 8;
constexpr size_t kFacetValues = 20;
constexpr std::array<double, 7> kPriceEdges = {0, 10, 25, 50, 100, 250, 500};

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

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

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

// The title with the words that matched (exactly, by stem, or as a prefix) wrapped in <em>.
std::string highlight(const DocumentBuilder& b, const std::string& title,
                      const absl::flat_hash_set<std::string>& matched,
                      const std::string& prefix = {}) {
  std::vector<std::pair<size_t, size_t>> spans;
  b.analyzer().word_spans(title, &spans);
  std::string out;
  size_t at = 0;
  std::vector<Token> tokens;
  for (const auto& [begin, end] : spans) {
    tokens.clear();
    b.analyzer().analyze(std::string_view(title).substr(begin, end - begin), &tokens);
    bool hit = false;
    for (const auto& t : tokens) {
      std::string stemmed = "Z";  // built in steps: GCC 12 warns falsely on "Z" + std::string
      stemmed += b.stem(t.text);
      hit = hit || matched.contains(t.text) || matched.contains(stemmed) ||
            (!prefix.empty() && t.text.rfind(prefix, 0) == 0);
    }
    if (!hit) continue;
    out += html_escape(std::string_view(title).substr(at, begin - at));
    out += "<em>";
    out += html_escape(std::string_view(title).substr(begin, end - begin));
    out += "</em>";
    at = end;
  }
  out += html_escape(std::string_view(title).substr(at));
  return out;
}

SearchHit make_hit(const Item& item, const std::string& id) {
  SearchHit h;
  h.id = id;
  h.title = item.data.title;
  h.brand = item.data.brand;
  h.price = item.data.price;
  h.in_stock = item.data.in_stock;
  return h;
}

Status check_paging(size_t page, size_t per_page) {
  if (per_page < 1 || per_page > kMaxPerPage) {
    return Status::invalid("expected 1.." + std::to_string(kMaxPerPage) + ", got " +
                               std::to_string(per_page),
                           "per_page");
  }
  if (page < 1 || (page - 1) * per_page >= kMaxDepth) {
    return Status::invalid("expected a page from 1 with page * per_page <= " +
                               std::to_string(kMaxDepth),
                           "page");
  }
  return {};
}

Xapian::Query and_all(const std::vector<Xapian::Query>& qs) {
  if (qs.empty()) return match_all();
  return qs.size() == 1 ? qs[0] : Xapian::Query(Xapian::Query::OP_AND, qs.begin(), qs.end());
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
}  // namespace

Result<SearchResponse> CatalogIndex::search(const SearchRequest& req) const {
  const auto t0 = std::chrono::steady_clock::now();
  const Rep& r = *rep_;
  if (r.store == nullptr) return Status::unavailable("index is not attached to a store");
  TROVE_RETURN_IF_ERROR(check_paging(req.page, req.per_page));
  auto budget = typo_budget(req.typos, r.opts.typos);
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
  r.store->read([&](const State& st) {
    auto synonyms = r.synonyms_for(st);
    try {
      Xapian::Database& db = r.reader();
      std::vector<Xapian::Query> words, must, exclude;
      std::vector<std::string> word_text;
      std::map<std::string, TypoVariant> variants;
      TypoContext typos{r.vocab.get(), *budget, &variants};
      for (const auto& c : parsed->clauses) {
        // Typo variants for words to find, never for words to exclude.
        Xapian::Query q = c.kind == Clause::kWord
                              ? word_query(builder, *synonyms, c.text, nullptr,
                                           req.typo_tolerance ? &typos : nullptr)
                          : c.kind == Clause::kExcludeWord
                              ? word_query(builder, *synonyms, c.text, nullptr)
                              : phrase_query(builder, c.text);
        if (q.empty()) continue;
        if (c.kind == Clause::kWord) {
          words.push_back(q);
          word_text.push_back(c.text);
        } else if (c.kind == Clause::kPhrase) {
          must.push_back(q);
        } else {
          exclude.push_back(q);
        }
      }
      merge_synonym_phrases(builder.analyzer(), *synonyms, &words, &word_text);
      if (words.empty() && must.empty() && !parsed->match_all) {
        return;  // only punctuation or exclusions: nothing can match, and that is an answer
      }
      auto compose = [&](const std::vector<size_t>& keep) {
        std::vector<Xapian::Query> parts = must;
        for (size_t i : keep) parts.push_back(words[i]);
        Xapian::Query q = and_all(parts);
        if (!exclude.empty()) {
          q = Xapian::Query(Xapian::Query::OP_AND_NOT, q,
                            Xapian::Query(Xapian::Query::OP_OR, exclude.begin(), exclude.end()));
        }
        return Xapian::Query(Xapian::Query::OP_FILTER, q, *filters);
      };
      std::vector<size_t> keep(words.size());
      for (size_t i = 0; i < keep.size(); ++i) keep[i] = i;
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
        }
      }
      std::unique_ptr<StateKey> key;
      switch (req.sort) {
        case SortOrder::kRelevance: break;
        case SortOrder::kPopularity: key = std::make_unique<StateKey>(st, StateKey::kPopularity); break;
        case SortOrder::kPriceAsc: key = std::make_unique<StateKey>(st, StateKey::kPriceAsc); break;
        case SortOrder::kPriceDesc: key = std::make_unique<StateKey>(st, StateKey::kPriceDesc); break;
        case SortOrder::kNewest: enquire.set_sort_by_value_then_relevance(kSlotUpdated, true); break;
      }
      if (key) {
        enquire.set_sort_by_key_then_relevance(key.get(), req.sort != SortOrder::kPriceAsc);
      }
      std::unique_ptr<FacetSpy> spy;
      if (!req.facets.empty()) {
        auto has = [&](const char* f) {
          return std::find(req.facets.begin(), req.facets.end(), f) != req.facets.end();
        };
        spy = std::make_unique<FacetSpy>(st, builder.analyzer(), has("brand"), has("category"),
                                         has("price"));
        enquire.add_matchspy(spy.get());
      }
      // Facets need every match; otherwise counting the first 1,000 makes small totals exact.
      const Xapian::doccount check = spy ? db.get_doccount() : 1000;
      Xapian::MSet mset = enquire.get_mset(static_cast<Xapian::doccount>((req.page - 1) * req.per_page),
                                           static_cast<Xapian::doccount>(req.per_page), check);
      out.total = mset.get_matches_estimated();
      out.total_exact = mset.get_matches_lower_bound() == mset.get_matches_upper_bound();
      for (auto it = mset.begin(); it != mset.end(); ++it) {
        const ItemRef ref = ref_of(*it);
        const Item* item = st.item_at(ref);
        if (!item) continue;  // removed since the index was last flushed
        SearchHit h = make_hit(*item, st.item_id(ref));
        h.score = it.get_weight();
        absl::flat_hash_set<std::string> matched;
        for (auto t = enquire.get_matching_terms_begin(it); t != enquire.get_matching_terms_end(it); ++t) {
          matched.insert(*t);
          if (!req.explain) continue;
          // "chocolate ~1 chocolat": a typo variant, its distance, and the word it stands for.
          auto v = variants.find(*t);
          if (v == variants.end()) {
            h.matched_terms.push_back(*t);
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
      failure = Status::internal("search failed: the index is damaged and is rebuilt on the next start");
    } catch (const Xapian::Error& e) {
      failure = Status::internal(std::string("search failed in the index (") + e.get_type() + ")");
    }
  });
  TROVE_RETURN_IF_ERROR(failure);
  out.took_ms = ms_since(t0);
  return out;
}

namespace {

constexpr size_t kPrefixKeep = 100;          // items kept per cached prefix
constexpr size_t kPrefixScanCap = 400000;    // postings scanned to rank a short prefix
constexpr size_t kLongPrefixSample = 5000;   // first matches ranked for a longer prefix
constexpr size_t kPrefixCacheEntries = 50000;
constexpr auto kPrefixFresh = std::chrono::seconds(2);
constexpr auto kPrefixMaxAge = std::chrono::seconds(30);

// The query for "some word starts with `prefix`": one posting list up to kMaxPrefixChars,
// else the most frequent expansions of the prefix.
Xapian::Query prefix_query(const std::string& prefix) {
  if (first_chars(prefix, kMaxPrefixChars).size() == prefix.size()) {
    return Xapian::Query("P" + prefix);
  }
  return Xapian::Query(Xapian::Query::OP_WILDCARD, "T" + prefix, 32,
                       Xapian::Query::WILDCARD_LIMIT_MOST_FREQUENT);
}

// The most frequent vocabulary words under the prefix.
std::vector<std::string> completions_of(Xapian::Database& db, const std::string& prefix,
                                        size_t limit) {
  std::vector<std::pair<Xapian::doccount, std::string>> vocab;
  const std::string t_prefix = "T" + prefix;
  for (auto t = db.allterms_begin(t_prefix); t != db.allterms_end(t_prefix); ++t) {
    vocab.emplace_back(t.get_termfreq(), (*t).substr(1));
    if (vocab.size() >= 2000) break;
  }
  const size_t n = std::min(limit, vocab.size());
  std::partial_sort(vocab.begin(), vocab.begin() + static_cast<std::ptrdiff_t>(n), vocab.end(),
                    [](const auto& a, const auto& b) {
                      return a.first != b.first ? a.first > b.first : a.second < b.second;
                    });
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) out.push_back(std::move(vocab[i].second));
  return out;
}

// Whole vocabulary words that the typed prefix reaches within its typo budget ("chocla" ->
// chocolate), nearest and most frequent first; none for short prefixes.
std::vector<std::string> prefix_typo_words(const fuzzy::LiveDictionary& vocab,
                                           const std::string& prefix,
                                           const std::optional<fuzzy::TypoBudget>& budget) {
  std::vector<std::string> out;
  if (!budget) return out;  // typo tolerance off
  const fuzzy::LevenshteinOptions opts = fuzzy::typo_options(prefix, *budget, true);
  if (opts.max_distance == 0) return out;
  for (const auto& m : vocab.search(prefix, opts, 16)) {
    if (m.distance > 0) out.push_back(m.term);
  }
  return out;
}

// Items whose title or brand has one of `words`, ranked by popularity, appended to `items`
// (up to kPrefixKeep, no repeats).
void add_items_with_words(Xapian::Database& db, const State& st,
                          const std::vector<std::string>& words, std::vector<ItemRef>* items) {
  if (words.empty() || items->size() >= kPrefixKeep) return;
  std::vector<Xapian::Query> qs;
  for (const auto& w : words) qs.emplace_back("T" + w);
  Xapian::Enquire enquire(db);
  enquire.set_query(Xapian::Query(Xapian::Query::OP_OR, qs.begin(), qs.end()));
  enquire.set_weighting_scheme(Xapian::BoolWeight());
  enquire.set_docid_order(Xapian::Enquire::ASCENDING);
  Xapian::MSet mset = enquire.get_mset(0, kLongPrefixSample);
  std::vector<std::pair<double, ItemRef>> found;
  absl::flat_hash_set<ItemRef> seen(items->begin(), items->end());
  for (auto it = mset.begin(); it != mset.end(); ++it) {
    const ItemRef ref = ref_of(*it);
    if (st.item_at(ref) && !seen.contains(ref)) found.emplace_back(-popularity(st, ref), ref);
  }
  std::sort(found.begin(), found.end());
  for (const auto& [neg, ref] : found) {
    if (items->size() >= kPrefixKeep) break;
    items->push_back(ref);
  }
}

// Ranks the items under a lone prefix by popularity (then item order). `block_max` bounds the
// popularity of each block of kPopularityBlock refs: once kPrefixKeep items are held,
// the scan skips every block that cannot beat the weakest of them, and stops when no later
// block can.
std::vector<ItemRef> top_items_for_prefix(Xapian::Database& db, const State& st,
                                          const std::string& prefix,
                                          const std::vector<double>& block_max) {
  using Scored = std::pair<double, ItemRef>;  // min-heap on (popularity, -ref)
  auto worse = [](const Scored& a, const Scored& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  };
  std::vector<Scored> heap;
  auto offer = [&](Xapian::docid did) {
    const ItemRef ref = ref_of(did);
    if (!st.item_at(ref)) return;
    Scored s{popularity(st, ref), ref};
    if (heap.size() < kPrefixKeep) {
      heap.push_back(s);
      std::push_heap(heap.begin(), heap.end(), worse);
    } else if (worse(s, heap.front())) {
      std::pop_heap(heap.begin(), heap.end(), worse);
      heap.back() = s;
      std::push_heap(heap.begin(), heap.end(), worse);
    }
  };
  if (first_chars(prefix, kMaxPrefixChars).size() == prefix.size()) {
    // Postings come in ref order, so an item of a block no better than the weakest held one
    // (ties go to the lower ref, already held) cannot enter.
    constexpr ItemRef kBlock = kPopularityBlock;
    auto bound = [&](size_t block) { return block < block_max.size() ? block_max[block] : 0.0; };
    const size_t blocks = block_max.size();
    size_t scanned = 0;
    const std::string term = "P" + prefix;
    auto p = db.postlist_begin(term);
    const auto end = db.postlist_end(term);
    while (p != end && scanned < kPrefixScanCap) {
      const ItemRef ref = ref_of(*p);
      if (heap.size() == kPrefixKeep && bound(ref / kBlock) <= heap.front().first) {
        size_t next = ref / kBlock + 1;
        while (next < blocks && block_max[next] <= heap.front().first) ++next;
        if (next >= blocks) break;
        p.skip_to(docid_of(static_cast<ItemRef>(next * kBlock)));
        continue;
      }
      offer(*p);
      ++p;
      ++scanned;
    }
  } else {
    // Weightless, in docid order: Xapian stops after the first kLongPrefixSample matches.
    Xapian::Enquire enquire(db);
    enquire.set_query(prefix_query(prefix));
    enquire.set_weighting_scheme(Xapian::BoolWeight());
    enquire.set_docid_order(Xapian::Enquire::ASCENDING);
    Xapian::MSet mset = enquire.get_mset(0, kLongPrefixSample);
    for (auto it = mset.begin(); it != mset.end(); ++it) offer(*it);
  }
  std::sort_heap(heap.begin(), heap.end(), worse);
  std::vector<ItemRef> out;
  for (const auto& [score, ref] : heap) out.push_back(ref);
  return out;
}

}  // namespace

Result<SuggestResponse> CatalogIndex::suggest(const SuggestRequest& req) const {
  const auto t0 = std::chrono::steady_clock::now();
  const Rep& r = *rep_;
  if (r.store == nullptr) return Status::unavailable("index is not attached to a store");
  if (req.items > kMaxPerPage || req.completions > kMaxPerPage) {
    return Status::invalid("expected at most " + std::to_string(kMaxPerPage), "items");
  }
  auto parsed = parse_query(req.q, false);
  if (!parsed.ok()) return parsed.status();
  const DocumentBuilder& builder = r.query_builder();
  auto filters = filter_query(builder.analyzer(), req.filters);
  if (!filters.ok()) return filters.status();
  auto budget = typo_budget(req.typos, r.opts.typos);
  if (!budget.ok()) return budget.status();
  std::optional<fuzzy::TypoBudget> typo_budget_used;
  if (req.typo_tolerance) typo_budget_used = *budget;
  // Only answers with the index's own typo settings are cached.
  const bool cacheable = req.typo_tolerance && (!req.typos || *req.typos == r.opts.typos);

  // Earlier words are whole words; the last one is a prefix (unless the text ends in a space).
  std::vector<Token> tokens;
  builder.analyzer().analyze(req.q, &tokens);
  std::vector<std::string> words;
  for (auto& t : tokens) {
    if (!t.joined && t.text.size() <= kMaxTermBytes) words.push_back(std::move(t.text));
  }
  const bool open_prefix = !req.q.empty() && req.q.back() != ' ' && !words.empty();
  std::string prefix;
  if (open_prefix) {
    prefix = words.back();
    words.pop_back();
  }

  SuggestResponse out;
  Status failure;
  r.store->read([&](const State& st) {
    try {
      Xapian::Database& db = r.reader();
      absl::flat_hash_set<std::string> matched(words.begin(), words.end());
      auto add_item = [&](ItemRef ref, double score) {
        const Item* item = st.item_at(ref);
        if (!item) return;
        SearchHit h = make_hit(*item, st.item_id(ref));
        h.score = score;
        h.title_highlighted = highlight(builder, item->data.title, matched, prefix);
        out.items.push_back(std::move(h));
      };
      std::vector<std::string> completions;
      if (words.empty() && req.filters.empty() && !prefix.empty() && cacheable) {
        // The lone prefix: from the cache, or computed once and kept.
        const uint64_t gen = r.generation.load();
        const auto now = std::chrono::steady_clock::now();
        std::shared_ptr<const Rep::PrefixAnswer> answer;
        {
          std::lock_guard lock(r.prefix_mu);
          auto it = r.prefix_cache.find(prefix);
          if (it != r.prefix_cache.end()) {
            const auto age = now - it->second->computed;
            if (age < kPrefixMaxAge && (it->second->generation == gen || age < kPrefixFresh)) {
              answer = it->second;
            }
          }
        }
        if (!answer) {
          auto fresh = std::make_shared<Rep::PrefixAnswer>();
          std::vector<double> block_max;
          {
            std::lock_guard lock(r.popularity_mu);
            block_max = r.popularity_block_max;
          }
          fresh->items = top_items_for_prefix(db, st, prefix, block_max);
          fresh->completions = completions_of(db, prefix, kPrefixKeep / 10);
          // Typos in what was typed so far: after the exact prefix's items and completions.
          const auto typo_words = prefix_typo_words(*r.vocab, prefix, typo_budget_used);
          add_items_with_words(db, st, typo_words, &fresh->items);
          for (const auto& w : typo_words) {
            if (fresh->completions.size() >= kPrefixKeep / 10) break;
            if (std::find(fresh->completions.begin(), fresh->completions.end(), w) ==
                    fresh->completions.end() &&
                db.term_exists("T" + w)) {
              fresh->completions.push_back(w);
            }
          }
          fresh->generation = gen;
          fresh->computed = now;
          std::lock_guard lock(r.prefix_mu);
          if (r.prefix_cache.size() >= kPrefixCacheEntries) r.prefix_cache.clear();
          r.prefix_cache[prefix] = fresh;
          answer = std::move(fresh);
        }
        for (ItemRef ref : answer->items) {
          if (out.items.size() >= req.items) break;
          add_item(ref, popularity(st, ref));
        }
        completions = answer->completions;
        if (completions.size() > req.completions) completions.resize(req.completions);
      } else {
        std::vector<Xapian::Query> parts;
        for (const auto& w : words) parts.push_back(word_query(builder, SynonymMap{}, w, nullptr));
        if (!prefix.empty()) {
          std::vector<Xapian::Query> alts{prefix_query(prefix)};
          for (const auto& w : prefix_typo_words(*r.vocab, prefix, typo_budget_used)) {
            alts.emplace_back(Xapian::Query::OP_SCALE_WEIGHT, Xapian::Query("T" + w),
                              kTypoWeight[1]);
          }
          parts.emplace_back(Xapian::Query::OP_OR, alts.begin(), alts.end());
          completions = completions_of(db, prefix, req.completions);
        }
        Xapian::Enquire enquire(db);
        enquire.set_query(Xapian::Query(Xapian::Query::OP_FILTER, and_all(parts), *filters));
        Xapian::MSet mset = enquire.get_mset(0, static_cast<Xapian::doccount>(req.items));
        for (auto it = mset.begin(); it != mset.end(); ++it) add_item(ref_of(*it), it.get_weight());
      }
      std::string head;
      for (const auto& w : words) head += w + " ";
      for (const auto& c : completions) out.completions.push_back(head + c);
    } catch (const Xapian::DatabaseCorruptError& e) {
      r.mark_damaged(std::string("suggest: ") + e.get_msg());
      failure = Status::internal("suggest failed: the index is damaged and is rebuilt on the next start");
    } catch (const Xapian::Error& e) {
      failure = Status::internal(std::string("suggest failed in the index (") + e.get_type() + ")");
    }
  });
  TROVE_RETURN_IF_ERROR(failure);
  out.took_ms = ms_since(t0);
  return out;
}

Result<std::vector<FuzzyTerm>> CatalogIndex::fuzzy_terms(std::string_view text, int max_distance,
                                                         bool prefix, size_t limit) const {
  const Rep& r = *rep_;
  if (max_distance < -1 || max_distance > 3) {
    return Status::invalid("expected 0..3 (or -1 for the typo budget), got " +
                               std::to_string(max_distance),
                           "max_distance");
  }
  if (limit < 1 || limit > 1000) return Status::invalid("expected 1..1000", "limit");
  auto parsed = parse_query(text, false);
  if (!parsed.ok()) return parsed.status();
  std::vector<Token> tokens;
  r.query_builder().analyzer().analyze(text, &tokens);
  std::string term;
  for (const auto& t : tokens) {
    if (!t.joined) {
      term = t.text;
      break;
    }
  }
  if (term.empty()) return Status::invalid("no word in the text", "term");
  auto budget = typo_budget(std::nullopt, r.opts.typos);
  if (!budget.ok()) return budget.status();
  fuzzy::LevenshteinOptions opts = fuzzy::typo_options(term, *budget, prefix);
  if (max_distance >= 0) {
    opts.max_distance = static_cast<uint8_t>(max_distance);
    opts.first_char_costs_double = false;
  }
  std::vector<FuzzyTerm> out;
  for (const auto& m : r.vocab->search(term, opts, limit)) {
    out.push_back({m.term, m.distance, m.frequency});
  }
  return out;
}

size_t CatalogIndex::vocabulary_size() const { return rep_->vocab->base()->size() + rep_->vocab->delta_size(); }

}  // namespace trove
