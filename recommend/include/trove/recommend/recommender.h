// Recommender: the real-time models (RecoModels) kept in step with a Store, served with the
// catalog's filters, placements and offline lists, and used to re-rank search for a user.
//
//   auto reco = Recommender::open(*store);           // builds the models from the journal
//   RecoRequest q;
//   q.user_id = "alice";
//   q.count = 10;
//   Result<RecoResponse> r = reco.value()->for_you(q);
//   Result<SearchResponse> s = reco.value()->search(*index, search_request, "alice", "");
//
// Keeping in step: open() loads the newest models file saved beside the snapshots
// (models_file.h; AutoSnapshots writes them) and folds the journal records after it up to the
// state's seq, or folds the whole journal when no file is usable (the same models either way;
// startup() says which), then a Store listener applies each new event as it is applied to the State, under
// the Store's write lock, so a reader never sees the models and the State disagree. A
// UserForget rebuilds the models from the journal without the forgotten person's events
// (and their visitors'), so the models are exactly those of a journal that never had them
// (digest() proves it); the replay (about 0.5 s per 500,000 events) runs on a background
// thread off the Store's lock, and only the records applied meanwhile are folded under it
// before the swap; the people it names get no personal output until then.
//
// Serving: only live catalog items are recommended, never out-of-stock ones (unless the
// filters ask for in_stock=false), never the request's exclusions or the item itself.
// Fallbacks: for_you without history (cold start) or with few neighbours takes the popular
// items of the person's categories, then the global ones; similar / bought together for a new
// item takes (for similar, given the catalog index) the items like it by their text, then
// the popular items of its category, then the global ones; trending short of
// accelerating items takes the popular ones; an answer still empty (a catalog without
// behaviour) takes the newest items. `source` says what answered.
//
// Thread-safety: every method may be called from any thread (reads take the Store's read
// lock). The Store must outlive the Recommender.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "trove/data/status.h"
#include "trove/data/store.h"
#include "trove/index/catalog_index.h"
#include "trove/recommend/ease.h"
#include "trove/index/filter.h"
#include "trove/recommend/models.h"
#include "trove/recommend/models_file.h"

namespace trove {

struct RecoRequest {
  std::string item_id;     // similar, bought together (and placements of those strategies)
  std::string user_id;     // for you, recently viewed: the account, or
  std::string visitor_id;  // the visitor (resolved to their account once merged)
  size_t count = 10;       // 1..100
  PlacementFilters filters;
  // More catalog filters in the filter language (trove/index/filter.h), with `filters`: what
  // search reads, matched the same way (folded text, categories by path).
  Filter filter;
  std::vector<std::string> exclude;  // item ids never to return
  bool drop_bought = false;  // recently viewed: leave out what the person bought
  // popular: the last window_days UTC days (1..kMaxWindowDays), up to the newest event's day;
  // all time when absent.
  std::optional<int64_t> window_days;
};

struct Recommendation {
  std::string id;
  std::string title;
  std::optional<std::string> brand;
  std::optional<double> price;
  // On one scale for every list: in [0, 1], non-increasing down the list, the first 1.
  // Each source's run of items is its own scores over its best, placed in its band below
  // the runs before it (docs/RECOMMEND.md, "Scores").
  double score = 0;
  // What produced this item: "offline", "co-occurrence", "co-occurrence+ease",
  // "bought-together", "similar-content", "trending", "recently-viewed", "popular", "new-arrivals",
  // "category-popularity", "popularity" (decayed, the fallback).
  std::string source;
  // What a recommendation widget shows besides the title, brand and price.
  std::optional<std::string> currency;
  std::optional<std::string> url;
  std::optional<std::string> image_url;
};

struct RecoResponse {
  std::string strategy;  // similar, bought-together, for-you, trending, recently-viewed,
                         // popular, new-arrivals
  // What answered: the items' sources in the order they first appear, joined by "+"
  // ("offline+co-occurrence+popularity"); empty when no item was found.
  std::string source;
  bool personalized = false;  // false for anonymous requests and personalized:false people
  std::vector<Recommendation> items;
  double took_ms = 0;
};

class Recommender {
 public:
  static Result<std::unique_ptr<Recommender>> open(Store& store, RecommendOptions opts = {},
                                                   const ModelsBuildOptions& build = {});
  // How open() built the models: from which models file, how many journal records folded.
  const ModelsBuildReport& startup() const;
  ~Recommender();
  Recommender(const Recommender&) = delete;
  Recommender& operator=(const Recommender&) = delete;

  // With `index`, an item short of behaviour (new, or few neighbours) also gets the items
  // like it by their text (CatalogIndex::similar_items, source "similar-content") after its
  // neighbours and before the popularity fallbacks.
  Result<RecoResponse> similar(const RecoRequest& req, const CatalogIndex* index = nullptr) const;
  Result<RecoResponse> bought_together(const RecoRequest& req) const;
  Result<RecoResponse> for_you(const RecoRequest& req) const;
  // Items gaining on their own baseline (RecoModels::trending), then popular ones.
  Result<RecoResponse> trending(const RecoRequest& req) const;
  Result<RecoResponse> recently_viewed(const RecoRequest& req) const;
  // Most interacted-with items, all time or over req.window_days (undecayed weights).
  Result<RecoResponse> popular(const RecoRequest& req) const;
  // The catalog's items, the most recently created first (their first ItemUpsert), with or
  // without behaviour.
  Result<RecoResponse> new_arrivals(const RecoRequest& req) const;
  // A PlacementUpsert's strategy, count and filters (the request's filters and exclusions
  // are added); its offline list, if any, comes first. `index` as for similar().
  Result<RecoResponse> placement(std::string_view placement_id, const RecoRequest& req,
                                 const CatalogIndex* index = nullptr) const;

  // Personalized search: the index's first kRerankWindow (100) results re-ranked by a blend
  // of text relevance (score / best score), typo penalty (per edit), the user's affinity to
  // each item (co-occurrence with their recent items, / the best) and popularity (log, / the
  // best), with RankingUpsert's weights (defaults: text 1, affinity 0.5, popularity 0.2, typo
  // penalty 0.3); pages past the window keep the text order. With explain each hit lists its
  // contributions. Without a user, an unknown one, or personalized:false: the plain order.
  Result<SearchResponse> search(const CatalogIndex& index, const SearchRequest& req,
                                std::string_view user_id, std::string_view visitor_id) const;

  // EASE, the batch model: trained on a background thread from the person x item cells the
  // models hold now (copied under the read lock, so ingestion is not held up), then swapped in
  // atomically. for_you blends it in when RecommendOptions::ease_blend > 0. Returns at once;
  // Unavailable while a training runs.
  Status train_ease(const EaseOptions& opts = {});
  void wait_for_ease() const;                      // until no training runs
  std::optional<EaseModel::Stats> ease_stats() const;  // of the model in use, if any

  std::string digest() const;  // the models'
  RecoModels::Memory memory() const;
  uint64_t rebuilds() const;   // models rebuilt after UserForget
  uint64_t rebuild_failures() const;  // rebuilds that could not read the journal
  // OK, or Unavailable while a UserForget is not yet applied to the models: its rebuild runs
  // on a background thread, or failed (the journal could not be read) and is tried again after
  // the next group commit. Meanwhile the people it names get no personal output.
  Status forget_status() const;
  // Until no forget rebuild runs or is about to (a failed one waits for the next commit).
  void wait_for_forgets() const;

 private:
  struct Rep;
  explicit Recommender(std::unique_ptr<Rep> rep);
  std::unique_ptr<Rep> rep_;
};

}  // namespace trove
