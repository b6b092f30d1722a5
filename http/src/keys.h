// API keys and per-key rate limits.
//
// Keys file: one key per line, `<id> <scope> <key>`, `#` comments and blank lines ignored.
// The id names the key in logs and metrics; the key itself (at least 16 characters) is kept
// only as its SHA-256 digest and compared in constant time against every digest (no early
// exit, so timing tells nothing about which key or how much of it matched). Errors name the
// line, never its content.
//
// Scopes nest: admin > write > search.
//
// Thread-safety: ApiKeys is immutable after load(); RateLimiter is thread-safe.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "trove/data/status.h"

namespace trove::http {

enum class Scope { kNone = 0, kSearch = 1, kWrite = 2, kAdmin = 3 };
std::string_view scope_name(Scope s);
// An id safe to log and echo: 1-64 of [A-Za-z0-9._-] (key ids, request ids).
bool valid_id(std::string_view id);
std::optional<Scope> scope_from_name(std::string_view name);

class ApiKeys {
 public:
  static Result<ApiKeys> load(const std::string& path);
  static Result<ApiKeys> parse(std::string_view text);  // the file's content
  bool empty() const { return keys_.empty(); }
  size_t size() const { return keys_.size(); }

  struct Match {
    std::string id;
    Scope scope = Scope::kNone;
  };
  // The key `presented` names, if any.
  std::optional<Match> find(std::string_view presented) const;

 private:
  struct Entry {
    std::string id;
    Scope scope;
    std::array<unsigned char, 32> digest;
  };
  std::vector<Entry> keys_;
};

// Token buckets, one per client name (key id, or address without keys).
class RateLimiter {
 public:
  RateLimiter(double per_second, double burst) : rate_(per_second), burst_(burst) {}
  // True when a token was taken; false: over the limit, *retry_after_s says when to retry.
  bool allow(const std::string& client, double* retry_after_s);
  // False when allow() would refuse now (no token is taken); *retry_after_s as for allow().
  bool has_token(const std::string& client, double* retry_after_s);

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point last;
  };
  double rate_;
  double burst_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace trove::http
