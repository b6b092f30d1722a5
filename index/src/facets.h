// Facets of a search: parse_facets reads what a request asks for (a field, and for a numeric
// one the ranges to count); FacetSpy counts brand, category, price and attribute values over
// every match (with min, max, sum and count for numeric attributes) and answers them sorted,
// cut and, with a facet query, only the values whose words match it; distinct's group keys
// and group sizes are counted alike. Used by search.cpp only.
#pragma once

#include <absl/container/flat_hash_map.h>
#include <xapian.h>

#include <optional>
#include <string>
#include <vector>

#include "index_rep.h"
#include "trove/fuzzy/typo_budget.h"

namespace trove::index_internal {

// One facet of a request: "brand", "category", "price" or "attributes.<name>", and for price
// or a numeric attribute the ranges asked for ("price(0..10, 10..50, 50..)"; both ends
// included, as the filter `price = 10..50` reads them, so each count is what that filter
// finds). Without ranges price counts fixed buckets and an attribute each value.
struct FacetSpec {
  struct Range {
    double lo, hi;
    std::string label;  // "10..50", "50.."
  };
  std::string field;
  std::vector<Range> ranges;
};

// The request's facets, checked: a known field, an attribute declared facetable (not a geo
// point), ranges only on price and attributes, well formed. Errors name "facets[i]".
Result<std::vector<FacetSpec>> parse_facets(const std::vector<std::string>& facets,
                                            const AttributeSchema& schema);

// How the counted values are answered.
struct FacetAnswer {
  size_t max_values = 20;
  FacetSort sort = FacetSort::kCount;
  // A facet query (SearchRequest::facet_query): only `query_field`'s values whose words each
  // start a word of the value's, the last one as a prefix, with typos by `budget`.
  std::string query_field;
  std::string query_text;
  fuzzy::TypoBudget budget;
};

// The request's facets answered: its sort, its cut and its facet query ("brand:nes"), whose
// facet must be one asked for (kInvalidArgument naming max_facet_values or facet_query).
Result<FacetAnswer> facet_answer(const SearchRequest& req, const std::vector<FacetSpec>& specs,
                                 const fuzzy::TypoBudget& budget);

// Distinct (SearchRequest::distinct): the slot of the attribute's group key, checked (declared,
// facetable, not a geo point; kInvalidArgument naming "distinct"); nullopt when none is asked.
Result<std::optional<Xapian::valueno>> distinct_of(const std::string& field, const AttributeSchema& schema);
// The matches of a group: its key's count in the spy; 1 for an item without the attribute
// (never collapsed).
uint64_t group_size(const Xapian::ValueCountMatchSpy& groups, const std::string& key);

// Counts facet values over every match, reading the items from the State by docid. Brands
// and category paths are counted as the filters match them, folded ("Nestlé", "NESTLE" and
// "nestle" are one value), and shown in their most frequent spelling, so that filtering on a
// value finds exactly its count.
class FacetSpy : public Xapian::MatchSpy {
 public:
  // `schema`: how attribute values read (AttributeSchema::read), as the filters read them.
  FacetSpy(const State& s, const Analyzer& analyzer, const AttributeSchema& schema,
           std::vector<FacetSpec> specs);
  void operator()(const Xapian::Document& doc, double) override;
  // The facets in the order of the specs.
  std::vector<Facet> facets(const FacetAnswer& answer) const;

 private:
  struct Folded {
    uint64_t count = 0;
    absl::flat_hash_map<std::string, uint64_t> spellings;
  };
  using Values = absl::flat_hash_map<std::string, Folded>;  // by folded value
  // What one spec counts: values (brand, category, attribute values), or ranges (price,
  // numeric attributes with ranges), and a numeric attribute's stats.
  struct Counts {
    Values values;
    // Numbers apart, by value: text for them only when answering (a string and two hash
    // lookups a match were most of a numeric facet's cost).
    absl::flat_hash_map<double, uint64_t> numbers;
    std::vector<uint64_t> in_range;
    std::optional<FacetStats> stats;
  };
  static void count(Values& m, const std::string& key, const std::string& spelling);
  void count_number(const FacetSpec& spec, Counts& c, double x);
  void count_attribute(const FacetSpec& spec, Counts& c, const AttrValue& value);
  void count_categories(Counts& c, const std::vector<std::string>& paths);
  const std::string& folded(const std::string& text);
  const std::string& folded_path(const std::string& path);
  std::vector<FacetValue> answer_values(const FacetSpec& spec, const Counts& c,
                                        const FacetAnswer& answer) const;

  const State& s_;
  const Analyzer& analyzer_;
  const AttributeSchema& schema_;
  std::vector<FacetSpec> specs_;
  std::vector<Counts> counts_;  // one per spec
  std::vector<std::string> attribute_keys_;  // per spec: the folded attribute name, or ""
  std::vector<std::string> attribute_names_;  // ... as asked (an item's key equal to it needs no fold)
  absl::flat_hash_map<std::string, std::string> path_keys_;
  absl::flat_hash_map<std::string, std::string> fold_keys_;
};

}  // namespace trove::index_internal
