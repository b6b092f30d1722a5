// Filter: the catalog filter language, one for search, suggest and recommendations.
//
//   brand = "J.K. Rowling" AND (price < 10 OR attributes.year >= 2015)
//   NOT category = Books > Fantasy
//   attributes.language IN [en, eng] AND attributes.rating EXISTS
//   price = 10..50            a range; either end may be left out ("price=10..")
//   brand != Acme             NOT (brand = Acme): true for an item without a brand
//   attributes.at WITHIN RADIUS(48.85, 2.35, 5 km)      a geo point (declared geo_point)
//   attributes.at WITHIN BOX(48.8, 2.2, 48.9, 2.4)      south, west, north, east
//
// Fields: `brand`, `category` (the path or any path below it), `price`, `in_stock` (true or
// false; an item that does not say is in stock), `attributes.<name>`. Operators: `=`, `!=`,
// `<`, `<=`, `>`, `>=` and ranges `lo..hi` on numbers (price and numeric attributes), `IN
// [a, b]`, `EXISTS`, `WITHIN RADIUS(lat, lng, distance in m or km)` and `WITHIN BOX(south,
// west, north, east)` on geo points (a box whose west is east of its east crosses the
// antimeridian); `NOT`; `AND` binds tighter than `OR`; parentheses. Keywords are upper
// case, so a bare value may hold spaces and lower-case words ("brand=Salt and Pepper") up to
// the next ` AND `, ` OR ` or `)`; quote a value ("...", with \" and \\) that holds one of
// those, a comma or a bracket. Text is matched folded (case, accents) everywhere, as the index
// folds it; a number given to `=` on an attribute also matches the attribute written as that
// number ("3" and 3.0). A comparison on a field an item lacks is false.
//
// Errors (Status kInvalidArgument) carry the filter's path and say at which column what was
// expected: `at column 9: expected =, !=, <, <=, >, >=, IN, EXISTS or WITHIN after "brand", got "~"`.
//
//   auto f = Filter::parse("price < 10 OR brand = Acme");
//   if (f.ok() && f->matches(item, AttributeSchema::of(state))) ...
//
// A search compiles the tree into a Xapian query (index/src/query.cpp, filter_query); a
// recommendation tests each candidate with matches(). Both read the same terms
// (index/src/document.h), so the two agree on every item.
//
// Thread-safety: a Filter is immutable once made; copies share the tree.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "trove/data/events.h"
#include "trove/data/state.h"
#include "trove/data/status.h"
#include "trove/index/attributes.h"

namespace trove {

class Filter {
 public:
  Filter();  // matches every item

  // `path` names the filter in errors ("filter", "query.filter[0]").
  static Result<Filter> parse(std::string_view text, std::string_view path = "filter");
  // Several filters that must all hold (a repeated parameter); the i-th error's path is
  // `path`[i].
  static Result<Filter> all_of(const std::vector<std::string>& texts,
                               std::string_view path = "filters");
  // A placement's or a recommendation request's catalog filters (brand, category, price
  // bounds, in_stock when given) as one Filter.
  static Filter of(const PlacementFilters& f);
  // Both must hold.
  Filter operator&&(const Filter& other) const;
  // This filter without its top-level conjuncts (the parts joined by AND, or the whole) that
  // test `field` alone ("brand", "category", "price", "in_stock", "attributes.<name>"): what
  // a disjunctive facet on that field counts under, so its other values stay counted while
  // one is selected.
  Filter without_field(std::string_view field) const;

  bool matches_everything() const { return root_ == nullptr; }
  // Whether any condition of the filter, at any depth, tests `field` (named as for
  // without_field).
  bool mentions(std::string_view field) const;
  // Whether `item` passes, its attributes read as `schema` declares them (as the index holds
  // them).
  bool matches(const Item& item, const AttributeSchema& schema) const;
  // kInvalidArgument naming the first attribute the filter tests that `schema` declares not
  // filterable; OK otherwise. Search, suggest and recommendations refuse such a filter.
  Status check(const AttributeSchema& schema, std::string_view path = "filter") const;
  // The canonical text (parse(to_string()) is the same filter).
  std::string to_string() const;

  struct Node;  // the typed tree: index/src/filter_tree.h
  const Node* root() const { return root_.get(); }

 private:
  explicit Filter(std::shared_ptr<const Node> root) : root_(std::move(root)) {}
  std::shared_ptr<const Node> root_;  // null: everything
};

// What an event's schema cannot say about its filters: a PlacementUpsert's `filter` parses
// (kInvalidArgument with the path "filter" and the column otherwise). Every way events come in
// (HTTP, `trove ingest`) calls it after the parse, so a stored placement always has a filter
// that parses.
Status check_event(const Event& event);

// The ids of the catalog's items `filter` matches, in item order; Filter::check's error when
// it tests an attribute that is not filterable. REQUIRES: called under the Store's read lock
// (reads the State).
Result<std::vector<std::string>> matching_ids(const State& st, const Filter& filter);

}  // namespace trove
