// The catalog's attributes over HTTP: typed attributes with geo filters and distance sorts,
// distinct, facet ranges and facet queries, highlights, and placements' filters checked on
// the way in.
#include "http/http_harness.h"

using trove::test::bearer;
using trove::test::body_json;
using trove::test::check_error;
using trove::test::eventually;
using trove::test::Harness;
using trove::test::HarnessOptions;
using trove::test::kSearchKey;
using trove::test::kWriteKey;

TEST_CASE("typed attributes over HTTP: a geo radius filter and a distance sort with distances in hits",
          "[http][geo]") {
  HarnessOptions o;
  o.answer_cache_ttl_ms = 0;
  Harness h(o);
  auto c = h.client();
  auto posted = c.Post("/v1/events/bulk", bearer(kWriteKey),
                       R"({"type":"ItemUpsert","id":"louvre","title":"Louvre shop","attributes":{"at":"48.8606,2.3376"}}
{"type":"ItemUpsert","id":"orsay","title":"Orsay shop","attributes":{"at":"48.8600,2.3266"}}
{"type":"ItemUpsert","id":"tate","title":"Tate shop","attributes":{"at":"51.5076,-0.0994"}}
{"type":"AttributeSettingsUpsert","attributes":[{"name":"at","type":"geo_point"}]}
)",
                       "application/x-ndjson");
  REQUIRE(posted);
  REQUIRE(posted->status == 200);
  // Unencoded parentheses, commas and spaces in the filter; the sort's point after its name.
  auto search = [&] {
    return c.Get("/v1/search?q=shop&filter=attributes.at%20WITHIN%20RADIUS(48.8566,2.3522,5km)"
                 "&sort=attributes.at(48.8566,2.3522)",
                 bearer(kSearchKey));
  };
  CHECK(eventually(search, [](const nlohmann::json& j) {
    return j["hits"].size() == 2 && j["hits"][0]["id"] == "louvre" && j["hits"][1]["id"] == "orsay" &&
           j["hits"][0]["geo_distance_metres"].get<double>() > 1000 &&
           j["hits"][0]["geo_distance_metres"].get<double>() < j["hits"][1]["geo_distance_metres"].get<double>();
  }));
  check_error(c.Get("/v1/search?q=shop&sort=attributes.at", bearer(kSearchKey)), 400, "invalid_argument",
              "query.sort");
  check_error(c.Get("/v1/search?q=shop&distinct=attributes.at", bearer(kSearchKey)), 400,
              "invalid_argument", "query.distinct");
  auto city = c.Post("/v1/events/bulk", bearer(kWriteKey),
                     R"({"type":"AttributeSettingsUpsert","attributes":[{"name":"city","type":"string"}]}
{"type":"ItemPatch","id":"louvre","attributes":{"city":"Paris"}}
{"type":"ItemPatch","id":"orsay","attributes":{"city":"paris"}}
{"type":"ItemPatch","id":"tate","attributes":{"city":"London"}}
)",
                     "application/x-ndjson");
  REQUIRE(city);
  REQUIRE(city->status == 200);
  CHECK(eventually([&] { return c.Get("/v1/search?q=shop&distinct=attributes.city&sort=price", bearer(kSearchKey)); },
                   [](const nlohmann::json& j) {
                     return j["total"] == 2 && j["hits"].size() == 2 && j["hits"][0]["group_size"] == 2 &&
                            j["hits"][1]["group_size"] == 1;
                   }));
  check_error(c.Get("/v1/search?q=shop&filter=attributes.at%20WITHIN%20RADIUS(95,2,5km)", bearer(kSearchKey)),
              400, "invalid_argument", "query.filter[0]");
}

TEST_CASE("facet ranges and facet queries over HTTP with commas inside parentheses", "[http][facets]") {
  HarnessOptions o;
  o.answer_cache_ttl_ms = 0;
  Harness h(o);
  auto c = h.client();
  auto posted = c.Post("/v1/events/bulk", bearer(kWriteKey),
                       R"({"type":"ItemUpsert","id":"a","title":"Water","brand":"Nestlé Waters","price":5}
{"type":"ItemUpsert","id":"b","title":"Water","brand":"Danone","price":20}
{"type":"ItemUpsert","id":"c","title":"Water","brand":"Nestle","price":60}
)",
                       "application/x-ndjson");
  REQUIRE(posted);
  REQUIRE(posted->status == 200);
  auto search = [&] {
    return c.Get("/v1/search?q=water&facets=price(0..10,10..50,50..),brand&facet_query=brand:nestl&facet_sort=value",
                 bearer(kSearchKey));
  };
  CHECK(eventually(search, [](const nlohmann::json& j) {
    if (j["facets"].size() != 2 || j["total"] != 3) return false;
    const auto& price = j["facets"]["price"];
    const auto& brand = j["facets"]["brand"];
    return price.size() == 3 && price[0]["value"] == "0..10" && price[2]["value"] == "50.." &&
           brand.size() == 2 && brand[0]["value"] == "Nestle" && brand[1]["value"] == "Nestlé Waters";
  }));
  auto lit = c.Get("/v1/search?q=waters&highlight=brand&filter=brand%3DNestl%C3%A9%20Waters", bearer(kSearchKey));
  REQUIRE(lit);
  INFO(lit->body);
  REQUIRE(lit->status == 200);
  CHECK(body_json(lit)["hits"][0]["highlights"]["brand"] == "Nestlé <em>Waters</em>");
  check_error(c.Get("/v1/search?q=water&highlight=price", bearer(kSearchKey)), 400, "invalid_argument",
              "query.highlight[0]");
  check_error(c.Get("/v1/search?q=water&facets=brand&facet_sort=alpha", bearer(kSearchKey)), 400,
              "invalid_argument", "query.facet_sort");
  check_error(c.Get("/v1/search?q=water&facets=brand&max_facet_values=101", bearer(kSearchKey)), 400,
              "invalid_argument", "query.max_facet_values");
  check_error(c.Get("/v1/search?q=water&facets=brand&facet_query=category:x", bearer(kSearchKey)), 400,
              "invalid_argument", "query.facet_query");
}

TEST_CASE("a placement's filter is checked when it comes in: a bad one is a 400 and leaves no trace",
          "[http][filter]") {
  Harness h;
  auto c = h.client();
  auto bad = c.Post("/v1/events", bearer(kWriteKey),
                    R"({"type":"PlacementUpsert","id":"p","strategy":"popular","filter":"price < cheap"})",
                    "application/json");
  REQUIRE(bad);
  INFO(bad->body);
  CHECK(bad->status == 400);
  CHECK(body_json(bad)["error"]["path"] == "filter");
  CHECK(body_json(bad)["error"]["message"].get<std::string>().find("at column 9") != std::string::npos);
  auto bulk = c.Post("/v1/events/bulk", bearer(kWriteKey),
                     R"({"type":"PlacementUpsert","id":"q","strategy":"popular","filter":"brand IN [a"}
{"type":"PlacementUpsert","id":"r","strategy":"popular","filter":"brand IN [a, b] OR NOT price > 3"}
)",
                     "application/x-ndjson");
  REQUIRE(bulk);
  INFO(bulk->body);
  CHECK(body_json(bulk)["accepted"] == 1);
  bool stored = false;
  h.store().read([&](const trove::State& st) {
    stored = st.placements().count("p") == 0 && st.placements().count("q") == 0 && st.placements().count("r") == 1;
  });
  CHECK(stored);
}
