// SearchSettingsUpsert in search and suggest: the catalog's typo defaults, stopwords and the
// business signal that ranks relevance for everyone, each taking effect at the next request
// (no restart, no re-index) and leaving requests that set their own alone.
#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <vector>

#include "index_fixture.h"

namespace {

using namespace trove;
using namespace trove::test;
using Ids = std::vector<std::string>;

ItemUpsert book(std::string id, std::string title, std::optional<double> ratings = std::nullopt) {
  ItemUpsert u = item(std::move(id), std::move(title));
  if (ratings) u.attributes = Attributes{{"ratings_count", *ratings}};
  return u;
}

}  // namespace

TEST_CASE("search settings set the catalog's typo defaults, a request may still set its own",
          "[index][settings]") {
  Shop shop;
  shop.add(book("hp", "Harry Potter and the Goblet of Fire"));
  CHECK(shop.ids("hary") == Ids{"hp"});  // one typo from 4 letters by default
  SearchSettingsUpsert s;
  s.min_len_1typo = 5;
  shop.add(s);
  CHECK(shop.index->typo_defaults().min_len_1typo == 5);
  CHECK(shop.ids("hary").empty());
  CHECK(shop.suggest("hary").items.empty());
  SearchRequest req;
  req.q = "hary";
  req.typos = TypoSettings{};  // the request's own: one typo from 4
  CHECK(shop.search(req).total == 1);
  // typos = 0 turns tolerance off for every request that does not ask for it.
  SearchSettingsUpsert off;
  off.typos = 0;
  off.min_len_1typo = 4;
  shop.add(off);
  CHECK(shop.ids("hary").empty());
  auto choice = typo_choice(TypoParams{"2", std::nullopt, std::nullopt}, shop.index->typo_defaults());
  REQUIRE(choice.ok());
  req.typos = choice->settings;
  CHECK(shop.search(req).total == 1);
}

TEST_CASE("a lone prefix cached before a settings change is not served after it",
          "[index][settings]") {
  Shop shop;
  shop.add(book("hp", "Harry Potter and the Goblet of Fire"));
  CHECK(shop.suggest("hary").items.size() == 1);  // computed and cached
  SearchSettingsUpsert off;
  off.typos = 0;
  shop.add(off);
  CHECK(shop.suggest("hary").items.empty());
}

TEST_CASE("stopwords are not required, add to the score, and a query of stopwords still answers",
          "[index][settings]") {
  Shop shop;
  shop.add(book("adv", "Hobbit adventures"));
  shop.add(book("the", "The Hobbit"));
  shop.add(book("sil", "The Silmarillion"));
  // Without stopwords "the hobbit" needs "the": only one item has both.
  CHECK(shop.ids("the hobbit") == Ids{"the"});
  SearchSettingsUpsert s;
  s.stopwords = std::vector<std::string>{"The", "of"};
  shop.add(s);
  auto res = shop.search("the hobbit");
  CHECK(res.dropped_terms.empty());
  REQUIRE(res.hits.size() == 2);
  CHECK(res.hits[0].id == "the");  // has the stopword too: scores higher
  CHECK(res.hits[1].id == "adv");
  // Only stopwords: they are required, and answer.
  CHECK(shop.id_set("the") == std::set<std::string>{"the", "sil"});
}

TEST_CASE("a numeric attribute as the business signal ranks anonymous relevance, named in explain",
          "[index][settings]") {
  Shop shop;
  // Equal text for "tolkien"; the ratings tell them apart.
  shop.add(book("a", "Tolkien letters", 100));
  shop.add(book("b", "Tolkien maps", 5000000));
  shop.add(book("c", "Tolkien poems", 20000));
  shop.add(book("d", "Tolkien essays"));  // no rating: last when descending
  const Ids text_order = shop.ids("tolkien");
  REQUIRE(text_order.size() == 4);

  SearchSettingsUpsert s;
  s.signal = RankingSignal::kAttribute;
  s.signal_attribute = "ratings_count";
  s.signal_weight = 1.0;
  shop.add(s);
  CHECK(shop.ids("tolkien") == Ids{"b", "c", "a", "d"});
  SearchRequest req;
  req.q = "tolkien";
  req.explain = true;
  auto res = shop.search(req);
  REQUIRE(res.hits.size() == 4);
  bool named = false;
  for (const auto& [name, value] : res.hits[0].ranking) {
    named = named || name == "signal:attributes.ratings_count";
  }
  CHECK(named);

  SearchSettingsUpsert asc;
  asc.signal_order = SignalOrder::kAsc;
  shop.add(asc);
  CHECK(shop.ids("tolkien") == Ids{"a", "c", "b", "d"});

  // Other sorts ignore it; none turns it off.
  req.explain = false;
  req.sort = SortOrder::kNewest;
  CHECK(shop.search(req).hits.size() == 4);
  SearchSettingsUpsert none;
  none.signal = RankingSignal::kNone;
  shop.add(none);
  CHECK(shop.ids("tolkien") == text_order);
}

TEST_CASE("popularity as the business signal ranks anonymous relevance, typos still after",
          "[index][settings]") {
  Shop shop;
  shop.add(book("quiet", "Chocolate bar"));
  shop.add(book("loved", "Chocolate bar"));
  shop.add(book("typo", "Chocolade bar"));  // one typo from "chocolate"
  for (int i = 0; i < 20; ++i) {
    DetailItemView v;
    v.user = visitor(cat("v", i));
    v.item_id = i < 10 ? "loved" : "typo";
    shop.add(v);
  }
  SearchSettingsUpsert s;
  s.signal = RankingSignal::kPopularity;
  shop.add(s);
  // "typo" is as popular as "loved", but needed a typo: after every exact hit.
  CHECK(shop.ids("chocolate bar") == Ids{"loved", "quiet", "typo"});
}

TEST_CASE("suggest does not require stopwords: items with them first, then those without",
          "[index][settings][suggest]") {
  Shop shop;
  for (auto [id, title] : {std::pair{"adv", "Hobbit adventures"}, {"the", "The Hobbit"},
                           {"sil", "The Silmarillion"}}) {
    ItemUpsert u = book(id, title);
    u.brand = "Tolkien";
    shop.add(u);
  }
  auto ids = [&](const std::string& q) {
    Ids out;
    for (const auto& h : shop.suggest(q).items) out.push_back(h.id);
    return out;
  };
  CHECK(ids("the hob") == Ids{"the"});  // no stopwords yet: "the" is required
  SearchSettingsUpsert s;
  s.stopwords = std::vector<std::string>{"the"};
  shop.add(s);
  CHECK(ids("the hob") == Ids{"the", "adv"});
  CHECK(ids("the hobit ") == Ids{"the", "adv"});  // with a typo: stopwords still optional
  // Every completion answers when searched, without dropping a word.
  for (const auto& c : shop.suggest("the hob").completions) {
    INFO(c);
    auto res = shop.search(c);
    CHECK(res.dropped_terms.empty());
    CHECK(res.total > 0);
  }
  // Only stopwords typed: they are required.
  CHECK(ids("the ") == Ids{"the", "sil"});
  // With a filter (Xapian's matcher): the stopword adds to the score where present.
  SuggestRequest req;
  req.q = "the hob";
  req.filters = {"brand=Tolkien"};
  auto filtered = shop.index->suggest(req);
  REQUIRE(filtered.ok());
  Ids got;
  for (const auto& h : filtered->items) got.push_back(h.id);
  CHECK(got == Ids{"the", "adv"});
}
