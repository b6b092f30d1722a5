#include "trove/fuzzy/live_dictionary.h"

#include <algorithm>
#include <limits>

#include "trove/fuzzy/utf8.h"

namespace trove::fuzzy {
namespace {

bool better(const FuzzyMatch& a, const FuzzyMatch& b) {
  if (a.distance != b.distance) return a.distance < b.distance;
  if (a.frequency != b.frequency) return a.frequency > b.frequency;
  return a.term < b.term;
}

uint64_t effective(uint64_t base, int64_t delta) {
  if (delta >= 0) {
    const auto d = static_cast<uint64_t>(delta);
    return base + d < base ? std::numeric_limits<uint64_t>::max() : base + d;
  }
  const uint64_t minus = delta == std::numeric_limits<int64_t>::min()
                             ? uint64_t{1} << 63
                             : static_cast<uint64_t>(-delta);
  return base > minus ? base - minus : 0;
}

// Base results minus the terms the delta overrides, plus the delta's own matches: the best
// `limit`. `overridden` is sorted.
std::vector<FuzzyMatch> combine(std::vector<FuzzyMatch> base_results,
                                const std::vector<std::string>& overridden,
                                std::vector<FuzzyMatch> delta_results, size_t limit) {
  for (FuzzyMatch& m : base_results) {
    if (!std::binary_search(overridden.begin(), overridden.end(), m.term)) {
      delta_results.push_back(std::move(m));
    }
  }
  std::sort(delta_results.begin(), delta_results.end(), better);
  if (delta_results.size() > limit) delta_results.resize(limit);
  return delta_results;
}

size_t widen(size_t limit, size_t extra) {
  return limit > std::numeric_limits<size_t>::max() - extra ? std::numeric_limits<size_t>::max()
                                                            : limit + extra;
}

}  // namespace

LiveDictionary::LiveDictionary() : base_(std::make_shared<const TermDictionary>()) {}

LiveDictionary::LiveDictionary(std::shared_ptr<const TermDictionary> base)
    : base_(base ? std::move(base) : std::make_shared<const TermDictionary>()) {}

void LiveDictionary::add_locked(std::string_view term, int64_t delta) {
  if (term.empty() || delta == 0 || !is_valid_utf8(term)) return;
  auto it = delta_.find(term);
  if (it == delta_.end()) {
    it = delta_.emplace(std::string(term), Entry{0, base_->frequency(term)}).first;
  }
  it->second.delta += delta;
  if (it->second.delta == 0) delta_.erase(it);
}

void LiveDictionary::add(std::string_view term, int64_t delta) {
  std::unique_lock lock(mu_);
  add_locked(term, delta);
}

void LiveDictionary::add(const std::vector<std::pair<std::string, int64_t>>& deltas) {
  std::unique_lock lock(mu_);
  for (const auto& [term, delta] : deltas) add_locked(term, delta);
}

std::vector<FuzzyMatch> LiveDictionary::search(std::string_view query,
                                               const LevenshteinOptions& options,
                                               size_t limit) const {
  if (limit == 0) return {};
  const LevenshteinAutomaton a(query, options);
  std::shared_ptr<const TermDictionary> base;
  std::vector<std::string> overridden;  // delta terms that exist in `base`, sorted
  std::vector<FuzzyMatch> delta_results;
  {
    std::shared_lock lock(mu_);
    base = base_;
    for (const auto& [term, entry] : delta_) {
      const uint8_t d = a.evaluate(term);
      if (d > a.max_distance()) continue;  // neither in the base results nor in ours
      if (entry.base_frequency > 0) overridden.push_back(term);
      const uint64_t f = effective(entry.base_frequency, entry.delta);
      if (f > 0) delta_results.push_back({term, d, f});
    }
  }
  // Each overridden term may push one base result out of the top `limit`: ask for that many
  // more so the combined top is exact.
  return combine(base->search(query, options, widen(limit, overridden.size())), overridden,
                 std::move(delta_results), limit);
}

std::vector<FuzzyMatch> LiveDictionary::prefix_terms(std::string_view prefix, size_t limit) const {
  if (limit == 0) return {};
  std::shared_ptr<const TermDictionary> base;
  std::vector<std::string> overridden;
  std::vector<FuzzyMatch> delta_results;
  {
    std::shared_lock lock(mu_);
    base = base_;
    for (auto it = delta_.lower_bound(prefix);
         it != delta_.end() && std::string_view(it->first).starts_with(prefix); ++it) {
      if (it->second.base_frequency > 0) overridden.push_back(it->first);
      const uint64_t f = effective(it->second.base_frequency, it->second.delta);
      if (f > 0) delta_results.push_back({it->first, 0, f});
    }
  }
  return combine(base->prefix_terms(prefix, widen(limit, overridden.size())), overridden,
                 std::move(delta_results), limit);
}

uint64_t LiveDictionary::frequency(std::string_view term) const {
  std::shared_lock lock(mu_);
  const auto it = delta_.find(term);
  if (it == delta_.end()) return base_->frequency(term);
  return effective(it->second.base_frequency, it->second.delta);
}

void LiveDictionary::merge() {
  std::lock_guard merge_lock(merge_mu_);
  std::shared_ptr<const TermDictionary> old_base;
  Delta merged;
  {
    std::shared_lock lock(mu_);
    old_base = base_;
    merged = delta_;
  }
  // Both sides are sorted: one merge pass, and the builder skips its sort.
  TermFrequencies all;
  all.reserve(old_base->size() + merged.size());
  auto d = merged.begin();
  const auto flush_delta_before = [&](std::string_view term) {
    for (; d != merged.end() && (term.data() == nullptr || d->first < term); ++d) {
      if (d->second.base_frequency > 0) continue;  // base term: emitted with the base
      const uint64_t f = effective(0, d->second.delta);
      if (f > 0) all.emplace_back(d->first, f);
    }
  };
  old_base->for_each([&](std::string_view term, uint64_t f) {
    flush_delta_before(term);
    if (d != merged.end() && d->first == term) {
      f = effective(f, d->second.delta);
      ++d;
    }
    if (f > 0) all.emplace_back(std::string(term), f);
  });
  flush_delta_before(std::string_view());  // a null view: flush the rest
  auto fresh = std::make_shared<const TermDictionary>(std::move(all));

  std::unique_lock lock(mu_);
  base_ = std::move(fresh);
  for (const auto& [term, entry] : merged) {
    auto it = delta_.find(term);
    if (it == delta_.end()) {
      it = delta_.emplace(term, Entry{}).first;
    }
    it->second.delta -= entry.delta;
    if (it->second.delta == 0) delta_.erase(it);
  }
  for (auto& [term, entry] : delta_) entry.base_frequency = base_->frequency(term);
}

size_t LiveDictionary::delta_size() const {
  std::shared_lock lock(mu_);
  return delta_.size();
}

std::shared_ptr<const TermDictionary> LiveDictionary::base() const {
  std::shared_lock lock(mu_);
  return base_;
}

}  // namespace trove::fuzzy
