// SearchSettingsUpsert searchable_fields: which item fields a query's words match in and how
// much each counts. A change re-indexes every item into fresh shards that are swapped in at
// the end; until then the old index answers, also across a restart, and searches running
// during the re-index never fail.
#include <xapian.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "document.h"
#include "index_fixture.h"

namespace {

using namespace trove;
using namespace trove::test;
using Ids = std::vector<std::string>;

ItemUpsert described(std::string id, std::string title, std::string description,
                     std::string brand = "Acme") {
  ItemUpsert u = item(std::move(id), std::move(title));
  u.description = std::move(description);
  u.brand = std::move(brand);
  return u;
}

SearchSettingsUpsert fields(std::vector<SearchableField> f) {
  SearchSettingsUpsert s;
  s.searchable_fields = std::move(f);
  return s;
}

// "bergamot" is in the title of one tea and in the description of the other; "citrusy" only
// in a description.
void add_teas(Shop& shop) {
  shop.add(described("title", "Bergamot tea", "A black tea."));
  shop.add(described("desc", "Black tea", "Smoky, with bergamot, bergamot and more bergamot, citrusy"));
}

void ingest(Shop& shop, EventBody body) {
  std::vector<Event> v;
  v.push_back(ev(std::move(body)));
  REQUIRE(shop.store->ingest(std::move(v)).ok());
}

}  // namespace

TEST_CASE("field weights rank a word in the heavier field first, after the re-index",
          "[index][settings]") {
  Shop shop;
  add_teas(shop);
  CHECK(shop.ids("bergamot") == Ids{"title", "desc"});  // title 6 against description 1

  ingest(shop, fields({{SearchField::kDescription, 10}, {SearchField::kTitle, 1}}));
  // Not flushed yet: the index built with the old weights answers.
  CHECK(shop.ids("bergamot") == Ids{"title", "desc"});
  REQUIRE(shop.index->flush().ok());
  CHECK(shop.ids("bergamot") == Ids{"desc", "title"});
  CHECK(shop.index->document_count() == 2);

  // Events after the re-index are followed by the new shards.
  shop.add(described("new", "Earl Grey", "bergamot"));
  CHECK(shop.id_set("bergamot") == std::set<std::string>{"title", "desc", "new"});

  // The rebuilt shards are what a restart opens: no second re-index, the same order.
  shop.reopen_index();
  CHECK(shop.ids("bergamot")[0] == "desc");
  CHECK(!std::filesystem::exists(shop.tmp.path() + "/data/index/next"));
  CHECK(!std::filesystem::exists(shop.tmp.path() + "/data/index/old"));
}

TEST_CASE("a re-index on a full disk leaves nothing behind, the old index answers, and it is "
          "tried again once there is space",
          "[index][settings]") {
  TmpfsMount disk(4 << 20);
  if (!disk.mounted()) {
    WARN("skipped: cannot mount a tmpfs (" << disk.error() << "); run as root");
    return;
  }
  Shop shop({}, disk.sub("data"));
  add_teas(shop);
  ingest(shop, fields({{SearchField::kDescription, 10}, {SearchField::kTitle, 1}}));
  disk.fill_up("filler");

  const Status full = shop.index->flush();
  INFO(full.to_string());
  CHECK(full.code() == StatusCode::kIOError);
  CHECK(!std::filesystem::exists(shop.dir + "/index/next"));
  CHECK(shop.ids("bergamot") == Ids{"title", "desc"});  // the old weights still answer

  std::filesystem::remove(disk.sub("filler"));
  REQUIRE(shop.index->flush().ok());
  CHECK(shop.ids("bergamot") == Ids{"desc", "title"});
  shop.add(described("new", "Earl Grey", "bergamot"));
  CHECK(shop.id_set("bergamot") == std::set<std::string>{"title", "desc", "new"});
}

TEST_CASE("a field left out of searchable_fields is not searched, its filter still works",
          "[index][settings]") {
  Shop shop;
  add_teas(shop);
  CHECK(shop.id_set("citrusy") == std::set<std::string>{"desc"});
  REQUIRE(!shop.index->fuzzy_terms("citrusy", 0, false, 10)->empty());

  shop.add(fields({{SearchField::kTitle, 5}}));
  CHECK(shop.ids("citrusy").empty());
  CHECK(shop.ids("bergamot") == Ids{"title"});
  CHECK(shop.id_set("acme").empty());  // brand words are not searched either
  // Its word left the vocabulary typo tolerance searches.
  CHECK(shop.index->fuzzy_terms("citrusy", 0, false, 10)->empty());
  SearchRequest req;
  req.q = "tea";
  req.filters = {"brand=Acme"};
  CHECK(shop.search(req).total == 2);

  // Back to every field: found again.
  shop.add(fields({{SearchField::kTitle, 6}, {SearchField::kDescription, 1}}));
  CHECK(shop.id_set("citrusy") == std::set<std::string>{"desc"});
}

TEST_CASE("settings changed before a restart re-index at the first flush after it",
          "[index][settings]") {
  Shop shop;
  add_teas(shop);
  ingest(shop, fields({{SearchField::kDescription, 10}, {SearchField::kTitle, 1}}));
  // Attach catches up without re-indexing (a server is not ready until attach returns).
  shop.reopen_index();
  CHECK(shop.ids("bergamot") == Ids{"title", "desc"});
  REQUIRE(shop.index->flush().ok());
  CHECK(shop.ids("bergamot") == Ids{"desc", "title"});
}

TEST_CASE("an interrupted index does not re-index and keeps answering with the old weights",
          "[index][settings]") {
  Shop shop;
  add_teas(shop);
  shop.index->interrupt();
  shop.add(fields({{SearchField::kDescription, 10}, {SearchField::kTitle, 1}}));
  CHECK(shop.ids("bergamot") == Ids{"title", "desc"});
  shop.add(described("new", "Earl Grey", "bergamot"));  // still followed
  CHECK(shop.id_set("bergamot").count("new") == 1);
  shop.reopen_index();  // a new start resumes it
  REQUIRE(shop.index->flush().ok());
  CHECK(shop.ids("bergamot")[0] == "desc");
}

TEST_CASE("shards of different field weights (a swap cut short) are rebuilt at attach",
          "[index][settings]") {
  Shop shop;
  add_teas(shop);
  shop.index.reset();
  const std::string dir = shop.tmp.path() + "/data/index";
  {
    Xapian::WritableDatabase shard(dir + "/shard-1", Xapian::DB_OPEN);
    shard.set_metadata("trove.fields", "title=1 brand=3 categories=2 tags=2 description=10");
    shard.commit();
  }
  std::filesystem::create_directories(dir + "/next/shard-0");  // a re-index's leftovers
  std::vector<std::string> warnings;
  shop.reopen_index(&warnings);
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].find("other settings") != std::string::npos);
  CHECK(!std::filesystem::exists(dir + "/next"));
  CHECK(shop.ids("bergamot") == Ids{"title", "desc"});  // the settings' (default) weights
}

TEST_CASE("searches running during a re-index all answer, with every item", "[index][settings]") {
  Shop shop;
  std::vector<Event> items;
  for (int i = 0; i < 3000; ++i) {
    items.push_back(ev(described(cat("sku-", i), cat("Teapot model ", i), "cast iron bergamot")));
  }
  shop.add(std::move(items));
  std::atomic<bool> done{false};
  std::atomic<int> searches{0}, failures{0}, wrong_totals{0};
  std::thread reader([&] {
    SearchRequest req;
    req.q = "teapot";
    while (!done.load()) {
      auto res = shop.index->search(req);
      if (!res.ok()) {
        ++failures;
      } else if (res->total != 3000) {
        ++wrong_totals;
      }
      ++searches;
    }
  });
  for (int round = 0; round < 3; ++round) {
    ingest(shop, fields({{SearchField::kTitle, 2 + round}, {SearchField::kDescription, 1}}));
    Status st = shop.index->flush();
    INFO(st.to_string());
    CHECK(st.ok());
  }
  done = true;
  reader.join();
  INFO(searches.load() << " searches");
  CHECK(searches.load() > 0);
  CHECK(failures.load() == 0);
  CHECK(wrong_totals.load() == 0);
}

TEST_CASE("field weights round-trip through the index metadata", "[index][settings]") {
  using namespace trove::index_internal;
  FieldWeights w{8, 0, 2, 5, 1};
  CHECK(parse_field_weights(to_string(w)) == w);
  CHECK(parse_field_weights("title=6") == std::nullopt);
  CHECK(parse_field_weights(to_string(w) + " ") == std::nullopt);
  CHECK(field_weights(SearchSettingsUpsert{}) == FieldWeights{});
  SearchSettingsUpsert s;
  s.searchable_fields = std::vector<SearchableField>{{SearchField::kTags, 3}};
  CHECK(field_weights(s) == FieldWeights{0, 0, 0, 3, 0});
}

TEST_CASE("writes made during a re-index show in search before it ends, and are in the new shards",
          "[index][settings]") {
  Shop shop;
  std::vector<Event> items;
  for (int i = 0; i < 30000; ++i) {
    items.push_back(ev(described(cat("sku-", i), cat("Teapot model ", i), "cast iron bergamot")));
  }
  shop.add(std::move(items));
  ingest(shop, fields({{SearchField::kTitle, 3}, {SearchField::kDescription, 1}}));
  const std::filesystem::path next = shop.tmp.path() + "/data/index/next";
  std::atomic<bool> flushed{false};
  Status flush_status;
  std::thread flusher([&] {
    flush_status = shop.index->flush();
    flushed = true;
  });
  ingest(shop, described("new", "Samovar", "brass"));
  // Seen while the fresh shards are being written (next/ exists before and after the search;
  // it is gone before the swap's own writes).
  bool seen_during = false;
  while (!flushed.load() && !seen_during) {
    const bool before = std::filesystem::exists(next);
    const bool found = !shop.ids("samovar").empty();
    seen_during = before && found && std::filesystem::exists(next);
  }
  // sku-0 went into the fresh shards in the first chunk: its change must be written again.
  ingest(shop, described("sku-0", "Kettle model 0", "cast iron bergamot"));
  flusher.join();
  INFO(flush_status.to_string());
  REQUIRE(flush_status.ok());
  CHECK(seen_during);  // until 2026-12-08 new items waited for the swap
  REQUIRE(shop.index->flush().ok());  // whatever is still pending
  CHECK(shop.ids("samovar") == Ids{"new"});
  CHECK(shop.ids("kettle") == Ids{"sku-0"});
}
