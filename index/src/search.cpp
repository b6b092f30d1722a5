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

#include "facets.h"
#include "hits.h"
#include "index_rep.h"
#include "ranking.h"
#include "sorting.h"

namespace trove {
namespace {

using namespace index_internal;

constexpr size_t kMaxDepth = 10000;  // page * per_page
constexpr size_t kMaxRelaxWords = 8;

constexpr size_t kTypoRankWindow = 100;

// The edits a hit needed: for each typed word that got typo variants and that the hit matched
// only through them, the distance of its nearest matched variant. `matched`: the hit's
// matching terms.
unsigned typo_cost(std::vector<std::string> matched,
                   const std::map<std::string, TypoVariant>& variants,
                   const std::map<std::string, std::vector<std::string>>& exact_forms) {
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

// A hit's matching terms, in the query's order (Xapian reads the document's term list).
std::vector<std::string> matching_terms(const Xapian::Enquire& enquire,
                                        const Xapian::MSetIterator& hit) {
  return {enquire.get_matching_terms_begin(hit), enquire.get_matching_terms_end(hit)};
}

unsigned typo_cost(const Xapian::Enquire& enquire, const Xapian::MSetIterator& hit,
                   const std::map<std::string, TypoVariant>& variants,
                   const std::map<std::string, std::vector<std::string>>& exact_forms) {
  return typo_cost(matching_terms(enquire, hit), variants, exact_forms);
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

// ---- The search path, stage by stage: plan the query (words, synonyms, splits and joins,
// typo variants, stopwords, the exact title), relax it when it finds nothing, retrieve the
// hits in tiers (no typo before typos), rank the first kRerankWindow (a re-ranking: the
// catalog's signal or a person's affinity), render the page. ----

// 1. What each typed word, phrase and exclusion matches.
struct QueryPlan {
  std::vector<Xapian::Query> words;        // required: exact, stem, synonyms, split, typos
  std::vector<Xapian::Query> exact_words;  // the same without typo variants
  std::vector<std::string> word_text;      // as typed (a merged unit: its words, spaced)
  std::vector<Xapian::Query> must, exclude;  // phrases; exclusions
  std::vector<Xapian::Query> optional;     // add to the score only: exact title, stopwords
  std::map<std::string, TypoVariant> variants;
  std::map<std::string, std::vector<std::string>> exact_forms;
  bool match_all = false;

  bool nothing_to_match() const { return words.empty() && must.empty() && !match_all; }

  // The words `keep` (indices into `words`), with or without their typo variants, with the
  // phrases, the optional parts and the exclusions, under `filters`.
  Xapian::Query compose(const std::vector<size_t>& keep, bool with_typos,
                        const Xapian::Query& filters) const {
    std::vector<Xapian::Query> parts = must;
    for (size_t i : keep) parts.push_back(with_typos ? words[i] : exact_words[i]);
    Xapian::Query q = and_all(parts);
    if (!optional.empty()) {
      q = Xapian::Query(Xapian::Query::OP_AND_MAYBE, q,
                        Xapian::Query(Xapian::Query::OP_OR, optional.begin(), optional.end()));
    }
    if (!exclude.empty()) {
      q = Xapian::Query(Xapian::Query::OP_AND_NOT, q,
                        Xapian::Query(Xapian::Query::OP_OR, exclude.begin(), exclude.end()));
    }
    // No filter: no FILTER over every document. Besides sparing a posting list: with it, the
    // typo tier's AND_NOT (Xapian 1.4.22) let a document of its right side through now and
    // then, so an exact hit showed twice (a few of 20,000 searches of goodbooks' titles, not
    // the same ones from run to run; why is not known).
    if (filters.get_type() == Xapian::Query::LEAF_MATCH_ALL) return q;
    return Xapian::Query(Xapian::Query::OP_FILTER, q, filters);
  }
  std::vector<size_t> all_words() const {
    std::vector<size_t> keep(words.size());
    for (size_t i = 0; i < keep.size(); ++i) keep[i] = i;
    return keep;
  }
};

// `lookup_variants` (with typo tolerance on): `words` with their typo variants; without,
// `words` are the exact words.
QueryPlan plan_query(const DocumentBuilder& builder, const fuzzy::LiveDictionary& vocab,
                     Xapian::Database& db, const ParsedQuery& parsed,
                     const SynonymMap& synonyms, const fuzzy::TypoBudget& budget,
                     bool typo_tolerance, bool lookup_variants) {
  QueryPlan plan;
  plan.match_all = parsed.match_all;
  const bool variants = typo_tolerance && lookup_variants;
  TypoContext typos{&vocab, budget, &plan.variants, &plan.exact_forms};
  TypoContext splits_only = typos;  // a word written as two catalog words is no typo
  splits_only.lookup_variants = false;
  const TypoContext* exact_ctx = typo_tolerance ? &splits_only : nullptr;
  for (const auto& c : parsed.clauses) {
    if (c.kind == Clause::kWord) {
      Xapian::Query exact = word_query(builder, synonyms, c.text, nullptr, exact_ctx);
      if (exact.empty()) continue;
      plan.words.push_back(variants ? word_query(builder, synonyms, c.text, nullptr, &typos)
                               : exact);
      plan.exact_words.push_back(std::move(exact));
      plan.word_text.push_back(c.text);
      continue;
    }
    // Typo variants for words to find, never for words to exclude.
    Xapian::Query q = c.kind == Clause::kExcludeWord ? word_query(builder, synonyms, c.text, nullptr)
                                                     : phrase_query(builder, c.text);
    if (q.empty()) continue;
    (c.kind == Clause::kPhrase ? plan.must : plan.exclude).push_back(std::move(q));
  }
  std::vector<std::string> exact_text = plan.word_text;
  merge_synonym_phrases(builder.analyzer(), synonyms, &plan.exact_words, &exact_text);
  merge_synonym_phrases(builder.analyzer(), synonyms, &plan.words, &plan.word_text);
  if (typo_tolerance) {
    merge_joined_pairs(builder.analyzer(), vocab, &plan.exact_words, &exact_text);
    merge_joined_pairs(builder.analyzer(), vocab, &plan.words, &plan.word_text);
  }
  if (plan.nothing_to_match()) return plan;
  // An item whose title is exactly the words typed comes first (kExactTitleWeight).
  std::string typed;
  for (const auto& t : plan.word_text) typed += t + " ";
  const std::string e = exact_title_term(builder.analyzer(), typed);
  if (!e.empty() && db.term_exists(e)) {
    plan.optional.emplace_back(Xapian::Query::OP_SCALE_WEIGHT, Xapian::Query(e), kExactTitleWeight);
  }
  for (auto& q : take_stopwords(builder.analyzer(), synonyms.stopwords, &plan.words,
                                &plan.exact_words, &plan.word_text)) {
    plan.optional.push_back(std::move(q));
  }
  return plan;
}

// 2. Relaxation, when all the words together found nothing: drop as few as possible, keeping
// the combination that finds the most. A word that finds nothing on its own is in no
// combination that finds something, so it goes first; the search over combinations then
// covers the first kMaxRelaxWords of the others (at most 2^8 probes). Returns the words kept
// (all of them when no combination finds anything) and lists the others in `dropped`.
std::vector<size_t> drop_words(Xapian::Database& db, const QueryPlan& plan,
                               const Xapian::Query& filters, std::vector<std::string>* dropped) {
  const std::vector<size_t> all = plan.all_words();
  auto count = [&](const std::vector<size_t>& k) {
    Xapian::Enquire probe(db);
    probe.set_query(plan.compose(k, true, filters));
    return probe.get_mset(0, 0, db.get_doccount()).get_matches_estimated();
  };
  std::vector<size_t> live;
  for (size_t i = 0; i < plan.words.size(); ++i) {
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
  if (best_keep.empty()) return all;
  for (size_t i = 0; i < plan.words.size(); ++i) {
    if (std::find(best_keep.begin(), best_keep.end(), i) == best_keep.end()) {
      dropped->push_back(plan.word_text[i]);
    }
  }
  return best_keep;
}

// 3. Retrieval: the hits of a page (or of the re-ranking window) in rank order, each as the
// enquire that found it, its place in that enquire's MSet and, when known, the edits it
// needed. Not copyable: `order` points into its own members.
struct Found {
  const Xapian::Enquire* by;
  Xapian::MSetIterator it;
  int typos;  // -1: not counted (render_hit reads the hit's terms)
};

struct Retrieval {
  explicit Retrieval(Xapian::Database& db) : enquire(db), exact(db), typo(db) { msets.reserve(3); }
  Retrieval(const Retrieval&) = delete;
  Retrieval& operator=(const Retrieval&) = delete;

  // The whole query (what the answer is: its sort, its facets, explain's query); its
  // typo-free and typo-only tiers.
  Xapian::Enquire enquire, exact, typo;
  std::vector<Xapian::MSet> msets;  // keeps the iterators' MSets alive
  std::vector<Found> order;
  uint64_t total = 0;
  bool total_exact = false;
  size_t exact_total = 0;  // matches of the exact tier (fetch_exact_tier), and at least
  size_t exact_at_least = 0;
  bool exact_total_exact = false;
  // The words and typo variants of the answer's query (set_answer), for counting facets
  // under other filters (disjunctive_facets).
  std::vector<size_t> answer_words;
  bool answer_typos = false;
  size_t typo_seen = 0;  // hits of the typo tier fetched (fetch_typo_tier), each a match
  bool typo_all_seen = false;  // ... and those were all its matches, each costed

  void clear() {
    order.clear();
    msets.clear();
    total = exact_total = exact_at_least = typo_seen = 0;
    total_exact = exact_total_exact = typo_all_seen = false;
  }
};

// A query that fetches no hits counts its matches exactly up to this many, and estimates
// beyond (SearchResponse::total_exact), as Meilisearch's estimatedTotalHits: counting reads
// every match's postings.
//
// A query that fetches hits never counts past its page (unless it counts every match): over
// several shards, Xapian 1.4.22 asked for the first 10 hits and to check 100 matches of 119
// left a hit of weight 75.45 out of the 10 and put one of 64.07 in ("curly" over Open Food
// Facts, `((0.5 Zcur OR 0.5 cur) AND_MAYBE curly) AND_MAYBE 4 Ecurly`; right with 10, 50 or
// 1,000, and on either shard alone).
constexpr Xapian::doccount kCountedMatches = 100;

// What to fetch: `first` and `count` hits of the whole query; `check`: every match with
// facets (the spy sees them all), kCountedMatches otherwise.
struct Fetch {
  size_t first = 0, count = 0;
  Xapian::doccount check = 0;
  bool facets = false;
};

bool exact_count(const Xapian::MSet& m) {
  return m.get_matches_lower_bound() == m.get_matches_upper_bound();
}

// The matches of `e`'s query after it fetched `page` (or after get_mset(0, 0, 0), Xapian's
// estimate from the term statistics, no posting read): counted apart when they cannot exceed
// `check`, else `page`'s estimate. Never a count asked for blindly: asked for no items and
// `check` matches, Xapian 1.4 reads every posting anyway (5.4 ms of a 10 ms search for
// "chocolate" over 818,775 products, for the same estimate).
Xapian::MSet counted(Xapian::Enquire& e, const Xapian::MSet& page, Xapian::doccount check) {
  if (exact_count(page) || page.get_matches_upper_bound() > check) return page;
  return e.get_mset(0, 0, check);
}

// Typo variants are looked up only when the words as typed (with their stems, synonyms,
// splits and joins) match fewer items than this, as Typesense's typo_tokens_threshold: a
// query whose words find a page of items has its answer, and the variants (a fuzzy lookup a
// word, a posting list a variant and shard) would only add hits after all of those.
constexpr size_t kTypoThreshold = 10;

// By relevance, typos rank last: every hit that matches all its words without a typo
// precedes every hit that needed one (two queries, so this holds on every page), and among the
// others, in their first kTypoRankWindow, fewer edits rank first. Weight orders each tier.
//
// The exact tier: the page's hits that need no typo. The fetch counts to the page's end and at
// least to kTypoThreshold (kCountedMatches says why no further); r.exact_total is then
// counted apart when it can be no more than kCountedMatches (counted()), else estimated.
void fetch_exact_tier(Retrieval& r, const Xapian::Query& exact_query, const Fetch& f) {
  r.exact.set_query(exact_query);
  const size_t check = std::max(f.first + f.count, kTypoThreshold);
  r.msets.push_back(r.exact.get_mset(static_cast<Xapian::doccount>(f.first),
                                     static_cast<Xapian::doccount>(f.count),
                                     static_cast<Xapian::doccount>(check)));
  const Xapian::MSet& tier0 = r.msets.back();
  for (auto it = tier0.begin(); it != tier0.end(); ++it) r.order.push_back({&r.exact, it, 0});
  const Xapian::MSet count = f.facets ? tier0 : counted(r.exact, tier0, f.check);
  r.exact_total = count.get_matches_estimated();
  r.exact_at_least = count.get_matches_lower_bound();
  r.exact_total_exact = exact_count(count);
}

// The typo tier, when the exact tier left the page short: the whole query's other hits
// (r.enquire's query AND_NOT the exact one), fewest edits first.
void fetch_typo_tier(Retrieval& r, const QueryPlan& plan, const Fetch& f) {
  if (r.order.size() >= f.count) return;
  const size_t from = f.first > r.exact_total ? f.first - r.exact_total : 0;
  const size_t want = f.count - r.order.size();
  r.typo.set_query(
      Xapian::Query(Xapian::Query::OP_AND_NOT, r.enquire.get_query(), r.exact.get_query()));
  const size_t asked = std::max(kTypoRankWindow, from + want);
  r.msets.push_back(r.typo.get_mset(0, static_cast<Xapian::doccount>(asked)));
  const Xapian::MSet& tier1 = r.msets.back();
  std::vector<std::pair<unsigned, Xapian::MSetIterator>> ranked;
  for (auto it = tier1.begin(); it != tier1.end(); ++it) {
    const bool in_window = ranked.size() < kTypoRankWindow;
    const unsigned cost = in_window ? typo_cost(r.typo, it, plan.variants, plan.exact_forms) : ~0u;
    // A hit that needed no typo belongs to the exact tier, which has shown it already.
    if (cost == 0) continue;
    ranked.emplace_back(cost, it);
  }
  r.typo_seen = ranked.size();
  r.typo_all_seen = tier1.size() < asked && tier1.size() <= kTypoRankWindow;
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (size_t i = from; i < ranked.size() && r.order.size() < f.count; ++i) {
    const unsigned cost = ranked[i].first;
    r.order.push_back({&r.typo, ranked[i].second, cost == ~0u ? -1 : static_cast<int>(cost)});
  }
}

// Any other order (a sort, or typo tolerance off): one query, r.enquire's, counted apart when
// the page did not count it (kCountedMatches).
void retrieve_plain(Retrieval& r, const Fetch& f) {
  const auto page_end = static_cast<Xapian::doccount>(f.first + f.count);
  r.msets.push_back(r.enquire.get_mset(static_cast<Xapian::doccount>(f.first),
                                       static_cast<Xapian::doccount>(f.count),
                                       f.facets ? f.check : page_end));
  const Xapian::MSet& page = r.msets.back();
  for (auto it = page.begin(); it != page.end(); ++it) r.order.push_back({&r.enquire, it, -1});
  const Xapian::MSet count = counted(r.enquire, page, f.check);
  r.total = count.get_matches_estimated();
  r.total_exact = exact_count(count);
}

// The answer's query: the words `kept`, with or without their typo variants, under `filters`.
void set_answer(Retrieval& r, const QueryPlan& plan, const std::vector<size_t>& kept,
                bool typos, const Xapian::Query& filters) {
  r.enquire.set_query(plan.compose(kept, typos, filters));
  r.answer_words = kept;
  r.answer_typos = typos;
}

bool finds_any(Xapian::Database& db, const Xapian::Query& query) {
  Xapian::Enquire probe(db);
  probe.set_query(query);
  return !probe.get_mset(0, 1).empty();
}

// Retrieval by relevance with typo tolerance: the exact tier first; typo variants (planned by
// `with_variants`, which replaces `plan`) only when it found fewer than kTypoThreshold; words
// dropped (drop_words) only when nothing at all matches them together. The spy on r.enquire
// (facets) sees no match before the answer's query is settled. Returns the words kept.
std::vector<size_t> retrieve_tiers(Xapian::Database& db, Retrieval& r, QueryPlan& plan,
                                   const std::function<QueryPlan()>& with_variants,
                                   const Xapian::Query& filters, const Fetch& f,
                                   std::vector<std::string>* dropped) {
  std::vector<size_t> kept = plan.all_words();
  const bool can_relax = plan.words.size() > 1;
  fetch_exact_tier(r, plan.compose(kept, false, filters), f);
  bool typos = r.exact_total < kTypoThreshold;
  if (typos) plan = with_variants();
  if (r.exact_total == 0 && can_relax && !finds_any(db, plan.compose(kept, true, filters))) {
    kept = drop_words(db, plan, filters, dropped);
    r.clear();
    fetch_exact_tier(r, plan.compose(kept, false, filters), f);
    typos = r.exact_total < kTypoThreshold;
  }
  typos = typos && !plan.exact_forms.empty();  // no word had a variant: no typo tier
  set_answer(r, plan, kept, typos, filters);
  r.total = r.exact_total;
  r.total_exact = r.exact_total_exact;
  if (!typos && !f.facets) return kept;
  if (typos) fetch_typo_tier(r, plan, f);
  if (!f.facets && r.exact_total_exact && r.typo_all_seen) {
    // Both tiers hold every match they have (the typo tier without the exact tier's, which
    // typo_cost skips): their sum is the count, with no query more.
    r.total = r.exact_total + r.typo_seen;
    r.total_exact = true;
    return kept;
  }
  // The total counts the whole query (every match with facets, for the spy), not the exact
  // tier plus the typo tier: over several shards Xapian 1.4.22 now and then counts in the typo
  // tier a document of its AND_NOT's right side (filter_facet_test.cpp saw it with filters).
  // Xapian's estimate can fall below what the tiers found (0 for "dark lover black" over
  // goodbooks: its words' variants put the upper bound past kCountedMatches): never less.
  r.msets.push_back(f.facets ? r.enquire.get_mset(0, 0, f.check) : counted(r.enquire, r.enquire.get_mset(0, 0, Xapian::doccount{0}), f.check));
  const size_t found = r.exact_at_least + r.typo_seen;
  r.total = std::max<size_t>(r.msets.back().get_matches_estimated(), found);
  r.total_exact = exact_count(r.msets.back()) && r.msets.back().get_matches_estimated() >= found;
  return kept;
}

// Retrieval in any other order: the whole query (typo variants with it, when typo tolerance
// is on), relaxed when it finds nothing.
std::vector<size_t> retrieve_sorted(Xapian::Database& db, Retrieval& r, const QueryPlan& plan,
                                    const Xapian::Query& filters, const Fetch& f,
                                    std::vector<std::string>* dropped) {
  std::vector<size_t> kept = plan.all_words();
  set_answer(r, plan, kept, true, filters);
  retrieve_plain(r, f);
  if (r.total == 0 && plan.words.size() > 1) {
    kept = drop_words(db, plan, filters, dropped);
    r.clear();
    set_answer(r, plan, kept, true, filters);
    retrieve_plain(r, f);
  }
  return kept;
}

// 5. Facets. A disjunctive facet (SearchRequest::disjunctive_facets) is counted under the
// filters but the conjuncts that test its field alone (`brand IN [A, B]` beside other
// conditions), so its other values stay counted while one is selected. One more match each.
void disjunctive_facets(Xapian::Database& db, const State& st, const Analyzer& analyzer,
                        const AttributeSchema& schema, const std::vector<FacetSpec>& specs,
                        const FacetAnswer& answer, const QueryPlan& plan, const Retrieval& r,
                        const Filter& filter, const std::vector<std::string>& disjunctive,
                        std::vector<Facet>* facets) {
  for (size_t i = 0; i < facets->size(); ++i) {
    Facet& facet = (*facets)[i];
    if (std::find(disjunctive.begin(), disjunctive.end(), facet.field) == disjunctive.end()) continue;
    const Filter rest = filter.without_field(facet.field);
    if (rest.to_string() == filter.to_string()) continue;
    Xapian::Enquire e(db);
    e.set_query(plan.compose(r.answer_words, r.answer_typos, filter_query(rest)));
    FacetSpy spy(st, analyzer, schema, {specs[i]});
    e.add_matchspy(&spy);
    e.get_mset(0, 0, db.get_doccount());
    facet = spy.facets(answer)[0];
  }
}

// The edits a hit needed: counted by its tier when it could be, else from its terms.
int typos_of(const QueryPlan& plan, const Found& h) {
  if (h.typos >= 0) return h.typos;
  if (plan.exact_forms.empty()) return 0;
  return static_cast<int>(typo_cost(*h.by, h.it, plan.variants, plan.exact_forms));
}

// 4. Ranking: the window's hits handed to `rerank` (under the Store's read lock), the page cut
// from its order: `r.order` becomes the page, and the page's candidates (score, typos, ranking)
// are returned in the same order.
std::vector<RerankCandidate> rank_window(
    const State& st, Retrieval& r, const QueryPlan& plan,
    const std::function<void(const State&, std::vector<RerankCandidate>&)>& rerank,
    size_t page_first, size_t per_page) {
  std::vector<RerankCandidate> ranked;
  for (size_t i = 0; i < r.order.size(); ++i) {
    const Found& h = r.order[i];
    const ItemRef ref = ref_of(*h.it);
    if (!st.item_at(ref)) continue;
    RerankCandidate c;
    c.id = st.item_id(ref);
    c.score = h.it.get_weight();
    c.typos = typos_of(plan, h);
    c.slot = i;
    ranked.push_back(std::move(c));
  }
  rerank(st, ranked);
  decltype(r.order) page;
  std::vector<RerankCandidate> out;
  for (size_t i = page_first; i < ranked.size() && page.size() < per_page; ++i) {
    page.push_back(r.order[ranked[i].slot]);
    page.back().typos = ranked[i].typos;
    out.push_back(std::move(ranked[i]));
  }
  r.order = std::move(page);
  return out;
}

// The terms of each enquire's query, the hits' highlighting without reading each hit's term
// list: a title word is highlighted when its term or its stem is one of the query's, which is
// when it is one of the hit's matching terms (the title's words are the document's terms).
struct QueryTerms {
  absl::flat_hash_map<const Xapian::Enquire*, absl::flat_hash_set<std::string>> of;
  const absl::flat_hash_set<std::string>& operator()(const Xapian::Enquire& e) {
    auto [it, fresh] = of.try_emplace(&e);
    if (fresh) {
      const Xapian::Query q = e.get_query();
      it->second.insert(q.get_unique_terms_begin(), q.get_unique_terms_end());
    }
    return it->second;
  }
};

// 5. A hit as the answer shows it: the item, its score and typos (from the ranking when there
// was one), the title and the fields asked for highlighted, and with explain the matched
// terms (the hit's terms, read then only).
SearchHit render_hit(const DocumentBuilder& builder, const AttributeSchema& schema,
                     const SortKey* by_distance, const Item& item, const std::string& id,
                     const QueryPlan& plan, const Found& found, QueryTerms& query_terms,
                     RerankCandidate* ranked, const SearchRequest& req) {
  SearchHit h = make_hit(item, id, schema);
  if (by_distance) {
    const auto v = schema.value(item, builder.analyzer().fold(by_distance->attribute));
    if (const auto p = v ? as_geo_point(*v) : std::nullopt) {
      h.geo_distance_metres = distance_metres(*by_distance->from, *p);
    }
  }
  h.score = found.it.get_weight();
  h.typos = typos_of(plan, found);
  if (ranked) {  // typos already counted for the candidates
    h.score = ranked->score;
    h.ranking = std::move(ranked->ranking);
  }
  h.title_highlighted = highlight(builder, item.data.title, query_terms(*found.by));
  if (!req.highlight.empty()) {
    h.highlights = field_highlights(builder, item, req.highlight, query_terms(*found.by), req.snippet_words);
  }
  if (!req.explain) return h;
  for (const std::string& t : matching_terms(*found.by, found.it)) {
    // "chocolate ~1 chocolat": a typo variant, its distance, and the word it stands for.
    auto v = plan.variants.find(t);
    if (v == plan.variants.end()) {
      if (auto shown = explained_term(t)) h.matched_terms.push_back(std::move(*shown));
    } else {
      h.matched_terms.push_back(t + " ~" + std::to_string(v->second.distance) + " " +
                                v->second.typed);
    }
  }
  return h;
}

}  // namespace

Result<SearchResponse> CatalogIndex::search(const SearchRequest& req) const {
  const auto t0 = std::chrono::steady_clock::now();
  const Rep& r = *rep_;
  if (r.store == nullptr) return Status::unavailable("index is not attached to a store");
  TROVE_RETURN_IF_ERROR(check_paging(req.page, req.per_page));
  const std::vector<SortKey> keys = sort_keys(req);
  std::optional<SearchSettingsUpsert> settings;
  AttributeSchema schema;
  r.store->read([&](const State& st) {
    schema = AttributeSchema::of(st);
    if (st.search_settings().signal.value_or(RankingSignal::kNone) != RankingSignal::kNone) {
      settings = st.search_settings();
    }
  });
  if (!req.rerank && by_relevance(keys) && settings) {
    // The catalog's business signal ranks relevance for everyone (ranking.h); a request with
    // its own re-ranking (personalized search) keeps that.
    SearchRequest ranked = req;
    ranked.rerank = signal_rerank(*settings, schema);
    return search(ranked);
  }
  TROVE_RETURN_IF_ERROR(check_sortable(keys, schema));
  auto budget = typo_budget(req.typos, typo_defaults());
  if (!budget.ok()) return budget.status();
  auto facet_specs = parse_facets(req.facets, schema);
  if (!facet_specs.ok()) return facet_specs.status();
  auto facet_answering = facet_answer(req, *facet_specs, *budget);
  if (!facet_answering.ok()) return facet_answering.status();
  TROVE_RETURN_IF_ERROR(check_highlight(req.highlight, req.snippet_words, schema));
  for (size_t i = 0; i < req.disjunctive_facets.size(); ++i) {
    if (std::none_of(facet_specs->begin(), facet_specs->end(),
                     [&](const FacetSpec& f) { return f.field == req.disjunctive_facets[i]; })) {
      return Status::invalid("a disjunctive facet must also be asked for in facets",
                             "disjunctive_facets[" + std::to_string(i) + "]");
    }
  }
  auto parsed = parse_query(req.q, false);
  if (!parsed.ok()) return parsed.status();
  const DocumentBuilder& builder = r.query_builder();
  auto filter = Filter::all_of(req.filters);
  if (!filter.ok()) return filter.status();
  TROVE_RETURN_IF_ERROR(filter->check(schema, "filters"));
  auto grouping = distinct_of(req.distinct, schema);
  if (!grouping.ok()) return grouping.status();
  const std::optional<Xapian::valueno> distinct = *grouping;
  const Xapian::Query filters = filter_query(*filter);

  SearchResponse out;
  Status failure;
  // The matching reads the State only to sort by popularity and for facets. Otherwise
  // it runs without the Store's read lock, taken twice briefly instead (the synonyms, then the
  // hits' items): a search holding it throughout held up each write slice of an import and,
  // behind that slice (the lock lets a waiting writer in first), every other search.
  const bool match_reads_state = !req.facets.empty() || sort_reads_state(keys);
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
    // By relevance with typo tolerance, the tiers: the words as typed first, their typo
    // variants looked up only if those find too little (retrieve_tiers).
    const bool tiers = keys.size() == 1 && by_relevance(keys) && req.typo_tolerance && !distinct;
    auto plan_with = [&](bool variants) {
      return plan_query(builder, *r.vocab, db, *parsed, *synonyms, *budget, req.typo_tolerance,
                        variants);
    };
    QueryPlan plan = plan_with(!tiers);
    if (plan.nothing_to_match()) {
      out.took_ms = ms_since(t0);
      return out;  // only punctuation or exclusions: nothing can match, and that is an answer
    }
    Retrieval found(db);
    const std::unique_ptr<Xapian::KeyMaker> key =
        set_sort(found.enquire, keys, lock ? &lock->state() : nullptr);
    std::unique_ptr<FacetSpy> spy;
    if (!req.facets.empty()) {
      spy = std::make_unique<FacetSpy>(lock->state(), builder.analyzer(), schema, *facet_specs);
      found.enquire.add_matchspy(spy.get());
    }
    const size_t page_first = (req.page - 1) * req.per_page;
    // A re-ranking sees the whole window: fetch it all, cut the page after.
    const bool rerank = req.rerank && keys.size() == 1 && by_relevance(keys) &&
                        page_first + req.per_page <= kRerankWindow;
    Fetch fetch;
    fetch.first = rerank ? 0 : page_first;
    fetch.count = rerank ? kRerankWindow : req.per_page;
    // Distinct: Xapian collapses on the group key, counting every match, so that the total
    // and the pages are of groups; a spy counts each group's matches (it sees them before
    // the collapse).
    std::unique_ptr<Xapian::ValueCountMatchSpy> groups;
    if (distinct) {
      found.enquire.set_collapse_key(*distinct, 1);
      groups = std::make_unique<Xapian::ValueCountMatchSpy>(*distinct);
      found.enquire.add_matchspy(groups.get());
    }
    fetch.check = spy || distinct ? db.get_doccount() : kCountedMatches;
    fetch.facets = spy != nullptr || distinct;
    if (tiers) {
      retrieve_tiers(db, found, plan, [&] { return plan_with(true); }, filters, fetch,
                     &out.dropped_terms);
    } else {
      retrieve_sorted(db, found, plan, filters, fetch, &out.dropped_terms);
    }
    out.total = found.total;
    out.total_exact = found.total_exact;

    if (!lock) lock.emplace(*r.store);
    const State& st = lock->state();
    std::vector<RerankCandidate> ranked;
    if (rerank) ranked = rank_window(st, found, plan, req.rerank, page_first, req.per_page);
    QueryTerms query_terms;
    const auto by_distance = std::find_if(keys.begin(), keys.end(), [](const SortKey& k) { return k.from.has_value(); });
    for (size_t n = 0; n < found.order.size(); ++n) {
      const Found& h = found.order[n];
      const ItemRef ref = ref_of(*h.it);
      const Item* item = st.item_at(ref);
      if (!item) continue;  // removed since the index was last flushed
      out.hits.push_back(render_hit(builder, schema,
                                    by_distance == keys.end() ? nullptr : &*by_distance, *item,
                                    st.item_id(ref), plan, h, query_terms,
                                    rerank ? &ranked[n] : nullptr, req));
      if (groups) out.hits.back().group_size = group_size(*groups, h.it.get_collapse_key());
    }
    if (spy) {
      out.facets = spy->facets(*facet_answering);
      disjunctive_facets(db, st, builder.analyzer(), schema, *facet_specs, *facet_answering, plan,
                         found, *filter, req.disjunctive_facets, &out.facets);
    }
    if (req.explain) out.query_explained = explained_query(found.enquire.get_query());
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
