// The filter language (trove/index/filter.h): each operator, its errors, and random filters
// over a random catalog checked against a brute-force oracle written here, independently of
// the parser: search (`*` with the filter) and Filter::matches must select what it selects.
#include "trove/index/filter.h"

#include <catch2/catch.hpp>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "index_fixture.h"
#include "trove/index/analyzer.h"

namespace {

using namespace trove;
using namespace trove::test;
using Ids = std::set<std::string>;

ItemUpsert book(std::string id, std::optional<std::string> brand, std::optional<double> price,
                Attributes attrs = {}) {
  ItemUpsert u = item(id, "Book " + id);
  u.brand = std::move(brand);
  u.price = price;
  if (!attrs.empty()) u.attributes = std::move(attrs);
  return u;
}

Ids search_ids(Shop& shop, const std::string& filter) { return shop.filtered_ids(filter); }

std::string error_of(const std::string& text) {
  auto f = Filter::parse(text);
  REQUIRE_FALSE(f.ok());
  CHECK(f.status().code() == StatusCode::kInvalidArgument);
  CHECK(f.status().path() == "filter");
  return f.status().message();
}

}  // namespace

TEST_CASE("the filter language: comparisons, ranges, IN, EXISTS, NOT, AND before OR",
          "[index][filter]") {
  Shop shop;
  shop.add(book("hp", "J.K. Rowling", 12, {{"year", 1997.0}, {"language", std::string("en")}}));
  shop.add(book("cc", "J.K. Rowling", 8, {{"year", 2012.0}, {"language", std::string("fr")}}));
  shop.add(book("lotr", "Tolkien", 25, {{"year", 1954.0}, {"language", std::string("en")}}));
  shop.add(book("anon", std::nullopt, std::nullopt));
  ItemUpsert nobrand = item("nobrand", "Book nobrand");
  nobrand.in_stock = false;
  shop.add(nobrand);
  REQUIRE(shop.index->flush().ok());

  CHECK(search_ids(shop, "brand = J.K. Rowling") == Ids{"hp", "cc"});
  CHECK(search_ids(shop, "brand=\"j.k. ROWLING\"") == Ids{"hp", "cc"});  // folded
  CHECK(search_ids(shop, "brand != Tolkien") == Ids{"hp", "cc", "anon", "nobrand"});
  CHECK(search_ids(shop, "brand IN [Tolkien, \"J.K. Rowling\"]") == Ids{"hp", "cc", "lotr"});
  CHECK(search_ids(shop, "brand = Tolkien OR brand = J.K. Rowling AND price < 10") ==
        Ids{"lotr", "cc"});  // AND binds tighter
  CHECK(search_ids(shop, "(brand = Tolkien OR brand = J.K. Rowling) AND price < 10") == Ids{"cc"});
  CHECK(search_ids(shop, "price >= 12") == Ids{"hp", "lotr"});
  CHECK(search_ids(shop, "price > 12") == Ids{"lotr"});
  CHECK(search_ids(shop, "price <= 12") == Ids{"hp", "cc"});  // no price: not <= 12
  CHECK(search_ids(shop, "price = 8..12") == Ids{"hp", "cc"});
  CHECK(search_ids(shop, "price = 9..") == Ids{"hp", "lotr"});
  CHECK(search_ids(shop, "price IN [8, 25]") == Ids{"cc", "lotr"});
  CHECK(search_ids(shop, "attributes.year >= 2000") == Ids{"cc"});
  CHECK(search_ids(shop, "attributes.year = 1950..2000") == Ids{"hp", "lotr"});
  CHECK(search_ids(shop, "attributes.year = 1997.0") == Ids{"hp"});  // a number's other form
  CHECK(search_ids(shop, "attributes.language = EN") == Ids{"hp", "lotr"});
  CHECK(search_ids(shop, "attributes.language != en") == Ids{"cc", "anon", "nobrand"});
  CHECK(search_ids(shop, "attributes.year EXISTS") == Ids{"hp", "cc", "lotr"});
  CHECK(search_ids(shop, "NOT attributes.year EXISTS") == Ids{"anon", "nobrand"});
  CHECK(search_ids(shop, "price EXISTS AND NOT brand = Tolkien") == Ids{"hp", "cc"});
  CHECK(search_ids(shop, "in_stock = false") == Ids{"nobrand"});
  CHECK(search_ids(shop, "NOT NOT in_stock = false") == Ids{"nobrand"});
}

TEST_CASE("filter errors say at which column what was expected", "[index][filter]") {
  CHECK(error_of("colour = red") ==
        "at column 1: unknown field \"colour\"; expected brand, category, price, in_stock or "
        "attributes.<name>");
  CHECK(error_of("brand ~ x").find("at column 7: expected =, !=, <, <=, >, >=, IN, EXISTS or WITHIN") == 0);
  CHECK(error_of("brand < x") == "at column 9: brand takes =, !=, IN or EXISTS, not <");
  CHECK(error_of("price < cheap") ==
        "at column 9: expected a number after price <, got \"cheap\"");
  CHECK(error_of("price = 10..x").find("at column 9: expected a number or a range") == 0);
  CHECK(error_of("brand = \"Acme").find("at column 9: the quoted value is not closed") == 0);
  CHECK(error_of("(brand = Acme").find("expected \")\"") != std::string::npos);
  CHECK(error_of("brand = Acme OR").find("at column 16: expected a field") == 0);
  CHECK(error_of("brand =").find("at column 8: expected a value") == 0);
  CHECK(error_of("in_stock = maybe").find("expected in_stock = true or false") != std::string::npos);
  CHECK(error_of("in_stock EXISTS").find("always set") != std::string::npos);
  CHECK(error_of("brand IN [a, b").find("expected \",\" or \"]\"") != std::string::npos);
  CHECK(error_of("attributes. = 3").find("expected an attribute name") != std::string::npos);
  CHECK(error_of(std::string(40, '(') + "brand = a" + std::string(40, ')')).find("nested deeper") !=
        std::string::npos);
  CHECK(error_of(std::string(2000, 'a')).find("longer than 1024 bytes") != std::string::npos);
  CHECK(error_of("brand = \xff").find("UTF-8") != std::string::npos);
  // A lower-case "and" is part of a bare value; a keyword needs upper case.
  auto f = Filter::parse("brand = Salt and Pepper AND price < 3");
  REQUIRE(f.ok());
  CHECK(f->to_string() == "brand = \"Salt and Pepper\" AND price < 3");
  auto all = Filter::all_of({"brand = a", "price < "});
  REQUIRE_FALSE(all.ok());
  CHECK(all.status().path() == "filters[1]");
}

namespace {

// The oracle's own filter: a random tree, its text, and its test on an item written from the
// language's rules (not from the parser's tree).
struct Expr {
  enum Kind { kAnd, kOr, kNot, kBrandEq, kBrandNe, kPriceCmp, kPriceRange, kYearCmp, kLangIn,
              kCategory, kHasYear, kInStock, kTagEq } kind;
  std::vector<Expr> kids;
  std::string s;
  std::vector<std::string> list;
  std::string op;
  double a = 0, b = 0;
  bool flag = false;
};

const std::vector<std::string> kBrands = {"Acme", "acmé", "Maison Dorée", "Salt and Pepper", "Zed"};
const std::vector<std::string> kLangs = {"en", "fr", "EN", "de"};
const std::vector<std::string> kCats = {"Books", "Books > Fantasy", "Books > Crime", "Food > Tea"};
const std::vector<std::string> kTags = {"gift", "new", "sale"};

std::string quote(const std::string& v) { return "\"" + v + "\""; }

std::string text_of(const Expr& e) {
  switch (e.kind) {
    case Expr::kAnd: return "(" + text_of(e.kids[0]) + " AND " + text_of(e.kids[1]) + ")";
    case Expr::kOr: return "(" + text_of(e.kids[0]) + " OR " + text_of(e.kids[1]) + ")";
    case Expr::kNot: return "NOT " + text_of(e.kids[0]);
    case Expr::kBrandEq: return "brand = " + quote(e.s);
    case Expr::kBrandNe: return "brand != " + quote(e.s);
    case Expr::kPriceCmp: return "price " + e.op + " " + std::to_string(e.a);
    case Expr::kPriceRange: return "price = " + std::to_string(e.a) + ".." + std::to_string(e.b);
    case Expr::kYearCmp: return "attributes.year " + e.op + " " + std::to_string(static_cast<int>(e.a));
    case Expr::kLangIn: {
      std::string out = "attributes.lang IN [";
      for (size_t i = 0; i < e.list.size(); ++i) out += (i ? ", " : "") + e.list[i];
      return out + "]";
    }
    case Expr::kCategory: return "category = " + e.s;
    case Expr::kHasYear: return "attributes.year EXISTS";
    case Expr::kInStock: return std::string("in_stock = ") + (e.flag ? "true" : "false");
    case Expr::kTagEq: return "attributes.tags = " + e.s;
  }
  return "";
}

bool cmp(double x, const std::string& op, double y) {
  if (op == "<") return x < y;
  if (op == "<=") return x <= y;
  if (op == ">") return x > y;
  if (op == ">=") return x >= y;
  return x == y;
}

// "Books > Fantasy" lies under "books" and "books>fantasy" (levels folded and trimmed).
bool under(const Analyzer& a, const std::string& path, const std::string& wanted) {
  auto levels = [&](const std::string& p) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= p.size()) {
      size_t end = p.find('>', start);
      if (end == std::string::npos) end = p.size();
      std::string l = p.substr(start, end - start);
      while (!l.empty() && l.front() == ' ') l.erase(0, 1);
      while (!l.empty() && l.back() == ' ') l.pop_back();
      if (!l.empty()) out.push_back(a.fold(l));
      start = end + 1;
    }
    return out;
  };
  const auto have = levels(path), want = levels(wanted);
  return want.size() <= have.size() && std::equal(want.begin(), want.end(), have.begin());
}

bool holds(const Analyzer& a, const Expr& e, const ItemUpsert& d) {
  auto attr = [&](const char* k) -> const AttrValue* {
    if (!d.attributes) return nullptr;
    auto it = d.attributes->find(k);
    return it == d.attributes->end() ? nullptr : &it->second;
  };
  switch (e.kind) {
    case Expr::kAnd: return holds(a, e.kids[0], d) && holds(a, e.kids[1], d);
    case Expr::kOr: return holds(a, e.kids[0], d) || holds(a, e.kids[1], d);
    case Expr::kNot: return !holds(a, e.kids[0], d);
    case Expr::kBrandEq: return d.brand && a.fold(*d.brand) == a.fold(e.s);
    case Expr::kBrandNe: return !(d.brand && a.fold(*d.brand) == a.fold(e.s));
    case Expr::kPriceCmp: return d.price && cmp(*d.price, e.op, e.a);
    case Expr::kPriceRange: return d.price && *d.price >= e.a && *d.price <= e.b;
    case Expr::kYearCmp: {
      const AttrValue* v = attr("year");
      return v && std::holds_alternative<double>(*v) && cmp(std::get<double>(*v), e.op, e.a);
    }
    case Expr::kLangIn: {
      const AttrValue* v = attr("lang");
      if (!v || !std::holds_alternative<std::string>(*v)) return false;
      for (const auto& l : e.list) {
        if (a.fold(l) == a.fold(std::get<std::string>(*v))) return true;
      }
      return false;
    }
    case Expr::kCategory:
      if (d.categories) {
        for (const auto& p : *d.categories) {
          if (under(a, p, e.s)) return true;
        }
      }
      return false;
    case Expr::kHasYear: return attr("year") != nullptr;
    case Expr::kInStock: return d.in_stock.value_or(true) == e.flag;
    case Expr::kTagEq: {
      const AttrValue* v = attr("tags");
      if (!v || !std::holds_alternative<std::vector<std::string>>(*v)) return false;
      for (const auto& t : std::get<std::vector<std::string>>(*v)) {
        if (a.fold(t) == a.fold(e.s)) return true;
      }
      return false;
    }
  }
  return false;
}

Expr random_expr(std::mt19937& rng, int depth) {
  auto pick = [&](const auto& v) { return v[rng() % v.size()]; };
  const char* ops[] = {"<", "<=", ">", ">=", "="};
  Expr e{};
  const int k = depth > 0 ? static_cast<int>(rng() % 13) : 3 + static_cast<int>(rng() % 10);
  e.kind = static_cast<Expr::Kind>(k);
  switch (e.kind) {
    case Expr::kAnd:
    case Expr::kOr:
      e.kids = {random_expr(rng, depth - 1), random_expr(rng, depth - 1)};
      break;
    case Expr::kNot:
      e.kids = {random_expr(rng, depth - 1)};
      break;
    case Expr::kBrandEq:
    case Expr::kBrandNe:
      e.s = pick(kBrands);
      break;
    case Expr::kPriceCmp:
      e.op = ops[rng() % 5];
      e.a = static_cast<double>(rng() % 40);
      break;
    case Expr::kPriceRange:
      e.a = static_cast<double>(rng() % 20);
      e.b = e.a + static_cast<double>(rng() % 20);
      break;
    case Expr::kYearCmp:
      e.op = ops[rng() % 5];
      e.a = 1990 + static_cast<double>(rng() % 30);
      break;
    case Expr::kLangIn:
      e.list = {pick(kLangs)};
      if (rng() % 2) e.list.push_back(pick(kLangs));
      break;
    case Expr::kCategory:
      e.s = pick(kCats);
      break;
    case Expr::kHasYear:
      break;
    case Expr::kInStock:
      e.flag = rng() % 2;
      break;
    case Expr::kTagEq:
      e.s = pick(kTags);
      break;
  }
  return e;
}

}  // namespace

TEST_CASE("random filters select in search and in Filter::matches what the oracle selects",
          "[index][filter]") {
  std::mt19937 rng(20261208);
  auto pick = [&](const auto& v) { return v[rng() % v.size()]; };
  Shop shop;
  std::vector<ItemUpsert> items;
  for (int i = 0; i < 300; ++i) {
    ItemUpsert u = item("i" + std::to_string(i), "Item " + std::to_string(i));
    if (rng() % 5) u.brand = pick(kBrands);
    if (rng() % 5) u.price = static_cast<double>(rng() % 40) + (rng() % 2 ? 0.5 : 0.0);
    if (rng() % 3 == 0) u.in_stock = rng() % 2 == 0;
    if (rng() % 4) u.categories = std::vector<std::string>{pick(kCats)};
    Attributes attrs;
    if (rng() % 4) attrs["year"] = 1990.0 + static_cast<double>(rng() % 30);
    if (rng() % 4 == 0) attrs["year"] = std::string("unknown");  // text, not a number
    if (rng() % 3) attrs["lang"] = pick(kLangs);
    if (rng() % 2) attrs["tags"] = std::vector<std::string>{pick(kTags), pick(kTags)};
    if (!attrs.empty()) u.attributes = attrs;
    items.push_back(u);
    shop.add(u);
  }
  REQUIRE(shop.index->flush().ok());
  Analyzer a;
  for (int round = 0; round < 300; ++round) {
    const Expr e = random_expr(rng, static_cast<int>(rng() % 4));
    const std::string text = text_of(e);
    INFO(text);
    auto f = Filter::parse(text);
    REQUIRE(f.ok());
    auto again = Filter::parse(f->to_string());  // the canonical text is the same filter
    REQUIRE(again.ok());
    Ids expected;
    for (const auto& u : items) {
      const bool want = holds(a, e, u);
      if (want) expected.insert(u.id);
      const Item* it = nullptr;
      shop.store->read([&](const State& st) { it = st.item(u.id); });
      REQUIRE(it != nullptr);
      CHECK(f->matches(*it, AttributeSchema()) == want);
      CHECK(again->matches(*it, AttributeSchema()) == want);
    }
    CHECK(search_ids(shop, text) == expected);
  }
}

TEST_CASE("facets on attributes count values as their filters match, with numeric stats",
          "[index][filter][facets]") {
  Shop shop;
  shop.add(book("a", "X", 1, {{"Language", std::string("English")}, {"year", 2001.0},
                              {"formats", std::vector<std::string>{"ebook", "paper", "Ebook"}}}));
  shop.add(book("b", "X", 2, {{"language", std::string("english")}, {"year", 2003.0}}));
  shop.add(book("c", "X", 3, {{"language", std::string("Français")}, {"year", std::string("n/a")}}));
  shop.add(book("d", "X", 4));
  REQUIRE(shop.index->flush().ok());
  SearchRequest req;
  req.q = "*";
  req.facets = {"attributes.language", "attributes.year", "attributes.formats", "attributes.none"};
  auto res = shop.search(req);
  REQUIRE(res.facets.size() == 4);
  CHECK(res.facets[3].values.empty());  // no item has it
  CHECK(res.facets[0].field == "attributes.language");
  REQUIRE(res.facets[0].values.size() == 2);
  CHECK(res.facets[0].values[0].count == 2);  // English and english: one value
  CHECK(res.facets[0].values[1].value == "Français");
  CHECK_FALSE(res.facets[0].stats.has_value());
  REQUIRE(res.facets[1].stats.has_value());
  CHECK(res.facets[1].stats->count == 2);
  CHECK(res.facets[1].stats->min == 2001);
  CHECK(res.facets[1].stats->max == 2003);
  CHECK(res.facets[1].stats->sum == 4004);
  CHECK(res.facets[1].values.size() == 3);  // 2001, 2003 and the text "n/a"
  REQUIRE(res.facets[2].values.size() == 2);
  CHECK(res.facets[2].values[0].count == 1);  // a list counts each of its strings once
  // Each value's filter finds exactly its count.
  for (const auto& f : res.facets) {
    for (const auto& v : f.values) {
      INFO(f.field << " = " << v.value);
      CHECK(search_ids(shop, f.field + " = \"" + v.value + "\"").size() == v.count);
    }
  }
  SearchRequest bad;
  bad.q = "*";
  bad.facets = {"colour"};
  auto refused = shop.index->search(bad);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().path() == "facets[0]");
}

TEST_CASE("a facet its filters test alone is counted under the other filters (disjunctive)",
          "[index][filter][facets]") {
  Shop shop;
  shop.add(book("a", "Acme", 1, {{"language", std::string("en")}}));
  shop.add(book("b", "Acme", 2, {{"language", std::string("fr")}}));
  shop.add(book("c", "Zed", 3, {{"language", std::string("en")}}));
  shop.add(book("d", "Zed", 40, {{"language", std::string("en")}}));
  shop.add(book("e", "Other", 5, {{"language", std::string("de")}}));
  REQUIRE(shop.index->flush().ok());
  SearchRequest req;
  req.q = "*";
  req.filters = {"brand IN [Acme, Zed] AND attributes.language = en", "price < 10"};
  req.facets = {"brand", "attributes.language", "price"};
  // Conjunctive by default: every facet counts the answer's items.
  auto plain = shop.search(req);
  REQUIRE(plain.facets.size() == 3);
  CHECK(plain.facets[0].values.size() == 2);
  CHECK(plain.facets[1].values.size() == 1);  // en only
  req.disjunctive_facets = req.facets;
  auto res = shop.search(req);
  CHECK(res.total == 2);  // a, c
  auto counts = [](const Facet& f) {
    std::map<std::string, uint64_t> out;
    for (const auto& v : f.values) out[v.value] = v.count;
    return out;
  };
  using Counts = std::map<std::string, uint64_t>;
  REQUIRE(res.facets.size() == 3);
  // brand: under "language = en AND price < 10" (a, c): Acme 1, Zed 1.
  CHECK(counts(res.facets[0]) == Counts{{"Acme", 1}, {"Zed", 1}});
  // language: under "brand IN [Acme, Zed] AND price < 10" (a, b, c): en 2, fr 1.
  CHECK(counts(res.facets[1]) == Counts{{"en", 2}, {"fr", 1}});
  // price: under the brand and language filters (a, c, d): the 40 of d counted too.
  CHECK(counts(res.facets[2]) == Counts{{"0..10", 2}, {"25..50", 1}});
  // A filter mixing two fields in one conjunct narrows every facet.
  req.filters = {"brand = Acme OR attributes.language = de"};
  req.facets = {"brand"};
  req.disjunctive_facets = {"brand"};
  CHECK(counts(shop.search(req).facets[0]) == Counts{{"Acme", 2}, {"Other", 1}});
  req.disjunctive_facets = {"price"};  // not among the facets
  auto refused = shop.index->search(req);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().path() == "disjunctive_facets[0]");
}

TEST_CASE("suggest applies OR and NOT filters as search does", "[index][filter][suggest]") {
  Shop shop;
  shop.add(book("hp", "J.K. Rowling", 12, {{"year", 1997.0}}));
  shop.add(book("cc", "J.K. Rowling", 8, {{"year", 2012.0}}));
  shop.add(book("lotr", "Tolkien", 25, {{"year", 1954.0}}));
  shop.add(book("anon", std::nullopt, 3));
  for (const std::string filter :
       {"brand = Tolkien OR price < 5", "NOT brand = J.K. Rowling", "attributes.year = ..2000 AND NOT price > 20",
        "brand IN [tolkien, \"j.k. rowling\"] AND NOT (attributes.year > 2000)"}) {
    SuggestRequest req;
    req.q = "boo";
    req.items = 10;
    req.filters = {filter};
    auto res = shop.index->suggest(req);
    INFO(filter);
    REQUIRE(res.ok());
    Ids suggested;
    for (const auto& h : res->items) suggested.insert(h.id);
    CHECK(suggested == search_ids(shop, filter));
    CHECK_FALSE(suggested.empty());
  }
}
