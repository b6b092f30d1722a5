// What the request handlers share: the attached Store and index, keys, limits, metrics, and
// the helpers that shape answers. Internal to trove_http.
//
// Thread-safety: everything here is read by many workers at once; the Store, index and
// Recommender pointers are set once by attach() (release) and read with acquire.
#pragma once

#include <httplib.h>
#include <spdlog/logger.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "answer_cache.h"
#include "fair_slots.h"
#include "conn.h"
#include "ingest_lane.h"
#include "keys.h"
#include "metrics.h"
#include "routes.h"
#include "trove/data/status.h"
#include "trove/http/server.h"
#include "trove/recommend/recommender.h"

namespace trove::http {

struct Core {
  ServerOptions opts;
  std::optional<ApiKeys> keys;  // nullopt: no authentication
  std::unique_ptr<RateLimiter> limiter;
  std::unique_ptr<RateLimiter> auth_failures;  // per client address (Limits::auth_failures_*)
  std::unique_ptr<AnswerCache> answers;  // search and suggest answers
  // GET requests processed at once (Limits::max_running_reads): the transport's run gate
  // (GuardedServer::set_run_gate).
  std::unique_ptr<FairSlots> run_slots;
  // Where bulk bodies are parsed and ingested (ServerOptions::ingest_nice); null: on the
  // worker that reads the body.
  std::unique_ptr<IngestLane> ingest_lane;
  Metrics metrics;
  std::shared_ptr<spdlog::logger> request_log;  // null: off
  std::atomic<Store*> store{nullptr};
  std::atomic<CatalogIndex*> index{nullptr};
  std::atomic<Recommender*> reco{nullptr};  // owned by Server::Rep
  std::atomic<bool> ready{false};
  const GuardedServer* transport = nullptr;  // connection figures for /metrics
  Clock::time_point started = Clock::now();

  Store& the_store() const { return *store.load(std::memory_order_acquire); }
  CatalogIndex& the_index() const { return *index.load(std::memory_order_acquire); }
  const Recommender& the_reco() const { return *reco.load(std::memory_order_acquire); }
  Recommender& the_reco() { return *reco.load(std::memory_order_acquire); }
};

// ---- answers --------------------------------------------------------------------------------

// Sets a JSON error body: {"error": {"code", "message", "path"?}}.
void send_error(httplib::Response& res, int status, std::string_view code,
                std::string_view message, std::string_view path = {});
// Maps a library Status to its HTTP answer; internal failures get a generic message (the
// details go to the error log with the request id).
void send_status(httplib::Response& res, const Status& st);
void send_json(httplib::Response& res, const nlohmann::json& body, int status = 200);
std::string_view reason_phrase(int status);
// Marks the connection to close after this answer (its body was not, or not all, read).
void close_after(httplib::Response& res);

// ---- query parameters -------------------------------------------------------------------------

// The query string's parameters in order, read as RFC 3986 and HTML forms say: pairs split
// at '&', each at its first '=' (name without '=': an empty value), then '+' and %XX decoded
// in both. httplib 0.11.4's own parse (Request::params) cuts a value at its second '='
// (`filter=price>=10` became "price>"), so nothing reads that. The raw target is capped by
// the head limits before this runs.
using QueryParams = std::vector<std::pair<std::string, std::string>>;
QueryParams query_params(const httplib::Request& req);

// Strict query parameters: unknown names and repeated single-valued ones are refused with
// the parameter as the path (`query.page`), like unknown fields in events.
class Query {
 public:
  Query(const httplib::Request& req) : params_(query_params(req)) {}  // NOLINT: implicit by design
  bool has(std::string_view name) const;
  Status only(std::initializer_list<std::string_view> allowed) const;
  Result<std::optional<std::string>> text(const std::string& name, size_t max_len = 1024) const;
  std::vector<std::string> all(const std::string& name) const;
  Result<int64_t> integer(const std::string& name, int64_t def, int64_t lo, int64_t hi) const;
  Result<bool> boolean(const std::string& name, bool def) const;
  const QueryParams& params() const { return params_; }

 private:
  QueryParams params_;
};

// The values of a repeatable parameter, each also split at commas ("a,b" and "a&..=b" alike)
// outside parentheses ("price(0..10,10..50)" is one: split_list); empty pieces dropped.
std::vector<std::string> split_commas(const std::vector<std::string>& values);

// In a handler (`res` in scope): declares `lhs` from a Result, or answers its error (through
// an optional Status mapping).
#define TROVE_ASSIGN_OR_ANSWER(lhs, expr, ...)                                  \
  auto lhs##_r = (expr);                                                        \
  if (!lhs##_r.ok()) return send_status(res, __VA_ARGS__(lhs##_r.status()));  \
  auto lhs = std::move(lhs##_r).value()

#define TROVE_ANSWER_IF_ERROR(expr)              \
  do {                                           \
    ::trove::Status st_ = (expr);                \
    if (!st_.ok()) return send_status(res, st_); \
  } while (0)

// ---- handlers (handlers_events.cpp, handlers_read.cpp) ----------------------------------------

void handle_events(Core& core, const httplib::Request& req, httplib::Response& res,
                   const httplib::ContentReader& reader);
void handle_events_bulk(Core& core, const httplib::Request& req, httplib::Response& res,
                        const httplib::ContentReader& reader);
void handle_admin_snapshot(Core& core, const httplib::Request& req, httplib::Response& res,
                           const httplib::ContentReader& reader);
void handle_admin_train_ease(Core& core, const httplib::Request& req, httplib::Response& res,
                             const httplib::ContentReader& reader);
void handle_items_delete_by_filter(Core& core, const httplib::Request& req,
                                   httplib::Response& res, const httplib::ContentReader& reader);
void handle_search(Core& core, const httplib::Request& req, httplib::Response& res);
void handle_suggest(Core& core, const httplib::Request& req, httplib::Response& res);
void handle_fuzzy(Core& core, const httplib::Request& req, httplib::Response& res);
void handle_item(Core& core, const httplib::Request& req, httplib::Response& res);
void handle_schemas(Core& core, const httplib::Request& req, httplib::Response& res);
void handle_schema(Core& core, const httplib::Request& req, httplib::Response& res);
void handle_metrics(Core& core, const httplib::Request& req, httplib::Response& res);
// handlers_recommend.cpp: every /v1/recommend/... route (the route id picks the strategy).
void handle_recommend(Core& core, RouteId route, const httplib::Request& req,
                      httplib::Response& res);

// The OpenAPI 3.1 document (openapi.cpp).
std::string build_openapi_json();

}  // namespace trove::http
