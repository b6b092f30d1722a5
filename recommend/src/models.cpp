#include "trove/recommend/models.h"

#include <absl/container/flat_hash_map.h>
#include <absl/container/flat_hash_set.h>
#include <xxhash.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <type_traits>

#include "models_rep.h"

namespace trove {
namespace {

std::string hex128(XXH128_hash_t h) {
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(h.high64),
                static_cast<unsigned long long>(h.low64));
  return buf;
}

}  // namespace


std::vector<ScoredItem> blend_lists(const std::vector<ScoredItem>& a, double a_weight,
                                    const std::vector<ScoredItem>& b, double b_weight, size_t n) {
  std::map<uint32_t, double> sum;
  auto add = [&](const std::vector<ScoredItem>& list, double weight) {
    if (list.empty() || !(list.front().score > 0)) return;
    const double top = list.front().score;
    for (const ScoredItem& s : list) sum[s.item] += weight * s.score / top;
  };
  add(a, a_weight);
  add(b, b_weight);
  std::vector<ScoredItem> merged;
  merged.reserve(sum.size());
  for (const auto& [item, score] : sum) merged.push_back({item, score});
  return best_n(std::move(merged), n);
}

RecoModels::RecoModels(RecommendOptions opts) : rep_(std::make_unique<Rep>(opts)) {}
RecoModels::~RecoModels() = default;
RecoModels::RecoModels(RecoModels&&) noexcept = default;
RecoModels& RecoModels::operator=(RecoModels&&) noexcept = default;

const RecommendOptions& RecoModels::options() const { return rep_->opts; }
uint64_t RecoModels::last_seq() const { return rep_->last_seq; }
int64_t RecoModels::last_timestamp_ms() const { return rep_->last_ts; }

void RecoModels::apply(uint64_t seq, const Event& event) {
  apply_deferred(seq, event);
  rep_->flush();
}

void RecoModels::flush() { rep_->flush(); }

void RecoModels::settle() const { rep_->make_waiting(); }
size_t RecoModels::waiting_updates() const {
  return rep_->unflushed.load(std::memory_order_acquire);
}
bool RecoModels::rows_wanted() const { return rep_->rows_wanted.load(std::memory_order_relaxed); }

void RecoModels::apply_deferred(uint64_t seq, const Event& event) {
  Rep& r = *rep_;
  if (r.co.waiting() + r.bought_with.waiting() >= Rep::kFlushAt) r.flush();
  r.last_seq = seq;
  const int64_t ts = event.timestamp_ms.value_or(r.last_ts);
  r.last_ts = std::max(r.last_ts, ts);
  const RecommendOptions& o = r.opts;
  std::visit(
      [&](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, UserMerge>) {
          r.join(e.visitor_id, e.user_id);
        } else if constexpr (std::is_same_v<T, UserUpsert>) {
          Person& p = r.person("u:" + e.user_id);
          if (e.personalized) p.personalized = e.personalized;
        } else if constexpr (std::is_same_v<T, UserForget>) {
          Forgotten f;
          f.seq = seq;
          if (e.user_id) {
            f.user_ids.push_back(*e.user_id);
            if (auto it = r.account_visitors.find(*e.user_id); it != r.account_visitors.end()) {
              f.visitor_ids.assign(it->second.begin(), it->second.end());
            }
          }
          if (e.visitor_id) f.visitor_ids.push_back(*e.visitor_id);
          r.forgotten.push_back(std::move(f));
        } else if constexpr (requires { e.user; }) {
          const UserRef& u = e.user;
          if (u.user_id) r.join(u.visitor_id, *u.user_id);
          Person& p = r.person_of(u);
          if (u.personalized) p.personalized = u.personalized;
          auto item = [&](const std::string& id) { return r.intern_item(id); };
          if constexpr (std::is_same_v<T, DetailItemView>) {
            r.interact(p, item(e.item_id), o.view, ts, true);
          } else if constexpr (std::is_same_v<T, ImageInteraction>) {
            r.interact(p, item(e.item_id), o.image, ts, false);
          } else if constexpr (std::is_same_v<T, OtherInteraction>) {
            if (e.item_id) r.interact(p, item(*e.item_id), o.other * e.weight.value_or(1), ts, false);
          } else if constexpr (std::is_same_v<T, SearchResultClick> || std::is_same_v<T, RecoClick>) {
            r.interact(p, item(e.item_id), o.click, ts, false);
          } else if constexpr (std::is_same_v<T, AddToList>) {
            r.interact(p, item(e.item_id), o.list_add, ts, false);
          } else if constexpr (std::is_same_v<T, RateItem>) {
            const uint32_t i = item(e.item_id);
            r.interact(p, i, o.rating * std::max(0.0, e.rating - 2), ts, false);
            p.rated.insert(i);
          } else if constexpr (std::is_same_v<T, AddToCart>) {
            const uint32_t i = item(e.item_id);
            const double w = o.cart;
            const double f = w > 0 ? r.decay_factor(ts) : 0;
            if (!(o.unpersonalized_excluded && p.personalized == false)) {
              // With the `window` newest items still in the cart (bounded: carts can be long).
              size_t n = 0;
              for (auto it = p.recent.rbegin(); it != p.recent.rend() && n < o.window; ++it) {
                if (it->item != i && p.cart.contains(it->item)) {
                  r.pair_bought(i, it->item, w * f);
                  ++n;
                }
              }
            }
            p.cart[i] += e.quantity.value_or(1);
            p.removed.erase(i);
            r.interact(p, i, w, ts, false);
          } else if constexpr (std::is_same_v<T, RemoveFromCart>) {
            const uint32_t i = item(e.item_id);
            auto it = p.cart.find(i);
            if (it != p.cart.end() && (!e.quantity || (it->second -= *e.quantity) <= 0)) {
              p.cart.erase(it);
              p.removed.insert(i);
            }
          } else if constexpr (std::is_same_v<T, PurchaseComplete>) {
            // The distinct items in the order of their first line (orders of a thousand lines
            // exist: a set, not a scan of the basket per line).
            thread_local std::vector<uint32_t> basket;
            thread_local absl::flat_hash_set<uint32_t> in_basket;
            basket.clear();
            in_basket.clear();
            for (const auto& line : e.lines) {
              const uint32_t i = item(line.item_id);
              if (in_basket.insert(i).second) basket.push_back(i);
            }
            const double f = r.decay_factor(ts);
            if (!(o.unpersonalized_excluded && p.personalized == false)) {
              // Each line with the next `window` lines: every pair of a small basket, a band of
              // a large one (an order of 500 lines would otherwise make 125,000 pairs).
              for (size_t a = 0; a < basket.size(); ++a) {
                for (size_t b = a + 1; b < basket.size() && b <= a + o.window; ++b) {
                  r.pair_bought(basket[a], basket[b], o.purchase * f);
                }
              }
            }
            for (uint32_t i : basket) {
              uint32_t& orders = p.bought[i];
              if (orders == 0) ++r.buyers[i];
              if (orders == 1) ++r.repeat_buyers[i];
              ++orders;
              p.removed.erase(i);
              // A line that was in the cart was paired with the person's items when it was
              // added; the purchase adds its weight, not the same pairs again.
              const bool carted = p.cart.erase(i) > 0;
              r.interact(p, i, o.purchase, ts, false, !carted);
            }
          }
        }
      },
      event.body);
  r.unflushed.store(r.co.waiting() + r.bought_with.waiting(), std::memory_order_relaxed);
}

std::optional<uint32_t> RecoModels::item_index(std::string_view item_id) const {
  auto it = rep_->item_index.find(av(item_id));
  if (it == rep_->item_index.end()) return std::nullopt;
  return it->second;
}
const std::string& RecoModels::item_id(uint32_t item) const { return rep_->item_ids[item]; }
size_t RecoModels::item_count() const { return rep_->item_ids.size(); }

std::string RecoModels::person_key(const UserRef& user) const {
  return rep_->key_of(user.user_id.value_or(""), user.visitor_id);
}
std::string RecoModels::person_key(std::string_view user_id, std::string_view visitor_id) const {
  return rep_->key_of(user_id, visitor_id);
}
std::vector<std::string> RecoModels::visitors_of(std::string_view user_id) const {
  auto it = rep_->account_visitors.find(std::string(user_id));
  if (it == rep_->account_visitors.end()) return {};
  return {it->second.begin(), it->second.end()};
}

std::vector<ScoredItem> RecoModels::similar(uint32_t item, size_t n, const Accept& accept) const {
  rep_->rows_for_reading();
  if (item >= rep_->co.size()) return {};
  return rep_->top(rep_->co[item], item, n, accept, true);
}
std::vector<ScoredItem> RecoModels::bought_together(uint32_t item, size_t n,
                                                    const Accept& accept) const {
  rep_->rows_for_reading();
  if (item >= rep_->bought_with.size()) return {};
  return rep_->top(rep_->bought_with[item], item, n, accept, true);
}

std::vector<ScoredItem> RecoModels::for_you(std::string_view person, size_t n,
                                            const Accept& accept) const {
  rep_->rows_for_reading();
  const Rep& r = *rep_;
  const Person* p = r.find_person(person);
  if (!p || p->recent.empty()) return {};
  // Newest items count most: weight 0.9^k for the k-th newest seed. Scores add up in a dense
  // per-thread array (faster than a hash map over thousands of candidates), reset after.
  thread_local std::vector<double> scores;
  thread_local std::vector<uint32_t> touched;
  if (scores.size() < r.item_ids.size()) scores.resize(r.item_ids.size(), 0.0);
  touched.clear();
  double recency = 1;
  const size_t seeds = std::min(p->recent.size(), r.opts.window);
  for (size_t k = 0; k < seeds; ++k, recency *= 0.9) {
    const uint32_t seed = p->recent[p->recent.size() - 1 - k].item;
    for (const auto& [j, v] : r.co[seed]) {
      if (scores[j] == 0) touched.push_back(j);
      scores[j] += recency * r.score_similar(seed, j, v);
    }
  }
  // Buy again: with nothing in the cart (a visit starting, not a basket filling), the
  // person's own items that may be offered again (those whose buyers re-buy; never a removed
  // one) join, scored log(1 + weight) / the best, beside the neighbours' scores / the best.
  double best_co = 0;
  for (uint32_t j : touched) best_co = std::max(best_co, scores[j]);
  if (best_co > 0) {
    for (uint32_t j : touched) scores[j] /= best_co;
  }
  if (r.opts.buy_again > 0 && p->cart.empty()) {
    double best_own = 0;
    for (const auto& [j, w] : p->weights) {
      if (p->bought.contains(j) && !r.excluded(*p, j)) best_own = std::max(best_own, std::log1p(w));
    }
    if (best_own > 0) {
      for (const auto& [j, w] : p->weights) {
        if (!p->bought.contains(j) || r.excluded(*p, j)) continue;
        if (scores[j] == 0) touched.push_back(j);
        scores[j] += r.opts.buy_again * std::log1p(w) / best_own;
      }
    }
  }
  std::vector<ScoredItem> out;
  out.reserve(touched.size());
  for (uint32_t j : touched) {
    if (!r.excluded(*p, j)) out.push_back({j, scores[j]});
    scores[j] = 0;
  }
  return best_accepted(std::move(out), n, accept);
}

std::vector<double> RecoModels::affinity(std::string_view person,
                                         const std::vector<uint32_t>& items) const {
  rep_->rows_for_reading();
  const Rep& r = *rep_;
  std::vector<double> out(items.size(), 0.0);
  const Person* p = r.find_person(person);
  if (!p) return out;
  double recency = 1;
  const size_t seeds = std::min(p->recent.size(), r.opts.window);
  for (size_t k = 0; k < seeds; ++k, recency *= 0.9) {
    const uint32_t seed = p->recent[p->recent.size() - 1 - k].item;
    const Row& row = r.co[seed];
    for (size_t i = 0; i < items.size(); ++i) {
      if (auto it = row.find(items[i]); it != row.end()) {
        out[i] += recency * r.score_similar(seed, items[i], it->second);
      }
    }
  }
  return out;
}

std::vector<ScoredItem> RecoModels::popular(size_t n, const Accept& accept) const {
  std::vector<ScoredItem> out;
  for (uint32_t i = 0; i < rep_->pop.size(); ++i) {
    if (rep_->pop[i] > 0) out.push_back({i, rep_->pop[i]});
  }
  return best_accepted(std::move(out), n, accept);
}

std::vector<ScoredItem> RecoModels::popular_within(int64_t window_days, size_t n,
                                                   const Accept& accept) const {
  const Rep& r = *rep_;
  const int32_t today = Tally::day_of(r.last_ts);
  std::vector<ScoredItem> out;
  for (uint32_t i = 0; i < r.tally.size(); ++i) {
    const double w = r.tally[i].within(today, window_days);
    if (w > 0) out.push_back({i, w});
  }
  return best_accepted(std::move(out), n, accept);
}

std::vector<ScoredItem> RecoModels::trending(size_t n, const Accept& accept) const {
  const Rep& r = *rep_;
  const double short_hours = r.opts.trending_half_life_hours;
  const double base_hours = r.opts.trending_baseline_days * 24;
  std::vector<ScoredItem> out;
  for (uint32_t i = 0; i < r.trend.size(); ++i) {
    if (r.trend[i].value <= 0) continue;
    // A rate decayed over a half-life h sums about rate * h / ln 2: the baseline's expected
    // weight over the short span is its own sum scaled by short_hours / base_hours.
    const double recent = r.trend[i].at(r.last_ts, short_hours);
    const double expected = r.trend_base[i].at(r.last_ts, base_hours) * short_hours / base_hours;
    const double z = (recent - expected) / std::sqrt(expected + 1);
    if (z > 0) out.push_back({i, z});
  }
  return best_accepted(std::move(out), n, accept);
}

std::vector<uint32_t> RecoModels::recent_items(std::string_view person, bool views_only) const {
  std::vector<uint32_t> out;
  const Person* p = rep_->find_person(person);
  if (!p) return out;
  for (auto it = p->recent.rbegin(); it != p->recent.rend(); ++it) {
    if (!views_only || it->view) out.push_back(it->item);
  }
  return out;
}

bool RecoModels::excluded_for(std::string_view person, uint32_t item) const {
  const Person* p = rep_->find_person(person);
  return p && rep_->excluded(*p, item);
}

bool RecoModels::has_bought(std::string_view person, uint32_t item) const {
  const Person* p = rep_->find_person(person);
  return p && p->bought.contains(item);
}

bool RecoModels::personalized(std::string_view person) const {
  const Person* p = rep_->find_person(person);
  return !p || p->personalized != false;
}

double RecoModels::popularity(uint32_t item) const {
  return item < rep_->pop.size() ? rep_->pop[item] : 0;
}

size_t RecoModels::person_count() const { return rep_->people.size(); }
const std::string& RecoModels::person(uint32_t person) const { return rep_->people[person].key; }
std::optional<uint32_t> RecoModels::person_index(std::string_view key) const {
  auto it = rep_->person_index.find(av(key));
  if (it == rep_->person_index.end()) return std::nullopt;
  return it->second;
}

void RecoModels::for_each_interaction(
    const std::function<void(uint32_t, uint32_t, double)>& fn) const {
  std::vector<std::pair<uint32_t, double>> row;
  for (uint32_t u = 0; u < rep_->people.size(); ++u) {
    row.assign(rep_->people[u].weights.begin(), rep_->people[u].weights.end());
    std::sort(row.begin(), row.end());
    for (const auto& [i, w] : row) fn(u, i, w);
  }
}

std::vector<std::pair<uint32_t, double>> RecoModels::interactions_of(std::string_view person) const {
  std::vector<std::pair<uint32_t, double>> out;
  if (const Person* p = rep_->find_person(person)) {
    out.assign(p->weights.begin(), p->weights.end());
    std::sort(out.begin(), out.end());
  }
  return out;
}

const std::vector<RecoModels::Forgotten>& RecoModels::forgotten() const { return rep_->forgotten; }

bool RecoModels::forgotten_event(const std::vector<Forgotten>& forgotten, uint64_t seq,
                                 const Event& event) {
  if (forgotten.empty()) return false;
  auto has = [](const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  };
  return std::visit(
      [&](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        for (const Forgotten& f : forgotten) {
          if (seq >= f.seq) continue;
          if constexpr (std::is_same_v<T, UserMerge>) {
            if (has(f.user_ids, e.user_id) || has(f.visitor_ids, e.visitor_id)) return true;
          } else if constexpr (std::is_same_v<T, UserUpsert>) {
            if (has(f.user_ids, e.user_id)) return true;
          } else if constexpr (requires { e.user; }) {
            if ((e.user.user_id && has(f.user_ids, *e.user.user_id)) ||
                has(f.visitor_ids, e.user.visitor_id)) {
              return true;
            }
          }
        }
        return false;
      },
      event.body);
}

std::string RecoModels::digest() const {
  rep_->rows_for_reading();
  const Rep& r = *rep_;
  XXH3_state_t* st = XXH3_createState();
  XXH3_128bits_reset(st);
  auto put = [&](const void* p, size_t n) { XXH3_128bits_update(st, p, n); };
  auto put_u64 = [&](uint64_t v) { put(&v, sizeof v); };
  auto put_f = [&](double v) { put(&v, sizeof v); };
  auto put_s = [&](const std::string& s) {
    put_u64(s.size());
    put(s.data(), s.size());
  };
  auto put_row = [&](const Row& row) {
    std::vector<std::pair<uint32_t, double>> v(row.begin(), row.end());
    std::sort(v.begin(), v.end());
    put_u64(v.size());
    for (const auto& [j, w] : v) {
      put_s(r.item_ids[j]);
      put_f(w);
    }
  };
  // By item id and person key, so the interning order does not matter.
  std::vector<uint32_t> items(r.item_ids.size());
  for (uint32_t i = 0; i < items.size(); ++i) items[i] = i;
  std::sort(items.begin(), items.end(),
            [&](uint32_t a, uint32_t b) { return r.item_ids[a] < r.item_ids[b]; });
  for (uint32_t i : items) {
    if (r.pop[i] == 0 && r.tally[i].total == 0 && r.co[i].empty() && r.bought_with[i].empty()) {
      continue;
    }
    put_s(r.item_ids[i]);
    put_f(r.pop[i]);
    for (const Decayed* d : {&r.trend[i], &r.trend_base[i]}) {
      put_f(d->value);
      put_u64(static_cast<uint64_t>(d->ts));
    }
    put_f(r.tally[i].total);
    put_u64(r.tally[i].days.size());
    for (const DayWeight& d : r.tally[i].days) {
      put_u64(static_cast<uint64_t>(static_cast<int64_t>(d.day)));
      put_f(d.weight);
    }
    put_u64(r.buyers[i]);
    put_u64(r.repeat_buyers[i]);
    put_row(r.co[i]);
    put_row(r.bought_with[i]);
  }
  std::vector<const Person*> people;
  for (const auto& p : r.people) {
    if (!p.weights.empty() || !p.recent.empty() || p.personalized) people.push_back(&p);
  }
  std::sort(people.begin(), people.end(),
            [](const Person* a, const Person* b) { return a->key < b->key; });
  for (const Person* p : people) {
    put_s(p->key);
    for (const auto& rec : p->recent) {
      put_s(r.item_ids[rec.item]);
      put_u64(static_cast<uint64_t>(rec.ts));
      put_u64(rec.view);
    }
    Row w(p->weights.begin(), p->weights.end());
    put_row(w);
    std::vector<std::string> bought;
    for (const auto& [i, n] : p->bought) bought.push_back(r.item_ids[i] + "#" + std::to_string(n));
    std::sort(bought.begin(), bought.end());
    for (const auto& b : bought) put_s(b);
    std::vector<std::string> rated;
    for (uint32_t i : p->rated) rated.push_back(r.item_ids[i]);
    std::sort(rated.begin(), rated.end());
    put_u64(rated.size());
    for (const auto& s : rated) put_s(s);
    put_u64(p->personalized ? (*p->personalized ? 2 : 1) : 0);
  }
  const std::string out = hex128(XXH3_128bits_digest(st));
  XXH3_freeState(st);
  return out;
}

RecoModels::Memory RecoModels::memory() const {
  rep_->rows_for_reading();
  const Rep& r = *rep_;
  Memory m;
  auto row_bytes = [](const auto& map) {
    return map.capacity() * (sizeof(typename std::decay_t<decltype(map)>::value_type) + 1);
  };
  for (size_t i = 0; i < r.item_ids.size(); ++i) {
    m.items += row_bytes(r.co[i]) + row_bytes(r.bought_with[i]) + r.item_ids[i].capacity() +
               sizeof(Row) * 2 + sizeof(double) + 2 * sizeof(Decayed) + sizeof(Tally) +
               r.tally[i].days.capacity() * sizeof(DayWeight) + 2 * sizeof(uint32_t);
  }
  m.items += row_bytes(r.item_index);
  for (const auto& p : r.people) {
    m.people += sizeof(Person) + p.key.capacity() + p.recent.capacity() * sizeof(Recent) +
                row_bytes(p.weights) + row_bytes(p.bought) + row_bytes(p.removed) +
                row_bytes(p.rated) + row_bytes(p.cart);
  }
  m.people += row_bytes(r.person_index) + row_bytes(r.visitor_account);
  m.total = m.items + m.people;
  m.item_count = r.item_ids.size();
  m.person_count = r.people.size();
  m.per_item = r.item_ids.empty() ? 0 : static_cast<double>(m.items) / r.item_ids.size();
  m.per_person = r.people.empty() ? 0 : static_cast<double>(m.people) / r.people.size();
  return m;
}

}  // namespace trove
