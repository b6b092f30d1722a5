#include "trove/fuzzy/term_dictionary.h"

#include <algorithm>
#include <cassert>
#include <limits>

#include "byte_trie.h"
#include "top_k.h"
#include "trie_walk.h"
#include "trove/fuzzy/utf8.h"

namespace trove::fuzzy {
namespace {

uint32_t saturate32(uint64_t v) {
  return v > std::numeric_limits<uint32_t>::max() ? std::numeric_limits<uint32_t>::max()
                                                  : static_cast<uint32_t>(v);
}

// Reverses the code points of a UTF-8 string (a valid one: the dictionary only holds those).
std::string reverse_code_points(std::string_view s) {
  std::u32string cps;
  decode_utf8(s, &cps);
  std::reverse(cps.begin(), cps.end());
  return encode_utf8(cps);
}

}  // namespace

struct TermDictionary::Rep {
  ByteTrie fwd;                      // the terms
  ByteTrie rev;                      // the terms with their code points reversed
  std::vector<uint32_t> rev_to_fwd;  // rank in `rev` -> rank in `fwd`
  std::vector<uint32_t> freq;        // per (forward) rank
  size_t dropped = 0;

  uint32_t term_count() const { return static_cast<uint32_t>(freq.size()); }
  bool descend(std::string_view bytes, uint32_t* node, uint32_t* end) const {
    *node = 0;
    *end = term_count();
    return fwd.descend_from(bytes, node, end);
  }
  std::vector<FuzzyMatch> materialize(TopK& top) const {
    std::vector<FuzzyMatch> out;
    for (const TopK::Candidate& c : top.take_sorted()) {
      out.push_back(FuzzyMatch{fwd.term_at(c.rank), c.distance, c.frequency});
    }
    return out;
  }
};

TermDictionary::TermDictionary() : rep_(std::make_unique<Rep>()) {}

TermDictionary::TermDictionary(TermFrequencies terms) : rep_(std::make_unique<Rep>()) {
  Rep& r = *rep_;
  // Sort (skipped when the input is already sorted, as in LiveDictionary::merge), then merge
  // duplicates and drop what cannot be a term.
  const auto by_term = [](const auto& a, const auto& b) { return a.first < b.first; };
  if (!std::is_sorted(terms.begin(), terms.end(), by_term)) {
    std::sort(terms.begin(), terms.end(), by_term);
  }
  size_t out = 0;
  for (size_t i = 0; i < terms.size();) {
    uint64_t f = 0;
    size_t j = i;
    for (; j < terms.size() && terms[j].first == terms[i].first; ++j) {
      f = f + terms[j].second < f ? std::numeric_limits<uint64_t>::max() : f + terms[j].second;
    }
    if (terms[i].first.empty() || f == 0 || !is_valid_utf8(terms[i].first)) {
      r.dropped += j - i;
    } else {
      r.dropped += j - i - 1;  // duplicates folded into one
      if (out != i) terms[out] = std::move(terms[i]);
      terms[out].second = f;
      ++out;
    }
    i = j;
  }
  terms.resize(out);
  // The tries hold fewer than 2^25 terms and 2^26 nodes (each term adds at most its length in
  // nodes). A larger vocabulary keeps its most frequent terms that fit; the rest are dropped
  // (and counted), never an overflow.
  uint64_t bytes = 0;
  for (const auto& t : terms) bytes += t.first.size();
  if (terms.size() >= ByteTrie::kMaxTerms || bytes >= ByteTrie::kMaxNodes) {
    std::vector<size_t> order(terms.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return terms[a].second > terms[b].second; });
    std::vector<bool> keep(terms.size(), false);
    uint64_t kept_bytes = 0, kept = 0;
    for (size_t i : order) {
      if (kept + 1 >= ByteTrie::kMaxTerms) break;
      if (kept_bytes + terms[i].first.size() >= ByteTrie::kMaxNodes) continue;
      keep[i] = true;
      kept_bytes += terms[i].first.size();
      ++kept;
    }
    size_t w = 0;
    for (size_t i = 0; i < terms.size(); ++i) {
      if (!keep[i]) {
        ++r.dropped;
        continue;
      }
      if (w != i) terms[w] = std::move(terms[i]);
      ++w;
    }
    terms.resize(w);
  }

  r.freq.reserve(terms.size());
  std::vector<std::string_view> views;
  views.reserve(terms.size());
  for (const auto& t : terms) {
    r.freq.push_back(saturate32(t.second));
    views.push_back(t.first);
  }
  r.fwd = ByteTrie::build(views);
  // The reversed terms, sorted, remembering where each came from.
  std::vector<std::pair<std::string, uint32_t>> reversed;
  reversed.reserve(terms.size());
  for (uint32_t i = 0; i < terms.size(); ++i) {
    reversed.emplace_back(reverse_code_points(terms[i].first), i);
  }
  std::sort(reversed.begin(), reversed.end());
  views.clear();
  r.rev_to_fwd.reserve(reversed.size());
  for (const auto& [text, rank] : reversed) {
    views.push_back(text);
    r.rev_to_fwd.push_back(rank);
  }
  r.rev = ByteTrie::build(views);
}

TermDictionary::~TermDictionary() = default;
TermDictionary::TermDictionary(TermDictionary&&) noexcept = default;
TermDictionary& TermDictionary::operator=(TermDictionary&&) noexcept = default;

namespace {

// Collects every match, translating ranks of the reversed trie to forward ranks.
struct Collector {
  const uint32_t* to_forward;  // null for the forward trie
  std::vector<std::pair<uint32_t, uint8_t>>* out;

  static constexpr bool kBounded = false;  // keeps every match: nothing to prune by rank
  bool full() const { return false; }
  uint8_t worst_distance() const { return kMaxEditDistance + 1; }
  void offer(uint8_t d, uint32_t rank) {
    out->emplace_back(to_forward ? to_forward[rank] : rank, d);
  }
  void offer_range(uint32_t lo, uint32_t hi, uint8_t d) {
    for (uint32_t r = lo; r < hi; ++r) offer(d, r);
  }
};

// Queries shorter than this (by k) are searched in one walk: with little to split, two walks
// cost more than one (measured on the misspelling lists against wamerican-large).
constexpr size_t kMinSplitLength[kMaxEditDistance + 1] = {0, 4, 6, 7};

}  // namespace

std::vector<FuzzyMatch> TermDictionary::search(std::string_view query,
                                               const LevenshteinOptions& options,
                                               size_t limit) const {
  const Rep& r = *rep_;
  if (limit == 0 || r.freq.empty()) return {};
  std::u32string q;
  decode_utf8(query, &q);
  const uint8_t k = std::min(options.max_distance, kMaxEditDistance);
  const bool limited = options.head_budget < k && options.head_length > 0;
  if (options.prefix || options.first_char_costs_double || limited || k == 0 ||
      q.size() < kMinSplitLength[k]) {
    return search(LevenshteinAutomaton(query, options), limit);
  }
  // Full mode: split the query at h (the forward-backward method of Mihov and Schulz). An
  // alignment within k either has at most a = k/2 edits that reach a query position before
  // h: walk the trie with that limit (near the root, where a walk is most expensive, it
  // behaves like a search at distance a); or it has more, and then at most k - a - 1 edits
  // that leave a position after h (positions only grow along an alignment, so no edit is
  // both): walk the reversed trie with the reversed query under that limit, which is exact
  // for k = 2 near its root. Both walks report true distances of the alignments they allow,
  // so the least distance found for a term is its distance.
  const auto h = static_cast<uint32_t>((q.size() + 1) / 2);
  const auto a = static_cast<uint8_t>(k / 2);
  LevenshteinOptions forward = options;
  forward.head_length = h;
  forward.head_budget = a;
  LevenshteinOptions backward = options;
  backward.head_length = static_cast<uint32_t>(q.size()) - h;
  backward.head_budget = static_cast<uint8_t>(k - a - 1);
  std::u32string rq(q.rbegin(), q.rend());
  std::vector<std::pair<uint32_t, uint8_t>> found;
  Collector fwd_sink{nullptr, &found};
  walk_trie_any_k(r.fwd, r.term_count(), LevenshteinAutomaton(query, forward), fwd_sink);
  Collector rev_sink{r.rev_to_fwd.data(), &found};
  walk_trie_any_k(r.rev, r.term_count(), LevenshteinAutomaton(encode_utf8(rq), backward), rev_sink);
  std::sort(found.begin(), found.end());  // by rank, then distance: keep the first per rank
  TopK top(limit, r.freq.data());
  for (size_t i = 0; i < found.size(); ++i) {
    if (i == 0 || found[i].first != found[i - 1].first) top.offer(found[i].second, found[i].first);
  }
  return r.materialize(top);
}

std::vector<FuzzyMatch> TermDictionary::search(const LevenshteinAutomaton& a, size_t limit) const {
  const Rep& r = *rep_;
  if (limit == 0 || r.freq.empty()) return {};
  TopK top(limit, r.freq.data());
  walk_trie_any_k(r.fwd, r.term_count(), a, top);
  return r.materialize(top);
}

std::vector<FuzzyMatch> TermDictionary::prefix_terms(std::string_view prefix, size_t limit) const {
  const Rep& r = *rep_;
  uint32_t node, end;
  if (limit == 0 || r.freq.empty() || !r.descend(prefix, &node, &end)) return {};
  TopK top(limit, r.freq.data());
  top.offer_range(r.fwd.rank(node), end, 0);
  return r.materialize(top);
}

bool TermDictionary::contains(std::string_view term) const {
  uint32_t node, end;
  return !term.empty() && rep_->descend(term, &node, &end) && rep_->fwd.terminal(node);
}

uint64_t TermDictionary::frequency(std::string_view term) const {
  uint32_t node, end;
  if (term.empty() || !rep_->descend(term, &node, &end) || !rep_->fwd.terminal(node)) return 0;
  return rep_->freq[rep_->fwd.rank(node)];
}

size_t TermDictionary::size() const { return rep_->freq.size(); }
size_t TermDictionary::node_count() const {
  return rep_->fwd.node_count() + rep_->rev.node_count();
}
size_t TermDictionary::dropped_terms() const { return rep_->dropped; }

size_t TermDictionary::memory_bytes() const {
  const Rep& r = *rep_;
  return sizeof(*this) + sizeof(Rep) + r.fwd.memory_bytes() + r.rev.memory_bytes() +
         (r.rev_to_fwd.capacity() + r.freq.capacity()) * sizeof(uint32_t);
}

void TermDictionary::for_each(const std::function<void(std::string_view, uint64_t)>& fn) const {
  const ByteTrie& t = rep_->fwd;
  std::string path;
  struct Item {
    uint32_t node, depth;
  };
  std::vector<Item> stack{{0, 0}};
  while (!stack.empty()) {
    const Item it = stack.back();
    stack.pop_back();
    if (it.depth > 0) {
      path.resize(it.depth - 1);
      path.push_back(static_cast<char>(t.label(it.node)));
    }
    if (t.terminal(it.node)) fn(path, rep_->freq[t.rank(it.node)]);
    const uint32_t first = t.first_child(it.node);
    if (first == 0) continue;
    uint32_t last = first;
    while (!t.last(last)) ++last;
    for (uint32_t c = last + 1; c-- > first;) stack.push_back({c, it.depth + 1});
  }
}

}  // namespace trove::fuzzy
