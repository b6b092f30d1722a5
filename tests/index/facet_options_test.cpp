// Facet options (SearchRequest): ranges asked for on price and numeric attributes (each count is
// what the filter `field = lo..hi` finds), values sorted by value, a cut, and a facet query
// (search within facet values: prefixes with typos).
#include <catch2/catch.hpp>
#include <random>
#include <string>
#include <vector>

#include "index_fixture.h"

namespace {

using namespace trove;
using namespace trove::test;

ItemUpsert thing(const std::string& id, std::optional<std::string> brand, double price, double year) {
  ItemUpsert u = item(id, "Thing " + id);
  u.brand = std::move(brand);
  u.price = price;
  u.attributes = Attributes{{"year", year}};
  return u;
}

const Facet& facet_of(const SearchResponse& res, const std::string& field) {
  for (const auto& f : res.facets) {
    if (f.field == field) return f;
  }
  FAIL("no facet " << field);
  return res.facets.at(0);
}

std::vector<std::pair<std::string, uint64_t>> values_of(const Facet& f) {
  std::vector<std::pair<std::string, uint64_t>> out;
  for (const auto& v : f.values) out.emplace_back(v.value, v.count);
  return out;
}

uint64_t count_with(Shop& shop, const std::string& filter) {
  SearchRequest req;
  req.q = "*";
  req.filters = {filter};
  req.facets = {"brand"};  // counts exactly
  return shop.search(req).total;
}

}  // namespace

TEST_CASE("facet ranges count what each range's filter finds, in the order asked",
          "[index][facets]") {
  std::mt19937 rng(3);
  Shop shop;
  std::vector<Event> events;
  for (int i = 0; i < 120; ++i) {
    std::string id = "t";
    id += std::to_string(i);
    events.push_back(ev(thing(id, std::nullopt, static_cast<double>(rng() % 80), 1950 + static_cast<double>(rng() % 70))));
  }
  shop.add(std::move(events));
  SearchRequest req;
  req.q = "*";
  req.facets = split_list("price(50.., 0..10, 10..50), attributes.year(..1979, 1980..1999, 2000..)");
  REQUIRE(req.facets.size() == 2);
  auto res = shop.search(req);
  const Facet& price = facet_of(res, "price");
  REQUIRE(price.values.size() == 3);
  CHECK(price.values[0].value == "50..");
  CHECK(price.values[1].value == "0..10");
  CHECK(price.values[2].value == "10..50");
  for (const auto& v : price.values) CHECK(v.count == count_with(shop, "price = " + v.value));
  const Facet& year = facet_of(res, "attributes.year");
  REQUIRE(year.values.size() == 3);
  for (const auto& v : year.values) CHECK(v.count == count_with(shop, "attributes.year = " + v.value));
  REQUIRE(year.stats);
  CHECK(year.stats->count == 120);
  // A range that holds nothing is left out; errors name the facet.
  req.facets = {"price(1000..2000, 0..79)"};
  CHECK(values_of(shop.search(req).facets.at(0)) == std::vector<std::pair<std::string, uint64_t>>{{"0..79", 120}});
  for (const std::string bad : {"brand(0..1)", "price(10)", "price(5..1)", "price(0..1", "attributes.year(x..y)"}) {
    req.facets = {bad};
    auto refused = shop.index->search(req);
    INFO(bad);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.status().path() == "facets[0]");
  }
}

TEST_CASE("facet values sort by value or count and are cut to max_facet_values", "[index][facets]") {
  Shop shop;
  shop.add(thing("a", "Zeta", 1, 2001));
  shop.add(thing("b", "alpha", 1, 1999));
  shop.add(thing("c", "Alpha", 1, 10));
  shop.add(thing("d", "mu", 1, 1999));
  shop.add(thing("e", "Mu", 1, 1999));
  shop.add(thing("f", "mu", 1, 300));
  SearchRequest req;
  req.q = "*";
  req.facets = {"brand", "attributes.year"};
  auto by_count = shop.search(req);
  CHECK(values_of(facet_of(by_count, "brand")) ==
        std::vector<std::pair<std::string, uint64_t>>{{"mu", 3}, {"Alpha", 2}, {"Zeta", 1}});
  req.facet_sort = FacetSort::kValue;
  auto by_value = shop.search(req);
  CHECK(values_of(facet_of(by_value, "brand")) ==
        std::vector<std::pair<std::string, uint64_t>>{{"Alpha", 2}, {"mu", 3}, {"Zeta", 1}});
  // Numbers by number, not as text ("300" after "10", before "1999").
  CHECK(values_of(facet_of(by_value, "attributes.year")) ==
        std::vector<std::pair<std::string, uint64_t>>{{"10", 1}, {"300", 1}, {"1999", 3}, {"2001", 1}});
  req.max_facet_values = 2;
  CHECK(facet_of(shop.search(req), "brand").values.size() == 2);
  req.max_facet_values = 0;
  auto refused = shop.index->search(req);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().path() == "max_facet_values");
}

TEST_CASE("a facet query keeps the values whose words start with its words, with typos",
          "[index][facets]") {
  Shop shop;
  shop.add(thing("a", "Nestlé Waters", 1, 1));
  shop.add(thing("b", "Nestle", 1, 1));
  shop.add(thing("c", "Danone", 1, 1));
  shop.add(thing("d", "Maison Nestor", 1, 1));
  shop.add(thing("e", "Lindt & Sprüngli", 1, 1));
  SearchRequest req;
  req.q = "*";
  req.facets = {"brand", "price"};
  auto values = [&](const std::string& query) {
    req.facet_query = query;
    std::vector<std::string> out;
    const SearchResponse res = shop.search(req);
    for (const auto& v : facet_of(res, "brand").values) out.push_back(v.value);
    std::sort(out.begin(), out.end());
    return out;
  };
  CHECK(values("brand:nes") == std::vector<std::string>{"Maison Nestor", "Nestle", "Nestlé Waters"});
  CHECK(values("brand:NESTLE wat") == std::vector<std::string>{"Nestlé Waters"});
  CHECK(values("brand:sprungli") == std::vector<std::string>{"Lindt & Sprüngli"});
  CHECK(values("brand:dannone") == std::vector<std::string>{"Danone"});  // one typo from 4 letters
  CHECK(values("brand:xyz").empty());
  // The other facets are not searched.
  req.facet_query = "brand:nes";
  CHECK_FALSE(facet_of(shop.search(req), "price").values.empty());
  for (const std::string bad : {"nes", "category:nes", "price:1"}) {
    req.facet_query = bad;
    auto refused = shop.index->search(req);
    INFO(bad);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.status().path() == "facet_query");
  }
}
