#include "document.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <optional>

namespace trove::index_internal {

std::string first_chars(std::string_view s, size_t n) {
  size_t i = 0;
  for (size_t seen = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && seen++ == n) break;
  }
  return std::string(s.substr(0, i));
}

std::vector<std::string_view> split_trimmed(std::string_view text, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(sep, start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view piece = text.substr(start, end - start);
    while (!piece.empty() && piece.front() == ' ') piece.remove_prefix(1);
    while (!piece.empty() && piece.back() == ' ') piece.remove_suffix(1);
    out.push_back(piece);
    start = end + 1;
  }
  return out;
}

std::vector<std::string_view> category_levels(std::string_view path) {
  std::vector<std::string_view> out;
  for (std::string_view level : split_trimmed(path, '>')) {
    if (!level.empty()) out.push_back(level);
  }
  return out;
}

std::string fold_path(const Analyzer& analyzer, std::string_view path) {
  std::string out;
  for (std::string_view level : category_levels(path)) {
    if (!out.empty()) out += '>';
    out += analyzer.fold(level);
  }
  return out;
}

std::vector<std::string> path_prefixes(const std::string& folded_path) {
  std::vector<std::string> out;
  for (size_t i = 0; i <= folded_path.size(); ++i) {
    if (i == folded_path.size() || folded_path[i] == '>') out.push_back(folded_path.substr(0, i));
  }
  return out;
}

std::string brand_term(const Analyzer& analyzer, std::string_view brand) {
  std::string t = "XB";
  t += analyzer.fold(brand);
  if (t.size() > 200) t.resize(200);
  return t;
}

const Analyzer& folding_analyzer() {
  static const Analyzer a;
  return a;
}

std::string number_text(double n) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, n);
  return std::string(buf, static_cast<size_t>(r.ptr - buf));
}

std::vector<std::string> category_terms(const Analyzer& analyzer, std::string_view path) {
  std::vector<std::string> out;
  for (const auto& p : path_prefixes(fold_path(analyzer, path))) {
    if (!p.empty() && p.size() < 200) out.push_back("XC" + p);
  }
  return out;
}

std::vector<std::string> attribute_terms(const Analyzer& analyzer, std::string_view key,
                                         const AttrValue& value) {
  std::vector<std::string> out;
  if (const auto* s = std::get_if<std::string>(&value)) {
    out.push_back(attribute_term(analyzer, key, *s));
  } else if (const auto* b = std::get_if<bool>(&value)) {
    out.push_back(attribute_term(analyzer, key, *b ? "true" : "false"));
  } else if (const auto* n = std::get_if<double>(&value)) {
    out.push_back(attribute_term(analyzer, key, number_text(*n)));
  } else if (const auto* list = std::get_if<std::vector<std::string>>(&value)) {
    for (const auto& v : *list) out.push_back(attribute_term(analyzer, key, v));
  }
  return out;
}

Xapian::valueno distinct_slot(std::string_view folded_key) {
  std::string key = "distinct:";
  key += folded_key;
  return attribute_slot(key);
}

std::string group_key(const Analyzer& analyzer, const AttrValue& value) {
  if (const auto* s = std::get_if<std::string>(&value)) return analyzer.fold(*s);
  if (const auto* n = std::get_if<double>(&value)) return number_text(*n);
  if (const auto* b = std::get_if<bool>(&value)) return *b ? "true" : "false";
  std::vector<std::string> folded;
  for (const auto& v : std::get<std::vector<std::string>>(value)) folded.push_back(analyzer.fold(v));
  std::sort(folded.begin(), folded.end());
  folded.erase(std::unique(folded.begin(), folded.end()), folded.end());
  std::string out;
  for (const auto& f : folded) {
    if (!out.empty()) out += '\x1f';
    out += f;
  }
  return out;
}

std::string geo_slot_value(const GeoPoint& p) {
  std::string out(16, '\0');
  std::memcpy(out.data(), &p.lat, 8);
  std::memcpy(out.data() + 8, &p.lng, 8);
  return out;
}

std::optional<GeoPoint> geo_of_slot_value(std::string_view v) {
  if (v.size() != 16) return std::nullopt;
  GeoPoint p;
  std::memcpy(&p.lat, v.data(), 8);
  std::memcpy(&p.lng, v.data() + 8, 8);
  return p;
}

Xapian::valueno attribute_slot(std::string_view folded_key) {
  uint32_t h = 2166136261u;  // FNV-1a
  for (unsigned char c : folded_key) h = (h ^ c) * 16777619u;
  constexpr uint32_t kFirst = 16;  // kSlotPrice .. kSlotRef and room for more built-ins
  return kFirst + h % (0xFFFFFFFEu - kFirst);  // never Xapian::BAD_VALUENO
}

std::string folded_words(const Analyzer& analyzer, std::string_view text) {
  std::vector<Token> tokens;
  analyzer.analyze(text, &tokens);
  std::string out;
  for (const Token& tok : tokens) {
    if (tok.joined) continue;
    if (!out.empty()) out += ' ';
    out += tok.text;
  }
  return out;
}

std::string exact_title_term(const Analyzer& analyzer, std::string_view text) {
  std::string words = folded_words(analyzer, text);
  if (words.empty() || words.size() + 1 > kMaxTermBytes) return {};
  return "E" + words;
}

std::string readable_term(std::string_view term) {
  auto named = [&](std::string_view name, size_t prefix) {
    return std::string(name) + std::string(term.substr(prefix));
  };
  if (term.empty() || term[0] < 'A' || term[0] > 'Z') return std::string(term);
  if (term == "XS1") return "in_stock:true";
  if (term == "XS0") return "in_stock:false";
  if (term.starts_with("XB")) return named("brand:", 2);
  if (term.starts_with("XC")) return named("category:", 2);
  if (term.starts_with("XA")) return named("attributes.", 2);
  if (term.starts_with("XE")) return named("exists:", 2);
  switch (term[0]) {
    case 'Z': return std::string(term.substr(1)) + " (stem)";
    case 'T': return named("title word:", 1);
    case 'P': return named("prefix:", 1);
    case 'E': return named("exact title:", 1);
  }
  return std::string(term);
}

// A matched term as explain shows it (readable_term): words and stems; boolean terms
// (filters, title words, prefixes) are not shown. Folded words never start with an ASCII
// capital, prefixes always do.
std::optional<std::string> explained_term(const std::string& term) {
  if (term.empty() || term[0] < 'A' || term[0] > 'Z' || term[0] == 'Z') {
    return readable_term(term);
  }
  return std::nullopt;
}

// Xapian's description of the query with each term as readable_term() shows it
// ("(gateaux OR 0.5 * Zgateaux) FILTER XBmaison doree" -> "(gateaux OR 0.5 * gateaux (stem))
// FILTER brand:maison doree"). A term is replaced where it stands whole: after "(", a space
// or the start, before ")", "@" (a query position), a space or the end; longer terms first,
// since a term may hold spaces.
std::string explained_query(const Xapian::Query& query) {
  std::string text = query.get_description();
  std::vector<std::string> terms(query.get_unique_terms_begin(), query.get_unique_terms_end());
  std::sort(terms.begin(), terms.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  auto whole = [&](size_t at, size_t len) {
    const bool before = at == 0 || text[at - 1] == '(' || text[at - 1] == ' ';
    const size_t end = at + len;
    return before && (end == text.size() || text[end] == ')' || text[end] == '@' || text[end] == ' ');
  };
  for (const std::string& term : terms) {
    const std::string shown = readable_term(term);
    if (shown == term) continue;
    for (size_t at = text.find(term); at != std::string::npos; at = text.find(term, at)) {
      if (!whole(at, term.size())) {
        at += term.size();
        continue;
      }
      text.replace(at, term.size(), shown);
      at += shown.size();
    }
  }
  return text;
}

ItemRef ref_of_document(const Xapian::Document& doc) {
  const std::string v = doc.get_value(kSlotRef);
  if (v.size() != 4) return UINT32_MAX;
  ItemRef ref = 0;
  for (char c : v) ref = (ref << 8) | static_cast<unsigned char>(c);
  return ref;
}

std::string attribute_term(const Analyzer& analyzer, std::string_view key, std::string_view value) {
  std::string t = "XA" + analyzer.fold(key) + "=" + analyzer.fold(value);
  if (t.size() > 200) t.resize(200);  // long values filter on their start; Xapian caps terms
  return t;
}

DocumentSettings document_settings(const State& st) {
  return {field_weights(st.search_settings()), AttributeSchema::of(st)};
}

FieldWeights field_weights(const SearchSettingsUpsert& settings) {
  if (!settings.searchable_fields) return {};
  FieldWeights w{0, 0, 0, 0, 0};
  for (const SearchableField& f : *settings.searchable_fields) {
    const auto weight = static_cast<unsigned>(f.weight);  // 1..100 (the event's table)
    switch (f.field) {
      case SearchField::kTitle: w.title = weight; break;
      case SearchField::kBrand: w.brand = weight; break;
      case SearchField::kCategories: w.categories = weight; break;
      case SearchField::kTags: w.tags = weight; break;
      case SearchField::kDescription: w.description = weight; break;
    }
  }
  return w;
}

std::string to_string(const FieldWeights& w) {
  return "title=" + std::to_string(w.title) + " brand=" + std::to_string(w.brand) +
         " categories=" + std::to_string(w.categories) + " tags=" + std::to_string(w.tags) +
         " description=" + std::to_string(w.description);
}

std::optional<FieldWeights> parse_field_weights(std::string_view s) {
  FieldWeights w;
  unsigned* slots[] = {&w.title, &w.brand, &w.categories, &w.tags, &w.description};
  const char* names[] = {"title=", "brand=", "categories=", "tags=", "description="};
  for (size_t i = 0; i < 5; ++i) {
    if (i > 0) {
      if (s.empty() || s.front() != ' ') return std::nullopt;
      s.remove_prefix(1);
    }
    if (!s.starts_with(names[i])) return std::nullopt;
    s.remove_prefix(std::string_view(names[i]).size());
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *slots[i]);
    if (ec != std::errc() || end == s.data()) return std::nullopt;
    s.remove_prefix(static_cast<size_t>(end - s.data()));
  }
  if (!s.empty()) return std::nullopt;
  return w;
}

DocumentBuilder::DocumentBuilder(const std::string& language) {
  if (language != "none" && !language.empty()) {
    try {
      stemmer_ = Xapian::Stem(language);
      stemming_ = true;
    } catch (const Xapian::Error&) {
      stemming_ = false;  // CatalogIndex::open validates the language first
    }
  }
}

std::string DocumentBuilder::stem(const std::string& term) const {
  if (!stemming_ || term.empty() || (term[0] >= '0' && term[0] <= '9')) return {};
  return stemmer_(term);
}

void DocumentBuilder::add_text(Xapian::Document& doc, std::string_view text, unsigned weight,
                               bool positions, uint32_t position_base, bool prefixes) const {
  thread_local std::vector<Token> tokens;
  tokens.clear();
  analyzer_.analyze(text, &tokens, position_base);
  for (const Token& t : tokens) {
    if (t.text.size() > kMaxTermBytes) continue;
    if (positions) {
      doc.add_posting(t.text, t.position, weight);
    } else {
      doc.add_term(t.text, weight);
    }
    if (!t.numeric) {
      // Only stems that differ from the word: where they agree, the word's own term already
      // lists the document, and the query asks for it (query.cpp). A third fewer postings.
      const std::string s = stem(t.text);
      if (!s.empty() && s != t.text) doc.add_term("Z" + s, weight);
    }
    if (prefixes && !t.joined) {
      doc.add_boolean_term("T" + t.text);
      for (size_t n = 1; n <= kMaxPrefixChars; ++n) {
        std::string p = first_chars(t.text, n);
        doc.add_boolean_term("P" + p);
        if (p.size() == t.text.size()) break;
      }
    }
  }
}

// An attribute as its declaration says (AttributeSchema): read as its type (a value that does
// not convert is left out), its words searched when searchable, its group key when declared
// and facetable (distinct), its filter terms and presence when filterable, its number or geo
// point in its slot when filterable or sortable.
void DocumentBuilder::add_attribute(Xapian::Document& doc, const std::string& key,
                                    const AttrValue& stored) const {
  const std::string folded = analyzer_.fold(key);
  const AttributeRoles& roles = attributes_.roles(folded);
  const std::optional<AttrValue> value = attributes_.read(folded, stored);
  if (!value) return;
  if (roles.searchable) {
    if (const auto* s = std::get_if<std::string>(&*value)) {
      add_text(doc, *s, roles.weight, false, 0, false);
    } else if (const auto* list = std::get_if<std::vector<std::string>>(&*value)) {
      for (const auto& v : *list) add_text(doc, v, roles.weight, false, 0, false);
    }
  }
  const auto geo = attributes_.geo(folded, stored);
  if (roles.type && roles.facetable && !geo) {
    std::string group = group_key(analyzer_, *value);
    if (group.size() > 200) group.resize(200);
    if (!group.empty()) doc.add_value(distinct_slot(folded), group);
  }
  if (roles.filterable) {
    if (!geo) {
      for (const auto& t : attribute_terms(analyzer_, key, *value)) doc.add_boolean_term(t);
    }
    std::string presence = presence_term("attributes." + folded);
    if (presence.size() <= 200) doc.add_boolean_term(presence);
  }
  if (!roles.filterable && !roles.sortable) return;
  if (geo) {
    doc.add_value(attribute_slot(folded), geo_slot_value(*geo));
  } else if (const auto* n = std::get_if<double>(&*value)) {
    doc.add_value(attribute_slot(folded), Xapian::sortable_serialise(*n));
  }
}

Xapian::Document DocumentBuilder::build(ItemRef ref, const Item& item) const {
  const ItemUpsert& d = item.data;
  const FieldWeights& w = weights_;
  Xapian::Document doc;
  if (w.title > 0) {
    add_text(doc, d.title, w.title, true, 0, true);
    if (std::string e = exact_title_term(analyzer_, d.title); !e.empty()) doc.add_term(e, 1);
  }
  if (d.brand) {
    if (w.brand > 0) add_text(doc, *d.brand, w.brand, true, kBrandPositionBase, true);
    doc.add_boolean_term(brand_term(analyzer_, *d.brand));
    doc.add_boolean_term(presence_term("brand"));
  }
  if (d.categories) {
    for (const auto& path : *d.categories) {
      if (w.categories > 0) add_text(doc, path, w.categories, false, 0, false);
      for (const auto& t : category_terms(analyzer_, path)) doc.add_boolean_term(t);
    }
    if (!d.categories->empty()) doc.add_boolean_term(presence_term("category"));
  }
  if (d.tags && w.tags > 0) {
    for (const auto& tag : *d.tags) add_text(doc, tag, w.tags, false, 0, false);
  }
  if (d.description && w.description > 0) {
    add_text(doc, *d.description, w.description, false, 0, false);
  }
  doc.add_boolean_term(in_stock_term(d.in_stock.value_or(true)));
  if (d.attributes) {
    for (const auto& [key, value] : *d.attributes) add_attribute(doc, key, value);
  }
  if (d.price) {
    doc.add_value(kSlotPrice, Xapian::sortable_serialise(*d.price));
    doc.add_boolean_term(presence_term("price"));
  }
  doc.add_value(kSlotUpdated, Xapian::sortable_serialise(static_cast<double>(item.updated_seq)));
  const char ref_bytes[4] = {static_cast<char>(ref >> 24), static_cast<char>(ref >> 16),
                             static_cast<char>(ref >> 8), static_cast<char>(ref)};
  doc.add_value(kSlotRef, std::string(ref_bytes, 4));
  return doc;
}

}  // namespace trove::index_internal
