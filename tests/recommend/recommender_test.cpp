// Recommender over a real Store in a temp dir: built from the journal and kept in step,
// catalog filters and exclusions, fallbacks (cold start, new item), placements and offline
// lists, personalized:false, exact forget (digest equal to a journal without the person),
// and personalized search re-ranking.
#include "trove/recommend/recommender.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "reco_shop.h"
#include "recommend_fixture.h"
#include "trove/index/catalog_index.h"
#include "trove/index/filter.h"
#include "test_util.h"

using namespace trove;
using namespace trove::test;

using namespace trove::test::reco;


TEST_CASE("the recommender builds from the journal and follows new events", "[recommend]") {
  Shop shop;
  Feed f = catalog();
  for (int i = 0; i < 3; ++i) f.view(numbered("v", i), "mug-red").view(numbered("v", i), "tea-green");
  f.view("v9", "mug-red").view("v9", "mug-gone").view("v9", "tea-black");
  shop.ingest(f);
  CHECK(ids(shop.reco->similar(for_item("mug-red"))) ==
        std::vector<std::string>{"tea-green", "tea-black"});  // mug-gone: out of stock
  // The same answer after a restart (models folded from the journal) and the same digest.
  const std::string digest = shop.reco->digest();
  shop.reopen();
  CHECK(shop.reco->digest() == digest);
  CHECK(ids(shop.reco->similar(for_item("mug-red"))) ==
        std::vector<std::string>{"tea-green", "tea-black"});
  // New events arrive through the listener.
  Feed more;
  more.at_day(1);
  for (int i = 0; i < 5; ++i) more.view(numbered("w", i), "mug-red").view(numbered("w", i), "tea-black");
  shop.ingest(more);
  CHECK(ids(shop.reco->similar(for_item("mug-red")))[0] == "tea-black");
  CHECK(shop.reco->digest() != digest);
}

TEST_CASE("filters, exclusions and counts apply, bad requests name the field", "[recommend]") {
  Shop shop;
  Feed f = catalog();
  for (int i = 0; i < 3; ++i) {
    const std::string v = numbered("v", i);
    f.view(v, "mug-red").view(v, "tea-green").view(v, "mug-blue").view(v, "tea-black");
  }
  shop.ingest(f);
  RecoRequest q = for_item("mug-red");
  q.filters.category = "Food";
  auto food = ids(shop.reco->similar(q));
  CHECK(std::set<std::string>(food.begin(), food.end()) == std::set<std::string>{"tea-green", "tea-black"});
  q.exclude = {"tea-green"};
  CHECK(ids(shop.reco->similar(q)) == std::vector<std::string>{"tea-black"});
  CHECK(ids(shop.reco->similar(for_item("mug-red", 1))).size() == 1);
  auto zero = shop.reco->similar(for_item("mug-red", 0));
  REQUIRE(zero.status().code() == StatusCode::kInvalidArgument);
  CHECK(zero.status().to_string().find("count") != std::string::npos);
  CHECK(shop.reco->similar(for_item("nope")).status().code() == StatusCode::kNotFound);
  CHECK(shop.reco->similar(RecoRequest{}).status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("cold start: a new person gets popular items, a new item its category's",
          "[recommend]") {
  Shop shop;
  Feed f = catalog();
  for (int i = 0; i < 4; ++i) f.view(numbered("v", i), "tea-black");
  f.view("v0", "mug-blue").view("v1", "mug-blue").view("v2", "mug-red");
  shop.ingest(f);
  auto fresh = shop.reco->for_you(for_visitor("stranger", 2));
  CHECK(ids(fresh) == std::vector<std::string>{"tea-black", "mug-blue"});
  CHECK(fresh->source == "popularity");
  // The new teapot has no interactions: the popular items of its top category (Kitchen).
  auto pot = shop.reco->similar(for_item("new-pot", 2));
  CHECK(ids(pot) == std::vector<std::string>{"mug-blue", "mug-red"});
  CHECK(pot->source == "category-popularity");
  // More than its category holds: everyone's popular items after them.
  auto pot5 = shop.reco->similar(for_item("new-pot", 5));
  CHECK(ids(pot5) == std::vector<std::string>{"mug-blue", "mug-red", "tea-black"});
  CHECK(pot5->source == "category-popularity+popularity");
  // A new item without a category: everyone's popular items, never an empty answer.
  Feed bare;
  bare.item("bare", "Uncategorized thing");
  shop.ingest(bare);
  auto odd = shop.reco->similar(for_item("bare", 2));
  CHECK(ids(odd) == std::vector<std::string>{"tea-black", "mug-blue"});
  CHECK(odd->source == "popularity");
  CHECK(shop.reco->bought_together(for_item("bare", 2))->source == "popularity");
  // Someone who saw only a mug is offered the popular items of Kitchen first.
  Feed g;
  g.at_day(1).view("mugger", "mug-red");
  shop.ingest(g);
  auto mine = shop.reco->for_you(for_visitor("mugger", 10));
  REQUIRE_FALSE(mine->items.empty());
  CHECK(mine->personalized);
}

TEST_CASE("placements name a strategy, a count and filters, offline lists come first",
          "[recommend]") {
  Shop shop;
  Feed f = catalog();
  for (int i = 0; i < 3; ++i) f.view(numbered("v", i), "tea-black").view(numbered("v", i), "mug-red");
  f.view("v9", "tea-green");
  PlacementUpsert p;
  p.id = "home-teas";
  p.strategy = Strategy::kTrending;
  p.count = 1;
  p.filters = PlacementFilters{};
  p.filters->category = "Food";
  f.add(p);
  shop.ingest(f);
  CHECK(ids(shop.reco->placement("home-teas", RecoRequest{})) == std::vector<std::string>{"tea-black"});
  CHECK(shop.reco->placement("nope", RecoRequest{}).status().code() == StatusCode::kNotFound);

  Feed g;
  OfflineRecommendationsUpsert off;
  off.scope = RecoScope::kGlobal;
  off.key = "*";
  off.placement_id = "home-teas";
  off.item_ids = {"tea-green", "mug-gone"};
  g.at_day(1).add(off);
  shop.ingest(g);
  auto served = shop.reco->placement("home-teas", RecoRequest{});
  CHECK(ids(served) == std::vector<std::string>{"tea-green"});
  CHECK(served->source == "offline");
}

TEST_CASE("personalized:false people get no personal output", "[recommend]") {
  Shop shop;
  Feed f = catalog();
  for (int i = 0; i < 3; ++i) f.view(numbered("v", i), "mug-red").view(numbered("v", i), "tea-green");
  f.view_private("shy", "mug-red");
  shop.ingest(f);
  auto shy = shop.reco->for_you(for_visitor("shy"));
  REQUIRE(shy.ok());
  CHECK_FALSE(shy->personalized);
  CHECK(shy->source == "popularity");
  CHECK(shop.reco->recently_viewed(for_visitor("shy"))->items.empty());
  auto v0 = shop.reco->recently_viewed(for_visitor("v0"));
  CHECK(ids(v0) == std::vector<std::string>{"tea-green", "mug-red"});
}

TEST_CASE("UserForget leaves the models exactly as a journal without the person's events",
          "[recommend]") {
  // The same shop twice: with bob (as a visitor, then merged, then as the account) and a
  // forget, and without any of bob's events.
  auto history = [](bool with_bob) {
    Feed f = catalog();
    for (int i = 0; i < 3; ++i) f.view(numbered("v", i), "mug-red").view(numbered("v", i), "tea-green");
    if (with_bob) {
      f.view("bob-phone", "mug-blue").view("bob-phone", "tea-black");
      f.merge("bob-phone", "bob");
      f.view_as("bob-laptop", "bob", "mug-red");
      f.buy("bob-laptop", "o1", {"tea-black", "mug-blue"});
    }
    f.at_day(1).view("v0", "tea-black");  // the same times with or without bob's events
    if (with_bob) f.forget_user("bob");
    f.at_day(2).view("v1", "mug-blue");  // after the forget: kept
    return f;
  };
  Shop with, without;
  with.ingest(history(true));
  without.ingest(history(false));
  with.reco->wait_for_forgets();  // the rebuild runs on its own thread
  CHECK(with.reco->rebuilds() == 1);
  CHECK(with.reco->forget_status().ok());
  CHECK(with.reco->digest() == without.reco->digest());
  // Bob's pairs are gone: mug-blue and tea-black were only ever bought together by him, so
  // bought together falls back to the category, then everyone's popular items.
  CHECK(with.reco->bought_together(for_item("mug-blue"))->source ==
        "category-popularity+popularity");
  CHECK(with.reco->for_you(for_visitor("bob-phone"))->source == "popularity");
  // A restart rebuilds the same way from the journal.
  with.reopen();
  CHECK(with.reco->digest() == without.reco->digest());
}

TEST_CASE("events ingested while a forget rebuilds are folded into the rebuilt models",
          "[recommend]") {
  // A journal large enough that the background replay takes a while, then a forget followed
  // at once by more events, one small commit each: the same models as without bob.
  auto before = [](bool with_bob) {
    Feed f = catalog();
    for (int i = 0; i < 20000; ++i) {
      f.view(numbered("v", i % 300), i % 2 ? "mug-red" : "tea-green").view(numbered("v", i % 300), "tea-black");
    }
    if (with_bob) f.view_as("bob-laptop", "bob", "mug-blue").view_as("bob-laptop", "bob", "tea-black");
    return f;
  };
  Shop with, without;
  with.ingest(before(true));
  without.ingest(before(false));
  with.ingest(Feed().forget_user("bob"));
  for (int i = 0; i < 30; ++i) {
    Feed more;
    more.at_day(1 + i).view(numbered("w", i), "mug-blue").view(numbered("w", i), "tea-green");
    with.ingest(more);
    without.ingest(more);
  }
  RecoRequest bob;
  bob.user_id = "bob";
  CHECK_FALSE(with.reco->for_you(bob)->personalized);  // withheld, or forgotten
  with.reco->wait_for_forgets();
  CHECK(with.reco->forget_status().ok());
  CHECK(with.reco->rebuilds() >= 1);
  CHECK(with.reco->digest() == without.reco->digest());
}

TEST_CASE("a forget whose rebuild cannot read the journal withholds the person's output, says "
          "so, and is done by a later commit",
          "[recommend]") {
  Shop shop;
  Feed f = catalog();
  for (int i = 0; i < 3; ++i) f.view(numbered("v", i), "mug-red").view(numbered("v", i), "tea-green");
  f.view_as("bob-laptop", "bob", "mug-blue").view_as("bob-laptop", "bob", "tea-black");
  shop.ingest(f);
  RecoRequest bob;
  bob.user_id = "bob";
  REQUIRE(shop.reco->for_you(bob)->personalized);
  CHECK(shop.reco->forget_status().ok());

  // The journal's directory out of the way: the Store keeps appending to its open file, but a
  // rebuild (which reads the journal by name) fails.
  const std::string journal = shop.store->data_dir() + "/journal";
  REQUIRE(std::rename(journal.c_str(), (journal + ".away").c_str()) == 0);
  shop.ingest(Feed().forget_user("bob"));
  shop.reco->wait_for_forgets();
  CHECK(shop.reco->rebuilds() == 0);
  CHECK(shop.reco->rebuild_failures() >= 1);
  const Status st = shop.reco->forget_status();
  CHECK(st.code() == StatusCode::kUnavailable);
  CHECK_THAT(st.message(), Catch::Contains("UserForget"));
  CHECK_FALSE(shop.reco->for_you(bob)->personalized);  // withheld meanwhile
  RecoRequest laptop;
  laptop.visitor_id = "bob-laptop";
  CHECK_FALSE(shop.reco->for_you(laptop)->personalized);

  // Back in place: the next commit's end rebuilds, and the models equal a journal without bob.
  REQUIRE(std::rename((journal + ".away").c_str(), journal.c_str()) == 0);
  shop.ingest(Feed().at_day(1).view("v0", "tea-black"));
  shop.reco->wait_for_forgets();
  CHECK(shop.reco->rebuilds() == 1);
  CHECK(shop.reco->forget_status().ok());
  Shop without;
  Feed g = catalog();
  for (int i = 0; i < 3; ++i) g.view(numbered("v", i), "mug-red").view(numbered("v", i), "tea-green");
  without.ingest(g);
  without.ingest(Feed().at_day(1).view("v0", "tea-black"));
  CHECK(shop.reco->digest() == without.reco->digest());
}

TEST_CASE("personalized search re-ranks the user's affine items up and explains why",
          "[recommend]") {
  Shop shop;
  Feed f = catalog();
  // People who look at green tea look at the blue mug.
  for (int i = 0; i < 4; ++i) f.view(numbered("v", i), "tea-green").view(numbered("v", i), "mug-blue");
  f.view("me", "tea-green");
  shop.ingest(f);
  auto index = CatalogIndex::open(shop.tmp.sub("data/index"));
  REQUIRE(index.ok());
  REQUIRE(index.value()->attach(*shop.store).ok());
  SearchRequest req;
  req.q = "mug";
  req.explain = true;
  auto plain = index.value()->search(req);
  REQUIRE(plain.ok());
  REQUIRE(plain->hits.size() == 3);
  auto mine = shop.reco->search(*index.value(), req, "", "me");
  REQUIRE(mine.ok());
  REQUIRE(mine->hits.size() == 3);
  CHECK(mine->hits[0].id == "mug-blue");
  REQUIRE(mine->hits[0].ranking.size() == 4);
  CHECK(mine->hits[0].ranking[1].first == "affinity");
  CHECK(mine->hits[0].ranking[1].second > 0);
  // No user, an unknown one, or a personalized:false one: the plain order.
  auto order = [](const Result<SearchResponse>& r) {
    std::vector<std::string> v;
    for (const auto& h : r->hits) v.push_back(h.id);
    return v;
  };
  CHECK(order(shop.reco->search(*index.value(), req, "", "")) == order(plain));
  CHECK(order(shop.reco->search(*index.value(), req, "", "stranger")) == order(plain));
  // RankingUpsert can turn affinity off.
  Feed g;
  RankingUpsert rk;
  rk.affinity_weight = 0;
  rk.popularity_weight = 0;
  g.at_day(1).add(rk);
  shop.ingest(g);
  CHECK(order(shop.reco->search(*index.value(), req, "", "me")) == order(plain));
}

TEST_CASE("EASE trains in the background, is swapped in, and for you blends it when asked",
          "[recommend]") {
  TempDir tmp;
  auto store = Store::open(tmp.sub("data"));
  REQUIRE(store.ok());
  Feed f = catalog();
  for (int i = 0; i < 6; ++i) {
    const std::string v = numbered("v", i);
    f.view(v, "mug-red").view(v, "tea-green").buy(v, numbered("o", i), {"mug-blue", "tea-black"});
  }
  f.view("me", "mug-red");
  REQUIRE(store.value()->ingest(f.events()).ok());
  RecommendOptions opts;
  opts.ease_blend = 1.0;
  auto reco = Recommender::open(*store.value(), opts);
  REQUIRE(reco.ok());
  CHECK_FALSE(reco.value()->ease_stats());
  auto before = reco.value()->for_you(for_visitor("me"));
  REQUIRE(before.ok());
  CHECK(before->source.find("ease") == std::string::npos);  // not trained yet
  EaseOptions eo;
  eo.lambda = 1;
  REQUIRE(reco.value()->train_ease(eo).ok());
  reco.value()->wait_for_ease();
  auto stats = reco.value()->ease_stats();
  REQUIRE(stats);
  CHECK(stats->items == 4);
  CHECK(stats->people == 7);  // "me" has one modeled item: a row too
  auto after = reco.value()->for_you(for_visitor("me"));
  REQUIRE(after.ok());
  CHECK(after->source.rfind("co-occurrence+ease", 0) == 0);
  CHECK_FALSE(after->items.empty());
}

namespace {

// One scale: every score in [0, 1], non-increasing, the first 1; every item names its source
// and the answer's source is the runs' sources joined by +.
void check_one_scale(const Result<RecoResponse>& r, const std::string& what) {
  INFO(what);
  INFO(r.status().to_string());
  REQUIRE(r.ok());
  REQUIRE_FALSE(r->items.empty());
  CHECK(r->items[0].score == 1.0);
  std::string runs;
  for (size_t i = 0; i < r->items.size(); ++i) {
    const Recommendation& it = r->items[i];
    INFO(i << ": " << it.id << " score " << it.score << " from " << it.source);
    CHECK(it.score >= 0);
    CHECK(it.score <= 1);
    if (i > 0) CHECK(it.score <= r->items[i - 1].score);
    CHECK_FALSE(it.source.empty());
    if (i == 0 || it.source != r->items[i - 1].source) runs += (runs.empty() ? "" : "+") + it.source;
  }
  CHECK(r->source == runs);
}

}  // namespace

TEST_CASE("every list's scores are on one scale and each item names its source", "[recommend]") {
  // for-you once mixed 1.0, 0.98 (co-occurrence) with 240, 180 (popularity counts) in one list.
  Shop shop;
  Feed f = catalog();
  for (int i = 0; i < 6; ++i) {
    f.view(numbered("v", i), "mug-red").view(numbered("v", i), "tea-green");
    f.buy(numbered("v", i), numbered("o", i), {"tea-black"});
  }
  f.view("v9", "mug-blue").view("v9", "new-pot");
  f.view("me", "mug-red");
  OfflineRecommendationsUpsert off;
  off.scope = RecoScope::kUser;
  off.key = "me";
  off.placement_id = "*";
  off.item_ids = {"new-pot", "mug-blue"};
  f.add(off);
  PlacementUpsert p;
  p.id = "home";
  p.strategy = Strategy::kForYou;
  p.count = 5;
  f.add(p);
  shop.ingest(f);

  // The person's offline list, then co-occurrence, then the popular items: three runs.
  RecoRequest me = for_visitor("me", 5);
  auto mine = shop.reco->for_you(me);
  check_one_scale(mine, "for-you");
  REQUIRE(mine->items.size() == 5);
  CHECK(mine->items[0].source == "offline");
  CHECK(mine->items[1].source == "offline");
  CHECK(mine->items[2].source == "co-occurrence");
  CHECK(mine->source.rfind("offline+co-occurrence+", 0) == 0);
  // Run k of n keeps its band: the offline items above 2/3, the last run at or below 1/3.
  CHECK(mine->items[1].score > 2.0 / 3);
  CHECK(mine->items[2].score <= 2.0 / 3);
  CHECK(mine->items[4].score <= 1.0 / 3);
  check_one_scale(shop.reco->placement("home", me), "placement");
  check_one_scale(shop.reco->for_you(for_visitor("stranger", 5)), "for-you, anonymous");
  check_one_scale(shop.reco->similar(for_item("mug-red", 5)), "similar");
  check_one_scale(shop.reco->similar(for_item("new-pot", 5)), "similar, new item");
  check_one_scale(shop.reco->bought_together(for_item("tea-black", 5)), "bought together");
  check_one_scale(shop.reco->trending(RecoRequest{}), "trending");
  check_one_scale(shop.reco->recently_viewed(for_visitor("v0", 5)), "recently viewed");
}

TEST_CASE("recently viewed keeps what the person went on to buy unless asked to drop it",
          "[recommend]") {
  // Viewed 7, 155 and 611, bought 7 and 155: the list once held only 611.
  Shop shop;
  Feed f;
  for (const char* id : {"i7", "i155", "i611"}) f.item(id, id, "Shop > All");
  f.view("me", "i7").view("me", "i155").view("me", "i611");
  f.buy("me", "o1", {"i7", "i155"});
  f.cart("me", "i611");  // a cart add after the view does not hide it either
  shop.ingest(f);
  RecoRequest me = for_visitor("me");
  const std::vector<std::string> all = ids(shop.reco->recently_viewed(me));
  CHECK(std::set<std::string>(all.begin(), all.end()) == std::set<std::string>{"i7", "i155", "i611"});
  me.drop_bought = true;
  CHECK(ids(shop.reco->recently_viewed(me)) == std::vector<std::string>{"i611"});
  // The same after a restart from the models file and the journal.
  shop.reopen();
  CHECK(ids(shop.reco->recently_viewed(me)) == std::vector<std::string>{"i611"});
  me.drop_bought = false;
  CHECK(ids(shop.reco->recently_viewed(me)).size() == 3);
}

TEST_CASE("for you does not offer again what the person rated, whatever the stars",
          "[recommend]") {
  // A person who had rated 300 films was offered films they had rated, up to 6 in a top 10.
  Shop shop;
  Feed f = catalog();
  for (int i = 0; i < 4; ++i) {
    f.view(numbered("v", i), "mug-red").view(numbered("v", i), "tea-green");
    f.view(numbered("v", i), "tea-black");
  }
  f.view("me", "mug-red").rate("me", "tea-green", 5).rate("me", "tea-black", 1);
  shop.ingest(f);
  auto mine = ids(shop.reco->for_you(for_visitor("me")));
  REQUIRE_FALSE(mine.empty());
  CHECK(std::find(mine.begin(), mine.end(), "tea-green") == mine.end());
  CHECK(std::find(mine.begin(), mine.end(), "tea-black") == mine.end());
  // Others still get them, and so does the person after a restart from the models file.
  auto theirs = ids(shop.reco->for_you(for_visitor("v0")));
  CHECK(std::find(theirs.begin(), theirs.end(), "tea-black") != theirs.end());
  shop.reopen();
  mine = ids(shop.reco->for_you(for_visitor("me")));
  CHECK(std::find(mine.begin(), mine.end(), "tea-green") == mine.end());
}

TEST_CASE("trending lists rising items then popular ones, popular counts a window, new arrivals "
          "come newest first",
          "[recommend]") {
  // Before 2026-12-08 there was no popular or new-arrivals list, and trending was volume.
  Shop shop;
  Feed f = catalog();
  f.at_day(0);
  for (int i = 0; i < 30; ++i) f.view(numbered("old", i), "mug-red");
  f.at_day(10);
  for (int i = 0; i < 5; ++i) f.view(numbered("now", i), "tea-green");
  f.view("now-1", "mug-blue");
  PlacementUpsert week;
  week.id = "popular-today";
  week.strategy = Strategy::kPopular;
  week.count = 3;
  week.window_days = 1;
  f.add(week);
  PlacementUpsert fresh;
  fresh.id = "fresh-kitchen";
  fresh.strategy = Strategy::kNewArrivals;
  fresh.filters = PlacementFilters{};
  fresh.filters->category = "Kitchen";
  f.add(fresh);
  shop.ingest(f);

  // Rising on day 10: tea-green, then mug-blue; the old best-seller only as popular.
  auto trending = shop.reco->trending(RecoRequest{});
  check_one_scale(trending, "trending");
  CHECK(ids(trending) == std::vector<std::string>{"tea-green", "mug-blue", "mug-red"});
  CHECK(trending->source == "trending+popularity");

  RecoRequest all;
  auto popular = shop.reco->popular(all);
  check_one_scale(popular, "popular");
  CHECK(ids(popular) == std::vector<std::string>{"mug-red", "tea-green", "mug-blue"});
  CHECK(popular->strategy == "popular");
  CHECK(popular->source == "popular");
  RecoRequest today;
  today.window_days = 1;
  CHECK(ids(shop.reco->popular(today)) == std::vector<std::string>{"tea-green", "mug-blue"});
  CHECK(ids(shop.reco->placement("popular-today", RecoRequest{})) ==
        std::vector<std::string>{"tea-green", "mug-blue"});
  for (int64_t bad : {int64_t{0}, kMaxWindowDays + 1}) {
    today.window_days = bad;
    auto refused = shop.reco->popular(today);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.status().path() == "window_days");
  }

  // New arrivals: the catalog's order of creation, out-of-stock items left out, filters kept.
  auto arrivals = shop.reco->new_arrivals(RecoRequest{});
  check_one_scale(arrivals, "new arrivals");
  CHECK(ids(arrivals) ==
        std::vector<std::string>{"new-pot", "tea-black", "tea-green", "mug-blue", "mug-red"});
  CHECK(arrivals->source == "new-arrivals");
  CHECK(ids(shop.reco->placement("fresh-kitchen", RecoRequest{})) ==
        std::vector<std::string>{"new-pot", "mug-blue", "mug-red"});
  // An item removed and added again is new again; an update is not.
  Feed g;
  g.add(ItemRemove{"tea-green"}).item("tea-green", "Green tea", "Food > Tea");
  g.item("mug-red", "Red mug, new photo", "Kitchen > Mugs");
  shop.ingest(g);
  RecoRequest two;
  two.count = 2;
  CHECK(ids(shop.reco->new_arrivals(two)) == std::vector<std::string>{"tea-green", "new-pot"});
}

TEST_CASE("similar for an item nobody has seen finds items like it by their text first",
          "[recommend]") {
  // Before 2026-12-08 a new item got only popular items (or, without a category, nothing).
  Shop shop;
  Feed f = catalog();
  for (int i = 0; i < 5; ++i) f.view(numbered("v", i), "mug-red").view(numbered("v", i), "mug-blue");
  f.item("tea-jasmine", "Jasmine green tea");  // no category, no behaviour
  shop.ingest(f);
  auto index = CatalogIndex::open(shop.tmp.sub("data") + "/index", {});
  REQUIRE(index.ok());
  REQUIRE(index.value()->attach(*shop.store).ok());
  REQUIRE(index.value()->flush().ok());

  auto content = shop.reco->similar(for_item("tea-jasmine", 4), index.value().get());
  check_one_scale(content, "similar, new item, with the index");
  CHECK(ids(content) == std::vector<std::string>{"tea-green", "tea-black", "mug-blue", "mug-red"});
  CHECK(content->source == "similar-content+popularity");
  // Without the index: the popular items only, as before.
  auto popular = shop.reco->similar(for_item("tea-jasmine", 4));
  CHECK(popular->source == "popularity");
  // An item with neighbours enough keeps them; the text is not consulted.
  auto seen = shop.reco->similar(for_item("mug-red", 1), index.value().get());
  CHECK(ids(seen) == std::vector<std::string>{"mug-blue"});
  CHECK(seen->source == "co-occurrence");
  // Catalog filters apply to the text's candidates as to any.
  RecoRequest in_food = for_item("tea-jasmine", 4);
  in_food.filters.category = "Food";
  CHECK(ids(shop.reco->similar(in_food, index.value().get())) ==
        std::vector<std::string>{"tea-green", "tea-black"});
}

TEST_CASE("a shop with a catalog and no behaviour yet never answers with nothing",
          "[recommend]") {
  // Until 2026-12-08 every list of such a shop was {"items": [], "source": ""}.
  Shop shop;
  shop.ingest(catalog());
  const std::vector<std::string> newest = {"new-pot", "tea-black", "tea-green", "mug-blue",
                                           "mug-red"};  // mug-gone is out of stock
  auto check = [&](const Result<RecoResponse>& r, const std::string& what,
                   std::vector<std::string> want) {
    INFO(what);
    check_one_scale(r, what);
    CHECK(r->source == "new-arrivals");
    CHECK(ids(r) == want);
  };
  check(shop.reco->for_you(for_visitor("stranger")), "for you", newest);
  check(shop.reco->trending(RecoRequest{}), "trending", newest);
  check(shop.reco->similar(for_item("mug-red")), "similar",
        {"new-pot", "tea-black", "tea-green", "mug-blue"});
  check(shop.reco->bought_together(for_item("new-pot", 2)), "bought together",
        {"tea-black", "tea-green"});
  // Filters still hold; popular stays about behaviour (empty), recently viewed about the person.
  RecoRequest kitchen = for_visitor("stranger");
  kitchen.filters.category = "Kitchen";
  CHECK(ids(shop.reco->for_you(kitchen)) == std::vector<std::string>{"new-pot", "mug-blue", "mug-red"});
  CHECK(ids(shop.reco->popular(RecoRequest{})).empty());
  CHECK(ids(shop.reco->recently_viewed(for_visitor("stranger"))).empty());
  // With the index, similar finds the text's matches first: the other mug.
  auto index = CatalogIndex::open(shop.tmp.sub("data") + "/index", {});
  REQUIRE(index.ok());
  REQUIRE(index.value()->attach(*shop.store).ok());
  auto mugs = shop.reco->similar(for_item("mug-red"), index.value().get());
  REQUIRE_FALSE(mugs->items.empty());
  CHECK(mugs->items[0].id == "mug-blue");
  CHECK(mugs->source == "similar-content");
}

TEST_CASE("recommendations take the filter language and match it as search does", "[recommend]") {
  // The same filter selects the same items in search (an empty query) and in a list that
  // holds the whole catalog (new arrivals, all in stock); brand and category are folded in
  // both (until 2026-12-08 recommendations compared bytes: brand=acme missed "Acmé").
  Shop shop;
  Feed f;
  const char* brands[] = {"Acmé", "ACME", "Maison Dorée", "Zed"};
  const char* cats[] = {"Kitchen > Mugs", "kitchen > Pots", "Food > Tea"};
  for (int i = 0; i < 24; ++i) {
    ItemUpsert u;
    u.id = numbered("item-", i);
    u.title = "Thing " + std::to_string(i);
    u.brand = brands[i % 4];
    u.categories = std::vector<std::string>{cats[i % 3]};
    u.price = 2.0 * i;
    u.attributes = Attributes{{"year", 2000.0 + i}};
    f.add(u);
  }
  shop.ingest(f);
  auto index = CatalogIndex::open(shop.tmp.sub("data") + "/index", {});
  REQUIRE(index.ok());
  REQUIRE(index.value()->attach(*shop.store).ok());
  REQUIRE(index.value()->flush().ok());
  for (const char* text : {"brand = acme", "category = KITCHEN", "brand IN [acme, Zed] AND price < 20",
                           "NOT category = kitchen > mugs OR attributes.year >= 2020",
                           "price = 10..30 AND NOT brand = \"maison doree\""}) {
    INFO(text);
    auto filter = Filter::parse(text);
    REQUIRE(filter.ok());
    RecoRequest q;
    q.count = 100;
    q.filter = *filter;
    std::vector<std::string> reco = ids(shop.reco->new_arrivals(q));
    std::set<std::string> from_reco(reco.begin(), reco.end());
    SearchRequest s;
    s.q = "*";
    s.per_page = 100;
    s.filters = {text};
    auto found = index.value()->search(s);
    REQUIRE(found.ok());
    std::set<std::string> from_search;
    for (const auto& h : found->hits) from_search.insert(h.id);
    CHECK(from_reco == from_search);
    CHECK_FALSE(from_reco.empty());
  }
  // Out-of-stock items come when the filter asks for them (by default they are left out).
  Feed gone;
  ItemUpsert sold_out;
  sold_out.id = "sold-out";
  sold_out.title = "Sold out thing";
  sold_out.in_stock = false;
  gone.add(sold_out);
  shop.ingest(gone);
  RecoRequest stock;
  stock.count = 100;
  CHECK(ids(shop.reco->new_arrivals(stock)).size() == 24);
  stock.filter = *Filter::parse("in_stock = false");
  CHECK(ids(shop.reco->new_arrivals(stock)) == std::vector<std::string>{"sold-out"});
  // The older fields fold too.
  RecoRequest q;
  q.count = 100;
  q.filters.brand = "acme";
  CHECK(ids(shop.reco->new_arrivals(q)).size() == 12);  // Acmé and ACME
  q.filters.brand.reset();
  q.filters.category = "KITCHEN";
  CHECK(ids(shop.reco->new_arrivals(q)).size() == 16);
}
