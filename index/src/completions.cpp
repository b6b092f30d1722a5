#include "completions.h"

#include <absl/container/flat_hash_map.h>

#include <algorithm>
#include <optional>

namespace trove::index_internal {
namespace {

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

// Whether an item's word stands for earlier word i: one of its forms, or the same stem.
class WordMatcher {
 public:
  WordMatcher(const DocumentBuilder& builder, const CompletionQuery& q) : builder_(builder) {
    for (const auto& forms : q.words) {
      forms_.emplace_back(forms.begin(), forms.end());
      stems_.push_back(forms.empty() ? std::string() : builder.stem(forms[0]));
    }
  }
  bool stands_for(const std::string& word, size_t i) {
    if (forms_[i].contains(word)) return true;
    if (stems_[i].empty()) return false;
    auto it = stem_of_.find(word);
    if (it == stem_of_.end()) it = stem_of_.emplace(word, builder_.stem(word)).first;
    return it->second == stems_[i];
  }

 private:
  const DocumentBuilder& builder_;
  std::vector<absl::flat_hash_set<std::string>> forms_;
  std::vector<std::string> stems_;
  absl::flat_hash_map<std::string, std::string> stem_of_;
};

struct Candidate {
  absl::flat_hash_map<std::string, size_t> surfaces;  // each spelling, by items using it
  std::string surface;  // the most used spelling, the first of those tied
  bool typo = false;     // completes a typo word of the prefix, not the prefix itself
  size_t in_row = 0;     // items holding the phrase with its words in a row
  size_t holding = 0;    // items holding it at all
  size_t first_rank = 0;
};

// The completion that word j of `ws` makes (it completes the prefix): the phrase in a row when
// the earlier words precede it, else the earlier words as found anywhere in `ws` (or as typed)
// then word j. Sets *in_row.
std::pair<std::string, std::string> phrase_at(std::string_view text,
                                              const std::vector<SurfaceWord>& ws, size_t j,
                                              const CompletionQuery& q, WordMatcher& m,
                                              bool* in_row) {
  const size_t k = q.words.size();
  auto surface = [&](size_t from, size_t to) {
    return std::string(text.substr(ws[from].begin, ws[to].end - ws[from].begin));
  };
  *in_row = j >= k;
  for (size_t i = 0; i < k && *in_row; ++i) *in_row = m.stands_for(ws[j - k + i].folded, i);
  std::string key, shown;
  if (*in_row) {
    for (size_t w = j - k; w <= j; ++w) key += (w == j - k ? "" : " ") + ws[w].folded;
    return {key, surface(j - k, j)};
  }
  for (size_t i = 0; i < k; ++i) {
    std::optional<size_t> found;
    for (size_t w = 0; w < ws.size() && !found; ++w) {
      if (w != j && m.stands_for(ws[w].folded, i)) found = w;
    }
    key += (found ? ws[*found].folded : q.words[i].front()) + " ";
    shown += (found ? surface(*found, *found) : q.typed[i]) + " ";
  }
  return {key + ws[j].folded, shown + surface(j, j)};
}

}  // namespace

std::vector<SurfaceWord> surface_words(const DocumentBuilder& builder, std::string_view text) {
  std::vector<std::pair<size_t, size_t>> spans;
  builder.analyzer().word_spans(text, &spans);
  std::vector<SurfaceWord> out;
  std::vector<Token> tokens;
  // One pass over the whole text; its words pair with the spans one to one unless folding
  // changed the word breaks (a ligature, a segment that yields no word): then span by span.
  builder.analyzer().analyze(text, &tokens);
  std::erase_if(tokens, [](const Token& t) { return t.joined; });
  if (tokens.size() == spans.size()) {
    for (size_t i = 0; i < spans.size(); ++i) {
      out.push_back(SurfaceWord{std::move(tokens[i].text), spans[i].first, spans[i].second});
    }
    return out;
  }
  for (const auto& [begin, end] : spans) {
    tokens.clear();
    builder.analyzer().analyze(text.substr(begin, end - begin), &tokens);
    for (auto& t : tokens) {
      if (!t.joined) out.push_back(SurfaceWord{std::move(t.text), begin, end});
    }
  }
  return out;
}

const std::vector<SurfaceWord>& TitleWords::of(ItemRef ref, const Item& item) {
  auto it = cache_.find(ref);
  if (it == cache_.end()) it = cache_.emplace(ref, surface_words(builder_, item.data.title)).first;
  return it->second;
}

std::vector<std::string> completions_from_items(const DocumentBuilder& builder, const State& st,
                                                const std::vector<ItemRef>& items,
                                                const CompletionQuery& q, size_t limit,
                                                TitleWords& titles) {
  if (limit == 0 || (q.prefix.empty() && q.prefix_typos.empty())) return {};
  WordMatcher matcher(builder, q);
  absl::flat_hash_map<std::string, Candidate> found;
  for (size_t rank = 0; rank < items.size(); ++rank) {
    const Item* item = st.item_at(items[rank]);
    if (item == nullptr) continue;
    absl::flat_hash_map<std::string, bool> in_this_item;  // key -> found in a row here
    std::vector<SurfaceWord> brand_words;
    if (item->data.brand) brand_words = surface_words(builder, *item->data.brand);
    for (const std::string* text : {&item->data.title, item->data.brand ? &*item->data.brand : nullptr}) {
      if (text == nullptr) continue;
      const std::vector<SurfaceWord>& ws =
          text == &item->data.title ? titles.of(items[rank], *item) : brand_words;
      for (size_t j = 0; j < ws.size(); ++j) {
        const bool under_prefix = !q.prefix.empty() && starts_with(ws[j].folded, q.prefix);
        if (!under_prefix && !q.prefix_typos.contains(ws[j].folded)) continue;
        bool in_row = false;
        auto [key, shown] = phrase_at(*text, ws, j, q, matcher, &in_row);
        auto [it, fresh] = found.try_emplace(key);
        Candidate& c = it->second;
        if (fresh) {
          c.typo = !under_prefix;
          c.first_rank = rank;
        }
        auto [seen, first_here] = in_this_item.try_emplace(key, in_row);
        if (first_here) {
          ++c.holding;
          if (in_row) ++c.in_row;
          const size_t uses = ++c.surfaces[shown];
          if (c.surface.empty() || uses > c.surfaces[c.surface]) c.surface = std::move(shown);
        } else if (in_row && !seen->second) {
          seen->second = true;  // in a row further on in the same item: counted once
          ++c.in_row;
        }
      }
    }
  }
  std::vector<const Candidate*> ranked;
  for (const auto& [key, c] : found) ranked.push_back(&c);
  std::sort(ranked.begin(), ranked.end(), [](const Candidate* a, const Candidate* b) {
    if (a->typo != b->typo) return !a->typo;
    if (a->in_row != b->in_row) return a->in_row > b->in_row;
    if (a->holding != b->holding) return a->holding > b->holding;
    if (a->first_rank != b->first_rank) return a->first_rank < b->first_rank;
    return a->surface < b->surface;
  });
  // Once some item has the words in a row, the phrases gathered from words far apart ("lord
  // of the r" -> "Lord of The Return", from "The Return of the King (The Lord of the Rings)")
  // are noise: they still find their item, but no shopper would type them.
  const bool any_in_row = std::any_of(ranked.begin(), ranked.end(),
                                      [](const Candidate* c) { return c->in_row > 0; });
  std::vector<std::string> out;
  for (const Candidate* c : ranked) {
    if (out.size() >= limit) break;
    if (any_in_row && c->in_row == 0) continue;
    out.push_back(c->surface);
  }
  return out;
}

}  // namespace trove::index_internal
