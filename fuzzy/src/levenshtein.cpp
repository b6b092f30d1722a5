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

  lead_.assign(m_ + 3 * kMaxEditDistance + 20, 256);
  for (uint32_t i = 0; i < m_; ++i) {
    lead_[i + k_] = static_cast<uint8_t>(query_utf8_[offsets_[i]]);
  }

  // Lanes 0..k of a word: bit 16e set for each.
  uint64_t lanes = 0;
  for (uint32_t e = 0; e <= k_; ++e) lanes |= uint64_t{1} << (16 * e);
  // Positions past the end of the query are never live: at depth t, window bit j (old
  // coordinates, see step_k) stands for position t - k + j, valid while j <= m - t + k.
  valid_.resize(m_ + k_ + 1);
  for (uint32_t t = 0; t <= m_ + k_; ++t) {
    const uint32_t last = m_ + k_ - t;
    const uint64_t lane = last >= 2u * k_ + 5 ? (1u << (2 * k_ + 6)) - 1 : (2u << last) - 1;
    valid_[t] = lane * lanes;
  }
  // The head limit, by depth (old coordinates): positions < head_length, lanes above budget.
  const uint32_t h = options.head_length;
  head_budget_ = std::min(options.head_budget, k_);
  head_limited_ = options.head_budget < k_ && h > 0 && !options.first_char_costs_double;
  if (head_limited_) {
    for (uint32_t e = head_budget_ + 1u; e <= k_; ++e) upper_lanes_ |= uint64_t{1} << (16 * e);
    head_low_.resize(m_ + k_ + 1);
    for (uint32_t t = 0; t < head_low_.size(); ++t) {
      const int64_t before = static_cast<int64_t>(h) - t + k_;  // bits j < this
      const uint64_t lane = before <= 0 ? 0 : before >= 16 ? 0xFFFF : (uint64_t{1} << before) - 1;
      head_low_[t] = lane * upper_lanes_;
    }
  }

  // Start: no candidate character read; position i is live at level e >= i (i deletions,
  // added one level at a time so that the head limit applies to each step of the chain).
  std::vector<std::vector<bool>> reach(k_ + 1u, std::vector<bool>(m_ + 1u, false));
  for (uint32_t e = 0; e <= k_; ++e) {
    for (uint32_t i = 0; i <= m_; ++i) {
      reach[e][i] = i == 0 || (e > 0 && (reach[e - 1][i] || reach[e - 1][i - 1]));
      if (head_limited_ && e > head_budget_ && i < h) reach[e][i] = reach[head_budget_][i];
    }
    for (uint32_t i = 0; i <= m_ && i <= k_; ++i) {
      if (reach[e][i]) start_.live |= uint64_t{1} << (16 * e + i + k_);
    }
  }
  start_.best = k_ + 1u;
  if (prefix_) start_.best = full_distance(start_);  // the empty prefix
}

bool LevenshteinAutomaton::exact_tail(State s, std::string_view* rest) const {
  if (prefix_ && s.best <= k_) return false;  // matched: every extension matches
  const uint64_t lower_levels = (uint64_t{1} << (16 * k_)) - 1;
  if ((s.live & lower_levels) || s.transpose) return false;  // budget left, or a swap
  const uint64_t w = s.live >> (16 * k_);
  if (w == 0 || (w & (w - 1)) != 0) return false;  // not exactly one way left
  const auto p = static_cast<size_t>(static_cast<int64_t>(s.depth) - k_ + __builtin_ctzll(w));
  *rest = std::string_view(query_utf8_).substr(offsets_[p]);
  return true;
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
