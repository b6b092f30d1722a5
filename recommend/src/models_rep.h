// RecoModels::Rep: the models' data, shared by models.cpp (apply, reads) and models_codec.cpp
// (the models file's encoding). Private to recommend/.
//
// Thread-safety: as RecoModels (models.h).
#pragma once

#include <absl/container/flat_hash_map.h>
#include <absl/container/flat_hash_set.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "batched_rows.h"
#include "trove/recommend/models.h"

namespace trove {
namespace reco_internal {

// Debian's abseil takes heterogeneous lookups as absl::string_view only.
inline absl::string_view av(std::string_view s) { return {s.data(), s.size()}; }

struct Recent {
  uint32_t item = 0;
  int64_t ts = 0;
  // The person viewed it (a detail view) while it was in the list, whatever they did after:
  // recently-viewed lists it even once bought (until 2026-12-07 a later purchase or cart
  // cleared the flag, and a bought item left recently-viewed).
  bool view = false;
};

struct Person {
  std::string key;
  std::vector<Recent> recent;  // distinct items, oldest first, at most opts.recent
  absl::flat_hash_map<uint32_t, double> weights;  // item -> summed weight (undecayed)
  absl::flat_hash_map<uint32_t, uint32_t> bought;  // item -> orders that had it
  absl::flat_hash_set<uint32_t> removed;           // taken out of the cart, not added back
  absl::flat_hash_set<uint32_t> rated;             // rated (any stars): seen to the end
  absl::flat_hash_map<uint32_t, int64_t> cart;
  std::optional<bool> personalized;
};

// A value decayed lazily from the time of its last update (trending and its baseline).
struct Decayed {
  double value = 0;
  int64_t ts = 0;
  // The value at `now` (not before the last update).
  double at(int64_t now, double half_life_hours) const {
    const double hours = static_cast<double>(now - ts) / 3'600'000.0;
    return value * std::exp2(-std::max(0.0, hours) / half_life_hours);
  }
  void add(double w, int64_t now, double half_life_hours) {
    value = at(now, half_life_hours) + w;
    ts = std::max(ts, now);
  }
};

// An item's undecayed interaction weight, in all and per UTC day over the last
// kMaxWindowDays days of its own activity (the popular list, all time or windowed).
struct DayWeight {
  int32_t day = 0;  // days since 1970-01-01, UTC
  float weight = 0;
};
struct Tally {
  double total = 0;
  std::vector<DayWeight> days;  // ascending, none kMaxWindowDays or more before the last

  static int32_t day_of(int64_t ts) {
    constexpr int64_t kDay = 86'400'000;
    return static_cast<int32_t>(ts >= 0 ? ts / kDay : (ts - kDay + 1) / kDay);
  }
  void add(double w, int64_t ts) {
    total += w;
    const int32_t day = day_of(ts);
    if (days.empty() || days.back().day < day) {
      days.push_back({day, static_cast<float>(w)});
      const int32_t oldest = day - static_cast<int32_t>(kMaxWindowDays) + 1;
      auto keep = std::find_if(days.begin(), days.end(),
                               [&](const DayWeight& d) { return d.day >= oldest; });
      days.erase(days.begin(), keep);
      return;
    }
    // An event older than the item's last one (journals are in arrival order, not time).
    if (day <= days.back().day - static_cast<int32_t>(kMaxWindowDays)) return;
    auto at = std::lower_bound(days.begin(), days.end(), day,
                               [](const DayWeight& d, int32_t x) { return d.day < x; });
    if (at != days.end() && at->day == day) {
      at->weight += static_cast<float>(w);
    } else {
      days.insert(at, {day, static_cast<float>(w)});
    }
  }
  // The weight of days `today - window_days + 1` .. `today`; window_days 0: all time.
  double within(int32_t today, int64_t window_days) const {
    if (window_days == 0) return total;
    double sum = 0;
    for (auto it = days.rbegin(); it != days.rend() && it->day > today - window_days; ++it) {
      if (it->day <= today) sum += it->weight;
    }
    return sum;
  }
};

// The n best, best first (ties: the lower item).
inline std::vector<ScoredItem> best_n(std::vector<ScoredItem> v, size_t n) {
  auto better = [](const ScoredItem& a, const ScoredItem& b) {
    return a.score != b.score ? a.score > b.score : a.item < b.item;
  };
  if (v.size() > n) {
    std::partial_sort(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(n), v.end(), better);
    v.resize(n);
  } else {
    std::sort(v.begin(), v.end(), better);
  }
  return v;
}

// The n best of `v` that `accept` lets through, best first (ties: the lower item). `accept`
// (a catalog lookup) is asked of the best candidates first, not of them all.
inline std::vector<ScoredItem> best_accepted(std::vector<ScoredItem> v, size_t n,
                                      const RecoModels::Accept& accept) {
  if (!accept) return best_n(std::move(v), n);
  auto better = [](const ScoredItem& a, const ScoredItem& b) {
    return a.score != b.score ? a.score > b.score : a.item < b.item;
  };
  std::vector<ScoredItem> out;
  // The best 4n first; when the filter lets too few through (a narrow category), the rest is
  // sorted once, not chunk by chunk (which would cost a partial sort of the whole per chunk).
  const size_t chunk = std::min(v.size(), std::max<size_t>(4 * n, 16));
  std::partial_sort(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(chunk), v.end(), better);
  for (size_t i = 0; i < chunk && out.size() < n; ++i) {
    if (accept(v[i].item)) out.push_back(v[i]);
  }
  if (out.size() < n && chunk < v.size()) {
    std::sort(v.begin() + static_cast<std::ptrdiff_t>(chunk), v.end(), better);
    for (size_t i = chunk; i < v.size() && out.size() < n; ++i) {
      if (accept(v[i].item)) out.push_back(v[i]);
    }
  }
  return out;
}


}  // namespace reco_internal

using namespace reco_internal;  // NOLINT: the Rep's own vocabulary, private to recommend/

struct RecoModels::Rep {
  explicit Rep(const RecommendOptions& o) : opts(o), co(o.max_row), bought_with(o.max_row) {}

  RecommendOptions opts;
  uint64_t last_seq = 0;
  int64_t last_ts = 0;
  std::optional<int64_t> epoch;  // forward decay reference: the first interaction's time

  absl::flat_hash_map<std::string, uint32_t> item_index;
  std::vector<std::string> item_ids;
  BatchedRows co, bought_with;  // their updates wait (apply_deferred) for flush()
  std::vector<double> pop;      // forward-decayed interaction weight
  std::vector<Decayed> trend;       // half-life opts.trending_half_life_hours
  std::vector<Decayed> trend_base;  // half-life opts.trending_baseline_days
  std::vector<Tally> tally;
  std::vector<uint32_t> buyers, repeat_buyers;

  absl::flat_hash_map<std::string, uint32_t> person_index;
  std::vector<Person> people;
  absl::flat_hash_map<std::string, std::string> visitor_account;  // visitor id -> user id
  std::map<std::string, std::set<std::string>> account_visitors;  // user id -> visitor ids
  std::vector<Forgotten> forgotten;

  // Updates pending at most, whatever the caller does (64 MiB, and as much for the sorted
  // copy): apply_deferred flushes then. The Recommender settles at 2^21 (recommender.cpp).
  static constexpr size_t kFlushAt = size_t{1} << 22;

  // How many updates wait (written by apply_deferred and flush, under the caller's exclusive
  // lock, and set to 0 by make_waiting() once it made them), and whether a read wanted the
  // rows since the last flush.
  std::atomic<size_t> unflushed{0};
  std::atomic<bool> rows_wanted{false};
  std::mutex settle_mu;  // one caller of make_waiting() makes them; the others wait for it

  // Makes the waiting updates, beside other readers (under the caller's shared lock):
  // apply_deferred (which adds updates) never runs beside them, so once a reader sees 0 the
  // rows hold still until the next exclusive section.
  void make_waiting() {
    if (unflushed.load(std::memory_order_acquire) == 0) return;
    std::lock_guard lock(settle_mu);
    if (unflushed.load(std::memory_order_acquire) != 0) flush();
  }
  // Before a read of the rows.
  void rows_for_reading() {
    // (Read before written: readers on several cores do not pass the line between them.)
    if (!rows_wanted.load(std::memory_order_relaxed)) {
      rows_wanted.store(true, std::memory_order_relaxed);
    }
    make_waiting();
  }

  void flush() {
    co.flush();
    bought_with.flush();
    rows_wanted.store(false, std::memory_order_relaxed);
    unflushed.store(0, std::memory_order_release);
  }

  uint32_t intern_item(const std::string& id) {
    auto [it, fresh] = item_index.try_emplace(id, static_cast<uint32_t>(item_ids.size()));
    if (fresh) {
      item_ids.push_back(id);
      co.add_row();
      bought_with.add_row();
      pop.push_back(0);
      trend.push_back({});
      trend_base.push_back({});
      tally.emplace_back();
      buyers.push_back(0);
      repeat_buyers.push_back(0);
    }
    return it->second;
  }
  Person& person(const std::string& key) {
    auto [it, fresh] = person_index.try_emplace(key, static_cast<uint32_t>(people.size()));
    if (fresh) {
      people.emplace_back();
      people.back().key = key;
    }
    return people[it->second];
  }
  const Person* find_person(std::string_view key) const {
    auto it = person_index.find(av(key));
    return it == person_index.end() ? nullptr : &people[it->second];
  }

  // The person an event is by, without building its key on the hot path.
  absl::flat_hash_map<std::string, uint32_t> by_user, by_visitor;
  Person& person_of(const UserRef& u) {
    const std::string* user = u.user_id ? &*u.user_id : nullptr;
    if (!user) {
      if (auto it = visitor_account.find(av(u.visitor_id)); it != visitor_account.end()) {
        user = &it->second;
      }
    }
    auto& index = user ? by_user : by_visitor;
    const std::string& id = user ? *user : u.visitor_id;
    if (auto it = index.find(av(id)); it != index.end()) return people[it->second];
    std::string key = user ? "u:" : "v:";
    key += id;
    Person& p = person(key);
    index.emplace(id, person_index.find(av(key))->second);
    return p;
  }

  std::string key_of(std::string_view user_id, std::string_view visitor_id) const {
    std::string k;
    if (!user_id.empty()) {
      k = "u:";
      k += user_id;
    } else if (auto it = visitor_account.find(av(visitor_id)); it != visitor_account.end()) {
      k = "u:";
      k += it->second;
    } else {
      k = "v:";
      k += visitor_id;
    }
    return k;
  }

  // The visitor's person joins the account's: recent items merged by time, weights summed.
  void join(const std::string& visitor_id, const std::string& user_id) {
    if (visitor_id.empty() || user_id.empty()) return;
    auto [it, fresh] = visitor_account.try_emplace(visitor_id, user_id);
    if (!fresh) return;  // joined before (a visitor joins one account, the first)
    account_visitors[user_id].insert(visitor_id);
    std::string vkey = "v:";
    vkey += visitor_id;
    auto pv = person_index.find(vkey);
    if (pv == person_index.end()) return;
    Person from = std::move(people[pv->second]);
    people[pv->second] = Person{};
    people[pv->second].key = vkey;
    std::string ukey = "u:";
    ukey += user_id;
    Person& to = person(ukey);
    for (const auto& r : from.recent) touch_recent(to, r.item, r.ts, r.view);
    for (const auto& [i, w] : from.weights) to.weights[i] += w;
    for (const auto& [i, n] : from.bought) to.bought[i] += n;
    for (uint32_t i : from.removed) to.removed.insert(i);
    for (uint32_t i : from.rated) to.rated.insert(i);
    for (const auto& [i, q] : from.cart) to.cart[i] += q;
    if (!to.personalized) to.personalized = from.personalized;
  }

  void touch_recent(Person& p, uint32_t item, int64_t ts, bool view) {
    auto it = std::find_if(p.recent.begin(), p.recent.end(),
                           [&](const Recent& r) { return r.item == item; });
    if (it != p.recent.end()) {
      view = view || it->view;
      p.recent.erase(it);
    }
    // Keep time order (a merge brings older items).
    auto at = std::upper_bound(p.recent.begin(), p.recent.end(), ts,
                               [](int64_t t, const Recent& r) { return t < r.ts; });
    p.recent.insert(at, Recent{item, ts, view});
    if (p.recent.size() > opts.recent) p.recent.erase(p.recent.begin());
  }

  // Forward decay: an interaction at ts weighs 2^((ts - epoch) / half-life) times its weight,
  // so older ones count less without touching them. The factor grows without end (2^274 on 22
  // years at a 30-day half-life; a double overflows past 2^1023), so once it would pass
  // 2^kRescaleAt the epoch moves forward and every decayed weight (popularity, co-occurrence,
  // bought together) is divided by the factor of the move: ratios, thus every score, stay as
  // they were, and weights stay finite over any span of time.
  static constexpr double kRescaleAt = 64;
  double decay_factor(int64_t ts) {
    if (!epoch) epoch = ts;
    const double half_life_ms = opts.half_life_days * 86'400'000.0;
    double lives = static_cast<double>(ts - *epoch) / half_life_ms;
    if (lives > kRescaleAt) {
      rescale(static_cast<int64_t>(std::floor(lives) * half_life_ms), half_life_ms);
      lives = static_cast<double>(ts - *epoch) / half_life_ms;
    }
    return std::exp2(lives);
  }
  // Moves the epoch `shift_ms` forward, dividing every decayed weight by its factor. The rows'
  // waiting updates carry the old scale, so they are made first.
  void rescale(int64_t shift_ms, double half_life_ms) {
    flush();
    *epoch += shift_ms;
    const double f = std::exp2(-static_cast<double>(shift_ms) / half_life_ms);
    for (double& p : pop) p *= f;
    co.scale(f);
    bought_with.scale(f);
  }

  // One interaction of `p` with `item`, of weight w at time ts.
  void interact(Person& p, uint32_t item, double w, int64_t ts, bool view, bool pair = true) {
    if (w <= 0) {
      touch_recent(p, item, ts, view);
      return;
    }
    const double f = decay_factor(ts);
    pop[item] += w * f;
    trend[item].add(w, ts, opts.trending_half_life_hours);
    trend_base[item].add(w, ts, opts.trending_baseline_days * 24);
    tally[item].add(w, ts);
    p.weights[item] += w;
    const bool shares = pair && !(opts.unpersonalized_excluded && p.personalized == false);
    if (shares) {
      // Pair with the last `window` distinct items (newest first), each pair once per event.
      size_t n = 0;
      for (auto it = p.recent.rbegin(); it != p.recent.rend() && n < opts.window; ++it) {
        if (it->item == item) continue;
        ++n;
        co.push(item, it->item, w * f);
        co.push(it->item, item, w * f);
      }
    }
    touch_recent(p, item, ts, view);
  }

  void pair_bought(uint32_t a, uint32_t b, double w) {
    if (a == b) return;
    bought_with.push(a, b, w);
    bought_with.push(b, a, w);
  }

  double score_similar(uint32_t i, uint32_t j, double co_ij) const {
    const double pi = std::max(pop[i], 1e-300), pj = std::max(pop[j], 1e-300);
    const double dj = opts.damping == 0.5 ? std::sqrt(pj) : std::pow(pj, opts.damping);
    return co_ij / (std::sqrt(pi) * dj);
  }

  std::vector<ScoredItem> top(const Row& row, uint32_t self, size_t n, const Accept& accept,
                              bool normalize) const {
    std::vector<ScoredItem> out;
    for (const auto& [j, v] : row) {
      if (j != self) out.push_back({j, normalize ? score_similar(self, j, v) : v});
    }
    return best_accepted(std::move(out), n, accept);
  }

  static std::vector<ScoredItem> best(std::vector<ScoredItem> v, size_t n) {
    return best_n(std::move(v), n);
  }

  bool repeat_typical(uint32_t item) const {
    return buyers[item] > 0 &&
           static_cast<double>(repeat_buyers[item]) >= opts.repeat_ratio * buyers[item];
  }
  // Not to be offered to `p` again: taken out of the cart; bought or rated (a book read, a
  // film seen), unless the item's buyers usually buy it again. A person who rated 300 films
  // was offered the ones they had rated, up to 6 in a top 10 (issue 15).
  bool excluded(const Person& p, uint32_t item) const {
    if (p.removed.contains(item)) return true;
    return (p.bought.contains(item) || p.rated.contains(item)) && !repeat_typical(item);
  }
};

}  // namespace trove
