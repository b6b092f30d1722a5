// Search-as-you-type (suggest: cached lone prefixes ranked by popularity with block-max
// pruning, completions, typo prefixes) and the fuzzy term lookup.
#include <absl/container/flat_hash_set.h>

#include <algorithm>
#include <chrono>

#include "hits.h"
#include "index_rep.h"

namespace trove {
namespace {

using namespace index_internal;

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

// completions_of(), kept per prefix while the index generation holds (scanning the terms
// under a one- or two-letter prefix was a fifth of a multi-word suggest).
using CompletionCache =
    absl::flat_hash_map<std::string, std::pair<uint64_t, std::vector<std::string>>>;
std::vector<std::string> cached_completions(std::mutex& mu, CompletionCache& cache,
                                            Xapian::Database& db, uint64_t generation,
                                            const std::string& prefix, size_t limit) {
  constexpr size_t kKeep = kPrefixKeep / 10;
  if (limit > kKeep) return completions_of(db, prefix, limit);
  std::vector<std::string> out;
  bool found = false;
  {
    std::lock_guard lock(mu);
    auto it = cache.find(prefix);
    if (it != cache.end() && it->second.first == generation) {
      out = it->second.second;
      found = true;
    }
  }
  if (!found) {
    out = completions_of(db, prefix, kKeep);
    std::lock_guard lock(mu);
    if (cache.size() >= kPrefixCacheEntries) cache.clear();
    cache[prefix] = {generation, out};
  }
  if (out.size() > limit) out.resize(limit);
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
      // The reader is at this generation or a later one: what is cached under it from this
      // reader is never newer than the index it claims.
      const uint64_t reader_generation = r.generation.load(std::memory_order_acquire);
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
          completions = cached_completions(r.prefix_mu, r.completion_cache, db, reader_generation,
                                           prefix, req.completions);
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
