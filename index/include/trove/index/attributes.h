// AttributeSchema: how the catalog's item attributes are read. AttributeSettingsUpsert declares
// an attribute's type and roles (searchable with a weight, filterable, facetable, sortable,
// retrievable); the rest keep the defaults. This is the one place that says how a stored value
// reads as its declared type, so that the index's documents, filters (in a search and in
// Filter::matches), facets, sorts, the ranking signal and hits agree on every item.
//
//   AttributeSchema schema = AttributeSchema::of(state);  // under the Store's read lock
//   if (auto v = schema.read("year", AttrValue{std::string("2015")})) ...  // 2015.0 if declared a number
//
// Names are matched folded (case, accents), as filters match them: a declaration of "Année"
// covers attributes written "annee" and "ANNÉE".
//
// Thread-safety: an AttributeSchema is a value; const methods may be called from any thread.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "trove/data/events.h"
#include "trove/data/state.h"
#include "trove/data/status.h"

namespace trove {

// A point on Earth, in degrees (latitude -90..90, longitude -180..180).
struct GeoPoint {
  double lat = 0;
  double lng = 0;
  bool operator==(const GeoPoint&) const = default;
};

// What the catalog says of one attribute, with the defaults filled in.
struct AttributeRoles {
  std::optional<AttributeType> type;  // nullopt: not declared, each value typed by its JSON type
  bool searchable = false;
  unsigned weight = 1;  // a matched word's weight when searchable (title's default is 6)
  bool filterable = true;
  bool facetable = true;
  bool sortable = true;  // numbers and geo points only: text never sorts
  bool retrievable = true;
  bool operator==(const AttributeRoles&) const = default;
};

class AttributeSchema {
 public:
  AttributeSchema() = default;  // nothing declared
  // The declarations in `st` (State::attribute_settings). REQUIRES: the Store's read lock.
  static AttributeSchema of(const State& st);
  // The schema of these declarations (as State::attribute_settings holds them).
  static AttributeSchema of(const std::map<std::string, AttributeSetting>& settings);

  // The roles of the attribute whose folded name is `folded_key` (the defaults when it is not
  // declared).
  const AttributeRoles& roles(std::string_view folded_key) const;
  // Same, for a name as written (folds it).
  const AttributeRoles& roles_of(std::string_view name) const;
  // `value` read as the attribute's declared type (as is when undeclared); nullopt when it
  // does not convert. A geo point reads as its text "lat,lng" (geo() gives the numbers).
  std::optional<AttrValue> read(std::string_view folded_key, const AttrValue& value) const;
  // The value `item` holds for the attribute named `folded_key` (its key folded), read as
  // above; nullopt when it holds none or it does not convert.
  std::optional<AttrValue> value(const Item& item, std::string_view folded_key) const;
  // The geo point an attribute declared geo_point holds; nullopt for any other attribute or a
  // value that is not a point.
  std::optional<GeoPoint> geo(std::string_view folded_key, const AttrValue& value) const;

  // The declarations that change what the index holds (types, searchable weights, filterable,
  // facetable, sortable), canonically: the index records it beside its documents and re-indexes when
  // the catalog's differs. "" when nothing is declared.
  std::string layout() const;
  // The schema a layout() describes (only the roles it records; the others at their
  // defaults); nullopt when `layout` is not one.
  static std::optional<AttributeSchema> from_layout(std::string_view layout);
  bool empty() const { return declared_.empty(); }

 private:
  std::map<std::string, AttributeRoles, std::less<>> declared_;  // by folded name
};

// `value` as `type`: "2015" as 2015, 3 as "3", "x" as ["x"], "true"/"false" (folded) and 1/0
// as booleans, a geo point as its text; nullopt when it does not convert.
std::optional<AttrValue> as_type(const AttrValue& value, AttributeType type);
// "48.85,2.35" (spaces allowed) or ["48.85", "2.35"] as a point; nullopt otherwise or out of
// range.
std::optional<GeoPoint> as_geo_point(const AttrValue& value);
// The great-circle distance between two points, in metres (haversine, mean Earth radius).
double distance_metres(const GeoPoint& a, const GeoPoint& b);

}  // namespace trove
