// Query suggestions: queries shoppers searched and were shown items for (SearchQuery events
// with item_ids) come first among suggest's completions, most searched first, once searched
// twice, only while their words are in the catalog; spellings that fold alike count together.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "index_fixture.h"

namespace {

using namespace trove;
using namespace trove::test;
using Strings = std::vector<std::string>;

IndexOptions every_flush() {
  IndexOptions o;
  o.query_suggestions_every = std::chrono::milliseconds(0);
  return o;
}

void searched(Shop& shop, const std::string& q, int times, Strings shown = {"hp1"}) {
  std::vector<Event> v;
  for (int i = 0; i < times; ++i) {
    v.push_back(ev(SearchQuery{visitor(cat("v", i)), q, shown, std::nullopt}));
  }
  shop.add(std::move(v));
}

void add_books(Shop& shop) {
  shop.add(item("hp1", "Harry Potter and the Philosopher's Stone"));
  shop.add(item("hp2", "Harry Potter and the Chamber of Secrets"));
  shop.add(item("box", "Harry Potter Box Set"));
  shop.add(item("hw", "Harry's World"));
}

}  // namespace

TEST_CASE("queries searched with results come first in suggest, most searched first",
          "[index][suggest]") {
  Shop shop(every_flush());
  add_books(shop);
  const Strings before = shop.suggest("harry p").completions;
  REQUIRE(!before.empty());
  searched(shop, "harry potter box set", 3);
  searched(shop, "harry potter chamber", 5);
  const Strings after = shop.suggest("harry p").completions;
  REQUIRE(after.size() >= 3);
  CHECK(after[0] == "harry potter chamber");
  CHECK(after[1] == "harry potter box set");
  // The item completions follow, without repeating the same words.
  CHECK(std::count(after.begin(), after.end(), "Harry Potter Box Set") == 0);
  // A whole word typed (a space after it) completes to queries with that word, not longer ones.
  shop.add(item("rh", "Harryhausen Films"));
  searched(shop, "harryhausen films", 9, {"rh"});
  CHECK(shop.suggest("harry ").completions[0] == "harry potter chamber");
  CHECK(shop.suggest("harryh").completions[0] == "harryhausen films");
}

TEST_CASE("a query searched once, without results, or with words the catalog lacks is not "
          "suggested",
          "[index][suggest]") {
  Shop shop(every_flush());
  add_books(shop);
  searched(shop, "harry potter stone", 1);
  searched(shop, "harry potter secrets", 4, {});  // shown nothing
  std::vector<Event> v;
  v.push_back(ev(SearchQuery{visitor("a"), "harry potter wand", std::nullopt, std::nullopt}));
  v.push_back(ev(SearchQuery{visitor("b"), "harry potter wand", std::nullopt, std::nullopt}));
  shop.add(std::move(v));
  searched(shop, "harry potter xyzzy", 6);  // "xyzzy" is in no item
  for (const auto& c : shop.suggest("harry potter").completions) {
    INFO(c);
    CHECK(c.find("stone") == std::string::npos);
    CHECK(c.find("secrets") == std::string::npos);
    CHECK(c.find("wand") == std::string::npos);
    CHECK(c.find("xyzzy") == std::string::npos);
  }
  // Once its item is gone, a query whose word only that item had is no longer offered.
  searched(shop, "harry world", 3, {"hw"});
  CHECK(shop.suggest("harry w").completions[0] == "harry world");
  shop.add(ItemRemove{"hw"});
  for (const auto& c : shop.suggest("harry w").completions) CHECK(c != "harry world");
}

TEST_CASE("spellings that fold alike count together and show as the most searched one",
          "[index][suggest]") {
  Shop shop(every_flush());
  add_books(shop);
  searched(shop, "Harry  Potter Box Set ", 2);
  searched(shop, "harry potter box set", 1);
  searched(shop, "HARRY POTTER CHAMBER", 2);
  const Strings got = shop.suggest("harry p").completions;
  REQUIRE(got.size() >= 2);
  CHECK(got[0] == "Harry Potter Box Set");  // 3 searches in all, 2 spelled so
  CHECK(got[1] == "HARRY POTTER CHAMBER");
}

TEST_CASE("a typo in what was typed finds the queries searched with the word spelled right",
          "[index][suggest]") {
  Shop shop(every_flush());
  add_books(shop);
  searched(shop, "harry potter box set", 3);
  searched(shop, "harry potter chamber", 2);
  // An earlier word with a typo, then a prefix; the prefix with a typo; whole words typed (no
  // item completion then: the first item's title spells them).
  for (const char* typed : {"hary pot", "hary p", "harry pottr", "hary potter "}) {
    INFO(typed);
    const Strings got = shop.suggest(typed).completions;
    REQUIRE(got.size() >= 2);
    CHECK(got[0] == "harry potter box set");
    CHECK(got[1] == "harry potter chamber");
  }
  // Spelled right and matching nothing searched: the item completions alone, as before.
  const Strings plain = shop.suggest("harry's w").completions;
  for (const auto& c : plain) CHECK(c.find("box set") == std::string::npos);
}

TEST_CASE("filtered suggest and a limit of zero completions leave query suggestions out",
          "[index][suggest]") {
  Shop shop(every_flush());
  add_books(shop);
  searched(shop, "harry potter box set", 3);
  SuggestRequest req;
  req.q = "harry p";
  req.completions = 5;
  req.filters = {"in_stock=true"};
  auto res = shop.index->suggest(req);
  REQUIRE(res.ok());
  for (const auto& c : res->completions) CHECK(c != "harry potter box set");
  req.filters.clear();
  req.completions = 0;
  res = shop.index->suggest(req);
  REQUIRE(res.ok());
  CHECK(res->completions.empty());
}
