// Recommendations under the filter language: attributes read as declared, placements' filters,
// and random filters selecting what an empty-query search selects.
#include <catch2/catch.hpp>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "reco_shop.h"
#include "trove/index/catalog_index.h"
#include "trove/index/filter.h"

using namespace trove;
using namespace trove::test;
using namespace trove::test::reco;

TEST_CASE("recommendation filters read attributes as declared and refuse those not filterable",
          "[recommend][attributes]") {
  Shop shop;
  Feed f = catalog();
  auto with_year = [](const std::string& id, AttrValue year) {
    ItemUpsert u;
    u.id = id;
    u.title = "Tea " + id;
    u.categories = std::vector<std::string>{"Food > Tea"};
    u.attributes = Attributes{{"year", std::move(year)}};
    return u;
  };
  f.add(with_year("old", std::string("1990"))).add(with_year("new", 2020.0));
  for (int i = 0; i < 3; ++i) {
    f.view(numbered("v", i), "mug-red").view(numbered("v", i), "old").view(numbered("v", i), "new");
  }
  shop.ingest(f);
  RecoRequest q = for_item("mug-red");
  q.filter = *Filter::parse("attributes.year < 2000");
  CHECK(ids(shop.reco->similar(q)).empty());  // "1990" is text until declared a number
  AttributeSetting year;
  year.name = "Year";
  year.type = AttributeType::kNumber;
  Feed declare;
  declare.add(AttributeSettingsUpsert{{year}});
  shop.ingest(declare);
  CHECK(ids(shop.reco->similar(q)) == std::vector<std::string>{"old"});
  year.filterable = false;
  Feed hide;
  hide.add(AttributeSettingsUpsert{{year}});
  shop.ingest(hide);
  auto refused = shop.reco->similar(q);
  REQUIRE(refused.status().code() == StatusCode::kInvalidArgument);
  CHECK(refused.status().to_string().find("attributes.year is not filterable") != std::string::npos);
}

TEST_CASE("a placement's filter in the filter language selects what search selects", "[recommend][filter]") {
  Shop shop;
  Feed f = catalog();
  for (int i = 0; i < 3; ++i) {
    f.view(numbered("v", i), "tea-black").view(numbered("v", i), "mug-red").view(numbered("v", i), "mug-blue");
  }
  f.view("v9", "tea-green");
  PlacementUpsert p;
  p.id = "no-food";
  p.strategy = Strategy::kPopular;
  p.filter = "NOT category = food OR (category = Food > Tea AND NOT in_stock = true)";
  f.add(p);
  shop.ingest(f);
  auto served = ids(shop.reco->placement("no-food", RecoRequest{}));
  CHECK(std::set<std::string>(served.begin(), served.end()) == std::set<std::string>{"mug-red", "mug-blue"});
  // ANDed with the request's own filter.
  RecoRequest q;
  q.filter = *Filter::parse("category = Kitchen > Mugs AND NOT brand EXISTS");
  CHECK(ids(shop.reco->placement("no-food", q)).size() == 2);
  q.filter = *Filter::parse("category = Food");
  CHECK(ids(shop.reco->placement("no-food", q)).empty());
}

TEST_CASE("random filters select the same items in recommendations and in an empty-query search",
          "[recommend][filter]") {
  std::mt19937 rng(11);
  Shop shop;
  Feed f;
  const std::vector<std::string> brands = {"Acmé", "ACME", "Zed", "Maison Dorée"};
  for (int i = 0; i < 90; ++i) {
    ItemUpsert u;
    u.id = numbered("i", i);
    u.title = "Thing " + u.id;
    if (rng() % 4) u.brand = brands[rng() % brands.size()];
    if (rng() % 4) u.price = static_cast<double>(rng() % 50);
    if (rng() % 3 == 0) u.in_stock = false;
    Attributes a;
    if (rng() % 3) a["year"] = rng() % 2 ? AttrValue(1990.0 + static_cast<double>(rng() % 30))
                                         : AttrValue(std::to_string(1990 + rng() % 30));
    if (rng() % 2) a["lang"] = std::string(rng() % 2 ? "en" : "FR");
    if (!a.empty()) u.attributes = a;
    f.add(u);
  }
  AttributeSetting year;
  year.name = "year";
  year.type = AttributeType::kNumber;
  f.add(AttributeSettingsUpsert{{year}});
  shop.ingest(f);
  auto index = CatalogIndex::open(shop.tmp.sub("data/index"), {});
  REQUIRE(index.ok());
  REQUIRE((*index)->attach(*shop.store).ok());
  REQUIRE((*index)->flush().ok());
  const std::vector<std::string> filters = {
      "brand = acme OR price < 10", "NOT brand EXISTS", "attributes.year = 2000..2010 AND in_stock = true",
      "attributes.lang IN [en, fr] AND NOT attributes.year >= 2005", "in_stock = false OR brand = \"Maison Doree\"",
      "price = 10..20 OR (attributes.lang = fr AND NOT price EXISTS)"};
  for (const auto& text : filters) {
    INFO(text);
    SearchRequest sq;
    sq.q = "*";
    sq.per_page = 100;
    sq.filters = {text};
    auto searched = (*index)->search(sq);
    REQUIRE(searched.ok());
    std::set<std::string> by_search;
    for (const auto& h : searched->hits) by_search.insert(h.id);
    RecoRequest rq;
    rq.count = 100;
    rq.filter = *Filter::parse(text);
    auto listed = ids(shop.reco->new_arrivals(rq));
    // Recommendations leave out-of-stock items out unless the filter speaks of in_stock.
    if (text.find("in_stock") == std::string::npos) {
      std::erase_if(by_search, [&](const std::string& id) {
        bool out = false;
        shop.store->read([&](const State& st) { out = !st.item(id)->data.in_stock.value_or(true); });
        return out;
      });
    }
    CHECK(std::set<std::string>(listed.begin(), listed.end()) == by_search);
    CHECK_FALSE(by_search.empty());
  }
}
