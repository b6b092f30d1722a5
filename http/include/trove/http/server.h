// Server: Trove's HTTP API v1 (`trove serve`), over a Store, its CatalogIndex and the
// Recommender it opens on that Store.
//
//   ServerOptions opts;
//   opts.port = 7700;
//   opts.keys_file = "/etc/trove/keys";                // "<id> <scope> <key>" per line
//   auto server = Server::start(opts);                  // listening; /healthz answers
//   ... open the Store and the CatalogIndex (snapshot + tail, index catch-up) ...
//   TROVE_RETURN_IF_ERROR(server.value()->attach(*store, *index));  // /readyz says ready
//   ... wait for SIGTERM ...
//   server.value()->shutdown();                         // in-flight requests finish
//   store->snapshot();
//
// Requests that need data answer 503 until attach(). Event requests are answered once their
// events are durable (Store::ingest returns after the group commit's fsync). Errors are JSON
// `{"error": {"code", "message", "path"}}`; docs/HTTP.md lists the routes, statuses, limits,
// metrics and log formats.
//
// Every connection first waits, without a worker thread, in an epoll loop until its request
// head is complete and within the limits (slow or oversized heads never reach a worker nor
// httplib's unbounded line reader); the head is parsed strictly (RFC 9112) and the request
// admitted (route, key, rate, readiness) before any body byte is read; a body up to
// max_body_bytes is received in that loop too, and only bulk bodies are read by a worker as
// they arrive, capped and with a minimum rate. Connections are capped per client address.
//
// Thread-safety: start() and shutdown() from one controlling thread; attach() once, from any
// thread. The Store and the CatalogIndex must outlive shutdown() (which releases the
// Recommender, a listener of the Store).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "trove/data/status.h"
#include "trove/data/store.h"
#include "trove/index/catalog_index.h"

namespace trove::http {

// Every limit has a safe default; all are settable from `trove serve`.
struct Limits {
  size_t max_body_bytes = 1u << 20;      // POST /v1/events, /v1/admin/*
  size_t max_bulk_bytes = 256u << 20;    // POST /v1/events/bulk (streamed, parsed per line)
  size_t max_uri_bytes = 8192;           // the request target, path + query
  size_t max_query_bytes = 4096;         // the query string alone
  size_t max_header_line_bytes = 8192;   // any one line of the head
  size_t max_header_bytes = 32u << 10;   // request line + headers
  size_t max_headers = 64;
  int read_timeout_ms = 5000;            // a read that makes no progress
  int write_timeout_ms = 5000;           // a write that makes no progress
  int head_timeout_ms = 10000;           // the whole request head, from its first byte
  int body_timeout_ms = 120000;          // the whole body
  int keep_alive_timeout_ms = 5000;      // an idle kept-alive connection
  size_t max_requests_per_connection = 1000;
  size_t max_connections = 4096;         // open at once; more are answered 503 and closed
  // Open at once from one client address (0: no cap), so one address cannot take them all.
  // Behind a reverse proxy every client has the proxy's address: raise it or set 0 there.
  size_t max_connections_per_address = 512;
  // Bodies up to max_body_bytes are received before a worker sees the request (no thread
  // waits for them); these are the bytes such bodies may hold at once (more: 503).
  size_t max_buffered_body_bytes = 256u << 20;
  // Bulk bodies (chunked, or over max_body_bytes) are read by a worker as they arrive: at most
  // this many at once (0: half the workers), and half of that from one address (at least 1).
  size_t max_streamed_bodies = 0;
  // A streamed body slower than this on average, once min_body_rate_grace_ms have passed, is
  // answered 408: a body trickled a byte at a time cannot hold a worker for the body timeout.
  size_t min_body_bytes_per_second = 4096;
  int min_body_rate_grace_ms = 10000;
  size_t threads = 0;                    // worker threads; 0: 4 per core, at least 8
  // GET and HEAD requests (search, suggest, recommendations, items...) being processed at
  // once; 0: the CPUs this process may run on (its affinity mask). A worker waits for
  // connections only while it holds one of these slots and keeps it from one GET to the next
  // (leader/followers), so on a busy core one thread serves back to back; it lets go while it
  // waits on a slow peer and for POSTs, which may wait on their body or a group commit's fsync
  // (hence a pool larger than the cores). With 8 workers time-slicing one core, a request
  // preempted half done waited for the others: /healthz p99 29 ms at 65,000 req/s; gated, 0.3 ms
  // at 77,000 (development runs, docs/BENCHMARKS.md).
  size_t max_running_reads = 0;
  double rate_per_second = 1000;         // per API key (per client address without keys); 0: off
  double rate_burst = 2000;
  // Requests with a missing or unknown key, per client address; past them the answer is 429
  // (the key is not even looked up) until the bucket refills. 0: off.
  double auth_failures_per_second = 2;
  double auth_failure_burst = 20;
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 7700;  // 0: any free port (see Server::port())
  // "<id> <scope> <key>" lines (scope: admin, write or search). Empty: no authentication,
  // which start() accepts only on a loopback address unless allow_no_auth is set.
  std::string keys_file;
  bool allow_no_auth = false;
  // One JSON line per request. Empty: standard output; "off": none.
  std::string request_log;
  // How often the index is flushed (its documents rewritten and committed) after ingests.
  int index_flush_ms = 250;
  // Finished answers of search and suggest kept for repeats (http/src/answer_cache.h): at
  // most this many (0: no cache), each used while the index is unchanged and either no event
  // was applied since or for at most answer_cache_ttl_ms. A request with `Cache-Control:
  // no-cache` bypasses it.
  size_t answer_cache_entries = 65536;
  int answer_cache_ttl_ms = 2000;
  // The nice value of the threads that parse and ingest bulk bodies (http/src/ingest_lane.h):
  // higher than the workers' (0), so that on a busy core a bulk import takes the CPU searches
  // leave rather than time-slicing against them. 0: bulk runs on the workers.
  int ingest_nice = 10;
  Limits limits;
};

// A route the server answers, as the OpenAPI document lists it.
struct RouteInfo {
  std::string method;  // "GET"
  std::string path;    // OpenAPI template: "/v1/items/{id}"
  std::string scope;   // "search", "write", "admin", or "" for no key
};

class Server {
 public:
  // Reads the keys, binds and starts serving. Fails on a bad keys file, a port in use, or
  // no keys on a non-loopback address without allow_no_auth.
  static Result<std::unique_ptr<Server>> start(ServerOptions opts);
  ~Server();  // shutdown()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  int port() const;  // the bound port

  // Opens a Recommender on the store (its models folded over the journal; from then on it
  // follows the store by itself), then serves these and reports ready. On failure (the
  // journal does not read) nothing is attached. REQUIRES: called once, successfully.
  Status attach(Store& store, CatalogIndex& index);

  // Stops accepting, lets the requests already received finish (new ones on open
  // connections are not read), stops the flush timer, flushes the index and the request
  // log. Idempotent. Returns the first error of the final flush.
  Status shutdown();

  // Every route, in documentation order.
  static std::vector<RouteInfo> routes();
  // The OpenAPI 3.1 document: the routes above and the event schemas of data/.
  static std::string openapi_json();

 private:
  struct Rep;
  explicit Server(std::unique_ptr<Rep> rep);
  std::unique_ptr<Rep> rep_;
};

}  // namespace trove::http
