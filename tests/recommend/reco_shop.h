// The recommender's test shop (a Store and a Recommender over a temp dir), the small mugs-and-
// teas catalog and request helpers, shared by recommender_test.cpp and reco_filter_test.cpp.
#pragma once

#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "recommend_fixture.h"
#include "test_util.h"
#include "trove/recommend/recommender.h"

namespace trove::test::reco {

struct Shop {
  TempDir tmp;
  std::unique_ptr<Store> store;
  std::unique_ptr<Recommender> reco;

  Shop() { reopen(); }
  void reopen() {
    reco.reset();
    store.reset();
    auto s = Store::open(tmp.sub("data"));
    REQUIRE(s.ok());
    store = std::move(s).value();
    auto r = Recommender::open(*store);
    INFO(r.status().to_string());
    REQUIRE(r.ok());
    reco = std::move(r).value();
  }
  void ingest(const Feed& f) {
    auto acks = store->ingest(f.events());
    INFO(acks.status().to_string());
    REQUIRE(acks.ok());
  }
};

inline std::vector<std::string> ids(const Result<RecoResponse>& r) {
  INFO(r.status().to_string());
  REQUIRE(r.ok());
  std::vector<std::string> out;
  for (const auto& i : r->items) out.push_back(i.id);
  return out;
}

inline RecoRequest for_item(const std::string& item, size_t count = 10) {
  RecoRequest q;
  q.item_id = item;
  q.count = count;
  return q;
}
inline RecoRequest for_visitor(const std::string& v, size_t count = 10) {
  RecoRequest q;
  q.visitor_id = v;
  q.count = count;
  return q;
}

// A small shop: mugs and teas, with shoppers who view a mug and then a tea.
inline Feed catalog() {
  Feed f;
  f.item("mug-red", "Red mug", "Kitchen > Mugs")
      .item("mug-blue", "Blue mug", "Kitchen > Mugs")
      .item("mug-gone", "Old mug", "Kitchen > Mugs", false)
      .item("tea-green", "Green tea", "Food > Tea")
      .item("tea-black", "Black tea", "Food > Tea")
      .item("new-pot", "Brand new teapot", "Kitchen > Pots");
  return f;
}

}  // namespace trove::test::reco
