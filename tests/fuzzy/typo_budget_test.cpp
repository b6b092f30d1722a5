// TypoBudget: typos allowed by term length, digits-only terms, and the options it yields.
#include "trove/fuzzy/typo_budget.h"

#include <catch2/catch.hpp>

#include "trove/fuzzy/term_dictionary.h"

using trove::fuzzy::allowed_typos;
using trove::fuzzy::TypoBudget;

TEST_CASE("typo budget allows none under 5 code points, 1 up to 8 and 2 beyond", "[fuzzy]") {
  CHECK(allowed_typos("") == 0);
  CHECK(allowed_typos("tea") == 0);
  CHECK(allowed_typos("milk") == 0);
  CHECK(allowed_typos("bread") == 1);
  CHECK(allowed_typos("nutella") == 1);
  CHECK(allowed_typos("chocolat") == 1);   // 8
  CHECK(allowed_typos("chocolate") == 2);  // 9
  CHECK(allowed_typos("mozzarella") == 2);
}

TEST_CASE("typo budget counts code points, not bytes", "[fuzzy]") {
  CHECK(allowed_typos("café") == 0);        // 4 code points, 5 bytes
  CHECK(allowed_typos("crème") == 1);       // 5
  CHECK(allowed_typos("brûlées") == 1);     // 7 code points, 9 bytes
  CHECK(allowed_typos("巧克力蛋糕") == 1);  // 5 code points, 15 bytes
}

TEST_CASE("digits-only terms are exact only", "[fuzzy]") {
  CHECK(allowed_typos("12345") == 0);
  CHECK(allowed_typos("3017620422003") == 0);
  CHECK(allowed_typos("500ml") == 1);  // not digits only
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
  const auto o = trove::fuzzy::typo_options("chocolat");
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
