#include "trove/http/server.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sched.h>
#include <sys/random.h>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <iterator>
#include <cmath>
#include <condition_variable>
#include <regex>
#include <thread>

#include "core.h"

namespace trove::http {
namespace {

bool is_loopback(const std::string& host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string now_iso8601() {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  return format_iso8601(ms);
}

// Appends `s` as a JSON string: printable ASCII as is, the rest escaped; text that is not
// all ASCII goes through nlohmann (which replaces invalid UTF-8).
void append_json_string(std::string* out, std::string_view s) {
  const bool ascii = std::all_of(s.begin(), s.end(), [](char c) { return (c & 0x80) == 0; });
  if (!ascii) {
    *out += nlohmann::json(std::string(s)).dump(-1, ' ', false,
                                                  nlohmann::json::error_handler_t::replace);
    return;
  }
  *out += '"';
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      *out += '\\';
      *out += c;
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      fmt::format_to(std::back_inserter(*out), "\\u{:04x}", static_cast<unsigned>(c));
    } else {
      *out += c;
    }
  }
  *out += '"';
}

}  // namespace

struct Server::Rep {
  Core core;
  std::unique_ptr<Recommender> reco;  // opened by attach(), released by shutdown()
  std::unique_ptr<GuardedServer> transport;
  std::string id_prefix;
  std::atomic<uint64_t> next_request{1};
  // The route table as matched at admission: literal paths compared, the two with a
  // parameter through their regex.
  struct RoutePattern {
    const RouteSpec* spec;
    bool literal;
    std::regex re;
  };
  std::vector<RoutePattern> route_patterns;

  std::mutex flush_mu;
  std::condition_variable flush_cv;
  bool flush_stop = false;
  std::thread flusher;
  bool shut = false;

  void register_routes();
  const RouteSpec* match_route(std::string_view method, const std::string& path,
                               std::string* allow) const;
  Admission admit_head(const RequestHead& head, const Conn& conn);
  std::optional<Admission> check_body(const RequestHead& head, const RouteSpec& r,
                                      const Admission& a) const;
  std::optional<Admission> check_key(const RequestHead& head, const RouteSpec& r,
                                     const std::string& address, Admission* a);
  httplib::Server::HandlerResponse on_error(const httplib::Request& req, httplib::Response& res);
  void log_request(const httplib::Request& req, const httplib::Response& res);
  void log_raw(const Conn& c, int status, std::string_view method, size_t in, size_t out);
  void write_log_line(std::string_view request_id, std::string_view method, RouteId route,
                      int status, double seconds, size_t in, size_t out,
                      std::string_view key_id, std::string_view user_agent,
                      std::string_view remote);
  void flush_loop();
};

// ---- admission: route, body framing, keys, rate, readiness ------------------------------------
// Decided from the head alone, before any body byte is read (GuardedServer's HeadAdmitter):
// an unrouted, unauthenticated or refused request never holds a worker for its body.

const RouteSpec* Server::Rep::match_route(std::string_view method, const std::string& path,
                                          std::string* allow) const {
  const std::string_view as = method == "HEAD" ? std::string_view("GET") : method;
  for (const RoutePattern& p : route_patterns) {
    const bool match = p.literal ? path == p.spec->pattern : std::regex_match(path, p.re);
    if (!match) continue;
    if (p.spec->method == as) return p.spec;
    if (allow->find(p.spec->method) == std::string::npos) {
      *allow += (allow->empty() ? "" : ", ") + std::string(p.spec->method);
    }
  }
  return nullptr;
}

namespace {

Admission refusal(const std::string& request_id, int status, std::string code,
                  std::string message, std::string_view header = {}, std::string value = {}) {
  Admission a = Admission::refuse(status, std::move(code), std::move(message));
  a.request_id = request_id;
  if (!header.empty()) a.headers.emplace_back(header, std::move(value));
  return a;
}

std::string retry_after(double seconds) { return std::to_string(static_cast<int>(seconds) + 1); }

// The key a request presents: `Authorization: Bearer <key>`, else `X-Api-Key`.
std::string_view presented_key(const RequestHead& head) {
  const std::string_view auth = head.field("Authorization").value_or("");
  if (auth.size() > 7 && lower(std::string(auth.substr(0, 7))) == "bearer ") return auth.substr(7);
  return head.field("X-Api-Key").value_or("");
}

}  // namespace

// In order: the route, the body's framing for it, the key, the rate, readiness.
Admission Server::Rep::admit_head(const RequestHead& head, const Conn& conn) {
  Admission a;
  a.request_id = std::string(head.field("X-Request-Id").value_or(""));
  if (!valid_id(a.request_id)) a.request_id = id_prefix + std::to_string(next_request.fetch_add(1));
  const std::string path = httplib::detail::decode_url(std::string(head.path), false);
  std::string allow;
  const RouteSpec* r = match_route(head.method, path, &allow);
  if (r == nullptr) {
    if (allow.empty()) {
      return refusal(a.request_id, 404, "not_found", "no such route; see /openapi.json");
    }
    return refusal(a.request_id, 405, "method_not_allowed", "this route answers " + allow, "Allow",
                   allow);
  }
  a.route = static_cast<int>(r->id);
  a.expects_body = r->method == "POST";
  a.body_limit = r->id == RouteId::kEventsBulk ? core.opts.limits.max_bulk_bytes
                                               : core.opts.limits.max_body_bytes;
  if (auto refused = check_body(head, *r, a)) return *refused;
  std::string client = "addr:" + conn.client;
  if (core.keys && r->scope != Scope::kNone) {
    if (auto refused = check_key(head, *r, client, &a)) return *refused;
    client = "key:" + a.key_id;
  }
  double retry = 0;
  if (r->id != RouteId::kHealthz && r->id != RouteId::kReadyz &&
      !core.limiter->allow(client, &retry)) {
    return refusal(a.request_id, 429, "rate_limited", "too many requests for this key; retry later",
                   "Retry-After", retry_after(retry));
  }
  if (r->needs_data && !core.ready.load()) {
    return refusal(a.request_id, 503, "not_ready",
                   "the server is starting: the store or the index is not open yet", "Retry-After",
                   "1");
  }
  return a;
}

std::optional<Admission> Server::Rep::check_body(const RequestHead& head, const RouteSpec& r,
                                                 const Admission& a) const {
  if (head.chunked && r.id != RouteId::kEventsBulk) {
    return refusal(a.request_id, 411, "length_required",
                   "chunked bodies are accepted on POST /v1/events/bulk only; send Content-Length");
  }
  if (head.content_length && *head.content_length > 0 && !a.expects_body) {
    return refusal(a.request_id, 400, "bad_request", std::string(head.method) + " takes no body");
  }
  if (head.content_length && *head.content_length > a.body_limit) {
    return refusal(a.request_id, 413, "payload_too_large",
                   "the body is over the limit of " + std::to_string(a.body_limit) + " bytes");
  }
  return std::nullopt;
}

// Missing and unknown keys are counted per client address: past the budget the key is not
// even looked up (a guess that happens to be right is not confirmed) until the bucket refills.
std::optional<Admission> Server::Rep::check_key(const RequestHead& head, const RouteSpec& r,
                                                const std::string& address, Admission* a) {
  double retry = 0;
  if (!core.auth_failures->has_token(address, &retry)) {
    return refusal(a->request_id, 429, "rate_limited",
                   "too many requests with a missing or unknown key from this address; retry "
                   "later",
                   "Retry-After", retry_after(retry));
  }
  const std::string_view presented = presented_key(head);
  const auto match = presented.empty() ? std::nullopt : core.keys->find(presented);
  if (!match) {
    (void)core.auth_failures->allow(address, &retry);  // counts this failure
    if (presented.empty()) {
      return refusal(a->request_id, 401, "unauthorized",
                     "an API key is required: send `Authorization: Bearer <key>` or `X-Api-Key`",
                     "WWW-Authenticate", "Bearer");
    }
    return refusal(a->request_id, 401, "unauthorized", "unknown API key", "WWW-Authenticate",
                   "Bearer error=\"invalid_token\"");
  }
  a->key_id = match->id;
  if (match->scope < r.scope) {
    return refusal(a->request_id, 403, "forbidden",
                   "this key's scope (" + std::string(scope_name(match->scope)) +
                       ") does not allow this route (needs " + std::string(scope_name(r.scope)) +
                       ")");
  }
  return std::nullopt;
}

// For every error without a body: what the guards saw, httplib's own 400s.
httplib::Server::HandlerResponse Server::Rep::on_error(const httplib::Request& /*req*/,
                                                       httplib::Response& res) {
  if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
  RequestGuard* g = GuardedServer::current();
  if (g && g->body_too_large) {
    close_after(res);
    send_error(res, 413, "payload_too_large", "the body is over the limit");
  } else if (g && !g->framing_error.empty()) {
    close_after(res);
    send_error(res, 400, "bad_request", "malformed chunked body: " + g->framing_error);
  } else if (g && g->timed_out) {
    close_after(res);
    send_error(res, 408, "request_timeout",
               "the request did not arrive in time (or its body came slower than " +
                   std::to_string(core.opts.limits.min_body_bytes_per_second) + " bytes/s)");
  } else if (res.status == 404) {  // admission matched a route httplib did not: never expected
    send_error(res, 404, "not_found", "no such route; see /openapi.json");
  } else if (res.status == 400) {
    close_after(res);
    send_error(res, 400, "bad_request", "malformed request");
  } else {
    send_error(res, res.status, "error", reason_phrase(res.status));
  }
  return httplib::Server::HandlerResponse::Handled;
}

// ---- logs -------------------------------------------------------------------------------------

void Server::Rep::write_log_line(std::string_view request_id, std::string_view method,
                                 RouteId route, int status, double seconds, size_t in, size_t out,
                                 std::string_view key_id, std::string_view user_agent,
                                 std::string_view remote) {
  core.metrics.request(route, status, seconds);
  if (!core.request_log) return;
  // Written directly (nlohmann's object and dump were 6 % of a cached suggest's CPU).
  std::string line;
  line.reserve(320);
  line += R"({"time":")";
  line += now_iso8601();
  line += R"(","request_id":)";
  append_json_string(&line, request_id);
  line += R"(,"method":)";
  append_json_string(&line, method.substr(0, 16));
  line += R"(,"route":)";
  append_json_string(&line, route_label(route));
  fmt::format_to(std::back_inserter(line),
                 R"(,"status":{},"latency_us":{},"bytes_in":{},"bytes_out":{},"key_id":)", status,
                 static_cast<int64_t>(seconds * 1e6), in, out);
  if (key_id.empty()) {
    line += "null";
  } else {
    append_json_string(&line, key_id);
  }
  line += R"(,"user_agent":)";
  append_json_string(&line, user_agent.substr(0, 256));
  line += R"(,"remote":)";
  append_json_string(&line, remote);
  line += '}';
  core.request_log->info(line);
}

void Server::Rep::log_request(const httplib::Request& req, const httplib::Response& res) {
  RequestGuard* g = GuardedServer::current();
  if (g == nullptr) return;
  const double seconds = std::chrono::duration<double>(Clock::now() - g->start).count();
  const RouteId route = g->route >= 0 ? static_cast<RouteId>(g->route) : RouteId::kOther;
  write_log_line(g->request_id, req.method, route, res.status, seconds, g->bytes_in, g->bytes_out,
                 g->key_id, req.get_header_value("User-Agent"), req.remote_addr);
}

void Server::Rep::log_raw(const Conn& c, int status, std::string_view method, size_t in,
                          size_t out) {
  const std::string& admitted_id = c.admission.request_id;
  write_log_line(admitted_id.empty() ? id_prefix + std::to_string(next_request.fetch_add(1))
                                     : admitted_id,
                 method, RouteId::kOther,
                 status, 0, in, out, {}, {}, c.remote_ip);
}

// ---- routes -----------------------------------------------------------------------------------

void Server::Rep::register_routes() {
  GuardedServer& s = *transport;
  Core* c = &core;
  for (const RouteSpec& r : kRoutes) {
    route_patterns.push_back({&r, r.pattern.find('(') == std::string_view::npos,
                              std::regex(std::string(r.pattern))});
    const std::string pattern(r.pattern);
    using Reading = void (*)(Core&, const httplib::Request&, httplib::Response&,
                             const httplib::ContentReader&);
    auto get = [&](auto fn) {
      s.Get(pattern, [c, fn](const httplib::Request& req, httplib::Response& res) {
        fn(*c, req, res);
      });
    };
    auto post = [&](Reading fn) {
      s.Post(pattern, [c, fn](const httplib::Request& req, httplib::Response& res,
                              const httplib::ContentReader& reader) {
        fn(*c, req, res, reader);
      });
    };
    switch (r.id) {
      case RouteId::kEvents: post(&handle_events); break;
      case RouteId::kEventsBulk: post(&handle_events_bulk); break;
      case RouteId::kAdminSnapshot: post(&handle_admin_snapshot); break;
      case RouteId::kAdminTrainEase: post(&handle_admin_train_ease); break;
      case RouteId::kItemsDeleteByFilter: post(&handle_items_delete_by_filter); break;
      case RouteId::kSearch: get(&handle_search); break;
      case RouteId::kSuggest: get(&handle_suggest); break;
      case RouteId::kFuzzy: get(&handle_fuzzy); break;
      case RouteId::kItem: get(&handle_item); break;
      case RouteId::kSchemas: get(&handle_schemas); break;
      case RouteId::kSchema: get(&handle_schema); break;
      case RouteId::kMetrics: get(&handle_metrics); break;
      case RouteId::kOpenApi:
        get([](Core&, const httplib::Request&, httplib::Response& res) {
          static const std::string doc = build_openapi_json();
          res.set_content(doc, "application/json");
        });
        break;
      case RouteId::kHealthz:
        get([](Core&, const httplib::Request&, httplib::Response& res) {
          send_json(res, {{"status", "ok"}});
        });
        break;
      case RouteId::kReadyz:
        get([](Core& core, const httplib::Request&, httplib::Response& res) {
          if (!core.ready.load() || (core.transport && core.transport->stopping())) {
            res.set_header("Retry-After", "1");
            return send_error(res, 503, "not_ready",
                              core.ready.load() ? "shutting down" : "opening the store and the index");
          }
          // A forget not yet applied to the models does not stop serving (its people get
          // no personal output meanwhile), but is reported.
          // Reads go on while writes are refused (a full disk): ready, but it says so.
          const Status forget = core.the_reco().forget_status();
          send_json(res, {{"status", "ready"},
                          {"seq", core.the_store().last_seq()},
                          {"indexed_seq", core.the_index().indexed_seq()},
                          {"writes", core.the_store().writes_refused() ? "refused" : "ok"},
                          {"forget", forget.ok() ? std::string("ok") : forget.message()}});
        });
        break;
      case RouteId::kRecoSimilar:
      case RouteId::kRecoBoughtTogether:
      case RouteId::kRecoForYou:
      case RouteId::kRecoTrending:
      case RouteId::kRecoRecentlyViewed:
      case RouteId::kRecoPopular:
      case RouteId::kRecoNewArrivals:
      case RouteId::kRecoPlacement:
        get([id = r.id](Core& core, const httplib::Request& req, httplib::Response& res) {
          handle_recommend(core, id, req, res);
        });
        break;
      case RouteId::kOther: break;
    }
  }
}

void Server::Rep::flush_loop() {
  uint64_t flushed_seq = 0;
  bool failing = false;
  std::unique_lock lock(flush_mu);
  while (!flush_stop) {
    flush_cv.wait_for(lock, std::chrono::milliseconds(core.opts.index_flush_ms));
    if (flush_stop) break;
    lock.unlock();
    if (core.ready.load()) {
      const uint64_t seq = core.the_store().last_seq();
      if (seq != flushed_seq) {
        Status st = core.the_index().flush();
        if (st.ok()) {
          flushed_seq = seq;
          if (failing) spdlog::info("index flush recovered");
          failing = false;
        } else {
          core.metrics.index_flush_failed();
          if (!failing) spdlog::error("index flush failed: {}", st.to_string());
          failing = true;
        }
      }
    }
    if (core.request_log) core.request_log->flush();
    lock.lock();
  }
}

// ---- lifecycle --------------------------------------------------------------------------------

Server::Server(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}

Server::~Server() { (void)shutdown(); }

Result<std::unique_ptr<Server>> Server::start(ServerOptions opts) {
  auto rep = std::make_unique<Rep>();
  Core& core = rep->core;
  if (!opts.keys_file.empty()) {
    auto keys = ApiKeys::load(opts.keys_file);
    if (!keys.ok()) return keys.status();
    if (keys->empty()) return Status::invalid("the keys file holds no key", opts.keys_file);
    core.keys = std::move(keys).value();
  } else if (!is_loopback(opts.host) && !opts.allow_no_auth) {
    return Status::invalid(
        "refusing to serve " + opts.host +
        " without API keys: give --keys-file, or --allow-no-auth to accept the risk");
  }
  core.limiter = std::make_unique<RateLimiter>(opts.limits.rate_per_second, opts.limits.rate_burst);
  core.auth_failures = std::make_unique<RateLimiter>(opts.limits.auth_failures_per_second,
                                                     opts.limits.auth_failure_burst);
  core.answers = std::make_unique<AnswerCache>(
      opts.answer_cache_entries, std::chrono::milliseconds(std::max(0, opts.answer_cache_ttl_ms)));
  size_t reads = opts.limits.max_running_reads;
  if (reads == 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    reads = ::sched_getaffinity(0, sizeof set, &set) == 0 ? static_cast<size_t>(CPU_COUNT(&set)) : 0;
    if (reads == 0) reads = std::max(1u, std::thread::hardware_concurrency());
  }
  core.run_slots = std::make_unique<FairSlots>(reads);
  if (opts.ingest_nice != 0) {
    core.ingest_lane = std::make_unique<IngestLane>(std::max<size_t>(4, reads), opts.ingest_nice);
  }
  if (opts.request_log != "off") {
    spdlog::sink_ptr sink;
    try {
      if (opts.request_log.empty() || opts.request_log == "-") {
        sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
      } else {
        sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(opts.request_log);
      }
    } catch (const std::exception&) {
      return Status::io_error("cannot open the request log " + opts.request_log);
    }
    // Not registered with spdlog: the global --log-level is for the error log only.
    core.request_log = std::make_shared<spdlog::logger>("requests", sink);
    core.request_log->set_pattern("%v");
    core.request_log->set_level(spdlog::level::info);
  }
  uint32_t rnd = 0;
  if (::getrandom(&rnd, sizeof rnd, 0) != sizeof rnd) rnd = static_cast<uint32_t>(::getpid());
  rep->id_prefix = fmt::format("{:08x}-", rnd);
  core.opts = std::move(opts);

  Rep* r = rep.get();
  rep->transport = std::make_unique<GuardedServer>(
      core.opts.limits,
      [r](const Conn& c, int status, std::string_view method, size_t in, size_t out) {
        r->log_raw(c, status, method, in, out);
      },
      [r](const RequestHead& head, const Conn& c) { return r->admit_head(head, c); });
  core.transport = rep->transport.get();
  GuardedServer& s = *rep->transport;
  s.set_run_gate(core.run_slots.get());
  // The request id chosen at admission goes back on every answer.
  s.set_pre_routing_handler([](const httplib::Request&, httplib::Response& res) {
    if (RequestGuard* g = GuardedServer::current()) res.set_header("X-Request-Id", g->request_id);
    return httplib::Server::HandlerResponse::Unhandled;
  });
  s.set_error_handler(httplib::Server::HandlerWithResponse(
      [r](const httplib::Request& req, httplib::Response& res) { return r->on_error(req, res); }));
  s.set_exception_handler(
      [r](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "unknown exception";
        try {
          if (ep) std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        RequestGuard* g = GuardedServer::current();
        spdlog::error("request {} {} failed: {}", g ? g->request_id : "-", req.path.substr(0, 256),
                      what);
        (void)r;
        send_error(res, 500, "internal", "internal error; see the server's error log");
      });
  s.set_logger(
      [r](const httplib::Request& req, const httplib::Response& res) { r->log_request(req, res); });
  s.set_payload_max_length(core.opts.limits.max_bulk_bytes);
  s.set_keep_alive_max_count(core.opts.limits.max_requests_per_connection);
  rep->register_routes();
  TROVE_RETURN_IF_ERROR(s.start(core.opts.host, core.opts.port));
  rep->flusher = std::thread([r] { r->flush_loop(); });
  spdlog::info("listening on {}:{} ({}; keys: {})", core.opts.host, s.port(),
               core.keys ? "API keys required" : "no authentication",
               core.keys ? std::to_string(core.keys->size()) : "none");
  return std::unique_ptr<Server>(new Server(std::move(rep)));
}

int Server::port() const { return rep_->transport->port(); }

Status Server::attach(Store& store, CatalogIndex& index) {
  const auto t0 = Clock::now();
  auto reco = Recommender::open(store);
  if (!reco.ok()) return reco.status();
  rep_->reco = std::move(reco).value();
  const auto mem = rep_->reco->memory();
  spdlog::info("recommendation models built: {} items, {:.1f} MiB ({:.2f} s)",
               mem.item_count,
               static_cast<double>(mem.total) / (1 << 20),
               std::chrono::duration<double>(Clock::now() - t0).count());
  rep_->core.reco.store(rep_->reco.get(), std::memory_order_release);
  rep_->core.store.store(&store, std::memory_order_release);
  rep_->core.index.store(&index, std::memory_order_release);
  rep_->core.ready.store(true);
  spdlog::info("ready: seq {}, index at seq {}", store.last_seq(), index.indexed_seq());
  return Status();
}

Status Server::shutdown() {
  Rep& r = *rep_;
  if (r.shut) return Status();
  r.shut = true;
  r.transport->stop_all();
  // A re-index in the flusher would hold the shutdown for minutes: it resumes at the next start.
  if (r.core.ready.load()) r.core.the_index().interrupt();
  {
    std::lock_guard lock(r.flush_mu);
    r.flush_stop = true;
  }
  r.flush_cv.notify_all();
  if (r.flusher.joinable()) r.flusher.join();
  Status st;
  if (r.core.ready.load()) st = r.core.the_index().flush();
  r.core.ready.store(false);
  // No worker runs any more: the Recommender (a listener of the Store) can go.
  r.core.reco.store(nullptr, std::memory_order_release);
  r.reco.reset();
  if (r.core.request_log) r.core.request_log->flush();
  return st;
}

std::vector<RouteInfo> Server::routes() {
  std::vector<RouteInfo> out;
  for (const RouteSpec& r : kRoutes) {
    out.push_back({std::string(r.method), std::string(r.path), std::string(scope_name(r.scope))});
  }
  return out;
}

std::string Server::openapi_json() { return build_openapi_json(); }

}  // namespace trove::http
