// CatalogIndex::similar_items ("more like this"): the items that share an item's distinctive
// words come first, the item itself never, common words weigh little, and an item the index
// does not hold gets nothing.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "index/index_fixture.h"

using namespace trove;
using namespace trove::test;

namespace {

std::vector<std::string> like(Shop& shop, const std::string& id, size_t n = 10) {
  auto found = shop.index->similar_items(id, n);
  INFO(found.status().to_string());
  REQUIRE(found.ok());
  std::vector<std::string> out;
  shop.store->read([&](const State& st) {
    for (const ContentMatch& m : found.value()) out.push_back(st.item_id(m.ref));
  });
  return out;
}

ItemUpsert described(std::string id, std::string title, std::string description) {
  ItemUpsert u = item(std::move(id), std::move(title));
  u.description = std::move(description);
  return u;
}

}  // namespace

TEST_CASE("similar items share the item's distinctive words, best first, never the item",
          "[index]") {
  Shop shop;
  std::vector<Event> events;
  events.push_back(ev(described("jasmine", "Jasmine green tea", "Loose leaf green tea from China")));
  events.push_back(ev(described("sencha", "Sencha green tea", "Loose leaf green tea from Japan")));
  events.push_back(ev(described("earl", "Earl Grey black tea", "Black tea with bergamot")));
  events.push_back(ev(described("mug", "The big mug", "A mug for the tea lover")));
  events.push_back(ev(described("pan", "Frying pan", "A pan for the kitchen")));
  events.push_back(ev(described("jasmine-rice", "Jasmine rice", "Fragrant rice from Thailand")));
  shop.add(std::move(events));

  const auto sencha = like(shop, "sencha");
  REQUIRE_FALSE(sencha.empty());
  CHECK(sencha[0] == "jasmine");  // green, tea, loose, leaf: the most shared
  CHECK(std::find(sencha.begin(), sencha.end(), "sencha") == sencha.end());
  CHECK(std::find(sencha.begin(), sencha.end(), "pan") == sencha.end());  // nothing in common
  CHECK(like(shop, "sencha", 1) == std::vector<std::string>{"jasmine"});

  // Jasmine rice: its rare "jasmine" is shared with the tea, "from" with the teas too.
  const auto rice = like(shop, "jasmine-rice");
  REQUIRE_FALSE(rice.empty());
  CHECK(rice[0] == "jasmine");
  CHECK(std::find(rice.begin(), rice.end(), "pan") == rice.end());

  CHECK(like(shop, "no-such-item").empty());
  shop.add(ItemRemove{"earl"});
  CHECK(like(shop, "earl").empty());
  CHECK(std::find(sencha.begin(), sencha.end(), "earl") != sencha.end());
  const auto after = like(shop, "sencha");
  CHECK(std::find(after.begin(), after.end(), "earl") == after.end());  // removed
}
