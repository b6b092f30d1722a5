#include "answer_cache.h"

#include <algorithm>

#include "core.h"

namespace trove::http {

std::string AnswerCache::key(int route, const httplib::Request& req) {
  std::string k = std::to_string(route);
  // In name order, as httplib's multimap kept them: the same parameters in another order are
  // the same answer.
  QueryParams params = query_params(req);
  std::stable_sort(params.begin(), params.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  for (const auto& [name, value] : params) {
    k += '\n';
    k += name;
    k += '=';
    k += value;
  }
  return k;
}

bool AnswerCache::bypass(const httplib::Request& req) {
  if (!req.has_header("Cache-Control")) return false;
  const std::string v = req.get_header_value("Cache-Control");
  return v.find("no-cache") != std::string::npos || v.find("no-store") != std::string::npos;
}

std::shared_ptr<const std::string> AnswerCache::get(const std::string& key,
                                                    uint64_t generation, uint64_t seq) const {
  Shard& s = shard(key);
  {
    std::lock_guard lock(s.mu);
    auto it = s.map.find(key);
    if (it != s.map.end() && it->second.generation == generation &&
        (it->second.seq == seq || std::chrono::steady_clock::now() - it->second.at < ttl_)) {
      hits_.fetch_add(1, std::memory_order_relaxed);
      return it->second.body;
    }
  }
  misses_.fetch_add(1, std::memory_order_relaxed);
  return nullptr;
}

void AnswerCache::put(const std::string& key, uint64_t generation, uint64_t seq,
                      std::shared_ptr<const std::string> body) {
  Shard& s = shard(key);
  std::lock_guard lock(s.mu);
  if (s.map.size() >= per_shard_ && s.map.find(key) == s.map.end()) s.map.clear();
  s.map[key] = Entry{std::move(body), generation, seq, std::chrono::steady_clock::now()};
}

}  // namespace trove::http
