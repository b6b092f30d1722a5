// The typed tree of a Filter (trove/index/filter.h), read by the index's query compiler
// (query.cpp, filter_query) and by Filter::matches. Private to index/.
#pragma once

#include <xapian.h>

#include <string>
#include <vector>

#include "trove/index/filter.h"

namespace trove {

struct Filter::Node {
  enum class Kind { kAnd, kOr, kNot, kMatch, kExists, kGeo };
  enum class Field { kBrand, kCategory, kPrice, kInStock, kAttribute };
  // An inclusive range of numbers (either end may be infinite).
  struct Range {
    double lo, hi;
  };

  Kind kind = Kind::kMatch;
  std::vector<Node> children;  // kAnd, kOr (two or more), kNot (one)

  // kMatch, kExists: the field, as written (for to_string) and folded (attributes).
  Field field = Field::kBrand;
  std::string key;         // attributes.<key> as written
  std::string folded_key;  // ... folded as the index folds it
  // kMatch: the item has one of these filter terms (index/src/document.h) or a number in one
  // of these ranges (price, or the attribute's slot). `text` keeps the values as written.
  std::vector<std::string> terms;
  std::vector<Range> ranges;
  std::string text;  // "= 10..50", "IN [a, b]", "< 3": the comparison as to_string() writes it
  // kExists: the presence term.
  std::string presence;
  // kGeo: where a geo point attribute must lie, within a radius of a centre or in a box
  // (south..north, west..east; a box whose west is east of its east crosses the antimeridian).
  struct GeoArea {
    bool radius = true;
    GeoPoint centre;
    double metres = 0;
    double south = 0, west = 0, north = 0, east = 0;
    // The one test of "in the area", for the index (query.cpp's GeoSource) and matches().
    bool contains(const GeoPoint& p) const;
  };
  GeoArea area;

  // The value slot of a numeric field (ranges) or a geo point; Xapian::BAD_VALUENO for text
  // fields.
  Xapian::valueno slot() const;
};

}  // namespace trove
