// `trove search` and `trove suggest`: the library's search and search-as-you-type calls on a
// data directory, for people and scripts (--json). The HTTP endpoints call the same functions.
#include <algorithm>
#include <cstdio>
#include <iostream>

#include "common.h"
#include "index_util.h"
#include "trove/http/json_shapes.h"

namespace trove::cli {
namespace {

struct SearchArgs {
  std::string data_dir;
  std::string q;
  std::vector<std::string> filters;
  std::vector<std::string> facets;
  std::string distinct;
  std::string sort = "relevance";
  size_t page = 1;
  size_t per_page = 10;
  bool explain = false;
  bool json = false;
  std::vector<std::string> fields;
  TypoParams typos;
};

struct SuggestArgs {
  std::string data_dir;
  std::string q;
  std::vector<std::string> filters;
  size_t items = 5;
  size_t completions = 5;
  bool json = false;
  std::vector<std::string> fields;
  TypoParams typos;
};

// Opens the store and its index; on failure prints and returns nullptrs.
struct Opened {
  std::unique_ptr<Store> store;
  std::unique_ptr<CatalogIndex> index;
};
Result<Opened> open_all(const std::string& data_dir, std::string_view command) {
  OpenReport report;
  auto store = open_existing_store(data_dir, &report);
  if (!store.ok()) return store.status();
  print_warnings(command, report.warnings);
  std::vector<std::string> warnings;
  auto index = open_index(*store.value(), &warnings);
  if (!index.ok()) return index.status();
  print_warnings(command, warnings);
  return Opened{std::move(store).value(), std::move(index).value()};
}

// --typos, --min-len-1typo, --min-len-2typo: as the HTTP parameters (typo_choice).
void add_typo_options(CLI::App* app, TypoParams* p) {
  app->add_option("--typos", p->typos,
                  "Typos a word may carry: 0 (none), 1 (at most one), 2 (by length; default)");
  app->add_option("--min-len-1typo", p->min_len_1typo,
                  "Letters a word needs for one typo (default 4)");
  app->add_option("--min-len-2typo", p->min_len_2typo,
                  "Letters a word needs for two typos (default 8)");
}

// The typo options on the request, or the error naming the flag.
Status apply_typo_options(const TypoParams& p, const CatalogIndex& index, bool* tolerance,
                          std::optional<TypoSettings>* settings) {
  auto choice = typo_choice(p, index.typo_defaults());
  if (!choice.ok()) {
    std::string flag = "--" + choice.status().path();
    std::replace(flag.begin(), flag.end(), '_', '-');
    return Status::invalid(choice.status().message(), flag);
  }
  *tolerance = choice->tolerance;
  *settings = choice->settings;
  return Status::ok_status();
}

int run_search(const SearchArgs& a) {
  auto opened = open_all(a.data_dir, "search");
  if (!opened.ok()) return fail("search", opened.status());
  SearchRequest req;
  req.q = a.q;
  req.filters = a.filters;
  for (const auto& f : a.facets) {
    for (auto& one : split_list(f)) req.facets.push_back(std::move(one));
  }
  req.distinct = a.distinct;
  req.page = a.page;
  req.per_page = a.per_page;
  req.explain = a.explain;
  auto keys = parse_sort(a.sort);
  if (!keys.ok()) return fail("search", keys.status());
  req.sort_by = std::move(keys).value();
  if (Status st = apply_typo_options(a.typos, *opened->index, &req.typo_tolerance, &req.typos);
      !st.ok()) {
    return fail("search", st);
  }
  auto res = opened->index->search(req);
  if (!res.ok()) return fail("search", res.status());
  if (a.json) {
    auto fields = http::hit_fields(a.fields, "--fields");
    if (!fields.ok()) return fail("search", fields.status());
    std::cout << http::search_response_json(*res, a.explain, *fields).dump() << "\n";
    return kExitOk;
  }
  std::printf("%llu %s (%.2f ms)\n", static_cast<unsigned long long>(res->total),
              res->total_exact ? "matches" : "matches (estimated)", res->took_ms);
  if (!res->dropped_terms.empty()) {
    std::string dropped;
    for (const auto& d : res->dropped_terms) dropped += (dropped.empty() ? "" : ", ") + d;
    std::printf("no item matched every word; showing matches without: %s\n", dropped.c_str());
  }
  for (const auto& h : res->hits) {
    std::printf("  %-14s %8.3f  %s", h.id.c_str(), h.score, h.title_highlighted.c_str());
    if (h.brand) std::printf("  [%s]", h.brand->c_str());
    if (h.price) std::printf("  %.2f", *h.price);
    std::printf("\n");
    if (a.explain && !h.matched_terms.empty()) {
      std::string terms;
      for (const auto& t : h.matched_terms) terms += " " + t;
      std::printf("                 matched:%s\n", terms.c_str());
    }
  }
  for (const auto& f : res->facets) {
    std::printf("facet %s:", f.field.c_str());
    for (const auto& v : f.values) {
      std::printf(" %s (%llu);", v.value.c_str(), static_cast<unsigned long long>(v.count));
    }
    std::printf("\n");
  }
  if (a.explain) std::printf("query: %s\n", res->query_explained.c_str());
  return kExitOk;
}

int run_suggest(const SuggestArgs& a) {
  auto opened = open_all(a.data_dir, "suggest");
  if (!opened.ok()) return fail("suggest", opened.status());
  SuggestRequest req;
  req.q = a.q;
  req.filters = a.filters;
  req.items = a.items;
  req.completions = a.completions;
  if (Status st = apply_typo_options(a.typos, *opened->index, &req.typo_tolerance, &req.typos);
      !st.ok()) {
    return fail("suggest", st);
  }
  auto res = opened->index->suggest(req);
  if (!res.ok()) return fail("suggest", res.status());
  if (a.json) {
    auto fields = http::hit_fields(a.fields, "--fields");
    if (!fields.ok()) return fail("suggest", fields.status());
    std::cout << http::suggest_response_json(*res, *fields).dump() << "\n";
    return kExitOk;
  }
  std::printf("completions (%.2f ms):\n", res->took_ms);
  for (const auto& c : res->completions) std::printf("  %s\n", c.c_str());
  std::printf("items:\n");
  for (const auto& h : res->items) std::printf("  %-14s %s\n", h.id.c_str(), h.title_highlighted.c_str());
  return kExitOk;
}

}  // namespace

Command add_search_command(CLI::App& root) {
  auto a = std::make_shared<SearchArgs>();
  CLI::App* app = root.add_subcommand("search", "Full-text search of the catalog");
  app->add_option("--data-dir", a->data_dir, "Data directory")->required();
  app->add_option("query", a->q, "What to search for: words, \"phrases\", -exclusions, * for all")
      ->required();
  app->add_option("--filter", a->filters,
                  "The filter language: brand = X, category = A > B, price = 10..50, "
                  "attributes.year >= 2015, brand IN [A, B], NOT ..., AND, OR, ( ) "
                  "(repeatable; all must hold; docs/SEARCH.md)");
  app->add_option("--facets", a->facets,
                  "brand, category, price, attributes.<name>; price and numeric attributes may "
                  "name ranges: price(0..10,10..50,50..) (comma list, repeatable)");
  app->add_option("--sort", a->sort,
                  "Up to 3 keys, comma-separated: relevance, price, popularity, newest, "
                  "attributes.<name> or a geo point's distance attributes.<name>(lat, lng), each "
                  "with :asc or :desc (attributes.rating:desc,price); also price_asc, price_desc");
  app->add_option("--distinct", a->distinct,
                  "attributes.<name> (declared, facetable): one hit per value, with its group size");
  app->add_option("--page", a->page, "Page, from 1");
  app->add_option("--per-page", a->per_page, "Hits per page, 1..100");
  app->add_flag("--explain", a->explain, "Show the matched terms and the query");
  app->add_flag("--json", a->json, "Print one JSON object");
  app->add_option("--fields", a->fields,
                  "With --json, the stored fields each hit shows (comma list; default all): "
                  "title, brand, price, currency, in_stock, url, image_url, categories, tags, "
                  "attributes, attributes.<name>");
  add_typo_options(app, &a->typos);
  return {app, [a] { return run_search(*a); }};
}

Command add_suggest_command(CLI::App& root) {
  auto a = std::make_shared<SuggestArgs>();
  CLI::App* app = root.add_subcommand("suggest", "Search-as-you-type: the last word is a prefix");
  app->add_option("--data-dir", a->data_dir, "Data directory")->required();
  app->add_option("query", a->q, "The text typed so far")->required();
  app->add_option("--filter", a->filters, "As for search");
  app->add_option("--items", a->items, "Items to return");
  app->add_option("--completions", a->completions, "Query completions to return");
  app->add_flag("--json", a->json, "Print one JSON object");
  app->add_option("--fields", a->fields, "As for search");
  add_typo_options(app, &a->typos);
  return {app, [a] { return run_suggest(*a); }};
}

}  // namespace trove::cli

namespace trove::cli {
namespace {
struct FuzzyArgs {
  std::string data_dir;
  std::string term;
  int max_distance = -1;
  bool prefix = false;
  size_t limit = 20;
  bool json = false;
};

int run_fuzzy(const FuzzyArgs& a) {
  auto opened = open_all(a.data_dir, "fuzzy");
  if (!opened.ok()) return fail("fuzzy", opened.status());
  auto res = opened->index->fuzzy_terms(a.term, a.max_distance, a.prefix, a.limit);
  if (!res.ok()) return fail("fuzzy", res.status());
  if (a.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& m : *res) {
      out.push_back({{"term", m.term}, {"distance", m.distance}, {"frequency", m.frequency}});
    }
    std::cout << out.dump() << "\n";
    return kExitOk;
  }
  for (const auto& m : *res) {
    std::printf("%d  %-24s %llu\n", m.distance, m.term.c_str(),
                static_cast<unsigned long long>(m.frequency));
  }
  return kExitOk;
}
}  // namespace

Command add_fuzzy_command(CLI::App& root) {
  auto a = std::make_shared<FuzzyArgs>();
  CLI::App* app = root.add_subcommand(
      "fuzzy", "Vocabulary words within edit distance of a term (our Levenshtein automaton)");
  app->add_option("--data-dir", a->data_dir, "Data directory")->required();
  app->add_option("term", a->term, "The word, as typed")->required();
  app->add_option("--max-distance", a->max_distance,
                  "Edits allowed, 0..3; default: the typo budget for the word's length");
  app->add_flag("--prefix", a->prefix, "Match words that some prefix of is within reach");
  app->add_option("--limit", a->limit, "Words to return, 1..1000");
  app->add_flag("--json", a->json, "Print a JSON array");
  return {app, [a] { return run_fuzzy(*a); }};
}

}  // namespace trove::cli
