// The field tables: one per event struct and per nested struct. Each entry names the JSON
// field, points at the member, and carries its constraints. The parser, the canonical
// serializer and the JSON Schema generator all walk these tables and nothing else, so adding
// a field here is the whole change. Required = the member is not std::optional.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <string_view>
#include <tuple>

#include "trove/data/events.h"

namespace trove::fields {

// Largest integer a double holds exactly; the bound for every number Trove accepts, so JSON
// numbers never silently lose precision.
inline constexpr double kMaxSafe = 9007199254740992.0;  // 2^53

struct Spec {
  uint32_t min_len = 0;    // strings, in code points (as JSON Schema counts)
  uint32_t max_len = 256;
  uint32_t min_items = 0;  // arrays
  uint32_t max_items = 1000;
  uint32_t item_min_len = 1;  // string arrays: each element
  uint32_t item_max_len = 256;
  double min = -kMaxSafe;  // numbers, inclusive
  double max = kMaxSafe;
  bool upper3 = false;  // exactly three capital ASCII letters (ISO 4217 currency)
  bool unique_first = false;  // arrays of objects: no two items share their first field
  std::string_view doc;
};

template <class Owner, class M>
struct Field {
  std::string_view name;
  M Owner::*member;
  Spec spec;
};

template <class Owner, class M>
constexpr Field<Owner, M> field(std::string_view name, M Owner::*member, Spec spec) {
  return {name, member, spec};
}

// Reusable constraint sets.
inline constexpr Spec kId{.min_len = 1, .max_len = 256, .doc = "identifier"};
inline constexpr Spec kName{.min_len = 1, .max_len = 256};
inline constexpr Spec kTitle{.min_len = 1, .max_len = 1000};
// Brands are names, but books list every author in that field (goodbooks-10k has 700+).
inline constexpr Spec kBrand{.min_len = 1, .max_len = 1000};
inline constexpr Spec kText{.min_len = 0, .max_len = 20000};
inline constexpr Spec kUrl{.min_len = 1, .max_len = 2048};
inline constexpr Spec kQuery{.min_len = 0, .max_len = 1000};
inline constexpr Spec kCurrency{.min_len = 3, .max_len = 3, .upper3 = true,
                                .doc = "ISO 4217 code, three capital letters"};
inline constexpr Spec kPrice{.min = 0, .max = 1e12};
inline constexpr Spec kMoney{.min = -1e12, .max = 1e12, .doc = "negative for refunds"};
inline constexpr Spec kIdList{.min_items = 0, .max_items = 1000};
inline constexpr Spec kNonEmptyIdList{.min_items = 1, .max_items = 1000};
inline constexpr Spec kStringList{.max_items = 100, .item_max_len = 256};
inline constexpr Spec kQuantity{.min = 1, .max = 1e6};
inline constexpr Spec kWeight{.min = -1e6, .max = 1e6};
inline constexpr Spec kRankWeight{.min = 0, .max = 1000};
inline constexpr Spec kObject{};
inline constexpr Spec kFlag{};
inline constexpr Spec kEnum{};

// Header fields every event may carry.
inline constexpr Spec kEventId{.min_len = 1, .max_len = 128,
                               .doc = "idempotency key: a repeated id is not applied twice"};
inline constexpr Spec kTimestamp{.min = 0, .max = 253402300799999.0,
                                 .doc = "milliseconds since the Unix epoch; assigned when absent"};

// Attributes: limits on the map and its values.
inline constexpr uint32_t kMaxAttributes = 100;
inline constexpr uint32_t kMaxAttributeKey = 64;
inline constexpr uint32_t kMaxAttributeText = 1000;
inline constexpr uint32_t kMaxAttributeList = 100;

template <class T>
struct Fields;  // specialized below; `table` is a tuple of Field

#define TROVE_FIELDS(T, ...)                                             \
  template <>                                                            \
  struct Fields<T> {                                                     \
    using Self = T;                                                      \
    static constexpr auto table = std::make_tuple(__VA_ARGS__);          \
  }

#define F(name, spec) field(#name, &Self::name, spec)

TROVE_FIELDS(UserRef, F(visitor_id, kId), F(user_id, kId), F(session_id, kId),
             F(personalized, kFlag));
TROVE_FIELDS(PlacementFilters, F(category, kTitle), F(brand, kBrand), F(in_stock, kFlag),
             F(min_price, kPrice), F(max_price, kPrice));
TROVE_FIELDS(PurchaseLine, F(item_id, kId), F(quantity, kQuantity), F(price, kPrice));

TROVE_FIELDS(ItemUpsert, F(id, kId), F(title, kTitle), F(description, kText), F(brand, kBrand),
             F(categories, kStringList), F(price, kPrice), F(currency, kCurrency),
             F(in_stock, kFlag), F(tags, kStringList), F(attributes, kObject), F(url, kUrl),
             F(image_url, kUrl));
TROVE_FIELDS(ItemPatch, F(id, kId), F(title, kTitle), F(description, kText), F(brand, kBrand),
             F(categories, kStringList), F(price, kPrice), F(currency, kCurrency),
             F(in_stock, kFlag), F(tags, kStringList), F(attributes, kObject), F(url, kUrl),
             F(image_url, kUrl));
TROVE_FIELDS(ItemRemove, F(id, kId));
TROVE_FIELDS(SynonymsUpsert, F(id, kId), F(input, kName),
             F(synonyms, (Spec{.min_items = 1, .max_items = 100})));
TROVE_FIELDS(SynonymsRemove, F(id, kId));
TROVE_FIELDS(RankingUpsert, F(text_weight, kRankWeight), F(affinity_weight, kRankWeight),
             F(popularity_weight, kRankWeight), F(typo_penalty, kRankWeight));
TROVE_FIELDS(PlacementUpsert, F(id, kId), F(strategy, kEnum),
             F(count, (Spec{.min = 1, .max = 1000})), F(filters, kObject),
             F(window_days, (Spec{.min = 1, .max = static_cast<double>(kMaxWindowDays)})),
             F(filter, (Spec{.min_len = 1, .max_len = 1024, .doc = "the filter language (docs/SEARCH.md)"})));
TROVE_FIELDS(PlacementRemove, F(id, kId));
TROVE_FIELDS(OfflineRecommendationsUpsert, F(scope, kEnum), F(key, kId),
             F(item_ids, kIdList), F(placement_id, kId));
TROVE_FIELDS(OfflineRecommendationsRemove, F(scope, kEnum), F(key, kId), F(placement_id, kId));
TROVE_FIELDS(UserUpsert, F(user_id, kId), F(personalized, kFlag), F(attributes, kObject));
TROVE_FIELDS(UserMerge, F(visitor_id, kId), F(user_id, kId));
TROVE_FIELDS(UserForget, F(user_id, kId), F(visitor_id, kId));
TROVE_FIELDS(PageVisit, F(user, kObject), F(url, kUrl), F(referrer, kUrl));
TROVE_FIELDS(HomePageView, F(user, kObject));
TROVE_FIELDS(DetailItemView, F(user, kObject), F(item_id, kId));
TROVE_FIELDS(ItemsView, F(user, kObject), F(item_ids, kNonEmptyIdList), F(list_name, kName));
TROVE_FIELDS(ImageInteraction, F(user, kObject), F(item_id, kId), F(image_url, kUrl));
TROVE_FIELDS(OtherInteraction, F(user, kObject), F(name, kName), F(item_id, kId),
             F(weight, kWeight));
TROVE_FIELDS(AddToCart, F(user, kObject), F(item_id, kId), F(quantity, kQuantity),
             F(price, kPrice));
TROVE_FIELDS(RemoveFromCart, F(user, kObject), F(item_id, kId), F(quantity, kQuantity));
TROVE_FIELDS(CartPageView, F(user, kObject), F(item_ids, kIdList));
TROVE_FIELDS(CheckoutStart, F(user, kObject), F(item_ids, kIdList), F(value, kPrice));
TROVE_FIELDS(PurchaseComplete, F(user, kObject), F(order_id, kId),
             F(lines, (Spec{.min_items = 1, .max_items = 1000})), F(revenue, kMoney),
             F(currency, kCurrency));
TROVE_FIELDS(AddToList, F(user, kObject), F(list, kName), F(item_id, kId));
TROVE_FIELDS(RemoveFromList, F(user, kObject), F(list, kName), F(item_id, kId));
TROVE_FIELDS(RateItem, F(user, kObject), F(item_id, kId), F(rating, (Spec{.min = 0, .max = 5})));
TROVE_FIELDS(SearchQuery, F(user, kObject), F(query, kQuery), F(item_ids, kIdList),
             F(search_id, kId));
TROVE_FIELDS(SearchResultClick, F(user, kObject), F(query, kQuery), F(item_id, kId),
             F(position, (Spec{.min = 0, .max = 100000})), F(search_id, kId));
TROVE_FIELDS(RecoShow, F(user, kObject), F(item_ids, kNonEmptyIdList), F(placement_id, kId),
             F(reco_id, kId));
TROVE_FIELDS(RecoClick, F(user, kObject), F(item_id, kId), F(placement_id, kId),
             F(reco_id, kId), F(position, (Spec{.min = 0, .max = 100000})));
TROVE_FIELDS(SearchableField, F(field, kEnum), F(weight, (Spec{.min = 1, .max = 100})));
TROVE_FIELDS(SearchSettingsUpsert, F(typos, (Spec{.min = 0, .max = 2})),
             F(min_len_1typo, (Spec{.min = 1, .max = 64})),
             F(min_len_2typo, (Spec{.min = 1, .max = 64})), F(signal, kEnum),
             F(signal_attribute, (Spec{.min_len = 1, .max_len = 64})), F(signal_order, kEnum),
             F(signal_weight, (Spec{.min = 0, .max = 100})),
             F(stopwords, (Spec{.max_items = 1000, .item_max_len = 64})),
             F(searchable_fields, (Spec{.min_items = 1, .max_items = 5, .unique_first = true})));
TROVE_FIELDS(AttributeSetting, F(name, (Spec{.min_len = 1, .max_len = kMaxAttributeKey})),
             F(type, kEnum), F(searchable, kFlag), F(weight, (Spec{.min = 1, .max = 100})),
             F(filterable, kFlag), F(facetable, kFlag), F(sortable, kFlag),
             F(retrievable, kFlag));
TROVE_FIELDS(AttributeSettingsUpsert,
             F(attributes, (Spec{.min_items = 1, .max_items = kMaxAttributes, .unique_first = true})));
TROVE_FIELDS(AttributeSettingsRemove,
             F(names, (Spec{.min_items = 1, .max_items = kMaxAttributes, .item_max_len = kMaxAttributeKey})));

#undef F
#undef TROVE_FIELDS

// Constraints a table cannot say field by field: at least one of these must be present.
template <class T>
struct AnyOf {
  static constexpr std::array<std::string_view, 0> names{};
};
template <>
struct AnyOf<UserForget> {
  static constexpr std::array<std::string_view, 2> names{"user_id", "visitor_id"};
};

// Enum spellings, in enumerator order.
template <class E>
struct EnumNames;
template <>
struct EnumNames<Strategy> {
  static constexpr std::array<std::string_view, 7> names{
      "similar", "bought_together", "for_you", "trending", "recently_viewed", "popular",
      "new_arrivals"};
};
template <>
struct EnumNames<RecoScope> {
  static constexpr std::array<std::string_view, 3> names{"item", "user", "global"};
};
template <>
struct EnumNames<RankingSignal> {
  static constexpr std::array<std::string_view, 3> names{"none", "popularity", "attribute"};
};
template <>
struct EnumNames<SignalOrder> {
  static constexpr std::array<std::string_view, 2> names{"desc", "asc"};
};
template <>
struct EnumNames<SearchField> {
  static constexpr std::array<std::string_view, 5> names{"title", "brand", "categories", "tags",
                                                         "description"};
};

template <>
struct EnumNames<AttributeType> {
  static constexpr std::array<std::string_view, 5> names{"string", "number", "boolean",
                                                         "string_list", "geo_point"};
};

template <class T>
concept HasFields = requires { Fields<T>::table; };

// Calls fn(field, index) for every entry of T's table.
template <class T, class Fn>
constexpr void for_each_field(Fn&& fn) {
  std::apply(
      [&](const auto&... f) {
        size_t i = 0;
        (fn(f, i++), ...);
      },
      Fields<T>::table);
}

template <class T>
inline constexpr size_t kFieldCount = std::tuple_size_v<decltype(Fields<T>::table)>;

}  // namespace trove::fields
