// Sorting by keys: one KeyMaker writes, for each key before relevance, a fixed-width
// order-preserving encoding of the hit's value (from the document's value slots, or the
// State for popularity), so the keys compare byte by byte; Xapian breaks ties by relevance.
#include "sorting.h"

#include <bit>
#include <cmath>
#include <cstring>

#include "document.h"
#include "index_rep.h"

namespace trove {
namespace {

using Field = SortKey::Field;

Result<SortKey> parse_key(std::string_view text) {
  SortKey k;
  std::string_view name = text, dir;
  if (const size_t colon = text.rfind(':'); colon != std::string_view::npos) {
    name = text.substr(0, colon);
    dir = text.substr(colon + 1);
  }
  if (name == "relevance") {
    k.field = Field::kRelevance;
  } else if (name == "price") {
    k.field = Field::kPrice;
  } else if (name == "popularity") {
    k.field = Field::kPopularity;
    k.descending = true;
  } else if (name == "newest") {
    k.field = Field::kNewest;
    k.descending = true;
  } else if (name.starts_with("attributes.") && name.size() > 11 && name.size() <= 192) {
    k.field = Field::kAttribute;
    k.attribute = std::string(name.substr(11));
    if (const size_t open = k.attribute.find('('); open != std::string::npos) {
      // attributes.<name>(lat, lng): by distance from the point.
      const std::string point = k.attribute.substr(open + 1);
      k.attribute.resize(open);
      const auto p = point.ends_with(")") ? as_geo_point(AttrValue(point.substr(0, point.size() - 1)))
                                          : std::nullopt;
      if (!p || k.attribute.empty()) {
        return Status::invalid("expected attributes.<name>(lat, lng) to sort by distance, got \"" +
                                   std::string(name.substr(0, 64)) + "\"",
                               "sort");
      }
      k.from = p;
    }
  } else {
    return Status::invalid("expected relevance, price, popularity, newest or attributes.<name>, "
                           "each with :asc or :desc, got \"" + std::string(text.substr(0, 64)) + "\"",
                           "sort");
  }
  if (dir == "asc" || dir == "desc") {
    if (k.field == Field::kRelevance) {
      return Status::invalid("relevance takes no direction", "sort");
    }
    k.descending = dir == "desc";
  } else if (!dir.empty()) {
    return Status::invalid("expected :asc or :desc after " + std::string(name) + ", got \":" +
                               std::string(dir.substr(0, 16)) + "\"",
                           "sort");
  }
  return k;
}

// 8 bytes that order as the doubles do (IEEE 754 with the sign flipped), inverted for a
// descending key; '\0' before a value and '\1' for none, so a missing value comes last
// either way.
void append_number(std::optional<double> v, bool descending, std::string* out) {
  if (!v || std::isnan(*v)) {
    *out += '\1';
    return;
  }
  uint64_t bits = std::bit_cast<uint64_t>(*v == 0 ? 0.0 : *v);  // -0 and 0 alike
  bits = (bits & (uint64_t{1} << 63)) ? ~bits : bits | (uint64_t{1} << 63);
  if (descending) bits = ~bits;
  *out += '\0';
  for (int shift = 56; shift >= 0; shift -= 8) *out += static_cast<char>(bits >> shift);
}

std::optional<double> slot_number(const Xapian::Document& doc, Xapian::valueno slot) {
  const std::string v = doc.get_value(slot);
  if (v.empty()) return std::nullopt;
  return Xapian::sortable_unserialise(v);
}

class KeysMaker : public Xapian::KeyMaker {
 public:
  KeysMaker(std::vector<SortKey> keys, const State* st) : keys_(std::move(keys)), st_(st) {
    const Analyzer& analyzer = index_internal::folding_analyzer();
    for (const auto& k : keys_) {
      slots_.push_back(k.field == Field::kPrice        ? index_internal::kSlotPrice
                       : k.field == Field::kNewest     ? index_internal::kSlotUpdated
                       : k.field == Field::kAttribute ? index_internal::attribute_slot(analyzer.fold(k.attribute))
                                                       : Xapian::BAD_VALUENO);
    }
  }
  std::string operator()(const Xapian::Document& doc) const override {
    std::string key;
    for (size_t i = 0; i < keys_.size(); ++i) {
      std::optional<double> v;
      if (keys_[i].field == Field::kPopularity) {
        v = index_internal::popularity(*st_, index_internal::ref_of_document(doc));
      } else if (keys_[i].from) {
        if (auto p = index_internal::geo_of_slot_value(doc.get_value(slots_[i]))) {
          v = distance_metres(*keys_[i].from, *p);
        }
      } else {
        v = slot_number(doc, slots_[i]);
      }
      append_number(v, keys_[i].descending, &key);
    }
    return key;
  }

 private:
  std::vector<SortKey> keys_;
  std::vector<Xapian::valueno> slots_;
  const State* st_;
};

}  // namespace

std::vector<std::string> split_list(std::string_view text, bool keep_empty) {
  std::vector<std::string> out;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i < text.size() && text[i] == '(') ++depth;
    if (i < text.size() && text[i] == ')') --depth;
    if (i == text.size() || (text[i] == ',' && depth <= 0)) {
      std::string_view one = text.substr(start, i - start);
      while (!one.empty() && one.front() == ' ') one.remove_prefix(1);
      while (!one.empty() && one.back() == ' ') one.remove_suffix(1);
      if (keep_empty || !one.empty()) out.emplace_back(one);
      start = i + 1;
    }
  }
  return out;
}

Result<std::vector<SortKey>> parse_sort(std::string_view text) {
  if (text == "relevance" || text.empty()) return std::vector<SortKey>{SortKey{}};
  if (text == "price_asc") return std::vector<SortKey>{SortKey{Field::kPrice, {}, false}};
  if (text == "price_desc") return std::vector<SortKey>{SortKey{Field::kPrice, {}, true}};
  std::vector<SortKey> out;
  const std::vector<std::string> keys = split_list(text, true);
  for (std::string_view one : keys) {
    auto k = parse_key(one);
    if (!k.ok()) return k.status();
    out.push_back(std::move(k).value());
    if (out.size() > kMaxSortKeys) {
      return Status::invalid("at most " + std::to_string(kMaxSortKeys) + " sort keys", "sort");
    }
  }
  return out;
}

namespace index_internal {

Status check_sortable(const std::vector<SortKey>& keys, const AttributeSchema& schema) {
  for (const SortKey& k : keys) {
    if (k.field != Field::kAttribute) continue;
    const AttributeRoles& roles = schema.roles_of(k.attribute);
    const bool geo = roles.type == AttributeType::kGeoPoint;
    if (roles.type && !roles.sortable) {
      return Status::invalid("attributes." + k.attribute + " is not sortable (declared " +
                                 std::string(attribute_type_name(*roles.type)) +
                                 (geo || roles.type == AttributeType::kNumber ? ", sortable: false)" : ")"),
                             "sort");
    }
    if (geo != k.from.has_value()) {
      return Status::invalid(geo ? "attributes." + k.attribute + " is a geo point: sort by the distance "
                                       "from a point, attributes." + k.attribute + "(lat, lng)"
                                 : "attributes." + k.attribute + " is not declared a geo_point, so it has "
                                       "no distance to sort by",
                             "sort");
    }
  }
  return {};
}

std::vector<SortKey> sort_keys(const SearchRequest& req) {
  if (!req.sort_by.empty()) return req.sort_by;
  switch (req.sort) {
    case SortOrder::kRelevance: return {SortKey{}};
    case SortOrder::kPriceAsc: return {SortKey{Field::kPrice, {}, false}};
    case SortOrder::kPriceDesc: return {SortKey{Field::kPrice, {}, true}};
    case SortOrder::kPopularity: return {SortKey{Field::kPopularity, {}, true}};
    case SortOrder::kNewest: return {SortKey{Field::kNewest, {}, true}};
  }
  return {SortKey{}};
}

bool by_relevance(const std::vector<SortKey>& keys) {
  return keys.empty() || keys[0].field == Field::kRelevance;
}

bool sort_reads_state(const std::vector<SortKey>& keys) {
  for (const auto& k : keys) {
    if (k.field == Field::kPopularity) return true;
  }
  return false;
}

std::unique_ptr<Xapian::KeyMaker> set_sort(Xapian::Enquire& enquire,
                                           const std::vector<SortKey>& keys, const State* st) {
  // The keys before relevance sort; relevance then breaks their ties. Keys after a relevance
  // that comes first break its ties.
  std::vector<SortKey> before, after;
  bool relevance_seen = false;
  for (const auto& k : keys) {
    if (k.field == Field::kRelevance) {
      if (relevance_seen) continue;
      relevance_seen = true;
      continue;
    }
    (relevance_seen ? after : before).push_back(k);
  }
  if (!before.empty()) {
    auto maker = std::make_unique<KeysMaker>(std::move(before), st);
    enquire.set_sort_by_key_then_relevance(maker.get(), false);
    return maker;
  }
  if (!after.empty()) {
    auto maker = std::make_unique<KeysMaker>(std::move(after), st);
    enquire.set_sort_by_relevance_then_key(maker.get(), false);
    return maker;
  }
  return nullptr;
}

}  // namespace index_internal
}  // namespace trove
