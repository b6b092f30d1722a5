// Each endpoint of the HTTP API over real HTTP on loopback, with its error answers.
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include "http/http_harness.h"
#include "trove/data/snapshot.h"

using trove::test::Harness;
using trove::test::HarnessOptions;
using trove::test::bearer;
using trove::test::body_json;
using trove::test::check_error;
using trove::test::eventually;
using trove::test::kAdminKey;
using trove::test::kSearchKey;
using trove::test::kWriteKey;
namespace fs = std::filesystem;

namespace {

const std::string kView =
    R"({"type":"DetailItemView","user":{"visitor_id":"v-1"},"item_id":"sku-10001"})";

void ingest_shop(Harness& h, size_t items = 60, size_t events = 300) {
  auto c = h.client();
  auto r = c.Post("/v1/events/bulk", bearer(kWriteKey), trove::test::shop_ndjson(items, events),
                  "application/x-ndjson");
  REQUIRE(r);
  REQUIRE(r->status == 200);
  REQUIRE(h.index().flush().ok());
}


}  // namespace

TEST_CASE("healthz, readyz, schemas and the OpenAPI document answer without a key", "[http]") {
  Harness h;
  auto c = h.client();
  auto health = c.Get("/healthz");
  REQUIRE(health);
  CHECK(health->status == 200);
  auto ready = c.Get("/readyz");
  REQUIRE(ready);
  CHECK(ready->status == 200);
  CHECK(body_json(ready)["status"] == "ready");
  auto index = c.Get("/v1/schemas");
  REQUIRE(index);
  CHECK(index->status == 200);
  CHECK(body_json(index)["events"].size() == trove::kEventTypeCount);
  auto one = c.Get("/v1/schemas/PurchaseComplete");
  REQUIRE(one);
  CHECK(one->status == 200);
  CHECK(body_json(one)["title"] == "PurchaseComplete");
  check_error(c.Get("/v1/schemas/NoSuchEvent"), 404, "not_found", "type");
  auto doc = c.Get("/openapi.json");
  REQUIRE(doc);
  CHECK(body_json(doc)["openapi"] == "3.1.0");
}

TEST_CASE("data routes and readyz answer 503 until the store and index are attached", "[http]") {
  HarnessOptions o;
  o.attach = false;
  Harness h(o);
  auto c = h.client();
  CHECK(c.Get("/healthz")->status == 200);
  check_error(c.Get("/readyz"), 503, "not_ready");
  check_error(c.Get("/v1/search?q=x", bearer(kSearchKey)), 503, "not_ready");
  check_error(c.Post("/v1/events", bearer(kWriteKey), kView, "application/json"), 503,
              "not_ready");
  h.open_and_attach();
  CHECK(c.Get("/readyz")->status == 200);
  CHECK(c.Get("/v1/search?q=x", bearer(kSearchKey))->status == 200);
}

TEST_CASE("acknowledged events carry their seqs and are durable across a reopen", "[http]") {
  Harness h;
  auto c = h.client();
  auto one = c.Post("/v1/events", bearer(kWriteKey), kView, "application/json");
  REQUIRE(one);
  REQUIRE(one->status == 200);
  CHECK(body_json(one) == nlohmann::json({{"seq", 1}, {"duplicate", false}}));
  const std::string array =
      R"([{"type":"ItemUpsert","id":"sku-a","title":"Copper pan"},)"
      R"({"type":"HomePageView","event_id":"e-1","user":{"visitor_id":"v-2"}},)"
      R"({"type":"HomePageView","event_id":"e-1","user":{"visitor_id":"v-2"}}])";
  auto many = c.Post("/v1/events", bearer(kWriteKey), array, "application/json");
  REQUIRE(many);
  REQUIRE(many->status == 200);
  const auto acks = body_json(many)["acks"];
  REQUIRE(acks.size() == 3);
  CHECK(acks[0]["seq"] == 2);
  CHECK(acks[1]["seq"] == 3);
  CHECK(acks[2] == nlohmann::json({{"seq", 3}, {"duplicate", true}}));
  const std::string dir = h.data_dir();
  h.stop();
  auto store = trove::Store::open(dir);
  REQUIRE(store.ok());
  CHECK(store.value()->last_seq() == 3);
  store.value()->read([](const trove::State& s) {
    CHECK(s.item("sku-a") != nullptr);
    CHECK(s.event_count(trove::EventType::kHomePageView) == 1);
  });
}

TEST_CASE("a bad event is refused with 400 and its JSON path, nothing of its array is kept",
          "[http]") {
  Harness h;
  auto c = h.client();
  check_error(c.Post("/v1/events", bearer(kWriteKey),
                     R"({"type":"DetailItemView","user":{"visitor_id":3},"item_id":"x"})",
                     "application/json"),
              400, "invalid_argument", "user.visitor_id");
  check_error(c.Post("/v1/events", bearer(kWriteKey), "[" + kView + R"(,{"type":"RateItem",
                     "user":{"visitor_id":"v"},"item_id":"x","rating":9}])",
                     "application/json"),
              400, "invalid_argument", "[1].rating");
  check_error(c.Post("/v1/events", bearer(kWriteKey), "[" + kView, "application/json"), 400,
              "invalid_argument", "$");
  check_error(c.Post("/v1/events", bearer(kWriteKey), "not json", "application/json"), 400,
              "invalid_argument");
  check_error(c.Post("/v1/events", bearer(kWriteKey), "[]", "application/json"), 400,
              "invalid_argument", "$");
  CHECK(h.store().last_seq() == 0);
}

TEST_CASE("bulk keeps the accepted lines and lists each rejected line with its error", "[http]") {
  Harness h;
  auto c = h.client();
  const std::string body = kView + "\n" +
                           R"({"type":"HomePageView","user":{}})" + "\n" +  // line 2: bad
                           "\n" +                                          // line 3: blank
                           R"({"type":"Nope"})" + "\n" +                    // line 4: bad
                           R"({"type":"HomePageView","user":{"visitor_id":"v-9"}})";  // no \n
  auto r = c.Post("/v1/events/bulk", bearer(kWriteKey), body, "application/x-ndjson");
  REQUIRE(r);
  REQUIRE(r->status == 200);
  const auto j = body_json(r);
  CHECK(j["lines"] == 5);
  CHECK(j["accepted"] == 2);
  CHECK(j["rejected"] == 2);
  CHECK(j["first_seq"] == 1);
  CHECK(j["last_seq"] == 2);
  REQUIRE(j["errors"].size() == 2);
  CHECK(j["errors"][0]["line"] == 2);
  CHECK(j["errors"][0]["path"] == "user.visitor_id");
  CHECK(j["errors"][1]["line"] == 4);
  CHECK(h.store().last_seq() == 2);
}

TEST_CASE("bulk numbers lines across its batches: CRLF, an oversize line, errors after 8,192",
          "[http]") {
  // Lines are split off as they arrive and parsed 8,192 at a time on the ingest lane; the
  // line numbers, the counts and what is kept must not depend on where a batch ends.
  Harness h;
  auto c = h.client();
  std::string body;
  const std::string view = R"({"type":"HomePageView","user":{"visitor_id":"v-1"}})";
  for (int line = 1; line <= 20000; ++line) {
    if (line == 100) {
      body += R"({"type":"HomePageView","user":{"visitor_id":")" + std::string(300000, 'x') +
              "\"}}\r\n";
    } else if (line == 8192 || line == 8193 || line == 16385) {
      body += R"({"type":"HomePageView","user":{}})" "\r\n";
    } else {
      body += view + "\r\n";
    }
  }
  auto r = c.Post("/v1/events/bulk", bearer(kWriteKey), body, "application/x-ndjson");
  REQUIRE(r);
  REQUIRE(r->status == 200);
  const auto j = body_json(r);
  CHECK(j["lines"] == 20000);
  CHECK(j["accepted"] == 19996);
  CHECK(j["rejected"] == 4);
  REQUIRE(j["errors"].size() == 4);
  CHECK(j["errors"][0]["line"] == 100);
  CHECK(j["errors"][0]["message"].get<std::string>().find("over the limit") != std::string::npos);
  CHECK(j["errors"][1]["line"] == 8192);
  CHECK(j["errors"][2]["line"] == 8193);
  CHECK(j["errors"][3]["line"] == 16385);
  CHECK(j["errors"][3]["path"] == "user.visitor_id");
  CHECK(j["first_seq"] == 1);
  CHECK(j["last_seq"] == 19996);
  CHECK(h.store().last_seq() == 19996);
}

TEST_CASE("search, suggest, fuzzy and items answer from what was ingested", "[http]") {
  Harness h;
  ingest_shop(h);
  auto c = h.client();
  auto all = c.Get("/v1/search?q=*&per_page=3&facets=brand", bearer(kSearchKey));
  REQUIRE(all);
  REQUIRE(all->status == 200);
  const auto j = body_json(all);
  CHECK(j["total"] > 0);
  CHECK(j["hits"].size() == 3);
  CHECK(j.contains("facets"));
  const std::string id = j["hits"][0]["id"];
  const std::string title = j["hits"][0]["title"];
  const std::string word = title.substr(0, title.find(' '));

  auto found = c.Get("/v1/search?q=" + trove::test::url_encode(word) + "&explain=true",
                     bearer(kSearchKey));
  REQUIRE(found);
  CHECK(found->status == 200);
  CHECK(body_json(found)["total"] > 0);
  CHECK(body_json(found).contains("query"));

  auto sug = c.Get("/v1/suggest?q=" + trove::test::url_encode(word.substr(0, 3)),
                   bearer(kSearchKey));
  REQUIRE(sug);
  CHECK(sug->status == 200);
  CHECK(body_json(sug).contains("completions"));

  auto fz = c.Get("/v1/fuzzy?term=" + trove::test::url_encode(word) + "&max_distance=1",
                  bearer(kSearchKey));
  REQUIRE(fz);
  CHECK(fz->status == 200);
  CHECK(body_json(fz)["terms"].is_array());

  auto item = c.Get("/v1/items/" + id, bearer(kSearchKey));
  REQUIRE(item);
  CHECK(item->status == 200);
  CHECK(body_json(item)["id"] == id);
  CHECK(body_json(item)["title"] == title);
  CHECK(body_json(item).contains("counters"));

  check_error(c.Get("/v1/items/no-such-item", bearer(kSearchKey)), 404, "not_found", "id");
  check_error(c.Get("/v1/search", bearer(kSearchKey)), 400, "invalid_argument", "query.q");
  check_error(c.Get("/v1/search?q=a&page=0", bearer(kSearchKey)), 400, "invalid_argument",
              "query.page");
  check_error(c.Get("/v1/search?q=a&per_page=x", bearer(kSearchKey)), 400, "invalid_argument",
              "query.per_page");
  check_error(c.Get("/v1/search?q=a&q=b", bearer(kSearchKey)), 400, "invalid_argument",
              "query.q");
  check_error(c.Get("/v1/search?q=a&colour=red", bearer(kSearchKey)), 400, "invalid_argument",
              "query.colour");
  check_error(c.Get("/v1/search?q=a&sort=cheapest", bearer(kSearchKey)), 400,
              "invalid_argument", "query.sort");
  check_error(c.Get("/v1/fuzzy?term=abc&max_distance=9", bearer(kSearchKey)), 400,
              "invalid_argument", "query.max_distance");
  check_error(c.Get("/v1/search?q=a&filter=colour=red", bearer(kSearchKey)), 400,
              "invalid_argument", "query.filter[0]");
}

TEST_CASE("API keys: 401 without or with an unknown key, 403 for a narrower scope", "[http]") {
  Harness h;
  auto c = h.client();
  auto none = c.Get("/v1/search?q=x");
  check_error(none, 401, "unauthorized");
  CHECK(none->get_header_value("WWW-Authenticate").rfind("Bearer", 0) == 0);
  check_error(c.Get("/v1/search?q=x", bearer("not-a-key-at-all-0000")), 401, "unauthorized");
  CHECK(c.Get("/v1/search?q=x", {{"X-Api-Key", kSearchKey}})->status == 200);
  CHECK(c.Get("/v1/search?q=x", bearer(kWriteKey))->status == 200);  // write > search
  check_error(c.Post("/v1/events", bearer(kSearchKey), kView, "application/json"), 403,
              "forbidden");
  check_error(c.Post("/v1/admin/snapshot", bearer(kWriteKey), "", "application/json"), 403,
              "forbidden");
  check_error(c.Get("/metrics", bearer(kWriteKey)), 403, "forbidden");
  CHECK(c.Post("/v1/events", bearer(kWriteKey), kView, "application/json")->status == 200);
  CHECK(c.Post("/v1/events", bearer(kAdminKey), kView, "application/json")->status == 200);
  CHECK(c.Get("/metrics", bearer(kAdminKey))->status == 200);
  CHECK(h.store().last_seq() == 2);
}

TEST_CASE("a keys file with a short key or a bad scope is refused, naming only the line",
          "[http]") {
  trove::test::TempDir dir;
  const std::string path = dir.sub("keys");
  trove::http::ServerOptions o;
  o.port = 0;
  o.request_log = "off";
  o.keys_file = path;
  trove::test::write_file(path, "a admin short\n");
  auto r = trove::http::Server::start(o);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().path().find("line 1") != std::string::npos);
  CHECK(r.status().to_string().find("short") == std::string::npos);
  trove::test::write_file(path, "# c\n\nb root 0123456789abcdef0123\n");
  r = trove::http::Server::start(o);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().path().find("line 3") != std::string::npos);
  CHECK(r.status().to_string().find("0123456789abcdef0123") == std::string::npos);
}

TEST_CASE("404 for unknown routes, 405 with Allow for a known route's wrong method", "[http]") {
  Harness h;
  auto c = h.client();
  check_error(c.Get("/v2/anything"), 404, "not_found");
  auto wrong = c.Post("/v1/search", bearer(kAdminKey), "", "application/json");
  check_error(wrong, 405, "method_not_allowed");
  CHECK(wrong->get_header_value("Allow") == "GET");
  auto del = c.Delete("/v1/events");
  check_error(del, 405, "method_not_allowed");
  CHECK(del->get_header_value("Allow") == "POST");
}

TEST_CASE("413 over the body limit, 414 over the URI limit, 411 and 415 for wrong framing",
          "[http]") {
  HarnessOptions o;
  o.limits.max_body_bytes = 4096;
  o.limits.max_uri_bytes = 2048;
  o.limits.max_query_bytes = 1024;
  Harness h(o);
  auto c = h.client();
  check_error(c.Post("/v1/events", bearer(kWriteKey), std::string(5000, ' ') + kView,
                     "application/json"),
              413, "payload_too_large");
  auto uri = c.Get("/v1/search?q=" + std::string(3000, 'a'), bearer(kSearchKey));
  REQUIRE(uri);
  CHECK(uri->status == 414);
  auto query = c.Get("/v1/search?q=" + std::string(1500, 'a'), bearer(kSearchKey));
  REQUIRE(query);
  CHECK(query->status == 414);
  // Within the URI limits, the index's own limit on the query applies, named as a parameter.
  check_error(c.Get("/v1/search?q=" + std::string(900, 'a'), bearer(kSearchKey)), 400,
              "invalid_argument", "query.q");
  // A chunked body on the single-event route: refused before any of it is read.
  auto chunked = c.Post(
      "/v1/events", bearer(kWriteKey),
      [](size_t, httplib::DataSink& sink) {
        sink.write(kView.data(), kView.size());
        sink.done();
        return true;
      },
      "application/json");
  check_error(chunked, 411, "length_required");
  check_error(c.Post("/v1/events", bearer(kWriteKey), kView, "text/plain"), 415,
              "unsupported_media_type");
  CHECK(h.store().last_seq() == 0);
  CHECK(c.Post("/v1/events", bearer(kWriteKey), kView, "application/json")->status == 200);
}

TEST_CASE("429 with Retry-After once a key's token bucket is empty", "[http]") {
  HarnessOptions o;
  o.limits.rate_per_second = 0.5;
  o.limits.rate_burst = 3;
  Harness h(o);
  auto c = h.client();
  for (int i = 0; i < 3; ++i) CHECK(c.Get("/v1/search?q=x", bearer(kSearchKey))->status == 200);
  auto limited = c.Get("/v1/search?q=x", bearer(kSearchKey));
  check_error(limited, 429, "rate_limited");
  CHECK(std::stoi(limited->get_header_value("Retry-After")) >= 1);
  // Buckets are per key: another key still passes.
  CHECK(c.Get("/v1/search?q=x", bearer(kWriteKey))->status == 200);
  CHECK(c.Get("/healthz")->status == 200);
}

TEST_CASE("503 when the journal cannot be written, reads go on", "[http]") {
  if (!fs::exists("/dev/full")) return;
  HarnessOptions o;
  o.before_open = [](const std::string& dir) {
    fs::create_directories(dir + "/journal");
    fs::create_symlink("/dev/full", dir + "/journal/00000000000000000001.seg");
  };
  Harness h(o);
  auto c = h.client();
  auto r = c.Post("/v1/events", bearer(kWriteKey), kView, "application/json");
  check_error(r, 503, "journal_unwritable");
  CHECK(r->body.find("/dev/full") == std::string::npos);
  CHECK(r->body.find("No space") == std::string::npos);
  auto bulk = c.Post("/v1/events/bulk", bearer(kWriteKey), kView + "\n", "application/x-ndjson");
  check_error(bulk, 503, "journal_unwritable");
  CHECK(body_json(bulk)["accepted"] == 0);
  CHECK(c.Get("/v1/search?q=x", bearer(kSearchKey))->status == 200);
  auto ready = c.Get("/readyz");
  REQUIRE(ready);
  CHECK(ready->status == 200);  // reads are served
  CHECK(body_json(ready)["writes"] == "refused");
}

TEST_CASE("admin snapshot writes a snapshot at the current seq", "[http]") {
  Harness h;
  auto c = h.client();
  REQUIRE(c.Post("/v1/events", bearer(kWriteKey), kView, "application/json")->status == 200);
  auto r = c.Post("/v1/admin/snapshot", bearer(kAdminKey), "", "application/json");
  REQUIRE(r);
  REQUIRE(r->status == 200);
  CHECK(body_json(r)["seq"] == 1);
  CHECK(body_json(r)["file"].get<std::string>().find('/') == std::string::npos);
  const auto snaps = trove::list_snapshots(h.data_dir() + "/snapshots");
  REQUIRE(snaps.size() == 1);
  CHECK(snaps[0].seq == 1);
}

TEST_CASE("API keys never appear in the request log nor in the error log", "[http]") {
  std::ostringstream errors;
  auto previous = spdlog::default_logger();
  auto capture = std::make_shared<spdlog::logger>(
      "capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(errors));
  capture->set_level(spdlog::level::trace);
  spdlog::set_default_logger(capture);
  std::string log;
  {
    Harness h;
    auto c = h.client();
    c.Get("/v1/search?q=x", bearer(kSearchKey));
    c.Get("/v1/search?q=x", {{"X-Api-Key", kWriteKey}});
    c.Post("/v1/events", bearer(kSearchKey), kView, "application/json");  // 403
    c.Post("/v1/admin/snapshot", bearer(kAdminKey), "", "application/json");
    c.Get("/v1/search?q=x", bearer("wrong-key-but-secret-too"));
    // User agents the log line must escape: quotes, a backslash, a tab; UTF-8; invalid UTF-8.
    c.Get("/healthz", {{"User-Agent", "a \"quoted\" \\ agent\t/1"}});
    c.Get("/healthz", {{"User-Agent", "caf\xc3\xa9 agent"}});
    c.Get("/healthz", {{"User-Agent", "bad \xff\xfe agent"}});
    h.stop();
    log = trove::test::read_file(h.request_log());
  }
  spdlog::set_default_logger(previous);
  const std::string err = errors.str();
  CHECK(err.find("listening") != std::string::npos);  // the capture worked
  size_t lines = 0;
  for (size_t p = 0; (p = log.find('\n', p)) != std::string::npos; ++p) ++lines;
  CHECK(lines == 8);
  CHECK(log.find("\"key_id\":\"frontend\"") != std::string::npos);
  CHECK(log.find("\"key_id\":\"ingest\"") != std::string::npos);
  CHECK(log.find("\"key_id\":\"ops\"") != std::string::npos);
  for (const char* secret : {kAdminKey, kWriteKey, kSearchKey, "wrong-key-but-secret-too"}) {
    CHECK(log.find(secret) == std::string::npos);
    CHECK(err.find(secret) == std::string::npos);
  }
  // One JSON object per line, with the documented fields.
  std::istringstream in(log);
  std::string line;
  std::vector<std::string> agents;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    for (const char* k : {"time", "request_id", "method", "route", "status", "latency_us",
                          "bytes_in", "bytes_out", "key_id", "user_agent", "remote"}) {
      CHECK(j.contains(k));
    }
    CHECK(j["latency_us"].is_number_integer());
    CHECK((j["key_id"].is_null() || j["key_id"].is_string()));
    agents.push_back(j["user_agent"].get<std::string>());
  }
  CHECK(std::find(agents.begin(), agents.end(), "a \"quoted\" \\ agent\t/1") != agents.end());
  CHECK(std::find(agents.begin(), agents.end(), "caf\xc3\xa9 agent") != agents.end());
  CHECK(std::find(agents.begin(), agents.end(), "bad \xef\xbf\xbd\xef\xbf\xbd agent") !=
        agents.end());
}

TEST_CASE("search and suggest take typos=0|1|2, min_len_1typo and min_len_2typo, 400 naming "
          "a value out of range",
          "[http]") {
  Harness h;
  auto c = h.client();
  auto r = c.Post("/v1/events/bulk", bearer(kWriteKey),
                  R"({"type":"ItemUpsert","id":"hp1","title":"Harry Potter and the Goblet of Fire"}
{"type":"ItemUpsert","id":"pr","title":"The Tale of Peter Rabbit"}
)",
                  "application/x-ndjson");
  REQUIRE(r);
  REQUIRE(r->status == 200);
  REQUIRE(h.index().flush().ok());
  auto ids = [&](const std::string& path) {
    auto res = c.Get(path, bearer(kSearchKey));
    REQUIRE(res);
    REQUIRE(res->status == 200);
    std::vector<std::string> out;
    const auto j = body_json(res);
    for (const auto& hit : j.contains("hits") ? j["hits"] : j["items"]) out.push_back(hit["id"]);
    return out;
  };
  using Ids = std::vector<std::string>;
  // "hary": one typo at 4 letters by default (it found nothing before).
  CHECK(ids("/v1/search?q=hary") == Ids{"hp1"});
  CHECK(ids("/v1/search?q=hary&typos=0").empty());
  CHECK(ids("/v1/search?q=hary&typos=false").empty());
  CHECK(ids("/v1/search?q=hary&min_len_1typo=5").empty());
  CHECK(ids("/v1/search?q=hary&typos=1") == Ids{"hp1"});
  CHECK(ids("/v1/suggest?q=hary%20pot") == Ids{"hp1"});
  CHECK(ids("/v1/suggest?q=hary%20pot&typos=0").empty());
  check_error(c.Get("/v1/search?q=a&typos=3", bearer(kSearchKey)), 400, "invalid_argument",
              "query.typos");
  check_error(c.Get("/v1/search?q=a&min_len_1typo=0", bearer(kSearchKey)), 400,
              "invalid_argument", "query.min_len_1typo");
  check_error(c.Get("/v1/suggest?q=a&min_len_1typo=6&min_len_2typo=5", bearer(kSearchKey)), 400,
              "invalid_argument", "query.min_len_2typo");
  check_error(c.Get("/v1/suggest?q=a&min_len_2typo=x", bearer(kSearchKey)), 400,
              "invalid_argument", "query.min_len_2typo");
}

TEST_CASE("searchable fields posted as an event re-index in the server and change the ranking",
          "[http]") {
  HarnessOptions o;
  o.answer_cache_ttl_ms = 0;
  Harness h(o);
  auto c = h.client();
  auto items = c.Post("/v1/events", bearer(kWriteKey),
                      R"([{"type":"ItemUpsert","id":"t","title":"Bergamot tea"},)"
                      R"({"type":"ItemUpsert","id":"d","title":"Black tea",)"
                      R"("description":"bergamot, bergamot and bergamot"}])",
                      "application/json");
  REQUIRE(items);
  REQUIRE(items->status == 200);
  auto search = [&] { return c.Get("/v1/search?q=bergamot", bearer(kSearchKey)); };
  auto first_is = [](const char* id) {
    return [id](const nlohmann::json& j) { return j["hits"].size() == 2 && j["hits"][0]["id"] == id; };
  };
  CHECK(eventually(search, first_is("t")));
  check_error(c.Post("/v1/events", bearer(kWriteKey),
                     R"({"type":"SearchSettingsUpsert","searchable_fields":[{"field":"title","weight":1},)"
                     R"({"field":"title","weight":2}]})",
                     "application/json"),
              400, "invalid_argument", "searchable_fields[1]");
  auto settings = c.Post("/v1/events", bearer(kWriteKey),
                         R"({"type":"SearchSettingsUpsert","searchable_fields":)"
                         R"([{"field":"description","weight":20},{"field":"title","weight":1}]})",
                         "application/json");
  REQUIRE(settings);
  REQUIRE(settings->status == 200);
  CHECK(eventually(search, first_is("d")));
}

TEST_CASE("queries searched with results become suggest's first completions", "[http]") {
  HarnessOptions o;
  o.answer_cache_ttl_ms = 0;
  Harness h(o);
  auto c = h.client();
  std::string events = R"([{"type":"ItemUpsert","id":"a","title":"Copper saucepan"},)"
                       R"({"type":"ItemUpsert","id":"b","title":"Copper frying pan"})";
  for (int i = 0; i < 3; ++i) {
    events += R"(,{"type":"SearchQuery","user":{"visitor_id":"v)" + std::to_string(i) +
              R"("},"query":"copper frying pan","item_ids":["b"]})";
  }
  events += "]";
  auto r = c.Post("/v1/events", bearer(kWriteKey), events, "application/json");
  REQUIRE(r);
  REQUIRE(r->status == 200);
  CHECK(eventually([&] { return c.Get("/v1/suggest?q=copper%20f", bearer(kSearchKey)); },
                   [](const nlohmann::json& j) {
                     return !j["completions"].empty() && j["completions"][0] == "copper frying pan";
                   }));
}

TEST_CASE("a query-string value keeps every '=' after its name's (RFC 3986), encoded or not",
          "[http]") {
  // httplib 0.11.4 cut a value at its second '=': "filter=brand=J.K. Rowling" reached the
  // filter parser as "brand", and "filter=price>=10" as "price>".
  Harness h;
  auto c = h.client();
  c.set_url_encode(false);  // the target as written here ("+" and "%" included)
  auto r = c.Post("/v1/events/bulk", bearer(kWriteKey),
                  R"({"type":"ItemUpsert","id":"hp","title":"Harry Potter","brand":"J.K. Rowling","price":12}
{"type":"ItemUpsert","id":"lotr","title":"The Lord of the Rings","brand":"Tolkien","price":8}
)",
                  "application/x-ndjson");
  REQUIRE(r);
  REQUIRE(r->status == 200);
  REQUIRE(h.index().flush().ok());
  using Ids = std::vector<std::string>;
  // The ids of an answer's `list` (search hits, recommended items), sorted.
  auto ids = [&](const std::string& path, const char* list = "hits") {
    auto res = c.Get(path, bearer(kSearchKey));
    REQUIRE(res);
    INFO(path << ": " << res->body);
    REQUIRE(res->status == 200);
    Ids out;
    const auto j = body_json(res);
    for (const auto& hit : j[list]) out.push_back(hit["id"]);
    std::sort(out.begin(), out.end());
    return out;
  };
  CHECK(ids("/v1/search?q=*&filter=brand=J.K.%20Rowling") == Ids{"hp"});
  CHECK(ids("/v1/search?q=*&filter=brand=j.k.%20rowling") == Ids{"hp"});  // folded
  CHECK(ids("/v1/search?q=*&filter=brand=J.K.+Rowling") == Ids{"hp"});  // '+' is a space
  CHECK(ids("/v1/search?q=*&filter=brand%3DTolkien") == Ids{"lotr"});
  CHECK(ids("/v1/search?q=*&filter=price>=10") == Ids{"hp"});
  CHECK(ids("/v1/search?q=*&filter=price<=10") == Ids{"lotr"});
  CHECK(ids("/v1/search?q=*&filter=price=5..10&") == Ids{"lotr"});
  // The filter language, in search and in recommendations alike.
  CHECK(ids("/v1/search?q=*&filter=brand=Tolkien%20OR%20price>=10") == Ids{"hp", "lotr"});
  CHECK(ids("/v1/search?q=*&filter=NOT%20brand%20IN%20[tolkien]") == Ids{"hp"});
  CHECK(ids("/v1/recommend/new-arrivals?filter=price>=10", "items") == Ids{"hp"});
  CHECK(ids("/v1/recommend/new-arrivals?filter=brand=j.k.+rowling%20OR%20price<10", "items") ==
        Ids{"hp", "lotr"});
  check_error(c.Get("/v1/recommend/new-arrivals?filter=price<cheap", bearer(kSearchKey)), 400,
              "invalid_argument", "query.filter[0]");
  // Refused for the field, not for a cut value.
  auto colour = c.Get("/v1/search?q=a&filter=colour=red", bearer(kSearchKey));
  check_error(colour, 400, "invalid_argument", "query.filter[0]");
  CHECK(body_json(colour)["error"]["message"].get<std::string>().find("colour") != std::string::npos);
  // A '%' that starts no escape is kept.
  auto pct = c.Get("/v1/search?q=100%&per_page=1", bearer(kSearchKey));
  REQUIRE(pct);
  CHECK(pct->status == 200);
}

TEST_CASE("hits carry every stored field a storefront shows, fields= chooses", "[http]") {
  Harness h;
  auto c = h.client();
  auto r = c.Post("/v1/events/bulk", bearer(kWriteKey),
                  R"({"type":"ItemUpsert","id":"hp","title":"Harry Potter","brand":"J.K. Rowling","price":12,"currency":"EUR","url":"https://shop.example/hp","image_url":"https://shop.example/hp.jpg","categories":["Books > Fantasy"],"tags":["kids"],"attributes":{"year":1997,"language":"en","signed":true,"formats":["paperback","ebook"]}}
)",
                  "application/x-ndjson");
  REQUIRE(r);
  REQUIRE(r->status == 200);
  REQUIRE(h.index().flush().ok());
  auto first_hit = [&](const std::string& path, const char* list = "hits") {
    auto res = c.Get(path, bearer(kSearchKey));
    REQUIRE(res);
    INFO(path << ": " << res->body);
    REQUIRE(res->status == 200);
    const auto j = body_json(res);
    REQUIRE(j[list].size() == 1);
    return j[list][0];
  };
  const auto all = first_hit("/v1/search?q=harry");
  CHECK(all["currency"] == "EUR");
  CHECK(all["url"] == "https://shop.example/hp");
  CHECK(all["image_url"] == "https://shop.example/hp.jpg");
  CHECK(all["categories"] == nlohmann::json::array({"Books > Fantasy"}));
  CHECK(all["tags"] == nlohmann::json::array({"kids"}));
  CHECK(all["attributes"]["year"] == 1997);
  CHECK(all["attributes"]["signed"] == true);
  CHECK(all["attributes"]["formats"] == nlohmann::json::array({"paperback", "ebook"}));
  CHECK(first_hit("/v1/suggest?q=harr", "items")["image_url"] == "https://shop.example/hp.jpg");
  const auto reco = first_hit("/v1/recommend/new-arrivals", "items");
  CHECK(reco["image_url"] == "https://shop.example/hp.jpg");
  CHECK(reco["url"] == "https://shop.example/hp");
  CHECK(reco["currency"] == "EUR");

  const auto some = first_hit("/v1/search?q=harry&fields=price,image_url&fields=attributes.year");
  CHECK(some["id"] == "hp");
  CHECK(some["price"] == 12);
  CHECK(some["image_url"] == "https://shop.example/hp.jpg");
  CHECK(some["attributes"] == nlohmann::json({{"year", 1997}}));
  CHECK_FALSE(some.contains("title"));
  CHECK_FALSE(some.contains("brand"));
  CHECK_FALSE(some.contains("url"));
  CHECK(some.contains("score"));
  auto faceted = c.Get("/v1/search?q=*&facets=attributes.year,attributes.formats", bearer(kSearchKey));
  REQUIRE(faceted);
  REQUIRE(faceted->status == 200);
  const auto fj = body_json(faceted);
  CHECK(fj["facets"]["attributes.year"][0]["value"] == "1997");
  CHECK(fj["facets"]["attributes.formats"].size() == 2);
  CHECK(fj["facet_stats"]["attributes.year"]["avg"] == 1997);
  CHECK_FALSE(fj["facet_stats"].contains("attributes.formats"));
  check_error(c.Get("/v1/search?q=*&facets=colour", bearer(kSearchKey)), 400, "invalid_argument",
              "query.facets[0]");
  auto disjunctive = c.Get("/v1/search?q=*&filter=brand=nobody&facets=brand&disjunctive_facets=brand",
                           bearer(kSearchKey));
  REQUIRE(disjunctive);
  REQUIRE(disjunctive->status == 200);
  CHECK(body_json(disjunctive)["total"] == 0);
  CHECK(body_json(disjunctive)["facets"]["brand"][0]["value"] == "J.K. Rowling");  // still counted
  check_error(c.Get("/v1/search?q=*&disjunctive_facets=brand", bearer(kSearchKey)), 400,
              "invalid_argument", "query.disjunctive_facets[0]");
  check_error(c.Get("/v1/search?q=harry&fields=price,colour", bearer(kSearchKey)), 400,
              "invalid_argument", "query.fields");
  check_error(c.Get("/v1/suggest?q=harry&fields=nope", bearer(kSearchKey)), 400,
              "invalid_argument", "query.fields");
}

TEST_CASE("delete by filter removes every matching item, each by its own journaled ItemRemove",
          "[http]") {
  Harness h;
  auto c = h.client();
  auto r = c.Post("/v1/events/bulk", bearer(kWriteKey),
                  R"({"type":"ItemUpsert","id":"hp","title":"Harry Potter","brand":"J.K. Rowling","price":12}
{"type":"ItemUpsert","id":"cc","title":"The Casual Vacancy","brand":"J.K. Rowling","price":8}
{"type":"ItemUpsert","id":"lotr","title":"The Lord of the Rings","brand":"Tolkien","price":25}
)",
                  "application/x-ndjson");
  REQUIRE(r);
  REQUIRE(r->status == 200);
  const char* path = "/v1/items/delete-by-filter";
  auto del = c.Post(path, bearer(kWriteKey), R"({"filter":"brand = \"j.k. rowling\" AND price < 10"})",
                    "application/json");
  REQUIRE(del);
  INFO(del->body);
  REQUIRE(del->status == 200);
  CHECK(body_json(del)["removed"] == 1);
  CHECK(body_json(del)["seq"].get<uint64_t>() > 3);
  CHECK(c.Get("/v1/items/cc", bearer(kSearchKey))->status == 404);
  CHECK(c.Get("/v1/items/hp", bearer(kSearchKey))->status == 200);
  // Applied through the Store like any event (the answer's seq is its ItemRemove's).
  bool removed = false;
  h.store().read([&](const trove::State& st) { removed = st.item("cc") == nullptr && st.last_seq() == body_json(del)["seq"]; });
  CHECK(removed);
  auto none = c.Post(path, bearer(kWriteKey), R"({"filter":"brand = nobody"})", "application/json");
  REQUIRE(none);
  CHECK(body_json(none)["removed"] == 0);
  check_error(c.Post(path, bearer(kWriteKey), R"({"filter":"price < cheap"})", "application/json"),
              400, "invalid_argument", "filter");
  check_error(c.Post(path, bearer(kWriteKey), R"({"filter":""})", "application/json"), 400,
              "invalid_argument", "filter");
  check_error(c.Post(path, bearer(kWriteKey), R"({"filter":"price<1","all":true})", "application/json"),
              400, "invalid_argument", "all");
  check_error(c.Post(path, bearer(kSearchKey), R"({"filter":"price<1"})", "application/json"), 403,
              "forbidden");
  // An attribute declared not filterable filters nothing, here as in search.
  auto declared = c.Post("/v1/events", bearer(kWriteKey),
                         R"({"type":"AttributeSettingsUpsert","attributes":[{"name":"year","type":"number","filterable":false}]})",
                         "application/json");
  REQUIRE(declared);
  REQUIRE(declared->status == 200);
  check_error(c.Post(path, bearer(kWriteKey), R"({"filter":"attributes.year < 2000"})", "application/json"),
              400, "invalid_argument", "filter");
  check_error(c.Get("/v1/search?q=*&filter=attributes.year%3C2000", bearer(kSearchKey)), 400,
              "invalid_argument", "query.filter");
}
