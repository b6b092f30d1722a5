// The /v1/recommend/... routes and personalized search over real HTTP on loopback, on a
// hand-built shop whose neighbours are known, and on a generated one for the shapes.
#include <chrono>
#include <set>
#include <thread>

#include "http/http_harness.h"

using trove::test::Harness;
using trove::test::bearer;
using trove::test::body_json;
using trove::test::check_error;
using trove::test::kAdminKey;
using trove::test::kSearchKey;
using trove::test::kWriteKey;

namespace {


void post_events(Harness& h, const nlohmann::json& events) {
  auto c = h.client();
  auto r = c.Post("/v1/events", bearer(kWriteKey), events.dump(), "application/json");
  REQUIRE(r);
  INFO(r->body);
  REQUIRE(r->status == 200);
}

nlohmann::json item(const std::string& id, const std::string& title, const std::string& brand,
                    const std::string& category, double price, bool in_stock = true) {
  return {{"type", "ItemUpsert"}, {"id", id},         {"title", title},
          {"brand", brand},       {"categories", {category}}, {"price", price},
          {"in_stock", in_stock}};
}

nlohmann::json view(const std::string& visitor, const std::string& item_id) {
  return {{"type", "DetailItemView"}, {"user", {{"visitor_id", visitor}}}, {"item_id", item_id}};
}

// Green tea people look at the blue mug; black tea is bought with the red mug and seen with
// the old mug (out of stock); "me" saw green tea.
void build_shop(Harness& h) {
  nlohmann::json ev = nlohmann::json::array();
  ev.push_back(item("tea-green", "Green tea, loose leaf", "Leafy", "Drinks > Tea", 6));
  ev.push_back(item("tea-black", "Black tea", "Leafy", "Drinks > Tea", 5));
  ev.push_back(item("mug-blue", "Blue ceramic mug with a wide handle and a matching saucer",
                    "Potter", "Kitchen > Mugs", 12));
  ev.push_back(item("mug-red", "Red ceramic mug", "Potter", "Kitchen > Mugs", 11));
  ev.push_back(item("mug-white", "White mug", "Plain", "Kitchen > Mugs", 8));
  ev.push_back(item("mug-old", "Old mug", "Plain", "Kitchen > Mugs", 3, false));
  for (int i = 0; i < 4; ++i) {
    const std::string v = "v" + std::to_string(i);
    ev.push_back(view(v, "tea-green"));
    ev.push_back(view(v, "mug-blue"));
  }
  for (int i = 0; i < 2; ++i) {
    const std::string w = "w" + std::to_string(i);
    ev.push_back(view(w, "tea-black"));
    ev.push_back(view(w, "mug-old"));
  }
  for (int i = 0; i < 3; ++i) {
    ev.push_back({{"type", "PurchaseComplete"},
                  {"user", {{"visitor_id", "b" + std::to_string(i)}}},
                  {"order_id", "o" + std::to_string(i)},
                  {"lines",
                   {{{"item_id", "tea-black"}, {"quantity", 1}},
                    {{"item_id", "mug-red"}, {"quantity", 1}}}}});
  }
  ev.push_back(view("me", "tea-green"));
  ev.push_back({{"type", "PlacementUpsert"},
                {"id", "pdp"},
                {"strategy", "similar"},
                {"count", 2},
                {"filters", {{"category", "Kitchen"}}}});
  post_events(h, ev);
  REQUIRE(h.index().flush().ok());
}

std::vector<std::string> ids(const nlohmann::json& items) {
  std::vector<std::string> out;
  for (const auto& i : items) out.push_back(i["id"]);
  return out;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

void check_shape(const nlohmann::json& j, const std::string& strategy) {
  INFO(j.dump());
  CHECK(j["strategy"] == strategy);
  CHECK(j["source"].is_string());
  CHECK(j["personalized"].is_boolean());
  CHECK(j["took_ms"].is_number());
  REQUIRE(j["items"].is_array());
  for (const auto& i : j["items"]) {
    CHECK(i["id"].is_string());
    CHECK(i["title"].is_string());
    CHECK(i["score"].is_number());
  }
}

}  // namespace

TEST_CASE("each recommend route answers from the models with the documented shape", "[http]") {
  Harness h;
  build_shop(h);
  auto c = h.client();
  auto get = [&](const std::string& target) {
    auto r = c.Get(target, bearer(kSearchKey));
    REQUIRE(r);
    INFO(target << " -> " << r->body);
    REQUIRE(r->status == 200);
    return body_json(r);
  };

  auto similar = get("/v1/recommend/similar?item=tea-green");
  check_shape(similar, "similar");
  CHECK(similar["source"].get<std::string>().find("co-occurrence") != std::string::npos);
  REQUIRE_FALSE(similar["items"].empty());
  CHECK(similar["items"][0]["id"] == "mug-blue");
  CHECK(similar["items"][0]["brand"] == "Potter");
  CHECK(similar["items"][0]["price"] == 12);
  CHECK_FALSE(contains(ids(similar["items"]), "tea-green"));
  CHECK_FALSE(contains(ids(similar["items"]), "mug-old"));  // out of stock

  // Exclusions, repeated or as a comma list; filters.
  auto excluded = get("/v1/recommend/similar?item=tea-green&exclude=mug-blue,mug-red&exclude=x");
  CHECK_FALSE(contains(ids(excluded["items"]), "mug-blue"));
  CHECK_FALSE(contains(ids(excluded["items"]), "mug-red"));
  auto out_of_stock = get("/v1/recommend/similar?item=tea-black&in_stock=false");
  CHECK(ids(out_of_stock["items"]) == std::vector<std::string>{"mug-old"});
  auto cheap = get("/v1/recommend/similar?item=tea-green&max_price=9&category=Kitchen");
  for (const auto& i : cheap["items"]) CHECK(i["price"].get<double>() <= 9);
  auto by_brand = get("/v1/recommend/trending?brand=Leafy&count=5");
  for (const auto& id : ids(by_brand["items"])) CHECK(id.rfind("tea-", 0) == 0);

  auto together = get("/v1/recommend/bought-together?item=tea-black");
  check_shape(together, "bought-together");
  REQUIRE_FALSE(together["items"].empty());
  CHECK(together["items"][0]["id"] == "mug-red");
  CHECK(together["source"].get<std::string>().find("bought-together") != std::string::npos);

  auto mine = get("/v1/recommend/for-you?visitor=me");
  check_shape(mine, "for-you");
  CHECK(mine["personalized"] == true);
  REQUIRE_FALSE(mine["items"].empty());
  CHECK(mine["items"][0]["id"] == "mug-blue");
  auto anyone = get("/v1/recommend/for-you");
  check_shape(anyone, "for-you");
  CHECK(anyone["personalized"] == false);
  CHECK_FALSE(anyone["items"].empty());

  auto trending = get("/v1/recommend/trending?count=2");
  check_shape(trending, "trending");
  CHECK(trending["items"].size() == 2);

  auto recent = get("/v1/recommend/recently-viewed?visitor=v0");
  check_shape(recent, "recently-viewed");
  CHECK(ids(recent["items"]) == std::vector<std::string>{"mug-blue", "tea-green"});
  CHECK(ids(get("/v1/recommend/recently-viewed?visitor=v0&drop_bought=false")["items"]) ==
        std::vector<std::string>{"mug-blue", "tea-green"});
  check_shape(get("/v1/recommend/recently-viewed?visitor=v0&drop_bought=true"), "recently-viewed");

  // The white mug has no behaviour: the mugs like it by their text come first.
  auto white = get("/v1/recommend/similar?item=mug-white&count=3");
  check_shape(white, "similar");
  CHECK(white["source"].get<std::string>().rfind("similar-content", 0) == 0);
  REQUIRE(white["items"].size() >= 2);
  CHECK(std::set<std::string>{white["items"][0]["id"], white["items"][1]["id"]} ==
        std::set<std::string>{"mug-blue", "mug-red"});

  // Popular counts undecayed weight (3 purchases x 5 + 2 views of the black tea); every event
  // here is from today, so a window of a day answers the same.
  auto popular = get("/v1/recommend/popular?count=3");
  check_shape(popular, "popular");
  CHECK(popular["source"] == "popular");
  CHECK(ids(popular["items"]) == std::vector<std::string>{"tea-black", "mug-red", "tea-green"});
  CHECK(ids(get("/v1/recommend/popular?count=3&window_days=1")["items"]) ==
        ids(popular["items"]));
  auto arrivals = get("/v1/recommend/new-arrivals?category=Kitchen");
  check_shape(arrivals, "new-arrivals");
  CHECK(ids(arrivals["items"]) == std::vector<std::string>{"mug-white", "mug-red", "mug-blue"});

  // The placement's strategy, count and filters apply.
  auto slot = get("/v1/recommend/placement?placement=pdp&item=tea-green&count=10");
  check_shape(slot, "similar");
  CHECK(slot["items"].size() <= 2);
  for (const auto& id : ids(slot["items"])) CHECK(id.rfind("mug-", 0) == 0);
}

TEST_CASE("recommend routes refuse bad parameters with their path, unknown items with 404, "
          "and need a key",
          "[http]") {
  Harness h;
  build_shop(h);
  auto c = h.client();
  auto get = [&](const std::string& target) { return c.Get(target, bearer(kSearchKey)); };
  check_error(get("/v1/recommend/similar?item=tea-green&count=0"), 400, "invalid_argument",
              "query.count");
  check_error(get("/v1/recommend/trending?count=101"), 400, "invalid_argument", "query.count");
  check_error(get("/v1/recommend/trending?count=ten"), 400, "invalid_argument", "query.count");
  check_error(get("/v1/recommend/similar"), 400, "invalid_argument", "query.item");
  check_error(get("/v1/recommend/similar?item=a&item=b"), 400, "invalid_argument", "query.item");
  check_error(get("/v1/recommend/similar?item=no-such-item"), 404, "not_found", "query.item");
  check_error(get("/v1/recommend/bought-together?item=no-such-item"), 404, "not_found",
              "query.item");
  check_error(get("/v1/recommend/similar?item=tea-green&colour=red"), 400, "invalid_argument",
              "query.colour");
  check_error(get("/v1/recommend/trending?user=me"), 400, "invalid_argument", "query.user");
  check_error(get("/v1/recommend/similar?item=tea-green&min_price=-1"), 400, "invalid_argument",
              "query.min_price");
  check_error(get("/v1/recommend/similar?item=tea-green&max_price=cheap"), 400,
              "invalid_argument", "query.max_price");
  check_error(get("/v1/recommend/similar?item=tea-green&min_price=9&max_price=5"), 400,
              "invalid_argument", "query.min_price");
  check_error(get("/v1/recommend/similar?item=tea-green&in_stock=maybe"), 400,
              "invalid_argument", "query.in_stock");
  check_error(get("/v1/recommend/recently-viewed"), 400, "invalid_argument", "query.user");
  check_error(get("/v1/recommend/recently-viewed?visitor=v0&drop_bought=maybe"), 400,
              "invalid_argument", "query.drop_bought");
  check_error(get("/v1/recommend/for-you?visitor=v0&drop_bought=true"), 400, "invalid_argument",
              "query.drop_bought");
  check_error(get("/v1/recommend/popular?window_days=0"), 400, "invalid_argument",
              "query.window_days");
  check_error(get("/v1/recommend/popular?window_days=91"), 400, "invalid_argument",
              "query.window_days");
  check_error(get("/v1/recommend/trending?window_days=7"), 400, "invalid_argument",
              "query.window_days");
  check_error(get("/v1/recommend/new-arrivals?user=me"), 400, "invalid_argument", "query.user");
  check_error(get("/v1/recommend/placement"), 400, "invalid_argument", "query.placement");
  check_error(get("/v1/recommend/placement?placement=nowhere"), 404, "not_found",
              "query.placement");
  // A similar placement without its item: the item is what is missing.
  check_error(get("/v1/recommend/placement?placement=pdp"), 400, "invalid_argument",
              "query.item");
  check_error(get("/v1/recommend/placement?placement=pdp&item=no-such-item"), 404, "not_found",
              "query.item");

  // Search scope is the lowest: no key or an unknown key is refused; every scope passes.
  auto none = c.Get("/v1/recommend/trending");
  check_error(none, 401, "unauthorized");
  check_error(c.Get("/v1/recommend/trending", bearer("not-a-key-at-all-0000")), 401,
              "unauthorized");
  for (const char* key : {kSearchKey, kWriteKey, kAdminKey}) {
    CHECK(c.Get("/v1/recommend/trending", bearer(key))->status == 200);
  }
  auto wrong = c.Post("/v1/recommend/similar", bearer(kAdminKey), "", "application/json");
  check_error(wrong, 405, "method_not_allowed");
}

TEST_CASE("personalized search re-ranks by the person's affinity and explains it", "[http]") {
  Harness h;
  build_shop(h);
  auto c = h.client();
  auto search = [&](const std::string& query) {
    auto r = c.Get("/v1/search?q=mug&explain=true" + query, bearer(kSearchKey));
    REQUIRE(r);
    INFO(r->body);
    REQUIRE(r->status == 200);
    return body_json(r);
  };
  const auto plain = search("");
  const auto mine = search("&visitor=me");
  INFO(plain.dump(1));
  INFO(mine.dump(1));
  REQUIRE(plain["hits"].size() == mine["hits"].size());
  REQUIRE(mine["hits"].size() >= 3);
  CHECK(plain["hits"][0]["id"] != "mug-blue");
  CHECK(mine["hits"][0]["id"] == "mug-blue");
  for (const auto& hit : plain["hits"]) {
    CHECK(hit["typos"] == 0);
    CHECK_FALSE(hit.contains("ranking"));  // no person: the index's order, nothing blended
  }
  const auto& top = mine["hits"][0];
  REQUIRE(top.contains("ranking"));
  CHECK(top["ranking"]["affinity"].get<double>() > 0);
  for (const char* part : {"text", "affinity", "popularity", "typo_penalty"}) {
    CHECK(top["ranking"].contains(part));
  }
  // Without explain the order is the same and the contributions are not shown.
  auto quiet = c.Get("/v1/search?q=mug&visitor=me", bearer(kSearchKey));
  REQUIRE(quiet);
  CHECK(body_json(quiet)["hits"][0]["id"] == "mug-blue");
  CHECK_FALSE(body_json(quiet)["hits"][0].contains("ranking"));
  // Someone the models do not know gets the plain order; a typo is counted on its hit.
  CHECK(search("&user=stranger")["hits"] == plain["hits"]);
  auto typo = c.Get("/v1/search?q=ceramik&visitor=me", bearer(kSearchKey));
  REQUIRE(typo);
  REQUIRE(typo->status == 200);
  REQUIRE_FALSE(body_json(typo)["hits"].empty());
  CHECK(body_json(typo)["hits"][0]["typos"] == 1);
  check_error(c.Get("/v1/search?q=mug&visitor=a&visitor=b", bearer(kSearchKey)), 400,
              "invalid_argument", "query.visitor");
}

TEST_CASE("a UserForget posted over HTTP turns for-you for that person into popularity",
          "[http]") {
  Harness h;
  build_shop(h);
  auto c = h.client();
  auto for_me = [&] {
    auto r = c.Get("/v1/recommend/for-you?visitor=me", bearer(kSearchKey));
    REQUIRE(r);
    REQUIRE(r->status == 200);
    return body_json(r);
  };
  const auto before = for_me();
  CHECK(before["personalized"] == true);
  CHECK(before["source"].get<std::string>().find("co-occurrence") != std::string::npos);
  post_events(h, {{"type", "UserForget"}, {"visitor_id", "me"}});
  const auto after = for_me();
  INFO(after.dump());
  CHECK(after["personalized"] == false);
  CHECK(after["source"].get<std::string>().find("co-occurrence") == std::string::npos);
  CHECK(after["source"].get<std::string>().find("popularity") != std::string::npos);
  auto recent = c.Get("/v1/recommend/recently-viewed?visitor=me", bearer(kSearchKey));
  REQUIRE(recent);
  CHECK(body_json(recent)["items"].empty());
  // The models are rebuilt without "me" on a background thread: wait for it (bounded), then
  // metrics and readyz say it is done.
  std::string metrics;
  for (int i = 0; i < 600; ++i) {
    auto m = c.Get("/metrics", bearer(kAdminKey));
    REQUIRE(m);
    metrics = m->body;
    if (metrics.find("\ntrove_recommend_forget_pending 0\n") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(metrics.find("\ntrove_recommend_forget_pending 0\n") != std::string::npos);
  CHECK(metrics.find("\ntrove_recommend_rebuilds_total 1\n") != std::string::npos);
  CHECK(metrics.find("\ntrove_recommend_rebuild_failures_total 0\n") != std::string::npos);
  CHECK(body_json(c.Get("/readyz"))["forget"] == "ok");
  CHECK(for_me()["personalized"] == false);  // still nothing personal: the events are gone
}

TEST_CASE("recommend routes answer on a generated shop and its placements, metrics show the "
          "models",
          "[http]") {
  Harness h;
  auto c = h.client();
  REQUIRE(c.Post("/v1/events/bulk", bearer(kWriteKey), trove::test::shop_ndjson(80, 600),
                 "application/x-ndjson")
              ->status == 200);
  post_events(h, {{{"type", "PlacementUpsert"}, {"id", "home-trending"}, {"strategy", "trending"},
                   {"count", 8}},
                  {{"type", "PlacementUpsert"}, {"id", "pdp-similar"}, {"strategy", "similar"},
                   {"count", 6}, {"filters", {{"in_stock", true}}}}});
  REQUIRE(h.index().flush().ok());
  auto all = c.Get("/v1/search?q=*&per_page=1", bearer(kSearchKey));
  REQUIRE(all);
  const std::string item_id = body_json(all)["hits"][0]["id"];
  const std::vector<std::pair<std::string, std::string>> routes = {
      {"/v1/recommend/similar?item=" + item_id, "similar"},
      {"/v1/recommend/bought-together?item=" + item_id, "bought-together"},
      {"/v1/recommend/for-you?visitor=visitor-1", "for-you"},
      {"/v1/recommend/trending", "trending"},
      {"/v1/recommend/recently-viewed?visitor=visitor-1", "recently-viewed"},
      {"/v1/recommend/placement?placement=home-trending", "trending"},
      {"/v1/recommend/placement?placement=pdp-similar&item=" + item_id, "similar"}};
  for (const auto& [target, strategy] : routes) {
    auto r = c.Get(target, bearer(kSearchKey));
    REQUIRE(r);
    INFO(target << " -> " << r->body);
    REQUIRE(r->status == 200);
    check_shape(body_json(r), strategy);
    std::set<std::string> seen;
    for (const auto& id : ids(body_json(r)["items"])) CHECK(seen.insert(id).second);
  }
  auto m = c.Get("/metrics", bearer(kAdminKey));
  REQUIRE(m);
  const std::string& text = m->body;
  CHECK(text.find("trove_http_requests_total{route=\"/v1/recommend/similar\",status=\"200\"} 1") !=
        std::string::npos);
  CHECK(text.find("trove_http_request_duration_seconds_count{route=\"/v1/recommend/placement\"} "
                  "2") != std::string::npos);
  CHECK(text.find("\ntrove_recommend_model_items 0\n") == std::string::npos);
  CHECK(text.find("\ntrove_recommend_model_items ") != std::string::npos);
  CHECK(text.find("\ntrove_recommend_model_people ") != std::string::npos);
  CHECK(text.find("trove_recommend_model_bytes{part=\"items\"}") != std::string::npos);
}

TEST_CASE("an admin starts EASE training on demand, other scopes may not", "[http]") {
  Harness h;
  build_shop(h);
  auto c = h.client();
  check_error(c.Post("/v1/admin/train-ease", bearer(kSearchKey), "", "application/json"), 403,
              "forbidden");
  auto r = c.Post("/v1/admin/train-ease", bearer(kAdminKey), "", "application/json");
  REQUIRE(r);
  INFO(r->body);
  CHECK(r->status == 202);
  CHECK(nlohmann::json::parse(r->body)["training"] == true);
  // The training finishes in the background; a later request starts another one.
  for (int i = 0; i < 200; ++i) {
    r = c.Post("/v1/admin/train-ease", bearer(kAdminKey), "", "application/json");
    REQUIRE(r);
    if (r->status == 202) break;
    CHECK(r->status == 503);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(r->status == 202);
}
