#include "metrics.h"

#include <fmt/format.h>

#include <iterator>

namespace trove::http {
namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;

void header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

template <class T>
void sample(std::string& out, std::string_view name, T value, std::string_view labels = {}) {
  if (labels.empty()) {
    fmt::format_to(std::back_inserter(out), "{} {}\n", name, value);
  } else {
    fmt::format_to(std::back_inserter(out), "{}{{{}}} {}\n", name, labels, value);
  }
}

// A metric of one unlabelled sample: its HELP and TYPE lines, then the sample.
template <class T>
void single(std::string& out, std::string_view name, std::string_view type, std::string_view help,
            T value) {
  header(out, name, type, help);
  sample(out, name, value);
}

std::string le(double bound) { return fmt::format("{}", bound); }

}  // namespace

void Metrics::request(RouteId route, int status, double seconds) {
  const auto r = static_cast<size_t>(route);
  if (status >= 100 && status < 600) requests_[r][static_cast<size_t>(status - 100)].fetch_add(1, kRelaxed);
  size_t i = 0;
  while (i < kLatencyBounds.size() && seconds > kLatencyBounds[i]) ++i;
  latency_[r][i].fetch_add(1, kRelaxed);
  latency_sum_ns_[r].fetch_add(static_cast<uint64_t>(seconds * 1e9), kRelaxed);
}

void Metrics::events_accepted(EventType type, uint64_t n) {
  const auto t = static_cast<size_t>(type);
  if (t >= 1 && t <= kEventTypeCount) accepted_[t].fetch_add(n, kRelaxed);
}

void Metrics::event_rejected(std::optional<EventType> type) {
  const auto t = type ? static_cast<size_t>(*type) : 0;
  rejected_[t <= kEventTypeCount ? t : 0].fetch_add(1, kRelaxed);
}

std::string Metrics::render(const Gauges& g, const StoreStats* store) const {
  std::string out;
  out.reserve(32 << 10);

  header(out, "trove_build_info", "gauge", "Build of the running server (always 1).");
  sample(out, "trove_build_info", 1,
         fmt::format("version=\"{}\",httplib=\"{}\"", TROVE_VERSION, "0.11.4"));
  single(out, "trove_up_seconds", "gauge", "Seconds since the server started.", g.uptime_seconds);
  single(out, "trove_ready", "gauge", "1 when the store is open and the index caught up.",
         g.ready ? 1 : 0);

  header(out, "trove_http_requests_total", "counter",
         "HTTP requests answered, by route and status.");
  for (size_t r = 0; r < kRouteCount; ++r) {
    const auto route = route_label(static_cast<RouteId>(r));
    for (size_t s = 0; s < kStatuses; ++s) {
      const uint64_t n = requests_[r][s].load(kRelaxed);
      if (n == 0) continue;
      sample(out, "trove_http_requests_total", n,
             fmt::format("route=\"{}\",status=\"{}\"", route, s + 100));
    }
  }
  header(out, "trove_http_request_duration_seconds", "histogram",
         "Time from a complete request head to the answer written, by route.");
  for (size_t r = 0; r < kRouteCount; ++r) {
    const auto route = route_label(static_cast<RouteId>(r));
    uint64_t cumulative = 0;
    std::array<uint64_t, kLatencyBounds.size() + 1> counts{};
    for (size_t i = 0; i < counts.size(); ++i) counts[i] = latency_[r][i].load(kRelaxed);
    uint64_t total = 0;
    for (uint64_t c : counts) total += c;
    if (total == 0) continue;
    for (size_t i = 0; i < kLatencyBounds.size(); ++i) {
      cumulative += counts[i];
      sample(out, "trove_http_request_duration_seconds_bucket", cumulative,
             fmt::format("route=\"{}\",le=\"{}\"", route, le(kLatencyBounds[i])));
    }
    sample(out, "trove_http_request_duration_seconds_bucket", total,
           fmt::format("route=\"{}\",le=\"+Inf\"", route));
    sample(out, "trove_http_request_duration_seconds_sum",
           static_cast<double>(latency_sum_ns_[r].load(kRelaxed)) / 1e9,
           fmt::format("route=\"{}\"", route));
    sample(out, "trove_http_request_duration_seconds_count", total,
           fmt::format("route=\"{}\"", route));
  }
  single(out, "trove_http_open_connections", "gauge", "Connections open now.", g.open_connections);
  single(out, "trove_http_refused_connections_total", "counter",
         "Connections answered 503 and closed at accept (over the limit, or shutting down).",
         g.refused_connections);

  header(out, "trove_events_accepted_total", "counter",
         "Events journaled through the HTTP API, by type (duplicates excluded).");
  for (EventType t : all_event_types()) {
    sample(out, "trove_events_accepted_total", accepted_[static_cast<size_t>(t)].load(kRelaxed),
           fmt::format("type=\"{}\"", event_type_name(t)));
  }
  header(out, "trove_events_rejected_total", "counter",
         "Events refused as invalid through the HTTP API, by type (\"unknown\": no valid type).");
  for (EventType t : all_event_types()) {
    sample(out, "trove_events_rejected_total", rejected_[static_cast<size_t>(t)].load(kRelaxed),
           fmt::format("type=\"{}\"", event_type_name(t)));
  }
  sample(out, "trove_events_rejected_total", rejected_[0].load(kRelaxed), "type=\"unknown\"");

  single(out, "trove_journal_bytes", "gauge", "Bytes in all journal segments.", g.journal_bytes);
  single(out, "trove_journal_last_seq", "gauge", "Sequence number of the newest event.",
         g.last_seq);
  if (store != nullptr) {
    header(out, "trove_journal_commit_seconds", "histogram",
           "Journal write + fsync of one group-commit batch.");
    uint64_t cumulative = 0;
    for (size_t i = 0; i < StoreStats::kCommitMicrosBounds.size(); ++i) {
      cumulative += store->commit_micros_buckets[i].load(kRelaxed);
      sample(out, "trove_journal_commit_seconds_bucket", cumulative,
             fmt::format("le=\"{}\"",
                         le(static_cast<double>(StoreStats::kCommitMicrosBounds[i]) / 1e6)));
    }
    cumulative += store->commit_micros_buckets.back().load(kRelaxed);
    sample(out, "trove_journal_commit_seconds_bucket", cumulative, "le=\"+Inf\"");
    sample(out, "trove_journal_commit_seconds_sum",
           static_cast<double>(store->commit_micros_sum.load(kRelaxed)) / 1e6);
    sample(out, "trove_journal_commit_seconds_count", cumulative);

    header(out, "trove_journal_batch_events", "histogram", "Events per group-commit batch.");
    cumulative = 0;
    for (size_t i = 0; i < StoreStats::kBatchEventsBounds.size(); ++i) {
      cumulative += store->batch_events_buckets[i].load(kRelaxed);
      sample(out, "trove_journal_batch_events_bucket", cumulative,
             fmt::format("le=\"{}\"", StoreStats::kBatchEventsBounds[i]));
    }
    cumulative += store->batch_events_buckets.back().load(kRelaxed);
    sample(out, "trove_journal_batch_events_bucket", cumulative, "le=\"+Inf\"");
    sample(out, "trove_journal_batch_events_sum", store->batch_events_sum.load(kRelaxed));
    sample(out, "trove_journal_batch_events_count", cumulative);

    header(out, "trove_events_duplicate_total", "counter",
           "Events acknowledged with the seq of an earlier event_id, not applied again.");
    sample(out, "trove_events_duplicate_total", store->duplicates.load(kRelaxed));
    header(out, "trove_journal_failed_commits_total", "counter",
           "Group commits refused because the journal could not be written.");
    sample(out, "trove_journal_failed_commits_total", store->failed_commits.load(kRelaxed));
  }

  single(out, "trove_items", "gauge", "Live catalog items.", g.items);
  header(out, "trove_users", "gauge",
         "People known: accounts (user_id) and profiles (accounts and anonymous visitors).");
  sample(out, "trove_users", g.accounts, "kind=\"accounts\"");
  sample(out, "trove_users", g.profiles, "kind=\"profiles\"");
  single(out, "trove_index_documents", "gauge", "Documents in the search index.",
         g.index_documents);
  single(out, "trove_index_seq", "gauge", "Journal seq the committed index reflects.",
         g.indexed_seq);
  single(out, "trove_fuzzy_trie_terms", "gauge", "Terms in the typo-tolerance vocabulary.",
         g.vocabulary_terms);
  single(out, "trove_fuzzy_trie_unmerged_terms", "gauge",
         "Vocabulary terms changed since the typo trie was last rebuilt (each slows every typo "
         "lookup a little; rebuilt past 1/256 of the trie).",
         g.vocabulary_unmerged);
  header(out, "trove_recommend_model_bytes", "gauge",
         "Approximate heap bytes of the recommendation models, by part.");
  sample(out, "trove_recommend_model_bytes", g.reco_item_bytes, "part=\"items\"");
  sample(out, "trove_recommend_model_bytes", g.reco_person_bytes, "part=\"people\"");
  single(out, "trove_recommend_model_items", "gauge",
         "Items the recommendation models know (interacted with or in a list).", g.reco_items);
  single(out, "trove_recommend_model_people", "gauge",
         "People (accounts and visitors) the recommendation models know.", g.reco_people);
  single(out, "trove_recommend_rebuilds_total", "counter",
         "Recommendation models rebuilt from the journal after a UserForget.", g.reco_rebuilds);
  single(out, "trove_recommend_rebuild_failures_total", "counter",
         "UserForget rebuilds that could not read the journal (each is tried again).",
         g.reco_rebuild_failures);
  single(out, "trove_recommend_forget_pending", "gauge",
         "1 while a UserForget is not yet applied to the recommendation models (rebuilding, or "
         "its rebuild failed); its people get no personal output meanwhile.",
         g.reco_forget_pending);
  single(out, "trove_answer_cache_hits_total", "counter",
         "Search and suggest answers served from the answer cache.", g.answer_cache_hits);
  single(out, "trove_answer_cache_misses_total", "counter",
         "Search and suggest answers looked up in the cache and computed.", g.answer_cache_misses);
  single(out, "trove_index_flush_failures_total", "counter",
         "Background index flushes that failed.", index_flush_failures_.load(kRelaxed));
  if (g.snapshot_age_seconds) {
    header(out, "trove_snapshot_age_seconds", "gauge",
           "Seconds since the newest snapshot was written.");
    sample(out, "trove_snapshot_age_seconds", *g.snapshot_age_seconds);
    header(out, "trove_snapshot_seq", "gauge", "Sequence number the newest snapshot covers.");
    sample(out, "trove_snapshot_seq", g.snapshot_seq);
  }
  return out;
}

}  // namespace trove::http
