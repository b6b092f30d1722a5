#include "facets.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>

#include "query.h"
#include "trove/fuzzy/levenshtein.h"
#include "trove/fuzzy/utf8.h"

namespace trove::index_internal {
namespace {

// Without ranges, price counts these buckets, each from its edge up to the next (excluded).
constexpr std::array<double, 7> kPriceEdges = {0, 10, 25, 50, 100, 250, 500};
constexpr size_t kMaxFacetRanges = 20;

std::string edge_text(double v) { return std::to_string(static_cast<int64_t>(v)); }

// "0..10, 10..50, 50.." (the text between the parentheses) as ranges.
Result<std::vector<FacetSpec::Range>> parse_ranges(std::string_view text, const std::string& path) {
  std::vector<FacetSpec::Range> out;
  for (std::string_view r : split_trimmed(text, ',')) {
    const size_t dots = r.find("..");
    const std::string_view a = dots == std::string_view::npos ? r : r.substr(0, dots);
    const std::string_view b = dots == std::string_view::npos ? std::string_view() : r.substr(dots + 2);
    FacetSpec::Range range{-INFINITY, INFINITY, {}};
    const bool ok = dots != std::string_view::npos && !(a.empty() && b.empty()) &&
                    (a.empty() || parse_double(a, &range.lo)) && (b.empty() || parse_double(b, &range.hi)) &&
                    range.lo <= range.hi;
    if (!ok) {
      return Status::invalid("expected ranges lo..hi (either end may be left out), got \"" +
                                 std::string(r.substr(0, 32)) + "\"",
                             path);
    }
    range.label = (a.empty() ? "" : number_text(range.lo)) + ".." + (b.empty() ? "" : number_text(range.hi));
    out.push_back(std::move(range));
  }
  if (out.size() > kMaxFacetRanges) {
    return Status::invalid("at most " + std::to_string(kMaxFacetRanges) + " ranges", path);
  }
  return out;
}

// A facet query's words, each an automaton: a value matches when every word matches one of
// its words (the last as a prefix), within the typos its length allows.
class FacetQuery {
 public:
  FacetQuery(const Analyzer& analyzer, const std::string& text, const fuzzy::TypoBudget& budget)
      : analyzer_(analyzer) {
    const std::string folded = folded_words(analyzer, text);
    const auto words = split_trimmed(folded, ' ');
    for (size_t i = 0; i < words.size(); ++i) {
      if (words[i].empty()) continue;
      const bool last = i + 1 == words.size();
      automata_.emplace_back(words[i], fuzzy::typo_options(words[i], budget, last));
    }
  }
  bool matches(const std::string& value) const {
    const std::string folded = folded_words(analyzer_, value);
    std::vector<std::u32string> words;
    for (std::string_view w : split_trimmed(folded, ' ')) {
      if (!w.empty() && fuzzy::decode_utf8(w, &words.emplace_back())) continue;
    }
    for (const auto& a : automata_) {
      const bool found = std::any_of(words.begin(), words.end(), [&](const std::u32string& w) {
        auto s = a.start();
        for (char32_t c : w) {
          s = a.step(s, c);
          if (!a.can_match(s)) return false;
        }
        return a.is_match(s);
      });
      if (!found) return false;
    }
    return true;
  }

 private:
  const Analyzer& analyzer_;
  std::vector<fuzzy::LevenshteinAutomaton> automata_;
};

}  // namespace

Result<std::vector<FacetSpec>> parse_facets(const std::vector<std::string>& facets,
                                            const AttributeSchema& schema) {
  std::vector<FacetSpec> out;
  for (size_t i = 0; i < facets.size(); ++i) {
    const std::string path = "facets[" + std::to_string(i) + "]";
    std::string_view f = facets[i];
    FacetSpec spec;
    if (const size_t open = f.find('('); open != std::string_view::npos) {
      if (!f.ends_with(")")) return Status::invalid("expected \")\" after the ranges", path);
      auto ranges = parse_ranges(f.substr(open + 1, f.size() - open - 2), path);
      if (!ranges.ok()) return ranges.status();
      spec.ranges = std::move(ranges).value();
      f = f.substr(0, open);
    }
    spec.field = std::string(f);
    const bool attribute = f.starts_with("attributes.") && f.size() > 11 && f.size() <= 128;
    if (f != "brand" && f != "category" && f != "price" && !attribute) {
      return Status::invalid("unknown facet \"" + spec.field.substr(0, 64) +
                                 "\"; expected brand, category, price or attributes.<name>",
                             path);
    }
    if (attribute) {
      const AttributeRoles& roles = schema.roles_of(f.substr(11));
      if (!roles.facetable || roles.type == AttributeType::kGeoPoint) {
        return Status::invalid(spec.field + " is not facetable (" +
                                   (roles.facetable ? "a geo point" : "declared facetable: false") + ")",
                               path);
      }
    } else if (!spec.ranges.empty() && f != "price") {
      return Status::invalid(spec.field + " takes no ranges (price and numeric attributes do)", path);
    }
    out.push_back(std::move(spec));
  }
  return out;
}

FacetSpy::FacetSpy(const State& s, const Analyzer& analyzer, const AttributeSchema& schema,
                   std::vector<FacetSpec> specs)
    : s_(s), analyzer_(analyzer), schema_(schema), specs_(std::move(specs)) {
  counts_.resize(specs_.size());
  for (size_t i = 0; i < specs_.size(); ++i) {
    const FacetSpec& spec = specs_[i];
    const bool attribute = spec.field.starts_with("attributes.");
    attribute_keys_.push_back(attribute ? analyzer_.fold(std::string_view(spec.field).substr(11)) : "");
    attribute_names_.push_back(attribute ? spec.field.substr(11) : "");
    const size_t ranges = spec.field == "price" && spec.ranges.empty() ? kPriceEdges.size() : spec.ranges.size();
    counts_[i].in_range.assign(ranges, 0);
  }
}

void FacetSpy::operator()(const Xapian::Document& doc, double) {
  const Item* item = s_.item_at(ref_of_document(doc));
  if (!item) return;
  const ItemUpsert& d = item->data;
  for (size_t i = 0; i < specs_.size(); ++i) {
    const FacetSpec& spec = specs_[i];
    Counts& c = counts_[i];
    if (!attribute_keys_[i].empty()) {
      if (!d.attributes) continue;
      for (const auto& [key, value] : *d.attributes) {
        if (key != attribute_names_[i] && folded(key) != attribute_keys_[i]) continue;
        if (const auto v = schema_.read(attribute_keys_[i], value)) count_attribute(spec, c, *v);
        break;
      }
    } else if (spec.field == "brand") {
      if (d.brand) count(c.values, brand_term(analyzer_, *d.brand), *d.brand);
    } else if (spec.field == "category") {
      if (d.categories) count_categories(c, *d.categories);
    } else if (spec.field == "price" && d.price) {
      count_number(spec, c, *d.price);
    }
  }
}

void FacetSpy::count(Values& m, const std::string& key, const std::string& spelling) {
  Folded& f = m[key];
  ++f.count;
  ++f.spellings[spelling];
}

// A number: into each range asked for that holds it, or (price without ranges) its bucket.
void FacetSpy::count_number(const FacetSpec& spec, Counts& c, double x) {
  if (spec.ranges.empty()) {
    size_t b = 0;
    while (b + 1 < kPriceEdges.size() && x >= kPriceEdges[b + 1]) ++b;
    ++c.in_range[b];
    return;
  }
  for (size_t r = 0; r < spec.ranges.size(); ++r) {
    if (x >= spec.ranges[r].lo && x <= spec.ranges[r].hi) ++c.in_range[r];
  }
}

// A value is counted under the filter term `attributes.<name> = value` matches, so that
// filtering on it finds exactly its count; a list counts each of its strings once. A number
// also adds to the stats, and with ranges counts in them instead of as itself.
void FacetSpy::count_attribute(const FacetSpec& spec, Counts& c, const AttrValue& value) {
  if (const auto* n = std::get_if<double>(&value)) {
    FacetStats& st = c.stats ? *c.stats : c.stats.emplace(FacetStats{0, *n, *n, 0});
    ++st.count;
    st.min = std::min(st.min, *n);
    st.max = std::max(st.max, *n);
    st.sum += *n;
    if (!spec.ranges.empty()) return count_number(spec, c, *n);
    ++c.numbers[*n == 0 ? 0.0 : *n];  // -0 and 0 are one value, as their filter term
  } else if (const auto* b = std::get_if<bool>(&value)) {
    count(c.values, *b ? "true" : "false", *b ? "true" : "false");
  } else if (const auto* s = std::get_if<std::string>(&value)) {
    count(c.values, folded(*s), *s);
  } else if (const auto* list = std::get_if<std::vector<std::string>>(&value)) {
    std::map<std::string, const std::string*> seen;
    for (const auto& v : *list) seen.emplace(folded(v), &v);
    for (const auto& [key, spelling] : seen) count(c.values, key, *spelling);
  }
}

// Every prefix of every path, once per item: "Kitchen", "Kitchen > Cookware".
void FacetSpy::count_categories(Counts& c, const std::vector<std::string>& paths) {
  std::map<std::string, std::string> seen;  // folded -> spelling
  for (const auto& path : paths) {
    std::string prefix;
    for (std::string_view level : category_levels(path)) {
      if (!prefix.empty()) prefix += " > ";
      prefix += level;
      seen.emplace(folded_path(prefix), prefix);
    }
  }
  for (const auto& [key, spelling] : seen) count(c.values, key, spelling);
}

// Folding costs an ICU pass; attribute names and values repeat, so each is folded once.
const std::string& FacetSpy::folded(const std::string& text) {
  auto it = fold_keys_.find(text);
  if (it == fold_keys_.end()) {
    if (fold_keys_.size() > 100000) fold_keys_.clear();  // bounded on catalogs of free text
    it = fold_keys_.emplace(text, analyzer_.fold(text)).first;
  }
  return it->second;
}

// Folding costs an ICU pass; a facet sees few distinct paths, so each is folded once.
const std::string& FacetSpy::folded_path(const std::string& path) {
  auto it = path_keys_.find(path);
  if (it == path_keys_.end()) it = path_keys_.emplace(path, fold_path(analyzer_, path)).first;
  return it->second;
}

// Ranges in the order asked for (price's buckets in theirs), those with a count; values in
// their most frequent spelling, those a facet query keeps, sorted and cut.
std::vector<FacetValue> FacetSpy::answer_values(const FacetSpec& spec, const Counts& c,
                                                const FacetAnswer& answer) const {
  std::vector<FacetValue> out;
  if (!c.in_range.empty() && (spec.field == "price" || !spec.ranges.empty())) {
    for (size_t r = 0; r < c.in_range.size(); ++r) {
      if (c.in_range[r] == 0) continue;
      if (!spec.ranges.empty()) {
        out.push_back({spec.ranges[r].label, c.in_range[r]});
      } else {
        std::string label = edge_text(kPriceEdges[r]) + "..";
        if (r + 1 < kPriceEdges.size()) label += edge_text(kPriceEdges[r + 1]);
        out.push_back({label, c.in_range[r]});
      }
    }
    return out;
  }
  Values merged;
  const Values* values = &c.values;
  if (!c.numbers.empty()) {  // as their filter terms write them: "3", not "3.0"
    merged = c.values;
    for (const auto& [n, count] : c.numbers) {
      Folded& f = merged[number_text(n)];
      f.count += count;
      f.spellings[number_text(n)] += count;
    }
    values = &merged;
  }
  std::optional<FacetQuery> query;
  if (answer.query_field == spec.field) query.emplace(analyzer_, answer.query_text, answer.budget);
  std::vector<std::pair<const std::string*, FacetValue>> v;  // folded key, shown value
  for (const auto& [key, f] : *values) {
    const std::pair<const std::string, uint64_t>* best = nullptr;
    for (const auto& sp : f.spellings) {
      if (!best || sp.second > best->second || (sp.second == best->second && sp.first < best->first)) {
        best = &sp;
      }
    }
    if (query && !query->matches(best->first)) continue;
    v.push_back({&key, {best->first, f.count}});
  }
  const bool numeric = c.stats.has_value();
  auto by_value = [&](const auto& a, const auto& b) {
    double x = 0, y = 0;
    if (numeric && parse_double(*a.first, &x) && parse_double(*b.first, &y) && x != y) return x < y;
    return *a.first != *b.first ? *a.first < *b.first : a.second.value < b.second.value;
  };
  std::sort(v.begin(), v.end(), [&](const auto& a, const auto& b) {
    if (answer.sort == FacetSort::kValue) return by_value(a, b);
    return a.second.count != b.second.count ? a.second.count > b.second.count : a.second.value < b.second.value;
  });
  if (v.size() > answer.max_values) v.resize(answer.max_values);
  for (auto& [key, value] : v) out.push_back(std::move(value));
  return out;
}

Result<FacetAnswer> facet_answer(const SearchRequest& req, const std::vector<FacetSpec>& specs,
                                 const fuzzy::TypoBudget& budget) {
  FacetAnswer a;
  if (req.max_facet_values < 1 || req.max_facet_values > kMaxFacetValues) {
    return Status::invalid("expected 1.." + std::to_string(kMaxFacetValues), "max_facet_values");
  }
  a.max_values = req.max_facet_values;
  a.sort = req.facet_sort;
  a.budget = budget;
  if (req.facet_query.empty()) return a;
  const size_t colon = req.facet_query.find(':');
  a.query_field = req.facet_query.substr(0, colon);
  const bool asked = std::any_of(specs.begin(), specs.end(), [&](const FacetSpec& s) {
    return s.field == a.query_field && s.ranges.empty() && s.field != "price";
  });
  if (colon == std::string::npos || !asked) {
    return Status::invalid("expected <facet>:<text>, the facet one of facets (not price or ranges)",
                           "facet_query");
  }
  a.query_text = req.facet_query.substr(colon + 1);
  return a;
}

Result<std::optional<Xapian::valueno>> distinct_of(const std::string& field, const AttributeSchema& schema) {
  if (field.empty()) return std::optional<Xapian::valueno>();
  const std::string name = field.starts_with("attributes.") ? field.substr(11) : std::string();
  const AttributeRoles& roles = schema.roles_of(name);
  if (name.empty()) return Status::invalid("expected attributes.<name>, got \"" + field.substr(0, 64) + "\"", "distinct");
  if (!roles.type || !roles.facetable || roles.type == AttributeType::kGeoPoint) {
    return Status::invalid(field + " groups only when declared (AttributeSettingsUpsert), facetable and not a geo point",
                           "distinct");
  }
  return std::optional<Xapian::valueno>(distinct_slot(folding_analyzer().fold(name)));
}

uint64_t group_size(const Xapian::ValueCountMatchSpy& groups, const std::string& key) {
  if (key.empty()) return 1;
  for (auto v = groups.values_begin(); v != groups.values_end(); ++v) {
    if (*v == key) return v.get_termfreq();
  }
  return 1;
}

std::vector<Facet> FacetSpy::facets(const FacetAnswer& answer) const {
  std::vector<Facet> out;
  for (size_t i = 0; i < specs_.size(); ++i) {
    out.push_back({specs_[i].field, answer_values(specs_[i], counts_[i], answer), counts_[i].stats});
  }
  return out;
}

}  // namespace trove::index_internal
