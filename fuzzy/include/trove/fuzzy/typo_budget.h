// TypoBudget: how many typos a query term may carry, by its length in code points. Defaults
// are Algolia's and Typesense's (minWordSizefor1Typo 4, minWordSizefor2Typos 8):
//
//   length (code points)   1-3   4-7   8+        with a digit (any length)
//   allowed typos           0     1     2         0
//
// `max_typos` caps it (a request's `typos=0|1|2`). Meilisearch's defaults are 5 and 9.
// "A typo on the first character counts double" is not a length rule: it is carried into
// the search as LevenshteinOptions::first_char_costs_double, which makes a candidate whose
// first code point differs from the query's cost one more edit (so with a budget of 1 it is
// excluded, with 2 it must be otherwise exact).
//
//   TypoBudget budget;
//   auto opts = typo_options("chocolat", budget, /*prefix=*/false);  // k = 1, first char x2
//   auto matches = dictionary.search("chocolat", opts, 10);
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "trove/fuzzy/levenshtein.h"

namespace trove::fuzzy {

struct TypoBudget {
  size_t one_typo_min = 4;   // fewer code points than this: exact only
  size_t two_typos_min = 8;  // from this many code points: 2 typos
  bool first_char_counts_double = true;
  uint8_t max_typos = 2;     // never more than this, whatever the length
};

// 0, 1 or 2 for `term` (UTF-8). Terms with an ASCII digit (codes, sizes, years, models:
// "500ml", "iphone13") are exact only, whatever their length; so is the empty term.
uint8_t allowed_typos(std::string_view term, const TypoBudget& budget = {});

// The search options the budget gives `term`: k = allowed_typos, transpositions on, the
// first-character rule as configured.
LevenshteinOptions typo_options(std::string_view term, const TypoBudget& budget = {},
                                bool prefix = false);

}  // namespace trove::fuzzy
