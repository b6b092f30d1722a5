// Hand-built event histories for the recommend tests: Feed collects events with increasing
// timestamps (one minute apart, or from a chosen day) and folds them into RecoModels, or
// ingests them into a Store.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "trove/data/events.h"
#include "trove/recommend/models.h"

namespace trove::test {

// prefix + n, in steps (GCC 12 warns falsely on `"lit" + std::to_string(n)`).
inline std::string numbered(std::string_view prefix, int n) {
  std::string s(prefix);
  s += std::to_string(n);
  return s;
}

class Feed {
 public:
  static constexpr int64_t kStart = 1'700'000'000'000;  // 2023-11-14
  static constexpr int64_t kDay = 86'400'000;

  Feed& at_day(int day) {
    ts_ = kStart + day * kDay;
    return *this;
  }
  Feed& view(const std::string& visitor, const std::string& item) {
    return add(DetailItemView{visitor_ref(visitor), item});
  }
  Feed& view_as(const std::string& visitor, const std::string& user, const std::string& item) {
    UserRef u = visitor_ref(visitor);
    u.user_id = user;
    return add(DetailItemView{u, item});
  }
  Feed& view_private(const std::string& visitor, const std::string& item) {
    UserRef u = visitor_ref(visitor);
    u.personalized = false;
    return add(DetailItemView{u, item});
  }
  Feed& cart(const std::string& visitor, const std::string& item) {
    AddToCart a;
    a.user = visitor_ref(visitor);
    a.item_id = item;
    return add(a);
  }
  Feed& remove(const std::string& visitor, const std::string& item) {
    RemoveFromCart r;
    r.user = visitor_ref(visitor);
    r.item_id = item;
    return add(r);
  }
  Feed& buy(const std::string& visitor, const std::string& order,
            const std::vector<std::string>& items) {
    PurchaseComplete p;
    p.user = visitor_ref(visitor);
    p.order_id = order;
    for (const auto& i : items) p.lines.push_back({i, 1, 1.0});
    return add(p);
  }
  Feed& rate(const std::string& visitor, const std::string& item, double stars) {
    RateItem r;
    r.user = visitor_ref(visitor);
    r.item_id = item;
    r.rating = stars;
    return add(r);
  }
  Feed& merge(const std::string& visitor, const std::string& user) {
    return add(UserMerge{visitor, user});
  }
  Feed& forget_user(const std::string& user) {
    UserForget f;
    f.user_id = user;
    return add(f);
  }
  Feed& forget_visitor(const std::string& visitor) {
    UserForget f;
    f.visitor_id = visitor;
    return add(f);
  }
  Feed& item(const std::string& id, const std::string& title,
             std::optional<std::string> category = std::nullopt, std::optional<bool> in_stock = {}) {
    ItemUpsert u;
    u.id = id;
    u.title = title;
    if (category) u.categories = std::vector<std::string>{*category};
    u.in_stock = in_stock;
    return add(u);
  }
  Feed& add(EventBody body) {
    Event e;
    e.body = std::move(body);
    e.timestamp_ms = ts_;
    ts_ += 60'000;
    events_.push_back(std::move(e));
    return *this;
  }

  const std::vector<Event>& events() const { return events_; }
  RecoModels build(RecommendOptions opts = {}) const {
    RecoModels m(opts);
    uint64_t seq = 0;
    for (const auto& e : events_) m.apply(++seq, e);
    return m;
  }

 private:
  static UserRef visitor_ref(const std::string& visitor) {
    UserRef u;
    u.visitor_id = visitor;
    return u;
  }
  int64_t ts_ = kStart;
  std::vector<Event> events_;
};

}  // namespace trove::test
