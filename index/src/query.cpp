#include "query.h"

#include "filter_tree.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cmath>

namespace trove::index_internal {

bool valid_utf8(std::string_view s) { return simdjson::validate_utf8(s.data(), s.size()); }

bool parse_double(std::string_view s, double* out) {
  if (s.empty()) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size() && std::isfinite(*out);
}

Xapian::Query and_of(const std::vector<std::string>& terms) {
  std::vector<Xapian::Query> qs;
  for (const auto& t : terms) qs.emplace_back(t);
  return qs.size() == 1 ? qs[0] : Xapian::Query(Xapian::Query::OP_AND, qs.begin(), qs.end());
}

Result<ParsedQuery> parse_query(std::string_view q, bool allow_empty) {
  if (q.size() > kMaxQueryBytes) {
    return Status::invalid("query of " + std::to_string(q.size()) + " bytes is over the limit of " +
                               std::to_string(kMaxQueryBytes),
                           "q");
  }
  if (!valid_utf8(q)) return Status::invalid("query is not valid UTF-8", "q");
  ParsedQuery out;
  size_t i = 0;
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (i < q.size()) {
    while (i < q.size() && is_space(q[i])) ++i;
    if (i >= q.size()) break;
    bool exclude = false;
    if (q[i] == '-' && i + 1 < q.size() && !is_space(q[i + 1])) {
      exclude = true;
      ++i;
    }
    if (q[i] == '"') {
      const size_t close = q.find('"', i + 1);
      const size_t end = close == std::string_view::npos ? q.size() : close;
      std::string text(q.substr(i + 1, end - i - 1));
      i = close == std::string_view::npos ? q.size() : close + 1;
      if (!text.empty()) {
        out.clauses.push_back({exclude ? Clause::kExcludePhrase : Clause::kPhrase, std::move(text)});
      }
      continue;
    }
    size_t end = i;
    while (end < q.size() && !is_space(q[end]) && q[end] != '"') ++end;
    std::string word(q.substr(i, end - i));
    i = end;
    if (word == "*" && !exclude) {
      out.match_all = true;
      continue;
    }
    out.clauses.push_back({exclude ? Clause::kExcludeWord : Clause::kWord, std::move(word)});
  }
  if (out.clauses.size() > kMaxQueryWords) {
    return Status::invalid("query has " + std::to_string(out.clauses.size()) +
                               " words; the limit is " + std::to_string(kMaxQueryWords),
                           "q");
  }
  if (out.clauses.empty() && !out.match_all && !allow_empty) {
    return Status::invalid("expected a query (use * to list everything)", "q");
  }
  return out;
}

std::vector<std::string> terms_of(const Analyzer& analyzer, std::string_view text) {
  std::vector<Token> tokens;
  analyzer.analyze(text, &tokens);
  std::vector<std::string> out;
  for (auto& t : tokens) {
    if (!t.joined && t.text.size() <= kMaxTermBytes) out.push_back(std::move(t.text));
  }
  return out;
}

SynonymMap build_synonyms(const Analyzer& analyzer, const State& state) {
  SynonymMap map;
  auto add = [&](const std::vector<std::string>& input, const std::vector<std::string>& alt) {
    if (input.empty() || alt.empty() || alt == input) return;
    if (input.size() == 1) {
      map.words[input[0]].push_back(alt);
    } else {
      map.phrases[input].push_back(alt);
      map.longest_phrase = std::max(map.longest_phrase, input.size());
    }
  };
  if (const auto& sw = state.search_settings().stopwords) {
    for (const auto& w : *sw) {
      for (auto& t : terms_of(analyzer, w)) map.stopwords.insert(std::move(t));
    }
  }
  for (const auto& [id, syn] : state.synonyms()) {
    std::vector<std::vector<std::string>> groups;
    for (const auto& s : syn.synonyms) groups.push_back(terms_of(analyzer, s));
    if (syn.input) {
      const auto in = terms_of(analyzer, *syn.input);
      for (const auto& g : groups) add(in, g);
    } else {
      for (const auto& from : groups) {
        for (const auto& to : groups) add(from, to);
      }
    }
  }
  return map;
}

TypoSettings with_search_settings(TypoSettings base, const SearchSettingsUpsert& s) {
  if (s.typos) base.max_typos = static_cast<int>(*s.typos);
  if (s.min_len_1typo) base.min_len_1typo = static_cast<size_t>(*s.min_len_1typo);
  if (s.min_len_2typo) base.min_len_2typo = static_cast<size_t>(*s.min_len_2typo);
  base.min_len_2typo = std::max(base.min_len_2typo, base.min_len_1typo);
  return base;
}

// The typo budget a request asks for (or the index's), checked.
Result<fuzzy::TypoBudget> typo_budget(const std::optional<TypoSettings>& asked,
                                      const TypoSettings& index_default) {
  const TypoSettings& t = asked ? *asked : index_default;
  constexpr size_t kMaxLen = 64;
  if (t.min_len_1typo < 1 || t.min_len_1typo > kMaxLen) {
    return Status::invalid("expected 1.." + std::to_string(kMaxLen) + ", got " +
                               std::to_string(t.min_len_1typo),
                           "typos.min_len_1typo");
  }
  if (t.min_len_2typo < t.min_len_1typo || t.min_len_2typo > kMaxLen) {
    return Status::invalid("expected min_len_1typo.." + std::to_string(kMaxLen) + ", got " +
                               std::to_string(t.min_len_2typo),
                           "typos.min_len_2typo");
  }
  if (t.max_typos < 0 || t.max_typos > 2) {
    return Status::invalid("expected 0, 1 or 2, got " + std::to_string(t.max_typos), "typos");
  }
  return fuzzy::TypoBudget{.one_typo_min = t.min_len_1typo,
                           .two_typos_min = t.min_len_2typo,
                           .first_char_counts_double = t.first_char_counts_double,
                           .max_typos = static_cast<uint8_t>(t.max_typos)};
}

std::vector<std::string> split_in_two(const fuzzy::LiveDictionary& vocab, const std::string& term) {
  std::vector<std::string> best;
  // Only a word rarer than both its parts: "sauce" is not "sa" + "uce" (a phrase of two
  // frequent words per query word: docs/BENCHMARKS.md, bench/search.sh of 2026-12-07).
  uint64_t best_rarer = vocab.frequency(term);
  // Byte offsets of the code points: a split falls between two, with two on each side.
  std::vector<size_t> starts;
  for (size_t i = 0; i < term.size(); ++i) {
    if ((static_cast<unsigned char>(term[i]) & 0xC0) != 0x80) starts.push_back(i);
  }
  for (size_t k = 2; k + 2 <= starts.size(); ++k) {
    const std::string left = term.substr(0, starts[k]);
    const std::string right = term.substr(starts[k]);
    const uint64_t rarer = std::min(vocab.frequency(left), vocab.frequency(right));
    if (rarer > best_rarer) {
      best_rarer = rarer;
      best = {left, right};
    }
  }
  return best;
}

namespace {

// Vocabulary words within `term`'s typo budget, as alternatives weighted far below the exact
// form (`exact`: the terms that match it without a typo, the word and its stem first) so that
// exact matches rank above one typo, and one typo above two.
//
// The last resort: a word the catalog has neither as typed nor as its stem, with no variant
// within the budget, would be dropped by relaxation or answer nothing. It takes the variants
// within max_typos (2 by default) edits with the first letter counting once instead, weighted
// one edit further: "incguine" -> linguine, "snflwer" -> sunflower (two edits at 7 letters), as
// Xapian's spelling correction finds them (bench/quality.sh; docs/SEARCH.md).
void add_typo_variants(const TypoContext& typos, const std::string& term, const std::string& stem,
                       std::vector<std::string> exact, std::vector<Xapian::Query>* alts) {
  fuzzy::LevenshteinOptions opts = fuzzy::typo_options(term, typos.budget);
  if (opts.max_distance == 0) return;
  auto add = [&](const std::vector<fuzzy::FuzzyMatch>& found, uint8_t extra_edits) {
    uint64_t most = 1;
    for (const auto& m : found) most = std::max(most, m.frequency);
    bool any = false;
    for (const auto& m : found) {
      if (m.distance == 0 || std::find(exact.begin(), exact.end(), m.term) != exact.end()) {
        continue;  // the word itself, or its stem: already matched without a typo
      }
      // Scaled by how common the variant is beside the most common one: BM25 gives a rare
      // word a high weight, and a catalog's misspellings are rare ("sahmon": samon in 6
      // products outranked saumon in 4,390).
      const double share = std::sqrt(static_cast<double>(m.frequency) / static_cast<double>(most));
      // Under 1 % of the most common one's documents: a misspelling of the catalog, not
      // what the shopper meant; its posting lists (one a shard) cost more than it adds.
      if (share < kMinVariantShare) continue;
      const size_t edits = std::min<size_t>(m.distance + extra_edits, kTypoWeight.size() - 1);
      alts->emplace_back(Xapian::Query::OP_SCALE_WEIGHT, Xapian::Query(m.term),
                         kTypoWeight[edits] * share);
      if (typos.variants) typos.variants->emplace(m.term, TypoVariant{term, m.distance});
      any = true;
    }
    return any;
  };
  bool any = add(typos.vocab->search(term, opts, kMaxTypoVariants), 0);
  const uint8_t last_resort = std::min<uint8_t>(typos.budget.max_typos, 2);
  if (!any && (opts.first_char_costs_double || opts.max_distance < last_resort) &&
      typos.vocab->frequency(term) == 0 && (stem.empty() || typos.vocab->frequency(stem) == 0)) {
    opts.first_char_costs_double = false;
    opts.max_distance = last_resort;
    any = add(typos.vocab->search(term, opts, kMaxTypoVariants), 1);
  }
  if (any && typos.exact_forms) (*typos.exact_forms)[term] = std::move(exact);
}

}  // namespace

std::vector<std::pair<std::string, double>> exact_forms(const DocumentBuilder& builder,
                                                        const fuzzy::LiveDictionary* vocab,
                                                        const std::string& term) {
  auto known = [&](const std::string& t) { return vocab == nullptr || vocab->frequency(t) > 0; };
  std::vector<std::pair<std::string, double>> out;
  if (known(term)) out.emplace_back(term, 1.0);
  const std::string stem = builder.stem(term);
  if (!stem.empty()) {
    out.emplace_back("Z" + stem, kStemWeight);
    if (stem != term && known(stem)) out.emplace_back(stem, kStemWeight);
  }
  if (out.empty()) out.emplace_back(term, 1.0);  // an unknown number: its own term
  return out;
}

Xapian::Query word_query(const DocumentBuilder& builder, const SynonymMap& synonyms,
                         const std::string& word, std::vector<std::string>* terms,
                         const TypoContext* typos) {
  std::vector<Token> tokens;
  builder.analyzer().analyze(word, &tokens);
  std::vector<std::string> parts;
  std::string joined;
  for (const auto& t : tokens) {
    if (t.text.size() > kMaxTermBytes) continue;
    if (t.joined) {
      if (joined.empty()) joined = t.text;
    } else {
      parts.push_back(t.text);
    }
  }
  if (parts.empty()) return Xapian::Query();
  if (terms) terms->insert(terms->end(), parts.begin(), parts.end());
  auto single = [&](const std::string& term) {
    std::vector<Xapian::Query> alts;
    std::vector<std::string> exact;  // terms that match `term` without a typo
    for (auto& [form, weight] : exact_forms(builder, typos ? typos->vocab : nullptr, term)) {
      alts.push_back(weight == 1.0 ? Xapian::Query(form)
                                   : Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT,
                                                   Xapian::Query(form), weight));
      exact.push_back(std::move(form));
    }
    const std::string stem = builder.stem(term);
    if (auto it = synonyms.words.find(term); it != synonyms.words.end()) {
      for (const auto& group : it->second) {
        alts.emplace_back(Xapian::Query::OP_SCALE_WEIGHT, and_of(group), kSynonymWeight);
        exact.insert(exact.end(), group.begin(), group.end());
      }
    }
    if (typos && typos->vocab) {
      // The term written as two catalog words, next to each other in that order.
      if (auto two = split_in_two(*typos->vocab, term); !two.empty()) {
        alts.emplace_back(Xapian::Query::OP_SCALE_WEIGHT,
                          Xapian::Query(Xapian::Query::OP_PHRASE, Xapian::Query(two[0]),
                                        Xapian::Query(two[1])),
                          kSplitJoinWeight);
        exact.insert(exact.end(), two.begin(), two.end());
      }
    }
    if (typos && typos->vocab && typos->lookup_variants) {
      add_typo_variants(*typos, term, stem, std::move(exact), &alts);
    }
    // An OR, though every document with the word has Z<stem> too (document.cpp): written
    // `(stems) AND_MAYBE word`, the same documents and weights, it was slower
    // (docs/BENCHMARKS.md, 2026-12-07 22:05).
    return alts.size() == 1 ? alts[0] : Xapian::Query(Xapian::Query::OP_OR, alts.begin(), alts.end());
  };
  if (parts.size() == 1) return single(parts[0]);
  // A compound: every part (each with its stem) or the joined form.
  std::vector<Xapian::Query> each;
  for (const auto& p : parts) each.push_back(single(p));
  Xapian::Query all(Xapian::Query::OP_AND, each.begin(), each.end());
  if (joined.empty()) return all;
  return Xapian::Query(Xapian::Query::OP_OR, all, Xapian::Query(joined));
}

Xapian::Query phrase_query(const DocumentBuilder& builder, const std::string& text) {
  std::vector<Token> tokens;
  builder.analyzer().analyze(text, &tokens);
  std::vector<Xapian::Query> terms;
  for (const auto& t : tokens) {
    if (!t.joined && t.text.size() <= kMaxTermBytes) terms.emplace_back(t.text);
  }
  if (terms.empty()) return Xapian::Query();
  if (terms.size() == 1) return terms[0];
  return Xapian::Query(Xapian::Query::OP_PHRASE, terms.begin(), terms.end(),
                       static_cast<Xapian::termcount>(terms.size()));
}

namespace {

// The documents whose geo point (in the attribute's slot) lies in an area: a filter, weight 0.
// Walks the slot's value stream, so its cost grows with the items that have a point; a
// conjunction with other filters or words skips to their candidates.
class GeoSource : public Xapian::ValuePostingSource {
 public:
  GeoSource(Xapian::valueno slot, const Filter::Node::GeoArea& area)
      : Xapian::ValuePostingSource(slot), area_(area) {}
  void next(double min_wt) override {
    Xapian::ValuePostingSource::next(min_wt);
    skip_outside();
  }
  void skip_to(Xapian::docid did, double min_wt) override {
    Xapian::ValuePostingSource::skip_to(did, min_wt);
    skip_outside();
  }
  bool check(Xapian::docid did, double min_wt) override {
    skip_to(did, min_wt);
    return true;
  }
  void init(const Xapian::Database& db) override {
    Xapian::ValuePostingSource::init(db);
    set_termfreq_min(0);  // an area may hold none of the points
    set_maxweight(0);
  }
  double get_weight() const override { return 0; }
  GeoSource* clone() const override { return new GeoSource(get_slot(), area_); }
  std::string name() const override { return "trove.GeoSource"; }

 private:
  void skip_outside() {
    while (!at_end()) {
      const auto p = geo_of_slot_value(get_value());
      if (p && area_.contains(*p)) return;
      Xapian::ValuePostingSource::next(0);
    }
  }
  Filter::Node::GeoArea area_;
};

Xapian::Query compile(const Filter::Node& n) {
  using Kind = Filter::Node::Kind;
  std::vector<Xapian::Query> parts;
  switch (n.kind) {
    case Kind::kAnd:
    case Kind::kOr:
      for (const auto& c : n.children) parts.push_back(compile(c));
      return Xapian::Query(n.kind == Kind::kAnd ? Xapian::Query::OP_AND : Xapian::Query::OP_OR,
                           parts.begin(), parts.end());
    case Kind::kNot:
      return Xapian::Query(Xapian::Query::OP_AND_NOT, match_all(), compile(n.children[0]));
    case Kind::kExists:
      return Xapian::Query(n.presence);
    case Kind::kGeo:
      return Xapian::Query((new GeoSource(n.slot(), n.area))->release());
    case Kind::kMatch:
      for (const auto& t : n.terms) parts.emplace_back(t);
      for (const auto& r : n.ranges) {
        if (std::isinf(r.lo) && std::isinf(r.hi)) {
          parts.emplace_back(Xapian::Query::OP_VALUE_GE, n.slot(), std::string());
        } else if (std::isinf(r.lo)) {
          parts.emplace_back(Xapian::Query::OP_VALUE_LE, n.slot(), Xapian::sortable_serialise(r.hi));
        } else if (std::isinf(r.hi)) {
          parts.emplace_back(Xapian::Query::OP_VALUE_GE, n.slot(), Xapian::sortable_serialise(r.lo));
        } else {
          parts.emplace_back(Xapian::Query::OP_VALUE_RANGE, n.slot(), Xapian::sortable_serialise(r.lo),
                             Xapian::sortable_serialise(r.hi));
        }
      }
      if (parts.empty()) return Xapian::Query();
      return parts.size() == 1 ? parts[0] : Xapian::Query(Xapian::Query::OP_OR, parts.begin(), parts.end());
  }
  return Xapian::Query();
}

}  // namespace

Xapian::Query filter_query(const Filter& filter) {
  return filter.matches_everything() ? match_all() : compile(*filter.root());
}

Result<Xapian::Query> filter_query(const std::vector<std::string>& filters) {
  auto f = Filter::all_of(filters);
  if (!f.ok()) return f.status();
  return filter_query(*f);
}

}  // namespace trove::index_internal
