// The answer cache of search and suggest (http/src/answer_cache.h) over real HTTP: repeats are
// served from it, a catalog change is visible right after the index commits it, a client can
// bypass it, and personalized searches never use it.
#include <chrono>
#include <thread>

#include "http/http_harness.h"

using trove::test::bearer;
using trove::test::body_json;
using trove::test::Harness;
using trove::test::HarnessOptions;
using trove::test::kSearchKey;
using trove::test::kWriteKey;

namespace {

std::string upsert(const std::string& id, const std::string& title) {
  return R"({"type":"ItemUpsert","id":")" + id + R"(","title":")" + title + R"(","price":3.5})";
}

void post(Harness& h, const std::string& body) {
  auto r = h.client().Post("/v1/events", bearer(kWriteKey), body, "application/json");
  REQUIRE(r);
  REQUIRE(r->status == 200);
}

std::vector<std::string> ids(const nlohmann::json& hits) {
  std::vector<std::string> out;
  for (const auto& h : hits) out.push_back(h["id"]);
  return out;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

TEST_CASE("a repeated suggest or search is answered from the cache, byte for byte",
          "[http][cache]") {
  Harness h;
  post(h, upsert("tea-1", "Zephyr green tea"));
  REQUIRE(h.index().flush().ok());
  auto c = h.client();
  for (const std::string path : {"/v1/suggest?q=zephyr%20gr", "/v1/search?q=zephyr"}) {
    auto first = c.Get(path, bearer(kSearchKey));
    auto second = c.Get(path, bearer(kSearchKey));
    REQUIRE(first);
    REQUIRE(second);
    CHECK(first->status == 200);
    CHECK(first->get_header_value("X-Trove-Cache") == "miss");
    CHECK(second->get_header_value("X-Trove-Cache") == "hit");
    CHECK(second->body == first->body);
  }
  // The same parameters in another order are the same answer.
  CHECK(c.Get("/v1/search?q=zephyr&per_page=5", bearer(kSearchKey))->get_header_value("X-Trove-Cache") == "miss");
  CHECK(c.Get("/v1/search?per_page=5&q=zephyr", bearer(kSearchKey))->get_header_value("X-Trove-Cache") == "hit");
}

TEST_CASE("a new item appears in cached suggest and search answers right after the index commits it",
          "[http][cache]") {
  Harness h;
  post(h, upsert("tea-1", "Zephyr green tea"));
  REQUIRE(h.index().flush().ok());
  auto c = h.client();
  const std::string suggest = "/v1/suggest?q=zephyr%20gr";
  const std::string search = "/v1/search?q=zephyr%20green";
  // Cached before the new item exists.
  for (int i = 0; i < 2; ++i) {
    CHECK(ids(body_json(c.Get(suggest, bearer(kSearchKey)))["items"]) ==
          std::vector<std::string>{"tea-1"});
    CHECK(ids(body_json(c.Get(search, bearer(kSearchKey)))["hits"]) ==
          std::vector<std::string>{"tea-1"});
  }
  post(h, upsert("tea-2", "Zephyr green tea with mint"));
  REQUIRE(h.index().flush().ok());  // the refresh the server's flush timer does
  auto sug = c.Get(suggest, bearer(kSearchKey));
  REQUIRE(sug);
  CHECK(sug->get_header_value("X-Trove-Cache") == "miss");
  CHECK(contains(ids(body_json(sug)["items"]), "tea-2"));
  auto found = c.Get(search, bearer(kSearchKey));
  REQUIRE(found);
  CHECK(found->get_header_value("X-Trove-Cache") == "miss");
  CHECK(contains(ids(body_json(found)["hits"]), "tea-2"));
  CHECK(body_json(found)["total"] == 2);

  // A removed item leaves the cached answers the same way.
  post(h, R"({"type":"ItemRemove","id":"tea-1"})");
  REQUIRE(h.index().flush().ok());
  CHECK(ids(body_json(c.Get(search, bearer(kSearchKey)))["hits"]) ==
        std::vector<std::string>{"tea-2"});
}

TEST_CASE("Cache-Control no-cache bypasses the answer cache", "[http][cache]") {
  Harness h;
  post(h, upsert("tea-1", "Zephyr green tea"));
  REQUIRE(h.index().flush().ok());
  auto c = h.client();
  httplib::Headers no_cache = bearer(kSearchKey);
  no_cache.emplace("Cache-Control", "no-cache");
  REQUIRE(c.Get("/v1/search?q=zephyr", bearer(kSearchKey)));  // now cached
  auto r = c.Get("/v1/search?q=zephyr", no_cache);
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->get_header_value("X-Trove-Cache") == "bypass");
  CHECK(body_json(r)["total"] == 1);
}

TEST_CASE("personalized searches and errors are not cached", "[http][cache]") {
  Harness h;
  post(h, upsert("tea-1", "Zephyr green tea"));
  REQUIRE(h.index().flush().ok());
  auto c = h.client();
  for (int i = 0; i < 2; ++i) {
    auto r = c.Get("/v1/search?q=zephyr&visitor=v-1", bearer(kSearchKey));
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK_FALSE(r->has_header("X-Trove-Cache"));
    auto bad = c.Get("/v1/search?q=zephyr&page=0", bearer(kSearchKey));
    REQUIRE(bad);
    CHECK(bad->status == 400);
    CHECK(bad->get_header_value("X-Trove-Cache") == "miss");
  }
}

TEST_CASE("a cached answer outlives its TTL while no event is applied, and not after one",
          "[http][cache]") {
  // A TTL of 1 ms and sleeps of 20 ms: the TTL has passed at each repeat below. While neither
  // the index nor the Store's applied seq moved, the answer is exactly what a recomputation
  // gives and is served; after a behaviour event (popularity moved) it is recomputed.
  HarnessOptions o;
  o.answer_cache_ttl_ms = 1;
  Harness h(o);
  post(h, upsert("tea-1", "Zephyr green tea"));
  REQUIRE(h.index().flush().ok());
  auto c = h.client();
  auto get = [&](const std::string& path) {
    auto r = c.Get(path, bearer(kSearchKey));
    REQUIRE(r);
    REQUIRE(r->status == 200);
    return r->get_header_value("X-Trove-Cache");
  };
  for (const std::string path : {"/v1/suggest?q=zephyr%20gr", "/v1/search?q=zephyr"}) {
    INFO(path);
    CHECK(get(path) == "miss");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    CHECK(get(path) == "hit");
  }
  post(h, R"({"type":"DetailItemView","user":{"visitor_id":"v-1"},"item_id":"tea-1"})");
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  for (const std::string path : {"/v1/suggest?q=zephyr%20gr", "/v1/search?q=zephyr"}) {
    INFO(path);
    CHECK(get(path) == "miss");
    CHECK(get(path) == "hit");  // within the TTL, or still at the same seq
  }
}
