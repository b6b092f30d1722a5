#include "trove/fuzzy/levenshtein.h"

#include <algorithm>

#include "trove/fuzzy/utf8.h"

namespace trove::fuzzy {

LevenshteinAutomaton::LevenshteinAutomaton(std::string_view query_utf8,
                                           const LevenshteinOptions& options)
    : options_(options) {
  // REQUIRES: k <= kMaxEditDistance (windows are 2k+3 <= 9 bits wide).
  assert(options.max_distance <= kMaxEditDistance);
  k_ = std::min(options.max_distance, kMaxEditDistance);
  options_.max_distance = k_;
  prefix_ = options.prefix;
  transpositions_ = options.transpositions;

  decode_utf8(query_utf8, &query_);
  const std::u32string& q = query_;
  offsets_.reserve(q.size() + 1);
  for (char32_t c : q) {
    offsets_.push_back(static_cast<uint32_t>(query_utf8_.size()));
    append_utf8(c, &query_utf8_);
  }
  offsets_.push_back(static_cast<uint32_t>(query_utf8_.size()));
  m_ = static_cast<uint32_t>(q.size());
  first_ = m_ > 0 ? q[0] : 0;
  first_char_rule_ = options.first_char_costs_double && m_ > 0;

  // One block of words_ per distinct character, plus block 0 (all zero) for the rest. A
  // window read at depth t touches words t/64 and t/64 + 1, and t <= m + k.
  words_ = (m_ + k_) / 64 + 2;
  std::u32string distinct = q;
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  bits_.assign((distinct.size() + 1) * words_, 0);
  for (size_t d = 0; d < distinct.size(); ++d) {
    const auto block = static_cast<uint32_t>((d + 1) * words_);
    if (distinct[d] < 128) {
      ascii_block_[distinct[d]] = block;
    } else {
      other_.emplace_back(distinct[d], block);
    }
  }
  for (uint32_t i = 0; i < m_; ++i) {
    const size_t d = std::lower_bound(distinct.begin(), distinct.end(), q[i]) - distinct.begin();
    const size_t bit = i + k_;  // shifted by k so the window for depth t starts at bit t
    bits_[(d + 1) * words_ + bit / 64] |= uint64_t{1} << (bit % 64);
  }

  // Start: no candidate character read; position i is live at level e >= i (i deletions).
  for (uint32_t e = 0; e <= k_; ++e) {
    const uint32_t reach = std::min<uint32_t>(e, m_);
    start_.live |= uint64_t{((2u << reach) - 1) << k_} << (16 * e);
  }
  start_.best = prefix_ && m_ <= k_ ? m_ : k_ + 1u;
}

int LevenshteinAutomaton::exact_continuations(State s, Continuation out[kMaxContinuations]) const {
  if (prefix_ && s.best <= k_) return -1;  // matched: every extension matches
  const uint64_t lower_levels = (uint64_t{1} << (16 * k_)) - 1;
  if ((s.live & lower_levels) || (s.transpose & lower_levels)) return -1;
  const std::string_view q(query_utf8_);
  const int64_t base = static_cast<int64_t>(s.depth) - k_;
  int n = 0;
  for (uint64_t w = (s.live >> (16 * k_)) & 0xFFFF; w != 0; w &= w - 1) {
    const auto p = static_cast<size_t>(base + __builtin_ctzll(w));
    out[n++] = {std::string_view(), q.substr(offsets_[p])};
  }
  for (uint64_t w = (s.transpose >> (16 * k_)) & 0xFFFF; w != 0; w &= w - 1) {
    // A pending swap at p implies query[p+1] exists (it was the character just read).
    const auto p = static_cast<size_t>(base + __builtin_ctzll(w));
    out[n++] = {q.substr(offsets_[p], offsets_[p + 1] - offsets_[p]), q.substr(offsets_[p + 2])};
  }
  // Drop duplicates, and in prefix mode strings that start with another one (their subtree is
  // inside the other's). Full mode: the empty string is the candidate itself, already scored.
  const auto joined_equal_or_extends = [](const Continuation& a, const Continuation& b,
                                          bool allow_extension) {
    // Does a == b, or (allow_extension) does a start with b?
    const size_t la = a.head.size() + a.rest.size(), lb = b.head.size() + b.rest.size();
    if (la < lb || (!allow_extension && la != lb)) return false;
    for (size_t i = 0; i < lb; ++i) {
      const char ca = i < a.head.size() ? a.head[i] : a.rest[i - a.head.size()];
      const char cb = i < b.head.size() ? b.head[i] : b.rest[i - b.head.size()];
      if (ca != cb) return false;
    }
    return true;
  };
  int kept = 0;
  for (int i = 0; i < n; ++i) {
    if (!prefix_ && out[i].head.empty() && out[i].rest.empty()) continue;
    bool redundant = false;
    for (int j = 0; j < n && !redundant; ++j) {
      if (j == i) continue;
      const bool covers = joined_equal_or_extends(out[i], out[j], prefix_);
      // Of two equal strings keep the first; a strictly longer one is covered by its prefix.
      const bool equal = covers && joined_equal_or_extends(out[j], out[i], false);
      redundant = covers && (!equal || j < i);
    }
    if (!redundant) out[kept++] = out[i];
  }
  return kept;
}

uint8_t LevenshteinAutomaton::evaluate(std::string_view candidate_utf8) const {
  State s = start_;
  for (size_t pos = 0; pos < candidate_utf8.size();) {
    s = step(s, next_code_point(candidate_utf8, &pos));
    if (!can_match(s)) return static_cast<uint8_t>(k_ + 1);
    if (is_sink(s)) break;  // prefix mode: the rest cannot change the distance
  }
  return distance(s);
}

}  // namespace trove::fuzzy
