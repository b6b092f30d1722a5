#include "trove/fuzzy/typo_budget.h"

#include "trove/fuzzy/utf8.h"

namespace trove::fuzzy {

uint8_t allowed_typos(std::string_view term, const TypoBudget& budget) {
  if (term.empty()) return 0;
  bool digits_only = true;
  for (char ch : term) {
    if (ch < '0' || ch > '9') {
      digits_only = false;
      break;
    }
  }
  if (digits_only) return 0;
  const size_t n = count_code_points(term);
  if (n >= budget.two_typos_min && budget.two_typos_min >= budget.one_typo_min) return 2;
  if (n >= budget.one_typo_min) return 1;
  return 0;
}

LevenshteinOptions typo_options(std::string_view term, const TypoBudget& budget, bool prefix) {
  return LevenshteinOptions{.max_distance = allowed_typos(term, budget),
                            .transpositions = true,
                            .prefix = prefix,
                            .first_char_costs_double = budget.first_char_counts_double};
}

}  // namespace trove::fuzzy
