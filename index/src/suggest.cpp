// Search-as-you-type (suggest: cached lone prefixes ranked by popularity with block-max
// pruning, completions, typo prefixes) and the fuzzy term lookup.
#include <absl/container/flat_hash_set.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <limits>
#include <optional>

#include "completions.h"
#include "hits.h"
#include "index_rep.h"

namespace trove {
namespace {

using namespace index_internal;

constexpr size_t kPrefixKeep = 100;          // items kept per cached prefix
// Items whose words the completions are taken from (completions.h): enough to hold the few
// phrases a prefix leads to, few enough to read each keystroke.
constexpr size_t kCompletionItems = 20;
constexpr size_t kPrefixScanCap = 400000;    // candidate steps when ranking matches
constexpr size_t kLongPrefixTerms = 32;      // words standing for a prefix past kMaxPrefixChars
constexpr double kExpansionCoverage = 0.95;  // of their postings (see prefix_terms)
constexpr size_t kMinExpansions = 8;         // words a long prefix always expands to
constexpr size_t kPrefixCacheEntries = 50000;
constexpr auto kPrefixFresh = std::chrono::seconds(2);
constexpr auto kPrefixMaxAge = std::chrono::seconds(30);

// The most frequent title and brand words under the prefix, with their document counts, most
// frequent first.
using Completions = std::vector<std::pair<std::string, Xapian::doccount>>;
Completions completions_of(Xapian::Database& db, const std::string& prefix, size_t limit) {
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
  Completions out;
  for (size_t i = 0; i < n; ++i) out.emplace_back(std::move(vocab[i].second), vocab[i].first);
  return out;
}

// completions_of(), the first kLongPrefixTerms kept per prefix while the index generation
// holds (scanning the terms under a one- or two-letter prefix was a fifth of a multi-word
// suggest, and a long prefix's expansion is looked up at every keystroke).
using CompletionCache = absl::flat_hash_map<std::string, std::pair<uint64_t, Completions>>;
struct Completer {
  std::mutex& mu;
  CompletionCache& cache;
  Xapian::Database& db;
  uint64_t generation;  // of the reader `db`

  Completions with_counts(const std::string& prefix, size_t limit) const {
    if (limit > kLongPrefixTerms) return completions_of(db, prefix, limit);
    Completions out;
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
      out = completions_of(db, prefix, kLongPrefixTerms);
      std::lock_guard lock(mu);
      if (cache.size() >= kPrefixCacheEntries) cache.clear();
      cache[prefix] = {generation, out};
    }
    if (out.size() > limit) out.resize(limit);
    return out;
  }
  std::vector<std::string> operator()(const std::string& prefix, size_t limit) const {
    std::vector<std::string> out;
    for (auto& [word, count] : with_counts(prefix, limit)) out.push_back(std::move(word));
    return out;
  }
};

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

// The terms whose postings stand for "a title or brand word starts with `prefix`": its
// P-term up to kMaxPrefixChars, else its kMinExpansions most frequent words, and more of its
// kLongPrefixTerms most frequent until they hold kExpansionCoverage of those words' postings.
// Opening a posting list costs about 1.3 us a shard even for a handful of postings (32
// expansions were most of a keystroke's time); the rarest words add few items, and the next
// keystroke narrows the prefix to them. Typesense, likewise, expands a prefix to its 4 most
// frequent words by default (max_candidates).
std::vector<std::string> prefix_terms(const Completer& complete, const std::string& prefix) {
  if (first_chars(prefix, kMaxPrefixChars).size() == prefix.size()) return {"P" + prefix};
  const Completions words = complete.with_counts(prefix, kLongPrefixTerms);
  uint64_t total = 0;
  for (const auto& [word, count] : words) total += count;
  std::vector<std::string> out;
  uint64_t covered = 0;
  for (const auto& [word, count] : words) {
    if (out.size() >= kMinExpansions &&
        static_cast<double>(covered) >= kExpansionCoverage * static_cast<double>(total)) {
      break;
    }
    out.push_back("T" + word);
    covered += count;
  }
  return out;
}

// The terms that match a typed whole word in suggest: search's exact forms (without
// synonyms or typos).
std::vector<std::string> word_terms(const DocumentBuilder& builder,
                                    const fuzzy::LiveDictionary& vocab, const std::string& word) {
  std::vector<std::string> out;
  for (auto& form : exact_forms(builder, &vocab, word)) out.push_back(std::move(form.first));
  return out;
}

// The items that have a term of every group (an AND of ORs), most popular first, then in
// item order: at most `keep`, none of `skip`. Postings come in ref order, so the groups are
// intersected by leapfrogging their posting lists; once `keep` items are held, every block of
// kPopularityBlock refs whose popularity bound (`block_max`) cannot beat the weakest of them
// is skipped (ties go to the lower ref, already held), and the scan stops when no later block
// can. With no popularity anywhere, the first `keep` matches end it.
using TermGroups = std::vector<std::vector<std::string>>;
std::vector<ItemRef> top_matching(Xapian::Database& db, const State& st, const TermGroups& groups,
                                  const std::vector<double>& block_max, size_t keep,
                                  const absl::flat_hash_set<ItemRef>& skip = {}) {
  std::vector<ItemRef> out;
  if (keep == 0 || groups.empty()) return out;
  struct Cursor {
    Xapian::PostingIterator it, end;
  };
  std::vector<std::vector<Cursor>> cursors;
  for (const auto& g : groups) {
    auto& cs = cursors.emplace_back();
    for (const auto& term : g) {
      Cursor c{db.postlist_begin(term), db.postlist_end(term)};
      if (c.it != c.end) cs.push_back(std::move(c));
    }
    if (cs.empty()) return out;  // a group nothing matches
  }
  using Scored = std::pair<double, ItemRef>;  // min-heap on (popularity, -ref)
  auto worse = [](const Scored& a, const Scored& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  };
  std::vector<Scored> heap;
  constexpr Xapian::docid kNone = std::numeric_limits<Xapian::docid>::max();
  // The first docid >= d that the group lists (kNone: none).
  auto group_at = [&](std::vector<Cursor>& cs, Xapian::docid d) {
    Xapian::docid best = kNone;
    for (auto& c : cs) {
      if (c.it == c.end) continue;
      if (*c.it < d) {
        c.it.skip_to(d);
        if (c.it == c.end) continue;
      }
      best = std::min(best, *c.it);
    }
    return best;
  };
  const size_t blocks = block_max.size();
  Xapian::docid cand = 1;
  for (size_t steps = 0; steps < kPrefixScanCap; ++steps) {
    if (heap.size() == keep) {
      size_t b = ref_of(cand) / kPopularityBlock;
      if (b >= blocks || block_max[b] <= heap.front().first) {
        while (b < blocks && block_max[b] <= heap.front().first) ++b;
        if (b >= blocks) break;
        cand = docid_of(static_cast<ItemRef>(b * kPopularityBlock));
      }
    }
    bool agreed = true;
    for (auto& cs : cursors) {
      const Xapian::docid d = group_at(cs, cand);
      if (d != cand) {
        cand = d;  // kNone when a group is exhausted
        agreed = false;
        break;
      }
    }
    if (cand == kNone) break;
    if (!agreed) continue;
    const ItemRef ref = ref_of(cand++);
    if (!st.item_at(ref) || skip.contains(ref)) continue;
    Scored s{popularity(st, ref), ref};
    if (heap.size() < keep) {
      heap.push_back(s);
      std::push_heap(heap.begin(), heap.end(), worse);
    } else if (worse(s, heap.front())) {
      std::pop_heap(heap.begin(), heap.end(), worse);
      heap.back() = s;
      std::push_heap(heap.begin(), heap.end(), worse);
    }
  }
  std::sort_heap(heap.begin(), heap.end(), worse);
  for (const auto& [score, ref] : heap) out.push_back(ref);
  return out;
}

// What the earlier words match, tier by tier (items_for_prefix).
struct Tiers {
  std::string exact_title;  // everything typed as a whole title (document.h's E term)
  TermGroups title;  // each earlier word as a title or brand word
  TermGroups exact;  // each earlier word anywhere: the word, its stem, its one-word synonyms
  // The whole text typed (the prefix as a whole word) replaced by a synonym's terms: complete
  // groups, no prefix ("hp" -> harry AND potter).
  std::vector<TermGroups> synonyms;
  // `exact` with each word's typo variants too (called at most once, only when needed).
  std::function<TermGroups()> with_typos;
  // Which earlier words are stopwords (SearchSettingsUpsert), one flag a word; empty when
  // none is, or when nothing but stopwords was typed (they are required then, as in search).
  std::vector<bool> stopwords;
};

// `groups` (one a typed word, in order) without the stopwords' groups: a stopword adds to
// an item's rank (the tiers that require it come first) but is not required.
TermGroups without_stopwords(const TermGroups& groups, const std::vector<bool>& stopwords) {
  TermGroups out;
  for (size_t i = 0; i < groups.size(); ++i) {
    if (i >= stopwords.size() || !stopwords[i]) out.push_back(groups[i]);
  }
  return out;
}

// The items for the earlier words plus the typed prefix, up to `keep`, in tiers, each after
// the one before (within a tier: titles starting with what was typed, then popularity, then
// shorter titles): the items whose title is exactly what was typed (the
// prefix read as a whole word); the earlier words as title or brand words (Algolia, too,
// ranks the attribute a word matched in before its custom ranking), then anywhere, with their
// stems and synonyms; then a synonym of the whole text; then the earlier words but their
// stopwords; then the earlier words (but stopwords) with their typo variants; then the
// prefix's typo words in place of the prefix. `typo_words` gives those
// (called at most once, only when needed; kept in `*typos_out` if given).
std::vector<ItemRef> items_for_prefix(Xapian::Database& db, const State& st,
                                      const Completer& complete, const Tiers& tiers,
                                      const std::string& prefix,
                                      const std::function<std::vector<std::string>()>& typo_words,
                                      const std::function<bool(ItemRef, const Item&)>& starts_with_typed,
                                      const std::vector<double>& block_max, size_t keep,
                                      std::vector<std::string>* typos_out = nullptr) {
  std::vector<ItemRef> items;
  absl::flat_hash_set<ItemRef> held;
  // `last`: the prefix's group (none when there is no prefix; an empty one matches nothing).
  // Within a tier: titles that start with what was typed first (the strongest sign of the
  // item a shopper is typing), then by popularity, then shorter titles (in a catalog without
  // behaviour yet, popularity ties everywhere and import order decided).
  auto tier = [&](TermGroups g, const std::vector<std::string>* last) {
    if (items.size() >= keep) return;
    if (last) g.push_back(*last);
    struct Ranked {
      bool starts;
      double popularity;
      size_t length;
      ItemRef ref;
    };
    std::vector<Ranked> found;
    for (ItemRef ref : top_matching(db, st, g, block_max, keep - items.size(), held)) {
      const Item* item = st.item_at(ref);
      found.push_back({item && starts_with_typed(ref, *item), popularity(st, ref),
                       item ? item->data.title.size() : 0, ref});
    }
    std::stable_sort(found.begin(), found.end(), [](const Ranked& a, const Ranked& b) {
      if (a.starts != b.starts) return a.starts;
      if (a.popularity != b.popularity) return a.popularity > b.popularity;
      return a.length < b.length;
    });
    for (const Ranked& r : found) {
      items.push_back(r.ref);
      held.insert(r.ref);
    }
  };
  std::optional<std::vector<std::string>> prefix_group;
  if (!prefix.empty()) prefix_group = prefix_terms(complete, prefix);
  const std::vector<std::string>* last = prefix_group ? &*prefix_group : nullptr;
  if (!tiers.exact_title.empty()) tier({{tiers.exact_title}}, nullptr);
  if (!tiers.title.empty()) tier(tiers.title, last);
  tier(tiers.exact, last);
  for (const auto& g : tiers.synonyms) tier(g, nullptr);
  const TermGroups loose = without_stopwords(tiers.exact, tiers.stopwords);
  if (loose != tiers.exact) tier(loose, last);
  if (items.size() < keep && tiers.with_typos) {
    TermGroups g = without_stopwords(tiers.with_typos(), tiers.stopwords);
    if (g != loose) tier(std::move(g), last);
  }
  if (items.size() < keep && !prefix.empty()) {
    std::vector<std::string> typos = typo_words();
    if (!typos.empty()) {
      std::vector<std::string> typo_group;
      for (const auto& w : typos) typo_group.push_back("T" + w);
      tier(loose, &typo_group);
    }
    if (typos_out) *typos_out = std::move(typos);
  }
  return items;
}

// The earlier words and the prefix of a suggest request, with what they stand for: the tiers
// items are found in and the query completions are built for.
struct Typed {
  std::vector<std::string> words;  // earlier words, folded
  std::string prefix;              // folded; empty when the text ends in a space
  Tiers tiers;
  CompletionQuery completion;      // for the items of the word tiers
  // For the items of each synonym tier: the synonym's words, its last as the prefix.
  std::vector<CompletionQuery> synonym_completions;
};

// One-word synonyms of `word` (the alternatives that are a single term).
std::vector<std::string> one_word_synonyms(const SynonymMap& synonyms, const std::string& word) {
  std::vector<std::string> out;
  if (auto it = synonyms.words.find(word); it != synonyms.words.end()) {
    for (const auto& alt : it->second) {
      if (alt.size() == 1) out.push_back(alt[0]);
    }
  }
  return out;
}

// The alternatives of the whole text typed, the prefix read as a whole word: the earlier words
// and the prefix as one synonym input, or the prefix alone.
struct WholeSynonym {
  size_t words_kept = 0;  // earlier words that stay (0 when the input spans them all)
  const SynonymMap::Alternatives* alternatives = nullptr;
};
WholeSynonym whole_text_synonym(const SynonymMap& synonyms, const std::vector<std::string>& words,
                                const std::string& prefix) {
  if (prefix.empty()) return {};
  std::vector<std::string> all = words;
  all.push_back(prefix);
  if (all.size() >= 2) {
    if (auto it = synonyms.phrases.find(all); it != synonyms.phrases.end()) return {0, &it->second};
  }
  if (auto it = synonyms.words.find(prefix); it != synonyms.words.end()) {
    return {words.size(), &it->second};
  }
  return {};
}

// Which of the earlier words are stopwords (Tiers::stopwords): none when nothing else was
// typed, so a text of stopwords alone still requires them.
std::vector<bool> stopword_flags(const std::set<std::string>& stopwords,
                                 const std::vector<std::string>& words, const std::string& prefix) {
  std::vector<bool> flags(words.size());
  size_t n = 0;
  for (size_t i = 0; i < words.size(); ++i) n += flags[i] = stopwords.contains(words[i]);
  if (n == 0 || (n == words.size() && prefix.empty())) return {};
  return flags;
}

Typed read_typed(const DocumentBuilder& builder, const fuzzy::LiveDictionary& vocab,
                 const SynonymMap& synonyms, const std::optional<fuzzy::TypoBudget>& budget,
                 const std::string& q) {
  Typed t;
  // Earlier words are whole words; the last one is a prefix (unless the text ends in a space).
  const std::vector<SurfaceWord> surface = surface_words(builder, q);
  for (const auto& w : surface) {
    if (w.folded.size() <= kMaxTermBytes) {
      t.words.push_back(w.folded);
      t.completion.typed.emplace_back(q.substr(w.begin, w.end - w.begin));
    }
  }
  if (!q.empty() && q.back() != ' ' && !t.words.empty()) {
    t.prefix = t.words.back();
    t.words.pop_back();
    t.completion.typed.pop_back();
  }
  t.completion.prefix = t.prefix;
  t.tiers.exact_title = exact_title_term(builder.analyzer(), q);
  for (const auto& w : t.words) {
    t.tiers.title.push_back({"T" + w});
    std::vector<std::string> group = word_terms(builder, vocab, w);
    std::vector<std::string> forms{w};
    for (auto& alt : one_word_synonyms(synonyms, w)) {
      group.push_back(alt);
      forms.push_back(std::move(alt));
    }
    t.tiers.exact.push_back(std::move(group));
    t.completion.words.push_back(std::move(forms));
  }
  if (t.words.empty() && t.prefix.empty()) t.tiers.exact.push_back({""});
  t.tiers.stopwords = stopword_flags(synonyms.stopwords, t.words, t.prefix);
  if (budget && !t.words.empty()) {
    t.tiers.with_typos = [&vocab, budget, exact = t.tiers.exact, words = t.words]() {
      TermGroups g = exact;
      for (size_t i = 0; i < words.size(); ++i) {
        const fuzzy::LevenshteinOptions opts = fuzzy::typo_options(words[i], *budget, false);
        if (opts.max_distance == 0) continue;
        for (const auto& m : vocab.search(words[i], opts, 8)) {
          if (m.distance > 0) g[i].push_back(m.term);
        }
      }
      return g;
    };
  }
  const WholeSynonym whole = whole_text_synonym(synonyms, t.words, t.prefix);
  if (whole.alternatives) {
    for (const auto& alt : *whole.alternatives) {
      TermGroups g(t.tiers.exact.begin(), t.tiers.exact.begin() + static_cast<std::ptrdiff_t>(whole.words_kept));
      CompletionQuery cq;
      cq.words.assign(t.completion.words.begin(), t.completion.words.begin() + static_cast<std::ptrdiff_t>(whole.words_kept));
      cq.typed.assign(t.completion.typed.begin(), t.completion.typed.begin() + static_cast<std::ptrdiff_t>(whole.words_kept));
      for (size_t i = 0; i < alt.size(); ++i) {
        g.push_back({alt[i]});
        if (i + 1 < alt.size()) {
          cq.words.push_back({alt[i]});
          cq.typed.push_back(alt[i]);
        }
      }
      cq.prefix = alt.back();
      t.tiers.synonyms.push_back(std::move(g));
      t.synonym_completions.push_back(std::move(cq));
    }
  }
  return t;
}

// Whether an item's title starts with the earlier words and then a word under the prefix (or,
// with no prefix, with the words).
bool title_starts_with(const std::vector<SurfaceWord>& title, const Typed& t) {
  size_t i = 0;
  for (const SurfaceWord& w : title) {
    if (i < t.words.size()) {
      if (w.folded != t.words[i]) return false;
    } else {
      return t.prefix.empty() || w.folded.rfind(t.prefix, 0) == 0;
    }
    ++i;
  }
  return t.prefix.empty() && i == t.words.size() && i > 0;
}

// The typo variants the earlier-word tier added, into the completion query (so an item's
// "harry" stands for the typed "hary").
void note_typo_variants(const TermGroups& with_typos, Typed* t) {
  for (size_t i = 0; i < t->words.size() && i < with_typos.size(); ++i) {
    for (const auto& term : with_typos[i]) {
      if (is_vocabulary_term(term)) t->completion.words[i].push_back(term);
    }
  }
}

// Completions from `items`: the word tiers' phrases first, then the synonyms' (which match
// the items of their tier), at most `limit`, without repeats.
std::vector<std::string> completions_for(const DocumentBuilder& builder, const State& st,
                                         const std::vector<ItemRef>& items, const Typed& t,
                                         size_t limit, TitleWords& titles) {
  std::vector<ItemRef> head(items.begin(),
                            items.begin() + static_cast<std::ptrdiff_t>(
                                                std::min(items.size(), kCompletionItems)));
  std::vector<std::string> out =
      completions_from_items(builder, st, head, t.completion, limit, titles);
  for (const auto& cq : t.synonym_completions) {
    for (auto& c : completions_from_items(builder, st, head, cq, limit, titles)) {
      if (out.size() >= limit) break;
      if (std::find(out.begin(), out.end(), c) == out.end()) out.push_back(std::move(c));
    }
  }
  return out;
}

// A lone prefix's completions: the words of its most popular items (completions_for), then
// the vocabulary's most frequent words under it, then its typo words (each a title or brand
// word, so none leads nowhere), at most `limit`.
std::vector<std::string> lone_prefix_completions(const DocumentBuilder& builder, const State& st,
                                                 const Completer& complete, Xapian::Database& db,
                                                 const std::vector<ItemRef>& items,
                                                 const Typed& typed,
                                                 const std::vector<std::string>& typos,
                                                 size_t limit, TitleWords& titles) {
  std::vector<std::string> out = completions_for(builder, st, items, typed, limit, titles);
  absl::flat_hash_set<std::string> folded;
  for (const auto& c : out) folded.insert(builder.analyzer().fold(c));
  auto add = [&](const std::string& word) {
    if (out.size() < limit && folded.insert(word).second) out.push_back(word);
  };
  for (const auto& w : complete(typed.prefix, limit)) add(w);
  for (const auto& w : typos) {
    if (db.term_exists("T" + w)) add(w);
  }
  return out;
}

// What was typed as a completion spells it: its words where the typed ones had a typo (or were
// a synonym), folded; the last typed word stays a prefix while the completion's word extends
// it. Empty when that changes no word, or the completion has fewer words. ("hary pot", "Harry Potter and the ..." ->
// "harry pot"; "hary pottr" -> "harry potter".)
std::string as_completion_spells(const DocumentBuilder& builder, std::string_view typed,
                                 const std::string& completion) {
  const std::vector<SurfaceWord> words = surface_words(builder, typed);
  const std::vector<SurfaceWord> spelled = surface_words(builder, completion);
  if (words.empty() || spelled.size() < words.size()) return {};
  const bool last_is_prefix = typed.back() != ' ';
  std::string out;
  bool changed = false;
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i].folded;
    const bool prefix_kept =
        last_is_prefix && i + 1 == words.size() && spelled[i].folded.starts_with(w);
    changed |= !prefix_kept && spelled[i].folded != w;
    out += prefix_kept ? w : spelled[i].folded;
    if (i + 1 < words.size() || !last_is_prefix) out += ' ';
  }
  return changed ? out : std::string();
}

// The queries shoppers searched that start with what was typed (query_suggestions.h), or, when
// none does, with what was typed as the first item completion spells it (a typo corrected;
// with no completion, as when the text ends with a space after its last word, as the first
// item's title does), then the completions made from items that are not the same words.
std::vector<std::string> searched_first(const DocumentBuilder& builder,
                                        const fuzzy::LiveDictionary& vocab,
                                        const QuerySuggestions& searched, std::string_view typed,
                                        const std::vector<SearchHit>& items,
                                        std::vector<std::string> from_items, size_t limit) {
  const Analyzer& analyzer = builder.analyzer();
  std::vector<QuerySuggestions::Entry> queries = searched.lookup(analyzer, vocab, typed, limit);
  const std::string* spelled = !from_items.empty() ? &from_items[0]
                               : !items.empty()    ? &items[0].title
                                                   : nullptr;
  if (queries.empty() && spelled) {
    const std::string corrected = as_completion_spells(builder, typed, *spelled);
    if (!corrected.empty()) queries = searched.lookup(analyzer, vocab, corrected, limit);
  }
  if (queries.empty()) return from_items;
  std::vector<std::string> out;
  absl::flat_hash_set<std::string> seen;
  for (const auto& q : queries) {
    out.push_back(q.text);
    seen.insert(q.folded);
  }
  for (auto& c : from_items) {
    if (out.size() >= limit) break;
    if (seen.insert(folded_words(analyzer, c)).second) out.push_back(std::move(c));
  }
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
  auto filter = Filter::all_of(req.filters);
  if (!filter.ok()) return filter.status();
  const Xapian::Query filters = filter_query(*filter);
  const TypoSettings defaults = typo_defaults();
  auto budget = typo_budget(req.typos, defaults);
  if (!budget.ok()) return budget.status();
  std::optional<fuzzy::TypoBudget> typo_budget_used;
  if (req.typo_tolerance) typo_budget_used = *budget;
  // Only answers with the index's own typo settings are cached.
  const bool cacheable = req.typo_tolerance && (!req.typos || *req.typos == defaults);

  SuggestResponse out;
  Status failure;
  r.store->read([&](const State& st) {
    const AttributeSchema schema = AttributeSchema::of(st);
    failure = filter->check(schema, "filters");
    if (!failure.ok()) return;
    try {
      // The reader is at this generation or a later one: what is cached under it from this
      // reader is never newer than the index it claims.
      const uint64_t reader_generation = r.generation.load(std::memory_order_acquire);
      Xapian::Database& db = r.reader();
      const Completer complete{r.prefix_mu, r.completion_cache, db, reader_generation};
      Typed typed = read_typed(builder, *r.vocab, *r.synonyms_for(st), typo_budget_used, req.q);
      if (auto base = typed.tiers.with_typos) {
        typed.tiers.with_typos = [&typed, base] {
          TermGroups g = base();
          note_typo_variants(g, &typed);
          return g;
        };
      }
      const std::string& prefix = typed.prefix;
      absl::flat_hash_set<std::string> matched(typed.words.begin(), typed.words.end());
      auto add_item = [&](ItemRef ref, double score) {
        const Item* item = st.item_at(ref);
        if (!item) return;
        SearchHit h = make_hit(*item, st.item_id(ref), schema);
        h.score = score;
        h.title_highlighted = highlight(builder, item->data.title, matched, prefix);
        out.items.push_back(std::move(h));
      };
      auto typo_words = [&] { return prefix_typo_words(*r.vocab, prefix, typo_budget_used); };
      TitleWords titles(builder);
      auto starts = [&](ItemRef ref, const Item& item) {
        return title_starts_with(titles.of(ref, item), typed);
      };
      std::vector<double> block_max;
      {
        std::lock_guard lock(r.popularity_mu);
        block_max = r.popularity_block_max;
      }
      if (typed.words.empty() && req.filters.empty() && !prefix.empty() && cacheable) {
        // The lone prefix: from the cache, or computed once and kept (until the index, the
        // synonyms or the search settings change: generation() covers all three).
        const uint64_t gen = generation();
        const uint64_t config = r.synonyms_version.load(std::memory_order_acquire);
        const auto now = std::chrono::steady_clock::now();
        std::shared_ptr<const Rep::PrefixAnswer> answer;
        {
          std::lock_guard lock(r.prefix_mu);
          auto it = r.prefix_cache.find(prefix);
          if (it != r.prefix_cache.end()) {
            const auto age = now - it->second->computed;
            if (age < kPrefixMaxAge && it->second->config == config &&
                (it->second->generation == gen || age < kPrefixFresh)) {
              answer = it->second;
            }
          }
        }
        if (!answer) {
          auto fresh = std::make_shared<Rep::PrefixAnswer>();
          std::vector<std::string> typos;
          fresh->items = items_for_prefix(db, st, complete, typed.tiers, prefix, typo_words,
                                          starts, block_max, kPrefixKeep, &typos);
          if (fresh->items.size() >= kPrefixKeep) typos = typo_words();
          typed.completion.prefix_typos.insert(typos.begin(), typos.end());
          fresh->completions = lone_prefix_completions(builder, st, complete, db, fresh->items,
                                                       typed, typos, kPrefixKeep / 10, titles);
          fresh->generation = gen;
          fresh->config = config;
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
        out.completions = answer->completions;
        if (out.completions.size() > req.completions) out.completions.resize(req.completions);
      } else if (req.filters.empty()) {
        // Every earlier word and the prefix (or, if too few, one of its typo words), most
        // popular first, as the lone prefix ranks, title and brand matches of the earlier
        // words first. Text without a word ("&") matches every item (Xapian's empty term):
        // the most popular.
        std::vector<std::string> typos;
        const std::vector<ItemRef> items =
            items_for_prefix(db, st, complete, typed.tiers, prefix, typo_words, starts,
                             block_max, std::max(req.items, kCompletionItems), &typos);
        for (size_t i = 0; i < items.size() && i < req.items; ++i) {
          add_item(items[i], popularity(st, items[i]));
        }
        typed.completion.prefix_typos.insert(typos.begin(), typos.end());
        out.completions = completions_for(builder, st, items, typed, req.completions, titles);
      } else {
        // With filters: Xapian's matcher, BM25 over the words and the prefix's alternatives.
        std::vector<Xapian::Query> parts, optional;
        for (size_t i = 0; i < typed.words.size(); ++i) {
          const bool stop = i < typed.tiers.stopwords.size() && typed.tiers.stopwords[i];
          (stop ? optional : parts).push_back(word_query(builder, SynonymMap{}, typed.words[i], nullptr));
        }
        std::vector<std::string> typos;
        if (!prefix.empty()) {
          std::vector<Xapian::Query> alts;
          for (const auto& t : prefix_terms(complete, prefix)) alts.emplace_back(t);
          typos = typo_words();
          for (const auto& w : typos) {
            alts.emplace_back(Xapian::Query::OP_SCALE_WEIGHT, Xapian::Query("T" + w),
                              kTypoWeight[1]);
          }
          parts.emplace_back(Xapian::Query::OP_OR, alts.begin(), alts.end());
        }
        Xapian::Enquire enquire(db);
        Xapian::Query matched_words = and_all(parts);
        for (const auto& q : optional) {
          matched_words = Xapian::Query(Xapian::Query::OP_AND_MAYBE, matched_words, q);
        }
        enquire.set_query(Xapian::Query(Xapian::Query::OP_FILTER, matched_words, filters));
        Xapian::MSet mset = enquire.get_mset(
            0, static_cast<Xapian::doccount>(std::max(req.items, kCompletionItems)));
        std::vector<ItemRef> items;
        for (auto it = mset.begin(); it != mset.end(); ++it) {
          items.push_back(ref_of(*it));
          if (items.size() <= req.items) add_item(ref_of(*it), it.get_weight());
        }
        typed.completion.prefix_typos.insert(typos.begin(), typos.end());
        out.completions = completions_for(builder, st, items, typed, req.completions, titles);
      }
    } catch (const Xapian::DatabaseCorruptError& e) {
      r.mark_damaged(std::string("suggest: ") + e.get_msg());
      failure = Status::internal("suggest failed: the index is damaged and is rebuilt on the next start");
    } catch (const Xapian::Error& e) {
      failure = Status::internal(std::string("suggest failed in the index (") + e.get_type() + ")");
    }
  });
  TROVE_RETURN_IF_ERROR(failure);
  if (req.filters.empty()) {
    out.completions = searched_first(builder, *r.vocab, r.searched_queries, req.q, out.items,
                                     std::move(out.completions), req.completions);
  }
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
  // The query parser names its input "q"; here it is the term.
  auto parsed = parse_query(text, false);
  if (!parsed.ok()) {
    const Status& st = parsed.status();
    return st.code() == StatusCode::kInvalidArgument ? Status::invalid(st.message(), "term") : st;
  }
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
  auto budget = typo_budget(std::nullopt, typo_defaults());
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
size_t CatalogIndex::vocabulary_unmerged() const { return rep_->vocab->delta_size(); }

}  // namespace trove
