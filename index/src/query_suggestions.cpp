#include "query_suggestions.h"

#include <absl/container/flat_hash_map.h>

#include <algorithm>

#include "document.h"

namespace trove::index_internal {

void QuerySuggestions::refresh(Store& store, const Analyzer& analyzer,
                               std::chrono::milliseconds every) {
  const auto now = std::chrono::steady_clock::now();
  if (version_ != 0 && now - built_ < every) return;
  std::vector<std::pair<std::string, uint64_t>> queries;
  uint64_t version = 0;
  store.read([&](const State& st) {
    version = st.event_count(EventType::kSearchQuery);
    if (version == version_) return;
    queries.reserve(st.searched_queries().size());
    for (const auto& [text, q] : st.searched_queries()) queries.emplace_back(text, q.count);
  });
  if (version == version_) return;

  // Spellings that fold alike count together; the most searched one is shown.
  struct Merged {
    std::string text;
    uint64_t best = 0;
    uint64_t count = 0;
  };
  absl::flat_hash_map<std::string, Merged> merged;
  std::unordered_map<std::string, std::string> folded_now;
  folded_now.reserve(queries.size());
  for (auto& [text, count] : queries) {
    auto seen = folded_.find(text);
    std::string folded = seen != folded_.end() ? std::move(seen->second) : folded_words(analyzer, text);
    if (folded.empty()) continue;
    Merged& m = merged[folded];
    m.count += count;
    if (count > m.best) {
      m.best = count;
      m.text = text;
    }
    folded_now.emplace(std::move(text), std::move(folded));
  }
  auto table = std::make_shared<Table>();
  table->reserve(merged.size());
  for (auto& [folded, m] : merged) table->push_back({folded, std::move(m.text), m.count});
  std::sort(table->begin(), table->end(),
            [](const Entry& a, const Entry& b) { return a.folded < b.folded; });
  {
    std::lock_guard lock(mu_);
    table_ = std::move(table);
  }
  folded_ = std::move(folded_now);
  version_ = version;
  built_ = now;
}

std::vector<QuerySuggestions::Entry> QuerySuggestions::lookup(const Analyzer& analyzer,
                                                  const fuzzy::LiveDictionary& vocab,
                                                  std::string_view typed, size_t limit) const {
  std::string prefix = folded_words(analyzer, typed);
  if (prefix.empty() || limit == 0) return {};
  const bool whole_word = typed.back() == ' ';
  std::shared_ptr<const Table> table;
  {
    std::lock_guard lock(mu_);
    table = table_;
  }
  std::vector<const Entry*> found;
  auto it = std::lower_bound(table->begin(), table->end(), prefix,
                             [](const Entry& e, const std::string& p) { return e.folded < p; });
  for (; it != table->end() && it->folded.starts_with(prefix); ++it) {
    if (it->count < kMinSearchesToSuggest) continue;
    // "harry " completes to "harry potter", not "harrys".
    if (whole_word && it->folded.size() > prefix.size() && it->folded[prefix.size()] != ' ') {
      continue;
    }
    found.push_back(&*it);
  }
  // Most searched first; among equals the shorter, then the first in folded order. A few
  // more than asked are ordered, for those left out below.
  auto before = [](const Entry* a, const Entry* b) {
    if (a->count != b->count) return a->count > b->count;
    if (a->folded.size() != b->folded.size()) return a->folded.size() < b->folded.size();
    return a->folded < b->folded;
  };
  const size_t keep = std::min(found.size(), limit * 4);
  std::partial_sort(found.begin(), found.begin() + static_cast<std::ptrdiff_t>(keep), found.end(),
                    before);
  found.resize(keep);
  std::vector<Entry> out;
  for (const Entry* e : found) {
    if (out.size() >= limit) break;
    // Every word in the catalog's vocabulary: a query whose items are gone is not offered.
    bool known = true;
    for (size_t start = 0; known && start < e->folded.size();) {
      size_t end = e->folded.find(' ', start);
      if (end == std::string::npos) end = e->folded.size();
      known = vocab.contains(std::string_view(e->folded).substr(start, end - start));
      start = end + 1;
    }
    if (known) out.push_back(*e);
  }
  return out;
}

}  // namespace trove::index_internal
