#include "keys.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sys/stat.h>

#include <cmath>
#include <fstream>
#include <sstream>

namespace trove::http {
namespace {

std::array<unsigned char, 32> sha256(std::string_view text) {
  std::array<unsigned char, 32> out{};
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), out.data(), &len, EVP_sha256(), nullptr);
  return out;
}

}  // namespace

bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

std::string_view scope_name(Scope s) {
  switch (s) {
    case Scope::kSearch: return "search";
    case Scope::kWrite: return "write";
    case Scope::kAdmin: return "admin";
    default: return "";
  }
}

std::optional<Scope> scope_from_name(std::string_view name) {
  if (name == "search") return Scope::kSearch;
  if (name == "write") return Scope::kWrite;
  if (name == "admin") return Scope::kAdmin;
  return std::nullopt;
}

Result<ApiKeys> ApiKeys::load(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Status::not_found("keys file " + path + " not found");
  std::ifstream in(path);
  if (!in) return Status::io_error("cannot read the keys file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto keys = parse(ss.str());
  if (!keys.ok()) return Status(keys.status().code(), keys.status().message(), path + ", " + keys.status().path());
  return keys;
}

Result<ApiKeys> ApiKeys::parse(std::string_view text) {
  ApiKeys keys;
  size_t line_no = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string line(text.substr(pos, end - pos));
    pos = end + 1;
    ++line_no;
    const std::string where = "line " + std::to_string(line_no);
    std::istringstream fields(line);
    std::string id, scope, key, extra;
    if (!(fields >> id) || id[0] == '#') continue;
    if (!(fields >> scope >> key) || (fields >> extra)) {
      return Status::invalid("expected `<id> <scope> <key>`", where);
    }
    if (!valid_id(id)) return Status::invalid("the id must be 1-64 of [A-Za-z0-9._-]", where);
    const auto sc = scope_from_name(scope);
    if (!sc) return Status::invalid("the scope must be admin, write or search", where);
    if (key.size() < 16) return Status::invalid("the key must be at least 16 characters", where);
    for (const Entry& e : keys.keys_) {
      if (e.id == id) return Status::invalid("the id is used twice", where);
    }
    keys.keys_.push_back(Entry{id, *sc, sha256(key)});
    if (end == text.size()) break;
  }
  return keys;
}

std::optional<ApiKeys::Match> ApiKeys::find(std::string_view presented) const {
  const auto digest = sha256(presented);
  const Entry* found = nullptr;
  for (const Entry& e : keys_) {
    // Every digest is compared, whatever matched before.
    const bool same = CRYPTO_memcmp(e.digest.data(), digest.data(), digest.size()) == 0;
    if (same) found = &e;
  }
  if (found == nullptr) return std::nullopt;
  return Match{found->id, found->scope};
}

bool RateLimiter::allow(const std::string& client, double* retry_after_s) {
  if (rate_ <= 0) return true;
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mu_);
  if (buckets_.size() > 100000 && buckets_.find(client) == buckets_.end()) {
    // Bounded memory (many addresses without keys): forget the buckets that are full again.
    const double refill_s = burst_ / rate_;
    std::erase_if(buckets_, [&](const auto& kv) {
      return std::chrono::duration<double>(now - kv.second.last).count() >= refill_s;
    });
  }
  auto [it, fresh] = buckets_.try_emplace(client, Bucket{burst_, now});
  Bucket& b = it->second;
  if (!fresh) {
    const double dt = std::chrono::duration<double>(now - b.last).count();
    b.tokens = std::min(burst_, b.tokens + dt * rate_);
    b.last = now;
  }
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return true;
  }
  *retry_after_s = (1 - b.tokens) / rate_;
  return false;
}

bool RateLimiter::has_token(const std::string& client, double* retry_after_s) {
  if (rate_ <= 0) return true;
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mu_);
  const auto it = buckets_.find(client);
  if (it == buckets_.end()) return true;
  const double dt = std::chrono::duration<double>(now - it->second.last).count();
  const double tokens = std::min(burst_, it->second.tokens + dt * rate_);
  if (tokens >= 1) return true;
  *retry_after_s = (1 - tokens) / rate_;
  return false;
}

}  // namespace trove::http
