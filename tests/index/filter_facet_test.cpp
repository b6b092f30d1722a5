// CatalogIndex filters, facets, sorting and pagination, checked against brute force over the
// State: a generated catalog (with patches, removals and behaviour) plus a few hand-made items
// without a price, stock flag or with list attributes.
#include <stdlib.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cctype>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "index_fixture.h"
#include "trove/data/generator.h"
#include "trove/data/store.h"
#include "trove/index/analyzer.h"
#include "trove/index/catalog_index.h"

namespace {

namespace fs = std::filesystem;
using namespace trove;

using namespace trove::test;


// A catalog big enough for every facet value and price bucket, with updates and removals.
void fill(Shop& shop) {
  GeneratorOptions g;
  g.seed = 11;
  g.items = 500;
  g.visitors = 60;
  g.behaviour_events = 2500;
  g.with_event_ids = false;
  auto events = generate_events(g);
  for (auto& e : events) e.timestamp_ms.reset();  // the store's clock stamps them
  shop.add(std::move(events));

  std::vector<Event> extra;
  ItemUpsert a = item("np-1", "Chocolate fountain");  // no price
  a.brand = "Acme";
  a.categories = std::vector<std::string>{"Food > Chocolate"};
  extra.push_back(ev(a));
  ItemUpsert b = item("np-2", "Wireless charger stand");  // no price, no stock flag
  b.categories = std::vector<std::string>{"Electronics > Chargers", "Home > Lighting"};
  Attributes attrs;
  attrs["sizes"] = std::vector<std::string>{"S", "M", "XL"};
  attrs["rating"] = 3.0;
  b.attributes = attrs;
  extra.push_back(ev(b));
  ItemUpsert c = item("edge-10", "Teapot at an edge price");
  c.price = 10;
  c.brand = "MAISON DORÉE";  // same brand, other spelling: counted with "Maison Dorée"
  c.categories = std::vector<std::string>{"  Kitchen  >  Coffee & Tea  "};
  extra.push_back(ev(c));
  ItemUpsert d = item("edge-50", "Teapot at the other edge");
  d.price = 50;
  d.in_stock = false;
  extra.push_back(ev(d));
  shop.add(std::move(extra));
}

std::string lower_ascii(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The category facet values of one item: every level prefix, levels trimmed, " > " joined.
std::set<std::string> category_prefixes(const Item& item) {
  std::set<std::string> out;
  if (!item.data.categories) return out;
  for (const auto& path : *item.data.categories) {
    std::string prefix;
    size_t start = 0;
    while (start <= path.size()) {
      size_t end = path.find('>', start);
      if (end == std::string::npos) end = path.size();
      std::string level = path.substr(start, end - start);
      level.erase(0, level.find_first_not_of(' '));
      level.erase(level.find_last_not_of(' ') + 1);
      if (!level.empty()) {
        if (!prefix.empty()) prefix += " > ";
        prefix += level;
        out.insert(prefix);
      }
      start = end + 1;
    }
  }
  return out;
}

std::string price_bucket(double p) {
  const double edges[] = {0, 10, 25, 50, 100, 250, 500};
  size_t b = 0;
  while (b + 1 < std::size(edges) && p >= edges[b + 1]) ++b;
  std::string label = std::to_string(static_cast<int>(edges[b])) + "..";
  if (b + 1 < std::size(edges)) label += std::to_string(static_cast<int>(edges[b + 1]));
  return label;
}

// Facets as the response orders them: spellings that fold alike ("Maison Dorée", "MAISON
// DORÉE") counted as one value shown in its most frequent spelling (ties: the smaller); by
// count, then value; at most 20 values.
std::vector<FacetValue> ranked(const std::map<std::string, uint64_t>& counts) {
  const Analyzer analyzer;
  std::map<std::string, std::pair<uint64_t, FacetValue>> folded;  // key -> (total, spelling)
  for (const auto& [spelling, n] : counts) {
    auto& [total, shown] = folded[analyzer.fold(spelling)];
    total += n;
    if (n > shown.count || (n == shown.count && spelling < shown.value)) shown = {spelling, n};
  }
  std::vector<FacetValue> v;
  for (const auto& [key, f] : folded) v.push_back({f.second.value, f.first});
  std::sort(v.begin(), v.end(), [](const FacetValue& a, const FacetValue& b) {
    return a.count != b.count ? a.count > b.count : a.value < b.value;
  });
  if (v.size() > 20) v.resize(20);
  return v;
}

bool same(const std::vector<FacetValue>& a, const std::vector<FacetValue>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].value != b[i].value || a[i].count != b[i].count) return false;
  }
  return true;
}

std::string show(const std::vector<FacetValue>& v) {
  std::string s;
  for (const auto& f : v) s += f.value + "=" + std::to_string(f.count) + " ";
  return s;
}

using Pred = std::function<bool(const Item&)>;

// Checks the hits and facets of (q, filters) against brute force over the live items.
void check_against_state(Shop& shop, const std::string& q, const std::vector<std::string>& filters,
                         const Pred& pred) {
  INFO("q=" << q << " filters=" << [&] {
    std::string s;
    for (const auto& f : filters) s += f + "; ";
    return s;
  }());
  std::set<std::string> expected;
  std::map<std::string, uint64_t> brands, categories, prices;
  shop.store->read([&](const State& s) {
    s.for_each_item([&](const std::string& id, const Item& it) {
      if (!pred(it)) return;
      expected.insert(id);
      if (it.data.brand) ++brands[*it.data.brand];
      for (const auto& c : category_prefixes(it)) ++categories[c];
      if (it.data.price) ++prices[price_bucket(*it.data.price)];
    });
  });
  SearchRequest req;
  req.q = q;
  req.filters = filters;
  req.facets = {"price", "brand", "category"};
  auto hits = shop.all_pages(req);
  std::set<std::string> got;
  for (const auto& h : hits) CHECK(got.insert(h.id).second);  // no item twice
  CHECK(got == expected);
  req.per_page = 5;
  auto res = shop.search(req);
  CHECK(res.total == expected.size());
  CHECK(res.total_exact);
  REQUIRE(res.facets.size() == 3);
  CHECK(res.facets[0].field == "price");
  CHECK(res.facets[1].field == "brand");
  CHECK(res.facets[2].field == "category");
  // Price buckets come in edge order, not by count.
  std::vector<FacetValue> price_expected;
  for (const char* label :
       {"0..10", "10..25", "25..50", "50..100", "100..250", "250..500", "500.."}) {
    if (prices.count(label)) price_expected.push_back({label, prices[label]});
  }
  INFO("price facet: " << show(res.facets[0].values) << "| expected " << show(price_expected));
  CHECK(same(res.facets[0].values, price_expected));
  // A bucket "lo..hi" holds lo <= price < hi: exactly what price>=lo and price<hi select.
  for (const auto& v : res.facets[0].values) {
    const size_t dots = v.value.find("..");
    SearchRequest bucket = req;
    bucket.facets = {"brand"};  // with facets the total is counted, not estimated past 100
    bucket.filters.push_back("price>=" + v.value.substr(0, dots));
    if (dots + 2 < v.value.size()) bucket.filters.push_back("price<" + v.value.substr(dots + 2));
    INFO("bucket " << v.value);
    CHECK(shop.search(bucket).total == v.count);
  }
  INFO("brand facet: " << show(res.facets[1].values) << "| expected " << show(ranked(brands)));
  CHECK(same(res.facets[1].values, ranked(brands)));
  INFO("category facet: " << show(res.facets[2].values) << "| expected "
                          << show(ranked(categories)));
  CHECK(same(res.facets[2].values, ranked(categories)));
  // Filtering on a facet value finds exactly its count.
  for (size_t f = 1; f <= 2; ++f) {
    for (const auto& v : res.facets[f].values) {
      SearchRequest narrowed = req;
      narrowed.facets.clear();
      narrowed.filters.push_back(res.facets[f].field + "=" + v.value);
      INFO("facet value " << narrowed.filters.back());
      CHECK(shop.search(narrowed).total == v.count);
    }
  }
}

bool has_category_prefix(const Item& it, const std::string& prefix) {
  return category_prefixes(it).count(prefix) > 0;
}

bool attr_is(const Item& it, const std::string& key, const AttrValue& v) {
  if (!it.data.attributes) return false;
  auto f = it.data.attributes->find(key);
  if (f == it.data.attributes->end()) return false;
  if (const auto* list = std::get_if<std::vector<std::string>>(&f->second)) {
    const auto* s = std::get_if<std::string>(&v);
    return s && std::find(list->begin(), list->end(), *s) != list->end();
  }
  return f->second == v;
}

// Every query word appears in some field (substring, so plural forms count as the stemmer
// would have them).
Pred words_in_text(std::vector<std::string> words) {
  return [words](const Item& it) {
    std::string text =
        it.data.title + " " + it.data.description.value_or("") + " " + it.data.brand.value_or("");
    for (const auto& c : it.data.categories.value_or(std::vector<std::string>{})) text += " " + c;
    for (const auto& t : it.data.tags.value_or(std::vector<std::string>{})) text += " " + t;
    text = lower_ascii(text);
    return std::all_of(words.begin(), words.end(),
                       [&](const std::string& w) { return text.find(w) != std::string::npos; });
  };
}

}  // namespace

TEST_CASE("filters select exactly the items brute force selects, with exact facets", "[index]") {
  Shop shop;
  fill(shop);
  const Pred all = [](const Item&) { return true; };
  check_against_state(shop, "*", {}, all);

  // Brand: folded whole value.
  check_against_state(shop, "*", {"brand=maison doree"}, [](const Item& it) {
    return it.data.brand && (*it.data.brand == "Maison Dorée" || *it.data.brand == "MAISON DORÉE");
  });
  check_against_state(shop, "*", {"brand=KOBO"},
                      [](const Item& it) { return it.data.brand == std::string("Kōbō"); });
  check_against_state(shop, "*", {"brand=Oak & Iron"},
                      [](const Item& it) { return it.data.brand == std::string("Oak & Iron"); });
  check_against_state(shop, "*", {"brand=Oak"}, [](const Item&) { return false; });

  // Category: a path prefix at level boundaries, case and accents folded, spaces free.
  check_against_state(shop, "*", {"category=kitchen"},
                      [](const Item& it) { return has_category_prefix(it, "Kitchen"); });
  check_against_state(shop, "*", {"category=KITCHEN>coffee & TEA"}, [](const Item& it) {
    return has_category_prefix(it, "Kitchen > Coffee & Tea");
  });
  check_against_state(shop, "*", {"category=food > patisserie"},
                      [](const Item& it) { return has_category_prefix(it, "Food > Pâtisserie"); });
  check_against_state(shop, "*", {"category=Home > Lighting"},
                      [](const Item& it) { return has_category_prefix(it, "Home > Lighting"); });
  check_against_state(shop, "*", {"category=kit"}, [](const Item&) { return false; });
  check_against_state(shop, "*", {"category=Food > Choc"}, [](const Item&) { return false; });

  // Price: inclusive ranges; items without a price never match a price filter.
  auto price_in = [](double lo, double hi) {
    return [lo, hi](const Item& it) {
      return it.data.price && *it.data.price >= lo && *it.data.price <= hi;
    };
  };
  check_against_state(shop, "*", {"price=10..50"}, price_in(10, 50));
  check_against_state(shop, "*", {"price>=100"}, price_in(100, 1e18));
  check_against_state(shop, "*", {"price<=10"}, price_in(-1, 10));
  check_against_state(shop, "*", {"price=..20"}, price_in(-1, 20));
  check_against_state(shop, "*", {"price=140.5.."}, price_in(140.5, 1e18));
  check_against_state(shop, "*", {"price=50"}, price_in(50, 50));
  // Strict bounds, as the price facet's buckets need (lo <= price < hi).
  check_against_state(shop, "*", {"price>=10", "price<50"}, [](const Item& it) {
    return it.data.price && *it.data.price >= 10 && *it.data.price < 50;
  });
  check_against_state(shop, "*", {"price>50"}, [](const Item& it) {
    return it.data.price && *it.data.price > 50;
  });

  // Stock: absent means in stock.
  check_against_state(shop, "*", {"in_stock=true"},
                      [](const Item& it) { return it.data.in_stock.value_or(true); });
  check_against_state(shop, "*", {"in_stock=false"},
                      [](const Item& it) { return !it.data.in_stock.value_or(true); });

  // Attributes: strings (folded), numbers, booleans, list members.
  check_against_state(shop, "*", {"attributes.color=red"},
                      [](const Item& it) { return attr_is(it, "color", std::string("red")); });
  check_against_state(shop, "*", {"attributes.COLOR=Red"},
                      [](const Item& it) { return attr_is(it, "color", std::string("red")); });
  check_against_state(shop, "*", {"attributes.gift=true"},
                      [](const Item& it) { return attr_is(it, "gift", true); });
  check_against_state(shop, "*", {"attributes.rating=4.5"},
                      [](const Item& it) { return attr_is(it, "rating", 4.5); });
  check_against_state(shop, "*", {"attributes.rating=3"},
                      [](const Item& it) { return attr_is(it, "rating", 3.0); });
  check_against_state(shop, "*", {"attributes.rating=3.0"},
                      [](const Item& it) { return attr_is(it, "rating", 3.0); });
  check_against_state(shop, "*", {"attributes.sizes=xl"},
                      [](const Item& it) { return attr_is(it, "sizes", std::string("XL")); });
  check_against_state(shop, "*", {"attributes.nothing=1"}, [](const Item&) { return false; });

  // All filters hold together.
  check_against_state(
      shop, "*", {"category=food", "price<=50", "in_stock=true", "brand=acme"}, [](const Item& it) {
        return has_category_prefix(it, "Food") && it.data.price && *it.data.price <= 50 &&
               it.data.in_stock.value_or(true) && it.data.brand == std::string("Acme");
      });
}

TEST_CASE("facets count exactly the matches of word queries", "[index]") {
  Shop shop;
  fill(shop);
  check_against_state(shop, "chocolate", {}, words_in_text({"chocolate"}));
  check_against_state(shop, "puzzle", {}, words_in_text({"puzzle"}));
  check_against_state(shop, "teapot", {}, words_in_text({"teapot"}));
  check_against_state(shop, "wireless charger", {}, words_in_text({"wireless", "charger"}));
  check_against_state(shop, "chocolate", {"price<=20"}, [](const Item& it) {
    return words_in_text({"chocolate"})(it) && it.data.price && *it.data.price <= 20;
  });
}

TEST_CASE("sorting by price puts items without a price last both ways", "[index]") {
  Shop shop;
  fill(shop);
  for (SortOrder order : {SortOrder::kPriceAsc, SortOrder::kPriceDesc}) {
    for (const char* q : {"*", "chocolate", "charger"}) {
      INFO("q=" << q << " order=" << (order == SortOrder::kPriceAsc ? "asc" : "desc"));
      SearchRequest req;
      req.q = q;
      req.sort = order;
      auto hits = shop.all_pages(req, 37);
      REQUIRE(hits.size() > 10);
      bool seen_unpriced = false;
      size_t unpriced = 0;
      for (size_t i = 0; i < hits.size(); ++i) {
        if (!hits[i].price) {
          seen_unpriced = true;
          ++unpriced;
          continue;
        }
        CHECK_FALSE(seen_unpriced);  // a priced item after an unpriced one
        if (i > 0 && hits[i - 1].price) {
          if (order == SortOrder::kPriceAsc) {
            CHECK(*hits[i - 1].price <= *hits[i].price);
          } else {
            CHECK(*hits[i - 1].price >= *hits[i].price);
          }
        }
      }
      if (std::string(q) != "puzzle") CHECK(unpriced >= 1);
      // The price on the hit is the item's price in the state.
      shop.store->read([&](const State& s) {
        for (const auto& h : hits) {
          const Item* it = s.item(h.id);
          REQUIRE(it != nullptr);
          CHECK(it->data.price == h.price);
        }
      });
    }
  }
}

TEST_CASE("sorting by popularity follows views and purchases", "[index]") {
  Shop shop;
  shop.add(item("x", "Ceramic mug"));
  shop.add(item("y", "Ceramic mug"));
  shop.add(item("z", "Ceramic mug"));
  shop.add(item("w", "Ceramic bowl"));
  auto order = [&] {
    SearchRequest req;
    req.q = "ceramic";
    req.sort = SortOrder::kPopularity;
    std::vector<std::string> ids;
    for (const auto& h : shop.search(req).hits) ids.push_back(h.id);
    return ids;
  };
  std::vector<Event> events;
  for (int i = 0; i < 3; ++i)
    events.push_back(ev(DetailItemView{visitor("v" + std::to_string(i)), "y"}));
  PurchaseComplete p;
  p.user = visitor("buyer");
  p.order_id = "o-1";
  p.lines = {PurchaseLine{"z", 2, 9.5}};
  events.push_back(ev(p));
  events.push_back(ev(DetailItemView{visitor("v9"), "w"}));
  shop.add(std::move(events));
  auto first = order();
  REQUIRE(first.size() == 4);
  CHECK(first[0] == "z");
  CHECK(first[1] == "y");
  CHECK(first[2] == "w");
  CHECK(first[3] == "x");
  // Popularity is read live: more views move x up without touching the catalog.
  std::vector<Event> more;
  for (int i = 0; i < 20; ++i)
    more.push_back(ev(DetailItemView{visitor("u" + std::to_string(i)), "x"}));
  shop.add(std::move(more));
  auto second = order();
  REQUIRE(second.size() == 4);
  CHECK(second[0] == "x");
}

TEST_CASE("sorting by newest follows the last update", "[index]") {
  Shop shop;
  shop.add(item("a", "Linen towel"));
  shop.add(item("b", "Linen towel"));
  shop.add(item("c", "Linen towel"));
  auto order = [&] {
    SearchRequest req;
    req.q = "linen";
    req.sort = SortOrder::kNewest;
    std::vector<std::string> ids;
    for (const auto& h : shop.search(req).hits) ids.push_back(h.id);
    return ids;
  };
  CHECK(order() == std::vector<std::string>{"c", "b", "a"});
  ItemPatch p;
  p.id = "a";
  p.price = 3;
  shop.add(p);
  CHECK(order() == std::vector<std::string>{"a", "c", "b"});
}

TEST_CASE("pages are disjoint and together complete, in every sort order", "[index]") {
  Shop shop;
  fill(shop);
  for (SortOrder order : {SortOrder::kRelevance, SortOrder::kPriceAsc, SortOrder::kPriceDesc,
                          SortOrder::kPopularity, SortOrder::kNewest}) {
    for (const char* q : {"*", "chocolate", "wooden"}) {
      INFO("q=" << q << " order=" << static_cast<int>(order));
      SearchRequest req;
      req.q = q;
      req.sort = order;
      auto whole = shop.all_pages(req, 100);
      auto paged = shop.all_pages(req, 7);
      REQUIRE(whole.size() == paged.size());
      std::set<std::string> seen;
      for (size_t i = 0; i < paged.size(); ++i) {
        CHECK(seen.insert(paged[i].id).second);
        CHECK(paged[i].id == whole[i].id);  // the same order however it is cut
      }
      req.per_page = 7;
      req.page = 1;
      // Without facets the total may be Xapian's estimate; it says so, and is exact when it
      // says it is.
      auto first = shop.search(req);
      if (first.total_exact) CHECK(first.total == whole.size());
      CHECK(first.total >= first.hits.size());
      req.facets = {"brand"};
      CHECK(shop.search(req).total == whole.size());
      req.facets.clear();
      req.page = whole.size() / 7 + 2;  // past the end: empty
      auto past = shop.search(req);
      CHECK(past.hits.empty());
      if (past.total_exact) CHECK(past.total == whole.size());
    }
  }
}

// Regression: facets and the price and popularity sorts read Xapian::Document::get_docid(),
// which over several shards is the shard's own docid, so they counted and sorted other items.
TEST_CASE("facets and sorts read each hit's own item with one shard and with four", "[index]") {
  for (unsigned shards : {1u, 4u}) {
    INFO("shards=" << shards);
    IndexOptions o;
    o.shards = shards;
    Shop shop(o);
    fill(shop);
    check_against_state(shop, "*", {"category=electronics"},
                        [](const Item& it) { return has_category_prefix(it, "Electronics"); });
    SearchRequest req;
    req.q = "*";
    req.sort = SortOrder::kPriceAsc;
    auto hits = shop.all_pages(req, 100);
    for (size_t i = 1; i < hits.size(); ++i) {
      if (hits[i - 1].price && hits[i].price) CHECK(*hits[i - 1].price <= *hits[i].price);
    }
  }
}

// Regression: numbers are indexed in their shortest form, so "rating=3.0" missed rating 3.
TEST_CASE("a numeric attribute filter matches however the number is written", "[index]") {
  Shop shop;
  ItemUpsert a = item("a", "Oak table");
  Attributes attrs;
  attrs["rating"] = 3.0;
  attrs["width"] = 120.5;
  attrs["code"] = std::string("3.0");  // text stays text
  a.attributes = attrs;
  shop.add(a);
  auto hits = [&](const std::string& filter) {
    SearchRequest req;
    req.q = "*";
    req.filters = {filter};
    return shop.search(req).hits.size();
  };
  CHECK(hits("attributes.rating=3") == 1);
  CHECK(hits("attributes.rating=3.0") == 1);
  CHECK(hits("attributes.rating=3.00") == 1);
  CHECK(hits("attributes.rating=4") == 0);
  CHECK(hits("attributes.width=120.5") == 1);
  CHECK(hits("attributes.width=120.50") == 1);
  CHECK(hits("attributes.code=3.0") == 1);
  CHECK(hits("attributes.code=3") == 0);
}
