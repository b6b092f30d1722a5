// The event catalog: every way data enters Trove. Each event kind is a plain struct here;
// its field table (data/src/event_fields.h) is the single source of truth that drives the
// strict parser, the canonical serializer and the JSON Schema, so the three cannot drift.
//
// Required fields are plain members; optional ones are std::optional (absent and present
// are different things, e.g. in ItemPatch). Behaviour events carry a UserRef.
//
//   EventParser parser;                       // reusable, not thread-safe
//   Result<Event> e = parser.parse(R"({"type":"DetailItemView",
//       "user":{"visitor_id":"v1"},"item_id":"sku-1"})");
//   if (!e.ok()) puts(e.status().to_string().c_str());  // "user.visitor_id: expected ..."
//   std::string json = serialize_event(e.value());      // canonical: fixed field order
//
// Thread-safety: the structs are values; EventParser instances must not be shared between
// threads; the free functions are thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "trove/data/status.h"

namespace trove {

// ---- shared parts --------------------------------------------------------------------------

// Who did it. visitor_id is the device/browser id; user_id the account once known.
struct UserRef {
  std::string visitor_id;
  std::optional<std::string> user_id;
  std::optional<std::string> session_id;
  std::optional<bool> personalized;  // false: never use for personalization
  bool operator==(const UserRef&) const = default;
};

// An item attribute value: text, number (|x| <= 2^53), boolean, or a list of strings.
using AttrValue = std::variant<std::string, double, bool, std::vector<std::string>>;
using Attributes = std::map<std::string, AttrValue>;  // ordered: canonical by construction

enum class Strategy {
  kSimilar,
  kBoughtTogether,
  kForYou,
  kTrending,
  kRecentlyViewed,
  kPopular,
  kNewArrivals,
};
enum class RecoScope { kItem, kUser, kGlobal };

struct PlacementFilters {
  std::optional<std::string> category;  // category path prefix
  std::optional<std::string> brand;
  std::optional<bool> in_stock;
  std::optional<double> min_price;
  std::optional<double> max_price;
  bool operator==(const PlacementFilters&) const = default;
};

struct PurchaseLine {
  std::string item_id;
  int64_t quantity = 0;
  std::optional<double> price;  // unit price
  bool operator==(const PurchaseLine&) const = default;
};

// ---- catalog -------------------------------------------------------------------------------

struct ItemUpsert {
  std::string id;
  std::string title;
  std::optional<std::string> description;
  std::optional<std::string> brand;
  std::optional<std::vector<std::string>> categories;  // paths, levels joined by " > "
  std::optional<double> price;
  std::optional<std::string> currency;  // ISO 4217, three capital letters
  std::optional<bool> in_stock;
  std::optional<std::vector<std::string>> tags;
  std::optional<Attributes> attributes;
  std::optional<std::string> url;
  std::optional<std::string> image_url;
  bool operator==(const ItemUpsert&) const = default;
};

// Replaces only the fields present.
struct ItemPatch {
  std::string id;
  std::optional<std::string> title;
  std::optional<std::string> description;
  std::optional<std::string> brand;
  std::optional<std::vector<std::string>> categories;
  std::optional<double> price;
  std::optional<std::string> currency;
  std::optional<bool> in_stock;
  std::optional<std::vector<std::string>> tags;
  std::optional<Attributes> attributes;  // merged key by key
  std::optional<std::string> url;
  std::optional<std::string> image_url;
  bool operator==(const ItemPatch&) const = default;
};

struct ItemRemove {
  std::string id;
  bool operator==(const ItemRemove&) const = default;
};

// ---- catalog settings ----------------------------------------------------------------------

// What an item attribute holds, as the catalog declares it (docs/SEARCH.md, "Typed
// attributes"). A value of another JSON type is read as the declared one where it converts
// ("2015" as the number 2015, a number as its text, a string as a one-string list, "true" and
// "false" as booleans, "48.85,2.35" or ["48.85","2.35"] as a geo point); where it does not, the
// attribute is stored and returned but neither filters, facets, sorts nor is searched.
enum class AttributeType { kString, kNumber, kBoolean, kStringList, kGeoPoint };
struct AttributeSetting {
  std::string name;  // the key in items' attributes, matched folded (case, accents) as filters are
  AttributeType type = AttributeType::kString;
  std::optional<bool> searchable;   // a query's words match its text (default false)
  std::optional<int64_t> weight;    // when searchable: as SearchableField::weight (default 1)
  std::optional<bool> filterable;   // default true
  std::optional<bool> facetable;    // default true
  std::optional<bool> sortable;     // default true for numbers and geo points
  std::optional<bool> retrievable;  // in search and suggest hits (default true)
  bool operator==(const AttributeSetting&) const = default;
};
// Declares attributes: each entry replaces the declaration of its name, the others stay.
// Undeclared attributes keep the defaults (typed by their JSON value, filterable, facetable,
// numbers sortable, returned, not searched). A change that alters what the index holds
// re-indexes in the background while the old index answers.
struct AttributeSettingsUpsert {
  std::vector<AttributeSetting> attributes;
  bool operator==(const AttributeSettingsUpsert&) const = default;
};
// Drops declarations: the attributes named go back to the defaults.
struct AttributeSettingsRemove {
  std::vector<std::string> names;
  bool operator==(const AttributeSettingsRemove&) const = default;
};

// ---- search config -------------------------------------------------------------------------

// Multi-way when `input` is absent (every term stands for every other); one-way otherwise
// (`input` also finds `synonyms`, not the reverse).
struct SynonymsUpsert {
  std::string id;
  std::optional<std::string> input;
  std::vector<std::string> synonyms;
  bool operator==(const SynonymsUpsert&) const = default;
};
struct SynonymsRemove {
  std::string id;
  bool operator==(const SynonymsRemove&) const = default;
};
struct RankingUpsert {
  std::optional<double> text_weight;
  std::optional<double> affinity_weight;
  std::optional<double> popularity_weight;
  std::optional<double> typo_penalty;
  bool operator==(const RankingUpsert&) const = default;
};

// Search settings for the whole catalog, for search and suggest (docs/SEARCH.md, "Search
// settings"). Each field given replaces the current value; absent fields keep theirs.
enum class RankingSignal { kNone, kPopularity, kAttribute };
enum class SignalOrder { kDesc, kAsc };
// The item fields a query's words are matched in.
enum class SearchField { kTitle, kBrand, kCategories, kTags, kDescription };
struct SearchableField {
  SearchField field = SearchField::kTitle;
  int64_t weight = 1;  // how much a word matched in this field counts, relative to the others
  bool operator==(const SearchableField&) const = default;
};
struct SearchSettingsUpsert {
  // Typo tolerance for every request that does not set its own: 0 off, 1 at most one typo a
  // word, 2 by length (the default); the lengths a word needs for one and for two typos.
  std::optional<int64_t> typos;
  std::optional<int64_t> min_len_1typo;
  std::optional<int64_t> min_len_2typo;
  // The business signal that ranks hits beside the text score for everyone: popularity
  // (behaviour), a numeric attribute (signal_attribute), or none; descending unless asc;
  // weight 0: only between hits the text scores equally; above 0: blended with the text score.
  std::optional<RankingSignal> signal;
  std::optional<std::string> signal_attribute;
  std::optional<SignalOrder> signal_order;
  std::optional<double> signal_weight;
  // Words a query matches without requiring them ("the", "de"): they add to the score where
  // present; a query made only of them still requires them.
  std::optional<std::vector<std::string>> stopwords;
  // The fields searched and their weights (default: title 6, brand 3, categories 2, tags 2,
  // description 1); a field not listed is not searched. Changing them re-indexes every item
  // in the background while the index built with the old ones keeps answering.
  std::optional<std::vector<SearchableField>> searchable_fields;
  bool operator==(const SearchSettingsUpsert&) const = default;
};

// ---- placements ----------------------------------------------------------------------------

// The longest window a popular list counts (RecoModels keeps per-day weights that long).
inline constexpr int64_t kMaxWindowDays = 90;

struct PlacementUpsert {
  std::string id;
  Strategy strategy = Strategy::kSimilar;
  std::optional<int64_t> count;  // items to return; 10 when absent
  std::optional<PlacementFilters> filters;
  // popular: count the last `window_days` days (today and the days before, UTC), 1 to
  // kMaxWindowDays; all time when absent.
  std::optional<int64_t> window_days;
  // The filter language (docs/SEARCH.md), ANDed with `filters` and the request's: checked
  // when the event comes in (trove/index/filter.h, check_event).
  std::optional<std::string> filter;
  bool operator==(const PlacementUpsert&) const = default;
};
struct PlacementRemove {
  std::string id;
  bool operator==(const PlacementRemove&) const = default;
};
// Externally computed lists: for an item (similar), a user (for you) or everyone.
struct OfflineRecommendationsUpsert {
  RecoScope scope = RecoScope::kItem;
  std::string key;  // the item id or user id; "*" for global
  std::vector<std::string> item_ids;
  std::optional<std::string> placement_id;
  bool operator==(const OfflineRecommendationsUpsert&) const = default;
};
struct OfflineRecommendationsRemove {
  RecoScope scope = RecoScope::kItem;
  std::string key;
  std::optional<std::string> placement_id;
  bool operator==(const OfflineRecommendationsRemove&) const = default;
};

// ---- users ---------------------------------------------------------------------------------

struct UserUpsert {
  std::string user_id;
  std::optional<bool> personalized;
  std::optional<Attributes> attributes;
  bool operator==(const UserUpsert&) const = default;
};
// The visitor's history joins the account.
struct UserMerge {
  std::string visitor_id;
  std::string user_id;
  bool operator==(const UserMerge&) const = default;
};
// Erases everything known about the account (and its visitors) or the visitor.
struct UserForget {
  std::optional<std::string> user_id;
  std::optional<std::string> visitor_id;  // at least one of the two
  bool operator==(const UserForget&) const = default;
};

// ---- behaviour: browsing -------------------------------------------------------------------

struct PageVisit {
  UserRef user;
  std::string url;
  std::optional<std::string> referrer;
  bool operator==(const PageVisit&) const = default;
};
struct HomePageView {
  UserRef user;
  bool operator==(const HomePageView&) const = default;
};
struct DetailItemView {
  UserRef user;
  std::string item_id;
  bool operator==(const DetailItemView&) const = default;
};
struct ItemsView {
  UserRef user;
  std::vector<std::string> item_ids;
  std::optional<std::string> list_name;
  bool operator==(const ItemsView&) const = default;
};
struct ImageInteraction {
  UserRef user;
  std::string item_id;
  std::optional<std::string> image_url;
  bool operator==(const ImageInteraction&) const = default;
};
struct OtherInteraction {
  UserRef user;
  std::string name;
  std::optional<std::string> item_id;
  std::optional<double> weight;
  bool operator==(const OtherInteraction&) const = default;
};

// ---- behaviour: cart and orders ------------------------------------------------------------

struct AddToCart {
  UserRef user;
  std::string item_id;
  std::optional<int64_t> quantity;
  std::optional<double> price;
  bool operator==(const AddToCart&) const = default;
};
struct RemoveFromCart {
  UserRef user;
  std::string item_id;
  std::optional<int64_t> quantity;  // absent: remove the line
  bool operator==(const RemoveFromCart&) const = default;
};
struct CartPageView {
  UserRef user;
  std::optional<std::vector<std::string>> item_ids;
  bool operator==(const CartPageView&) const = default;
};
struct CheckoutStart {
  UserRef user;
  std::optional<std::vector<std::string>> item_ids;
  std::optional<double> value;
  bool operator==(const CheckoutStart&) const = default;
};
struct PurchaseComplete {
  UserRef user;
  std::string order_id;
  std::vector<PurchaseLine> lines;
  std::optional<double> revenue;
  std::optional<std::string> currency;
  bool operator==(const PurchaseComplete&) const = default;
};

// ---- behaviour: lists and ratings ----------------------------------------------------------

struct AddToList {
  UserRef user;
  std::string list;
  std::string item_id;
  bool operator==(const AddToList&) const = default;
};
struct RemoveFromList {
  UserRef user;
  std::string list;
  std::string item_id;
  bool operator==(const RemoveFromList&) const = default;
};
struct RateItem {
  UserRef user;
  std::string item_id;
  double rating = 0;  // 0..5
  bool operator==(const RateItem&) const = default;
};

// ---- behaviour: search and recommendation feedback ------------------------------------------

struct SearchQuery {
  UserRef user;
  std::string query;
  std::optional<std::vector<std::string>> item_ids;  // shown, in order
  std::optional<std::string> search_id;
  bool operator==(const SearchQuery&) const = default;
};
struct SearchResultClick {
  UserRef user;
  std::string query;
  std::string item_id;
  int64_t position = 0;  // 0-based
  std::optional<std::string> search_id;
  bool operator==(const SearchResultClick&) const = default;
};
struct RecoShow {
  UserRef user;
  std::vector<std::string> item_ids;
  std::optional<std::string> placement_id;
  std::optional<std::string> reco_id;
  bool operator==(const RecoShow&) const = default;
};
struct RecoClick {
  UserRef user;
  std::string item_id;
  std::optional<std::string> placement_id;
  std::optional<std::string> reco_id;
  std::optional<int64_t> position;
  bool operator==(const RecoClick&) const = default;
};

// ---- the catalog as a whole ----------------------------------------------------------------

// X(name, group). The order is the on-disk type code (1-based): append only, never reorder.
#define TROVE_EVENT_TYPES(X)                                                              \
  X(ItemUpsert, "catalog") X(ItemPatch, "catalog") X(ItemRemove, "catalog")               \
  X(SynonymsUpsert, "search config") X(SynonymsRemove, "search config")                   \
  X(RankingUpsert, "search config") X(PlacementUpsert, "placements")                      \
  X(PlacementRemove, "placements") X(OfflineRecommendationsUpsert, "placements")          \
  X(OfflineRecommendationsRemove, "placements") X(UserUpsert, "users")                    \
  X(UserMerge, "users") X(UserForget, "users") X(PageVisit, "browsing")                   \
  X(HomePageView, "browsing") X(DetailItemView, "browsing") X(ItemsView, "browsing")      \
  X(ImageInteraction, "browsing") X(OtherInteraction, "browsing")                         \
  X(AddToCart, "cart and orders") X(RemoveFromCart, "cart and orders")                    \
  X(CartPageView, "cart and orders") X(CheckoutStart, "cart and orders")                  \
  X(PurchaseComplete, "cart and orders") X(AddToList, "lists and ratings")                \
  X(RemoveFromList, "lists and ratings") X(RateItem, "lists and ratings")                 \
  X(SearchQuery, "search and reco feedback") X(SearchResultClick, "search and reco feedback") \
  X(RecoShow, "search and reco feedback") X(RecoClick, "search and reco feedback")        \
  X(SearchSettingsUpsert, "search config") X(AttributeSettingsUpsert, "catalog")          \
  X(AttributeSettingsRemove, "catalog")

enum class EventType : uint16_t {
  kNone = 0,
#define TROVE_X(name, group) k##name,
  TROVE_EVENT_TYPES(TROVE_X)
#undef TROVE_X
};

using EventBody = std::variant<
#define TROVE_X(name, group) name,
    TROVE_EVENT_TYPES(TROVE_X)
#undef TROVE_X
        std::monostate>;

inline constexpr size_t kEventTypeCount = std::variant_size_v<EventBody> - 1;

struct Event {
  std::optional<std::string> event_id;  // idempotency key
  std::optional<int64_t> timestamp_ms;  // assigned on append when absent
  EventBody body = std::monostate{};

  EventType type() const { return static_cast<EventType>(body.index() + 1); }
  // The user of a behaviour event; nullptr for catalog, config and user events.
  const UserRef* user() const;
  bool operator==(const Event&) const = default;
};

std::string_view event_type_name(EventType type);   // "DetailItemView"; "" for kNone
std::string_view event_type_group(EventType type);  // "browsing"
std::optional<EventType> event_type_from_name(std::string_view name);
std::vector<EventType> all_event_types();

std::string_view strategy_name(Strategy s);  // "bought_together"
std::string_view reco_scope_name(RecoScope s);
std::string_view ranking_signal_name(RankingSignal s);  // "popularity"
std::string_view signal_order_name(SignalOrder s);      // "desc"
std::string_view attribute_type_name(AttributeType t);  // "string_list"

// Limits on a whole event that every parse enforces. The schemas state every per-field rule;
// these two apply to the document as a whole and are in each schema's description.
struct ParseLimits {
  static constexpr size_t kMaxEventBytes = 256 * 1024;
  static constexpr size_t kMaxDepth = 8;
};

// Strict JSON -> Event. Rejects unknown and duplicate fields, wrong types (no coercion: "5"
// is not a number, 1.5 is not an integer), missing required fields, over-long strings and
// arrays, out-of-range numbers, invalid UTF-8 and nesting deeper than kMaxDepth. The error's
// path names the field (`lines[2].quantity`) and its message what was expected.
class EventParser {
 public:
  EventParser();
  ~EventParser();
  EventParser(const EventParser&) = delete;
  EventParser& operator=(const EventParser&) = delete;

  Result<Event> parse(std::string_view json);
  // Same, without copying: REQUIRES at least kPadding readable bytes after json's end.
  Result<Event> parse_padded(std::string_view json);
  static constexpr size_t kPadding = 64;

 private:
  struct Rep;
  std::unique_ptr<Rep> rep_;
};

// Canonical JSON: `type` first, then event_id, timestamp, then fields in table order; absent
// optionals omitted; shortest round-trip numbers. parse(serialize(e)) == e.
std::string serialize_event(const Event& event);
void serialize_event(const Event& event, std::string* out);  // appends

// The longest text (in code points) a field of an event kind accepts, from its field table:
// for a string or a list of strings, per string; for "attributes", per attribute text value.
// 0 when the kind has no such text field. Lets importers truncate without copying limits.
size_t max_text_length(EventType type, std::string_view field);

// JSON Schema (draft 2020-12) of one event kind, and the index listing them all.
std::string event_schema_json(EventType type);
std::string event_schema_index_json();

}  // namespace trove
