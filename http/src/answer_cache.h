// AnswerCache: finished JSON answers of GET /v1/search and /v1/suggest, keyed by the route
// and its decoded query parameters, so a repeated request (the same keystrokes typed by many
// people, a popular query) is answered without the index.
//
// An entry is used only while the index generation it was computed at is current
// (CatalogIndex::generation(): every index commit and synonyms change moves it), and either
// no event has been applied since (the Store's applied seq is the one read before computing
// it: the answer is then exactly what a recomputation would give) or it is younger than
// `ttl` (popularity, which orders suggestions and sort=popularity, moves with every behaviour
// event without a commit). Personalized requests are never cached (the handlers decide). A
// client bypasses it with `Cache-Control: no-cache` (or no-store).
//
// Memory: at most `max_entries` answers; a shard that fills up is emptied (cheap, and the
// popular keys come back first).
//
// Thread-safety: all methods may run on every worker at once (sharded mutexes).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include <httplib.h>

namespace trove::http {

class AnswerCache {
 public:
  AnswerCache(size_t max_entries, std::chrono::milliseconds ttl)
      : per_shard_(max_entries / kShards), ttl_(ttl) {}

  bool enabled() const { return per_shard_ > 0; }

  // The key of a request: route, then every parameter in order (httplib keeps them sorted
  // by name, repeated ones in the order given).
  static std::string key(int route, const httplib::Request& req);
  // True when the client asked for a fresh answer.
  static bool bypass(const httplib::Request& req);

  // The cached body, or null. `generation` and `seq`: the index generation and the Store's
  // applied seq now; put() takes them as read before the answer was computed.
  std::shared_ptr<const std::string> get(const std::string& key, uint64_t generation,
                                         uint64_t seq) const;
  void put(const std::string& key, uint64_t generation, uint64_t seq,
           std::shared_ptr<const std::string> body);

  uint64_t hits() const { return hits_.load(std::memory_order_relaxed); }
  uint64_t misses() const { return misses_.load(std::memory_order_relaxed); }

 private:
  static constexpr size_t kShards = 16;
  struct Entry {
    std::shared_ptr<const std::string> body;
    uint64_t generation = 0;
    uint64_t seq = 0;
    std::chrono::steady_clock::time_point at;
  };
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, Entry> map;
  };
  Shard& shard(const std::string& key) const {
    return shards_[std::hash<std::string>{}(key) % kShards];
  }

  size_t per_shard_;
  std::chrono::milliseconds ttl_;
  mutable std::array<Shard, kShards> shards_;
  mutable std::atomic<uint64_t> hits_{0};
  mutable std::atomic<uint64_t> misses_{0};
};

}  // namespace trove::http
