// CatalogIndex search-as-you-type over a real Store in a temp dir: the last word as a prefix
// from its first character, completions, popularity order, and the ranking with block-max
// pruning (a lone prefix and several words) checked across blocks and after a reopen.
#include <algorithm>
#include <cctype>
#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <vector>

#include "index_fixture.h"

namespace {

using namespace trove;
using namespace trove::test;

using Ids = std::set<std::string>;

// ASCII lower case: completions keep the catalog's case ("Chocolate"), tests compare folded.
std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The ids of the items offered, in rank order.
std::vector<std::string> ranked(const SuggestResponse& res) {
  std::vector<std::string> out;
  for (const auto& h : res.items) out.push_back(h.id);
  return out;
}

}  // namespace

TEST_CASE("suggest completes the last word as a prefix from its first character", "[index]") {
  Shop shop;
  shop.add(item("bar", "Dark chocolate bar"));
  shop.add(item("milk", "Milk chocolate"));
  shop.add(item("chip", "Chocolate chip cookies"));
  shop.add(item("choco", "Choco crispies"));
  shop.add(item("cherry", "Cherry pie"));
  shop.add(item("tea", "Green tea"));
  ItemUpsert b = item("brand", "Hazelnut spread");
  b.brand = "Chokladfabriken";
  shop.add(b);

  auto ids_of = [](const SuggestResponse& r) {
    std::set<std::string> s;
    for (const auto& h : r.items) s.insert(h.id);
    return s;
  };
  // "Chokladfabriken" is one typo from "choc" (4 letters: one typo): after the exact ones.
  auto choc = shop.suggest("choc");
  REQUIRE(choc.items.size() == 5);
  CHECK(choc.items.back().id == "brand");
  choc.items.pop_back();
  CHECK(ids_of(choc) == Ids{"bar", "milk", "chip", "choco"});
  REQUIRE_FALSE(choc.completions.empty());
  // As the catalog writes it: "chocolate" as two of the three titles spell it, "Choco" as its
  // title does; then the typo word "Chokladfabriken" (a brand).
  CHECK(choc.completions ==
        std::vector<std::string>{"chocolate", "Choco", "Chokladfabriken"});
  for (const auto& h : choc.items) {
    INFO(h.title_highlighted);
    const size_t em = h.title_highlighted.find("<em>");
    REQUIRE(em != std::string::npos);
    const std::string word = h.title_highlighted.substr(em + 4, 4);
    CHECK((word == "Choc" || word == "choc"));
  }

  // One and two characters.
  auto c = shop.suggest("c");
  CHECK(ids_of(c) == Ids{"bar", "milk", "chip", "choco", "cherry", "brand"});
  for (const auto& s : c.completions) CHECK(lower(s).rfind("c", 0) == 0);
  auto ch = shop.suggest("CH");
  CHECK(ids_of(ch) == Ids{"bar", "milk", "chip", "choco", "cherry", "brand"});
  for (const auto& s : ch.completions) CHECK(lower(s).rfind("ch", 0) == 0);
  auto g = shop.suggest("g");
  CHECK(ids_of(g) == Ids{"tea"});

  // Earlier words are whole words; completions carry them in front, as the title has them.
  auto dark = shop.suggest("dark choc");
  CHECK(ids_of(dark) == Ids{"bar"});
  REQUIRE_FALSE(dark.completions.empty());
  CHECK(dark.completions[0] == "Dark chocolate");
  for (const auto& s : dark.completions) CHECK(lower(s).rfind("dark choc", 0) == 0);
  CHECK(shop.suggest("dar choc").items.empty());
  // A trailing space closes the last word.
  CHECK(ids_of(shop.suggest("choco ")) == Ids{"choco"});
  // Accents and case fold like search.
  CHECK(ids_of(shop.suggest("CHÔC")) == ids_of(shop.suggest("choc")));
  CHECK(shop.suggest("zzz").items.empty());
  // At most `items` items.
  CHECK(shop.suggest("c", 2).items.size() == 2);
}

TEST_CASE("suggest ranks more popular items first among equal matches", "[index]") {
  Shop shop;
  shop.add(item("a", "Chocolate bar"));
  shop.add(item("b", "Chocolate bar"));
  shop.add(item("c", "Chocolate bar"));
  std::vector<Event> views;
  for (int i = 0; i < 3; ++i) views.push_back(ev(DetailItemView{visitor("v1"), "b"}));
  views.push_back(ev(DetailItemView{visitor("v2"), "c"}));
  shop.add(std::move(views));
  auto res = shop.suggest("cho");
  REQUIRE(res.items.size() == 3);
  CHECK(res.items[0].id == "b");
  CHECK(res.items[1].id == "c");
  CHECK(res.items[2].id == "a");
}

TEST_CASE("suggest ranks by popularity across blocks of items, then item order", "[index]") {
  // 5,000 items span several popularity blocks; the popular ones sit in different blocks, some
  // late, so a scan that skipped a block wrongly would miss them. Every tenth item (i7, i17,
  // ...: none of the popular ones) is "Plain cheese bowl" (as long as the others: shorter titles
  // come first among equals): several-word queries for "aged" must leave
  // it out. No title starts with what is typed ("c", "ch", ...), so popularity decides.
  Shop shop;
  std::vector<Event> items;
  for (int i = 0; i < 5000; ++i) {
    items.push_back(ev(item(cat("i", i), i % 10 == 7 ? cat("Plain cheese bowl ", i)
                                             : cat("Aged cheese wheel ", i))));
  }
  shop.add(std::move(items));
  std::vector<Event> behaviour;
  auto views = [&](int i, int n) {
    for (int k = 0; k < n; ++k) behaviour.push_back(ev(DetailItemView{visitor("v"), cat("i", i)}));
  };
  views(4999, 3);
  views(2100, 2);
  views(3001, 2);
  views(3000, 2);
  views(50, 1);
  PurchaseComplete order;
  order.user = visitor("w");
  order.order_id = "o1";
  order.lines.push_back({"i4500", 1, 2.0});  // 5 points: the most popular
  behaviour.push_back(ev(order));
  shop.add(std::move(behaviour));

  const std::vector<std::string> popular = {"i4500", "i4999", "i2100", "i3000", "i3001", "i50"};
  auto then_in_order = [&](bool aged_only) {
    std::vector<std::string> out = popular;
    for (int i = 0; out.size() < 20; ++i) {
      if (i != 50 && !(aged_only && i % 10 == 7)) out.push_back(cat("i", i));
    }
    return out;
  };
  std::vector<std::string> expected = then_in_order(false);
  const std::vector<std::string> aged = then_in_order(true);
  CHECK(ranked(shop.suggest("c", 20)) == expected);
  CHECK(ranked(shop.suggest("ch", 20)) == expected);
  CHECK(ranked(shop.suggest("chee", 20)) == expected);  // past the stored prefixes
  // Several words: the items with every earlier word and the prefix, ranked the same way
  // (posting lists intersected in item order, blocks skipped by their bound).
  CHECK(ranked(shop.suggest("aged ch", 20)) == aged);
  CHECK(ranked(shop.suggest("aged cheese w", 20)) == aged);
  CHECK(ranked(shop.suggest("cheese whe", 20)) == aged);
  CHECK(ranked(shop.suggest("cheese aged ", 20)) == aged);
  CHECK(ranked(shop.suggest("aged cheese whee", 5)) ==
        std::vector<std::string>(popular.begin(), popular.begin() + 5));

  // A later view raises a late item above all; an index opened afresh over the same store
  // (its bounds computed at attach, its cache empty) ranks the same.
  std::vector<Event> more;
  for (int k = 0; k < 9; ++k) more.push_back(ev(DetailItemView{visitor("v"), "i4321"}));
  shop.add(std::move(more));
  expected.insert(expected.begin(), "i4321");
  expected.pop_back();
  CHECK(ranked(shop.suggest("che", 20)) == expected);
  shop.index.reset();
  auto reopened = CatalogIndex::open(shop.tmp.path() + "/data/index", {});
  REQUIRE(reopened.ok());
  shop.index = std::move(reopened).value();
  REQUIRE(shop.index->attach(*shop.store).ok());
  CHECK(ranked(shop.suggest("c", 20)) == expected);
}

TEST_CASE("suggest with several words offers typo matches of the last word after exact ones",
          "[index]") {
  Shop shop;
  shop.add(item("exact", "Dark chocolate bar"));
  shop.add(item("other", "Dark roast coffee"));
  shop.add(item("milk", "Milk chocolate bar"));
  std::vector<Event> views;
  // The typo-only match is the more popular: it still comes after the exact one.
  for (int i = 0; i < 5; ++i) views.push_back(ev(DetailItemView{visitor("v"), "other"}));
  shop.add(std::move(views));
  // "roas" is a prefix of "roast" only; "chocolat" completes "chocolate".
  CHECK(ranked(shop.suggest("dark chocolat")) == std::vector<std::string>{"exact"});
  CHECK(ranked(shop.suggest("dark roas")) == std::vector<std::string>{"other"});
  // "chocolste" (one substitution) is no prefix of anything: its typo word "chocolate" is.
  CHECK(ranked(shop.suggest("dark chocolste")) == std::vector<std::string>{"exact"});
  // Both words must match: "milk" items without "dark" are not offered.
  CHECK(ranked(shop.suggest("dark milk")).empty());
  // Item order is the tie-break after popularity.
  CHECK(ranked(shop.suggest("chocolate b")) == std::vector<std::string>{"exact", "milk"});
}

TEST_CASE("suggest for text without a word offers the most popular items", "[index]") {
  Shop shop;
  std::vector<Event> items;
  for (int i = 0; i < 3000; ++i) items.push_back(ev(item(cat("i", i), cat("Item ", i))));
  shop.add(std::move(items));
  std::vector<Event> views;
  for (int k = 0; k < 3; ++k) views.push_back(ev(DetailItemView{visitor("v"), "i2500"}));
  views.push_back(ev(DetailItemView{visitor("v"), "i1200"}));
  shop.add(std::move(views));
  // "&" has no word: every item matches, ranked as any suggestion (popularity, item order).
  const std::vector<std::string> expected = {"i2500", "i1200", "i0", "i1"};
  CHECK(ranked(shop.suggest("&", 4)) == expected);
  CHECK(ranked(shop.suggest("& ", 4)) == expected);
  CHECK(shop.suggest("&", 4).completions.empty());
}

TEST_CASE("a long prefix stands for its most frequent words, not every word under it", "[index]") {
  // Past three characters a prefix expands to its 8 most frequent title words, and more until
  // they hold 95 % of the postings of its 32 most frequent: here "zesti" (one item, the 9th
  // word by frequency, ties in word order) is left out of "zest", though its item comes first
  // in item order, and is found as soon as the prefix reaches it.
  Shop shop;
  std::vector<Event> items;
  items.push_back(ev(item("rare", "Zesti tonic")));
  for (char c = 'b'; c <= 'h'; ++c) items.push_back(ev(item(std::string("one-") + c, std::string("Zest") + c + " soda")));
  for (int i = 0; i < 100; ++i) items.push_back(ev(item(cat("a", i), cat("Zesta lemon ", i))));
  shop.add(std::move(items));
  const auto zest = ranked(shop.suggest("zest", 50));
  CHECK(zest.size() == 50);
  CHECK(std::find(zest.begin(), zest.end(), "rare") == zest.end());
  CHECK(std::find(zest.begin(), zest.end(), "one-b") != zest.end());
  CHECK(std::find(zest.begin(), zest.end(), "one-h") != zest.end());
  CHECK(ranked(shop.suggest("zesti")).front() == "rare");  // then typo matches (zestb...)
  CHECK(ranked(shop.suggest("tonic zest")) == std::vector<std::string>{});
  CHECK(ranked(shop.suggest("tonic zesti")) == std::vector<std::string>{"rare"});
}

TEST_CASE("suggest offers items with the earlier words in their title or brand first", "[index]") {
  // "dark" in the title of one item and only in the tags of a more popular one: the title
  // and brand matches come first (the attribute matched, before popularity, as Algolia ranks).
  Shop shop;
  shop.add(item("title", "Dark chocolate bar"));
  ItemUpsert tagged = item("tagged", "Brulee chocolate bar");
  tagged.tags = std::vector<std::string>{"dark"};
  shop.add(tagged);
  ItemUpsert brand = item("brand", "Chocolate drops");
  brand.brand = "Dark Side";
  shop.add(brand);
  std::vector<Event> views;
  for (int i = 0; i < 5; ++i) views.push_back(ev(DetailItemView{visitor("v"), "tagged"}));
  views.push_back(ev(DetailItemView{visitor("v"), "brand"}));
  shop.add(std::move(views));
  // Within the title and brand tier, a title that starts with what was typed comes before a
  // more popular item (the word's position, before popularity, as Algolia's ordered
  // attributes rank): "Dark chocolate bar", then the brand "Dark Side", then the tag.
  CHECK(ranked(shop.suggest("dark choc")) == std::vector<std::string>{"title", "brand", "tagged"});
  CHECK(ranked(shop.suggest("dark chocolate ")) ==
        std::vector<std::string>{"title", "brand", "tagged"});
  CHECK(ranked(shop.suggest("dark choc", 1)) == std::vector<std::string>{"title"});
  // Without a title starting so, popularity orders the tier.
  CHECK(ranked(shop.suggest("dark dro")) == std::vector<std::string>{"brand"});
}

namespace {

// Searches a completion as a shopper who picks it would: every word must match, none dropped.
void check_leads_somewhere(Shop& shop, const std::string& typed, const std::string& completion) {
  INFO("typed \"" << typed << "\", completion \"" << completion << "\"");
  SearchRequest req;
  req.q = completion;
  auto res = shop.search(req);
  CHECK(res.total > 0);
  CHECK(res.dropped_terms.empty());
}

void add_books(Shop& shop) {
  shop.add(item("lotr1", "The Lord of the Rings"));
  shop.add(item("lotr2", "The Fellowship of the Ring (The Lord of the Rings, #1)"));
  shop.add(item("hp1", "Harry Potter and the Sorcerer's Stone (Harry Potter, #1)"));
  shop.add(item("hp2", "Harry Potter and the Chamber of Secrets (Harry Potter, #2)"));
  shop.add(item("jim", "Lord Jim"));
  shop.add(item("flies", "Lord of the Flies"));
  // Frequent words under "r" and "po" that no Lord of the ... or Harry ... title has: the
  // vocabulary alone completed "lord of the r" to these and "harry po" to "harry power".
  for (int i = 0; i < 6; ++i) {
    shop.add(item(cat("rob", i), cat("Robert and the red power of poetry ", i)));
    shop.add(item(cat("ric", i), cat("Richard and the red robin power ", i)));
  }
  shop.add(item("hary", "Harry and the Hendersons"));
  shop.add(item("pate", "Pâte à tartiner noisettes"));
  shop.add(item("pate2", "Pâte feuilletée"));
}

}  // namespace

TEST_CASE("completions are phrases of the catalog: lord of the r -> Lord of the Rings",
          "[index][suggest]") {
  Shop shop;
  add_books(shop);
  auto lotr = shop.suggest("lord of the r");
  REQUIRE_FALSE(lotr.completions.empty());
  CHECK(lotr.completions[0] == "Lord of the Rings");
  for (const auto& c : lotr.completions) {
    CHECK(lower(c).find("robert") == std::string::npos);
    CHECK(lower(c).find("richard") == std::string::npos);
    check_leads_somewhere(shop, "lord of the r", c);
  }
  auto hp = shop.suggest("harry po");
  REQUIRE_FALSE(hp.completions.empty());
  CHECK(hp.completions[0] == "Harry Potter");
  for (const auto& c : hp.completions) {
    CHECK(lower(c).find("power") == std::string::npos);
    check_leads_somewhere(shop, "harry po", c);
  }
  // Accents as the catalog writes them, not folded.
  auto pate = shop.suggest("pâte à tart");
  REQUIRE_FALSE(pate.completions.empty());
  CHECK(pate.completions[0] == "Pâte à tartiner");
  auto folded = shop.suggest("pate a tart");
  REQUIRE_FALSE(folded.completions.empty());
  CHECK(folded.completions[0] == "Pâte à tartiner");
}

TEST_CASE("an earlier word with a typo finds its items and its completion is corrected",
          "[index][suggest]") {
  Shop shop;
  add_books(shop);
  auto res = shop.suggest("hary pot");
  std::set<std::string> ids;
  for (const auto& h : res.items) ids.insert(h.id);
  CHECK(ids == Ids{"hp1", "hp2"});
  REQUIRE_FALSE(res.completions.empty());
  CHECK(res.completions[0] == "Harry Potter");
  for (const auto& c : res.completions) check_leads_somewhere(shop, "hary pot", c);
  // Without typo tolerance the typed word stays as typed and finds nothing.
  SuggestRequest req;
  req.q = "hary pot";
  req.typo_tolerance = false;
  auto off = shop.index->suggest(req);
  REQUIRE(off.ok());
  CHECK(off->items.empty());
  CHECK(off->completions.empty());
}

TEST_CASE("suggest applies synonyms as search does", "[index][suggest]") {
  Shop shop;
  add_books(shop);
  SynonymsUpsert syn;
  syn.id = "hp";
  syn.synonyms = {"hp", "harry potter"};
  shop.add(syn);
  // Search found these before; suggest found nothing for "hp".
  CHECK(shop.id_set("hp") == Ids{"hp1", "hp2"});
  auto res = shop.suggest("hp");
  std::set<std::string> ids;
  for (const auto& h : res.items) ids.insert(h.id);
  CHECK(ids == Ids{"hp1", "hp2"});
  CHECK(std::find(res.completions.begin(), res.completions.end(), "Harry Potter") !=
        res.completions.end());
  for (const auto& c : res.completions) check_leads_somewhere(shop, "hp", c);
}

TEST_CASE("every completion of every prefix of the titles answers without dropping a word",
          "[index][suggest]") {
  Shop shop;
  add_books(shop);
  for (const std::string title :
       {"The Lord of the Rings", "Harry Potter and the Chamber of Secrets", "Lord of the Flies",
        "Pâte à tartiner noisettes", "Richard and the red robin power 3"}) {
    for (size_t n = 1; n <= title.size(); ++n) {
      const std::string typed = title.substr(0, n);
      if (n < title.size() && (static_cast<unsigned char>(title[n]) & 0xC0) == 0x80) continue;
      for (const auto& c : shop.suggest(typed).completions) check_leads_somewhere(shop, typed, c);
    }
  }
}

TEST_CASE("in a catalog without behaviour, titles starting with what was typed come first, "
          "shorter first",
          "[index][suggest]") {
  // bench/quality.sh: typing a whole name showed other items first, in import order.
  Shop shop;
  shop.add(item("long", "Hugo le maraicher, sauce au piment d'Espelette"));
  shop.add(item("other", "Chips saveur piment d'Espelette"));
  shop.add(item("p1", "Piment d'Espelette en poudre bio"));
  shop.add(item("p2", "Piment d'Espelette"));
  auto res = shop.suggest("piment d'esp");
  REQUIRE(res.items.size() == 4);
  CHECK(res.items[0].id == "p2");
  CHECK(res.items[1].id == "p1");
}

TEST_CASE("a phrase found in a row later in a title counts as in a row", "[index][suggest]") {
  Shop shop;
  // "Rings" first without the earlier words before it, then after them.
  shop.add(item("a", "Rings of Saturn and the Lord of the Rings"));
  shop.add(item("b", "Lord of the Rinks"));
  auto res = shop.suggest("lord of the r");
  CHECK(std::find(res.completions.begin(), res.completions.end(), "Lord of the Rings") !=
        res.completions.end());
  CHECK(std::find(res.completions.begin(), res.completions.end(), "Lord of the Rinks") !=
        res.completions.end());
}
