#include "batched_rows.h"

#include <absl/container/flat_hash_map.h>

#include <algorithm>
#include <utility>

namespace trove::reco_internal {

void BatchedRows::scale(double f) {
  for (Row& row : rows_) {
    for (auto& [j, v] : row) v *= f;
  }
}

// Adds w to row[other]. A row may grow to four times `cap`; then it keeps its `cap`
// strongest entries (ties: the lower index), in place, so the cost (O(row)) is amortized
// over at least 3 * cap inserts of new neighbours. (At cap 100 a row of 400 entries fits the
// same 512 slots as one of 300: four times costs no memory over three, and prunes less.)
void BatchedRows::add(Row& row, uint32_t other, double w, size_t cap) {
  row[other] += w;
  if (row.size() <= 4 * cap) return;
  thread_local std::vector<std::pair<double, uint32_t>> all;
  all.clear();
  for (const auto& [j, v] : row) all.emplace_back(v, j);
  auto stronger = [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  };
  const size_t keep = std::max<size_t>(1, cap);
  std::nth_element(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(keep - 1), all.end(),
                   stronger);
  const std::pair<double, uint32_t> weakest_kept = all[keep - 1];
  absl::erase_if(row, [&](const auto& kv) {
    return stronger(weakest_kept, std::pair<double, uint32_t>{kv.second, kv.first});
  });
}

// Makes the updates in order, each slot prefetched a few updates ahead: rows are scattered
// over tens of megabytes, and a miss per update (not the hashing) is what costs.
void BatchedRows::add_all(const std::vector<Add>& adds) {
  constexpr size_t kAhead = 16;
  const size_t n = adds.size();
  for (size_t i = 0; i < n; ++i) {
    if (i + kAhead < n) rows_[adds[i + kAhead].row].prefetch(adds[i + kAhead].other);
    add(rows_[adds[i].row], adds[i].other, adds[i].w, cap_);
  }
}

void BatchedRows::flush() {
  // Few updates, or a catalog much larger than them: in order (a sort would gain nothing).
  if (pending_.size() < 4096 || pending_.size() * 4 < rows_.size()) {
    add_all(pending_);
    pending_.clear();
    return;
  }
  // A stable counting sort by row, then each row's updates together while it is in cache.
  offsets_.assign(rows_.size() + 1, 0);
  for (const Add& a : pending_) ++offsets_[a.row + 1];
  for (size_t i = 1; i < offsets_.size(); ++i) offsets_[i] += offsets_[i - 1];
  scratch_.resize(pending_.size());
  for (const Add& a : pending_) scratch_[offsets_[a.row]++] = a;
  add_all(scratch_);
  pending_.clear();
}

}  // namespace trove::reco_internal
