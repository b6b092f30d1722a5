// Helpers the State tests share (state_test.cpp, state_encoding_test.cpp): a Feed that applies
// events with consecutive seqs and a ticking clock, user and item builders, and one event of
// every kind.
#pragma once

#include <catch2/catch.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "trove/data/events.h"
#include "trove/data/state.h"

namespace trove::test::state {

using trove::Event;
using trove::EventBody;
using trove::EventType;
using trove::State;
using trove::StatusCode;
using trove::UserRef;

inline constexpr int64_t kStartMs = 1'700'000'000'000;

// Applies events to a State with consecutive seqs and a clock that ticks 1 s per event.
struct Feed {
  State state;
  int64_t ts = kStartMs;

  uint64_t apply(EventBody body, std::optional<std::string> event_id = std::nullopt) {
    Event e;
    e.event_id = std::move(event_id);
    e.timestamp_ms = ts;
    ts += 1000;
    e.body = std::move(body);
    const uint64_t seq = state.last_seq() + 1;
    state.apply(seq, e);
    return seq;
  }
};

inline UserRef visitor(const std::string& v) {
  UserRef u;
  u.visitor_id = v;
  return u;
}
inline UserRef signed_in(const std::string& v, const std::string& user) {
  UserRef u = visitor(v);
  u.user_id = user;
  return u;
}

inline trove::ItemUpsert item(const std::string& id, const std::string& title) {
  trove::ItemUpsert it;
  it.id = id;
  it.title = title;
  return it;
}

inline trove::ItemRef ref(const State& s, const std::string& id) {
  auto r = s.item_ref(id);
  REQUIRE(r.has_value());
  return *r;
}

// One event of every kind, so a state touched by them all exercises every table.
inline std::vector<EventBody> one_of_each_kind() {
  using namespace trove;
  const UserRef u = visitor("v-all");
  const UserRef a = signed_in("v-all-2", "u-all");
  ItemUpsert up = item("sku-a", "Teapot");
  up.attributes = Attributes{{"color", std::string("red")},
                             {"size", 3.0},
                             {"gift", true},
                             {"tags", std::vector<std::string>{"x", "y"}}};
  ItemPatch patch;
  patch.id = "sku-a";
  patch.price = 12.5;
  return {
      up,
      patch,
      item("sku-b", "Kettle"),
      ItemRemove{"sku-b"},
      SynonymsUpsert{"syn", std::string("cocoa"), {"chocolate"}},
      SynonymsRemove{"syn-none"},
      RankingUpsert{1.0, 0.5, std::nullopt, 0.25},
      PlacementUpsert{"pl", Strategy::kTrending, 4,
                      PlacementFilters{std::string("Kitchen"), std::nullopt, true, 1.0, 99.0}},
      PlacementRemove{"pl-none"},
      OfflineRecommendationsUpsert{RecoScope::kItem, "sku-a", {"sku-c", "sku-d"}, std::nullopt},
      OfflineRecommendationsRemove{RecoScope::kUser, "nobody", std::nullopt},
      UserUpsert{"u-all", true, Attributes{{"tier", std::string("gold")}}},
      UserMerge{"v-all", "u-all"},
      UserForget{std::nullopt, std::string("v-gone")},
      PageVisit{u, "https://shop.example/", std::nullopt},
      HomePageView{u},
      DetailItemView{u, "sku-a"},
      ItemsView{u, {"sku-a", "sku-c"}, std::string("home")},
      ImageInteraction{a, "sku-a", std::nullopt},
      OtherInteraction{a, "share", std::string("sku-c"), 2.0},
      AddToCart{a, "sku-a", 2, 12.5},
      RemoveFromCart{a, "sku-a", 1},
      CartPageView{a, std::vector<std::string>{"sku-a"}},
      CheckoutStart{a, std::vector<std::string>{"sku-a"}, 12.5},
      PurchaseComplete{
          a, "o-1", {PurchaseLine{"sku-a", 1, 12.5}}, std::nullopt, std::string("EUR")},
      AddToList{a, "wishlist", "sku-d"},
      RemoveFromList{a, "wishlist", "sku-c"},
      RateItem{a, "sku-a", 4},
      SearchQuery{u, "teapot", std::vector<std::string>{"sku-a"}, std::nullopt},
      SearchResultClick{u, "teapot", "sku-a", 0, std::nullopt},
      RecoShow{u, {"sku-c"}, std::string("pl"), std::nullopt},
      RecoClick{u, "sku-c", std::string("pl"), std::nullopt, 0},
      SearchSettingsUpsert{1, 5, 9, RankingSignal::kAttribute, std::string("rating"),
                           SignalOrder::kAsc, 0.5, std::vector<std::string>{"the", "de"},
                           std::vector<SearchableField>{{SearchField::kTags, 3}}},
      AttributeSettingsUpsert{{AttributeSetting{"year", AttributeType::kNumber, true, 2, false,
                                                 std::nullopt, true, false},
                               AttributeSetting{"place", AttributeType::kGeoPoint}}},
      AttributeSettingsRemove{{"place"}},
  };
}

}  // namespace trove::test::state
