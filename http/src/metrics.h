// Metrics: what the server counts itself (requests, latencies, events), rendered with the
// Store's and the index's own figures in the Prometheus text format (version 0.0.4).
//
// Thread-safety: the record methods are lock-free (relaxed atomics) and may run on every
// worker at once; render() reads a consistent-enough view (each value is atomic).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

#include "routes.h"
#include "trove/data/events.h"
#include "trove/data/store.h"

namespace trove::http {

// Figures sampled at render time.
struct Gauges {
  bool ready = false;
  uint64_t items = 0;
  uint64_t accounts = 0;
  uint64_t profiles = 0;
  uint64_t last_seq = 0;
  uint64_t journal_bytes = 0;
  uint64_t index_documents = 0;
  uint64_t indexed_seq = 0;
  uint64_t vocabulary_terms = 0;
  uint64_t vocabulary_unmerged = 0;  // CatalogIndex::vocabulary_unmerged()
  // The recommendation models (Recommender::memory(): one pass over items and people).
  uint64_t reco_item_bytes = 0;
  uint64_t reco_person_bytes = 0;
  uint64_t reco_items = 0;
  uint64_t reco_people = 0;
  uint64_t reco_rebuilds = 0;
  uint64_t reco_rebuild_failures = 0;
  uint64_t reco_forget_pending = 0;  // 1 while a UserForget is not yet applied to the models
  uint64_t answer_cache_hits = 0;    // search and suggest answers served from the cache
  uint64_t answer_cache_misses = 0;  // looked up and computed (bypasses not counted)
  std::optional<double> snapshot_age_seconds;
  uint64_t snapshot_seq = 0;
  uint64_t open_connections = 0;
  uint64_t refused_connections = 0;
  double uptime_seconds = 0;
};

class Metrics {
 public:
  static constexpr std::array<double, 15> kLatencyBounds = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
      0.05,   0.1,     0.25,   0.5,   1,     2.5,   10};

  void request(RouteId route, int status, double seconds);
  void events_accepted(EventType type, uint64_t n = 1);
  void event_rejected(std::optional<EventType> type);  // nullopt: no recognizable type
  void index_flush_failed() { index_flush_failures_.fetch_add(1, std::memory_order_relaxed); }

  std::string render(const Gauges& g, const StoreStats* store) const;

 private:
  static constexpr size_t kStatuses = 500;  // 100..599
  std::array<std::array<std::atomic<uint64_t>, kStatuses>, kRouteCount> requests_{};
  std::array<std::array<std::atomic<uint64_t>, kLatencyBounds.size() + 1>, kRouteCount>
      latency_{};
  std::array<std::atomic<uint64_t>, kRouteCount> latency_sum_ns_{};
  std::array<std::atomic<uint64_t>, kEventTypeCount + 1> accepted_{};  // [0]: unused
  std::array<std::atomic<uint64_t>, kEventTypeCount + 1> rejected_{};  // [0]: unknown type
  std::atomic<uint64_t> index_flush_failures_{0};
};

}  // namespace trove::http
