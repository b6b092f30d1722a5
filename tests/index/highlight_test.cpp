// Highlights of the fields a search asks for (SearchRequest::highlight): matched words in <em>
// in brand, lists and attributes, a description cropped to a snippet around its first match.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "index_fixture.h"

namespace {

using namespace trove;
using namespace trove::test;

const SearchHit::Highlight* find(const SearchHit& h, const std::string& field) {
  for (const auto& one : h.highlights) {
    if (one.field == field) return &one;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("highlights mark matched words in the fields asked for and crop descriptions",
          "[index][highlight]") {
  Shop shop;
  ItemUpsert u = item("kettle", "Stovetop kettle");
  u.brand = "Kettle & Co <b>";
  u.tags = std::vector<std::string>{"tea kettles", "camping"};
  std::string description = "A";
  for (int i = 0; i < 40; ++i) description += " plain";
  description += " whistling kettle for";
  for (int i = 0; i < 40; ++i) description += " more";
  u.description = description;
  u.attributes = Attributes{{"material", std::string("Steel kettle body")}, {"litres", 1.5}};
  shop.add(u);
  SearchRequest req;
  req.q = "kettles whistling";
  req.highlight = {"brand", "tags", "description", "attributes.material", "attributes.litres", "categories"};
  req.snippet_words = 6;
  auto res = shop.search(req);
  REQUIRE(res.hits.size() == 1);
  const SearchHit& h = res.hits[0];
  REQUIRE(find(h, "brand"));
  CHECK(find(h, "brand")->texts == std::vector<std::string>{"<em>Kettle</em> &amp; Co &lt;b&gt;"});  // by stem
  REQUIRE(find(h, "tags"));
  CHECK(find(h, "tags")->list);
  CHECK(find(h, "tags")->texts == std::vector<std::string>{"tea <em>kettles</em>", "camping"});
  REQUIRE(find(h, "description"));
  CHECK(find(h, "description")->texts[0] == "…plain <em>whistling</em> <em>kettle</em> for more more…");
  REQUIRE(find(h, "attributes.material"));
  CHECK(find(h, "attributes.material")->texts[0] == "Steel <em>kettle</em> body");
  CHECK_FALSE(find(h, "attributes.litres"));  // a number has no words to mark
  CHECK_FALSE(find(h, "categories"));         // the item has none
  // A short description is whole; the snippet never starts mid-text without a mark.
  req.snippet_words = 100;
  auto whole = shop.search(req);
  CHECK(find(whole.hits[0], "description")->texts[0].starts_with("A plain"));
  req.highlight = {"price"};
  auto refused = shop.index->search(req);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().path() == "highlight[0]");
  req.highlight = {"brand"};
  req.snippet_words = 0;
  CHECK(shop.index->search(req).status().path() == "snippet_words");
}
