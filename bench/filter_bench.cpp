// filter_bench: the program behind bench/filters.sh, filtered, faceted, sorted search pages on
// goodbooks-10k and Open Food Facts, Trove beside PostgreSQL 15 on the same queries. The script
// runs `trove import` / `trove ingest` and PostgreSQL; this program does the parts that need code:
//
//   filter_bench off-events OUT
//       Open Food Facts JSONL on stdin (code, name, ingredients) -> OUT: one
//       AttributeSettingsUpsert (gs1 and ingredients are numbers), then one ItemUpsert a product
//       with two derived attributes: gs1 = the first 3 digits of a 13-digit code (the GS1
//       prefix: 300-379 France, 400-440 Germany, ...), ingredients = the comma-separated pieces
//       of the ingredients text (absent without one). Names over 1000 code points are cut there.
//   filter_bench prepare books|off DATA_DIR WORK SEED N
//       Opens the imported data dir and writes, from Trove's own State (so that both engines hold
//       exactly the same rows and typed values): WORK/rows.copy (PostgreSQL COPY text),
//       WORK/schema.sql, WORK/copy.sql, WORK/indexes.sql, and N queries: WORK/queries.tsv (Trove's
//       request) and WORK/pg_stmts.tsv (the equivalent SQL: the page, the count, one GROUP BY per
//       facet).
//   filter_bench run DATA_DIR WORK/queries.tsv OUT
//       Every query through CatalogIndex::search in-process, a warm-up pass then a timed pass;
//       OUT: one JSON line a query (ms, total, the page's sort keys, the facet counts).
//   filter_bench report TITLE TARGET_MS QUERIES TROVE_OUT [PG_OUT]
//       The markdown tables: p50/p99/mean beside PostgreSQL, and how many queries agree on the
//       total and every facet count (the first disagreements shown); TARGET_MS (0: none) is the
//       p99 the issue asks of Trove, printed as met or missed, never asserted.
//
// Never asserts a time. Exit 1 on a broken input or an error from the library.
#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "filter_common.h"
#include "trove/data/store.h"
#include "trove/index/analyzer.h"
#include "trove/index/attributes.h"
#include "trove/index/catalog_index.h"

namespace {

using trove_filter_bench::die;
using trove_filter_bench::join;
using trove_filter_bench::num;
using trove_filter_bench::QueryLine;
using trove_filter_bench::read_queries;
using trove_filter_bench::split;
using Clock = std::chrono::steady_clock;

void json_string(std::string* out, std::string_view s) {
  *out += '"';
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      *out += '\\';
      *out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      *out += buf;
    } else {
      *out += static_cast<char>(c);
    }
  }
  *out += '"';
}

// PostgreSQL COPY text format: backslash, tab, newline and CR escaped, NUL dropped.
std::string copy_text(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\t')
      out += "\\t";
    else if (c == '\n')
      out += "\\n";
    else if (c == '\r')
      out += "\\r";
    else if (c != '\0')
      out += c;
  }
  return out;
}

std::string sql_quote(std::string_view v) {
  std::string out = "'";
  for (char c : v) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

// ---- off-events --------------------------------------------------------------------------

// Bytes of the first `max_cp` code points of valid UTF-8.
size_t utf8_prefix(std::string_view s, size_t max_cp) {
  size_t cp = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && cp++ == max_cp) return i;
  }
  return s.size();
}

int off_events(const std::string& out_path) {
  std::FILE* out = std::fopen(out_path.c_str(), "w");
  if (out == nullptr) die("cannot write " + out_path);
  std::fputs(
      "{\"type\":\"AttributeSettingsUpsert\",\"attributes\":[{\"name\":\"gs1\",\"type\":\"number\"}"
      ","
      "{\"name\":\"ingredients\",\"type\":\"number\"}]}\n",
      out);
  std::ios::sync_with_stdio(false);
  simdjson::dom::parser parser;
  std::string line, ev;
  size_t rows = 0, skipped = 0, cut = 0, with_gs1 = 0, with_ingredients = 0;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    ++rows;
    simdjson::dom::element doc;
    std::string_view code, name, ingredients;
    if (parser.parse(line).get(doc) || doc["code"].get(code) || doc["name"].get(name) ||
        code.empty() || name.empty()) {
      ++skipped;
      continue;
    }
    if (doc["ingredients"].get(ingredients)) ingredients = {};
    ev = "{\"type\":\"ItemUpsert\",\"id\":";
    json_string(&ev, code);
    ev += ",\"title\":";
    const size_t keep = utf8_prefix(name, 1000);
    cut += keep < name.size();
    json_string(&ev, name.substr(0, keep));
    std::vector<std::string> attrs;
    if (code.size() == 13 &&
        std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      attrs.push_back("\"gs1\":" + std::to_string(std::stoi(std::string(code.substr(0, 3)))));
      ++with_gs1;
    }
    if (ingredients.find_first_not_of(" \t\r\n") != std::string_view::npos) {
      attrs.push_back("\"ingredients\":" +
                      std::to_string(std::count(ingredients.begin(), ingredients.end(), ',') + 1));
      ++with_ingredients;
    }
    if (!attrs.empty()) ev += ",\"attributes\":{" + join(attrs, ",") + "}";
    ev += "}\n";
    std::fwrite(ev.data(), 1, ev.size(), out);
  }
  if (std::fclose(out) != 0) die("writing " + out_path + " failed");
  std::printf(
      "off_rows=%zu\noff_skipped=%zu\noff_titles_cut=%zu\noff_with_gs1=%zu\n"
      "off_with_ingredients=%zu\n",
      rows, skipped, cut, with_gs1, with_ingredients);
  return 0;
}

// ---- prepare: the rows and the queries ----------------------------------------------------

// One column of the PostgreSQL table, read from an item attribute (or id, title, brand).
struct Column {
  std::string name, type;  // SQL name and type: text, int, float8
  std::string attribute;   // the attribute's name; "" for id, title, brand
};

struct Dataset {
  std::string name, language;  // language: the Snowball stemmer both engines use
  std::vector<Column> columns;
  std::string indexes;  // CREATE INDEX statements
};

Dataset dataset(const std::string& name) {
  if (name == "books") {
    return {"books",
            "english",
            {{"id", "text", ""},
             {"title", "text", ""},
             {"brand", "text", ""},
             {"year", "int", "year"},
             {"language", "text", "language"},
             {"rating", "float8", "rating"},
             {"ratings_count", "int", "ratings_count"}},
            "CREATE INDEX ON items (year);\n"
            "CREATE INDEX ON items (year DESC NULLS LAST);\n"
            "CREATE INDEX ON items (lower(language));\n"
            "CREATE INDEX ON items (rating DESC NULLS LAST);\n"
            "CREATE INDEX ON items (ratings_count DESC NULLS LAST);\n"
            "CREATE INDEX ON items USING gin (tsv);\n"};
  }
  if (name == "off") {
    return {"off",
            "french",
            {{"id", "text", ""},
             {"title", "text", ""},
             {"gs1", "int", "gs1"},
             {"ingredients", "int", "ingredients"}},
            "CREATE INDEX ON items (gs1);\n"
            "CREATE INDEX ON items (ingredients);\n"
            "CREATE INDEX ON items (ingredients DESC NULLS LAST);\n"
            "CREATE INDEX ON items USING gin (tsv);\n"};
  }
  die("unknown dataset " + name + " (books or off)");
}

// A conjunct of the filter: Trove's text, the SQL, and the one field it tests ("" if several).
struct Conj {
  std::string trove, sql, field;
};
struct Range {
  std::optional<double> lo, hi;
};
struct FacetDef {
  std::string spec, field;  // "attributes.year(..1949,1950..)", "attributes.year"
  std::string sql_key;      // the grouped expression (value facets)
  std::string column;       // the column (ranges, NOT NULL test)
  std::vector<Range> ranges;
};
struct GenQuery {
  std::string shape, word;
  std::vector<Conj> conj;
  std::vector<FacetDef> facets;
  std::vector<std::string> disjunctive;
  std::string sort_column;
  bool desc = false;
};

// A number as written in a filter or SQL: integers in full (num() may give "2e+05").
std::string lit(double x) {
  return x == std::floor(x) && std::fabs(x) < 1e15 ? std::to_string(static_cast<long long>(x))
                                                   : num(x);
}
// "lo..hi" as written in a filter or a facet's ranges; with `label`, as Trove labels a range
// facet's values (each end in its shortest form, number_text).
std::string range_text(const Range& r, bool label = false) {
  auto f = label ? num : lit;
  return (r.lo ? f(*r.lo) : "") + ".." + (r.hi ? f(*r.hi) : "");
}
std::string range_sql(const std::string& col, const Range& r) {
  if (r.lo && r.hi) return col + " BETWEEN " + lit(*r.lo) + " AND " + lit(*r.hi);
  return r.lo ? col + " >= " + lit(*r.lo) : col + " <= " + lit(*r.hi);
}
Conj range_conj(const std::string& attr, const Range& r) {
  std::string t = "attributes." + attr;
  if (r.lo && r.hi)
    t += " = " + range_text(r);
  else
    t += r.lo ? " >= " + lit(*r.lo) : " <= " + lit(*r.hi);
  return {t, range_sql(attr, r), "attributes." + attr};
}
// attr IN [a, b] on text (folded: lower() in SQL) or numbers.
Conj in_conj(const std::string& attr, const std::vector<std::string>& values, bool text) {
  std::vector<std::string> sql;
  for (const auto& v : values) {
    std::string low = v;
    for (auto& c : low) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    sql.push_back(text ? sql_quote(low) : v);
  }
  return {"attributes." + attr + " IN [" + join(values, ", ") + "]",
          (text ? "lower(" + attr + ")" : attr) + " IN (" + join(sql, ", ") + ")",
          "attributes." + attr};
}
// NOT c: true for an item without the field, as Trove reads it (SQL: IS NOT TRUE, not NOT).
Conj not_conj(const Conj& c) { return {"NOT " + c.trove, "(" + c.sql + ") IS NOT TRUE", c.field}; }
Conj or_conj(const std::vector<Conj>& cs) {
  std::vector<std::string> t, s;
  std::string field = cs[0].field;
  for (const auto& c : cs) {
    t.push_back(c.trove);
    s.push_back(c.sql);
    if (c.field != field) field.clear();
  }
  return {"(" + join(t, " OR ") + ")", "(" + join(s, " OR ") + ")", field};
}
FacetDef range_facet(const std::string& attr, const std::vector<Range>& ranges) {
  std::vector<std::string> labels;
  for (const auto& r : ranges) labels.push_back(range_text(r));
  return {"attributes." + attr + "(" + join(labels, ",") + ")", "attributes." + attr, "", attr,
          ranges};
}
FacetDef value_facet(const std::string& field, const std::string& column, bool text) {
  return {field, field, text ? "lower(" + column + ")" : column, column, {}};
}

class Generator {
 public:
  Generator(uint64_t seed, std::vector<std::string> words) : rng_(seed), words_(std::move(words)) {}

  GenQuery books() {
    GenQuery g;
    if (chance(0.7)) {
      const double lo = uniform(1900, 2010);
      const double hi = lo + uniform(5, 40);
      const double mode = real();
      g.conj.push_back(range_conj("year", mode < 0.6   ? Range{lo, hi}
                                          : mode < 0.8 ? Range{lo, std::nullopt}
                                                       : Range{std::nullopt, hi}));
    } else {
      const double lo = pick<double>({3.0, 3.5, 3.8, 4.0, 4.2});
      g.conj.push_back(range_conj("rating", chance(0.7)
                                                ? Range{lo, lo + pick<double>({0.3, 0.5, 1.0})}
                                                : Range{lo, std::nullopt}));
    }
    if (chance(0.65)) {
      g.conj.push_back(in_conj("language",
                               pick<std::vector<std::string>>({{"eng", "en-US"},
                                                               {"eng", "en-US", "en-GB", "en-CA"},
                                                               {"eng"},
                                                               {"en-GB", "en-CA"},
                                                               {"spa", "fre", "ger", "ita"},
                                                               {"en-US"}}),
                               true));
    } else {
      g.conj.push_back(or_conj(
          {range_conj("rating", {pick<double>({4.2, 4.3, 4.4}), std::nullopt}),
           range_conj("ratings_count", {pick<double>({100000, 200000, 500000}), std::nullopt})}));
    }
    if (chance(0.3)) {
      switch (uniform(0, 3)) {
        case 0:
          g.conj.push_back(not_conj(in_conj("language", {"ara", "ind"}, true)));
          break;
        case 1: {
          Conj c = not_conj(in_conj("language", {"eng"}, true));
          c.trove = "attributes.language != eng";
          g.conj.push_back(c);
          break;
        }
        case 2:
          g.conj.push_back(not_conj(range_conj("year", {1990, 1999})));
          break;
        default:
          g.conj.push_back(not_conj(range_conj("ratings_count", {std::nullopt, 10000})));
      }
    }
    std::vector<FacetDef> all = {
        value_facet("attributes.language", "language", true),
        range_facet("year", {{std::nullopt, 1949}, {1950, 1999}, {2000, std::nullopt}}),
        range_facet("rating", {{std::nullopt, 3.5}, {3.5, 4}, {4, 4.5}, {4.5, std::nullopt}}),
        value_facet("brand", "brand", true)};
    pick_facets(g, all);
    const auto sort = pick<std::pair<std::string, bool>>(
        {{"rating", true}, {"ratings_count", true}, {"year", true}, {"year", false}});
    g.sort_column = sort.first;
    g.desc = sort.second;
    finish(g);
    return g;
  }

  GenQuery off() {
    GenQuery g;
    const double mode = real();
    if (mode < 0.4) {
      g.conj.push_back(range_conj("ingredients", {std::nullopt, pick<double>({3, 5, 8})}));
    } else if (mode < 0.8) {
      const double lo = uniform(1, 10);
      g.conj.push_back(range_conj("ingredients", {lo, lo + uniform(2, 10)}));
    } else {
      g.conj.push_back(range_conj("ingredients", {pick<double>({15, 20, 30}), std::nullopt}));
    }
    if (chance(0.7)) {
      std::vector<Range> countries = kCountries;
      std::shuffle(countries.begin(), countries.end(), rng_);
      countries.resize(static_cast<size_t>(uniform(2, 3)));
      std::vector<Conj> cs;
      for (const auto& c : countries) cs.push_back(range_conj("gs1", c));
      g.conj.push_back(or_conj(cs));
    } else {
      std::vector<std::string> prefixes = {"20",  "30",  "70",  "301", "320", "325", "330",
                                           "340", "350", "356", "376", "400", "405", "500",
                                           "540", "560", "761", "800", "841", "871"};
      std::shuffle(prefixes.begin(), prefixes.end(), rng_);
      prefixes.resize(3);
      g.conj.push_back(in_conj("gs1", prefixes, false));
    }
    if (chance(0.3)) {
      if (chance(0.5)) {
        g.conj.push_back(not_conj(range_conj("gs1", {0, 139})));
      } else {
        g.conj.push_back(not_conj(range_conj("ingredients", {30, std::nullopt})));
      }
    }
    std::vector<FacetDef> all = {
        range_facet("gs1", {{0, 139},
                            {300, 379},
                            {400, 440},
                            {500, 509},
                            {540, 549},
                            {760, 769},
                            {800, 839},
                            {840, 849},
                            {870, 879}}),
        range_facet("ingredients", {{1, 3}, {4, 6}, {7, 10}, {11, 20}, {21, std::nullopt}}),
        value_facet("attributes.ingredients", "ingredients", false),
        value_facet("attributes.gs1", "gs1", false)};
    pick_facets(g, all);
    const auto sort = pick<std::pair<std::string, bool>>(
        {{"ingredients", false}, {"ingredients", true}, {"gs1", false}});
    g.sort_column = sort.first;
    g.desc = sort.second;
    finish(g);
    return g;
  }

 private:
  inline static const std::vector<Range> kCountries = {{0, 139},   {300, 379}, {400, 440},
                                                       {500, 509}, {540, 549}, {760, 769},
                                                       {800, 839}, {840, 849}, {870, 879}};

  bool chance(double p) { return real() < p; }
  double real() { return std::uniform_real_distribution<double>(0, 1)(rng_); }
  int uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  template <typename T>
  T pick(const std::vector<T>& v) {
    return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng_)];
  }
  // One or two facets; a facet whose field a conjunct tests alone is disjunctive half the time.
  void pick_facets(GenQuery& g, std::vector<FacetDef> all) {
    std::shuffle(all.begin(), all.end(), rng_);
    all.resize(chance(0.5) ? 1 : 2);
    for (const auto& f : all) {
      g.facets.push_back(f);
      const bool tested = std::any_of(g.conj.begin(), g.conj.end(),
                                      [&](const Conj& c) { return c.field == f.field; });
      if (tested && chance(0.5) &&
          std::find(g.disjunctive.begin(), g.disjunctive.end(), f.field) == g.disjunctive.end()) {
        g.disjunctive.push_back(f.field);
      }
    }
  }
  // The shape the report groups by: a word or a browse; a browse whose filter has an IN list
  // (terms in Trove's index, btree equality in PostgreSQL) or only ranges (value slots, btree
  // ranges); with a disjunctive facet or not.
  void finish(GenQuery& g) {
    if (!words_.empty() && chance(0.25)) g.word = pick(words_);
    const bool in_list = std::any_of(g.conj.begin(), g.conj.end(), [](const Conj& c) {
      return !c.trove.starts_with("NOT") && c.trove.find(" IN [") != std::string::npos;
    });
    g.shape = !g.word.empty() ? "word" : in_list ? "browse, an IN list" : "browse, ranges only";
    if (!g.disjunctive.empty()) g.shape += ", disjunctive facet";
  }

  std::mt19937_64 rng_;
  std::vector<std::string> words_;
};

// Query words: runs of 4+ ASCII letters standing alone (not next to a digit, an apostrophe, a
// hyphen or a non-ASCII letter), lower-cased, so that both engines read them as one word.
void title_words(std::string_view t, std::vector<std::string>* out) {
  auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  auto joins = [&](char c) {
    return letter(c) || (c >= '0' && c <= '9') || c == '\'' || c == '-' ||
           static_cast<unsigned char>(c) >= 0x80;
  };
  size_t i = 0;
  while (i < t.size()) {
    if (!letter(t[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < t.size() && letter(t[j])) ++j;
    const bool alone = (i == 0 || !joins(t[i - 1])) && (j == t.size() || !joins(t[j]));
    if (alone && j - i >= 4) {
      std::string w(t.substr(i, j - i));
      for (auto& c : w) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      out->push_back(std::move(w));
    }
    i = j;
  }
}

std::string where_sql(const GenQuery& g, const std::string& cfg, const std::string& without) {
  std::vector<std::string> parts;
  if (!g.word.empty())
    parts.push_back("tsv @@ plainto_tsquery(" + sql_quote(cfg) + ", " + sql_quote(g.word) + ")");
  for (const auto& c : g.conj) {
    if (without.empty() || c.field != without) parts.push_back(c.sql);
  }
  return parts.empty() ? "TRUE" : join(parts, " AND ");
}

std::string facet_sql(const GenQuery& g, const FacetDef& f, const std::string& cfg) {
  const bool disjunctive =
      std::find(g.disjunctive.begin(), g.disjunctive.end(), f.field) != g.disjunctive.end();
  const std::string where = where_sql(g, cfg, disjunctive ? f.field : "");
  if (!f.ranges.empty()) {
    std::vector<std::string> args;
    for (const auto& r : f.ranges) {
      args.push_back(sql_quote(range_text(r, true)) + ", count(*) FILTER (WHERE " +
                     range_sql(f.column, r) + ")");
    }
    return "SELECT json_build_object(" + join(args, ", ") + ") FROM items WHERE " + where;
  }
  return "SELECT coalesce(json_object_agg(k, n), '{}') FROM (SELECT " + f.sql_key +
         " AS k, count(*) AS n FROM items WHERE " + where + " AND " + f.column +
         " IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 100) s";
}

int prepare(const std::string& which, const std::string& data_dir, const std::string& work,
            uint64_t seed, size_t n) {
  const Dataset ds = dataset(which);
  auto store = trove::Store::open(data_dir);
  if (!store.ok()) die("Store::open: " + store.status().to_string());
  std::FILE* rows = std::fopen((work + "/rows.copy").c_str(), "w");
  if (rows == nullptr) die("cannot write " + work + "/rows.copy");
  std::vector<std::string> titles;
  size_t items = 0;
  std::map<std::string, size_t> present;
  store.value()->read([&](const trove::State& st) {
    const trove::AttributeSchema schema = trove::AttributeSchema::of(st);
    st.for_each_item([&](const std::string& id, const trove::Item& item) {
      ++items;
      titles.push_back(item.data.title);
      std::string line;
      for (const Column& c : ds.columns) {
        if (!line.empty()) line += '\t';
        if (c.name == "id") {
          line += copy_text(id);
          continue;
        }
        if (c.name == "title") {
          line += copy_text(item.data.title);
          continue;
        }
        if (c.name == "brand") {
          line += item.data.brand ? copy_text(*item.data.brand) : "\\N";
          continue;
        }
        const auto v = schema.value(item, c.attribute);  // as Trove's filters read it
        if (!v) {
          line += "\\N";
          continue;
        }
        ++present[c.name];
        if (const auto* d = std::get_if<double>(&*v)) {
          if (c.type == "int" && (*d != std::floor(*d) || std::fabs(*d) > 2e9)) {
            die("item " + id + ": " + c.attribute + " = " + num(*d) + " is not an int");
          }
          line += lit(*d);
        } else if (const auto* s = std::get_if<std::string>(&*v)) {
          if (c.type != "text") die("item " + id + ": " + c.attribute + " is text, not a number");
          line += copy_text(*s);
        } else {
          die("item " + id + ": " + c.attribute + " has an unexpected type");
        }
      }
      line += '\n';
      std::fwrite(line.data(), 1, line.size(), rows);
    });
  });
  if (std::fclose(rows) != 0) die("writing rows.copy failed");

  const std::string cfg = "trove_" + ds.language;
  std::string cols;
  for (const Column& c : ds.columns) cols += "  " + c.name + " " + c.type + ",\n";
  const bool has_brand = std::any_of(ds.columns.begin(), ds.columns.end(),
                                     [](const Column& c) { return c.name == "brand"; });
  std::ofstream schema(work + "/schema.sql");
  schema << "DROP TABLE IF EXISTS items;\n"
         << "DROP TEXT SEARCH CONFIGURATION IF EXISTS " << cfg << ";\n"
         << "DROP TEXT SEARCH DICTIONARY IF EXISTS " << cfg << "_stem;\n"
         << "CREATE EXTENSION IF NOT EXISTS unaccent;\n"
         << "-- Snowball without stopwords, after unaccent: Trove folds accents and has no "
            "stopwords.\n"
         << "CREATE TEXT SEARCH DICTIONARY " << cfg
         << "_stem (TEMPLATE = snowball, Language = " << ds.language << ");\n"
         << "CREATE TEXT SEARCH CONFIGURATION " << cfg << " (COPY = simple);\n"
         << "ALTER TEXT SEARCH CONFIGURATION " << cfg
         << " ALTER MAPPING FOR asciiword, asciihword, hword_asciipart, word, hword, hword_part"
         << " WITH unaccent, " << cfg << "_stem;\n"
         << "CREATE TABLE items (\n"
         << cols << "  tsv tsvector GENERATED ALWAYS AS (to_tsvector('" << cfg
         << "', coalesce(title, '')" << (has_brand ? " || ' ' || coalesce(brand, '')" : "")
         << ")) STORED);\n";
  std::ofstream(work + "/indexes.sql") << ds.indexes;
  std::vector<std::string> names;
  for (const Column& c : ds.columns) names.push_back(c.name);
  std::ofstream(work + "/copy.sql") << "COPY items (" << join(names, ", ") << ") FROM :'rows';\n";

  std::mt19937_64 word_rng(seed ^ 0x9e3779b97f4a7c15ull);
  std::vector<std::string> words;
  for (size_t i = 0; i < 5000 && !titles.empty(); ++i) {
    std::vector<std::string> w;
    title_words(titles[std::uniform_int_distribution<size_t>(0, titles.size() - 1)(word_rng)], &w);
    if (!w.empty())
      words.push_back(w[std::uniform_int_distribution<size_t>(0, w.size() - 1)(word_rng)]);
  }
  Generator gen(seed, words);
  std::ofstream qs(work + "/queries.tsv"), pg(work + "/pg_stmts.tsv");
  for (size_t i = 1; i <= n; ++i) {
    const GenQuery g = which == "books" ? gen.books() : gen.off();
    std::vector<std::string> filter, facets;
    for (const auto& c : g.conj) filter.push_back(c.trove);
    for (const auto& f : g.facets) facets.push_back(f.spec);
    const std::string sort = "attributes." + g.sort_column + (g.desc ? ":desc" : "");
    qs << i << '\t' << g.shape << '\t' << (g.word.empty() ? "*" : g.word) << '\t'
       << join(filter, " AND ") << '\t' << join(facets, "|") << '\t' << join(g.disjunctive, "|")
       << '\t' << sort << '\n';
    const std::string where = where_sql(g, cfg, "");
    pg << i << "\tpage\t0\t"
       << copy_text("SELECT coalesce(json_agg(k), '[]') FROM (SELECT id, title, " + g.sort_column +
                    " AS k FROM items WHERE " + where + " ORDER BY " + g.sort_column +
                    (g.desc ? " DESC" : "") + " NULLS LAST LIMIT 20) s")
       << '\n';
    pg << i << "\tcount\t0\t" << copy_text("SELECT count(*) FROM items WHERE " + where) << '\n';
    for (size_t f = 0; f < g.facets.size(); ++f) {
      pg << i << "\tfacet\t" << f << '\t' << copy_text(facet_sql(g, g.facets[f], cfg)) << '\n';
    }
  }
  if (!qs || !pg) die("writing the queries failed");
  std::printf("%s_items=%zu\n%s_queries=%zu\n%s_query_words=%zu\n", which.c_str(), items,
              which.c_str(), n, which.c_str(), words.size());
  for (const auto& [col, k] : present)
    std::printf("%s_with_%s=%zu\n", which.c_str(), col.c_str(), k);
  return 0;
}

// ---- run: Trove in-process ---------------------------------------------------------------

int run(const std::string& data_dir, const std::string& qpath, const std::string& out_path) {
  const std::vector<QueryLine> qs = read_queries(qpath);
  const auto t_open = Clock::now();
  auto store = trove::Store::open(data_dir);
  if (!store.ok()) die("Store::open: " + store.status().to_string());
  auto index = trove::CatalogIndex::open(data_dir + "/index");
  if (!index.ok()) die("CatalogIndex::open: " + index.status().to_string());
  std::vector<std::string> warnings;
  if (auto st = index.value()->attach(*store.value(), &warnings); !st.ok())
    die("attach: " + st.to_string());
  for (const auto& w : warnings) std::fprintf(stderr, "filter_bench: attach: %s\n", w.c_str());
  const double open_ms = std::chrono::duration<double, std::milli>(Clock::now() - t_open).count();
  const trove::CatalogIndex& idx = *index.value();

  std::vector<trove::SearchRequest> reqs;
  std::vector<std::string> sort_attr;
  for (const auto& q : qs) {
    trove::SearchRequest r;
    r.q = q.q;
    if (!q.filter.empty()) r.filters = {q.filter};
    r.facets = q.facets;
    r.disjunctive_facets = q.disjunctive;
    auto keys = trove::parse_sort(q.sort);
    if (!keys.ok()) die("sort " + q.sort + ": " + keys.status().to_string());
    r.sort_by = keys.value();
    sort_attr.push_back(keys.value()[0].attribute);
    r.per_page = 20;
    r.max_facet_values = 100;
    // The same words as PostgreSQL's: the word as typed and its stem, no typo variants.
    r.typo_tolerance = false;
    reqs.push_back(std::move(r));
  }
  std::vector<std::string> lines(qs.size());
  size_t errors = 0, estimated = 0;
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t i = 0; i < qs.size(); ++i) {
      const auto t0 = Clock::now();
      auto res = idx.search(reqs[i]);
      const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      if (pass == 0) continue;
      std::string& o = lines[i];
      o = "{\"id\":" + qs[i].id + ",\"ms\":" + num(ms);
      if (!res.ok()) {
        ++errors;
        o += ",\"error\":";
        json_string(&o, res.status().to_string());
        o += "}";
        continue;
      }
      const trove::SearchResponse& r = res.value();
      estimated += !r.total_exact;
      o += ",\"total\":" + std::to_string(r.total) +
           ",\"exact\":" + (r.total_exact ? "true" : "false");
      o += ",\"page\":[";
      for (size_t h = 0; h < r.hits.size(); ++h) {
        if (h) o += ',';
        std::optional<double> key;
        if (r.hits[h].attributes) {
          auto it = r.hits[h].attributes->find(sort_attr[i]);
          if (it != r.hits[h].attributes->end()) {
            if (const auto* d = std::get_if<double>(&it->second)) key = *d;
          }
        }
        o += key ? num(*key) : "null";
      }
      o += "],\"facets\":[";
      for (size_t f = 0; f < r.facets.size(); ++f) {
        if (f) o += ',';
        o += '{';
        for (size_t v = 0; v < r.facets[f].values.size(); ++v) {
          if (v) o += ',';
          json_string(&o, r.facets[f].values[v].value);
          o += ':' + std::to_string(r.facets[f].values[v].count);
        }
        o += '}';
      }
      o += "]}";
    }
  }
  std::ofstream out(out_path);
  for (const auto& l : lines) out << l << '\n';
  if (!out) die("writing " + out_path + " failed");
  std::printf(
      "trove_open_ms=%.1f\ntrove_errors=%zu\ntrove_estimated_totals=%zu\n"
      "trove_index_documents=%llu\n",
      open_ms, errors, estimated, static_cast<unsigned long long>(idx.document_count()));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> a(argv + 1, argv + argc);
  try {
    if (a.size() == 2 && a[0] == "off-events") return off_events(a[1]);
    if (a.size() == 6 && a[0] == "prepare")
      return prepare(a[1], a[2], a[3], std::stoull(a[4]), std::stoul(a[5]));
    if (a.size() == 4 && a[0] == "run") return run(a[1], a[2], a[3]);
    if ((a.size() == 5 || a.size() == 6) && a[0] == "report") {
      return trove_filter_bench::report(a[1], std::stod(a[2]), a[3], a[4],
                                        a.size() == 6 ? a[5] : "");
    }
  } catch (const std::exception& e) {
    die(e.what());
  }
  std::fprintf(stderr,
               "usage: filter_bench off-events OUT            (Open Food Facts JSONL on stdin)\n"
               "       filter_bench prepare books|off DATA_DIR WORK SEED N\n"
               "       filter_bench run DATA_DIR QUERIES OUT\n"
               "       filter_bench report TITLE TARGET_MS QUERIES TROVE_OUT [PG_OUT]\n"
               "Run by bench/filters.sh, which says what each figure means.\n");
  return 2;
}
