// State tests: the effect of each event kind on the fold, and the canonical encoding (round
// trip, and decode of truncated or damaged bytes returning Corruption instead of crashing).
#include "trove/data/state.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "trove/data/events.h"
#include "trove/data/generator.h"

namespace {

using trove::Event;
using trove::EventBody;
using trove::EventType;
using trove::State;
using trove::StatusCode;
using trove::UserRef;

constexpr int64_t kStartMs = 1'700'000'000'000;

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

UserRef visitor(const std::string& v) {
  UserRef u;
  u.visitor_id = v;
  return u;
}
UserRef signed_in(const std::string& v, const std::string& user) {
  UserRef u = visitor(v);
  u.user_id = user;
  return u;
}

trove::ItemUpsert item(const std::string& id, const std::string& title) {
  trove::ItemUpsert it;
  it.id = id;
  it.title = title;
  return it;
}

trove::ItemRef ref(const State& s, const std::string& id) {
  auto r = s.item_ref(id);
  REQUIRE(r.has_value());
  return *r;
}

// One event of every kind, so a state touched by them all exercises every table.
std::vector<EventBody> one_of_each_kind() {
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
  };
}

}  // namespace

// ---- catalog ---------------------------------------------------------------------------------

TEST_CASE("item upsert adds an item and a later upsert replaces it but keeps its created seq",
          "[state]") {
  Feed f;
  trove::ItemUpsert a = item("sku-1", "Teapot");
  a.brand = "Acme";
  a.price = 10;
  const uint64_t s1 = f.apply(a);
  const trove::Item* it = f.state.item("sku-1");
  REQUIRE(it != nullptr);
  CHECK(it->data == a);
  CHECK(it->created_seq == s1);
  CHECK(it->updated_seq == s1);
  CHECK(f.state.item_count() == 1);
  CHECK(f.state.item_refs() == 1);
  CHECK(f.state.item_id(ref(f.state, "sku-1")) == "sku-1");

  // An upsert replaces the whole item: fields it leaves out are gone.
  const uint64_t s2 = f.apply(item("sku-1", "Kettle"));
  it = f.state.item("sku-1");
  REQUIRE(it != nullptr);
  CHECK(it->data.title == "Kettle");
  CHECK_FALSE(it->data.brand.has_value());
  CHECK_FALSE(it->data.price.has_value());
  CHECK(it->created_seq == s1);
  CHECK(it->updated_seq == s2);
  CHECK(f.state.item_count() == 1);
  CHECK(f.state.event_count(EventType::kItemUpsert) == 2);
}

TEST_CASE("item patch replaces only the fields present and merges attributes key by key",
          "[state]") {
  Feed f;
  trove::ItemUpsert a = item("sku-1", "Teapot");
  a.brand = "Acme";
  a.price = 10;
  a.attributes = trove::Attributes{{"color", std::string("red")}, {"gift", true}};
  const uint64_t s1 = f.apply(a);

  trove::ItemPatch p;
  p.id = "sku-1";
  p.price = 12.5;
  p.in_stock = false;
  p.attributes = trove::Attributes{{"color", std::string("blue")}, {"size", 3.0}};
  const uint64_t s2 = f.apply(p);

  const trove::Item* it = f.state.item("sku-1");
  REQUIRE(it != nullptr);
  CHECK(it->data.title == "Teapot");
  CHECK(it->data.brand == "Acme");
  CHECK(it->data.price == 12.5);
  CHECK(it->data.in_stock == false);
  const trove::Attributes want{{"color", std::string("blue")}, {"gift", true}, {"size", 3.0}};
  CHECK(it->data.attributes == want);
  CHECK(it->created_seq == s1);
  CHECK(it->updated_seq == s2);

  // Attributes patched onto an item that had none start a fresh map.
  f.apply(item("sku-2", "Kettle"));
  trove::ItemPatch p2;
  p2.id = "sku-2";
  p2.title = "Kettle XL";
  p2.attributes = trove::Attributes{{"size", 2.0}};
  f.apply(p2);
  CHECK(f.state.item("sku-2")->data.title == "Kettle XL");
  CHECK(f.state.item("sku-2")->data.attributes == trove::Attributes{{"size", 2.0}});
}

TEST_CASE("item patch of an unknown or removed item creates nothing", "[state]") {
  Feed f;
  trove::ItemPatch p;
  p.id = "ghost";
  p.title = "Boo";
  f.apply(p);
  CHECK(f.state.item("ghost") == nullptr);
  CHECK_FALSE(f.state.item_ref("ghost").has_value());
  CHECK(f.state.item_count() == 0);

  f.apply(item("sku-1", "Teapot"));
  f.apply(trove::ItemRemove{"sku-1"});
  p.id = "sku-1";
  f.apply(p);
  CHECK(f.state.item("sku-1") == nullptr);
  CHECK(f.state.item_count() == 0);
}

TEST_CASE("item remove drops the item from the catalog but keeps its ref and counters", "[state]") {
  Feed f;
  const uint64_t s1 = f.apply(item("sku-1", "Teapot"));
  f.apply(item("sku-2", "Kettle"));
  f.apply(trove::DetailItemView{visitor("v1"), "sku-1"});
  CHECK(f.state.item_count() == 2);

  f.apply(trove::ItemRemove{"sku-1"});
  CHECK(f.state.item("sku-1") == nullptr);
  CHECK(f.state.item_count() == 1);
  const trove::ItemRef r = ref(f.state, "sku-1");
  CHECK(f.state.item_counters(r)->views == 1);

  // Removing twice, or removing what never existed, does not underflow the count.
  f.apply(trove::ItemRemove{"sku-1"});
  f.apply(trove::ItemRemove{"never"});
  CHECK(f.state.item_count() == 1);

  // Upserted again it is a new item with a new created seq, under the same ref.
  const uint64_t s2 = f.apply(item("sku-1", "Teapot II"));
  REQUIRE(f.state.item("sku-1") != nullptr);
  CHECK(f.state.item("sku-1")->created_seq == s2);
  CHECK(s2 != s1);
  CHECK(ref(f.state, "sku-1") == r);
  CHECK(f.state.item_count() == 2);
}

TEST_CASE("for_each_item visits live items in id order", "[state]") {
  Feed f;
  f.apply(item("b", "B"));
  f.apply(item("c", "C"));
  f.apply(item("a", "A"));
  f.apply(trove::ItemRemove{"c"});
  std::vector<std::string> seen;
  f.state.for_each_item([&](const std::string& id, const trove::Item& it) {
    seen.push_back(id);
    CHECK(it.data.id == id);
  });
  CHECK(seen == std::vector<std::string>{"a", "b"});
}

// ---- search config and placements ------------------------------------------------------------

TEST_CASE("synonyms upsert replaces by id and remove deletes", "[state]") {
  Feed f;
  f.apply(trove::SynonymsUpsert{"s1", std::nullopt, {"t-light", "tealight"}});
  f.apply(trove::SynonymsUpsert{"s2", std::string("cocoa"), {"chocolate"}});
  REQUIRE(f.state.synonyms().size() == 2);
  f.apply(trove::SynonymsUpsert{"s1", std::nullopt, {"lamp", "light"}});
  CHECK(f.state.synonyms().at("s1").synonyms == std::vector<std::string>{"lamp", "light"});
  CHECK(f.state.synonyms().at("s2").input == "cocoa");
  f.apply(trove::SynonymsRemove{"s2"});
  f.apply(trove::SynonymsRemove{"missing"});
  CHECK(f.state.synonyms().size() == 1);
  CHECK(f.state.synonyms().count("s1") == 1);
}

TEST_CASE("ranking upsert changes only the weights present", "[state]") {
  Feed f;
  f.apply(trove::RankingUpsert{1.0, std::nullopt, 0.2, std::nullopt});
  f.apply(trove::RankingUpsert{std::nullopt, 0.5, std::nullopt, std::nullopt});
  const trove::RankingUpsert want{1.0, 0.5, 0.2, std::nullopt};
  CHECK(f.state.ranking() == want);
  f.apply(trove::RankingUpsert{2.0, std::nullopt, std::nullopt, 0.3});
  CHECK(f.state.ranking() == trove::RankingUpsert{2.0, 0.5, 0.2, 0.3});
}

TEST_CASE("placement upsert replaces by id and remove deletes", "[state]") {
  Feed f;
  const trove::PlacementUpsert p1{"home", trove::Strategy::kTrending, 8, std::nullopt};
  trove::PlacementUpsert p2{
      "pdp", trove::Strategy::kSimilar, 6,
      trove::PlacementFilters{std::nullopt, std::string("Acme"), true, std::nullopt, 50.0}};
  f.apply(p1);
  f.apply(p2);
  CHECK(f.state.placements().at("home") == p1);
  CHECK(f.state.placements().at("pdp") == p2);
  p2.count = 3;
  f.apply(p2);
  CHECK(f.state.placements().at("pdp").count == 3);
  f.apply(trove::PlacementRemove{"home"});
  CHECK(f.state.placements().size() == 1);
  CHECK(f.state.placements().count("home") == 0);
}

TEST_CASE("offline lists are keyed by scope, placement and key, and intern their items",
          "[state]") {
  Feed f;
  f.apply(trove::OfflineRecommendationsUpsert{
      trove::RecoScope::kItem, "sku-1", {"x", "y"}, std::string("pdp")});
  f.apply(trove::OfflineRecommendationsUpsert{trove::RecoScope::kGlobal, "*", {"z"}, std::nullopt});
  const auto& off = f.state.offline_recommendations();
  REQUIRE(off.size() == 2);
  REQUIRE(off.count("item/pdp/sku-1") == 1);
  REQUIRE(off.count("global/*/*") == 1);
  const std::vector<trove::ItemRef> xy{ref(f.state, "x"), ref(f.state, "y")};
  CHECK(off.at("item/pdp/sku-1") == xy);
  CHECK(off.at("global/*/*") == std::vector<trove::ItemRef>{ref(f.state, "z")});
  // Interned but not in the catalog.
  CHECK(f.state.item("x") == nullptr);

  // Replacing and removing: the placement is part of the key.
  f.apply(trove::OfflineRecommendationsUpsert{
      trove::RecoScope::kItem, "sku-1", {"z"}, std::string("pdp")});
  CHECK(f.state.offline_recommendations().at("item/pdp/sku-1") ==
        std::vector<trove::ItemRef>{ref(f.state, "z")});
  f.apply(trove::OfflineRecommendationsRemove{trove::RecoScope::kItem, "sku-1", std::nullopt});
  CHECK(f.state.offline_recommendations().size() == 2);
  f.apply(
      trove::OfflineRecommendationsRemove{trove::RecoScope::kItem, "sku-1", std::string("pdp")});
  CHECK(f.state.offline_recommendations().size() == 1);
  CHECK(f.state.offline_recommendations().count("global/*/*") == 1);
}

// ---- users -----------------------------------------------------------------------------------

TEST_CASE("user merge joins the visitor's history, cart, lists and ratings into the account",
          "[state]") {
  Feed f;
  // Anonymous activity of v1.
  const uint64_t view1 = f.apply(trove::DetailItemView{visitor("v1"), "sku-1"});
  f.apply(trove::AddToCart{visitor("v1"), "sku-2", 2, std::nullopt});
  f.apply(trove::AddToList{visitor("v1"), "wishlist", "sku-3"});
  f.apply(trove::RateItem{visitor("v1"), "sku-4", 4});
  // The account already has activity of its own, from another device.
  const uint64_t view2 = f.apply(trove::DetailItemView{signed_in("v2", "u1"), "sku-5"});
  f.apply(trove::AddToCart{signed_in("v2", "u1"), "sku-2", 1, std::nullopt});
  const uint64_t view3 = f.apply(trove::DetailItemView{visitor("v1"), "sku-6"});

  const trove::Profile* before = f.state.profile("v:v1");
  REQUIRE(before != nullptr);
  CHECK(before->events == 5);
  CHECK(f.state.profile("u:u1")->events == 2);

  f.apply(trove::UserMerge{"v1", "u1"});
  CHECK(f.state.profile("v:v1") == nullptr);
  const trove::Profile* p = f.state.profile("u:u1");
  REQUIRE(p != nullptr);
  CHECK(p->events == 7);
  CHECK(p->first_seen_ms == kStartMs);
  // Histories interleave by seq.
  std::vector<uint64_t> seqs;
  for (const auto& i : p->history) seqs.push_back(i.seq);
  REQUIRE(seqs.size() == 6);
  CHECK(seqs.front() == view1);
  CHECK(std::is_sorted(seqs.begin(), seqs.end()));
  CHECK(std::find(seqs.begin(), seqs.end(), view2) != seqs.end());
  CHECK(seqs.back() == view3);
  // Cart quantities add up; lists and ratings move over.
  CHECK(p->cart.at(ref(f.state, "sku-2")) == 3);
  CHECK(p->lists.at("wishlist").count(ref(f.state, "sku-3")) == 1);
  CHECK(p->ratings.at(ref(f.state, "sku-4")) == 4.0f);

  const trove::Account* a = f.state.account("u1");
  REQUIRE(a != nullptr);
  CHECK(a->visitors == std::set<std::string>{"v1", "v2"});
  // Later anonymous events of v1 land on the account.
  CHECK(f.state.profile_key(visitor("v1")) == "u:u1");
  f.apply(trove::HomePageView{visitor("v1")});
  CHECK(f.state.profile("v:v1") == nullptr);
  CHECK(f.state.profile("u:u1")->events == 8);
  CHECK(f.state.profile_count() == 1);
}

TEST_CASE("user merge into an account without a profile moves the visitor profile whole",
          "[state]") {
  Feed f;
  f.apply(trove::DetailItemView{visitor("v1"), "sku-1"});
  f.apply(trove::DetailItemView{visitor("v1"), "sku-2"});
  const trove::Profile moved = *f.state.profile("v:v1");
  f.apply(trove::UserMerge{"v1", "u1"});
  const trove::Profile* p = f.state.profile("u:u1");
  REQUIRE(p != nullptr);
  CHECK(p->events == moved.events);
  CHECK(p->history.size() == moved.history.size());
  CHECK(p->first_seen_ms == moved.first_seen_ms);
  CHECK(p->last_seen_ms == moved.last_seen_ms);
  // Merging again is a no-op for the profiles.
  f.apply(trove::UserMerge{"v1", "u1"});
  CHECK(f.state.profile_count() == 1);
  CHECK(f.state.profile("u:u1")->events == moved.events);
}

TEST_CASE("an event carrying a user_id joins its visitor to the account implicitly", "[state]") {
  Feed f;
  f.apply(trove::DetailItemView{visitor("v1"), "sku-1"});
  f.apply(trove::AddToCart{visitor("v1"), "sku-1", std::nullopt, std::nullopt});
  CHECK(f.state.account("u1") == nullptr);
  f.apply(trove::DetailItemView{signed_in("v1", "u1"), "sku-2"});
  CHECK(f.state.profile("v:v1") == nullptr);
  const trove::Profile* p = f.state.profile("u:u1");
  REQUIRE(p != nullptr);
  CHECK(p->events == 3);
  CHECK(p->history.size() == 3);
  CHECK(p->cart.at(ref(f.state, "sku-1")) == 1);
  REQUIRE(f.state.account("u1") != nullptr);
  CHECK(f.state.account("u1")->visitors.count("v1") == 1);
  CHECK(f.state.profile_key(visitor("v1")) == "u:u1");
  CHECK(f.state.account_count() == 1);
}

TEST_CASE("user upsert records the account's settings", "[state]") {
  Feed f;
  f.apply(trove::UserUpsert{"u1", false, trove::Attributes{{"tier", std::string("gold")}}});
  const trove::Account* a = f.state.account("u1");
  REQUIRE(a != nullptr);
  CHECK(a->personalized == false);
  CHECK(a->attributes == trove::Attributes{{"tier", std::string("gold")}});
  f.apply(trove::UserUpsert{"u1", std::nullopt, std::nullopt});
  CHECK(f.state.account("u1")->personalized == false);
  CHECK(f.state.account("u1")->attributes.has_value());
}

// Regression: a UserUpsert with personalized=false made an empty account profile to hold the
// flag; a merge into it replaced the profile wholesale with the visitor's, dropping the flag,
// so the person's history became usable for personalization against their choice.
TEST_CASE("a merge keeps the account's personalization opt-out", "[state]") {
  for (bool account_has_events : {false, true}) {
    INFO("account has events: " << account_has_events);
    Feed f;
    f.apply(trove::UserUpsert{"u1", false, std::nullopt});
    if (account_has_events) f.apply(trove::HomePageView{signed_in("v0", "u1")});
    f.apply(trove::DetailItemView{visitor("v1"), "sku-1"});
    f.apply(trove::UserMerge{"v1", "u1"});
    const trove::Profile* p = f.state.profile("u:u1");
    REQUIRE(p != nullptr);
    CHECK(p->personalized == false);
    CHECK(p->events == (account_has_events ? 2u : 1u));
    CHECK(p->history.size() == 1);
    // Also through an implicit join.
    f.apply(trove::DetailItemView{visitor("v2"), "sku-2"});
    f.apply(trove::DetailItemView{signed_in("v2", "u1"), "sku-3"});
    CHECK(f.state.profile("u:u1")->personalized == false);
  }
}

TEST_CASE("user forget by user erases the account, its profile, its visitors and mappings",
          "[state]") {
  Feed f;
  f.apply(trove::DetailItemView{visitor("v1"), "sku-1"});
  f.apply(trove::UserMerge{"v1", "u1"});
  f.apply(trove::DetailItemView{signed_in("v2", "u1"), "sku-2"});
  f.apply(trove::DetailItemView{visitor("v3"), "sku-3"});  // unrelated
  f.apply(trove::UserUpsert{"u1", true, std::nullopt});
  REQUIRE(f.state.account("u1") != nullptr);
  REQUIRE(f.state.profile("u:u1") != nullptr);

  f.apply(trove::UserForget{std::string("u1"), std::nullopt});
  CHECK(f.state.account("u1") == nullptr);
  CHECK(f.state.profile("u:u1") == nullptr);
  CHECK(f.state.profile("v:v1") == nullptr);
  CHECK(f.state.profile("v:v2") == nullptr);
  CHECK(f.state.profile_key(visitor("v1")) == "v:v1");
  CHECK(f.state.profile_key(visitor("v2")) == "v:v2");
  CHECK(f.state.profile("v:v3") != nullptr);
  CHECK(f.state.profile_count() == 1);
  CHECK(f.state.account_count() == 0);
  // Aggregate counters are not personal data and stay.
  CHECK(f.state.item_counters(ref(f.state, "sku-1"))->views == 1);

  // A later anonymous event of a forgotten visitor starts from scratch.
  f.apply(trove::HomePageView{visitor("v1")});
  REQUIRE(f.state.profile("v:v1") != nullptr);
  CHECK(f.state.profile("v:v1")->events == 1);
  CHECK(f.state.profile("v:v1")->history.empty());
}

TEST_CASE("user forget by visitor erases its profile and its account mapping", "[state]") {
  Feed f;
  f.apply(trove::DetailItemView{visitor("anon"), "sku-1"});
  f.apply(trove::DetailItemView{signed_in("v1", "u1"), "sku-2"});
  f.apply(trove::DetailItemView{signed_in("v2", "u1"), "sku-3"});

  f.apply(trove::UserForget{std::nullopt, std::string("anon")});
  CHECK(f.state.profile("v:anon") == nullptr);

  f.apply(trove::UserForget{std::nullopt, std::string("v1")});
  CHECK(f.state.profile_key(visitor("v1")) == "v:v1");
  REQUIRE(f.state.account("u1") != nullptr);
  CHECK(f.state.account("u1")->visitors == std::set<std::string>{"v2"});
  CHECK(f.state.profile_key(visitor("v2")) == "u:u1");
  CHECK(f.state.profile("v:v1") == nullptr);

  // Both at once.
  f.apply(trove::DetailItemView{visitor("v9"), "sku-9"});
  f.apply(trove::UserForget{std::string("u1"), std::string("v9")});
  CHECK(f.state.profile("v:v9") == nullptr);
  CHECK(f.state.account("u1") == nullptr);
  CHECK(f.state.profile_count() == 0);
}

// ---- behaviour -------------------------------------------------------------------------------

TEST_CASE(
    "cart add accumulates, remove takes quantities or the line, purchase clears bought "
    "lines",
    "[state]") {
  Feed f;
  const UserRef u = visitor("v1");
  f.apply(trove::AddToCart{u, "sku-1", 2, std::nullopt});
  f.apply(trove::AddToCart{u, "sku-1", std::nullopt, std::nullopt});
  f.apply(trove::AddToCart{u, "sku-2", std::nullopt, 5.0});
  const trove::ItemRef s1 = ref(f.state, "sku-1");
  const trove::ItemRef s2 = ref(f.state, "sku-2");
  CHECK(f.state.profile("v:v1")->cart.at(s1) == 3);
  CHECK(f.state.profile("v:v1")->cart.at(s2) == 1);
  CHECK(f.state.item_counters(s1)->cart_adds == 2);

  f.apply(trove::RemoveFromCart{u, "sku-1", 1});
  CHECK(f.state.profile("v:v1")->cart.at(s1) == 2);
  f.apply(trove::RemoveFromCart{u, "sku-1", 5});
  CHECK(f.state.profile("v:v1")->cart.count(s1) == 0);
  f.apply(trove::RemoveFromCart{u, "sku-3", std::nullopt});  // not in the cart
  f.apply(trove::AddToCart{u, "sku-1", 1, std::nullopt});
  f.apply(trove::RemoveFromCart{u, "sku-1", std::nullopt});  // whole line
  CHECK(f.state.profile("v:v1")->cart.count(s1) == 0);

  f.apply(trove::AddToCart{u, "sku-1", 1, std::nullopt});
  f.apply(trove::PurchaseComplete{
      u,
      "o-1",
      {trove::PurchaseLine{"sku-1", 1, 10.0}, trove::PurchaseLine{"sku-3", 2, 5.0}},
      std::nullopt,
      std::string("EUR")});
  const trove::Profile* p = f.state.profile("v:v1");
  const trove::ItemRef s3 = ref(f.state, "sku-3");
  CHECK(p->cart.count(s1) == 0);
  CHECK(p->cart.at(s2) == 1);  // not bought, stays
  CHECK(p->orders == 1);
  CHECK(p->revenue == 20.0);  // lines summed when revenue is absent
  CHECK(f.state.item_counters(s3)->purchases == 2);
  CHECK(f.state.item_counters(s3)->orders == 1);
  CHECK(f.state.item_counters(s3)->revenue == 10.0);
  CHECK(f.state.item_counters(s1)->revenue == 10.0);
  CHECK(f.state.orders() == 1);

  f.apply(trove::PurchaseComplete{
      u, "o-2", {trove::PurchaseLine{"sku-2", 1, std::nullopt}}, 99.0, std::nullopt});
  p = f.state.profile("v:v1");
  CHECK(p->cart.empty());
  CHECK(p->orders == 2);
  CHECK(p->revenue == 119.0);
  CHECK(f.state.orders() == 2);
  CHECK(f.state.event_count(EventType::kPurchaseComplete) == 2);
}

TEST_CASE("re-rating an item adjusts the rating sum without counting a second rating", "[state]") {
  Feed f;
  f.apply(trove::RateItem{visitor("v1"), "sku-1", 4});
  const trove::ItemRef r = ref(f.state, "sku-1");
  CHECK(f.state.item_counters(r)->rating_count == 1);
  CHECK(f.state.item_counters(r)->rating_sum == 4.0);
  f.apply(trove::RateItem{visitor("v1"), "sku-1", 2});
  CHECK(f.state.item_counters(r)->rating_count == 1);
  CHECK(f.state.item_counters(r)->rating_sum == 2.0);
  CHECK(f.state.profile("v:v1")->ratings.at(r) == 2.0f);
  f.apply(trove::RateItem{visitor("v2"), "sku-1", 5});
  CHECK(f.state.item_counters(r)->rating_count == 2);
  CHECK(f.state.item_counters(r)->rating_sum == 7.0);
  f.apply(trove::RateItem{visitor("v2"), "sku-1", 0.5});
  CHECK(f.state.item_counters(r)->rating_count == 2);
  CHECK(f.state.item_counters(r)->rating_sum == 2.5);
  CHECK(f.state.profile("v:v1")->history.size() == 2);
}

TEST_CASE("lists add and remove items and an emptied list disappears", "[state]") {
  Feed f;
  const UserRef u = visitor("v1");
  f.apply(trove::AddToList{u, "wishlist", "sku-1"});
  f.apply(trove::AddToList{u, "wishlist", "sku-2"});
  f.apply(trove::AddToList{u, "wishlist", "sku-2"});
  f.apply(trove::AddToList{u, "later", "sku-3"});
  const trove::Profile* p = f.state.profile("v:v1");
  CHECK(p->lists.at("wishlist") ==
        std::set<trove::ItemRef>{ref(f.state, "sku-1"), ref(f.state, "sku-2")});
  f.apply(trove::RemoveFromList{u, "wishlist", "sku-1"});
  f.apply(trove::RemoveFromList{u, "wishlist", "never-seen"});
  f.apply(trove::RemoveFromList{u, "no-such-list", "sku-2"});
  p = f.state.profile("v:v1");
  CHECK(p->lists.at("wishlist") == std::set<trove::ItemRef>{ref(f.state, "sku-2")});
  f.apply(trove::RemoveFromList{u, "wishlist", "sku-2"});
  p = f.state.profile("v:v1");
  CHECK(p->lists.count("wishlist") == 0);
  CHECK(p->lists.count("later") == 1);
  CHECK_FALSE(f.state.item_ref("never-seen").has_value());
}

TEST_CASE("history keeps only the most recent kMaxHistory interactions, oldest first", "[state]") {
  Feed f;
  const size_t n = State::kMaxHistory + 57;
  std::vector<uint64_t> seqs;
  for (size_t i = 0; i < n; ++i) {
    seqs.push_back(f.apply(trove::DetailItemView{visitor("v1"), "sku-" + std::to_string(i % 7)}));
    f.apply(trove::HomePageView{visitor("v1")});  // counted, not remembered
  }
  const trove::Profile* p = f.state.profile("v:v1");
  REQUIRE(p->history.size() == State::kMaxHistory);
  CHECK(p->events == 2 * n);
  CHECK(p->history.front().seq == seqs[n - State::kMaxHistory]);
  CHECK(p->history.back().seq == seqs.back());
  CHECK(p->history.back().kind == EventType::kDetailItemView);

  // A merge of two full histories keeps the newest kMaxHistory of the union.
  for (size_t i = 0; i < n; ++i) f.apply(trove::DetailItemView{signed_in("v2", "u1"), "sku-x"});
  const uint64_t last = f.apply(trove::UserMerge{"v1", "u1"}) - 1;
  p = f.state.profile("u:u1");
  REQUIRE(p != nullptr);
  REQUIRE(p->history.size() == State::kMaxHistory);
  CHECK(p->history.back().seq == last);
  CHECK(p->history.front().seq == last - State::kMaxHistory + 1);
}

TEST_CASE("behaviour events update the item counters and the profile clock", "[state]") {
  Feed f;
  UserRef u = visitor("v1");
  u.personalized = false;
  f.apply(trove::DetailItemView{u, "a"});
  f.apply(trove::ItemsView{visitor("v1"), {"a", "b", "b"}, std::nullopt});
  f.apply(trove::SearchQuery{visitor("v1"), "q", std::vector<std::string>{"a"}, std::nullopt});
  f.apply(trove::SearchQuery{visitor("v1"), "q", std::nullopt, std::nullopt});
  f.apply(trove::RecoShow{visitor("v1"), {"b"}, std::nullopt, std::nullopt});
  f.apply(trove::SearchResultClick{visitor("v1"), "q", "a", 0, std::nullopt});
  const uint64_t last =
      f.apply(trove::RecoClick{visitor("v1"), "b", std::nullopt, std::nullopt, std::nullopt});
  const auto* a = f.state.item_counters(ref(f.state, "a"));
  const auto* b = f.state.item_counters(ref(f.state, "b"));
  CHECK(a->views == 1);
  CHECK(a->impressions == 2);
  CHECK(b->impressions == 3);
  CHECK(a->clicks == 1);
  CHECK(b->clicks == 1);
  const trove::Profile* p = f.state.profile("v:v1");
  CHECK(p->events == last);
  CHECK(p->first_seen_ms == kStartMs);
  CHECK(p->last_seen_ms == kStartMs + 1000 * static_cast<int64_t>(last - 1));
  CHECK(p->personalized == false);  // sticks until an event says otherwise
  CHECK(p->history.size() == 3);    // view and two clicks
  CHECK(f.state.item_counters(1000) == nullptr);
  CHECK(f.state.event_count(EventType::kSearchQuery) == 2);
  CHECK(f.state.event_count(EventType::kNone) == 0);
  CHECK(f.state.total_events() == last);
  CHECK(f.state.last_timestamp_ms() == kStartMs + 1000 * static_cast<int64_t>(last - 1));
}

TEST_CASE("an event id remembers the first seq that carried it", "[state]") {
  Feed f;
  const uint64_t s1 = f.apply(trove::HomePageView{visitor("v1")}, "ev-1");
  f.apply(trove::HomePageView{visitor("v1")}, "ev-1");
  f.apply(trove::HomePageView{visitor("v1")});
  CHECK(f.state.seq_of_event_id("ev-1") == s1);
  CHECK_FALSE(f.state.seq_of_event_id("ev-2").has_value());
}

// ---- encoding --------------------------------------------------------------------------------

TEST_CASE("encode then decode gives the same bytes and digest, and the copy folds on alike",
          "[state]") {
  trove::GeneratorOptions g;
  g.seed = 11;
  g.items = 60;
  g.visitors = 40;
  g.behaviour_events = 4000;
  const std::vector<Event> events = trove::generate_events(g);
  const size_t half = events.size() / 2;
  State live;
  for (size_t i = 0; i < half; ++i) live.apply(i + 1, events[i]);

  const std::string bytes = live.encode();
  auto copy = State::decode(bytes);
  REQUIRE(copy.ok());
  CHECK(copy->digest() == live.digest());
  CHECK(copy->encode() == bytes);
  CHECK(copy->last_seq() == live.last_seq());
  CHECK(copy->item_refs() == live.item_refs());
  CHECK(copy->profile_count() == live.profile_count());

  // The decoded copy must have rebuilt its lookup tables: the rest of the events fold the
  // same way on both.
  for (size_t i = half; i < events.size(); ++i) {
    live.apply(i + 1, events[i]);
    copy->apply(i + 1, events[i]);
  }
  CHECK(copy->digest() == live.digest());

  State empty;
  auto empty_copy = State::decode(empty.encode());
  REQUIRE(empty_copy.ok());
  CHECK(empty_copy->digest() == empty.digest());
  CHECK(empty.digest() != live.digest());
  CHECK(empty.digest().size() == 32);
}

TEST_CASE("a state touched by every event kind round-trips through its encoding", "[state]") {
  Feed f;
  for (const auto& body : one_of_each_kind()) f.apply(body, "id-" + std::to_string(f.ts));
  for (size_t t = 1; t <= trove::kEventTypeCount; ++t) {
    CHECK(f.state.event_count(static_cast<EventType>(t)) >= 1);
  }
  auto copy = State::decode(f.state.encode());
  REQUIRE(copy.ok());
  CHECK(copy->digest() == f.state.digest());
}

TEST_CASE("decode of every truncation of an encoding returns Corruption", "[state]") {
  Feed f;
  for (const auto& body : one_of_each_kind()) f.apply(body, "id-" + std::to_string(f.ts));
  const std::string bytes = f.state.encode();
  REQUIRE(State::decode(bytes).ok());
  for (size_t len = 0; len < bytes.size(); ++len) {
    auto r = State::decode(std::string_view(bytes).substr(0, len));
    INFO("length " << len << " of " << bytes.size());
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kCorruption);
  }
  auto longer = State::decode(bytes + '\0');
  REQUIRE_FALSE(longer.ok());
  CHECK(longer.status().code() == StatusCode::kCorruption);
}

TEST_CASE("decode of randomly damaged bytes returns Corruption or a usable state", "[state]") {
  Feed f;
  for (const auto& body : one_of_each_kind()) f.apply(body, "id-" + std::to_string(f.ts));
  const std::string bytes = f.state.encode();
  std::mt19937_64 rng(20240601);
  size_t rejected = 0;
  const int kTrials = 4000;
  for (int t = 0; t < kTrials; ++t) {
    std::string bad = bytes;
    const int flips = 1 + static_cast<int>(rng() % 3);
    for (int i = 0; i < flips; ++i) {
      const size_t at = rng() % bad.size();
      // Mostly single bits (a bad disk), sometimes a whole random byte.
      if (rng() % 2) {
        bad[at] = static_cast<char>(bad[at] ^ (1u << (rng() % 8)));
      } else {
        bad[at] = static_cast<char>(rng());
      }
    }
    auto r = State::decode(bad);
    if (!r.ok()) {
      CHECK(r.status().code() == StatusCode::kCorruption);
      ++rejected;
      continue;
    }
    // Accepted (the damage hit a string or a number): the state must still be safe to use.
    State& s = r.value();
    (void)s.digest();
    (void)s.memory_bytes();
    s.for_each_item([](const std::string&, const trove::Item&) {});
    for (const auto& [key, refs] : s.offline_recommendations()) {
      for (trove::ItemRef i : refs) REQUIRE(i < s.item_refs());
    }
    int64_t ts = kStartMs;
    for (const auto& body : one_of_each_kind()) {
      Event e;
      e.timestamp_ms = ts++;
      e.body = body;
      s.apply(s.last_seq() + 1, e);
    }
    auto again = State::decode(s.encode());
    REQUIRE(again.ok());
    CHECK(again->digest() == s.digest());
  }
  CHECK(rejected > kTrials / 4);
}

// Regression: decode trusted the length of the per-type event counter table, so an encoding
// with a short table decoded fine and the next apply() wrote past the end of the vector.
TEST_CASE("decode rejects an encoding whose event counter table has the wrong length", "[state]") {
  const std::string bytes = State().encode();
  // In an empty state every varint is 0 except the version (1) and the counter table's
  // length; the table is that length byte followed by kEventTypeCount zero counters.
  const size_t at = bytes.find(static_cast<char>(trove::kEventTypeCount));
  REQUIRE(at != std::string::npos);
  REQUIRE(bytes.size() >= at + 1 + trove::kEventTypeCount);

  std::string shorter = bytes;
  shorter.replace(at, 1 + trove::kEventTypeCount, std::string(1, '\0'));
  auto r = State::decode(shorter);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kCorruption);

  std::string longer = bytes;
  longer[at] = static_cast<char>(trove::kEventTypeCount + 1);
  longer.insert(at + 1, 1, '\0');
  auto r2 = State::decode(longer);
  REQUIRE_FALSE(r2.ok());
  CHECK(r2.status().code() == StatusCode::kCorruption);
}

// Regression: decode accepted item refs past the interned ids, which State::item_id() (and
// every reader of histories, carts and offline lists) then indexed out of bounds.
TEST_CASE("decode rejects an encoding that refers to an item ref never interned", "[state]") {
  Feed f;
  f.apply(trove::OfflineRecommendationsUpsert{trove::RecoScope::kGlobal, "*", {"a"}, std::nullopt});
  const std::string bytes = f.state.encode();
  REQUIRE(State::decode(bytes).ok());
  // The offline map entry: key "global/*/*", then the list: length 1, ref 0.
  const std::string key = "global/*/*";
  const size_t at = bytes.find(key);
  REQUIRE(at != std::string::npos);
  const size_t list = at + key.size();
  REQUIRE(bytes.substr(list, 2) == std::string("\x01\x00", 2));
  std::string bad = bytes;
  bad[list + 1] = 5;
  auto r = State::decode(bad);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kCorruption);
}
