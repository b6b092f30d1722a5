// Offline evaluation by replaying history (`trove eval`): how well each recommendation method
// would have predicted what people chose next, measured on the journal itself.
//
//   EvalOptions opts;
//   opts.split_ms = parse_iso8601("2011-11-01T00:00:00Z").value();
//   Result<EvalReport> r = evaluate("/var/lib/trove", opts);   // reads DATA_DIR/journal
//   for (const EvalRow& row : r->rows) printf("%s %.3f\n", row.method.c_str(), row.hr);
//
// Protocol. The journal's prefix up to the first record stamped at or after the split is
// folded into RecoModels (the state the system had then, as `trove replay --until` does) and
// EASE is trained on it. Then the later records are walked in seq order. Before a target event
// by a known person (someone the models already hold interactions of, who did not say
// `personalized: false`) is applied, every method is asked for that person's top K
// (K = max(k, 20)) as of that moment; the list is scored against the items the event chose;
// then the event is applied to the real-time models (EASE stays as trained at the split) and
// the walk goes on. Targets:
//   - purchase: a PurchaseComplete's distinct line items. "That moment" is before the first
//     AddToCart since the person's previous purchase (when there was one), not the checkout
//     itself: at checkout the basket is already in the models, and predicting a cart's own
//     content is no recommendation. A basket started by someone unknown is not a case.
//   - rating: a RateItem's item (any rating value);
//   - cart: an AddToCart's item (earlier lines of the same basket are known by then).
// Metrics, averaged over cases: HR@k (any hit in the top k), NDCG@k (binary relevance; the
// ideal DCG puts min(|chosen|, k) hits first), recall@20 (share of the chosen items in the top
// 20), and catalog coverage (distinct items ever in a top k / items with any interaction at
// the end of the walk). Records by people erased later by UserForget are left out entirely.
//
// Methods (one row each): popularity (RecoModels::popular), trending (RecoModels::trending),
// own-history (the person's own items that RecoModels::excluded_for allows, by summed weight:
// the "buy again" baseline), real-time (RecoModels::for_you), EASE (x·B over the person's current interactions, the
// history itself skipped, as in the paper), EASE-repeat (the same scores, offering what
// RecoModels::excluded_for allows, history included, as real-time does), blend (for_you and EASE scores each divided by their list's max
// and summed with EASE weighted by blend_weight), EASE-retrained (EASE-repeat from a model
// trained again every retrain_days of the walk, so it learns as the real-time model does),
// ItemKNN (cosine of items over who interacted with them, summed over the person's history,
// offering what real-time may; trained at the split and again on the same schedule). The personal rows fill a list shorter than
// K with the most popular items they may offer (counted in EvalRow::filled); real-time and
// blend offer what RecoModels::excluded_for allows (repeat buying is common in retail).
//
// Options that change the walk: shuffle_lines (EvalOptions) and min_rating.
// Deterministic: same journal and options, same report (except the seconds).
// Thread-safety: evaluate() shares nothing; concurrent calls are fine.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "trove/data/status.h"
#include "trove/recommend/ease.h"
#include "trove/recommend/models.h"

namespace trove {

struct EvalOptions {
  int64_t split_ms = 0;  // ms since the epoch; records from the first one stamped here on are cases
  size_t k = 10;         // REQUIRES: k >= 1
  bool purchases = true, ratings = true, carts = false;  // target event kinds
  // Ratings below this many stars are not cases (their events still count in the models).
  double min_rating = 0;
  // An order the data does not really carry must not be learnable: UCI invoices list their
  // lines partly sorted by stock code, all at the same minute, and a model that learns "the
  // next code" scores on it. With shuffle_lines, each run of consecutive events of one kind by
  // one person with one timestamp (an invoice's cart adds) is walked in a shuffled order, and
  // each purchase's lines are shuffled too, with a generator seeded with shuffle_seed (same
  // seed, same order). Applies before and after the split.
  bool shuffle_lines = false;
  uint64_t shuffle_seed = 20111209;
  uint64_t max_cases = 0;  // stop after this many cases (0: walk to the end)
  RecommendOptions models;
  EaseOptions ease;
  double blend_weight = 1.0;  // EASE's normalized score is multiplied by this in the blend
  // EASE-retrained and ItemKNN train again on everything known every this many days of the
  // walk (0: never, kept as trained at the split like EASE).
  double retrain_days = 7;
  size_t blend_candidates = 100;  // taken from each of for_you and EASE before blending
};

// A method's HR@k and NDCG@k over the cases that chose items of one kind, counting only those
// items (EvalRow::by_kind): "new" (the person had no interaction with it), "seen" (interacted,
// never bought), "re-buy" (bought before), "in-basket" (a cart target already in the cart: a
// repeated invoice line). A purchase's items are new or re-buy (its own cart adds would make
// every line "seen"). A case with items of several kinds counts in each.
struct KindScore {
  std::string kind;
  double hr = 0, ndcg = 0;
  uint64_t cases = 0;
};

struct EvalRow {
  // popularity, trending, own-history, real-time, EASE, EASE-repeat, blend, EASE-retrained,
  // ItemKNN
  std::string method;
  double hr = 0, ndcg = 0, recall = 0, coverage = 0;  // HR@k, NDCG@k, recall@20, coverage@k
  uint64_t cases = 0;
  uint64_t filled = 0;  // cases whose list was completed with popular items
  std::vector<KindScore> by_kind;  // new, seen, re-buy, in-basket, in that order
  double seconds = 0;   // spent asking this method, over all cases
};

struct EvalReport {
  size_t k = 0, list_size = 0;  // k and K
  std::vector<EvalRow> rows;
  uint64_t records_before = 0, records_after = 0;  // folded before the split / walked
  uint64_t skipped_forgotten = 0;  // records left out: their person was erased later
  uint64_t targets = 0;            // target events walked
  uint64_t cases = 0, purchase_cases = 0, rating_cases = 0, cart_cases = 0;
  uint64_t unknown = 0;           // targets by someone with no interaction yet (not cases)
  uint64_t unpersonalized = 0;    // targets by someone who said personalized: false
  uint64_t items_with_interactions = 0;
  uint64_t retrainings = 0;  // of EASE-retrained and ItemKNN during the walk
  bool stopped_early = false;  // max_cases reached
  EaseModel::Stats ease;
  RecoModels::Memory models_memory;  // at the split
  double fold_seconds = 0, walk_seconds = 0, seconds = 0;
};

// Runs the evaluation over `data_dir`/journal (read-only, safe beside a running server).
// Errors: the journal cannot be read, or a record does not parse (kCorruption, naming its seq).
Result<EvalReport> evaluate(const std::string& data_dir, const EvalOptions& opts);

}  // namespace trove
