// State tests: the effect of each event kind on the fold. The canonical encoding is tested in
// state_encoding_test.cpp.
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
#include "state_fixture.h"

using namespace trove::test::state;


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

TEST_CASE("newest_items walks live items by creation, newest first, through removes and "
          "decoding", "[state]") {
  Feed f;
  f.apply(item("a", "A"));
  f.apply(item("b", "B"));
  f.apply(item("c", "C"));
  f.apply(item("a", "A again"));  // an update: still created first
  f.apply(trove::ItemRemove{"b"});
  f.apply(item("d", "D"));
  f.apply(item("b", "B is back"));  // created anew, so newest
  auto newest = [](const trove::State& s, size_t n) {
    std::vector<std::string> out;
    s.newest_items([&](trove::ItemRef ref, const trove::Item& it) {
      CHECK(s.item_id(ref) == it.data.id);
      out.push_back(it.data.id);
      return out.size() < n;
    });
    return out;
  };
  CHECK(newest(f.state, 10) == std::vector<std::string>{"b", "d", "c", "a"});
  CHECK(newest(f.state, 2) == std::vector<std::string>{"b", "d"});
  auto decoded = trove::State::decode(f.state.encode());
  REQUIRE(decoded.ok());
  CHECK(newest(decoded.value(), 10) == std::vector<std::string>{"b", "d", "c", "a"});
  // Many removes: the stale entries are dropped, the order stays.
  for (int round = 0; round < 3000; ++round) {
    f.apply(trove::ItemRemove{"c"});
    f.apply(item("c", "C"));
  }
  CHECK(newest(f.state, 10) == std::vector<std::string>{"c", "b", "d", "a"});
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

TEST_CASE("history keeps the most recent interactions, kMaxHistory after a trim, oldest first",
          "[state]") {
  Feed f;
  const trove::Profile* p = nullptr;
  std::vector<uint64_t> seqs;
  // Grows to kMaxHistory + kHistorySlack - 1, then the next one trims it back to kMaxHistory.
  const size_t n = State::kMaxHistory + State::kHistorySlack + 3;
  size_t want = 0;
  for (size_t i = 0; i < n; ++i) {
    seqs.push_back(f.apply(trove::DetailItemView{visitor("v1"), "sku-" + std::to_string(i % 7)}));
    f.apply(trove::HomePageView{visitor("v1")});  // counted, not remembered
    if (want == State::kMaxHistory + State::kHistorySlack - 1) want = State::kMaxHistory - 1;
    ++want;
    p = f.state.profile("v:v1");
    REQUIRE(p->history.size() == want);
    REQUIRE(p->history.back().seq == seqs.back());
    REQUIRE(p->history.front().seq == seqs[i + 1 - p->history.size()]);  // contiguous, newest last
  }
  CHECK(p->history.size() == State::kMaxHistory + 3);  // trimmed once, then 3 more
  CHECK(p->events == 2 * n);
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

TEST_CASE("search settings merge field by field and survive encode and decode", "[state]") {
  using trove::RankingSignal;
  using trove::SearchSettingsUpsert;
  State s;
  SearchSettingsUpsert a;
  a.typos = 1;
  a.stopwords = std::vector<std::string>{"the"};
  Event e1;
  e1.body = a;
  s.apply(1, e1);
  SearchSettingsUpsert b;
  b.signal = RankingSignal::kPopularity;
  b.typos = 2;
  Event e2;
  e2.body = b;
  s.apply(2, e2);
  const SearchSettingsUpsert& got = s.search_settings();
  CHECK(got.typos == 2);                                            // replaced
  CHECK(got.stopwords == std::vector<std::string>{"the"});          // kept
  CHECK(got.signal == RankingSignal::kPopularity);                  // added
  CHECK(!got.min_len_1typo);                                        // never set
  auto copy = State::decode(s.encode());
  REQUIRE(copy.ok());
  CHECK(copy->search_settings() == got);
}

TEST_CASE("searched queries count searches that showed items, by their text with spaces tidied",
          "[state]") {
  using trove::SearchQuery;
  State s;
  uint64_t seq = 0;
  auto search = [&](std::string q, std::optional<std::vector<std::string>> shown) {
    Event e;
    e.timestamp_ms = 1000 + static_cast<int64_t>(seq);
    e.body = SearchQuery{visitor("v"), std::move(q), std::move(shown), std::nullopt};
    s.apply(++seq, e);
  };
  search("  red   teapot ", std::vector<std::string>{"a"});
  search("red teapot", std::vector<std::string>{"a", "b"});
  search("red\tteapot", std::vector<std::string>{"b"});
  search("blue teapot", std::vector<std::string>{});  // shown nothing
  search("green teapot", std::nullopt);               // results unknown
  search("   ", std::vector<std::string>{"a"});
  const auto& q = s.searched_queries();
  REQUIRE(q.size() == 1);
  CHECK(q.at("red teapot").count == 3);
  CHECK(q.at("red teapot").last_ms == 1002);  // the third search's
  auto copy = State::decode(s.encode());
  REQUIRE(copy.ok());
  CHECK(copy->searched_queries() == q);
}

TEST_CASE("searched queries stay under their cap: the least searched go first", "[state]") {
  using trove::SearchQuery;
  State s;
  uint64_t seq = 0;
  auto search = [&](const std::string& q) {
    Event e;
    e.body = SearchQuery{visitor("v"), q, std::vector<std::string>{"a"}, std::nullopt};
    s.apply(++seq, e);
  };
  search("popular");
  search("popular");
  for (size_t i = 0; i + 1 < State::kMaxSearchedQueries; ++i) {
    std::string q = "q";  // in steps: GCC 12 warns falsely on "q" + std::to_string(i) here
    q += std::to_string(i);
    search(q);
  }
  CHECK(s.searched_queries().size() == State::kMaxSearchedQueries);
  search("one more");  // over the cap: every query searched once goes
  CHECK(s.searched_queries().size() == 1);
  CHECK(s.searched_queries().at("popular").count == 2);
}

TEST_CASE("searched queries over the cap drop the least searched, ties together, in one pass",
          "[state]") {
  using trove::SearchQuery;
  State s;
  uint64_t seq = 0;
  auto search = [&](const std::string& q, int times) {
    for (int i = 0; i < times; ++i) {
      Event e;
      e.body = SearchQuery{visitor("v"), q, std::vector<std::string>{"a"}, std::nullopt};
      s.apply(++seq, e);
    }
  };
  // Every query searched 3 times but a tenth searched 5 times: reaching the cap drops the
  // threes (and the new query) in one go, the fives stay.
  const size_t n = State::kMaxSearchedQueries;
  for (size_t i = 0; i < n; ++i) {
    std::string q = "q";  // in steps: GCC 12 warns falsely on "q" + std::to_string(i) here
    q += std::to_string(i);
    search(q, i % 10 == 0 ? 5 : 3);
  }
  CHECK(s.searched_queries().size() == n);
  search("one more", 1);
  CHECK(s.searched_queries().size() == n / 10);
  CHECK(s.searched_queries().at("q0").count == 5);
}
