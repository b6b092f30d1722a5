// /metrics checked by Prometheus's own promtool, and /openapi.json by an OpenAPI validator
// nobody here wrote (skipped, with a warning, where the tool is missing).
#include <regex>
#include <set>

#include "http/http_harness.h"

using trove::test::Harness;
using trove::test::bearer;
using trove::test::kAdminKey;
using trove::test::kSearchKey;
using trove::test::kWriteKey;

namespace {

bool have_command(const std::string& probe) {
  return std::system((probe + " >/dev/null 2>&1").c_str()) == 0;
}

// A value of a sample line `name{labels} value`, or -1 when absent.
double metric(const std::string& text, const std::string& series) {
  const size_t p = text.find("\n" + series + " ");
  if (p == std::string::npos) return -1;
  return std::stod(text.substr(p + series.size() + 2));
}

}  // namespace

TEST_CASE("metrics count requests, events and the store, and pass promtool check metrics",
          "[http]") {
  Harness h;
  auto c = h.client();
  const std::string bad = R"({"type":"RateItem","user":{"visitor_id":"v"},"item_id":"x","rating":9})";
  REQUIRE(c.Post("/v1/events/bulk", bearer(kWriteKey), trove::test::shop_ndjson(40, 100),
                 "application/x-ndjson")->status == 200);
  REQUIRE(c.Post("/v1/events", bearer(kWriteKey), bad, "application/json")->status == 400);
  REQUIRE(c.Get("/v1/search?q=*", bearer(kSearchKey))->status == 200);
  REQUIRE(c.Get("/v1/search?q=*&page=0", bearer(kSearchKey))->status == 400);
  REQUIRE(c.Post("/v1/admin/snapshot", bearer(kAdminKey), "", "application/json")->status == 200);
  REQUIRE(h.index().flush().ok());
  auto r = c.Get("/metrics", bearer(kAdminKey));
  REQUIRE(r);
  REQUIRE(r->status == 200);
  CHECK(r->get_header_value("Content-Type").rfind("text/plain; version=0.0.4", 0) == 0);
  const std::string& m = r->body;
  CHECK(metric(m, R"(trove_http_requests_total{route="/v1/search",status="200"})") == 1);
  CHECK(metric(m, R"(trove_http_requests_total{route="/v1/search",status="400"})") == 1);
  CHECK(metric(m, R"(trove_http_request_duration_seconds_count{route="/v1/search"})") == 2);
  CHECK(metric(m, R"(trove_events_accepted_total{type="ItemUpsert"})") == 40);
  CHECK(metric(m, R"(trove_events_rejected_total{type="RateItem"})") == 1);
  CHECK(metric(m, "trove_items") == 40);
  CHECK(metric(m, "trove_index_documents") == 40);
  CHECK(metric(m, "trove_fuzzy_trie_terms") > 0);
  // A new index: its 40 items' words are all still unmerged (fewer than 2,048).
  CHECK(metric(m, "trove_fuzzy_trie_unmerged_terms") > 0);
  CHECK(metric(m, "trove_journal_bytes") > 0);
  CHECK(metric(m, "trove_journal_commit_seconds_count") >= 1);
  CHECK(metric(m, R"(trove_journal_batch_events_bucket{le="+Inf"})") >= 1);
  CHECK(metric(m, "trove_snapshot_age_seconds") >= 0);
  CHECK(metric(m, R"(trove_users{kind="profiles"})") > 0);
  CHECK(m.find("trove_build_info{version=") != std::string::npos);

  if (!have_command("command -v promtool")) {
    WARN("promtool not installed (Debian package prometheus): format check skipped");
    return;
  }
  trove::test::TempDir dir;
  trove::test::write_file(dir.sub("metrics.txt"), m);
  const std::string cmd =
      "promtool check metrics < " + dir.sub("metrics.txt") + " > " + dir.sub("out") + " 2>&1";
  const int rc = std::system(cmd.c_str());
  INFO(trove::test::read_file(dir.sub("out")));
  CHECK(rc == 0);
}

TEST_CASE("the OpenAPI document validates and lists exactly the routes the server answers",
          "[http]") {
  Harness h;
  auto c = h.client();
  auto r = c.Get("/openapi.json");
  REQUIRE(r);
  REQUIRE(r->status == 200);
  const auto doc = nlohmann::json::parse(r->body);

  // Every route in the table is in the document, and nothing else.
  std::set<std::pair<std::string, std::string>> documented;
  for (const auto& [path, ops] : doc["paths"].items()) {
    for (const auto& [method, op] : ops.items()) documented.emplace(method, path);
  }
  std::set<std::pair<std::string, std::string>> served;
  for (const auto& route : trove::http::Server::routes()) {
    std::string m = route.method;
    for (auto& ch : m) ch = static_cast<char>(std::tolower(ch));
    served.emplace(m, route.path);
  }
  CHECK(documented == served);
  // ... and the server answers each of them (no 404 "no such route", no 405).
  for (const auto& [method, path] : documented) {
    std::string concrete = std::regex_replace(path, std::regex(R"(\{id\})"), "sku-1");
    concrete = std::regex_replace(concrete, std::regex(R"(\{type\})"), "ItemUpsert");
    auto res = method == "get" ? c.Get(concrete, bearer(kAdminKey))
                               : c.Post(concrete, bearer(kAdminKey), "{}", "application/json");
    REQUIRE(res);
    INFO(method << " " << concrete << " -> " << res->status << " " << res->body);
    CHECK(res->status != 405);
    CHECK(res->body.find("no such route") == std::string::npos);
  }
  // Event schemas in the document are the ones /v1/schemas serves.
  auto schema = nlohmann::json::parse(c.Get("/v1/schemas/PurchaseComplete")->body);
  CHECK(doc["components"]["schemas"]["PurchaseComplete"]["properties"] == schema["properties"]);

  trove::test::TempDir dir;
  trove::test::write_file(dir.sub("openapi.json"), r->body);
  // The validator: python's openapi-spec-validator if installed, else npm's swagger-parser,
  // installed here on first use into the build tree (make deps provides npm).
  const std::string npm_dir = std::string(TROVE_BINARY_DIR) + "/openapi-validator";
  const std::string node_env = "NODE_PATH=" + npm_dir + "/node_modules ";
  const std::string node_check = node_env + "node -e \"require('@apidevtools/swagger-parser')\"";
  if (!have_command("python3 -c 'import openapi_spec_validator'") && !have_command(node_check) &&
      have_command("npm --version")) {
    std::system(("npm install --silent --no-audit --no-fund --prefix " + npm_dir +
                 " @apidevtools/swagger-parser@10 > " + dir.sub("npm.log") + " 2>&1")
                    .c_str());
  }
  std::string cmd;
  if (have_command("python3 -c 'import openapi_spec_validator'")) {
    cmd = "python3 -c 'import json,sys; from openapi_spec_validator import validate; "
          "validate(json.load(open(sys.argv[1])))' " + dir.sub("openapi.json");
  } else if (have_command(node_check)) {
    cmd = node_env + "node -e \"require('@apidevtools/swagger-parser').validate(process.argv[1])"
          ".catch(e => { console.error(e.message); process.exit(1); })\" " +
          dir.sub("openapi.json");
  } else {
    WARN("no OpenAPI validator (python3 openapi-spec-validator, or npm to install "
         "@apidevtools/swagger-parser; npm said: "
         << trove::test::read_file(dir.sub("npm.log")) << "): validation skipped");
    return;
  }
  const int rc = std::system((cmd + " > " + dir.sub("out") + " 2>&1").c_str());
  INFO(trove::test::read_file(dir.sub("out")));
  CHECK(rc == 0);
}
