// The filter language (trove/index/filter.h): a recursive-descent parser into the typed tree
// (filter_tree.h), the tree's test on an item, and its canonical text.
#include "trove/index/filter.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "document.h"
#include "filter_tree.h"
#include "query.h"
#include "trove/index/analyzer.h"

namespace trove {
namespace {

using namespace index_internal;

using Node = Filter::Node;
using Field = Node::Field;
using Kind = Node::Kind;

constexpr size_t kMaxFilterBytes = 1024;
constexpr int kMaxDepth = 32;  // nested NOT and parentheses: the parser recurses once a level
constexpr double kInf = std::numeric_limits<double>::infinity();

const Analyzer& analyzer() { return folding_analyzer(); }

std::string quoted(std::string_view v) {
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string field_name(const Node& n) {
  switch (n.field) {
    case Field::kBrand: return "brand";
    case Field::kCategory: return "category";
    case Field::kPrice: return "price";
    case Field::kInStock: return "in_stock";
    case Field::kAttribute: {
      bool plain = !n.key.empty();
      for (unsigned char c : n.key) {
        plain = plain && (std::isalnum(c) || c == '_' || c == '-' || c == '.' || c >= 0x80);
      }
      return "attributes." + (plain ? n.key : quoted(n.key));
    }
  }
  return "";
}

// One value of a comparison, as written: quoted ones are text, never numbers or ranges.
struct Value {
  std::string text;
  bool quoted = false;
  size_t column = 0;
};

// A range "lo..hi" with numbers (either end may be empty, not both).
bool parse_range(const Value& v, Node::Range* r) {
  if (v.quoted) return false;
  const size_t dots = v.text.find("..");
  if (dots == std::string::npos) return false;
  const std::string_view a = std::string_view(v.text).substr(0, dots);
  const std::string_view b = std::string_view(v.text).substr(dots + 2);
  if (a.empty() && b.empty()) return false;
  r->lo = -kInf;
  r->hi = kInf;
  return (a.empty() || parse_double(a, &r->lo)) && (b.empty() || parse_double(b, &r->hi)) &&
         r->lo <= r->hi;
}

std::string value_text(const Value& v) {
  double n = 0;
  Node::Range r;
  if (!v.quoted && (parse_double(v.text, &n) || parse_range(v, &r))) return v.text;
  return quoted(v.text);
}

Status bad(std::string_view path, size_t column, const std::string& what) {
  return Status::invalid("at column " + std::to_string(column) + ": " + what, std::string(path));
}

// The leaf for `field op values` (op: "=", "<", "<=", ">", ">=", "IN"; "!=" is NOT "=").
Result<Node> make_match(std::string_view path, Node base, const std::string& op,
                        const std::vector<Value>& values) {
  Node n = std::move(base);
  n.kind = Kind::kMatch;
  const Analyzer& a = analyzer();
  const std::string name = field_name(n);
  const bool numeric_field = n.field == Field::kPrice || n.field == Field::kAttribute;
  const bool ordered = op == "<" || op == "<=" || op == ">" || op == ">=";
  if (ordered && !numeric_field) {
    return bad(path, values[0].column, name + " takes =, !=, IN or EXISTS, not " + op);
  }
  std::string shown;
  for (const Value& v : values) {
    if (!shown.empty()) shown += ", ";
    shown += value_text(v);
    Node::Range r;
    double x = 0;
    if (ordered) {
      if (v.quoted || !parse_double(v.text, &x)) {
        return bad(path, v.column, "expected a number after " + name + " " + op + ", got " + quoted(v.text));
      }
      if (op == "<") r = {-kInf, std::nextafter(x, -kInf)};
      if (op == "<=") r = {-kInf, x};
      if (op == ">") r = {std::nextafter(x, kInf), kInf};
      if (op == ">=") r = {x, kInf};
      n.ranges.push_back(r);
      continue;
    }
    if (numeric_field && parse_range(v, &r)) {
      n.ranges.push_back(r);
      continue;
    }
    switch (n.field) {
      case Field::kBrand:
        n.terms.push_back(brand_term(a, v.text));
        break;
      case Field::kCategory: {
        const std::string p = fold_path(a, v.text);
        if (p.empty()) return bad(path, v.column, "expected a category path, got " + quoted(v.text));
        n.terms.push_back("XC" + p);
        break;
      }
      case Field::kInStock:
        if (v.text != "true" && v.text != "false") {
          return bad(path, v.column, "expected in_stock = true or false, got " + quoted(v.text));
        }
        n.terms.push_back(in_stock_term(v.text == "true"));
        break;
      case Field::kPrice:
        if (v.quoted || !parse_double(v.text, &x)) {
          return bad(path, v.column, "expected a number or a range lo..hi for price, got " + quoted(v.text));
        }
        n.ranges.push_back({x, x});
        break;
      case Field::kAttribute:
        n.terms.push_back(attribute_term(a, n.key, v.text));
        // A number matches the attribute written as that number ("3.0" and 3).
        if (!v.quoted && parse_double(v.text, &x) && number_text(x) != v.text) {
          n.terms.push_back(attribute_term(a, n.key, number_text(x)));
        }
        break;
    }
  }
  n.text = op == "IN" ? "IN [" + shown + "]" : op + " " + shown;
  return n;
}

Node negated(Node n) {
  Node out;
  out.kind = Kind::kNot;
  out.children.push_back(std::move(n));
  return out;
}

class Parser {
 public:
  Parser(std::string_view text, std::string_view path) : s_(text), path_(path) {}

  Result<Node> parse() {
    auto n = parse_or();
    if (!n.ok()) return n;
    skip_ws();
    if (i_ < s_.size()) return expected("AND, OR or the end");
    return n;
  }

 private:
  size_t column() const { return i_ + 1; }
  Status expected(const std::string& what) const {
    return bad(path_, column(), "expected " + what + ", got " + got());
  }
  std::string got() const {
    if (i_ >= s_.size()) return "the end";
    return quoted(s_.substr(i_, std::min<size_t>(12, s_.size() - i_)));
  }
  void skip_ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  // Whether the keyword starts at `at` and ends there (space, parenthesis, bracket or end).
  bool keyword_at(size_t at, std::string_view kw) const {
    if (s_.substr(at, kw.size()) != kw) return false;
    const size_t end = at + kw.size();
    return end == s_.size() || s_[end] == ' ' || s_[end] == '\t' || s_[end] == '(' ||
           s_[end] == ')' || s_[end] == '[' || s_[end] == '\n' || s_[end] == '\r';
  }
  bool take_keyword(std::string_view kw) {
    skip_ws();
    if (!keyword_at(i_, kw)) return false;
    i_ += kw.size();
    return true;
  }

  Result<Node> parse_or() {
    return parse_list(Kind::kOr, "OR", [this] { return parse_and(); });
  }
  Result<Node> parse_and() {
    return parse_list(Kind::kAnd, "AND", [this] { return parse_unary(); });
  }
  template <typename Next>
  Result<Node> parse_list(Kind kind, std::string_view kw, Next next) {
    auto first = next();
    if (!first.ok()) return first;
    Node list;
    list.kind = kind;
    list.children.push_back(std::move(first).value());
    while (take_keyword(kw)) {
      auto more = next();
      if (!more.ok()) return more;
      list.children.push_back(std::move(more).value());
    }
    if (list.children.size() == 1) return std::move(list.children[0]);
    return list;
  }

  Result<Node> parse_unary() {
    if (++depth_ > kMaxDepth) {
      return bad(path_, column(), "nested deeper than " + std::to_string(kMaxDepth) + " levels");
    }
    Result<Node> out = parse_unary_inner();
    --depth_;
    return out;
  }
  Result<Node> parse_unary_inner() {
    if (take_keyword("NOT")) {
      auto inner = parse_unary();
      if (!inner.ok()) return inner;
      return negated(std::move(inner).value());
    }
    skip_ws();
    if (i_ < s_.size() && s_[i_] == '(') {
      ++i_;
      auto inner = parse_or();
      if (!inner.ok()) return inner;
      skip_ws();
      if (i_ >= s_.size() || s_[i_] != ')') return expected("\")\"");
      ++i_;
      return inner;
    }
    return parse_condition();
  }

  Result<Node> parse_condition() {
    skip_ws();
    const size_t field_column = column();
    Node base;
    TROVE_RETURN_IF_ERROR(parse_field(&base));
    const std::string name = field_name(base);
    skip_ws();
    if (take_keyword("EXISTS")) {
      if (base.field == Field::kInStock) {
        return bad(path_, field_column, "in_stock is always set (an item that does not say is in stock)");
      }
      base.kind = Kind::kExists;
      base.presence = presence_term(base.field == Field::kAttribute ? "attributes." + base.folded_key : name);
      return base;
    }
    if (take_keyword("WITHIN")) {
      if (base.field != Field::kAttribute) {
        return bad(path_, field_column, "only a geo point attribute takes WITHIN, not " + name);
      }
      base.kind = Kind::kGeo;
      TROVE_RETURN_IF_ERROR(parse_area(&base.area));
      return base;
    }
    if (take_keyword("IN")) {
      skip_ws();
      if (i_ >= s_.size() || s_[i_] != '[') return expected("\"[\" after IN");
      ++i_;
      std::vector<Value> values;
      for (;;) {
        Value v;
        TROVE_RETURN_IF_ERROR(parse_value(true, &v));
        values.push_back(std::move(v));
        skip_ws();
        if (i_ < s_.size() && s_[i_] == ',') {
          ++i_;
          continue;
        }
        if (i_ < s_.size() && s_[i_] == ']') {
          ++i_;
          break;
        }
        return expected("\",\" or \"]\"");
      }
      return make_match(path_, std::move(base), "IN", values);
    }
    std::string op;
    for (std::string_view o : {"!=", "<=", ">=", "=", "<", ">"}) {
      if (s_.substr(i_, o.size()) == o) {
        op = std::string(o);
        break;
      }
    }
    if (op.empty()) return expected("=, !=, <, <=, >, >=, IN, EXISTS or WITHIN after " + name);
    i_ += op.size();
    Value v;
    TROVE_RETURN_IF_ERROR(parse_value(false, &v));
    auto m = make_match(path_, std::move(base), op == "!=" ? "=" : op, {v});
    if (!m.ok() || op != "!=") return m;
    return negated(std::move(m).value());
  }

  Status parse_field(Node* n) {
    const size_t start = i_;
    auto ident = [&] {
      const size_t from = i_;
      while (i_ < s_.size()) {
        const auto c = static_cast<unsigned char>(s_[i_]);
        if (!(std::isalnum(c) || c == '_' || c == '-' || c == '.' || c >= 0x80)) break;
        ++i_;
      }
      return std::string(s_.substr(from, i_ - from));
    };
    if (s_.substr(i_, 11) == "attributes.") {
      i_ += 11;
      n->field = Field::kAttribute;
      if (i_ < s_.size() && s_[i_] == '"') {
        Value v;
        TROVE_RETURN_IF_ERROR(parse_quoted(&v));
        n->key = v.text;
      } else {
        n->key = ident();
      }
      if (n->key.empty()) return expected("an attribute name after \"attributes.\"");
      n->folded_key = analyzer().fold(n->key);
      return Status();
    }
    const std::string name = ident();
    if (name == "brand") {
      n->field = Field::kBrand;
    } else if (name == "category") {
      n->field = Field::kCategory;
    } else if (name == "price") {
      n->field = Field::kPrice;
    } else if (name == "in_stock") {
      n->field = Field::kInStock;
    } else {
      i_ = start;
      return name.empty() ? expected("a field (brand, category, price, in_stock or attributes.<name>)")
                          : bad(path_, start + 1,
                                "unknown field \"" + name +
                                    "\"; expected brand, category, price, in_stock or attributes.<name>");
    }
    return Status();
  }

  // RADIUS(lat, lng, distance [m|km]) or BOX(south, west, north, east), in degrees.
  Status parse_area(Node::GeoArea* area) {
    const bool radius = take_keyword("RADIUS");
    if (!radius && !take_keyword("BOX")) return expected("RADIUS(lat, lng, distance) or BOX(south, west, north, east) after WITHIN");
    skip_ws();
    if (i_ >= s_.size() || s_[i_] != '(') return expected("\"(\"");
    ++i_;
    double x[4];
    for (int k = 0; k < 4; ++k) {
      skip_ws();
      const size_t at = column();
      const size_t from = i_;
      while (i_ < s_.size() && s_[i_] != ',' && s_[i_] != ')') ++i_;
      std::string_view text = s_.substr(from, i_ - from);
      while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
      double scale = 1;
      if (radius && k == 2) {
        if (text.ends_with("km")) {
          scale = 1000, text.remove_suffix(2);
        } else if (text.ends_with("m")) {
          text.remove_suffix(1);
        }
        while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
      }
      const bool lat = radius ? k == 0 : k % 2 == 0;
      const double limit = radius && k == 2 ? 4.0e7 : lat ? 90 : 180;
      if (!parse_double(text, &x[k]) || std::fabs(x[k] * scale) > limit || (radius && k == 2 && x[k] <= 0)) {
        const std::string what = radius && k == 2 ? "a distance above 0 (metres, or with km)"
                                 : lat          ? "a latitude (-90..90)"
                                                : "a longitude (-180..180)";
        return bad(path_, at, "expected " + what + ", got " + quoted(text));
      }
      x[k] *= scale;
      const bool last = radius ? k == 2 : k == 3;
      if (i_ >= s_.size() || s_[i_] != (last ? ')' : ',')) return expected(last ? "\")\"" : "\",\"");
      ++i_;
      if (last) break;
    }
    area->radius = radius;
    if (radius) {
      area->centre = {x[0], x[1]};
      area->metres = x[2];
    } else {
      area->south = x[0], area->west = x[1], area->north = x[2], area->east = x[3];
      if (area->south > area->north) return bad(path_, column(), "a box's south is above its north");
    }
    return Status();
  }

  Status parse_quoted(Value* v) {
    v->column = column();
    v->quoted = true;
    ++i_;  // the opening quote
    while (i_ < s_.size() && s_[i_] != '"') {
      if (s_[i_] == '\\' && i_ + 1 < s_.size()) ++i_;
      v->text += s_[i_++];
    }
    if (i_ >= s_.size()) return bad(path_, v->column, "the quoted value is not closed");
    ++i_;
    return Status();
  }

  // A quoted value, or a bare one up to the end, ")", or a space before AND or OR (in a list:
  // "," or "]"), trailing spaces dropped.
  Status parse_value(bool in_list, Value* v) {
    skip_ws();
    if (i_ < s_.size() && s_[i_] == '"') return parse_quoted(v);
    v->column = column();
    const size_t from = i_;
    while (i_ < s_.size()) {
      const char c = s_[i_];
      if (c == ')' || (in_list && (c == ',' || c == ']'))) break;
      if ((c == ' ' || c == '\t') && !in_list) {
        size_t j = i_;
        while (j < s_.size() && (s_[j] == ' ' || s_[j] == '\t')) ++j;
        if (keyword_at(j, "AND") || keyword_at(j, "OR")) break;
      }
      ++i_;
    }
    std::string_view raw = s_.substr(from, i_ - from);
    while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\t')) raw.remove_suffix(1);
    if (raw.empty()) return bad(path_, v->column, "expected a value, got " + got());
    v->text = std::string(raw);
    return Status();
  }

  std::string_view s_;
  std::string_view path_;
  size_t i_ = 0;
  int depth_ = 0;
};

// ---- Filter::matches: the item's filter terms and number for a field, as the index has them.

// The item's value of the attribute `n` tests, as the index holds it; nullopt when the
// attribute is not filterable.
std::optional<AttrValue> attribute_value(const Node& n, const Item& item, const AttributeSchema& schema) {
  if (!schema.roles(n.folded_key).filterable) return std::nullopt;
  return schema.value(item, n.folded_key);
}

std::vector<std::string> item_terms(const Node& n, const Item& item, const AttributeSchema& schema) {
  const ItemUpsert& d = item.data;
  const Analyzer& a = analyzer();
  std::vector<std::string> out;
  switch (n.field) {
    case Field::kBrand:
      if (d.brand) out.push_back(brand_term(a, *d.brand));
      break;
    case Field::kCategory:
      if (d.categories) {
        for (const auto& p : *d.categories) {
          for (auto& t : category_terms(a, p)) out.push_back(std::move(t));
        }
      }
      break;
    case Field::kInStock:
      out.push_back(in_stock_term(d.in_stock.value_or(true)));
      break;
    case Field::kPrice:
      break;
    case Field::kAttribute:
      if (const auto v = attribute_value(n, item, schema)) {
        for (auto& t : attribute_terms(a, n.folded_key, *v)) out.push_back(std::move(t));
      }
      break;
  }
  return out;
}

std::optional<double> item_number(const Node& n, const Item& item, const AttributeSchema& schema) {
  if (n.field == Field::kPrice) return item.data.price;
  if (n.field != Field::kAttribute) return std::nullopt;
  const auto v = attribute_value(n, item, schema);
  const double* x = v ? std::get_if<double>(&*v) : nullptr;
  return x ? std::optional<double>(*x) : std::nullopt;
}

bool present(const Node& n, const Item& item, const AttributeSchema& schema) {
  const ItemUpsert& d = item.data;
  switch (n.field) {
    case Field::kBrand: return d.brand.has_value();
    case Field::kCategory: return d.categories && !d.categories->empty();
    case Field::kPrice: return d.price.has_value();
    case Field::kInStock: return true;
    case Field::kAttribute:
      return attribute_value(n, item, schema).has_value();
  }
  return false;
}

bool node_matches(const Node& n, const Item& item, const AttributeSchema& schema) {
  switch (n.kind) {
    case Kind::kAnd:
      for (const auto& c : n.children) {
        if (!node_matches(c, item, schema)) return false;
      }
      return true;
    case Kind::kOr:
      for (const auto& c : n.children) {
        if (node_matches(c, item, schema)) return true;
      }
      return false;
    case Kind::kNot:
      return !node_matches(n.children[0], item, schema);
    case Kind::kExists:
      return present(n, item, schema);
    case Kind::kGeo: {
      if (schema.roles(n.folded_key).type != AttributeType::kGeoPoint) return false;
      const auto v = attribute_value(n, item, schema);
      const auto p = v ? as_geo_point(*v) : std::nullopt;
      return p && n.area.contains(*p);
    }
    case Kind::kMatch: {
      if (!n.ranges.empty()) {
        if (const auto x = item_number(n, item, schema)) {
          for (const auto& r : n.ranges) {
            if (*x >= r.lo && *x <= r.hi) return true;
          }
        }
      }
      if (n.terms.empty()) return false;
      for (const auto& t : item_terms(n, item, schema)) {
        if (std::find(n.terms.begin(), n.terms.end(), t) != n.terms.end()) return true;
      }
      return false;
    }
  }
  return false;
}

// "brand", ..., "attributes.<folded name>": what without_field() compares.
std::string canonical_field(const Node& n) {
  return n.field == Field::kAttribute ? "attributes." + n.folded_key : field_name(n);
}

bool only_field(const Node& n, const std::string& field) {
  if (n.kind == Kind::kMatch || n.kind == Kind::kExists || n.kind == Kind::kGeo) {
    return canonical_field(n) == field;
  }
  for (const auto& c : n.children) {
    if (!only_field(c, field)) return false;
  }
  return !n.children.empty();
}

std::string node_text(const Node& n, bool nested) {
  switch (n.kind) {
    case Kind::kAnd:
    case Kind::kOr: {
      std::string out;
      for (const auto& c : n.children) {
        if (!out.empty()) out += n.kind == Kind::kAnd ? " AND " : " OR ";
        out += node_text(c, true);
      }
      return nested ? "(" + out + ")" : out;
    }
    case Kind::kNot:
      return "NOT " + node_text(n.children[0], true);
    case Kind::kExists:
      return field_name(n) + " EXISTS";
    case Kind::kGeo: {
      const auto& a = n.area;
      if (a.radius) {
        return field_name(n) + " WITHIN RADIUS(" + number_text(a.centre.lat) + ", " +
               number_text(a.centre.lng) + ", " + number_text(a.metres) + " m)";
      }
      return field_name(n) + " WITHIN BOX(" + number_text(a.south) + ", " + number_text(a.west) +
             ", " + number_text(a.north) + ", " + number_text(a.east) + ")";
    }
    case Kind::kMatch:
      return field_name(n) + " " + n.text;
  }
  return "";
}

}  // namespace

bool Filter::Node::GeoArea::contains(const GeoPoint& p) const {
  if (radius) return distance_metres(centre, p) <= metres;
  if (p.lat < south || p.lat > north) return false;
  return west <= east ? p.lng >= west && p.lng <= east : p.lng >= west || p.lng <= east;
}

Xapian::valueno Filter::Node::slot() const {
  if (field == Field::kPrice) return kSlotPrice;
  if (field == Field::kAttribute) return attribute_slot(folded_key);
  return Xapian::BAD_VALUENO;
}

Filter::Filter() = default;

Result<Filter> Filter::parse(std::string_view text, std::string_view path) {
  if (text.size() > kMaxFilterBytes || !valid_utf8(text)) {
    return Status::invalid("filter is not valid UTF-8 or longer than " +
                               std::to_string(kMaxFilterBytes) + " bytes",
                           std::string(path));
  }
  auto n = Parser(text, path).parse();
  if (!n.ok()) return n.status();
  return Filter(std::make_shared<const Node>(std::move(n).value()));
}

Result<Filter> Filter::all_of(const std::vector<std::string>& texts, std::string_view path) {
  Filter out;
  for (size_t i = 0; i < texts.size(); ++i) {
    auto f = parse(texts[i], std::string(path) + "[" + std::to_string(i) + "]");
    if (!f.ok()) return f.status();
    out = out && *f;
  }
  return out;
}

Filter Filter::operator&&(const Filter& other) const {
  if (matches_everything()) return other;
  if (other.matches_everything()) return *this;
  Node both;
  both.kind = Kind::kAnd;
  for (const Filter* f : {this, &other}) {
    if (f->root_->kind == Kind::kAnd) {
      both.children.insert(both.children.end(), f->root_->children.begin(), f->root_->children.end());
    } else {
      both.children.push_back(*f->root_);
    }
  }
  return Filter(std::make_shared<const Node>(std::move(both)));
}

Filter Filter::without_field(std::string_view field) const {
  if (matches_everything()) return *this;
  std::string canon(field);
  if (canon.starts_with("attributes.")) canon = "attributes." + analyzer().fold(canon.substr(11));
  if (root_->kind != Kind::kAnd) return only_field(*root_, canon) ? Filter() : *this;
  Node rest;
  rest.kind = Kind::kAnd;
  for (const auto& c : root_->children) {
    if (!only_field(c, canon)) rest.children.push_back(c);
  }
  if (rest.children.size() == root_->children.size()) return *this;
  if (rest.children.empty()) return Filter();
  if (rest.children.size() == 1) return Filter(std::make_shared<const Node>(std::move(rest.children[0])));
  return Filter(std::make_shared<const Node>(std::move(rest)));
}

Filter Filter::of(const PlacementFilters& f) {
  Filter out;
  auto add = [&](Field field, const std::string& op, const std::string& value) {
    Node base;
    base.field = field;
    auto m = make_match("filters", std::move(base), op, {Value{value, field != Field::kPrice, 1}});
    // Only an empty category path fails: it filters nothing, as before.
    if (m.ok()) out = out && Filter(std::make_shared<const Node>(std::move(m).value()));
  };
  if (f.brand) add(Field::kBrand, "=", *f.brand);
  if (f.category) add(Field::kCategory, "=", *f.category);
  if (f.in_stock) add(Field::kInStock, "=", *f.in_stock ? "true" : "false");
  if (f.min_price) add(Field::kPrice, ">=", number_text(*f.min_price));
  if (f.max_price) add(Field::kPrice, "<=", number_text(*f.max_price));
  return out;
}

Status check_event(const Event& event) {
  if (const auto* p = std::get_if<PlacementUpsert>(&event.body); p && p->filter) {
    return Filter::parse(*p->filter, "filter").status();
  }
  return {};
}

Result<std::vector<std::string>> matching_ids(const State& st, const Filter& filter) {
  const AttributeSchema schema = AttributeSchema::of(st);
  TROVE_RETURN_IF_ERROR(filter.check(schema));
  std::vector<std::string> out;
  for (ItemRef ref = 0; ref < st.item_refs(); ++ref) {
    const Item* item = st.item_at(ref);
    if (item && filter.matches(*item, schema)) out.push_back(st.item_id(ref));
  }
  return out;
}

bool Filter::matches(const Item& item, const AttributeSchema& schema) const {
  return matches_everything() || node_matches(*root_, item, schema);
}

bool Filter::mentions(std::string_view field) const {
  std::string canon(field);
  if (canon.starts_with("attributes.")) canon = "attributes." + analyzer().fold(canon.substr(11));
  auto visit = [&](const Node& n, const auto& self) -> bool {
    if (n.kind == Kind::kMatch || n.kind == Kind::kExists || n.kind == Kind::kGeo) {
      return canonical_field(n) == canon;
    }
    return std::any_of(n.children.begin(), n.children.end(), [&](const Node& c) { return self(c, self); });
  };
  return !matches_everything() && visit(*root_, visit);
}

Status Filter::check(const AttributeSchema& schema, std::string_view path) const {
  std::string refused;
  auto visit = [&](const Node& n, const auto& self) -> void {
    for (const auto& c : n.children) self(c, self);
    if (!refused.empty() || n.field != Field::kAttribute ||
        (n.kind != Kind::kMatch && n.kind != Kind::kExists && n.kind != Kind::kGeo)) {
      return;
    }
    const AttributeRoles& roles = schema.roles(n.folded_key);
    const bool geo = roles.type == AttributeType::kGeoPoint;
    if (!roles.filterable) {
      refused = "attributes." + n.key + " is not filterable (declared filterable: false)";
    } else if (n.kind == Kind::kMatch && geo) {
      refused = "attributes." + n.key + " is a geo point: it takes WITHIN or EXISTS";
    } else if (n.kind == Kind::kGeo && !geo) {
      refused = "attributes." + n.key + " is not declared a geo_point (AttributeSettingsUpsert), so WITHIN finds nothing";
    }
  };
  if (!matches_everything()) visit(*root_, visit);
  if (refused.empty()) return {};
  return Status::invalid(refused, std::string(path));
}

std::string Filter::to_string() const {
  return matches_everything() ? std::string() : node_text(*root_, false);
}

}  // namespace trove
