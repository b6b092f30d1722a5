#include "trove/fuzzy/typo_budget.h"

#include "trove/fuzzy/utf8.h"

#include <algorithm>

namespace trove::fuzzy {

uint8_t allowed_typos(std::string_view term, const TypoBudget& budget) {
  if (term.empty()) return 0;
  // A word with a digit is a code, a size or a model ("500ml", "iphone13", "id17"): one edit
  // turns it into another product's ("400ml", "iphone12"), so it is exact only.
  for (char ch : term) {
    if (ch >= '0' && ch <= '9') return 0;
  }
  const size_t n = count_code_points(term);
  uint8_t k = 0;
  if (n >= budget.two_typos_min && budget.two_typos_min >= budget.one_typo_min) {
    k = 2;
  } else if (n >= budget.one_typo_min) {
    k = 1;
  }
  return std::min(k, budget.max_typos);
}

LevenshteinOptions typo_options(std::string_view term, const TypoBudget& budget, bool prefix) {
  return LevenshteinOptions{.max_distance = allowed_typos(term, budget),
                            .transpositions = true,
                            .prefix = prefix,
                            .first_char_costs_double = budget.first_char_counts_double};
}

}  // namespace trove::fuzzy
