// BatchedRows: one row of (other item -> weight) per item, bounded, whose updates wait and are
// made in batches (the co-occurrence and bought-together rows of RecoModels).
//
//   BatchedRows co(max_row);
//   co.add_row();                   // item 0
//   co.push(0, 7, 1.5);             // waits
//   co.flush();                     // made: co[0] holds 7 -> 1.5
//
// flush() makes the waiting updates row by row, each row's in the order they came, so the rows
// end exactly as if each update had been made at once (the row bound prunes in that order too);
// a row is then updated while it is in cache, not once per event.
//
// Thread-safety: none (RecoModels guards it).
#pragma once

#include <absl/container/flat_hash_map.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace trove::reco_internal {

using Row = absl::flat_hash_map<uint32_t, double>;

class BatchedRows {
 public:
  // A row may grow to four times `cap` entries before it keeps its `cap` strongest.
  explicit BatchedRows(size_t cap) : cap_(cap) {}

  void add_row() { rows_.emplace_back(); }
  size_t size() const { return rows_.size(); }
  // REQUIRES: i < size(); updates that wait are not in it.
  const Row& operator[](uint32_t i) const { return rows_[i]; }

  // For loading saved rows. REQUIRES: i < size(), no update waiting.
  Row& loaded_row(uint32_t i) { return rows_[i]; }

  // Adds w to row[other] at the next flush. REQUIRES: row < size().
  void push(uint32_t row, uint32_t other, double w) { pending_.push_back({row, other, w}); }
  size_t waiting() const { return pending_.size(); }
  void flush();
  // Multiplies every weight by f (forward decay's rescaling). REQUIRES: no update waiting.
  void scale(double f);

 private:
  struct Add {
    uint32_t row = 0, other = 0;
    double w = 0;
  };
  static void add(Row& row, uint32_t other, double w, size_t cap);
  void add_all(const std::vector<Add>& adds);

  size_t cap_;
  std::vector<Row> rows_;
  std::vector<Add> pending_;
  std::vector<Add> scratch_;      // flush's sorted copy
  std::vector<uint32_t> offsets_;  // flush's counting sort
};

}  // namespace trove::reco_internal
