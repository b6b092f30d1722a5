// TypoBudget: typos allowed by term length, digits-only terms, and the options it yields.
#include "trove/fuzzy/typo_budget.h"

#include <catch2/catch.hpp>

#include "trove/fuzzy/term_dictionary.h"

using trove::fuzzy::allowed_typos;
using trove::fuzzy::TypoBudget;

TEST_CASE("typo budget allows none under 4 code points, 1 up to 7 and 2 from 8", "[fuzzy]") {
  // Algolia's and Typesense's defaults (minWordSizefor1Typo 4, minWordSizefor2Typos 8).
  CHECK(allowed_typos("") == 0);
  CHECK(allowed_typos("tea") == 0);
  CHECK(allowed_typos("milk") == 1);
  CHECK(allowed_typos("hary") == 1);
  CHECK(allowed_typos("bread") == 1);
  CHECK(allowed_typos("nutella") == 1);    // 7
  CHECK(allowed_typos("chocolat") == 2);   // 8
  CHECK(allowed_typos("mozzarella") == 2);
  CHECK(allowed_typos("mozzarella", {.max_typos = 1}) == 1);
  CHECK(allowed_typos("milk", {.max_typos = 0}) == 0);
}

TEST_CASE("typo budget counts code points, not bytes", "[fuzzy]") {
  CHECK(allowed_typos("thé") == 0);         // 3 code points, 4 bytes
  CHECK(allowed_typos("café") == 1);        // 4 code points, 5 bytes
  CHECK(allowed_typos("brûlées") == 1);     // 7 code points, 9 bytes
  CHECK(allowed_typos("crème brûlée") == 2);  // 12 code points
  CHECK(allowed_typos("巧克力蛋糕") == 1);  // 5 code points, 15 bytes
}

TEST_CASE("terms with a digit are exact only", "[fuzzy]") {
  CHECK(allowed_typos("12345") == 0);
  CHECK(allowed_typos("3017620422003") == 0);
  CHECK(allowed_typos("500ml") == 0);     // one edit is 400ml
  CHECK(allowed_typos("iphone13") == 0);  // one edit is iphone12
}

TEST_CASE("typo budget thresholds are configurable", "[fuzzy]") {
  const TypoBudget algolia{.one_typo_min = 4, .two_typos_min = 8};
  CHECK(allowed_typos("milk", algolia) == 1);
  CHECK(allowed_typos("tea", algolia) == 0);
  CHECK(allowed_typos("chocolat", algolia) == 2);
  const TypoBudget strict{.one_typo_min = 100, .two_typos_min = 200};
  CHECK(allowed_typos("chocolate", strict) == 0);
}

TEST_CASE("typo options carry the budget and the first-character rule into a search", "[fuzzy]") {
  CHECK(trove::fuzzy::typo_options("chocolat").max_distance == 2);
  const auto o = trove::fuzzy::typo_options("chocolat", {.two_typos_min = 9});
  CHECK(o.max_distance == 1);
  CHECK(o.transpositions);
  CHECK_FALSE(o.prefix);
  CHECK(o.first_char_costs_double);
  CHECK(trove::fuzzy::typo_options("choc", {}, true).prefix);
  CHECK_FALSE(trove::fuzzy::typo_options("chocolat", {.first_char_counts_double = false})
                  .first_char_costs_double);

  const trove::fuzzy::TermDictionary d(
      trove::fuzzy::TermFrequencies{{"chocolat", 5}, {"xhocolat", 50}, {"chocolta", 1}});
  // "xhocolat" differs on the first character: excluded with a budget of 1.
  const auto m = d.search("chocolat", o, 10);
  REQUIRE(m.size() == 2);
  CHECK(m[0].term == "chocolat");
  CHECK(m[1].term == "chocolta");
}
