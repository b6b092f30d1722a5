#include "trove/data/state.h"

#include <absl/container/flat_hash_map.h>
#include <xxhash.h>

#include <algorithm>
#include <cstdio>

#include "archive.h"
#include "event_fields.h"

namespace trove {

namespace archive {
// Every struct with a field table is encoded field by field, in table order.
template <class Ar, class T>
  requires fields::HasFields<T>
void io(Ar& ar, T& v) {
  fields::for_each_field<T>([&](const auto& f, size_t) { io(ar, v.*f.member); });
}
template <class Ar>
void io(Ar& ar, Item& v) {
  io(ar, v.data), io(ar, v.created_seq), io(ar, v.updated_seq);
}
template <class Ar>
void io(Ar& ar, ItemCounters& v) {
  io(ar, v.views), io(ar, v.impressions), io(ar, v.clicks), io(ar, v.cart_adds);
  io(ar, v.purchases), io(ar, v.orders), io(ar, v.revenue), io(ar, v.rating_count);
  io(ar, v.rating_sum);
}
template <class Ar>
void io(Ar& ar, Interaction& v) {
  io(ar, v.seq), io(ar, v.timestamp_ms), io(ar, v.item), io(ar, v.kind), io(ar, v.value);
}
template <class Ar>
void io(Ar& ar, Profile& v) {
  io(ar, v.first_seen_ms), io(ar, v.last_seen_ms), io(ar, v.events), io(ar, v.personalized);
  io(ar, v.history), io(ar, v.cart), io(ar, v.lists), io(ar, v.ratings), io(ar, v.orders);
  io(ar, v.revenue);
}
template <class Ar>
void io(Ar& ar, SearchedQuery& v) {
  io(ar, v.count), io(ar, v.last_ms);
}
template <class Ar>
void io(Ar& ar, Account& v) {
  io(ar, v.personalized), io(ar, v.attributes), io(ar, v.visitors);
}
}  // namespace archive

// A settings event (every field optional): each field given replaces the current value, the
// others keep theirs. Walks the field table, so a new field merges without a change here.
template <class T>
void merge_given(T& into, const T& from) {
  fields::for_each_field<T>([&](const auto& f, size_t) {
    if (from.*f.member) into.*f.member = from.*f.member;
  });
}


namespace {
constexpr uint32_t kEncodingVersion = 7;  // 2: event ids stored as hashes; 3: search settings;
                                          // 4: searchable fields, searched queries;
                                          // 5: a placement's window_days; 6: attribute settings;
                                          // 7: a placement's filter

// Debian's abseil is built with its own string_view; heterogeneous lookup needs that type.
absl::string_view av(std::string_view s) { return absl::string_view(s.data(), s.size()); }

std::string account_key(std::string_view user_id) {
  std::string k = "u:";
  k += user_id;
  return k;
}
std::string visitor_key(std::string_view visitor_id) {
  std::string k = "v:";
  k += visitor_id;
  return k;
}
}  // namespace

EventIdKey event_id_key(std::string_view event_id) {
  const XXH128_hash_t h = XXH3_128bits(event_id.data(), event_id.size());
  return {h.high64, h.low64};
}

struct State::Rep {
  uint64_t last_seq = 0;
  int64_t last_ts = 0;
  std::vector<std::string> item_ids;  // ItemRef -> id, in order of first appearance
  absl::flat_hash_map<std::string, ItemRef> item_refs;
  std::vector<std::optional<Item>> items;  // by ref; empty when not (or no longer) in catalog
  std::vector<ItemCounters> counters;      // by ref
  uint64_t live_items = 0;
  // (created_seq, ref) of items as they were created, so in seq order: newest_items() walks
  // it backwards. Not encoded (rebuilt on decode). An entry goes stale when its item is
  // removed (and maybe created again, with a new entry); stale entries are dropped once they
  // outnumber the live ones.
  std::vector<std::pair<uint64_t, ItemRef>> created;
  bool created_live(const std::pair<uint64_t, ItemRef>& c) const {
    return items[c.second] && items[c.second]->created_seq == c.first;
  }
  void drop_stale_created() {
    if (created.size() < 2 * live_items + 1024) return;
    std::erase_if(created, [&](const auto& c) { return !created_live(c); });
  }
  absl::flat_hash_map<std::string, Profile> profiles;
  absl::flat_hash_map<std::string, std::string> visitor_user;
  absl::flat_hash_map<std::string, Account> accounts;
  std::map<std::string, SynonymsUpsert> synonyms;
  std::map<std::string, PlacementUpsert> placements;
  RankingUpsert ranking;
  SearchSettingsUpsert search_settings;  // every field given so far, the last value of each
  std::map<std::string, AttributeSetting> attribute_settings;  // by name as declared
  std::map<std::string, std::vector<ItemRef>> offline;
  std::vector<uint64_t> event_counts = std::vector<uint64_t>(kEventTypeCount, 0);
  uint64_t orders = 0;
  // event_id -> seq, keyed by the id's 128-bit hash: ids are client strings of up to 128
  // characters, and storing them would cost more than the rest of the state (a collision
  // needs about 2^64 ids).
  absl::flat_hash_map<EventIdKey, uint64_t> event_ids;
  std::map<std::string, SearchedQuery> searched_queries;

  template <class Ar>
  void io(Ar& ar) {
    using archive::io;
    io(ar, last_seq), io(ar, last_ts), io(ar, item_ids), io(ar, items), io(ar, counters);
    io(ar, live_items), io(ar, profiles), io(ar, visitor_user), io(ar, accounts);
    io(ar, synonyms), io(ar, placements), io(ar, ranking), io(ar, offline);
    io(ar, event_counts), io(ar, orders), io(ar, event_ids), io(ar, search_settings);
    io(ar, searched_queries), io(ar, attribute_settings);
  }

  // Drops the declaration of `name` in any ASCII case ("Year" and "year" are one attribute, as
  // filters match names folded).
  void forget_attribute(const std::string& name) {
    auto lower = [](std::string s) {
      for (char& c : s) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
      return s;
    };
    const std::string key = lower(name);
    std::erase_if(attribute_settings, [&](const auto& kv) { return lower(kv.first) == key; });
  }

  ItemRef intern(const std::string& id) {
    auto [it, inserted] = item_refs.try_emplace(id, static_cast<ItemRef>(item_ids.size()));
    if (inserted) {
      item_ids.push_back(id);
      items.emplace_back();
      counters.emplace_back();
    }
    return it->second;
  }

  // Joins a visitor to an account: its profile's history, cart, lists and ratings move over.
  void join(const std::string& visitor_id, const std::string& user_id) {
    auto [it, inserted] = visitor_user.try_emplace(visitor_id, user_id);
    if (!inserted) {
      if (it->second == user_id) return;
      accounts[it->second].visitors.erase(visitor_id);  // the visitor changes account
      it->second = user_id;
    }
    accounts[user_id].visitors.insert(visitor_id);
    auto v = profiles.find(visitor_key(visitor_id));
    if (v == profiles.end()) return;
    Profile from = std::move(v->second);
    profiles.erase(v);
    Profile& to = profiles[account_key(user_id)];
    merge(to, std::move(from));
  }

  static void merge(Profile& to, Profile&& from) {
    if (to.events == 0) {
      // `to` may exist only to hold the account's UserUpsert personalization setting, which
      // must survive (as it does in the general case below).
      const std::optional<bool> personalized = to.personalized;
      to = std::move(from);
      if (personalized) to.personalized = personalized;
      return;
    }
    to.first_seen_ms = std::min(to.first_seen_ms, from.first_seen_ms);
    to.last_seen_ms = std::max(to.last_seen_ms, from.last_seen_ms);
    to.events += from.events;
    if (!to.personalized) to.personalized = from.personalized;
    std::vector<Interaction> h;
    h.reserve(to.history.size() + from.history.size());
    std::merge(to.history.begin(), to.history.end(), from.history.begin(), from.history.end(),
               std::back_inserter(h),
               [](const Interaction& a, const Interaction& b) { return a.seq < b.seq; });
    if (h.size() > kMaxHistory) h.erase(h.begin(), h.end() - kMaxHistory);
    to.history = std::move(h);
    for (auto& [item, qty] : from.cart) to.cart[item] += qty;
    for (auto& [name, items] : from.lists) to.lists[name].insert(items.begin(), items.end());
    for (auto& [item, r] : from.ratings) to.ratings.try_emplace(item, r);
    to.orders += from.orders;
    to.revenue += from.revenue;
  }

  Profile& profile_for(const UserRef& u, int64_t ts) {
    std::string key;
    if (u.user_id) {
      join(u.visitor_id, *u.user_id);
      key = account_key(*u.user_id);
    } else if (auto it = visitor_user.find(u.visitor_id); it != visitor_user.end()) {
      key = account_key(it->second);
    } else {
      key = visitor_key(u.visitor_id);
    }
    Profile& p = profiles[key];
    if (p.events == 0) p.first_seen_ms = ts;
    p.last_seen_ms = std::max(p.last_seen_ms, ts);
    ++p.events;
    if (u.personalized) p.personalized = u.personalized;
    return p;
  }

  static void remember(Profile& p, uint64_t seq, int64_t ts, ItemRef item, EventType kind,
                       float value) {
    if (p.history.size() >= kMaxHistory + kHistorySlack - 1) {
      p.history.erase(p.history.begin(), p.history.end() - static_cast<std::ptrdiff_t>(kMaxHistory - 1));
    }
    p.history.push_back(Interaction{seq, ts, item, kind, value});
  }

  void forget_visitor(const std::string& visitor_id) {
    profiles.erase(visitor_key(visitor_id));
    if (auto it = visitor_user.find(visitor_id); it != visitor_user.end()) {
      if (auto a = accounts.find(it->second); a != accounts.end()) a->second.visitors.erase(visitor_id);
      visitor_user.erase(it);
    }
  }

  void forget_user(const std::string& user_id) {
    if (auto a = accounts.find(user_id); a != accounts.end()) {
      for (const auto& v : a->second.visitors) {
        visitor_user.erase(v);
        profiles.erase(visitor_key(v));
      }
      accounts.erase(a);
    }
    profiles.erase(account_key(user_id));
  }

  void apply_item_upsert(uint64_t seq, const ItemUpsert& e) {
    ItemRef ref = intern(e.id);
    auto& slot = items[ref];
    const uint64_t created_seq = slot ? slot->created_seq : seq;
    if (!slot) {
      ++live_items;
      created.emplace_back(seq, ref);
    }
    slot = Item{e, created_seq, seq};
  }

  void apply_item_patch(uint64_t seq, const ItemPatch& e) {
    auto it = item_refs.find(e.id);
    if (it == item_refs.end() || !items[it->second]) return;  // nothing to patch
    Item& item = *items[it->second];
    ItemUpsert& d = item.data;
    if (e.title) d.title = *e.title;
    if (e.description) d.description = e.description;
    if (e.brand) d.brand = e.brand;
    if (e.categories) d.categories = e.categories;
    if (e.price) d.price = e.price;
    if (e.currency) d.currency = e.currency;
    if (e.in_stock) d.in_stock = e.in_stock;
    if (e.tags) d.tags = e.tags;
    if (e.attributes) {
      if (!d.attributes) d.attributes.emplace();
      for (const auto& [k, v] : *e.attributes) (*d.attributes)[k] = v;
    }
    if (e.url) d.url = e.url;
    if (e.image_url) d.image_url = e.image_url;
    item.updated_seq = seq;
  }

  std::vector<ItemRef> refs(const std::vector<std::string>& ids) {
    std::vector<ItemRef> out;
    out.reserve(ids.size());
    for (const auto& id : ids) out.push_back(intern(id));
    return out;
  }

  void impressions(const std::vector<std::string>& ids) {
    for (const auto& id : ids) ++counters[intern(id)].impressions;
  }

  void searched(std::string_view query, int64_t ts) {
    std::string key;
    for (char c : query) {
      const bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
      if (!space) {
        key += c;
      } else if (!key.empty() && key.back() != ' ') {
        key += ' ';
      }
    }
    if (!key.empty() && key.back() == ' ') key.pop_back();
    if (key.empty()) return;
    auto [it, inserted] = searched_queries.try_emplace(std::move(key));
    ++it->second.count;
    it->second.last_ms = ts;
    if (!inserted || searched_queries.size() <= State::kMaxSearchedQueries) return;
    // Drop every query searched as few times as the drop-th least searched: the fewest
    // searches first, ties together, so that at most 90% are left (one pass, whatever the
    // counts; raising a threshold one search at a time could take a pass per search).
    const size_t drop = searched_queries.size() - State::kMaxSearchedQueries * 9 / 10;
    std::vector<uint64_t> counts;
    counts.reserve(searched_queries.size());
    for (const auto& [text, q] : searched_queries) counts.push_back(q.count);
    std::nth_element(counts.begin(), counts.begin() + static_cast<std::ptrdiff_t>(drop - 1),
                     counts.end());
    const uint64_t fewest = counts[drop - 1];
    std::erase_if(searched_queries, [&](const auto& q) { return q.second.count <= fewest; });
  }

  static std::string offline_key(RecoScope scope, const std::optional<std::string>& placement,
                                 const std::string& key) {
    return std::string(reco_scope_name(scope)) + "/" + placement.value_or("*") + "/" + key;
  }

  void apply(uint64_t seq, int64_t ts, const Event& ev);
};

void State::Rep::apply(uint64_t seq, int64_t ts, const Event& ev) {
  std::visit(
      [&](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, ItemUpsert>) {
          apply_item_upsert(seq, e);
        } else if constexpr (std::is_same_v<T, ItemPatch>) {
          apply_item_patch(seq, e);
        } else if constexpr (std::is_same_v<T, ItemRemove>) {
          auto it = item_refs.find(e.id);
          if (it != item_refs.end() && items[it->second]) {
            items[it->second].reset();
            --live_items;
            drop_stale_created();
          }
        } else if constexpr (std::is_same_v<T, SynonymsUpsert>) {
          synonyms[e.id] = e;
        } else if constexpr (std::is_same_v<T, SynonymsRemove>) {
          synonyms.erase(e.id);
        } else if constexpr (std::is_same_v<T, RankingUpsert>) {
          merge_given(ranking, e);
        } else if constexpr (std::is_same_v<T, SearchSettingsUpsert>) {
          merge_given(search_settings, e);
        } else if constexpr (std::is_same_v<T, AttributeSettingsUpsert>) {
          for (const AttributeSetting& a : e.attributes) {
            forget_attribute(a.name);
            attribute_settings[a.name] = a;
          }
        } else if constexpr (std::is_same_v<T, AttributeSettingsRemove>) {
          for (const std::string& name : e.names) forget_attribute(name);
        } else if constexpr (std::is_same_v<T, PlacementUpsert>) {
          placements[e.id] = e;
        } else if constexpr (std::is_same_v<T, PlacementRemove>) {
          placements.erase(e.id);
        } else if constexpr (std::is_same_v<T, OfflineRecommendationsUpsert>) {
          offline[offline_key(e.scope, e.placement_id, e.key)] = refs(e.item_ids);
        } else if constexpr (std::is_same_v<T, OfflineRecommendationsRemove>) {
          offline.erase(offline_key(e.scope, e.placement_id, e.key));
        } else if constexpr (std::is_same_v<T, UserUpsert>) {
          Account& a = accounts[e.user_id];
          if (e.personalized) {
            a.personalized = e.personalized;
            profiles[account_key(e.user_id)].personalized = e.personalized;
          }
          if (e.attributes) a.attributes = e.attributes;
        } else if constexpr (std::is_same_v<T, UserMerge>) {
          join(e.visitor_id, e.user_id);
        } else if constexpr (std::is_same_v<T, UserForget>) {
          if (e.user_id) forget_user(*e.user_id);
          if (e.visitor_id) forget_visitor(*e.visitor_id);
        } else if constexpr (requires { e.user; }) {
          Profile& p = profile_for(e.user, ts);
          if constexpr (std::is_same_v<T, DetailItemView>) {
            ItemRef r = intern(e.item_id);
            ++counters[r].views;
            remember(p, seq, ts, r, ev.type(), 1);
          } else if constexpr (std::is_same_v<T, ItemsView> || std::is_same_v<T, RecoShow>) {
            impressions(e.item_ids);
          } else if constexpr (std::is_same_v<T, SearchQuery>) {
            if (e.item_ids) impressions(*e.item_ids);
            if (e.item_ids && !e.item_ids->empty()) searched(e.query, ts);
          } else if constexpr (std::is_same_v<T, ImageInteraction>) {
            remember(p, seq, ts, intern(e.item_id), ev.type(), 1);
          } else if constexpr (std::is_same_v<T, OtherInteraction>) {
            if (e.item_id) {
              remember(p, seq, ts, intern(*e.item_id), ev.type(),
                       static_cast<float>(e.weight.value_or(1)));
            }
          } else if constexpr (std::is_same_v<T, AddToCart>) {
            ItemRef r = intern(e.item_id);
            const int64_t q = e.quantity.value_or(1);
            p.cart[r] += q;
            ++counters[r].cart_adds;
            remember(p, seq, ts, r, ev.type(), static_cast<float>(q));
          } else if constexpr (std::is_same_v<T, RemoveFromCart>) {
            ItemRef r = intern(e.item_id);
            auto it = p.cart.find(r);
            if (it != p.cart.end()) {
              if (!e.quantity || (it->second -= *e.quantity) <= 0) p.cart.erase(it);
            }
            remember(p, seq, ts, r, ev.type(), static_cast<float>(e.quantity.value_or(0)));
          } else if constexpr (std::is_same_v<T, PurchaseComplete>) {
            double total = 0;
            for (const auto& line : e.lines) {
              ItemRef r = intern(line.item_id);
              ItemCounters& c = counters[r];
              c.purchases += static_cast<uint64_t>(line.quantity);
              ++c.orders;
              const double amount = static_cast<double>(line.quantity) * line.price.value_or(0);
              c.revenue += amount;
              total += amount;
              p.cart.erase(r);
              remember(p, seq, ts, r, ev.type(), static_cast<float>(line.quantity));
            }
            ++orders;
            ++p.orders;
            p.revenue += e.revenue.value_or(total);
          } else if constexpr (std::is_same_v<T, AddToList>) {
            p.lists[e.list].insert(intern(e.item_id));
          } else if constexpr (std::is_same_v<T, RemoveFromList>) {
            auto it = p.lists.find(e.list);
            if (it != p.lists.end()) {
              if (auto r = item_refs.find(e.item_id); r != item_refs.end()) it->second.erase(r->second);
              if (it->second.empty()) p.lists.erase(it);
            }
          } else if constexpr (std::is_same_v<T, RateItem>) {
            ItemRef r = intern(e.item_id);
            ItemCounters& c = counters[r];
            auto [it, inserted] = p.ratings.try_emplace(r, static_cast<float>(e.rating));
            if (!inserted) {
              c.rating_sum -= it->second;
              it->second = static_cast<float>(e.rating);
            } else {
              ++c.rating_count;
            }
            c.rating_sum += static_cast<float>(e.rating);
            remember(p, seq, ts, r, ev.type(), static_cast<float>(e.rating));
          } else if constexpr (std::is_same_v<T, SearchResultClick> || std::is_same_v<T, RecoClick>) {
            ItemRef r = intern(e.item_id);
            ++counters[r].clicks;
            remember(p, seq, ts, r, ev.type(), 1);
          }
          // PageVisit, HomePageView, CartPageView, CheckoutStart: the profile touch above.
        }
      },
      ev.body);
}

State::State() : rep_(std::make_unique<Rep>()) {}
State::~State() = default;
State::State(State&&) noexcept = default;
State& State::operator=(State&&) noexcept = default;

void State::apply(uint64_t seq, const Event& event) {
  if (event.event_id) {
    const EventIdKey key = event_id_key(*event.event_id);
    return apply(seq, event, &key);
  }
  apply(seq, event, nullptr);
}

void State::apply(uint64_t seq, const Event& event, const EventIdKey* id_key) {
  assert(seq == rep_->last_seq + 1);
  assert((id_key != nullptr) == event.event_id.has_value());
  assert(event.timestamp_ms.has_value());
  Rep& r = *rep_;
  const int64_t ts = event.timestamp_ms.value_or(r.last_ts);
  r.last_seq = seq;
  r.last_ts = ts;
  ++r.event_counts[static_cast<size_t>(event.type()) - 1];
  if (id_key) r.event_ids.try_emplace(*id_key, seq);
  r.apply(seq, ts, event);
}

uint64_t State::last_seq() const { return rep_->last_seq; }
int64_t State::last_timestamp_ms() const { return rep_->last_ts; }

std::optional<uint64_t> State::seq_of_event_id(std::string_view event_id) const {
  return seq_of_event_key(event_id_key(event_id));
}
std::optional<uint64_t> State::seq_of_event_key(const EventIdKey& key) const {
  auto it = rep_->event_ids.find(key);
  if (it == rep_->event_ids.end()) return std::nullopt;
  return it->second;
}
void State::prefetch_event_key(const EventIdKey& key) const { rep_->event_ids.prefetch(key); }

const Item* State::item(std::string_view id) const {
  auto it = rep_->item_refs.find(av(id));
  if (it == rep_->item_refs.end() || !rep_->items[it->second]) return nullptr;
  return &*rep_->items[it->second];
}
std::optional<ItemRef> State::item_ref(std::string_view id) const {
  auto it = rep_->item_refs.find(av(id));
  if (it == rep_->item_refs.end()) return std::nullopt;
  return it->second;
}
const std::string& State::item_id(ItemRef ref) const { return rep_->item_ids[ref]; }
size_t State::item_refs() const { return rep_->item_ids.size(); }
const Item* State::item_at(ItemRef ref) const {
  return ref < rep_->items.size() && rep_->items[ref] ? &*rep_->items[ref] : nullptr;
}
const ItemCounters* State::item_counters(ItemRef ref) const {
  return ref < rep_->counters.size() ? &rep_->counters[ref] : nullptr;
}
size_t State::item_count() const { return rep_->live_items; }

void State::newest_items(const std::function<bool(ItemRef, const Item&)>& fn) const {
  for (auto it = rep_->created.rbegin(); it != rep_->created.rend(); ++it) {
    if (rep_->created_live(*it) && !fn(it->second, *rep_->items[it->second])) return;
  }
}

void State::for_each_item(const std::function<void(const std::string&, const Item&)>& fn) const {
  std::vector<ItemRef> live;
  live.reserve(rep_->live_items);
  for (ItemRef r = 0; r < rep_->items.size(); ++r) {
    if (rep_->items[r]) live.push_back(r);
  }
  std::sort(live.begin(), live.end(),
            [&](ItemRef a, ItemRef b) { return rep_->item_ids[a] < rep_->item_ids[b]; });
  for (ItemRef r : live) fn(rep_->item_ids[r], *rep_->items[r]);
}

std::string State::profile_key(const UserRef& user) const {
  if (user.user_id) return account_key(*user.user_id);
  if (auto it = rep_->visitor_user.find(user.visitor_id); it != rep_->visitor_user.end()) {
    return account_key(it->second);
  }
  return visitor_key(user.visitor_id);
}
const Profile* State::profile(std::string_view key) const {
  auto it = rep_->profiles.find(av(key));
  return it == rep_->profiles.end() ? nullptr : &it->second;
}
const Account* State::account(std::string_view user_id) const {
  auto it = rep_->accounts.find(av(user_id));
  return it == rep_->accounts.end() ? nullptr : &it->second;
}
size_t State::profile_count() const { return rep_->profiles.size(); }
size_t State::account_count() const { return rep_->accounts.size(); }
const std::map<std::string, SynonymsUpsert>& State::synonyms() const { return rep_->synonyms; }
const std::map<std::string, PlacementUpsert>& State::placements() const {
  return rep_->placements;
}
const RankingUpsert& State::ranking() const { return rep_->ranking; }
const SearchSettingsUpsert& State::search_settings() const { return rep_->search_settings; }
const std::map<std::string, AttributeSetting>& State::attribute_settings() const {
  return rep_->attribute_settings;
}
const std::map<std::string, SearchedQuery>& State::searched_queries() const {
  return rep_->searched_queries;
}
const std::map<std::string, std::vector<ItemRef>>& State::offline_recommendations() const {
  return rep_->offline;
}
uint64_t State::event_count(EventType type) const {
  const auto i = static_cast<size_t>(type);
  return i >= 1 && i <= kEventTypeCount ? rep_->event_counts[i - 1] : 0;
}
uint64_t State::total_events() const { return rep_->last_seq; }
uint64_t State::orders() const { return rep_->orders; }

std::string State::encode() const {
  archive::Writer w;
  uint32_t version = kEncodingVersion;
  archive::io(w, version);
  rep_->io(w);
  return std::move(w.out);
}

Result<State> State::decode(std::string_view bytes) {
  archive::Reader r(bytes);
  uint32_t version = 0;
  archive::io(r, version);
  if (r.failed || version != kEncodingVersion) {
    return Status::corruption("state encoding version " + std::to_string(version) +
                              " is not the supported " + std::to_string(kEncodingVersion));
  }
  State s;
  s.rep_->io(r);
  if (r.failed || !r.at_end()) return Status::corruption("state encoding is truncated or damaged");
  Rep& rep = *s.rep_;
  if (rep.items.size() != rep.item_ids.size() || rep.counters.size() != rep.item_ids.size()) {
    return Status::corruption("state encoding has inconsistent item tables");
  }
  // apply() indexes event_counts by type and readers index item tables by ref: sizes and
  // refs read from the bytes must be checked here, or a bad encoding becomes a bad write.
  if (rep.event_counts.size() != kEventTypeCount) {
    return Status::corruption("state encoding has " + std::to_string(rep.event_counts.size()) +
                              " event counters, expected " + std::to_string(kEventTypeCount));
  }
  for (ItemRef i = 0; i < rep.item_ids.size(); ++i) rep.item_refs[rep.item_ids[i]] = i;
  for (ItemRef i = 0; i < rep.items.size(); ++i) {
    if (rep.items[i]) rep.created.emplace_back(rep.items[i]->created_seq, i);
  }
  std::sort(rep.created.begin(), rep.created.end());
  const size_t n = rep.item_ids.size();
  bool refs_ok = rep.item_refs.size() == n &&
                 rep.live_items == static_cast<uint64_t>(std::count_if(
                                       rep.items.begin(), rep.items.end(),
                                       [](const auto& item) { return item.has_value(); }));
  for (const auto& [key, p] : rep.profiles) {
    for (const auto& h : p.history) refs_ok &= h.item < n;
    if (!p.cart.empty()) refs_ok &= p.cart.rbegin()->first < n;
    if (!p.ratings.empty()) refs_ok &= p.ratings.rbegin()->first < n;
    for (const auto& [name, list] : p.lists) refs_ok &= list.empty() || *list.rbegin() < n;
  }
  for (const auto& [key, list] : rep.offline) {
    for (ItemRef r : list) refs_ok &= r < n;
  }
  if (!refs_ok) return Status::corruption("state encoding refers to items it does not hold");
  // Enums read from the bytes index name tables (strategy_name() serving a placement): only
  // the values an event can carry are accepted. Strategy::kNewArrivals is the last one.
  bool enums_ok = true;
  for (const auto& [id, p] : rep.placements) {
    enums_ok &= static_cast<unsigned>(p.strategy) <=
                static_cast<unsigned>(Strategy::kNewArrivals);
  }
  for (const auto& [key, p] : rep.profiles) {
    for (const auto& h : p.history) {
      enums_ok &= h.kind != EventType::kNone && static_cast<size_t>(h.kind) <= kEventTypeCount;
    }
  }
  const SearchSettingsUpsert& ss = rep.search_settings;
  enums_ok &= !ss.signal || static_cast<unsigned>(*ss.signal) <=
                                static_cast<unsigned>(RankingSignal::kAttribute);
  enums_ok &= !ss.signal_order ||
              static_cast<unsigned>(*ss.signal_order) <= static_cast<unsigned>(SignalOrder::kAsc);
  if (ss.searchable_fields) {
    for (const SearchableField& f : *ss.searchable_fields) {
      enums_ok &= static_cast<unsigned>(f.field) <= static_cast<unsigned>(SearchField::kDescription);
    }
  }
  for (const auto& [name, a] : rep.attribute_settings) {
    enums_ok &= static_cast<unsigned>(a.type) <= static_cast<unsigned>(AttributeType::kGeoPoint);
  }
  if (!enums_ok) return Status::corruption("state encoding holds an unknown enum value");
  return s;
}

std::string State::digest() const {
  const std::string bytes = encode();
  const XXH128_hash_t h = XXH3_128bits(bytes.data(), bytes.size());
  char hex[33];
  std::snprintf(hex, sizeof hex, "%016llx%016llx", static_cast<unsigned long long>(h.high64),
                static_cast<unsigned long long>(h.low64));
  return hex;
}

size_t State::memory_bytes() const {
  const Rep& r = *rep_;
  size_t n = sizeof(Rep);
  for (const auto& id : r.item_ids) n += sizeof(std::string) + id.capacity() + 16;
  for (const auto& item : r.items) {
    n += sizeof(std::optional<Item>);
    if (item) {
      const auto& d = item->data;
      n += d.title.capacity() + d.id.capacity();
      if (d.description) n += d.description->capacity();
      if (d.categories) for (const auto& c : *d.categories) n += sizeof c + c.capacity();
      if (d.tags) for (const auto& t : *d.tags) n += sizeof t + t.capacity();
    }
  }
  n += r.counters.capacity() * sizeof(ItemCounters);
  for (const auto& [k, p] : r.profiles) {
    n += sizeof(k) + k.capacity() + sizeof(Profile) + 16;
    n += p.history.capacity() * sizeof(Interaction);
    n += p.cart.size() * 48 + p.ratings.size() * 48;
    for (const auto& [name, items] : p.lists) n += 64 + name.capacity() + items.size() * 40;
  }
  for (const auto& [k, v] : r.visitor_user) n += 2 * sizeof(std::string) + k.capacity() + v.capacity();
  for (const auto& [k, a] : r.accounts) n += sizeof(k) + k.capacity() + sizeof(Account) + a.visitors.size() * 64;
  n += r.event_ids.capacity() * (sizeof(EventIdKey) + sizeof(uint64_t) + 1);
  for (const auto& [q, c] : r.searched_queries) n += 64 + q.capacity() + sizeof c;
  return n;
}

}  // namespace trove
