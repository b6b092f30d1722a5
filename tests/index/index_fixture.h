// The index tests' shop: a Store and its CatalogIndex in a fresh temp dir with a deterministic
// clock, and small event builders. Header-only; include after <catch2/catch.hpp>.
#pragma once

#include <catch2/catch.hpp>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "test_util.h"
#include "trove/data/store.h"
#include "trove/index/catalog_index.h"

namespace trove::test {

inline Event ev(EventBody body) {
  Event e;
  e.body = std::move(body);
  return e;
}

inline ItemUpsert item(std::string id, std::string title) {
  ItemUpsert u;
  u.id = std::move(id);
  u.title = std::move(title);
  return u;
}

inline UserRef visitor(const std::string& v) {
  UserRef u;
  u.visitor_id = v;
  return u;
}

// "literal" + std::to_string(n), in steps (GCC 12 warns falsely on the one-liner).
inline std::string cat(std::string_view a, int n) {
  std::string s(a);
  s += std::to_string(n);
  return s;
}

struct Shop {
  TempDir tmp;
  std::string dir;  // the data directory: tmp's "data", or the one given
  std::unique_ptr<Store> store;
  std::unique_ptr<CatalogIndex> index;

  explicit Shop(IndexOptions opts = {}, std::string data_dir = {})
      : dir(data_dir.empty() ? tmp.path() + "/data" : std::move(data_dir)) {
    StoreOptions so;
    so.now_ms = [t = int64_t{1700000000000}]() mutable { return t += 1000; };
    auto s = Store::open(dir, so);
    REQUIRE(s.ok());
    store = std::move(s).value();
    auto i = CatalogIndex::open(dir + "/index", opts);
    INFO(i.status().to_string());
    REQUIRE(i.ok());
    index = std::move(i).value();
    Status st = index->attach(*store);
    INFO(st.to_string());
    REQUIRE(st.ok());
  }

  // Closes the index and opens it again on the same directory (default options).
  void reopen_index(std::vector<std::string>* warnings = nullptr) {
    index.reset();
    auto i = CatalogIndex::open(dir + "/index", {});
    REQUIRE(i.ok());
    index = std::move(i).value();
    REQUIRE(index->attach(*store, warnings).ok());
  }

  // Ingests and flushes, so the index shows the events.
  void add(std::vector<Event> events) {
    auto acks = store->ingest(std::move(events));
    INFO(acks.status().to_string());
    REQUIRE(acks.ok());
    Status st = index->flush();
    INFO(st.to_string());
    REQUIRE(st.ok());
  }
  void add(EventBody body) {
    std::vector<Event> v;
    v.push_back(ev(std::move(body)));
    add(std::move(v));
  }

  SearchResponse search(const SearchRequest& req) {
    auto res = index->search(req);
    INFO("q=" << req.q << ": " << res.status().to_string());
    REQUIRE(res.ok());
    return std::move(res).value();
  }
  SearchResponse search(const std::string& q) {
    SearchRequest req;
    req.q = q;
    req.per_page = 100;
    return search(req);
  }
  // Hit ids in rank order.
  std::vector<std::string> ids(const std::string& q) {
    std::vector<std::string> out;
    for (const auto& h : search(q).hits) out.push_back(h.id);
    return out;
  }
  std::set<std::string> id_set(const std::string& q) {
    auto v = ids(q);
    return {v.begin(), v.end()};
  }
  // Every hit of the request, page after page, in order.
  std::vector<SearchHit> all_pages(SearchRequest req, size_t per_page = 100) {
    req.per_page = per_page;
    std::vector<SearchHit> out;
    for (req.page = 1;; ++req.page) {
      auto res = search(req);
      CHECK(res.hits.size() <= per_page);
      if (res.hits.empty()) break;
      for (auto& h : res.hits) out.push_back(std::move(h));
      REQUIRE(req.page < 1000);
    }
    return out;
  }
  // The ids `*` finds under `filter`, every page.
  std::set<std::string> filtered_ids(const std::string& filter) {
    SearchRequest req;
    req.q = "*";
    req.filters = {filter};
    std::set<std::string> out;
    for (const auto& h : all_pages(req)) out.insert(h.id);
    return out;
  }
  SuggestResponse suggest(const std::string& q, size_t items = 10) {
    SuggestRequest req;
    req.q = q;
    req.items = items;
    req.completions = 10;
    auto res = index->suggest(req);
    INFO("q=" << q << ": " << res.status().to_string());
    REQUIRE(res.ok());
    return std::move(res).value();
  }
};

}  // namespace trove::test
