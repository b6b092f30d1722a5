// Typo tolerance wired into search and suggest: misspelled queries find the intended items,
// exact matches outrank one typo and one typo outranks two, explain names the variant, and
// the vocabulary follows catalog changes (new words findable after a flush, removed ones gone).
#include <stdlib.h>

#include <catch2/catch.hpp>
#include <algorithm>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "trove/data/store.h"
#include "trove/index/catalog_index.h"

namespace {

using namespace trove;

struct Shop {
  std::string dir;
  std::unique_ptr<Store> store;
  std::unique_ptr<CatalogIndex> index;

  IndexOptions opts;
  explicit Shop(IndexOptions o = {}) : opts(std::move(o)) {
    char tmpl[] = "/tmp/trove_typo_test_XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir = tmpl;
    reopen();
  }
  ~Shop() {
    index.reset();
    store.reset();
    std::filesystem::remove_all(dir);
  }
  void reopen() {
    index.reset();
    store.reset();
    StoreOptions so;
    so.now_ms = [t = int64_t{1700000000000}]() mutable { return t += 1000; };
    auto s = Store::open(dir + "/data", so);
    REQUIRE(s.ok());
    store = std::move(s).value();
    auto i = CatalogIndex::open(dir + "/data/index", opts);
    REQUIRE(i.ok());
    index = std::move(i).value();
    REQUIRE(index->attach(*store).ok());
  }
  void upsert(const std::string& id, const std::string& title) {
    Event e;
    ItemUpsert u;
    u.id = id;
    u.title = title;
    e.body = u;
    REQUIRE(store->ingest({e}).ok());
  }
  void remove(const std::string& id) {
    Event e;
    e.body = ItemRemove{id};
    REQUIRE(store->ingest({e}).ok());
  }
  std::vector<std::string> ids(const std::string& q, bool explain = false,
                               std::vector<std::vector<std::string>>* matched = nullptr,
                               std::optional<TypoSettings> typos = std::nullopt) {
    REQUIRE(index->flush().ok());
    SearchRequest req;
    req.q = q;
    req.typos = typos;
    req.explain = explain;
    req.per_page = 20;
    auto res = index->search(req);
    REQUIRE(res.ok());
    std::vector<std::string> out;
    for (const auto& h : res->hits) {
      out.push_back(h.id);
      if (matched) matched->push_back(h.matched_terms);
    }
    return out;
  }
};

// prefix + n, in steps (GCC 12 warns falsely on `"lit" + std::to_string(n)`).
std::string numbered(std::string_view prefix, int n) {
  std::string s(prefix);
  s += std::to_string(n);
  return s;
}

}  // namespace

TEST_CASE("misspelled queries find the intended items", "[index][typo]") {
  Shop shop;
  shop.upsert("nut", "Nutella hazelnut spread");
  shop.upsert("choc", "Dark chocolate truffles");
  shop.upsert("iph", "iPhone charger cable");
  CHECK(shop.ids("nutela") == std::vector<std::string>{"nut"});          // deletion
  CHECK(shop.ids("chocolate trufles") == std::vector<std::string>{"choc"});  // one word typed wrong
  CHECK(shop.ids("chcoolate") == std::vector<std::string>{"choc"});      // transposition
  CHECK(shop.ids("iphone chrager") == std::vector<std::string>{"iph"});  // transposition, 7 chars
}

TEST_CASE("exact matches outrank one typo, and one typo outranks two", "[index][typo]") {
  Shop shop;
  shop.upsert("two", "chocolate biscuits");   // "chocolade" -> chocolate: 1 edit
  shop.upsert("exact", "chocolade biscuits"); // exact
  shop.upsert("one", "chocolada biscuits");   // 1 edit
  auto got = shop.ids("chocolade");
  REQUIRE(got.size() == 3);
  CHECK(got[0] == "exact");
  // Both others are one edit away; now a word two edits away against one a single edit away.
  Shop shop2;
  shop2.upsert("d1", "caramelized nuts");   // "caramelizes" -> caramelized: 1 edit
  shop2.upsert("d2", "caramelised nuts");   // caramelised: 2 edits (s->z... and d->s)
  shop2.upsert("d0", "caramelizes nuts");
  auto got2 = shop2.ids("caramelizes");
  REQUIRE(got2.size() == 3);
  CHECK(got2 == std::vector<std::string>{"d0", "d1", "d2"});
}

TEST_CASE("short words and numbers get no typo variants", "[index][typo]") {
  Shop shop;
  shop.upsert("tea", "green tea");
  shop.upsert("tee", "golf tee");
  shop.upsert("n1", "charger 2000 watts");
  CHECK(shop.ids("tea") == std::vector<std::string>{"tea"});  // 3 letters: exact only
  CHECK(shop.ids("2001").empty());                             // digits: exact only
}

TEST_CASE("explain names the typo variant, its distance and the word typed", "[index][typo]") {
  Shop shop;
  shop.upsert("nut", "Nutella hazelnut spread");
  std::vector<std::vector<std::string>> matched;
  REQUIRE(shop.ids("nutela", true, &matched) == std::vector<std::string>{"nut"});
  REQUIRE(matched.size() == 1);
  CHECK(std::find(matched[0].begin(), matched[0].end(), "nutella ~1 nutela") != matched[0].end());
}

TEST_CASE("typo tolerance can be turned off per search", "[index][typo]") {
  Shop shop;
  shop.upsert("nut", "Nutella hazelnut spread");
  REQUIRE(shop.index->flush().ok());
  SearchRequest req;
  req.q = "nutela";
  req.typo_tolerance = false;
  auto res = shop.index->search(req);
  REQUIRE(res.ok());
  CHECK(res->hits.empty());
}

TEST_CASE("new words are findable with typos after a flush and removed ones are gone",
          "[index][typo]") {
  Shop shop;
  shop.upsert("a", "ordinary kettle");
  CHECK(shop.ids("zucchini").empty());
  shop.upsert("z", "zucchini noodles");
  CHECK(shop.ids("zuchini") == std::vector<std::string>{"z"});
  auto before = shop.index->fuzzy_terms("zuchini", -1, false, 10);
  REQUIRE(before.ok());
  REQUIRE(before->size() == 1);
  CHECK(before->at(0).term == "zucchini");
  CHECK(before->at(0).distance == 1);
  shop.remove("z");
  REQUIRE(shop.index->flush().ok());
  auto after = shop.index->fuzzy_terms("zuchini", -1, false, 10);
  REQUIRE(after.ok());
  CHECK(after->empty());
  // The vocabulary is rebuilt from the shards on reopen, with the same answer.
  shop.upsert("z2", "zucchini spaghetti");
  shop.reopen();
  auto reopened = shop.index->fuzzy_terms("zuchini", -1, false, 10);
  REQUIRE(reopened.ok());
  REQUIRE(reopened->size() == 1);
  CHECK(reopened->at(0).frequency == 1);
}

TEST_CASE("suggest offers the intended items for a prefix typed with a typo", "[index][typo]") {
  Shop shop;
  shop.upsert("c1", "Chocolate bar");
  shop.upsert("c2", "Milk chocolate");
  shop.upsert("x", "Cheddar cheese");
  REQUIRE(shop.index->flush().ok());
  for (const std::string q : {"chocol", "chocla"}) {
    SuggestRequest req;
    req.q = q;
    auto res = shop.index->suggest(req);
    REQUIRE(res.ok());
    std::vector<std::string> ids;
    for (const auto& h : res->items) ids.push_back(h.id);
    INFO(q);
    CHECK(std::find(ids.begin(), ids.end(), "c1") != ids.end());
    CHECK(std::find(ids.begin(), ids.end(), "c2") != ids.end());
    CHECK(std::find(ids.begin(), ids.end(), "x") == ids.end());
  }
}

TEST_CASE("fuzzy_terms refuses a bad distance and text without a word", "[index][typo]") {
  Shop shop;
  CHECK(shop.index->fuzzy_terms("abc", 4, false, 10).status().code() == StatusCode::kInvalidArgument);
  CHECK(shop.index->fuzzy_terms("!!!", 1, false, 10).status().code() == StatusCode::kInvalidArgument);
  CHECK(shop.index->fuzzy_terms("abc", 1, false, 0).status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("typo settings change the budget per request and per index", "[index][typo]") {
  auto settings = [](size_t one, size_t two, bool first_double = true) {
    return TypoSettings{.min_len_1typo = one, .min_len_2typo = two,
                        .first_char_counts_double = first_double};
  };
  Shop shop;
  shop.upsert("tea", "green tea");
  shop.upsert("nut", "Nutella hazelnut spread");
  using Ids = std::vector<std::string>;
  // Three letters: exact only by default; one typo from 3 letters when asked.
  CHECK(shop.ids("tae").empty());
  CHECK(shop.ids("tae", false, nullptr, settings(3, 9)) == Ids{"tea"});
  // "ntuela" is two edits from "nutella", one from "ntuel": one typo at 6 letters by default
  // (a word within it, so no last resort), two when asked.
  shop.upsert("ntu", "Ntuel");
  CHECK(shop.ids("ntuela") == Ids{"ntu"});
  auto two = shop.ids("ntuela", false, nullptr, settings(5, 6));
  CHECK(std::set<std::string>(two.begin(), two.end()) == std::set<std::string>{"ntu", "nut"});
  shop.remove("ntu");
  // A first-letter typo counts double unless told otherwise (a word within the budget with
  // its first letter right wins; see the next test for a word that matches nothing).
  shop.upsert("ins", "Mutelle insurance");
  CHECK(shop.ids("mutella") == Ids{"ins"});
  auto both = shop.ids("mutella", false, nullptr, settings(5, 9, false));
  CHECK(std::set<std::string>(both.begin(), both.end()) == std::set<std::string>{"ins", "nut"});

  // Suggest takes the same settings, and can turn typos off.
  SuggestRequest sug;
  sug.q = "ntuela";  // two edits from "nutell", the nearest prefix of "nutella"
  CHECK(shop.index->suggest(sug)->items.empty());
  sug.typos = settings(5, 6);
  REQUIRE(shop.index->suggest(sug)->items.size() == 1);
  sug.q = "nutelal";
  sug.typos.reset();
  CHECK(shop.index->suggest(sug)->items.size() == 1);
  sug.typo_tolerance = false;
  CHECK(shop.index->suggest(sug)->items.empty());

  // The index's own default applies to every request that does not say.
  IndexOptions lenient;
  lenient.typos = settings(3, 9);
  Shop shop3(lenient);
  shop3.upsert("tea", "green tea");
  CHECK(shop3.ids("tae") == Ids{"tea"});
  auto fz = shop3.index->fuzzy_terms("tae", -1, false, 10);
  REQUIRE(fz.ok());
  REQUIRE(fz->size() == 1);
  CHECK(fz->at(0).term == "tea");
}

TEST_CASE("a word that matches nothing takes two typos, the first letter counting once", "[index][typo]") {
  auto typos = [](int max) { return TypoSettings{.max_typos = max}; };
  Shop shop;
  shop.upsert("nut", "Nutella hazelnut spread");
  shop.upsert("cat", "Whiskers cat food");
  shop.upsert("sun", "Sunflower kernels");
  shop.upsert("tea", "green tea");
  using Ids = std::vector<std::string>;
  // One typo at 7 letters, on the first letter: nothing else is within the budget, so the
  // first letter counts once rather than leaving the word without a match.
  CHECK(shop.ids("mutella") == Ids{"nut"});
  // Two at 8 letters, one of them on the first letter ("hhisjers": Xapian's and PostgreSQL's
  // corrections find whiskers).
  CHECK(shop.ids("hhisjers") == Ids{"cat"});
  CHECK(shop.ids("hhisjers food") == Ids{"cat"});
  // Two at 7 letters ("snflwer": two letters of sunflower left out), not dropped as a word.
  CHECK(shop.ids("snflwer") == Ids{"sun"});
  CHECK(shop.ids("snflwer kernels") == Ids{"sun"});
  // Never past the request's max_typos, nor past two, nor below the length for one typo.
  CHECK(shop.ids("snflwer", false, nullptr, typos(1)).empty());
  CHECK(shop.ids("mutella", false, nullptr, typos(1)) == Ids{"nut"});
  CHECK(shop.ids("mutella", false, nullptr, typos(0)).empty());
  CHECK(shop.ids("hhisjerz").empty());  // three edits
  CHECK(shop.ids("gren").empty() == false);  // one edit at 4 letters, as before
  CHECK(shop.ids("tae").empty());            // 3 letters: exact only
  // Not when a word of the catalog is within the budget with its first letter right.
  shop.upsert("ins", "Mutelle insurance");
  CHECK(shop.ids("mutella") == Ids{"ins"});
  // Nor when the typed word is itself in the catalog.
  shop.upsert("gut", "Gutella");
  CHECK(shop.ids("gutella") == Ids{"gut"});
}

TEST_CASE("bad typo settings are refused with their path", "[index][typo]") {
  Shop shop;
  SearchRequest req;
  req.q = "tea";
  req.typos = TypoSettings{.min_len_1typo = 0};
  auto res = shop.index->search(req);
  REQUIRE(res.status().code() == StatusCode::kInvalidArgument);
  CHECK(res.status().to_string().find("typos.min_len_1typo") != std::string::npos);
  req.typos = TypoSettings{.min_len_1typo = 6, .min_len_2typo = 5};
  res = shop.index->search(req);
  REQUIRE(res.status().code() == StatusCode::kInvalidArgument);
  CHECK(res.status().to_string().find("typos.min_len_2typo") != std::string::npos);
  SuggestRequest sug;
  sug.q = "te";
  sug.typos = TypoSettings{.min_len_1typo = 65, .min_len_2typo = 70};
  CHECK(shop.index->suggest(sug).status().code() == StatusCode::kInvalidArgument);
  IndexOptions bad;
  bad.typos.min_len_2typo = 2;
  CHECK(CatalogIndex::open(shop.dir + "/other", bad).status().code() ==
        StatusCode::kInvalidArgument);
}

TEST_CASE("exact matches precede typo matches on every page, whatever BM25 weighs",
          "[index][typo]") {
  // 9 items have the word as typed (fewer than ten: typo variants are looked up), 20 a
  // variant repeated. (Before typo variants waited for the exact words to find too little,
  // this test had 150 exact items, whose common word weighed less than the variant: the
  // tiers are two queries, so weight cannot mix them.)
  Shop shop;
  for (int i = 0; i < 9; ++i) shop.upsert(numbered("e", i), numbered("Chocolat noir ", i));
  for (int i = 0; i < 20; ++i) shop.upsert(numbered("typo", i), "Chocolate chocolate chocolate");
  REQUIRE(shop.index->flush().ok());
  std::vector<std::string> all;
  for (size_t page = 1; page <= 7; ++page) {
    SearchRequest req;
    req.q = "chocolat";
    req.page = page;
    req.per_page = 4;
    auto res = shop.index->search(req);
    REQUIRE(res.ok());
    CHECK(res->total == 29);
    CHECK(res->total_exact);
    for (const auto& h : res->hits) {
      all.push_back(h.id);
      CHECK(h.typos == (h.id.rfind("typo", 0) == 0 ? 1 : 0));
    }
  }
  REQUIRE(all.size() == 28);  // 7 pages of 4
  CHECK(std::set<std::string>(all.begin(), all.end()).size() == 28);  // disjoint pages
  for (size_t i = 0; i < 28; ++i) CHECK((all[i].rfind("typo", 0) == 0) == (i >= 9));

  // Two words: all exact, then those needing a typo.
  shop.upsert("both", "Chocolat amer");
  shop.upsert("one-typo", "Chocolate amer chocolate");
  REQUIRE(shop.ids("chocolat amer") == std::vector<std::string>{"both", "one-typo"});
}

TEST_CASE("typo variants are looked up only when the words as typed find fewer than ten items",
          "[index][typo]") {
  // As Typesense's typo_tokens_threshold: ten items with "chocolat" are an answer; the five
  // with "chocolate" (one typo away) are neither shown nor counted. With nine, they are.
  Shop shop;
  for (int i = 0; i < 5; ++i) shop.upsert(numbered("typo", i), "Chocolate bar");
  for (int i = 0; i < 10; ++i) shop.upsert(numbered("e", i), numbered("Chocolat noir ", i));
  REQUIRE(shop.index->flush().ok());
  SearchRequest req;
  req.q = "chocolat";
  req.per_page = 50;
  auto ten = shop.index->search(req);
  REQUIRE(ten.ok());
  CHECK(ten->hits.size() == 10);
  CHECK(ten->total == 10);
  CHECK(ten->total_exact);
  for (const auto& h : ten->hits) CHECK(h.id.rfind("e", 0) == 0);

  shop.remove("e9");
  auto nine = shop.ids("chocolat");
  REQUIRE(nine.size() == 14);
  for (size_t i = 0; i < 14; ++i) CHECK((nine[i].rfind("typo", 0) == 0) == (i >= 9));
  req.per_page = 3;  // the page is full from the exact tier; the total still counts the typos
  auto page = shop.index->search(req);
  REQUIRE(page.ok());
  CHECK(page->total == 14);
  CHECK(page->total_exact);
}

TEST_CASE("a word written as two catalog words matches with no typo, beside words that have "
          "typo variants",
          "[index][typo]") {
  // "patefeuilletee" is not in the catalog; "pate feuilletee" is, and so is a word one edit
  // away. The split's items need no typo: they come first, counted as none. (They were left
  // out when the word also had a typo variant: the typo tier skipped them as typo-free, and
  // the exact tier had not looked for splits.)
  Shop shop;
  shop.upsert("pate", "Pâte feuilletée pur beurre");
  shop.upsert("typo", "Patxfeuilletee maison");
  shop.upsert("other", "Beurre doux");
  REQUIRE(shop.index->flush().ok());
  SearchRequest req;
  req.q = "patefeuilletee";
  auto res = shop.index->search(req);
  REQUIRE(res.ok());
  REQUIRE(res->hits.size() == 2);
  CHECK(res->hits[0].id == "pate");
  CHECK(res->hits[0].typos == 0);
  CHECK(res->hits[1].id == "typo");
  CHECK(res->hits[1].typos == 1);
  CHECK(res->total == 2);
}

TEST_CASE("one typo ranks above two, whatever BM25 weighs", "[index][typo]") {
  // Sixty items one edit from the query, one item two edits away with a rare word repeated
  // (so its weight is the highest; made-up words, so no stem joins them): fewer edits first.
  Shop shop;
  for (int i = 0; i < 60; ++i) shop.upsert(numbered("one", i), "Qwertyuiox widget");
  for (int i = 0; i < 40; ++i) shop.upsert(numbered("other", i), "Salted butter");
  shop.upsert("two", "Qwertyuixx qwertyuixx");
  REQUIRE(shop.index->flush().ok());
  SearchRequest req;
  req.q = "qwertyuiop";
  req.per_page = 100;
  auto res = shop.index->search(req);
  REQUIRE(res.ok());
  REQUIRE(res->hits.size() == 61);
  for (size_t i = 0; i < 60; ++i) CHECK(res->hits[i].id.rfind("one", 0) == 0);
  CHECK(res->hits[60].id == "two");
  // The rare two-edit word no longer outweighs the common one-edit word (variants are scaled
  // by their frequency beside the most frequent one), so the edits rule alone is not shown
  // here; "exact matches precede typo matches on every page, whatever BM25 weighs" shows it.
}

TEST_CASE("a four-letter word gets one typo by default: hary poter finds Harry Potter first",
          "[index][typo]") {
  Shop shop;
  shop.upsert("hp1", "Harry Potter and the Sorcerer's Stone");
  shop.upsert("hp2", "Harry Potter and the Chamber of Secrets");
  shop.upsert("peter", "The Tale of Peter Rabbit");
  shop.upsert("poker", "Liar's Poker");
  shop.upsert("hairy", "Hairy Maclary from Donaldson's Dairy");
  // Algolia and Typesense allow one typo from 4 letters (minWordSizefor1Typo): "hary" is one
  // insertion from "harry". With 5 (the old default) it found nothing and was dropped.
  auto got = shop.ids("hary poter");
  REQUIRE(got.size() >= 2);
  CHECK(std::set<std::string>(got.begin(), got.begin() + 2) == std::set<std::string>{"hp1", "hp2"});
  // Alone, "hary" is one typo from "harry" and from "hairy" alike.
  auto alone = shop.ids("hary");
  CHECK(std::set<std::string>(alone.begin(), alone.end()) ==
        std::set<std::string>{"hp1", "hp2", "hairy"});
  SearchRequest req;
  req.q = "hary poter";
  auto res = shop.index->search(req);
  REQUIRE(res.ok());
  CHECK(res->dropped_terms.empty());
  // Three letters stay exact.
  CHECK(shop.ids("hpr").empty());
}

TEST_CASE("typo_choice reads typos=0|1|2 and the two lengths, refusing values out of range",
          "[index][typo]") {
  const TypoSettings def;
  auto pick = [&](std::optional<std::string> typos, std::optional<int64_t> one = std::nullopt,
                  std::optional<int64_t> two = std::nullopt) {
    return typo_choice(TypoParams{std::move(typos), one, two}, def);
  };
  // Nothing asked, or the defaults asked: the index's settings (nullopt keeps answers cacheable).
  REQUIRE(pick(std::nullopt).ok());
  CHECK(pick(std::nullopt)->tolerance);
  CHECK(!pick(std::nullopt)->settings);
  CHECK(!pick("2")->settings);
  CHECK(!pick("true")->settings);
  CHECK(!pick(std::nullopt, 4, 8)->settings);
  CHECK(!pick("0")->tolerance);
  CHECK(!pick("false")->tolerance);
  REQUIRE(pick("1")->settings);
  CHECK(pick("1")->settings->max_typos == 1);
  REQUIRE(pick(std::nullopt, 3)->settings);
  CHECK(pick(std::nullopt, 3)->settings->min_len_1typo == 3);
  auto bad = [&](const Result<TypoChoice>& r, const std::string& path) {
    REQUIRE(r.status().code() == StatusCode::kInvalidArgument);
    CHECK(r.status().path() == path);
  };
  bad(pick("3"), "typos");
  bad(pick("yes"), "typos");
  bad(pick(std::nullopt, 0), "min_len_1typo");
  bad(pick(std::nullopt, 65), "min_len_1typo");
  bad(pick(std::nullopt, std::nullopt, 65), "min_len_2typo");
  bad(pick(std::nullopt, 5, 4), "min_len_2typo");
  bad(pick(std::nullopt, 9), "min_len_1typo");  // above the default min_len_2typo of 8
}

TEST_CASE("typos=1 caps a long word at one typo, typos=0 turns them off", "[index][typo]") {
  Shop shop;
  shop.upsert("nut", "Nutella hazelnut spread");
  using Ids = std::vector<std::string>;
  TypoSettings one;
  one.max_typos = 1;
  // "hazlnutt": two edits from "hazelnut" (8 letters: two typos by default).
  CHECK(shop.ids("hazlnutt") == Ids{"nut"});
  CHECK(shop.ids("hazlnutt", false, nullptr, one).empty());
  CHECK(shop.ids("hazelnutt", false, nullptr, one) == Ids{"nut"});  // one edit: still found
}

TEST_CASE("a common word's typo variant outranks a rare misspelling of the catalog",
          "[index][typo]") {
  // bench/quality.sh: "sahmon" answered by "Saymon" and "samon" products (rare misspellings,
  // high BM25 weight) with no "saumon" product in the first 100.
  Shop shop;
  for (int i = 0; i < 200; ++i) shop.upsert(numbered("other", i), "Riz basmati");
  for (int i = 0; i < 20; ++i) shop.upsert(numbered("saumon", i), "Filet de saumon fumé");
  shop.upsert("samon", "Samon fumé");
  shop.upsert("saymon", "Saymon et duo de riz");
  auto got = shop.ids("sahmon");
  REQUIRE(got.size() == 20);  // the first page
  for (size_t i = 0; i < 10; ++i) CHECK(got[i].rfind("saumon", 0) == 0);
}

TEST_CASE("the vocabulary's unmerged terms stay a few thousand after a big flush and a rebuild",
          "[index][typo]") {
  // Every typo lookup runs its automaton over each unmerged term. 3,000 new words in one
  // flush were left unmerged (the merge waited for 50,000 or a quarter of the base), and so was
  // up to a quarter of the vocabulary after an index rebuilt from the State at start.
  Shop shop;
  auto word = [](int n) {  // "qa", "qb", ... distinct made-up words of letters
    std::string w = "q";
    for (; n > 0; n /= 26) w += static_cast<char>('a' + n % 26);
    return w + "x";
  };
  for (int i = 0; i < 1000; ++i) {
    shop.upsert(numbered("i", i), word(3 * i) + " " + word(3 * i + 1) + " " + word(3 * i + 2));
  }
  REQUIRE(shop.index->flush().ok());
  CHECK(shop.index->vocabulary_size() >= 3000);
  CHECK(shop.index->vocabulary_unmerged() <= 2048);
  CHECK(shop.ids(word(1500)).front() == "i500");

  std::filesystem::remove_all(shop.dir + "/data/index");
  shop.reopen();  // rebuilt from the State
  REQUIRE(shop.index->flush().ok());
  CHECK(shop.index->vocabulary_size() >= 3000);
  CHECK(shop.index->vocabulary_unmerged() <= 2048);
  // Merged or not, every word is still there, and still found with a typo.
  std::string typo = word(1500);
  typo.insert(2, "j");
  auto near = shop.index->fuzzy_terms(typo, 1, false, 50);
  REQUIRE(near.ok());
  CHECK(std::any_of(near->begin(), near->end(),
                    [&](const FuzzyTerm& t) { return t.term == word(1500); }));
  CHECK(shop.ids(word(1500)).front() == "i500");
}
