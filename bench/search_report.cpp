// search_bench report: turns the figures and latencies search.sh collected into the tables of
// docs/BENCHMARKS.md ("Search"). Split from search_bench.cpp to keep files small.
#include <simdjson.h>
#include <sys/resource.h>
#include <xapian.h>
#include <zstd.h>
#include <algorithm>
#include <cctype>
#include <chrono>
#include <clocale>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cwctype>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>
#include "trove/data/store.h"
#include "trove/index/catalog_index.h"

#include "search_common.h"

namespace trove_bench {
namespace {

// ---- report ----------------------------------------------------------------------------------

std::map<std::string, std::string> read_figures(const std::string& path) {
  std::ifstream in(path);
  if (!in) die("cannot read " + path);
  std::map<std::string, std::string> f;
  std::string line;
  while (std::getline(in, line)) {
    const size_t eq = line.find('=');
    if (eq != std::string::npos) f[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return f;
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

// Nearest-rank percentile; NAN when empty.
double pct(std::vector<double> v, double p) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const size_t rank = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size())));
  return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
}

std::string ms_cell(double v) {
  if (std::isnan(v)) return "-";
  return v < 10 ? fmt("%.2f", v) : fmt("%.1f", v);
}

struct Lat {
  std::vector<double> trove, first, xapian, pg;
  size_t n = 0, trove_hit = 0, xapian_hit = 0, pg_hit = 0;
};

// vs_first: the ratio and the target use Trove's first pass (for answers not cached yet).
void print_row(const std::string& label, const Lat& l, bool with_target, bool with_hits,
               bool vs_first = false) {
  double t50 = pct(l.trove, .5), t99 = pct(l.trove, .99);
  const double f50 = pct(l.first, .5), f99 = pct(l.first, .99);
  const double x50 = pct(l.xapian, .5), x99 = pct(l.xapian, .99);
  const double p50 = pct(l.pg, .5), p99 = pct(l.pg, .99);
  std::printf("| %-16s | %5zu | %6s | %6s | %6s | %6s | %6s | %6s | %6s | %6s |", label.c_str(),
              l.n, ms_cell(t50).c_str(), ms_cell(t99).c_str(), ms_cell(f50).c_str(),
              ms_cell(f99).c_str(), ms_cell(x50).c_str(), ms_cell(x99).c_str(),
              ms_cell(p50).c_str(), ms_cell(p99).c_str());
  if (vs_first) t50 = f50, t99 = f99;
  std::string target;
  if (with_target) {
    target = (t50 <= 1.0 ? "p50 met" : "p50 MISSED");
    target += t99 <= 10.0 ? ", p99 met" : ", p99 MISSED";
    if (vs_first) target += " (1st pass)";
  }
  std::printf(" %6s | %6s |", l.pg.empty() ? "-" : fmt("%.1fx", p50 / t50).c_str(),
              l.pg.empty() ? "-" : fmt("%.1fx", p99 / t99).c_str());
  if (with_hits) {
    auto share = [&](size_t h) { return fmt("%.0f%%", 100.0 * h / std::max<size_t>(l.n, 1)); };
    std::printf(" %s / %s / %s |", share(l.trove_hit).c_str(), share(l.xapian_hit).c_str(),
                l.pg.empty() ? "-" : share(l.pg_hit).c_str());
  }
  if (with_target) std::printf(" %s |", target.c_str());
  std::printf("\n");
}

}  // namespace

int report(const std::string& figures_path, const std::string& qpath, const std::string& lat_path,
           const std::string& pg_path) {
  auto f = read_figures(figures_path);
  auto num = [&](const std::string& k) {
    auto it = f.find(k);
    return it == f.end() || it->second.empty() ? NAN : std::strtod(it->second.c_str(), nullptr);
  };
  const std::vector<Query> qs = read_queries(qpath);

  // ---- import ----
  const double products = num("trove_products");
  const double trove_rate = products / num("trove_import_s");
  const double xap_rate = num("xapian_products") / num("xapian_import_s");
  const double pg_rows = num("pg_rows");
  const double pg_s = num("pg_copy_s") + num("pg_index_s");
  const double pg_rate = pg_rows / pg_s;
  std::printf("\n### Import (%.0f products)\n\n", products);
  std::printf(
      "| measure | Trove (`trove import`) | bare Xapian, 1 thread | PostgreSQL 15 | Trove / Xapian "
      "| Trove / PostgreSQL | target |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  std::printf(
      "| products/s, wall | %.0f (%.1f s) | %.0f (%.1f s) | %s | %.2fx | %s | >= 16,000/s: %s |\n",
      trove_rate, num("trove_import_s"), xap_rate, num("xapian_import_s"),
      std::isnan(pg_rate) ? "-"
                          : (fmt("%.0f", pg_rate) + " (COPY " + fmt("%.1f s", num("pg_copy_s")) +
                             " + GIN " + fmt("%.1f s", num("pg_index_s")) + ")")
                                .c_str(),
      trove_rate / xap_rate, std::isnan(pg_rate) ? "-" : fmt("%.2fx", trove_rate / pg_rate).c_str(),
      trove_rate >= 16000 ? "met" : "MISSED");
  std::printf("| CPU s (user + sys), cores busy | %.1f s, %.2f | %.1f s, %.2f | | | | |\n",
              num("trove_cpu_s"), num("trove_cpu_s") / num("trove_import_s"), num("xapian_cpu_s"),
              num("xapian_cpu_s") / num("xapian_import_s"));
  std::printf("| wall s of each run (best used) | %s | %s | | | | |\n",
              f["trove_import_runs_s"].c_str(), f["xapian_import_runs_s"].c_str());
  const double per = 1.0 / products;
  std::printf(
      "| index bytes/product | %.0f (DATA_DIR/index %.0f MB) | %.0f (%.0f MB) | %s | | | |\n",
      num("trove_index_bytes") * per, num("trove_index_bytes") / 1e6,
      num("xapian_db_bytes") / num("xapian_products"), num("xapian_db_bytes") / 1e6,
      std::isnan(pg_rows) ? "-"
                          : (fmt("%.0f", num("pg_gin_bytes") / pg_rows) + " (2 GIN indexes " +
                             fmt("%.0f MB", num("pg_gin_bytes") / 1e6) + ")")
                                .c_str());
  std::printf(
      "| data bytes/product | %.0f (whole DATA_DIR %.0f MB: journal, snapshots, index) | | %s | | "
      "| |\n",
      num("trove_data_bytes") * per, num("trove_data_bytes") / 1e6,
      std::isnan(pg_rows)
          ? "-"
          : (fmt("%.0f", num("pg_total_bytes") / pg_rows) + " (table + TOAST + indexes " +
             fmt("%.0f MB", num("pg_total_bytes") / 1e6) + ")")
                .c_str());
  std::printf("| peak RSS/product, import | %.0f B (%.0f MB) | %.0f B (%.0f MB) | | | | |\n",
              num("trove_rss_kb") * 1024 * per, num("trove_rss_kb") / 1024,
              num("xapian_rss_kb") * 1024 / num("xapian_products"), num("xapian_rss_kb") / 1024);
  std::printf(
      "| RSS/product, query process (Store + index open; after all queries) | %.0f B (%.0f MB); "
      "%.0f B (%.0f MB) | | | | | |\n",
      num("query_rss_open_kb") * 1024 * per, num("query_rss_open_kb") / 1024,
      num("query_rss_kb") * 1024 * per, num("query_rss_kb") / 1024);
  std::printf("\nratio = Trove's rate / the other's rate (above 1: Trove is faster)\n");

  // ---- latency ----
  std::vector<Timing> trove(qs.size()), xap(qs.size()), pg(qs.size());
  std::vector<double> first(qs.size());
  std::vector<bool> has_pg(qs.size(), false);
  {
    std::ifstream in(lat_path);
    if (!in) die("cannot read " + lat_path);
    std::string line;
    while (std::getline(in, line)) {
      const auto c = split(line, '\t');
      const size_t id = std::stoul(c.at(0));
      if (id == 0 || id > qs.size()) die("bad id in " + lat_path);
      trove[id - 1] = {std::stod(c.at(1)), std::stoul(c.at(2))};
      xap[id - 1] = {std::stod(c.at(3)), std::stoul(c.at(4))};
      first[id - 1] = std::stod(c.at(5));
    }
  }
  if (!pg_path.empty()) {
    std::ifstream in(pg_path);
    std::string line;
    while (std::getline(in, line)) {
      const auto c = split(line, '\t');
      if (c.size() < 3) continue;
      const size_t id = std::stoul(c[0]);
      if (id == 0 || id > qs.size() || c[1] == "\\N") continue;
      pg[id - 1] = {std::stod(c[1]), std::stoul(c[2])};
      has_pg[id - 1] = true;
    }
  }
  auto add = [&](Lat& l, size_t i) {
    ++l.n;
    l.trove.push_back(trove[i].ms);
    l.first.push_back(first[i]);
    l.xapian.push_back(xap[i].ms);
    l.trove_hit += trove[i].hits > 0;
    l.xapian_hit += xap[i].hits > 0;
    if (has_pg[i]) {
      l.pg.push_back(pg[i].ms);
      l.pg_hit += pg[i].hits > 0;
    }
  };
  const char* header =
      "| %-16s | n     | Trove p50 | p99 | Trove 1st pass p50 | p99 | Xapian p50 | p99 | PG p50 | "
      "p99 | PG/Trove p50 | p99 |%s\n";
  const char* rule = "|---|---|---|---|---|---|---|---|---|---|---|---|%s\n";

  Lat search;
  for (size_t i = 0; i < qs.size(); ++i) {
    if (qs[i].kind == "search") add(search, i);
  }
  std::printf(
      "\n### Search: 1-3 whole words of a product name, 10 hits (ms, in-process / in-server)\n\n");
  std::printf(header, "words", " with hits T / X / PG |");
  std::printf(rule, "---|");
  Lat by_words[3];
  for (size_t i = 0; i < qs.size(); ++i) {
    if (qs[i].kind == "search") add(by_words[std::min<size_t>(qs[i].word_index, 2)], i);
  }
  for (int k = 0; k < 3; ++k) print_row(std::to_string(k + 1), by_words[k], false, true);
  print_row("all", search, false, true);

  std::printf(
      "\n### Suggest: every prefix of a name's first 1-3 words, 5 items (ms), by length of the "
      "last (partial) word\n\n");
  std::printf(header, "prefix chars", " with hits T / X / PG | target p50 <= 1 ms, p99 <= 10 ms |");
  std::printf(rule, "---|---|");
  const std::vector<std::pair<std::string, std::pair<size_t, size_t>>> buckets = {
      {"1", {1, 1}}, {"2", {2, 2}},   {"3", {3, 3}},        {"4", {4, 4}},
      {"5", {5, 5}}, {"6-8", {6, 8}}, {"9+", {9, SIZE_MAX}}};
  Lat all, first_word, later_words, first_short, uncached;
  for (const auto& [label, range] : buckets) {
    Lat l;
    for (size_t i = 0; i < qs.size(); ++i) {
      if (qs[i].kind != "suggest") continue;
      if (qs[i].prefix_len >= range.first && qs[i].prefix_len <= range.second) add(l, i);
    }
    print_row(label, l, true, true);
  }
  for (size_t i = 0; i < qs.size(); ++i) {
    if (qs[i].kind != "suggest") continue;
    add(all, i);
    add(qs[i].word_index == 0 ? first_word : later_words, i);
    if (qs[i].word_index == 0 && qs[i].prefix_len <= 2) add(first_short, i);
  }
  // A lone prefix the first pass met for the first time: the index had no cached answer. The
  // key is ASCII-lowercased text, close to (not exactly) the index's folded prefix.
  std::map<std::string, bool> seen;
  for (size_t i = 0; i < qs.size(); ++i) {
    if (qs[i].kind != "suggest" || qs[i].word_index != 0) continue;
    std::string key = qs[i].text;
    for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (seen.emplace(key, true).second) add(uncached, i);
  }
  print_row("1st word, 1-2 ch", first_short, true, true);
  print_row("1st word", first_word, true, true);
  print_row("1st word, new", uncached, true, true, true);
  print_row("2nd/3rd word", later_words, true, true);
  print_row("all", all, true, true);
  std::printf(
      "\nTrove = the timed pass after a warm-up pass (as PostgreSQL and Xapian); Trove "
      "1st pass = the warm-up pass itself, in a freshly opened index. 1st word, new = a "
      "lone prefix met for the first time in the 1st pass (no cached answer): its ratio "
      "and target use the 1st pass. PG/Trove = PostgreSQL's latency / Trove's "
      "(above 1: Trove is faster). with hits = share of queries that "
      "returned at least one item.\n");
  return 0;
}

}  // namespace trove_bench
