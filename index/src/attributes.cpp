#include "trove/index/attributes.h"

#include <charconv>
#include <cmath>

#include "document.h"
#include "query.h"

namespace trove {

using index_internal::folding_analyzer;
using index_internal::number_text;
using index_internal::parse_double;
using index_internal::split_trimmed;

namespace {

constexpr double kMaxSafe = 9007199254740992.0;  // 2^53, as events bound numbers

AttributeRoles roles_of_setting(const AttributeSetting& a) {
  AttributeRoles r;
  r.type = a.type;
  r.searchable = a.searchable.value_or(false);
  r.weight = static_cast<unsigned>(a.weight.value_or(1));
  r.filterable = a.filterable.value_or(true);
  r.facetable = a.facetable.value_or(true);
  const bool orderable = a.type == AttributeType::kNumber || a.type == AttributeType::kGeoPoint;
  r.sortable = a.sortable.value_or(orderable) && orderable;
  r.retrievable = a.retrievable.value_or(true);
  return r;
}

std::optional<double> as_number(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  double x = 0;
  if (!parse_double(text, &x) || std::fabs(x) > kMaxSafe) return std::nullopt;
  return x;
}

std::optional<GeoPoint> point(std::string_view lat, std::string_view lng) {
  const auto a = as_number(lat);
  const auto b = as_number(lng);
  if (!a || !b || std::fabs(*a) > 90 || std::fabs(*b) > 180) return std::nullopt;
  return GeoPoint{*a, *b};
}

}  // namespace

std::optional<GeoPoint> as_geo_point(const AttrValue& value) {
  if (const auto* s = std::get_if<std::string>(&value)) {
    const auto parts = split_trimmed(*s, ',');
    if (parts.size() == 2) return point(parts[0], parts[1]);
  } else if (const auto* list = std::get_if<std::vector<std::string>>(&value)) {
    if (list->size() == 2) return point((*list)[0], (*list)[1]);
  }
  return std::nullopt;
}

std::optional<AttrValue> as_type(const AttrValue& value, AttributeType type) {
  const auto* s = std::get_if<std::string>(&value);
  const auto* n = std::get_if<double>(&value);
  const auto* b = std::get_if<bool>(&value);
  const auto* list = std::get_if<std::vector<std::string>>(&value);
  switch (type) {
    case AttributeType::kString:
      if (s || list) return value;  // a list is several strings: each filters and facets
      if (n) return AttrValue(number_text(*n));
      return AttrValue(std::string(*b ? "true" : "false"));
    case AttributeType::kNumber:
      if (n) return value;
      if (s) {
        if (auto x = as_number(*s)) return AttrValue(*x);
      }
      return std::nullopt;
    case AttributeType::kBoolean:
      if (b) return value;
      if (n && (*n == 0 || *n == 1)) return AttrValue(*n == 1);
      if (s) {
        const std::string f = folding_analyzer().fold(*s);
        if (f == "true" || f == "false") return AttrValue(f == "true");
      }
      return std::nullopt;
    case AttributeType::kStringList:
      if (list) return value;
      if (s) return AttrValue(std::vector<std::string>{*s});
      if (n) return AttrValue(std::vector<std::string>{number_text(*n)});
      return AttrValue(std::vector<std::string>{*b ? "true" : "false"});
    case AttributeType::kGeoPoint:
      if (auto p = as_geo_point(value)) {
        return AttrValue(number_text(p->lat) + "," + number_text(p->lng));
      }
      return std::nullopt;
  }
  return std::nullopt;
}

double distance_metres(const GeoPoint& a, const GeoPoint& b) {
  constexpr double kEarthRadius = 6371008.8;  // mean radius (IUGG), metres
  constexpr double kRad = M_PI / 180;
  const double dlat = (b.lat - a.lat) * kRad;
  const double dlng = (b.lng - a.lng) * kRad;
  const double h = std::sin(dlat / 2) * std::sin(dlat / 2) +
                   std::cos(a.lat * kRad) * std::cos(b.lat * kRad) * std::sin(dlng / 2) * std::sin(dlng / 2);
  return 2 * kEarthRadius * std::asin(std::min(1.0, std::sqrt(h)));
}

AttributeSchema AttributeSchema::of(const State& st) { return of(st.attribute_settings()); }

AttributeSchema AttributeSchema::of(const std::map<std::string, AttributeSetting>& settings) {
  AttributeSchema out;
  for (const auto& [name, setting] : settings) {
    out.declared_[folding_analyzer().fold(name)] = roles_of_setting(setting);
  }
  return out;
}

const AttributeRoles& AttributeSchema::roles(std::string_view folded_key) const {
  static const AttributeRoles kDefaults;
  auto it = declared_.find(folded_key);
  return it == declared_.end() ? kDefaults : it->second;
}

const AttributeRoles& AttributeSchema::roles_of(std::string_view name) const {
  return declared_.empty() ? roles(name) : roles(folding_analyzer().fold(name));
}

std::optional<AttrValue> AttributeSchema::read(std::string_view folded_key,
                                               const AttrValue& value) const {
  if (declared_.empty()) return value;
  const AttributeRoles& r = roles(folded_key);
  return r.type ? as_type(value, *r.type) : std::optional<AttrValue>(value);
}

std::optional<AttrValue> AttributeSchema::value(const Item& item, std::string_view folded_key) const {
  if (!item.data.attributes) return std::nullopt;
  for (const auto& [key, v] : *item.data.attributes) {
    if (folding_analyzer().fold(key) == folded_key) return read(folded_key, v);
  }
  return std::nullopt;
}

std::optional<GeoPoint> AttributeSchema::geo(std::string_view folded_key, const AttrValue& value) const {
  if (declared_.empty() || roles(folded_key).type != AttributeType::kGeoPoint) return std::nullopt;
  return as_geo_point(value);
}

std::string AttributeSchema::layout() const {
  std::string out;
  for (const auto& [key, r] : declared_) {
    if (!out.empty()) out += ' ';
    out += std::to_string(key.size()) + "/" + key;  // a name may hold spaces and colons
    out += ':';
    out += attribute_type_name(*r.type);
    if (r.searchable) out += ":searchable=" + std::to_string(r.weight);
    if (!r.filterable) out += ":unfiltered";
    if (!r.facetable) out += ":unfaceted";
    if (!r.sortable) out += ":unsorted";
  }
  return out;
}

std::optional<AttributeSchema> AttributeSchema::from_layout(std::string_view layout) {
  AttributeSchema out;
  while (!layout.empty()) {
    const size_t slash = layout.find('/');
    size_t len = 0;
    if (slash == std::string_view::npos ||
        std::from_chars(layout.data(), layout.data() + slash, len).ptr != layout.data() + slash ||
        slash + 1 + len > layout.size()) {
      return std::nullopt;
    }
    const std::string key(layout.substr(slash + 1, len));
    layout.remove_prefix(slash + 1 + len);
    const size_t end = std::min(layout.find(' '), layout.size());
    const std::string_view roles_text = layout.substr(0, end);
    layout.remove_prefix(end == layout.size() ? end : end + 1);
    AttributeRoles r;
    r.sortable = true;
    bool typed = false;
    for (std::string_view part : split_trimmed(roles_text, ':')) {
      if (part.empty()) continue;
      for (size_t t = 0; t < 5; ++t) {
        if (part == attribute_type_name(static_cast<AttributeType>(t))) {
          r.type = static_cast<AttributeType>(t), typed = true;
        }
      }
      if (part.starts_with("searchable=")) {
        r.searchable = true;
        if (std::from_chars(part.data() + 11, part.data() + part.size(), r.weight).ec != std::errc()) {
          return std::nullopt;
        }
      }
      if (part == "unfiltered") r.filterable = false;
      if (part == "unfaceted") r.facetable = false;
      if (part == "unsorted") r.sortable = false;
    }
    if (!typed) return std::nullopt;
    out.declared_[key] = r;
  }
  return out;
}

}  // namespace trove
