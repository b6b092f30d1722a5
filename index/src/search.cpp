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

double popularity(const State& s, ItemRef ref) {
  const ItemCounters* c = s.item_counters(ref);
  if (!c) return 0;
  return 5.0 * static_cast<double>(c->purchases) + 2.0 * static_cast<double>(c->cart_adds) +
         2.0 * static_cast<double>(c->clicks) + static_cast<double>(c->views);
}

// Sort keys computed from the live State (popularity changes with every event, so it is not
// stored in the index).
class StateKey : public Xapian::KeyMaker {
 public:
  enum Kind { kPopularity, kPriceAsc, kPriceDesc };
  StateKey(const State& s, Kind k) : s_(s), k_(k) {}
  std::string operator()(const Xapian::Document& doc) const override {
    const ItemRef ref = ref_of(doc.get_docid());
    if (k_ == kPopularity) return Xapian::sortable_serialise(popularity(s_, ref));
    const Item* item = s_.item_at(ref);
    if (!item || !item->data.price) return k_ == kPriceAsc ? std::string("\xff\xff") : std::string();
    return Xapian::sortable_serialise(*item->data.price);
  }

 private:
  const State& s_;
  Kind k_;
};

// Counts facet values over every match, reading the items from the State by docid.
class FacetSpy : public Xapian::MatchSpy {
 public:
  FacetSpy(const State& s, bool brand, bool category, bool price)
      : s_(s), brand_(brand), category_(category), price_(price) {}
  void operator()(const Xapian::Document& doc, double) override {
    const Item* item = s_.item_at(ref_of(doc.get_docid()));
    if (!item) return;
    const ItemUpsert& d = item->data;
    if (brand_ && d.brand) ++brands_[*d.brand];
    if (category_ && d.categories) {
      std::set<std::string> seen;  // an item counts once per path prefix
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
            seen.insert(prefix);
          }
          start = end + 1;
        }
      }
      for (const auto& p : seen) ++categories_[p];
    }
    if (price_ && d.price) {
      size_t b = 0;
      while (b + 1 < kPriceEdges.size() && *d.price >= kPriceEdges[b + 1]) ++b;
      ++prices_[b];
    }
  }
  std::vector<Facet> facets(const std::vector<std::string>& order) const {
    auto top = [](const absl::flat_hash_map<std::string, uint64_t>& m) {
      std::vector<FacetValue> v;
      for (const auto& [k, n] : m) v.push_back({k, n});
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
  static std::string fmt_edge(double v) { return std::to_string(static_cast<int64_t>(v)); }
  const State& s_;
  bool brand_, category_, price_;
  absl::flat_hash_map<std::string, uint64_t> brands_, categories_;
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
  if (qs.empty()) return Xapian::Query::MatchAll;
  return qs.size() == 1 ? qs[0] : Xapian::Query(Xapian::Query::OP_AND, qs.begin(), qs.end());
}

}  // namespace

Result<SearchResponse> CatalogIndex::search(const SearchRequest& req) const {
  const auto t0 = std::chrono::steady_clock::now();
  const Rep& r = *rep_;
  if (r.store == nullptr) return Status::unavailable("index is not attached to a store");
  TROVE_RETURN_IF_ERROR(check_paging(req.page, req.per_page));
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
      for (const auto& c : parsed->clauses) {
        Xapian::Query q = c.kind == Clause::kWord || c.kind == Clause::kExcludeWord
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
      // combination that finds the most.
      if (words.size() > 1 && enquire.get_mset(0, 1).empty()) {
        const size_t n = std::min(words.size(), kMaxRelaxWords);
        bool found = false;
        for (size_t drop = 1; drop < n && !found; ++drop) {
          Xapian::doccount best = 0;
          std::vector<size_t> best_keep;
          for (uint32_t mask = 0; mask < (1u << n); ++mask) {
            if (static_cast<size_t>(__builtin_popcount(mask)) != n - drop) continue;
            std::vector<size_t> k;
            for (size_t i = 0; i < n; ++i) {
              if (mask & (1u << i)) k.push_back(i);
            }
            Xapian::Enquire probe(db);
            probe.set_query(compose(k));
            const Xapian::doccount count = probe.get_mset(0, 0, db.get_doccount()).get_matches_estimated();
            if (count > best) best = count, best_keep = k;
          }
          if (best > 0) {
            found = true;
            for (size_t i = 0; i < n; ++i) {
              if (std::find(best_keep.begin(), best_keep.end(), i) == best_keep.end()) {
                out.dropped_terms.push_back(word_text[i]);
              }
            }
            query = compose(best_keep);
            enquire.set_query(query);
          }
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
        spy = std::make_unique<FacetSpy>(st, has("brand"), has("category"), has("price"));
        enquire.add_matchspy(spy.get());
      }
      const Xapian::doccount check = spy ? db.get_doccount() : 0;
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
          if (req.explain) h.matched_terms.push_back(*t);
        }
        h.title_highlighted = highlight(builder, item->data.title, matched);
        out.hits.push_back(std::move(h));
      }
      if (spy) out.facets = spy->facets(req.facets);
      if (req.explain) out.query_explained = query.get_description();
    } catch (const Xapian::Error& e) {
      failure = Status::internal(std::string("search failed in the index (") + e.get_type() + ")");
    }
  });
  TROVE_RETURN_IF_ERROR(failure);
  out.took_ms = ms_since(t0);
  return out;
}

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
      std::vector<Xapian::Query> parts;
      for (const auto& w : words) parts.push_back(word_query(builder, SynonymMap{}, w, nullptr));
      std::vector<std::string> completions;  // candidate last words, most frequent first
      if (!prefix.empty()) {
        const std::string short_prefix = first_chars(prefix, kMaxPrefixChars);
        if (short_prefix.size() == prefix.size()) {
          parts.emplace_back("P" + prefix);  // one posting list, however common the prefix
        } else {
          parts.emplace_back(Xapian::Query::OP_WILDCARD, prefix, 64,
                             Xapian::Query::WILDCARD_LIMIT_MOST_FREQUENT);
        }
        // Completions: the most frequent vocabulary words under the prefix.
        std::vector<std::pair<Xapian::doccount, std::string>> vocab;
        for (auto t = db.allterms_begin(prefix); t != db.allterms_end(prefix); ++t) {
          vocab.emplace_back(t.get_termfreq(), *t);
          if (vocab.size() >= 2000) break;
        }
        std::sort(vocab.begin(), vocab.end(), [](const auto& a, const auto& b) {
          return a.first != b.first ? a.first > b.first : a.second < b.second;
        });
        for (const auto& [freq, term] : vocab) {
          if (completions.size() >= req.completions) break;
          completions.push_back(term);
        }
      }
      Xapian::Query q = Xapian::Query(Xapian::Query::OP_FILTER, and_all(parts), *filters);
      Xapian::Enquire enquire(db);
      enquire.set_query(q);
      StateKey key(st, StateKey::kPopularity);
      enquire.set_sort_by_relevance_then_key(&key, true);
      Xapian::MSet mset = enquire.get_mset(0, static_cast<Xapian::doccount>(req.items));
      absl::flat_hash_set<std::string> matched(words.begin(), words.end());
      for (auto it = mset.begin(); it != mset.end(); ++it) {
        const ItemRef ref = ref_of(*it);
        const Item* item = st.item_at(ref);
        if (!item) continue;
        SearchHit h = make_hit(*item, st.item_id(ref));
        h.score = it.get_weight();
        h.title_highlighted = highlight(builder, item->data.title, matched, prefix);
        out.items.push_back(std::move(h));
      }
      std::string head;
      for (const auto& w : words) head += w + " ";
      for (const auto& c : completions) out.completions.push_back(head + c);
    } catch (const Xapian::Error& e) {
      failure = Status::internal(std::string("suggest failed in the index (") + e.get_type() + ")");
    }
  });
  TROVE_RETURN_IF_ERROR(failure);
  out.took_ms = ms_since(t0);
  return out;
}

}  // namespace trove
