// `trove recommend`: the Recommender's calls on a data directory, for people and scripts
// (--json). The HTTP endpoints call the same functions.
//
//   trove recommend --data-dir D similar --item sku-1 [--count 10] [--category Food] ...
//   trove recommend --data-dir D for-you --user alice
//   trove recommend --data-dir D placement --placement home --visitor v1
#include <cstdio>
#include <iostream>

#include "common.h"
#include "index_util.h"
#include "trove/http/json_shapes.h"
#include "trove/recommend/recommender.h"

namespace trove::cli {
namespace {

struct RecommendArgs {
  std::string data_dir;
  std::string strategy;
  std::string item;
  std::string user;
  std::string visitor;
  std::string placement;
  size_t count = 10;
  std::string category, brand;
  std::optional<bool> in_stock;
  std::optional<double> min_price, max_price;
  std::vector<std::string> filter;
  std::vector<std::string> exclude;
  bool json = false;
  bool drop_bought = false;
  std::optional<int64_t> window_days;
};

int run_recommend(const RecommendArgs& a) {
  constexpr const char* kName = "recommend";
  OpenReport report;
  auto store = open_existing_store(a.data_dir, &report);
  if (!store.ok()) return fail(kName, store.status());
  print_warnings(kName, report.warnings);
  auto reco = Recommender::open(*store.value());
  if (!reco.ok()) return fail(kName, reco.status());

  RecoRequest q;
  q.item_id = a.item;
  q.user_id = a.user;
  q.visitor_id = a.visitor;
  q.count = a.count;
  q.exclude = a.exclude;
  q.drop_bought = a.drop_bought;
  q.window_days = a.window_days;
  if (!a.category.empty()) q.filters.category = a.category;
  if (!a.brand.empty()) q.filters.brand = a.brand;
  q.filters.in_stock = a.in_stock;
  q.filters.min_price = a.min_price;
  q.filters.max_price = a.max_price;
  auto filter = Filter::all_of(a.filter, "--filter");
  if (!filter.ok()) return fail(kName, filter.status());
  q.filter = std::move(filter).value();
  const Recommender& r = *reco.value();
  // similar (and a placement, which may be similar) falls back on the items like a new item
  // by their text: the catalog index answers that.
  std::unique_ptr<CatalogIndex> index;
  if (a.strategy == "similar" || a.strategy == "placement") {
    std::vector<std::string> warnings;
    auto opened = open_index(*store.value(), &warnings);
    if (!opened.ok()) return fail(kName, opened.status());
    print_warnings(kName, warnings);
    index = std::move(opened).value();
  }
  Result<RecoResponse> res = Status::invalid("unknown strategy", "strategy");
  if (a.strategy == "similar") res = r.similar(q, index.get());
  if (a.strategy == "bought-together") res = r.bought_together(q);
  if (a.strategy == "for-you") res = r.for_you(q);
  if (a.strategy == "trending") res = r.trending(q);
  if (a.strategy == "recently-viewed") res = r.recently_viewed(q);
  if (a.strategy == "popular") res = r.popular(q);
  if (a.strategy == "new-arrivals") res = r.new_arrivals(q);
  if (a.strategy == "placement") {
    if (a.placement.empty()) return fail(kName, Status::invalid("expected --placement ID", "placement"));
    res = r.placement(a.placement, q, index.get());
  }
  if (!res.ok()) return fail(kName, res.status());
  if (a.json) {
    std::cout << http::recommend_response_json(*res).dump() << "\n";
    return kExitOk;
  }
  std::printf("%s from %s%s (%.2f ms)\n", res->strategy.c_str(),
              res->source.empty() ? "nothing" : res->source.c_str(),
              res->personalized ? ", personalized" : "", res->took_ms);
  for (const auto& i : res->items) {
    std::printf("  %-16s %8.4f  %s", i.id.c_str(), i.score, i.title.c_str());
    if (i.brand) std::printf("  [%s]", i.brand->c_str());
    if (i.price) std::printf("  %.2f", *i.price);
    if (res->source != i.source) std::printf("  (%s)", i.source.c_str());
    std::printf("\n");
  }
  return kExitOk;
}

}  // namespace

Command add_recommend_command(CLI::App& root) {
  auto a = std::make_shared<RecommendArgs>();
  CLI::App* app = root.add_subcommand("recommend", "Recommendations from the real-time models");
  app->add_option("--data-dir", a->data_dir, "Data directory")->required();
  app->add_option("strategy", a->strategy,
                  "similar, bought-together, for-you, trending, recently-viewed, popular, "
                  "new-arrivals, placement")
      ->required()
      ->check(CLI::IsMember({"similar", "bought-together", "for-you", "trending",
                             "recently-viewed", "popular", "new-arrivals", "placement"}));
  app->add_option("--item", a->item, "The item (similar, bought-together)");
  app->add_option("--user", a->user, "The account (for-you, recently-viewed)");
  app->add_option("--visitor", a->visitor, "The visitor, when there is no account");
  app->add_option("--placement", a->placement, "A PlacementUpsert id (placement)");
  app->add_option("--count", a->count, "Items to return, 1..100");
  app->add_option("--category", a->category, "Only items under this category path");
  app->add_option("--brand", a->brand, "Only items of this brand");
  app->add_option("--in-stock", a->in_stock, "true: in stock only (the default); false: out of stock only");
  app->add_option("--min-price", a->min_price, "Lowest price");
  app->add_option("--max-price", a->max_price, "Highest price");
  app->add_option("--filter", a->filter,
                  "The filter language, as search takes it: brand = Acme AND price < 10 "
                  "(repeatable; all must hold; docs/SEARCH.md)");
  app->add_option("--exclude", a->exclude, "Item ids never to return (repeatable)");
  app->add_flag("--drop-bought", a->drop_bought,
                "recently-viewed: leave out the items the person bought");
  app->add_option("--window-days", a->window_days,
                  "popular: count the last N UTC days (1..90); all time without it");
  app->add_flag("--json", a->json, "Print one JSON object");
  return {app, [a] { return run_recommend(*a); }};
}

}  // namespace trove::cli
