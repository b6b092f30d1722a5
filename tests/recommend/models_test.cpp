// RecoModels on small hand-built histories with known answers: co-occurrence and its
// normalization, event weights, decay, bought together, exclusions, merge, personalized:false,
// trending, determinism and the forgotten-event filter.
#include "trove/recommend/models.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <thread>
#include <vector>

#include "recommend_fixture.h"
#include "trove/data/generator.h"

using namespace trove;
using namespace trove::test;

namespace {

std::vector<std::string> ids(const RecoModels& m, const std::vector<ScoredItem>& v) {
  std::vector<std::string> out;
  for (const auto& s : v) out.push_back(m.item_id(s.item));
  return out;
}

std::vector<std::string> similar(const RecoModels& m, const std::string& item, size_t n = 10) {
  return ids(m, m.similar(m.item_index(item).value(), n, nullptr));
}

}  // namespace

TEST_CASE("similar items come from shared histories, normalized by popularity", "[recommend]") {
  Feed f;
  f.view("v1", "A").view("v1", "B");
  f.view("v2", "A").view("v2", "B");
  f.view("v3", "A").view("v3", "C");
  // D is seen by many, with A once: raw co-occurrence ties C, but D is popular and damped.
  f.view("v4", "A").view("v4", "D");
  for (int i = 0; i < 20; ++i) f.view(numbered("w", i), "D");
  RecoModels m = f.build();
  CHECK(similar(m, "A") == std::vector<std::string>{"B", "C", "D"});
  CHECK(similar(m, "B") == std::vector<std::string>{"A"});
  CHECK(similar(m, "A", 1) == std::vector<std::string>{"B"});
  // The accept filter removes candidates before the cut.
  auto no_b = m.similar(m.item_index("A").value(), 1,
                        [&](uint32_t i) { return m.item_id(i) != "B"; });
  CHECK(ids(m, no_b) == std::vector<std::string>{"C"});
}

TEST_CASE("a purchase weighs more than a view, a cart in between", "[recommend]") {
  Feed f;
  f.view("v1", "A").view("v1", "V");
  f.view("v2", "A").cart("v2", "K");
  f.view("v3", "A").buy("v3", "o3", {"P"});
  RecoModels m = f.build();
  CHECK(similar(m, "A") == std::vector<std::string>{"P", "K", "V"});
}

TEST_CASE("older co-occurrences decay: the recent pair wins at equal counts", "[recommend]") {
  Feed f;
  f.at_day(0).view("v1", "A").view("v1", "OLD");
  f.at_day(90).view("v2", "A").view("v2", "NEW");
  RecoModels m = f.build();
  CHECK(similar(m, "A") == std::vector<std::string>{"NEW", "OLD"});
  // Trending forgets faster: a burst long ago is no longer trending, a few views now are.
  Feed g;
  g.at_day(0);
  for (int i = 0; i < 10; ++i) g.view(numbered("v", i), "BURST");
  g.at_day(10).view("x", "NOW").view("y", "NOW");
  RecoModels t = g.build();
  CHECK(ids(t, t.trending(2, nullptr)) == std::vector<std::string>{"NOW"});
  CHECK(ids(t, t.popular(2, nullptr)) == std::vector<std::string>{"BURST", "NOW"});
}

TEST_CASE("trending is a rise over the item's own baseline, not volume", "[recommend]") {
  // Until 2026-12-08 trending was decayed volume: 40 fresh views of a new item stayed below
  // best-sellers that sell the same every day (issue 15).
  Feed f;
  for (int day = 0; day < 30; ++day) {
    f.at_day(day);
    for (int i = 0; i < 50; ++i) f.view(numbered("s", day * 50 + i), "STEADY");
    for (int i = 0; i < 30; ++i) f.view(numbered("t", day * 30 + i), "STEADY2");
    if (day < 20) {
      for (int i = 0; i < 30; ++i) f.view(numbered("c", day * 30 + i), "COOLING");
    }
    if (day % 3 == 0) f.view(numbered("r", day), "RARE");
  }
  f.at_day(30);
  for (int i = 0; i < 40; ++i) f.view(numbered("n", i), "NEW");
  f.view("once", "ONCE");
  RecoModels m = f.build();
  const auto trending = m.trending(10, nullptr);
  const std::vector<std::string> rising = ids(m, trending);
  REQUIRE(rising.size() >= 2);
  CHECK(rising[0] == "NEW");
  CHECK(rising[1] == "ONCE");
  // A steady seller is not rising; one that is cooling even less so.
  for (const char* flat : {"STEADY", "STEADY2", "COOLING"}) {
    INFO(flat);
    CHECK(std::find(rising.begin(), rising.end(), flat) == rising.end());
  }
  CHECK(trending[0].score == Approx(18.9).epsilon(0.05));  // (40 - 40/14) / sqrt(40/14 + 1)
  // Volume is popular's job.
  CHECK(ids(m, m.popular(2, nullptr)) == std::vector<std::string>{"STEADY", "STEADY2"});
}

TEST_CASE("popular counts all time or the last N UTC days, in any arrival order",
          "[recommend]") {
  Feed f;
  f.at_day(0);
  for (int i = 0; i < 9; ++i) f.view(numbered("a", i), "OLD");
  f.at_day(20);
  for (int i = 0; i < 4; ++i) f.buy(numbered("b", i), numbered("o", i), {"MONTH"});  // 5 each
  f.at_day(24).view("w1", "WEEK").view("w2", "WEEK").view("w3", "WEEK");
  f.at_day(30).view("t1", "TODAY").view("t3", "TODAY").view("t2", "WEEK");
  // An event stamped a day earlier arrives last (a late mobile client).
  f.at_day(29).view("late", "TODAY");
  RecoModels m = f.build();
  auto popular = [&](int64_t days) { return ids(m, m.popular_within(days, 10, nullptr)); };
  CHECK(popular(0) == std::vector<std::string>{"MONTH", "OLD", "WEEK", "TODAY"});
  CHECK(popular(30) == std::vector<std::string>{"MONTH", "WEEK", "TODAY"});
  // Day 24 is the seventh day back from day 30: in a 7-day window, not in a 6-day one.
  CHECK(popular(7) == std::vector<std::string>{"WEEK", "TODAY"});
  CHECK(popular(6) == std::vector<std::string>{"TODAY", "WEEK"});
  CHECK(popular(1) == std::vector<std::string>{"TODAY", "WEEK"});
  const auto all = m.popular_within(0, 10, nullptr);
  CHECK(all[0].score == 20);  // undecayed: 4 purchases of weight 5
  // Past kMaxWindowDays an item's days are dropped, not its all-time weight.
  Feed g;
  g.at_day(0).view("x", "A");
  g.at_day(200).view("y", "A");
  RecoModels n = g.build();
  CHECK(n.popular_within(0, 1, nullptr)[0].score == 2);
  CHECK(n.popular_within(kMaxWindowDays, 1, nullptr)[0].score == 1);
  // The per-day weights survive the models file.
  auto decoded = RecoModels::decode(m.encode(), RecommendOptions{});
  REQUIRE(decoded.ok());
  CHECK(ids(*decoded, decoded->popular_within(7, 10, nullptr)) == popular(7));
  CHECK(decoded->digest() == m.digest());
}

TEST_CASE("decay stays finite over a century: scores as over the last months alone",
          "[recommend]") {
  // Forward decay's factor doubles every half-life (30 days): 2^1216 after 100 years, past a
  // double's range. Until 2026-12-08 weights became inf and scores NaN after ~84 years.
  constexpr int kCentury = 36'500;
  auto recent = [](Feed& f) {
    f.at_day(kCentury - 60).view("v3", "A").view("v3", "MID");
    f.at_day(kCentury).view("v1", "A").view("v1", "NEW").view("v2", "A").view("v2", "NEW");
    f.buy("v4", "o4", {"A", "NEW"});
  };
  Feed century;
  century.at_day(0).view("v0", "A").view("v0", "OLD").buy("v0", "o0", {"A", "OLD"});
  for (int year = 1; year < 100; ++year) century.at_day(year * 365).view(numbered("y", year), "A");
  recent(century);
  Feed months;
  recent(months);
  const RecoModels m = century.build(), r = months.build();

  const auto a = m.similar(m.item_index("A").value(), 2, nullptr);
  const auto b = r.similar(r.item_index("A").value(), 2, nullptr);
  REQUIRE(ids(m, a) == std::vector<std::string>{"NEW", "MID"});
  REQUIRE(ids(r, b) == std::vector<std::string>{"NEW", "MID"});
  for (const auto& s : a) CHECK(std::isfinite(s.score));
  CHECK(a[1].score / a[0].score == Approx(b[1].score / b[0].score).epsilon(1e-9));
  const auto pop = m.popular(3, nullptr);
  REQUIRE(ids(m, pop) == std::vector<std::string>{"A", "NEW", "MID"});
  for (const auto& s : pop) CHECK(std::isfinite(s.score));
  const auto together = m.bought_together(m.item_index("A").value(), 1, nullptr);
  REQUIRE(ids(m, together) == std::vector<std::string>{"NEW"});
  CHECK(std::isfinite(together[0].score));

  // The rescaling happens at the same event whether rows are updated at once or in a batch.
  RecoModels batched;
  uint64_t seq = 0;
  for (const Event& e : century.events()) batched.apply_deferred(++seq, e);
  batched.flush();
  CHECK(batched.digest() == m.digest());
}

TEST_CASE("bought together pairs items in the same basket and the same cart", "[recommend]") {
  Feed f;
  f.buy("v1", "o1", {"TEA", "POT"});
  f.buy("v2", "o2", {"TEA", "POT", "CUP"});
  f.cart("v3", "TEA").cart("v3", "CUP").cart("v3", "SPOON");
  f.view("v4", "TEA").view("v4", "SUGAR");  // viewing together is not buying together
  RecoModels m = f.build();
  auto bt = ids(m, m.bought_together(m.item_index("TEA").value(), 10, nullptr));
  REQUIRE(bt.size() == 3);
  CHECK(bt[0] == "POT");  // two baskets
  CHECK(bt[1] == "CUP");  // a basket and a cart
  CHECK(std::find(bt.begin(), bt.end(), "SUGAR") == bt.end());
  CHECK(std::find(bt.begin(), bt.end(), "POT") != bt.end());
  CHECK(std::find(bt.begin(), bt.end(), "SPOON") != bt.end());
}

TEST_CASE("for you follows the person's recent items and leaves out what they should not see "
          "again", "[recommend]") {
  Feed f;
  // Others: A goes with B, C with D.
  for (int i = 0; i < 3; ++i) {
    const std::string v = numbered("o", i);
    f.view(v, "A").view(v, "B");
    f.view(numbered("p", i), "C").view(numbered("p", i), "D");
  }
  // Me: saw C, then A: A's neighbour comes first, C's next.
  f.view("me", "C").view("me", "A");
  RecoModels m = f.build();
  auto mine = ids(m, m.for_you("v:me", 2, nullptr));
  CHECK(mine == std::vector<std::string>{"B", "D"});
  CHECK(m.for_you("v:nobody", 10, nullptr).empty());  // cold start is the caller's fallback

  // Bought (not a repeat-buy item) and taken out of the cart: left out.
  f.buy("me", "m1", {"B"});
  f.cart("me", "D").remove("me", "D");
  RecoModels after = f.build();
  auto now = ids(after, after.for_you("v:me", 10, nullptr));
  CHECK(std::find(now.begin(), now.end(), "B") == now.end());
  CHECK(std::find(now.begin(), now.end(), "D") == now.end());
  CHECK(after.excluded_for("v:me", after.item_index("B").value()));
  CHECK(after.excluded_for("v:me", after.item_index("D").value()));
  CHECK_FALSE(after.excluded_for("v:me", after.item_index("A").value()));
  // Added back to the cart: offered again.
  f.cart("me", "D");
  CHECK_FALSE(f.build().excluded_for("v:me", after.item_index("D").value()));

  // Repeat buying typical for an item (its buyers buy it again): it may be offered again.
  Feed g;
  for (int i = 0; i < 5; ++i) {
    const std::string v = numbered("b", i);
    g.buy(v, v + "-1", {"MILK"}).buy(v, v + "-2", {"MILK"}).view(v, "BREAD");
  }
  g.buy("me", "x1", {"MILK"}).view("me", "BREAD");
  RecoModels r = g.build();
  CHECK_FALSE(r.excluded_for("v:me", r.item_index("MILK").value()));
  auto again = ids(r, r.for_you("v:me", 10, nullptr));
  CHECK(std::find(again.begin(), again.end(), "MILK") != again.end());
}

TEST_CASE("a visitor's history joins the account on merge", "[recommend]") {
  Feed f;
  f.view("o1", "A").view("o1", "B");
  f.view("anon", "A");
  f.merge("anon", "alice");
  f.view_as("anon", "alice", "C");  // later events name both
  RecoModels m = f.build();
  CHECK(m.person_key(UserRef{"anon", std::nullopt, std::nullopt, std::nullopt}) == "u:alice");
  auto recent = m.recent_items("u:alice", false);
  REQUIRE(recent.size() == 2);
  CHECK(m.item_id(recent[0]) == "C");
  CHECK(m.item_id(recent[1]) == "A");
  CHECK(m.recent_items("v:anon", false).empty());
  CHECK(m.visitors_of("alice") == std::vector<std::string>{"anon"});
}

TEST_CASE("personalized:false people feed popularity but not others' co-occurrence",
          "[recommend]") {
  Feed f;
  f.view_private("p", "A").view_private("p", "B");
  RecoModels m = f.build();
  CHECK(similar(m, "A").empty());
  CHECK_FALSE(m.personalized("v:p"));
  CHECK(m.popularity(m.item_index("A").value()) > 0);
}

TEST_CASE("the same events give the same models and digest, a different one another",
          "[recommend]") {
  auto feed = [](bool extra) {
    Feed f;
    for (int i = 0; i < 30; ++i) {
      f.view(numbered("v", i % 7), numbered("I", i % 11)).cart(numbered("v", i % 5), numbered("I", i % 3));
    }
    f.buy("v1", "o1", {"I1", "I2"});
    if (extra) f.view("v2", "I9");
    return f.build();
  };
  CHECK(feed(false).digest() == feed(false).digest());
  CHECK(feed(false).digest() != feed(true).digest());
  CHECK(feed(false).memory().per_item > 0);
}

TEST_CASE("deferred row updates flushed in batches of any size give the models apply gives",
          "[recommend]") {
  GeneratorOptions g;
  g.seed = 3;
  g.items = 300;
  g.visitors = 200;
  g.behaviour_events = 60000;
  g.with_event_ids = false;
  const std::vector<Event> events = generate_events(g);
  RecommendOptions o;
  o.max_row = 5;  // rows pruned often: pruning depends on each row's order of updates
  RecoModels one_by_one(o);
  uint64_t seq = 0;
  for (const auto& e : events) one_by_one.apply(++seq, e);
  const std::string want = one_by_one.digest();
  for (size_t batch : {size_t{1}, size_t{7}, size_t{1000}, size_t{65536}, events.size()}) {
    CAPTURE(batch);
    RecoModels m(o);
    seq = 0;
    for (const auto& e : events) {
      m.apply_deferred(++seq, e);
      if (seq % batch == 0) m.flush();
    }
    m.flush();
    CHECK(m.digest() == want);
    const uint32_t i = one_by_one.item_index(one_by_one.item_id(0)).value();
    CHECK(ids(m, m.similar(i, 5, nullptr)) == ids(one_by_one, one_by_one.similar(i, 5, nullptr)));
  }
}

TEST_CASE("a read makes the waiting row updates first, with other readers at once, and "
          "rows_wanted says a read needed them since the last flush",
          "[recommend]") {
  GeneratorOptions g;
  g.seed = 5;
  g.items = 200;
  g.visitors = 100;
  g.behaviour_events = 3000;  // fewer row updates than make a flush on their own
  g.with_event_ids = false;
  const std::vector<Event> events = generate_events(g);
  RecoModels want, m;
  uint64_t seq = 0;
  for (const auto& e : events) {
    want.apply(++seq, e);
    m.apply_deferred(seq, e);
  }
  CHECK_FALSE(m.rows_wanted());
  m.popular(5, nullptr);  // reads no rows
  CHECK_FALSE(m.rows_wanted());
  REQUIRE(m.waiting_updates() > 0);
  {
    // settle() makes them (as the Recommender does after a slice) but is not a read.
    RecoModels copy(RecommendOptions{});
    uint64_t s2 = 0;
    for (const auto& e : events) copy.apply_deferred(++s2, e);
    copy.settle();
    CHECK(copy.waiting_updates() == 0);
    copy.settle();  // nothing to make
    CHECK_FALSE(copy.rows_wanted());
    CHECK(copy.digest() == want.digest());
  }
  // Four readers at once, as under the Recommender's shared lock: one makes the updates, the
  // others wait for it and then read the same rows.
  std::vector<std::vector<std::string>> got(4);
  std::vector<std::thread> readers;
  for (size_t t = 0; t < got.size(); ++t) {
    readers.emplace_back([&, t] {
      for (uint32_t i = 0; i < want.item_count(); ++i) {
        for (const auto& id : ids(m, m.similar(i, 5, nullptr))) got[t].push_back(id);
      }
    });
  }
  for (auto& r : readers) r.join();
  std::vector<std::string> expected;
  for (uint32_t i = 0; i < want.item_count(); ++i) {
    for (const auto& id : ids(want, want.similar(i, 5, nullptr))) expected.push_back(id);
  }
  REQUIRE_FALSE(expected.empty());
  for (const auto& g_t : got) CHECK(g_t == expected);
  CHECK(m.rows_wanted());
  CHECK(m.digest() == want.digest());
  m.flush();
  CHECK_FALSE(m.rows_wanted());
}

TEST_CASE("forgotten events are those of the person and their visitors before the forget",
          "[recommend]") {
  Feed f;
  f.view("anon", "A");
  f.merge("anon", "bob");
  f.view("other", "A");
  f.forget_user("bob");
  RecoModels m = f.build();
  REQUIRE(m.forgotten().size() == 1);
  CHECK(m.forgotten()[0].user_ids == std::vector<std::string>{"bob"});
  CHECK(m.forgotten()[0].visitor_ids == std::vector<std::string>{"anon"});
  const auto& events = f.events();
  CHECK(RecoModels::forgotten_event(m.forgotten(), 1, events[0]));   // anon's view
  CHECK(RecoModels::forgotten_event(m.forgotten(), 2, events[1]));   // the merge
  CHECK_FALSE(RecoModels::forgotten_event(m.forgotten(), 3, events[2]));  // someone else
  CHECK_FALSE(RecoModels::forgotten_event(m.forgotten(), 5, events[0]));  // after the forget
}

TEST_CASE("with an empty cart for you also offers what the person buys again, not while a "
          "basket fills", "[recommend]") {
  Feed f;
  for (int i = 0; i < 4; ++i) {
    const std::string v = numbered("b", i);
    f.buy(v, v + "-1", {"MILK"}).buy(v, v + "-2", {"MILK"});  // milk is re-bought
  }
  for (int i = 0; i < 3; ++i) f.view(numbered("o", i), "BREAD").view(numbered("o", i), "JAM");
  f.buy("me", "m1", {"MILK"}).view("me", "BREAD");
  // BREAD's neighbour JAM (three people) far outweighs MILK (only my own pair, and milk is
  // very popular), so MILK comes first only as a thing to buy again.
  auto first = [](const RecoModels& m) { return m.item_id(m.for_you("v:me", 10, nullptr).at(0).item); };
  CHECK(first(f.build()) == "MILK");
  RecommendOptions off;
  off.buy_again = 0;
  CHECK(first(f.build(off)) == "JAM");
  // A basket filling: the session's neighbours first.
  f.cart("me", "BREAD");
  CHECK(first(f.build()) == "JAM");
}
