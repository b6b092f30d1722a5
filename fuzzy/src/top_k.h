// TopK: the best `limit` candidates of a dictionary walk by (distance, frequency desc, rank),
// rank order being term order. A bounded max-heap whose top is the current worst entry, so a
// walk can ask what it would take to get in (worst_distance) and skip what cannot.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace trove::fuzzy {

class TopK {
 public:
  struct Candidate {
    uint8_t distance;
    uint32_t frequency;
    uint32_t rank;
  };

  static constexpr bool kBounded = true;  // a walk may skip what cannot enter (see trie_walk.h)

  // `freq` is indexed by rank and must outlive this object.
  TopK(size_t limit, const uint32_t* freq) : limit_(limit), freq_(freq) {}

  bool full() const { return heap_.size() >= limit_; }
  // REQUIRES: full().
  uint8_t worst_distance() const { return heap_.front().distance; }

  void offer(uint8_t distance, uint32_t rank) {
    const Candidate c{distance, freq_[rank], rank};
    if (!full()) {
      heap_.push_back(c);
      std::push_heap(heap_.begin(), heap_.end(), better);
    } else if (better(c, heap_.front())) {
      std::pop_heap(heap_.begin(), heap_.end(), better);
      heap_.back() = c;
      std::push_heap(heap_.begin(), heap_.end(), better);
    }
  }

  // Every rank in [lo, hi) at one distance.
  void offer_range(uint32_t lo, uint32_t hi, uint8_t distance) {
    for (uint32_t r = lo; r < hi; ++r) {
      if (full()) {
        if (distance > heap_.front().distance) return;  // nothing in the range can enter
        if (!better(Candidate{distance, freq_[r], r}, heap_.front())) continue;
      }
      offer(distance, r);
    }
  }

  std::vector<Candidate> take_sorted() {
    std::sort_heap(heap_.begin(), heap_.end(), better);
    return std::move(heap_);
  }

 private:
  static bool better(const Candidate& a, const Candidate& b) {
    if (a.distance != b.distance) return a.distance < b.distance;
    if (a.frequency != b.frequency) return a.frequency > b.frequency;
    return a.rank < b.rank;
  }

  size_t limit_;
  const uint32_t* freq_;
  std::vector<Candidate> heap_;
};

}  // namespace trove::fuzzy
