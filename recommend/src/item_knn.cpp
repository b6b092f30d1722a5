#include "item_knn.h"

#include <absl/container/flat_hash_map.h>

#include <algorithm>
#include <cmath>

#include "models_rep.h"

namespace trove::reco_internal {

ItemKnn ItemKnn::train(const RecoModels& models, size_t neighbours, size_t max_history) {
  const size_t items = models.item_count();
  std::vector<uint32_t> people_of(items, 0);
  std::vector<absl::flat_hash_map<uint32_t, uint32_t>> together(items);
  // for_each_interaction visits a person's items together: count each person's pairs once
  // their run of items ends.
  std::vector<uint32_t> mine;
  uint32_t current = UINT32_MAX;
  auto close_person = [&] {
    if (mine.size() > max_history) mine.resize(max_history);
    for (size_t a = 0; a < mine.size(); ++a) {
      ++people_of[mine[a]];
      for (size_t b = a + 1; b < mine.size(); ++b) {
        ++together[mine[a]][mine[b]];
        ++together[mine[b]][mine[a]];
      }
    }
    mine.clear();
  };
  models.for_each_interaction([&](uint32_t person, uint32_t item, double weight) {
    if (person != current) {
      close_person();
      current = person;
    }
    if (weight > 0) mine.push_back(item);
  });
  close_person();

  ItemKnn out;
  out.rows_.resize(items);
  for (uint32_t i = 0; i < items; ++i) {
    std::vector<ScoredItem> row;
    row.reserve(together[i].size());
    for (const auto& [j, n] : together[i]) {
      const double norm = std::sqrt(static_cast<double>(people_of[i]) * people_of[j]);
      row.push_back({j, static_cast<double>(n) / norm});
    }
    out.rows_[i] = best_n(std::move(row), neighbours);
    together[i] = {};  // free as we go
  }
  return out;
}

std::vector<ScoredItem> ItemKnn::recommend(const std::vector<std::pair<uint32_t, double>>& history,
                                           size_t n, const RecoModels::Accept& accept) const {
  absl::flat_hash_map<uint32_t, double> score;
  for (const auto& [i, weight] : history) {
    if (weight <= 0 || i >= rows_.size()) continue;
    for (const ScoredItem& s : rows_[i]) score[s.item] += s.score;
  }
  std::vector<ScoredItem> all;
  all.reserve(score.size());
  for (const auto& [j, s] : score) all.push_back({j, s});
  return best_accepted(std::move(all), n, accept);
}

}  // namespace trove::reco_internal
