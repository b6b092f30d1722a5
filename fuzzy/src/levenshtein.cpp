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

  std::u32string q;
  decode_utf8(query_utf8, &q);
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
  for (uint8_t e = 0; e <= k_; ++e) {
    const uint32_t reach = std::min<uint32_t>(e, m_);
    start_.live[e] = static_cast<uint8_t>(((2u << reach) - 1) << k_);
  }
  start_.best = prefix_ && m_ <= k_ ? static_cast<uint8_t>(m_) : static_cast<uint8_t>(k_ + 1);
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
