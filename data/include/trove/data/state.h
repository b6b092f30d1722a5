// State: everything Trove knows, in memory, as a pure fold over the journal:
//   State s; for (e : journal) s.apply(seq, e);
// apply() reads no clock and no randomness; every container whose order could leak (hash
// maps) is sorted before it is encoded, so digest() and snapshots are canonical: the same
// events give the same bytes, live, after replay, after snapshot + tail, after time travel.
//
// Item ids are interned into dense 32-bit ItemRefs in order of first appearance (a catalog
// event or a behaviour event naming the item), so histories hold 4-byte refs, not strings.
//
// Thread-safety: none inside; the Store guards a State with a reader/writer lock.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "trove/data/events.h"
#include "trove/data/status.h"

namespace trove {

using ItemRef = uint32_t;

// How the state remembers an event_id: its XXH3-128 hash.
using EventIdKey = std::pair<uint64_t, uint64_t>;
EventIdKey event_id_key(std::string_view event_id);

// A catalog item as last upserted and patched.
struct Item {
  ItemUpsert data;
  uint64_t created_seq = 0;
  uint64_t updated_seq = 0;
};

// Per-item behaviour counters (all users, including anonymous ones).
struct ItemCounters {
  uint64_t views = 0;        // DetailItemView
  uint64_t impressions = 0;  // ItemsView, SearchQuery results, RecoShow
  uint64_t clicks = 0;       // SearchResultClick, RecoClick
  uint64_t cart_adds = 0;
  uint64_t purchases = 0;    // units
  uint64_t orders = 0;       // orders that contain the item
  double revenue = 0;
  uint64_t rating_count = 0;
  double rating_sum = 0;
};

// One remembered interaction of a person with an item.
struct Interaction {
  uint64_t seq = 0;
  int64_t timestamp_ms = 0;
  ItemRef item = 0;
  EventType kind = EventType::kNone;
  float value = 0;  // quantity, rating or custom weight
};

// A person: an account (keyed by user_id) or an anonymous visitor (keyed by visitor_id).
struct Profile {
  int64_t first_seen_ms = 0;
  int64_t last_seen_ms = 0;
  uint64_t events = 0;
  std::optional<bool> personalized;
  // The most recent interactions, oldest first: at least kMaxHistory (when there were that
  // many) and fewer than kMaxHistory + kHistorySlack (trimmed in one go, not one per event).
  std::vector<Interaction> history;
  std::map<ItemRef, int64_t> cart;   // quantities
  std::map<std::string, std::set<ItemRef>> lists;
  std::map<ItemRef, float> ratings;
  uint64_t orders = 0;
  double revenue = 0;
};

struct Account {
  std::optional<bool> personalized;
  std::optional<Attributes> attributes;
  std::set<std::string> visitors;  // visitor ids joined to this account
};

// A query shoppers searched and were shown items for (SearchQuery with item_ids): what query
// suggestions are made of (docs/SEARCH.md, "Query suggestions").
struct SearchedQuery {
  uint64_t count = 0;   // searches that showed items
  int64_t last_ms = 0;  // the last one's timestamp
  bool operator==(const SearchedQuery&) const = default;
};

class State {
 public:
  static constexpr size_t kMaxHistory = 200;
  // searched_queries() holds at most this many; reaching it drops the least searched (see
  // there), so a flood of one-off queries cannot grow the state without bound.
  static constexpr size_t kMaxSearchedQueries = 100000;
  // A full history is trimmed back to kMaxHistory when it reaches kMaxHistory + kHistorySlack:
  // erasing the oldest entry at every event moved 6 kB per event (7 % of bulk ingestion).
  static constexpr size_t kHistorySlack = 56;

  State();
  ~State();
  State(State&&) noexcept;
  State& operator=(State&&) noexcept;

  // Applies one journaled event. REQUIRES: seq == last_seq() + 1 and event.timestamp_ms set.
  void apply(uint64_t seq, const Event& event);
  // The same with event_id_key(*event.event_id) already computed. REQUIRES: `id_key` is set
  // exactly when event.event_id is.
  void apply(uint64_t seq, const Event& event, const EventIdKey* id_key);

  uint64_t last_seq() const;
  int64_t last_timestamp_ms() const;

  // Idempotency: the seq that first carried `event_id`, if any.
  std::optional<uint64_t> seq_of_event_id(std::string_view event_id) const;
  std::optional<uint64_t> seq_of_event_key(const EventIdKey& key) const;
  // Starts loading the part of the event-id table where `key` lives (the table holds every id
  // ever seen: a probe is a cache miss; a batch prefetches a few events ahead).
  void prefetch_event_key(const EventIdKey& key) const;

  // ---- reads (valid until the next apply) ----
  const Item* item(std::string_view id) const;
  std::optional<ItemRef> item_ref(std::string_view id) const;
  const std::string& item_id(ItemRef ref) const;  // REQUIRES: ref < item_refs()
  size_t item_refs() const;                        // ids interned so far
  const Item* item_at(ItemRef ref) const;  // nullptr when not (or no longer) in the catalog
  const ItemCounters* item_counters(ItemRef ref) const;
  size_t item_count() const;                       // live catalog items
  // Calls fn(ref, item) for live items, the most recently created first (by created_seq: the
  // first ItemUpsert since the item was last removed), until fn returns false.
  void newest_items(const std::function<bool(ItemRef, const Item&)>& fn) const;
  // Calls fn(id, item) for every live item, in id order.
  void for_each_item(const std::function<void(const std::string&, const Item&)>& fn) const;

  // The profile key of a user reference: the account when known, else the visitor.
  std::string profile_key(const UserRef& user) const;
  const Profile* profile(std::string_view key) const;  // "u:<user_id>" or "v:<visitor_id>"
  const Account* account(std::string_view user_id) const;
  size_t profile_count() const;
  size_t account_count() const;

  const std::map<std::string, SynonymsUpsert>& synonyms() const;
  const std::map<std::string, PlacementUpsert>& placements() const;
  const RankingUpsert& ranking() const;
  // Every SearchSettingsUpsert field given so far, each at its last value (absent: never set).
  const SearchSettingsUpsert& search_settings() const;
  // The attributes declared by AttributeSettingsUpsert (and not removed since), by name; a
  // declaration replaces (and a removal drops) one of the same name in any ASCII case.
  const std::map<std::string, AttributeSetting>& attribute_settings() const;
  // Queries searched with results, keyed by the text as sent with each run of white space as
  // one space and none at the ends. When a new query would make kMaxSearchedQueries + 1,
  // those searched once are dropped, then twice, and so on, until at most 90% are left.
  const std::map<std::string, SearchedQuery>& searched_queries() const;
  // Offline lists keyed "<scope>/<placement or *>/<key>".
  const std::map<std::string, std::vector<ItemRef>>& offline_recommendations() const;

  uint64_t event_count(EventType type) const;
  uint64_t total_events() const;
  uint64_t orders() const;

  // 128-bit hash of the canonical encoding, as 32 hex digits.
  std::string digest() const;
  // Canonical binary encoding (the snapshot payload) and its inverse.
  std::string encode() const;
  static Result<State> decode(std::string_view bytes);
  // Approximate heap bytes held (for the "state bytes per event" figure).
  size_t memory_bytes() const;

 private:
  struct Rep;
  std::unique_ptr<Rep> rep_;
};

}  // namespace trove
