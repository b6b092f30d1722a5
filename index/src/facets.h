// Facets of a search: FacetSpy counts brand, category, price and attribute values over every
// match (with min, max, sum for numeric attributes); check_facets says which facet names a
// request may ask for. Used by search.cpp only.
#pragma once

#include <absl/container/flat_hash_map.h>
#include <xapian.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "index_rep.h"

namespace trove::index_internal {

constexpr size_t kFacetValues = 20;
constexpr std::array<double, 7> kPriceEdges = {0, 10, 25, 50, 100, 250, 500};

// Counts facet values over every match, reading the items from the State by docid. Brands
// and category paths are counted as the filters match them, folded ("Nestlé", "NESTLE" and
// "nestle" are one value), and shown in their most frequent spelling, so that filtering on a
// value finds exactly its count.
class FacetSpy : public Xapian::MatchSpy {
 public:
  // `attributes`: the names asked for (facets "attributes.<name>"), as written.
  // `schema`: how attribute values read (AttributeSchema::read), as the filters read them.
  FacetSpy(const State& s, const Analyzer& analyzer, const AttributeSchema& schema, bool brand,
           bool category, bool price, const std::vector<std::string>& attributes = {})
      : s_(s), analyzer_(analyzer), schema_(schema), brand_(brand), category_(category), price_(price) {
    for (const auto& a : attributes) attributes_[analyzer_.fold(a)].name = a;
  }
  void operator()(const Xapian::Document& doc, double) override {
    const Item* item = s_.item_at(ref_of_document(doc));
    if (!item) return;
    const ItemUpsert& d = item->data;
    if (brand_ && d.brand) count(brands_, brand_term(analyzer_, *d.brand), *d.brand);
    if (category_ && d.categories) {
      std::map<std::string, std::string> seen;  // folded -> spelling: once per item and prefix
      for (const auto& path : *d.categories) {
        std::string prefix;
        for (std::string_view level : category_levels(path)) {
          if (!prefix.empty()) prefix += " > ";
          prefix += level;
          seen.emplace(folded_path(prefix), prefix);
        }
      }
      for (const auto& [key, spelling] : seen) count(categories_, key, spelling);
    }
    if (price_ && d.price) {
      size_t b = 0;
      while (b + 1 < kPriceEdges.size() && *d.price >= kPriceEdges[b + 1]) ++b;
      ++prices_[b];
    }
    if (!attributes_.empty() && d.attributes) {
      for (const auto& [key, value] : *d.attributes) {
        auto it = attributes_.find(folded(key));
        if (it == attributes_.end()) continue;
        if (const auto v = schema_.read(it->first, value)) count_attribute(it->second, *v);
      }
    }
  }
  std::vector<Facet> facets(const std::vector<std::string>& order) const {
    auto top = [](const absl::flat_hash_map<std::string, Folded>& m) {
      std::vector<FacetValue> v;
      for (const auto& [key, f] : m) {
        const std::pair<const std::string, uint64_t>* best = nullptr;
        for (const auto& sp : f.spellings) {
          if (!best || sp.second > best->second ||
              (sp.second == best->second && sp.first < best->first)) {
            best = &sp;
          }
        }
        v.push_back({best->first, f.count});
      }
      std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
        return a.count != b.count ? a.count > b.count : a.value < b.value;
      });
      if (v.size() > kFacetValues) v.resize(kFacetValues);
      return v;
    };
    std::vector<Facet> out;
    for (const auto& f : order) {
      if (f == "brand") out.push_back({f, top(brands_), std::nullopt});
      if (f == "category") out.push_back({f, top(categories_), std::nullopt});
      if (f.starts_with("attributes.")) {
        auto it = attributes_.find(analyzer_.fold(std::string_view(f).substr(11)));
        if (it != attributes_.end()) {
          out.push_back({f, top(it->second.values), it->second.stats});
        }
      }
      if (f == "price") {
        Facet p{f, {}, std::nullopt};
        for (size_t b = 0; b < kPriceEdges.size(); ++b) {
          if (!prices_[b]) continue;
          std::string label = fmt_edge(kPriceEdges[b]) + "..";
          if (b + 1 < kPriceEdges.size()) label += fmt_edge(kPriceEdges[b + 1]);
          p.values.push_back({label, prices_[b]});
        }
        out.push_back(std::move(p));
      }
    }
    return out;
  }

 private:
  struct Folded {
    uint64_t count = 0;
    absl::flat_hash_map<std::string, uint64_t> spellings;
  };
  static void count(absl::flat_hash_map<std::string, Folded>& m, const std::string& key,
                    const std::string& spelling) {
    Folded& f = m[key];
    ++f.count;
    ++f.spellings[spelling];
  }
  struct AttributeFacet {
    std::string name;
    absl::flat_hash_map<std::string, Folded> values;  // keyed as the attribute's filter terms
    std::optional<FacetStats> stats;
  };
  // A value is counted under the filter term `attributes.<name> = value` matches, so that
  // filtering on it finds exactly its count; a list counts each of its strings once.
  void count_attribute(AttributeFacet& a, const AttrValue& value) {
    if (const auto* n = std::get_if<double>(&value)) {
      FacetStats& st = a.stats ? *a.stats : a.stats.emplace(FacetStats{0, *n, *n, 0});
      ++st.count;
      st.min = std::min(st.min, *n);
      st.max = std::max(st.max, *n);
      st.sum += *n;
      const std::string text = number_text(*n);
      count(a.values, text, text);
    } else if (const auto* b = std::get_if<bool>(&value)) {
      count(a.values, *b ? "true" : "false", *b ? "true" : "false");
    } else if (const auto* s = std::get_if<std::string>(&value)) {
      count(a.values, folded(*s), *s);
    } else if (const auto* list = std::get_if<std::vector<std::string>>(&value)) {
      std::map<std::string, const std::string*> seen;
      for (const auto& v : *list) seen.emplace(folded(v), &v);
      for (const auto& [key, spelling] : seen) count(a.values, key, *spelling);
    }
  }
  // Folding costs an ICU pass; attribute names and values repeat, so each is folded once.
  const std::string& folded(const std::string& text) {
    auto it = fold_keys_.find(text);
    if (it == fold_keys_.end()) {
      if (fold_keys_.size() > 100000) fold_keys_.clear();  // bounded on catalogs of free text
      it = fold_keys_.emplace(text, analyzer_.fold(text)).first;
    }
    return it->second;
  }
  // Folding costs an ICU pass; a facet sees few distinct paths, so each is folded once.
  const std::string& folded_path(const std::string& path) {
    auto it = path_keys_.find(path);
    if (it == path_keys_.end()) it = path_keys_.emplace(path, fold_path(analyzer_, path)).first;
    return it->second;
  }
  static std::string fmt_edge(double v) { return std::to_string(static_cast<int64_t>(v)); }
  const State& s_;
  const Analyzer& analyzer_;
  const AttributeSchema& schema_;
  bool brand_, category_, price_;
  absl::flat_hash_map<std::string, Folded> brands_, categories_;
  absl::flat_hash_map<std::string, std::string> path_keys_;
  absl::flat_hash_map<std::string, AttributeFacet> attributes_;  // by folded name
  absl::flat_hash_map<std::string, std::string> fold_keys_;
  std::array<uint64_t, kPriceEdges.size()> prices_{};
};

inline Status check_facets(const std::vector<std::string>& facets, const AttributeSchema& schema) {
  for (size_t i = 0; i < facets.size(); ++i) {
    const auto& f = facets[i];
    const bool attribute = f.starts_with("attributes.") && f.size() > 11 && f.size() <= 128;
    if (f != "brand" && f != "category" && f != "price" && !attribute) {
      return Status::invalid("unknown facet \"" + f.substr(0, 64) +
                                 "\"; expected brand, category, price or attributes.<name>",
                             "facets[" + std::to_string(i) + "]");
    }
    if (attribute) {
      const AttributeRoles& roles = schema.roles_of(std::string_view(f).substr(11));
      if (!roles.facetable || roles.type == AttributeType::kGeoPoint) {
        return Status::invalid(f + " is not facetable (" +
                                   (roles.facetable ? "a geo point" : "declared facetable: false") + ")",
                               "facets[" + std::to_string(i) + "]");
      }
    }
  }
  return Status::ok_status();
}

}  // namespace trove::index_internal
