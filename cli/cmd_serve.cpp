// `trove serve`: the HTTP API over a data directory (http/, docs/HTTP.md).
//
// Order of events: listen at once (/healthz answers, /readyz says 503), open the store
// (snapshot + journal tail), the index (catch-up) and the recommendation models (models file +
// journal tail, loaded on their own thread while the store opens), then report ready and start
// the automatic snapshots (serve_snapshots.h). If the index cannot be written (a full disk),
// start read-only rather than exit: reads served, writes 503 until the journal can be written
// again. SIGTERM or SIGINT:
// stop accepting, let the requests already received finish, flush the index, stop the automatic
// snapshots, write a snapshot and the models file beside it, exit 0. Every journaled event was fsynced before it was acknowledged, so the
// journal has nothing left to flush.
#include <signal.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "common.h"
#include "index_util.h"
#include "serve_snapshots.h"
#include "trove/http/server.h"

namespace trove::cli {
namespace {

struct ServeArgs {
  std::string data_dir;
  std::string listen = "127.0.0.1:7700";
  std::string keys_file;
  std::string log_file;
  std::string error_log;
  bool allow_no_auth = false;
  int index_flush_ms = 250;
  size_t answer_cache_entries = 65536;
  int answer_cache_ttl_ms = 2000;
  int ingest_nice = 10;
  SnapshotArgs snapshots;
  http::Limits limits;
};

// Waits for SIGTERM or SIGINT on a thread of its own (the signals are blocked everywhere
// else, so no handler runs inside a library call).
class SignalWaiter {
 public:
  SignalWaiter() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGTERM);
    sigaddset(&set_, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
    thread_ = std::thread([this] {
      int sig = 0;
      sigwait(&set_, &sig);
      std::lock_guard lock(mu_);
      signal_ = sig;
      cv_.notify_all();
    });
  }
  ~SignalWaiter() {
    if (signal_ == 0) ::kill(::getpid(), SIGTERM);  // wakes the waiter (still blocked here)
    thread_.join();
  }
  int wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return signal_ != 0; });
    return signal_;
  }
  bool received() {
    std::lock_guard lock(mu_);
    return signal_ != 0;
  }

 private:
  sigset_t set_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  int signal_ = 0;
};

Result<std::pair<std::string, int>> parse_listen(const std::string& s) {
  const size_t colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return Status::invalid("expected HOST:PORT, e.g. 127.0.0.1:7700", "--listen");
  }
  std::string host = s.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  int port = -1;
  try {
    size_t used = 0;
    port = std::stoi(s.substr(colon + 1), &used);
    if (used != s.size() - colon - 1) port = -1;
  } catch (const std::exception&) {
    port = -1;
  }
  if (port < 0 || port > 65535) return Status::invalid("the port must be 0..65535", "--listen");
  return std::make_pair(host, port);
}

int run_serve(const ServeArgs& a) {
  constexpr std::string_view kName = "serve";
  if (!a.error_log.empty()) {
    try {
      auto logger = spdlog::basic_logger_mt("trove-errors", a.error_log);
      logger->set_level(spdlog::default_logger()->level());
      logger->flush_on(spdlog::level::info);
      spdlog::set_default_logger(logger);
    } catch (const std::exception&) {
      return fail(kName, Status::io_error("cannot open --error-log " + a.error_log));
    }
  }
  auto listen = parse_listen(a.listen);
  if (!listen.ok()) return fail(kName, listen.status());
  SignalWaiter signals;  // before any thread starts, so every thread inherits the mask

  http::ServerOptions opts;
  opts.host = listen->first;
  opts.port = listen->second;
  opts.keys_file = a.keys_file;
  opts.allow_no_auth = a.allow_no_auth;
  opts.request_log = a.log_file;
  opts.index_flush_ms = a.index_flush_ms;
  opts.answer_cache_entries = a.answer_cache_entries;
  opts.answer_cache_ttl_ms = a.answer_cache_ttl_ms;
  opts.ingest_nice = a.ingest_nice;
  opts.limits = a.limits;
  auto server = http::Server::start(opts);
  if (!server.ok()) return fail(kName, server.status());

  prefetch_models_for(a.data_dir);  // on the second core while the Store opens
  OpenReport report;
  auto store = Store::open(a.data_dir, {}, &report);
  for (const auto& w : report.warnings) spdlog::warn("store: {}", w);
  if (!store.ok()) {
    (void)server.value()->shutdown();
    return fail(kName, store.status());
  }
  spdlog::info("store open: seq {} (snapshot {}, {} journal records replayed, {:.2f} s)",
               store.value()->last_seq(), report.snapshot_seq, report.replayed, report.seconds);
  std::vector<std::string> warnings;
  Status index_write;
  auto index = open_index(*store.value(), &warnings, {}, &index_write);
  for (const auto& w : warnings) spdlog::warn("index: {}", w);
  if (!index.ok()) {
    (void)server.value()->shutdown();
    return fail(kName, index.status());
  }
  if (!index_write.ok()) {
    // A full disk must not cost the reads too: serve what is committed, refuse writes until
    // the journal can be written again (tried on the first write after the back-off; the
    // background flush catches the index up once it can write).
    spdlog::error("starting read-only: {}; reads are served, writes are answered 503 until the "
                  "disk can be written again",
                  index_write.to_string());
    store.value()->mark_unwritable("the disk could not be written at start-up (" +
                                   index_write.message() + ")");
  }
  if (!signals.received()) {
    // Builds the recommendation models from the journal before reporting ready.
    if (Status st = server.value()->attach(*store.value(), *index.value()); !st.ok()) {
      (void)server.value()->shutdown();
      return fail(kName, st);
    }
  }
  auto auto_snapshots = start_auto_snapshots(*store.value(), a.snapshots, a.ingest_nice);

  const int sig = signals.wait();
  spdlog::info("{}: stopping (in-flight requests finish, then index flush and snapshot)",
               sig == SIGINT ? "SIGINT" : "SIGTERM");
  int rc = kExitOk;
  if (Status st = server.value()->shutdown(); !st.ok()) {
    spdlog::error("index flush at shutdown failed: {}", st.to_string());
    rc = kExitFatal;
  }
  if (auto_snapshots) auto_snapshots->stop();  // one writer in the snapshot directory
  auto snap = store.value()->snapshot();
  if (!snap.ok()) {
    spdlog::error("snapshot at shutdown failed: {}", snap.status().to_string());
    rc = kExitFatal;
  } else {
    spdlog::info("snapshot written at seq {}: {}", snap->seq, snap->path);
    write_models_beside(a.data_dir, snap->seq);
  }
  index.value().reset();
  spdlog::default_logger()->flush();
  return rc;
}

}  // namespace

Command add_serve_command(CLI::App& root) {
  auto a = std::make_shared<ServeArgs>();
  CLI::App* app = root.add_subcommand(
      "serve",
      "Serve the HTTP API (docs/HTTP.md). SIGTERM/SIGINT: finish in-flight requests, "
      "snapshot, exit 0.\nRequest log: one JSON line per request (stdout, or --log-file); "
      "errors and start-up messages: stderr (or --error-log), at --log-level.");
  app->add_option("--data-dir", a->data_dir, "Data directory (created if missing)")->required();
  app->add_option("--listen", a->listen, "HOST:PORT to listen on (port 0: any free port)")
      ->capture_default_str();
  app->add_option("--keys-file", a->keys_file,
                  "API keys, one `<id> <scope> <key>` per line (scope: admin, write, search); "
                  "keys are never accepted on the command line");
  app->add_flag("--allow-no-auth", a->allow_no_auth,
                "Serve a non-loopback address without API keys");
  app->add_option("--log-file", a->log_file, "Request log file (default stdout; off: none)");
  app->add_option("--error-log", a->error_log, "Error and start-up log file (default stderr)");
  app->add_option("--index-flush-ms", a->index_flush_ms,
                  "How often the index is flushed after ingests")
      ->capture_default_str()
      ->check(CLI::Range(10, 60000));
  app->add_option("--answer-cache-entries", a->answer_cache_entries,
                  "Search and suggest answers kept for repeats (0: no cache)")
      ->capture_default_str();
  app->add_option("--answer-cache-ms", a->answer_cache_ttl_ms,
                  "Longest a cached answer is used once an event was applied after it (dropped "
                  "at each index change)")
      ->capture_default_str()
      ->check(CLI::Range(0, 600000));
  app->add_option("--ingest-nice", a->ingest_nice,
                  "Nice value of the threads that parse and ingest bulk bodies, so reads go "
                  "first on a busy core (0: bulk runs on the workers)")
      ->capture_default_str()
      ->check(CLI::Range(0, 19));
  add_snapshot_options(app, a->snapshots);
  http::Limits& l = a->limits;
  auto group = app->add_option_group("limits", "Request limits (safe defaults)");
  group->add_option("--max-body-bytes", l.max_body_bytes, "Body of /v1/events and admin routes")
      ->capture_default_str();
  group->add_option("--max-bulk-bytes", l.max_bulk_bytes, "Body of /v1/events/bulk")
      ->capture_default_str();
  group->add_option("--max-uri-bytes", l.max_uri_bytes, "Request target")->capture_default_str();
  group->add_option("--max-query-bytes", l.max_query_bytes, "Query string")->capture_default_str();
  group->add_option("--max-header-line-bytes", l.max_header_line_bytes, "One header line")
      ->capture_default_str();
  group->add_option("--max-header-bytes", l.max_header_bytes, "Request line + headers")
      ->capture_default_str();
  group->add_option("--max-headers", l.max_headers, "Header count")->capture_default_str();
  group->add_option("--read-timeout-ms", l.read_timeout_ms, "A read without progress")
      ->capture_default_str();
  group->add_option("--write-timeout-ms", l.write_timeout_ms, "A write without progress")
      ->capture_default_str();
  group->add_option("--head-timeout-ms", l.head_timeout_ms, "The whole request head")
      ->capture_default_str();
  group->add_option("--body-timeout-ms", l.body_timeout_ms, "The whole body")
      ->capture_default_str();
  group->add_option("--keep-alive-ms", l.keep_alive_timeout_ms, "An idle kept-alive connection")
      ->capture_default_str();
  group->add_option("--max-connections", l.max_connections, "Open connections")
      ->capture_default_str();
  group->add_option("--max-connections-per-address", l.max_connections_per_address,
                    "Open connections from one client address (0: no cap; raise it behind a "
                    "reverse proxy)")
      ->capture_default_str();
  group->add_option("--max-buffered-body-bytes", l.max_buffered_body_bytes,
                    "Body bytes received before dispatch, all requests together")
      ->capture_default_str();
  group->add_option("--max-streamed-bodies", l.max_streamed_bodies,
                    "Bulk bodies read as they arrive at once (0: half the workers)")
      ->capture_default_str();
  group->add_option("--min-body-rate", l.min_body_bytes_per_second,
                    "Bytes/s a streamed body must average past the grace (0: off)")
      ->capture_default_str();
  group->add_option("--min-body-rate-grace-ms", l.min_body_rate_grace_ms,
                    "Time before the minimum body rate applies")
      ->capture_default_str();
  group->add_option("--threads", l.threads, "Worker threads (0: 4 per core, at least 8)")
      ->capture_default_str();
  group->add_option("--max-running-reads", l.max_running_reads,
                    "GET requests (search, suggest, recommendations...) being processed at once "
                    "(0: the CPUs this process may run on)")
      ->capture_default_str();
  group->add_option("--rate-limit", l.rate_per_second, "Requests/s per key (0: off)")
      ->capture_default_str();
  group->add_option("--rate-burst", l.rate_burst, "Token bucket size per key")
      ->capture_default_str();
  group->add_option("--auth-failure-rate", l.auth_failures_per_second,
                    "Requests/s with a missing or unknown key per client address (0: off)")
      ->capture_default_str();
  group->add_option("--auth-failure-burst", l.auth_failure_burst,
                    "Token bucket size of those failures")
      ->capture_default_str();
  return {app, [a] { return run_serve(*a); }};
}

}  // namespace trove::cli
