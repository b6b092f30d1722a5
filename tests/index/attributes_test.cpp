// Typed attributes (AttributeSettingsUpsert, trove/index/attributes.h): a declared type is how
// search, Filter::matches, facets, sorts and the ranking signal read a value; searchable
// attributes are matched by words; roles refuse what they do not allow; a change re-indexes
// in the background and survives a restart. Random range filters over values written as
// numbers and as text are checked against an oracle written here.
#include "trove/index/attributes.h"

#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "index_fixture.h"
#include "trove/index/filter.h"

namespace {

using namespace trove;
using namespace trove::test;
using Ids = std::set<std::string>;

ItemUpsert book(std::string id, Attributes attrs) {
  ItemUpsert u = item(id, "Book " + id);
  u.attributes = std::move(attrs);
  return u;
}

AttributeSetting declared(std::string name, AttributeType type) {
  AttributeSetting a;
  a.name = std::move(name);
  a.type = type;
  return a;
}

Result<SearchResponse> search_with(Shop& shop, std::vector<std::string> filters,
                                   std::vector<std::string> facets = {},
                                   std::vector<SortKey> sort = {}) {
  SearchRequest req;
  req.q = "*";
  req.per_page = 100;
  req.filters = std::move(filters);
  req.facets = std::move(facets);
  req.sort_by = std::move(sort);
  return shop.index->search(req);
}

Ids ids_of(const Result<SearchResponse>& r) {
  INFO(r.status().to_string());
  REQUIRE(r.ok());
  Ids out;
  for (const auto& h : r->hits) out.insert(h.id);
  return out;
}

std::vector<std::string> order_of(const Result<SearchResponse>& r) {
  INFO(r.status().to_string());
  REQUIRE(r.ok());
  std::vector<std::string> out;
  for (const auto& h : r->hits) out.push_back(h.id);
  return out;
}

Ids matched_by(Shop& shop, const std::string& text) {
  auto f = Filter::parse(text);
  REQUIRE(f.ok());
  Ids out;
  shop.store->read([&](const State& st) {
    const AttributeSchema schema = AttributeSchema::of(st);
    for (ItemRef ref = 0; ref < st.item_refs(); ++ref) {
      if (const Item* it = st.item_at(ref); it && f->matches(*it, schema)) out.insert(st.item_id(ref));
    }
  });
  return out;
}

}  // namespace

TEST_CASE("as_type reads a value as its declared type or not at all", "[index][attributes]") {
  CHECK(as_type(AttrValue(std::string(" 2015 ")), AttributeType::kNumber) == AttrValue(2015.0));
  CHECK(as_type(AttrValue(std::string("-1.5e3")), AttributeType::kNumber) == AttrValue(-1500.0));
  CHECK_FALSE(as_type(AttrValue(std::string("n/a")), AttributeType::kNumber));
  CHECK_FALSE(as_type(AttrValue(std::string("1e300")), AttributeType::kNumber));  // past 2^53
  CHECK_FALSE(as_type(AttrValue(true), AttributeType::kNumber));
  CHECK(as_type(AttrValue(3.0), AttributeType::kString) == AttrValue(std::string("3")));
  CHECK(as_type(AttrValue(std::string("TRUE")), AttributeType::kBoolean) == AttrValue(true));
  CHECK(as_type(AttrValue(0.0), AttributeType::kBoolean) == AttrValue(false));
  CHECK_FALSE(as_type(AttrValue(std::string("yes")), AttributeType::kBoolean));
  CHECK(as_type(AttrValue(std::string("x")), AttributeType::kStringList) ==
        AttrValue(std::vector<std::string>{"x"}));
  CHECK(as_geo_point(AttrValue(std::string("48.8566, 2.3522"))) == GeoPoint{48.8566, 2.3522});
  CHECK(as_geo_point(AttrValue(std::vector<std::string>{"-33.9", "151.2"})) == GeoPoint{-33.9, 151.2});
  CHECK_FALSE(as_geo_point(AttrValue(std::string("91,0"))));
  CHECK_FALSE(as_geo_point(AttrValue(std::string("48.8"))));
  // Paris to London: 343.5 km along a great circle.
  CHECK(std::abs(distance_metres({48.8566, 2.3522}, {51.5074, -0.1278}) - 343.5e3) < 1e3);
}

TEST_CASE("a layout round-trips with names holding spaces and colons", "[index][attributes]") {
  Shop shop;
  AttributeSetting a = declared("Année: de parution", AttributeType::kNumber);
  a.searchable = true, a.weight = 4, a.filterable = false;
  AttributeSetting b = declared("tags list", AttributeType::kStringList);
  b.sortable = true;  // ignored: text never sorts
  shop.add(AttributeSettingsUpsert{{a, b, declared("where", AttributeType::kGeoPoint)}});
  AttributeSchema schema;
  shop.store->read([&](const State& st) { schema = AttributeSchema::of(st); });
  CHECK(schema.roles_of("annee: DE parution").weight == 4);
  CHECK_FALSE(schema.roles_of("tags list").sortable);
  const auto back = AttributeSchema::from_layout(schema.layout());
  REQUIRE(back);
  CHECK(back->layout() == schema.layout());
  CHECK(AttributeSchema::from_layout("")->empty());
  CHECK_FALSE(AttributeSchema::from_layout("9/abc:number"));
  CHECK_FALSE(AttributeSchema::from_layout("3/abc:integer"));
}

TEST_CASE("a declared number filters and facets and sorts values written as text and undeclared they stay text",
          "[index][attributes]") {
  Shop shop;
  shop.add(book("a", {{"year", std::string("2015")}, {"rating", 4.5}}));
  shop.add(book("b", {{"year", 1999.0}, {"rating", std::string("3.9")}}));
  shop.add(book("c", {{"year", std::string("n/a")}, {"rating", 4.1}}));
  shop.add(book("d", {{"year", std::string(" 2020 ")}}));
  // Undeclared: "2015" is text, so a range finds only the number.
  CHECK(ids_of(search_with(shop, {"attributes.year >= 1990"})) == Ids{"b"});
  CHECK(ids_of(search_with(shop, {"attributes.year = 2015"})) == Ids{"a"});  // text equality
  shop.add(AttributeSettingsUpsert{{declared("Year", AttributeType::kNumber),
                                    declared("rating", AttributeType::kNumber)}});
  // flush() re-indexed in the background (the add above flushes): now every number counts.
  CHECK(ids_of(search_with(shop, {"attributes.year >= 1990"})) == Ids{"a", "b", "d"});
  CHECK(ids_of(search_with(shop, {"attributes.year = 2010..2020"})) == Ids{"a", "d"});
  CHECK(ids_of(search_with(shop, {"attributes.year EXISTS"})) == Ids{"a", "b", "d"});  // "n/a" does not convert
  CHECK(matched_by(shop, "attributes.year >= 1990") == Ids{"a", "b", "d"});
  CHECK(matched_by(shop, "attributes.year EXISTS") == Ids{"a", "b", "d"});
  auto faceted = search_with(shop, {}, {"attributes.year"});
  REQUIRE(faceted.ok());
  REQUIRE(faceted->facets.size() == 1);
  REQUIRE(faceted->facets[0].stats);
  CHECK(faceted->facets[0].stats->count == 3);
  CHECK(faceted->facets[0].stats->min == 1999);
  CHECK(faceted->facets[0].stats->max == 2020);
  SortKey by_rating{SortKey::Field::kAttribute, "rating", true};
  CHECK(order_of(search_with(shop, {}, {}, {by_rating})) == std::vector<std::string>{"a", "c", "b", "d"});
  // The stored value is what hits return.
  auto hits = search_with(shop, {"attributes.year = 2020"});
  REQUIRE(hits.ok());
  REQUIRE(hits->hits.size() == 1);
  CHECK(hits->hits[0].attributes->at("year") == AttrValue(std::string(" 2020 ")));

  // Declared text: the number 1999 is the text "1999", and ranges no longer match it.
  shop.add(AttributeSettingsUpsert{{declared("year", AttributeType::kString)}});
  CHECK(ids_of(search_with(shop, {"attributes.year >= 1990"})).empty());
  CHECK(matched_by(shop, "attributes.year >= 1990").empty());
  CHECK(ids_of(search_with(shop, {"attributes.year = 1999"})) == Ids{"b"});
  auto text_sort = search_with(shop, {}, {}, {SortKey{SortKey::Field::kAttribute, "year", false}});
  REQUIRE_FALSE(text_sort.ok());
  CHECK(text_sort.status().path() == "sort");
  // Removed: back to each value's own type.
  shop.add(AttributeSettingsRemove{{"year"}});
  CHECK(ids_of(search_with(shop, {"attributes.year >= 1990"})) == Ids{"b"});
}

TEST_CASE("a searchable attribute's words find its items by its weight and undeclared they do not",
          "[index][attributes]") {
  Shop shop;
  shop.add(book("hobbit", {{"author", std::string("J.R.R. Tolkien")}, {"series", std::string("Middle-earth")}}));
  ItemUpsert essay = item("essay", "Tolkien and the critics");
  shop.add(essay);
  CHECK(shop.id_set("tolkien") == Ids{"essay"});
  AttributeSetting author = declared("author", AttributeType::kString);
  author.searchable = true;
  shop.add(AttributeSettingsUpsert{{author}});
  CHECK(shop.id_set("tolkien") == Ids{"essay", "hobbit"});
  CHECK(shop.ids("tolkien")[0] == "essay");  // weight 1 against the title's 6
  CHECK(shop.id_set("tolkein") == Ids{"essay", "hobbit"});  // its words join the typo vocabulary
  CHECK(shop.id_set("middle").empty());  // series is not searchable
  author.weight = 20;
  shop.add(AttributeSettingsUpsert{{author}});
  CHECK(shop.ids("tolkien")[0] == "hobbit");
  shop.add(AttributeSettingsRemove{{"author"}});
  CHECK(shop.id_set("tolkien") == Ids{"essay"});
}

TEST_CASE("roles refuse the filters and facets and sorts they do not allow and hits leave out what is not retrievable",
          "[index][attributes]") {
  Shop shop;
  shop.add(book("a", {{"cost", 3.0}, {"secret", std::string("x")}, {"lang", std::string("en")}}));
  AttributeSetting cost = declared("cost", AttributeType::kNumber);
  cost.filterable = false, cost.sortable = false;
  AttributeSetting secret = declared("secret", AttributeType::kString);
  secret.retrievable = false;
  AttributeSetting lang = declared("lang", AttributeType::kString);
  lang.facetable = false;
  shop.add(AttributeSettingsUpsert{{cost, secret, lang}});
  auto filtered = search_with(shop, {"attributes.cost < 10"});
  REQUIRE_FALSE(filtered.ok());
  CHECK(filtered.status().code() == StatusCode::kInvalidArgument);
  CHECK(filtered.status().to_string().find("attributes.cost is not filterable") != std::string::npos);
  CHECK_FALSE(search_with(shop, {"brand = x OR NOT attributes.COST EXISTS"}).ok());
  SuggestRequest sreq;
  sreq.q = "boo";
  sreq.filters = {"attributes.cost = 3"};
  CHECK_FALSE(shop.index->suggest(sreq).ok());
  auto faceted = search_with(shop, {}, {"attributes.lang"});
  REQUIRE_FALSE(faceted.ok());
  CHECK(faceted.status().path() == "facets[0]");
  auto sorted = search_with(shop, {}, {}, {SortKey{SortKey::Field::kAttribute, "cost", false}});
  REQUIRE_FALSE(sorted.ok());
  CHECK(sorted.status().path() == "sort");
  auto plain = search_with(shop, {"attributes.lang = en"});
  REQUIRE(plain.ok());
  REQUIRE(plain->hits.size() == 1);
  CHECK(plain->hits[0].attributes->count("secret") == 0);
  CHECK(plain->hits[0].attributes->count("cost") == 1);
  CHECK(shop.suggest("book").items.at(0).attributes->count("secret") == 0);
  shop.store->read([&](const State& st) {
    auto f = Filter::parse("attributes.cost = 3");
    REQUIRE(f.ok());
    CHECK_FALSE(matching_ids(st, *f).ok());
  });
}

TEST_CASE("declarations survive a restart without a rebuild and one changed while closed re-indexes",
          "[index][attributes]") {
  Shop shop;
  shop.add(book("a", {{"year", std::string("2015")}}));
  shop.add(AttributeSettingsUpsert{{declared("year", AttributeType::kNumber)}});
  shop.index.reset();
  std::vector<std::string> warnings;
  shop.reopen_index(&warnings);
  CHECK(warnings.empty());
  CHECK(ids_of(search_with(shop, {"attributes.year > 2000"})) == Ids{"a"});
  // Declared text while the index is closed: the next flush re-indexes.
  shop.index.reset();
  auto acks = shop.store->ingest({ev(AttributeSettingsUpsert{{declared("year", AttributeType::kString)}})});
  REQUIRE(acks.ok());
  shop.reopen_index(&warnings);
  REQUIRE(shop.index->flush().ok());
  CHECK(ids_of(search_with(shop, {"attributes.year > 2000"})).empty());
}

TEST_CASE("random range filters over numbers written as numbers and as text select what the oracle selects",
          "[index][attributes][filter]") {
  std::mt19937 rng(20261208);
  Shop shop;
  std::map<std::string, std::optional<double>> year;  // the oracle: the number each item holds
  std::vector<Event> events;
  for (int i = 0; i < 200; ++i) {
    std::string id = "i";
    id += std::to_string(i);
    Attributes attrs;
    const double y = 1980 + static_cast<double>(rng() % 40);
    switch (rng() % 4) {
      case 0: attrs["year"] = y, year[id] = y; break;
      case 1: attrs["YEAR"] = std::to_string(static_cast<int>(y)), year[id] = y; break;
      case 2: attrs["year"] = std::string("unknown"), year[id] = std::nullopt; break;
      default: year[id] = std::nullopt; break;
    }
    events.push_back(ev(book(id, attrs)));
  }
  shop.add(std::move(events));
  shop.add(AttributeSettingsUpsert{{declared("year", AttributeType::kNumber)}});
  for (int round = 0; round < 100; ++round) {
    const int lo = 1980 + static_cast<int>(rng() % 40), hi = lo + static_cast<int>(rng() % 15);
    std::string text;
    std::function<bool(double)> holds;
    switch (rng() % 3) {
      case 0:
        text = "attributes.year = " + std::to_string(lo) + ".." + std::to_string(hi);
        holds = [=](double x) { return x >= lo && x <= hi; };
        break;
      case 1:
        text = "attributes.year < " + std::to_string(lo);
        holds = [=](double x) { return x < lo; };
        break;
      default:
        text = "NOT attributes.year >= " + std::to_string(lo);
        holds = [=](double x) { return !(x >= lo); };
        break;
    }
    const bool negated = text.starts_with("NOT");
    Ids expected;
    for (const auto& [id, y] : year) {
      if (y ? holds(*y) : negated) expected.insert(id);
    }
    INFO(text);
    CHECK(shop.filtered_ids(text) == expected);
    CHECK(matched_by(shop, text) == expected);
  }
}

namespace {

// The oracle's distance: the spherical law of cosines, written apart from distance_metres
// (haversine); the two agree to well under a metre at these scales.
double oracle_metres(double lat1, double lng1, double lat2, double lng2) {
  const double r = M_PI / 180;
  const double c = std::sin(lat1 * r) * std::sin(lat2 * r) +
                   std::cos(lat1 * r) * std::cos(lat2 * r) * std::cos((lng2 - lng1) * r);
  return 6371008.8 * std::acos(std::clamp(c, -1.0, 1.0));
}

}  // namespace

TEST_CASE("geo points filter within a radius or a box and sort by distance from a point",
          "[index][attributes][geo]") {
  Shop shop;
  shop.add(book("paris", {{"at", std::string("48.8566,2.3522")}}));
  shop.add(book("versailles", {{"at", std::vector<std::string>{"48.8049", "2.1204"}}}));
  shop.add(book("london", {{"at", std::string("51.5074, -0.1278")}}));
  shop.add(book("fiji", {{"at", std::string("-17.7134,178.0650")}}));
  shop.add(book("samoa", {{"at", std::string("-13.7590,-172.1046")}}));
  shop.add(book("nowhere", {{"at", std::string("somewhere")}}));
  shop.add(book("none", {}));
  const std::string near_paris = "attributes.at WITHIN RADIUS(48.8566, 2.3522, 20 km)";
  // Undeclared, "48.85,2.35" is text: WITHIN is refused, not silently empty.
  auto undeclared = search_with(shop, {near_paris});
  REQUIRE_FALSE(undeclared.ok());
  CHECK(undeclared.status().to_string().find("not declared a geo_point") != std::string::npos);
  shop.add(AttributeSettingsUpsert{{declared("at", AttributeType::kGeoPoint)}});
  CHECK(ids_of(search_with(shop, {near_paris})) == Ids{"paris", "versailles"});
  CHECK(matched_by(shop, near_paris) == Ids{"paris", "versailles"});
  CHECK(ids_of(search_with(shop, {"attributes.at WITHIN RADIUS(48.8566, 2.3522, 10000 m)"})) == Ids{"paris"});
  CHECK(ids_of(search_with(shop, {"attributes.at WITHIN BOX(48, -1, 52, 3)"})) ==
        Ids{"paris", "versailles", "london"});
  // A box across the antimeridian: west 170 to east -170.
  CHECK(ids_of(search_with(shop, {"attributes.at WITHIN BOX(-20, 170, -10, -170)"})) == Ids{"fiji", "samoa"});
  CHECK(matched_by(shop, "attributes.at WITHIN BOX(-20, 170, -10, -170)") == Ids{"fiji", "samoa"});
  CHECK(ids_of(search_with(shop, {"NOT attributes.at WITHIN BOX(-90, -180, 0, 180) AND attributes.at EXISTS"})) ==
        Ids{"paris", "versailles", "london"});
  // Nearest first; hits carry the distance; items without a point come last (in item order).
  SortKey nearest{SortKey::Field::kAttribute, "at", false, GeoPoint{48.8566, 2.3522}};
  auto by_distance = search_with(shop, {}, {}, {nearest});
  CHECK(order_of(by_distance) ==
        std::vector<std::string>{"paris", "versailles", "london", "samoa", "fiji", "nowhere", "none"});
  REQUIRE(by_distance.ok());
  CHECK(by_distance->hits[0].geo_distance_metres == 0);
  CHECK(std::abs(*by_distance->hits[2].geo_distance_metres - 343.5e3) < 1e3);
  CHECK_FALSE(by_distance->hits[5].geo_distance_metres);
  CHECK_FALSE(by_distance->hits[6].geo_distance_metres);
  nearest.descending = true;
  CHECK(order_of(search_with(shop, {}, {}, {nearest}))[0] == "fiji");
  // What a geo point does not take.
  CHECK_FALSE(search_with(shop, {"attributes.at = 3"}).ok());
  CHECK_FALSE(search_with(shop, {}, {"attributes.at"}).ok());
  auto plain_sort = search_with(shop, {}, {}, {SortKey{SortKey::Field::kAttribute, "at", false}});
  REQUIRE_FALSE(plain_sort.ok());
  CHECK(plain_sort.status().to_string().find("attributes.at(lat, lng)") != std::string::npos);
}

TEST_CASE("WITHIN parses radius and box with errors at their column and prints canonically",
          "[index][filter][geo]") {
  auto f = Filter::parse("attributes.at WITHIN RADIUS( 48.85 ,2.35, 5 km ) AND brand = x");
  REQUIRE(f.ok());
  CHECK(f->to_string() == "attributes.at WITHIN RADIUS(48.85, 2.35, 5000 m) AND brand = \"x\"");
  CHECK(Filter::parse(f->to_string())->to_string() == f->to_string());
  auto box = Filter::parse("attributes.at WITHIN BOX(1,2,3,4)");
  REQUIRE(box.ok());
  CHECK(box->to_string() == "attributes.at WITHIN BOX(1, 2, 3, 4)");
  auto error = [](const std::string& text) {
    auto g = Filter::parse(text);
    REQUIRE_FALSE(g.ok());
    return g.status().message();
  };
  CHECK(error("attributes.at WITHIN RADIUS(91, 2, 5)") ==
        "at column 29: expected a latitude (-90..90), got \"91\"");
  CHECK(error("attributes.at WITHIN RADIUS(48, 2, 0 km)").find("a distance above 0") != std::string::npos);
  CHECK(error("attributes.at WITHIN BOX(3, 2, 1, 4)").find("south is above its north") != std::string::npos);
  CHECK(error("attributes.at WITHIN CIRCLE(1, 2, 3)").find("RADIUS(lat, lng, distance)") != std::string::npos);
  CHECK(error("attributes.at WITHIN RADIUS(1, 2)") == "at column 33: expected \",\", got \")\"");
  CHECK(error("price WITHIN RADIUS(1, 2, 3)") == "at column 1: only a geo point attribute takes WITHIN, not price");
  auto sorted = parse_sort("attributes.at(48.85, 2.35):desc, price");
  REQUIRE(sorted.ok());
  REQUIRE(sorted->size() == 2);
  CHECK((*sorted)[0].from == GeoPoint{48.85, 2.35});
  CHECK((*sorted)[0].descending);
  CHECK_FALSE(parse_sort("attributes.at(91, 0)").ok());
}

TEST_CASE("random areas select in search and in Filter::matches what the oracle selects",
          "[index][attributes][geo]") {
  std::mt19937 rng(42);
  auto uniform = [&](double lo, double hi) { return lo + (hi - lo) * (rng() % 1000000) / 1e6; };
  Shop shop;
  std::map<std::string, GeoPoint> at;
  std::vector<Event> events;
  for (int i = 0; i < 300; ++i) {
    std::string id = "p";
    id += std::to_string(i);
    const GeoPoint p{uniform(40, 50), uniform(-5, 10)};
    at[id] = p;
    std::string text = std::to_string(p.lat);
    text += ",";
    text += std::to_string(p.lng);
    events.push_back(ev(book(id, {{"at", text}})));
    at[id] = *as_geo_point(AttrValue(text));
  }
  shop.add(std::move(events));
  shop.add(AttributeSettingsUpsert{{declared("at", AttributeType::kGeoPoint)}});
  for (int round = 0; round < 60; ++round) {
    const double lat = uniform(40, 50), lng = uniform(-5, 10);
    std::string text;
    Ids expected;
    if (round % 2 == 0) {
      const double km = uniform(20, 400);
      text = "attributes.at WITHIN RADIUS(" + std::to_string(lat) + ", " + std::to_string(lng) + ", " +
             std::to_string(km) + " km)";
      auto parsed = Filter::parse(text);
      REQUIRE(parsed.ok());
      bool edge = false;
      for (const auto& [id, p] : at) {
        const double d = oracle_metres(lat, lng, p.lat, p.lng);
        edge |= std::abs(d - km * 1000) < 1;
        if (d <= km * 1000) expected.insert(id);
      }
      if (edge) continue;  // the two formulas may disagree within a metre of the edge
    } else {
      const double lat2 = lat + uniform(0, 5), lng2 = lng + uniform(0, 8);
      text = "attributes.at WITHIN BOX(" + std::to_string(lat) + ", " + std::to_string(lng) + ", " +
             std::to_string(lat2) + ", " + std::to_string(lng2) + ")";
      auto parsed = Filter::parse(text);
      REQUIRE(parsed.ok());
      for (const auto& [id, p] : at) {
        if (p.lat >= std::stod(std::to_string(lat)) && p.lat <= std::stod(std::to_string(lat2)) &&
            p.lng >= std::stod(std::to_string(lng)) && p.lng <= std::stod(std::to_string(lng2))) {
          expected.insert(id);
        }
      }
    }
    INFO(text);
    CHECK(shop.filtered_ids(text) == expected);
    CHECK(matched_by(shop, text) == expected);
  }
}

TEST_CASE("distinct keeps one hit per value with its group's size and pages by groups",
          "[index][attributes][distinct]") {
  std::mt19937 rng(7);
  Shop shop;
  struct Book {
    std::optional<std::string> series;
    double price;
    bool cheap_word;
  };
  std::map<std::string, Book> books;
  std::vector<Event> events;
  const std::vector<std::string> series = {"Discworld", "DISCWORLD", "Dune", "Earthsea", "Foundation", "Culture"};
  for (int i = 0; i < 150; ++i) {
    std::string id = "b";
    id += std::to_string(i);
    Book b;
    if (rng() % 5) b.series = series[rng() % series.size()];
    b.price = static_cast<double>(i % 37) + 0.25 * static_cast<double>(i % 3);
    b.cheap_word = rng() % 2;
    ItemUpsert u = item(id, b.cheap_word ? "Paperback " + id : "Hardcover " + id);
    u.price = b.price;
    if (b.series) u.attributes = Attributes{{"series", *b.series}};
    books[id] = b;
    events.push_back(ev(u));
  }
  shop.add(std::move(events));
  SearchRequest req;
  req.q = "*";
  req.distinct = "attributes.series";
  auto undeclared = shop.index->search(req);
  REQUIRE_FALSE(undeclared.ok());
  CHECK(undeclared.status().path() == "distinct");
  shop.add(AttributeSettingsUpsert{{declared("series", AttributeType::kString)}});
  for (const std::string q : {"*", "paperback"}) {
    req.q = q;
    req.sort_by = {SortKey{SortKey::Field::kPrice, "", false}};
    // The oracle: groups by folded series (Discworld and DISCWORLD are one), each with its
    // matches and cheapest price; an item without a series is a group of its own.
    std::map<std::string, std::pair<uint64_t, double>> groups;
    size_t loners = 0;
    for (const auto& [id, b] : books) {
      if (q == "paperback" && !b.cheap_word) continue;
      if (!b.series) {
        ++loners;
        continue;
      }
      std::string key = *b.series;
      for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      auto [it, fresh] = groups.try_emplace(key, 0, b.price);
      ++it->second.first;
      it->second.second = std::min(it->second.second, b.price);
    }
    INFO(q);
    req.per_page = 4;
    std::set<std::string> seen_groups;
    size_t hits = 0;
    for (req.page = 1; req.page < 100; ++req.page) {
      auto res = shop.index->search(req);
      REQUIRE(res.ok());
      CHECK(res->total == groups.size() + loners);
      CHECK(res->total_exact);
      if (res->hits.empty()) break;
      for (const auto& h : res->hits) {
        ++hits;
        const Book& b = books.at(h.id);
        REQUIRE(h.group_size);
        if (!b.series) {
          CHECK(*h.group_size == 1);
          continue;
        }
        std::string key = *b.series;
        for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        CHECK(seen_groups.insert(key).second);  // one hit per group, across pages
        CHECK(*h.group_size == groups.at(key).first);
        CHECK(b.price == groups.at(key).second);  // the group's first by the sort
      }
    }
    CHECK(hits == groups.size() + loners);
    CHECK(seen_groups.size() == groups.size());
  }
}
