// ItemKnn: the classic item-based nearest-neighbour recommender (Sarwar et al. 2001), a
// baseline for `trove eval`: cosine similarity of items over who interacted with them,
// sim(i, j) = |P(i) ∩ P(j)| / sqrt(|P(i)| |P(j)|), each item keeping its best `neighbours`;
// a person's score for j is the sum of sim(i, j) over the items i of their history.
//
// Trained in one go from what RecoModels holds (binary: any positive summed weight counts),
// then frozen. Private to recommend/.
//
// Bounds: training is O(Σ_people min(|items|, max_history)²) hash-map updates; the model keeps
// `neighbours` entries per item.
// Thread-safety: a trained model is immutable; recommend() may run concurrently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "trove/recommend/models.h"

namespace trove::reco_internal {

class ItemKnn {
 public:
  ItemKnn() = default;
  static ItemKnn train(const RecoModels& models, size_t neighbours = 100,
                       size_t max_history = 200);
  // Top n items by summed similarity to `history` (items with weight > 0), best first (ties:
  // lower item), among those `accept` lets through; history items included when accepted.
  std::vector<ScoredItem> recommend(const std::vector<std::pair<uint32_t, double>>& history,
                                    size_t n, const RecoModels::Accept& accept) const;

 private:
  std::vector<std::vector<ScoredItem>> rows_;  // by item: its neighbours, best first
};

}  // namespace trove::reco_internal
