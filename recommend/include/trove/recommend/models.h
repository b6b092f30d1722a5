// RecoModels: the real-time recommendation models, a pure fold over the event journal.
//
//   RecoModels m(opts);
//   for (each journaled event e, in seq order) m.apply(seq, e);   // e.timestamp_ms set
//   auto similar = m.similar(m.item_index("sku-1").value(), 10, accept);
//
// What it keeps (all in memory, updated by every event, no retraining):
// - item-to-item co-occurrence: each interaction pairs its item with the person's last
//   `window` distinct items, weighted by event kind (view < cart < purchase, ratings by
//   value) and forward-decayed in time (half-life `half_life_days`); rows keep the
//   `max_row` strongest entries (up to four times that between prunings), so memory per item is
//   bounded;
// - bought together: pairs within a PurchaseComplete basket (each line with the next `window`
//   lines), and an item added to a cart with the `window` newest items in the cart;
// - popularity per item: decayed like co-occurrence, undecayed in all, and per UTC day over
//   the last kMaxWindowDays days (popular lists); trending: a short decayed rate against the
//   item's own long one;
// - per person: the recent distinct items, bought, removed from cart, cart, personalized flag;
//   visitors joined to accounts by UserMerge (or an event naming both).
// Scores: similar(i, j) = co(i, j) / (pop(i)^0.5 * pop(j)^damping), a cosine with popularity
// damping so that best-sellers do not dominate every list.
//
// Determinism: apply() reads no clock; the same events give the same models and digest().
// Items and people are interned in order of first appearance in the models' own events, so
// indexes are not State's ItemRefs (forget replays a filtered journal, see Recommender).
//
// Batches: apply_deferred() + flush() give the same models as apply() per event, faster;
// the Recommender settles them after each slice of a Store group commit (under the Store's
// read lock) when readers wanted the rows since the last time or 2^21 updates wait, and
// otherwise lets the first reader do it.
//
// Thread-safety: const calls may run concurrently with each other (a read that finds row
// updates waiting makes them under an internal mutex), not with apply, apply_deferred or
// flush (the Recommender guards it with the Store's readers/writer lock).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "trove/data/events.h"
#include "trove/data/status.h"

namespace trove {

struct RecommendOptions {
  // Interaction weights by event kind.
  double view = 1, image = 0.5, click = 1, list_add = 2, cart = 3, purchase = 5, other = 1;
  double rating = 1;  // a RateItem of r stars (0..5) weighs rating * max(0, r - 2): 5 stars = 3
  double half_life_days = 30;          // co-occurrence and popularity
  // Trending compares an item's recent rate (decayed with a half-life of
  // trending_half_life_hours) with its own baseline (trending_baseline_days).
  double trending_half_life_hours = 24;
  double trending_baseline_days = 14;
  size_t window = 5;     // an interaction pairs with the person's last `window` distinct items
  size_t recent = 50;    // recent distinct items kept per person (for you, recently viewed)
  size_t max_row = 100;  // co-occurrence entries kept per item (a row may reach four times
                         // this before its weakest are dropped)
  double damping = 0.5;  // exponent of the candidate's popularity in similar()
  // Items whose buyers buy again at least this often may be recommended to who bought them.
  double repeat_ratio = 0.2;
  // for_you with an empty cart also offers the person's own bought items that may be offered
  // again (repeat_ratio), with this weight beside the neighbours' (both scaled to 1; 0: off).
  double buy_again = 1.0;
  // `personalized: false` people: their events still count in popularity and trending, but
  // not in co-occurrence (others' personalization) when this is true.
  bool unpersonalized_excluded = true;
  // The Recommender's for_you blends EASE in with this weight once trained (0: never). Off by
  // default: `trove eval` on the retail data decides (docs/RECOMMEND.md).
  double ease_blend = 0;
  bool operator==(const RecommendOptions&) const = default;
};

struct ScoredItem {
  uint32_t item = 0;  // RecoModels item index
  double score = 0;
};

// Blends ranked lists: each list's scores divided by its best one, times its weight, summed
// per item; the best n, ties to the lower item.
std::vector<ScoredItem> blend_lists(const std::vector<ScoredItem>& a, double a_weight,
                                    const std::vector<ScoredItem>& b, double b_weight, size_t n);

class RecoModels {
 public:
  explicit RecoModels(RecommendOptions opts = {});
  ~RecoModels();
  RecoModels(RecoModels&&) noexcept;
  RecoModels& operator=(RecoModels&&) noexcept;

  // REQUIRES: seqs increase; event.timestamp_ms set (journaled events always have one).
  void apply(uint64_t seq, const Event& event);
  // As apply(), but the co-occurrence and bought-together row updates may wait for flush()
  // (or for enough of them to pile up, or for a read that needs the rows: similar,
  // bought_together, for_you, affinity, digest and memory make them first). They are made
  // row by row, each row's in the order they came, so the models end exactly as after
  // apply() (same digest) but several times faster over a batch: a row is updated while it
  // is in cache, not once per event, and the larger the batch the more so.
  void apply_deferred(uint64_t seq, const Event& event);
  void flush();
  // Makes the waiting row updates now, as a read that needs the rows does, and under the
  // same rule: beside other reads and settle() calls, never beside apply, apply_deferred or
  // flush. A caller that holds a readers/writer lock around the models can thus make them
  // under the read lock, and keep its other readers from waiting.
  void settle() const;
  // Row updates waiting.
  size_t waiting_updates() const;
  // True when a read needed the rows since the last flush: a caller that batches may flush
  // at the end of each batch then (and keep the wait off the next reader), and let updates
  // pile up while nobody reads them (a bulk import).
  bool rows_wanted() const;

  const RecommendOptions& options() const;
  uint64_t last_seq() const;
  int64_t last_timestamp_ms() const;

  // ---- ids ----
  std::optional<uint32_t> item_index(std::string_view item_id) const;
  const std::string& item_id(uint32_t item) const;  // REQUIRES: item < item_count()
  size_t item_count() const;
  // The person a reference stands for ("u:<user_id>" or "v:<visitor_id>", visitors joined
  // to accounts resolved), as State::profile_key does.
  std::string person_key(const UserRef& user) const;
  std::string person_key(std::string_view user_id, std::string_view visitor_id) const;
  // The visitor ids joined to an account so far.
  std::vector<std::string> visitors_of(std::string_view user_id) const;

  // ---- scores (no catalog knowledge: callers filter with `accept`) ----
  using Accept = std::function<bool(uint32_t item)>;
  // Up to n neighbours of `item` by normalized co-occurrence, best first (ties: lower index).
  std::vector<ScoredItem> similar(uint32_t item, size_t n, const Accept& accept) const;
  std::vector<ScoredItem> bought_together(uint32_t item, size_t n, const Accept& accept) const;
  // Neighbours of the person's recent items, weighted by recency (the newest counts most),
  // without the items the person should not be offered again (bought unless repeat buying is
  // typical for the item, removed from the cart); with an empty cart, also the person's own
  // items worth buying again (RecommendOptions::buy_again). Empty for an unknown person.
  std::vector<ScoredItem> for_you(std::string_view person, size_t n, const Accept& accept) const;
  // The person's affinity to each of `items`: what for_you scores it (its co-occurrence with
  // the person's recent items, newest counting most), 0 when none; exclusions not applied.
  std::vector<double> affinity(std::string_view person, const std::vector<uint32_t>& items) const;
  // Most popular items by decayed weight (half_life_days), best first.
  std::vector<ScoredItem> popular(size_t n, const Accept& accept) const;
  // Most popular items by undecayed weight over the last `window_days` UTC days up to the
  // models' last event (that day included), or all time when window_days is 0, best first.
  // REQUIRES: window_days <= kMaxWindowDays.
  std::vector<ScoredItem> popular_within(int64_t window_days, size_t n,
                                         const Accept& accept) const;
  // Items whose recent rate is above their own baseline, best first: with S the weight
  // decayed over trending_half_life_hours and E the baseline's (trending_baseline_days)
  // share of that span, the score (S - E) / sqrt(E + 1), a Poisson z-score, kept when above
  // zero: a steady best-seller scores 0, a burst of 40 views of a new item about 19, one view
  // about 1. At the models' last event time.
  std::vector<ScoredItem> trending(size_t n, const Accept& accept) const;
  // The person's recent distinct items, newest first (views only when views_only).
  std::vector<uint32_t> recent_items(std::string_view person, bool views_only) const;
  // Items the person should not be offered again (see for_you).
  bool excluded_for(std::string_view person, uint32_t item) const;
  // Whether the person (or their account's merged visitors) bought `item`.
  bool has_bought(std::string_view person, uint32_t item) const;
  // false when the person (or their account) said personalized: false.
  bool personalized(std::string_view person) const;
  double popularity(uint32_t item) const;  // decayed weight, comparable across items

  // ---- the person x item matrix (what a batch model such as EASE trains on) ----
  size_t person_count() const;
  const std::string& person(uint32_t person) const;  // its key; REQUIRES: < person_count()
  std::optional<uint32_t> person_index(std::string_view key) const;
  // Every (person, item, summed interaction weight, undecayed) pair, person by person, items
  // in index order. People who are not personalized are included (the caller decides).
  void for_each_interaction(const std::function<void(uint32_t person, uint32_t item,
                                                     double weight)>& fn) const;
  // One person's (item, weight) pairs, items in index order.
  std::vector<std::pair<uint32_t, double>> interactions_of(std::string_view person) const;

  // ---- forget ----
  // Who UserForget erased: their events before `seq` are left out when models are rebuilt.
  struct Forgotten {
    uint64_t seq = 0;
    std::vector<std::string> user_ids;
    std::vector<std::string> visitor_ids;
  };
  // Every UserForget applied so far, with the visitors joined to the account at that moment.
  const std::vector<Forgotten>& forgotten() const;
  // True when `event` (at `seq`) is by someone forgotten later (or now): a rebuild skips it.
  static bool forgotten_event(const std::vector<Forgotten>& forgotten, uint64_t seq,
                              const Event& event);

  // 128-bit hash of the canonical content, as 32 hex digits (same events, same digest).
  std::string digest() const;
  // ---- persistence (models_file.h keeps them beside the snapshots) ----
  // Everything the models hold, as bytes (waiting row updates are made first, as a read
  // makes them), and back: the decoded models give the same answers, digest() and later
  // apply() as these. The encoding is canonical (rows and maps in key order). decode refuses
  // (kCorruption, saying what) bytes it cannot use, and models built with other options.
  std::string encode() const;
  static Result<RecoModels> decode(std::string_view bytes, const RecommendOptions& opts);

  // Approximate heap bytes held, in total and per item and per person.
  struct Memory {
    size_t total = 0, items = 0, people = 0;  // bytes
    double per_item = 0, per_person = 0;
    size_t item_count = 0, person_count = 0;
  };
  Memory memory() const;

 private:
  struct Rep;
  std::unique_ptr<Rep> rep_;
};

}  // namespace trove
