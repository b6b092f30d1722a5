// Sorting by up to three keys (SearchRequest::sort_by, parse_sort): the syntax, its errors,
// missing values last in either direction, and random sorts over a random catalog against a
// brute-force order written here.
#include <algorithm>
#include <catch2/catch.hpp>
#include <random>
#include <string>
#include <vector>

#include "index_fixture.h"

namespace {

using namespace trove;
using namespace trove::test;
using Ids = std::vector<std::string>;

Ids sorted_ids(Shop& shop, const std::string& sort, const std::string& q = "*") {
  auto keys = parse_sort(sort);
  INFO(sort << ": " << keys.status().to_string());
  REQUIRE(keys.ok());
  SearchRequest req;
  req.q = q;
  req.sort_by = *keys;
  Ids out;
  for (const auto& h : shop.all_pages(req, 7)) out.push_back(h.id);
  return out;
}

ItemUpsert rated(std::string id, std::optional<double> price, std::optional<double> rating) {
  ItemUpsert u = item(id, "Book " + id);
  u.price = price;
  if (rating) u.attributes = Attributes{{"Rating", *rating}};
  return u;
}

}  // namespace

TEST_CASE("sort keys: names, directions, defaults and errors", "[index][sort]") {
  using F = SortKey::Field;
  CHECK(*parse_sort("relevance") == std::vector<SortKey>{SortKey{}});
  CHECK(*parse_sort("price_desc") == std::vector<SortKey>{SortKey{F::kPrice, "", true}});
  CHECK(*parse_sort("popularity") == std::vector<SortKey>{SortKey{F::kPopularity, "", true}});
  CHECK(*parse_sort("attributes.rating:desc, price") ==
        std::vector<SortKey>{SortKey{F::kAttribute, "rating", true}, SortKey{F::kPrice, "", false}});
  CHECK(*parse_sort("newest:asc") == std::vector<SortKey>{SortKey{F::kNewest, "", false}});
  for (const char* bad : {"cheapest", "price:up", "relevance:desc", "a,b", "price,price,price,price",
                          "attributes.", "price,"}) {
    INFO(bad);
    auto k = parse_sort(bad);
    REQUIRE_FALSE(k.ok());
    CHECK(k.status().path() == "sort");
  }
}

TEST_CASE("several keys: each breaks the ties of the one before, missing values last",
          "[index][sort]") {
  Shop shop;
  shop.add(rated("a", 10, 4.5));
  shop.add(rated("b", 5, 4.5));
  shop.add(rated("c", 20, 3));
  shop.add(rated("d", 1, std::nullopt));
  shop.add(rated("e", std::nullopt, 5));
  REQUIRE(shop.index->flush().ok());
  CHECK(sorted_ids(shop, "attributes.rating:desc,price") == Ids{"e", "b", "a", "c", "d"});
  CHECK(sorted_ids(shop, "attributes.rating:asc,price:desc") == Ids{"c", "a", "b", "e", "d"});
  CHECK(sorted_ids(shop, "attributes.RATING:desc,price:desc") == Ids{"e", "a", "b", "c", "d"});
  CHECK(sorted_ids(shop, "price:desc") == Ids{"c", "a", "b", "d", "e"});
  CHECK(sorted_ids(shop, "price") == Ids{"d", "b", "a", "c", "e"});
  // With words: the keys still order; relevance breaks their ties.
  CHECK(sorted_ids(shop, "price", "book") == Ids{"d", "b", "a", "c", "e"});
}

TEST_CASE("random multi-key sorts give the order a brute-force sort gives", "[index][sort]") {
  std::mt19937 rng(20261208);
  Shop shop;
  struct Row {
    std::string id;
    std::optional<double> price, rating, year;
    size_t at;
  };
  std::vector<Row> rows;
  for (size_t i = 0; i < 120; ++i) {
    std::string id = "i";
    id += std::to_string(i);  // ("i" + to_string trips GCC 12's -Wrestrict)
    Row r{id, std::nullopt, std::nullopt, std::nullopt, i};
    if (rng() % 5) r.price = static_cast<double>(rng() % 8);
    if (rng() % 4) r.rating = static_cast<double>(rng() % 5) - 2;  // negatives too
    if (rng() % 3) r.year = 2000 + static_cast<double>(rng() % 4);
    ItemUpsert u = item(r.id, "Item " + r.id);
    u.price = r.price;
    Attributes a;
    if (r.rating) a["rating"] = *r.rating;
    if (r.year) a["year"] = *r.year;
    if (!a.empty()) u.attributes = a;
    shop.add(u);
    rows.push_back(r);
  }
  REQUIRE(shop.index->flush().ok());
  const char* fields[] = {"price", "attributes.rating", "attributes.year"};
  for (int round = 0; round < 40; ++round) {
    std::vector<std::pair<int, bool>> keys;
    std::string text;
    const size_t n = 1 + rng() % 3;
    for (size_t k = 0; k < n; ++k) {
      keys.emplace_back(static_cast<int>(rng() % 3), rng() % 2 == 1);
      if (k) text += ',';
      text += fields[keys.back().first];
      text += keys.back().second ? ":desc" : ":asc";
    }
    auto value = [](const Row& r, int f) { return f == 0 ? r.price : f == 1 ? r.rating : r.year; };
    std::vector<Row> expected = rows;
    std::stable_sort(expected.begin(), expected.end(), [&](const Row& x, const Row& y) {
      for (const auto& [f, desc] : keys) {
        const auto a = value(x, f), b = value(y, f);
        if (a.has_value() != b.has_value()) return a.has_value();  // missing last
        if (a && *a != *b) return desc ? *a > *b : *a < *b;
      }
      return x.at < y.at;  // then the catalog's order
    });
    Ids want;
    for (const auto& r : expected) want.push_back(r.id);
    INFO(text);
    CHECK(sorted_ids(shop, text) == want);
  }
}
