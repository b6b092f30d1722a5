// Fuzz target: how a search request's text becomes a query (index/src/query.cpp
// parse_query, filter_query, word_query and phrase_query, with facets, sort, paging and typo
// settings checked in index/src/search.cpp), as GET /v1/search, GET /v1/suggest and
// `trove search` run them, against a tiny catalog indexed once per process in a temp dir
// (a dozen items, synonyms, some behaviour): the parsing is what is fuzzed, not Xapian's
// matching over a large index.
//
// Input: text lines. The first is q. Each later line sets one more part of the request by
// its first character:
//   f<filter>  one more filter ("brand=Acme", "price=10..50", "attributes.color=red")
//   F<a,b>     facets, comma-separated (as the API's `facets`)
//   s<digit>   sort: relevance, price_asc, price_desc, popularity, newest
//   p<n> n<n>  page, per_page
//   t<a>,<b>   typos.min_len_1typo, min_len_2typo
//   e  explain   x  typo tolerance off
// The same q and filters then go to suggest and to fuzzy_terms.
// Oracle: an accepted search respects its paging limits (page * per_page within the
// documented depth of 10,000), and every highlighted title is the title, HTML-escaped, with
// <em> tags added.
#include <charconv>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "trove/data/store.h"
#include "trove/index/catalog_index.h"

namespace {

using namespace trove;

constexpr size_t kMaxLines = 40;
constexpr size_t kMaxDepth = 10000;  // index/src/search.cpp: page * per_page

Event event(EventBody body) {
  Event e;
  e.body = std::move(body);
  return e;
}

ItemUpsert item(std::string id, std::string title, std::string brand, std::string category,
                double price, bool in_stock, std::vector<std::string> tags, Attributes attrs) {
  ItemUpsert u;
  u.id = std::move(id);
  u.title = std::move(title);
  u.brand = std::move(brand);
  u.categories = std::vector<std::string>{std::move(category)};
  u.price = price;
  u.currency = "EUR";
  u.in_stock = in_stock;
  u.tags = std::move(tags);
  u.attributes = std::move(attrs);
  u.description = "A description of " + u.title + " with crème, chocolate & <html> \"quotes\"";
  return u;
}

UserRef visitor(std::string v) {
  UserRef u;
  u.visitor_id = std::move(v);
  return u;
}

struct Shop {
  std::unique_ptr<Store> store;
  std::unique_ptr<CatalogIndex> index;
};

Shop& shop() {
  static Shop* s = [] {
    auto* shop = new Shop;
    const std::string dir = fuzz::fresh_dir("search_shop");
    StoreOptions so;
    so.journal.fsync = false;
    so.now_ms = [t = int64_t{1700000000000}]() mutable { return t += 1000; };
    auto store = Store::open(dir, so);
    FUZZ_CHECK(store.ok(), store.status().to_string());
    shop->store = std::move(store).value();
    auto index = CatalogIndex::open(dir + "/index", {});
    FUZZ_CHECK(index.ok(), index.status().to_string());
    shop->index = std::move(index).value();
    FUZZ_CHECK(shop->index->attach(*shop->store).ok(), "attach failed");

    std::vector<Event> ev;
    ev.push_back(event(item("sku-1", "Dark chocolate bar 70%", "Maison Dorée",
                            "Food > Sweets > Chocolate", 3.5, true, {"vegan", "dark"},
                            {{"color", std::string("brown")}, {"weight", 100.0}})));
    ev.push_back(
        event(item("sku-2", "Milk chocolate T-light holder", "Acme & Co", "Home > Candles", 12.0,
                   false, {"gift"}, {{"color", std::string("red")}, {"organic", true}})));
    ev.push_back(event(item("sku-3", "Crème brûlée set <deluxe>", "Le Creuset",
                            "Kitchen > Cookware > Ramekins", 49.99, true, {"dessert"},
                            {{"sizes", std::vector<std::string>{"S", "M"}}})));
    ev.push_back(event(item("sku-4", "AT&T 4.5-inch phone case", "Generic", "Electronics > Cases",
                            9.0, true, {"phone"}, {{"weight", 0.25}})));
    ev.push_back(event(item("sku-5", "巧克力 チョコレート 초콜릿", "無印良品", "Food > Sweets", 5.0,
                            true, {"asia"}, {{"origin", std::string("日本")}})));
    ev.push_back(event(item("sku-6", "L'huile d'olive extra vierge", "Olivier", "Food > Oils",
                            15.25, true, {"oil"}, {{"volume", 0.75}})));
    ev.push_back(event(item("sku-7", "Running shoes \"Swift\" size 42", "Sprint", "Sport > Shoes",
                            89.0, false, {"running"}, {{"size", 42.0}})));
    ev.push_back(event(item("sku-8", "Chocolate chip cookies", "Maison Dorée",
                            "Food > Sweets > Cookies", 2.2, true, {"snack"}, {})));
    SynonymsUpsert multi;
    multi.id = "syn-1";
    multi.synonyms = {"sneakers", "running shoes", "trainers"};
    ev.push_back(event(multi));
    SynonymsUpsert one_way;
    one_way.id = "syn-2";
    one_way.input = "choc";
    one_way.synonyms = {"chocolate"};
    ev.push_back(event(one_way));
    ev.push_back(event(DetailItemView{visitor("v1"), "sku-1"}));
    ev.push_back(event(DetailItemView{visitor("v2"), "sku-1"}));
    ev.push_back(event(AddToCart{visitor("v1"), "sku-8", 2, 2.2}));
    auto acks = shop->store->ingest(std::move(ev));
    FUZZ_CHECK(acks.ok(), acks.status().to_string());
    FUZZ_CHECK(shop->index->flush().ok(), "index flush failed");
    return shop;
  }();
  return *s;
}

size_t number(std::string_view s) {
  size_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

std::vector<std::string> split_commas(std::string_view s) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    const size_t comma = s.find(',', start);
    out.emplace_back(s.substr(start, comma == std::string_view::npos ? s.npos : comma - start));
    if (comma == std::string_view::npos) return out;
    start = comma + 1;
  }
}

// The highlighted title without its <em> tags and escapes must be the title.
std::string unhighlight(std::string_view h) {
  std::string out;
  for (size_t i = 0; i < h.size();) {
    bool matched = false;
    for (auto [from, to] : {std::pair{"<em>", ""},
                            {"</em>", ""},
                            {"&lt;", "<"},
                            {"&gt;", ">"},
                            {"&amp;", "&"},
                            {"&quot;", "\""}}) {
      if (h.substr(i).starts_with(from)) {
        out += to;
        i += std::string_view(from).size();
        matched = true;
        break;
      }
    }
    if (!matched) out += h[i++];
  }
  return out;
}

void check_hits(const std::vector<SearchHit>& hits) {
  for (const SearchHit& h : hits) {
    if (h.title_highlighted.empty()) continue;
    FUZZ_CHECK(unhighlight(h.title_highlighted) == h.title,
               "highlighting changed the title: " + h.title_highlighted);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Shop& s = shop();
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  SearchRequest req;
  size_t start = 0;
  for (size_t line = 0; line < kMaxLines && start <= in.size(); ++line) {
    size_t end = in.find('\n', start);
    if (end == std::string_view::npos) end = in.size();
    const std::string_view text = in.substr(start, end - start);
    start = end + 1;
    if (line == 0) {
      req.q = std::string(text);
      continue;
    }
    if (text.empty()) continue;
    const std::string_view arg = text.substr(1);
    switch (text[0]) {
      case 'f':
        req.filters.emplace_back(arg);
        break;
      case 'F':
        req.facets = split_commas(arg);
        break;
      case 's':
        req.sort = static_cast<SortOrder>(number(arg) % 5);
        break;
      case 'p':
        req.page = number(arg);
        break;
      case 'n':
        req.per_page = number(arg);
        break;
      case 't': {
        const auto parts = split_commas(arg);
        req.typos = TypoSettings{number(parts[0]), parts.size() > 1 ? number(parts[1]) : 0, true};
        break;
      }
      case 'e':
        req.explain = true;
        break;
      case 'x':
        req.typo_tolerance = false;
        break;
      default:
        break;
    }
  }

  auto found = s.index->search(req);
  if (found.ok()) {
    FUZZ_CHECK(req.page >= 1 && req.per_page >= 1 && req.page - 1 < kMaxDepth &&
                   (req.page - 1) * req.per_page < kMaxDepth,
               "a search past the paging limit was accepted: page " + std::to_string(req.page) +
                   ", per_page " + std::to_string(req.per_page));
    FUZZ_CHECK(found.value().hits.size() <= req.per_page, "more hits than per_page");
    check_hits(found.value().hits);
  } else {
    FUZZ_CHECK(!found.status().message().empty(), "a refused search without a message");
  }

  SuggestRequest sr;
  sr.q = req.q;
  sr.filters = req.filters;
  sr.typo_tolerance = req.typo_tolerance;
  sr.typos = req.typos;
  sr.items = req.per_page % 8;
  sr.completions = req.page % 8;
  auto suggested = s.index->suggest(sr);
  if (suggested.ok()) {
    FUZZ_CHECK(suggested.value().items.size() <= sr.items, "more items than asked for");
    FUZZ_CHECK(suggested.value().completions.size() <= sr.completions,
               "more completions than asked for");
    check_hits(suggested.value().items);
  }
  (void)s.index->fuzzy_terms(req.q, static_cast<int>(req.page % 4) - 1, req.explain, 10);
  return 0;
}
