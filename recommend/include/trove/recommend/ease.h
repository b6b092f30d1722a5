// EaseModel: EASE (Steck 2019, "Embarrassingly Shallow Autoencoders for Sparse Data"), a
// closed-form item-item model trained in one shot from the person x item matrix X:
//
//   G = XᵀX + λI,   P = G⁻¹,   B = I - P · diag(1 / diag(P))   (so diag(B) = 0)
//   score(person) = x_person · B
//
// It is the batch baseline beside the real-time models (RecoModels): it sees only what was
// known when it was trained, and learns every item pair's weight jointly instead of from
// pair counts, which makes it hard to beat on offline ranking metrics.
//
//   EaseModel ease = EaseModel::train(models, {});             // seconds for 4,000 items
//   auto top = ease.recommend(models.interactions_of(person), 10, nullptr);
//
// Bounds: training is O(Σ_people |items|² + m³) time and 2·m² doubles of scratch for m
// modeled items (m = min(max_items, items with interactions); 5,000 items = 400 MB scratch,
// ~3-10 s on one core); the trained model keeps m² floats (5,000 items = 100 MB). A query is
// O(|history| · m) plus a partial sort. Items outside the m most popular are never scored.
//
// Item numbers are RecoModels item indexes throughout (ScoredItem::item), so the result
// mixes with the real-time models' lists. Eigen stays inside ease.cpp.
//
// Thread-safety: a trained model is immutable; recommend() may run concurrently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "trove/recommend/models.h"

namespace trove {

struct EaseOptions {
  double lambda = 100;      // L2 regularization (λ on G's diagonal); larger = smoother
  size_t max_items = 5000;  // model only the most popular items (by people): keeps m³ small
  // How a person's summed interaction weight w > 0 enters X (w <= 0 leaves the cell empty):
  // binary (1) or log (log1p(w)). Log with λ = 100 evaluates best on the retail data when
  // bought items may be offered again (`trove eval`, docs/RECOMMEND.md): a person's heavy
  // items then count more in x·B. Paper-style EASE (history skipped) is ~10% better binary.
  enum class Weighting { kBinary, kLog };
  Weighting weighting = Weighting::kLog;
  // People who said `personalized: false`: left out of X when true.
  bool skip_unpersonalized = true;
};

// One cell of X before weighting: a person's summed interaction weight with an item.
struct EaseCell {
  uint32_t person = 0;
  uint32_t item = 0;  // any 32-bit item number; the model maps it to a dense column
  double weight = 0;
};

class EaseModel {
 public:
  EaseModel();  // empty: recommends nothing
  ~EaseModel();
  EaseModel(EaseModel&&) noexcept;
  EaseModel& operator=(EaseModel&&) noexcept;

  // Trains on everything `models` knows (RecoModels::for_each_interaction).
  static EaseModel train(const RecoModels& models, const EaseOptions& opts);
  // Trains on explicit cells (any order; a repeated (person, item) pair is summed first).
  static EaseModel train(std::span<const EaseCell> cells, const EaseOptions& opts);

  using Accept = RecoModels::Accept;  // empty function: accept everything
  // Top n items by x · B, best first (ties: lower item number), where x is `history` weighted
  // as in training (items the model does not know are ignored). The history's own items are
  // skipped unless include_history. Empty when no history item is modeled.
  std::vector<ScoredItem> recommend(std::span<const std::pair<uint32_t, double>> history,
                                    size_t n, const Accept& accept,
                                    bool include_history = false) const;

  // B's weight from item i to item j (0 for items not modeled), for tests and explanations.
  double weight(uint32_t from, uint32_t to) const;
  bool modeled(uint32_t item) const;
  // The modeled items, in column order (most popular first).
  const std::vector<uint32_t>& items() const;

  struct Stats {
    size_t people = 0;     // rows of X (people with at least one modeled item)
    size_t items = 0;      // columns (modeled items)
    size_t candidates = 0;  // items with any interaction before the max_items cut
    size_t nonzeros = 0;   // cells of X
    double gram_seconds = 0, solve_seconds = 0, seconds = 0;
    size_t bytes = 0;  // held by the trained model (B and the item maps)
  };
  const Stats& stats() const;
  const EaseOptions& options() const;

 private:
  struct Rep;
  std::unique_ptr<Rep> rep_;
};

}  // namespace trove
