// The tables of filter_bench (bench/filters.sh): latency beside PostgreSQL, and whether both
// engines counted the same (totals, every facet value, the first page's sort keys).
#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>

#include "filter_common.h"
#include "trove/index/analyzer.h"

namespace trove_filter_bench {
namespace {

// ---- report ------------------------------------------------------------------------------

struct Answer {
  double ms = 0;
  bool ok = false;
  std::string error;
  uint64_t total = 0;
  std::vector<std::optional<double>> page;
  std::vector<std::vector<std::pair<std::string, uint64_t>>> facets;
};

// One JSON answer (a line of TROVE_OUT, or PostgreSQL's result column).
Answer parse_answer(simdjson::dom::parser& parser, const std::string& text, double ms) {
  Answer a;
  a.ms = ms;
  simdjson::dom::element doc;
  if (parser.parse(text).get(doc)) die("bad JSON answer: " + text.substr(0, 200));
  if (double m; !doc["ms"].get(m)) a.ms = m;
  if (std::string_view e; !doc["error"].get(e)) {
    a.error = std::string(e);
    return a;
  }
  a.ok = true;
  if (int64_t t; !doc["total"].get(t)) a.total = static_cast<uint64_t>(t);
  if (simdjson::dom::array page; !doc["page"].get(page)) {
    for (auto v : page) {
      double d;
      if (v.is_null())
        a.page.push_back(std::nullopt);
      else if (!v.get(d))
        a.page.push_back(d);
      else if (int64_t i; !v.get(i))
        a.page.push_back(static_cast<double>(i));
    }
  }
  if (simdjson::dom::array facets; !doc["facets"].get(facets)) {
    for (auto f : facets) {
      auto& out = a.facets.emplace_back();
      simdjson::dom::object obj;
      if (f.get(obj)) continue;
      for (auto [k, v] : obj) {
        int64_t n = 0;
        if (v.get(n)) die("bad facet count in " + text.substr(0, 200));
        out.emplace_back(std::string(k), static_cast<uint64_t>(n));
      }
    }
  }
  return a;
}

std::vector<std::optional<Answer>> read_answers(const std::string& path, bool pg, size_t n) {
  std::vector<std::optional<Answer>> out(n + 1);
  std::ifstream in(path);
  if (!in) die("cannot read " + path);
  simdjson::dom::parser parser;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    size_t id = 0;
    double ms = 0;
    std::string json = line;
    if (pg) {  // qid \t ms \t json (psql -At)
      const auto f = split(line, '\t');
      if (f.size() != 3) die("bad line in " + path + ": " + line.substr(0, 200));
      id = std::stoul(f[0]);
      ms = std::stod(f[1]);
      json = f[2];
    } else {
      const size_t c = line.find(',');
      id = std::stoul(line.substr(6, c - 6));  // {"id":N,
    }
    if (id == 0 || id > n) die("unknown query id in " + path);
    out[id] = parse_answer(parser, json, ms);
  }
  return out;
}

// Facet values keyed as Trove counts them: text folded, numbers in their shortest form; with a
// count of 0 left out (Trove leaves empty ranges out). `collided`: two keys folded alike.
std::map<std::string, uint64_t> keyed(const trove::Analyzer& an,
                                      const std::vector<std::pair<std::string, uint64_t>>& v,
                                      bool* collided) {
  std::map<std::string, uint64_t> out;
  for (const auto& [k, n] : v) {
    if (n == 0) continue;
    double d = 0;
    const auto r = std::from_chars(k.data(), k.data() + k.size(), d);
    const bool number = r.ec == std::errc() && r.ptr == k.data() + k.size();
    const std::string key = k.find("..") != std::string::npos ? k : number ? num(d) : an.fold(k);
    if (!out.emplace(key, n).second && collided) *collided = true;
  }
  return out;
}

// Equal: the same values and counts; for a facet cut at 100 values (ties at the cut may be
// broken differently), the same counts in order and the same count for every value in both.
bool facet_equal(const trove::Analyzer& an, const std::vector<std::pair<std::string, uint64_t>>& t,
                 const std::vector<std::pair<std::string, uint64_t>>& p, bool* folding) {
  bool collided = false;
  const auto a = keyed(an, t, nullptr), b = keyed(an, p, &collided);
  if (collided) *folding = true;
  if (t.size() < 100 || p.size() < 100) return a == b;
  std::vector<uint64_t> ca, cb;
  for (const auto& [k, n] : a) ca.push_back(n);
  for (const auto& [k, n] : b) cb.push_back(n);
  std::sort(ca.begin(), ca.end());
  std::sort(cb.begin(), cb.end());
  if (ca != cb) return false;
  for (const auto& [k, n] : a) {
    if (auto it = b.find(k); it != b.end() && it->second != n) return false;
  }
  return true;
}

double pct(std::vector<double> v, double p) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const size_t rank = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size())));
  return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
}
double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? NAN : s / static_cast<double>(v.size());
}
std::string ms_text(double x) {
  if (std::isnan(x)) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, x < 10 ? "%.2f" : x < 100 ? "%.1f" : "%.0f", x);
  return buf;
}

std::string facet_text(const std::vector<std::pair<std::string, uint64_t>>& v) {
  std::string out;
  for (size_t i = 0; i < v.size() && i < 8; ++i) {
    if (v[i].second == 0) continue;
    if (!out.empty()) out += ", ";
    out += v[i].first + "=" + std::to_string(v[i].second);
  }
  return out + (v.size() > 8 ? ", ..." : "");
}

}  // namespace

int report(const std::string& title, double target_ms, const std::string& qpath,
           const std::string& trove_path, const std::string& pg_path) {
  const auto qs = read_queries(qpath);
  const auto tr = read_answers(trove_path, false, qs.size());
  std::vector<std::optional<Answer>> pg;
  if (!pg_path.empty()) pg = read_answers(pg_path, true, qs.size());
  const trove::Analyzer an;
  std::vector<double> t_ms, p_ms, totals;
  std::map<std::string, std::pair<std::vector<double>, std::vector<double>>> by_shape;
  size_t t_err = 0, p_err = 0, compared = 0, equal = 0, totals_equal = 0, pages_equal = 0,
         folding = 0;
  std::vector<std::string> shown;
  for (size_t i = 1; i <= qs.size(); ++i) {
    const QueryLine& q = qs[i - 1];
    const auto& a = tr[i];
    if (!a || !a->ok) {
      ++t_err;
      if (shown.size() < 5)
        shown.push_back("- q" + q.id + " Trove error: " + (a ? a->error : "no answer"));
      continue;
    }
    t_ms.push_back(a->ms);
    totals.push_back(static_cast<double>(a->total));
    by_shape[q.shape].first.push_back(a->ms);
    if (pg.empty()) continue;
    const auto& b = pg[i];
    if (!b || !b->ok) {
      ++p_err;
      if (shown.size() < 5)
        shown.push_back("- q" + q.id + " PostgreSQL error: " + (b ? b->error : "no answer"));
      continue;
    }
    p_ms.push_back(b->ms);
    by_shape[q.shape].second.push_back(b->ms);
    ++compared;
    bool fold = false, same = a->total == b->total && a->facets.size() == b->facets.size();
    totals_equal += a->total == b->total;
    std::string diff;
    if (a->total != b->total)
      diff += " total " + std::to_string(a->total) + " vs " + std::to_string(b->total) + ";";
    for (size_t f = 0; f < a->facets.size() && f < b->facets.size(); ++f) {
      if (!facet_equal(an, a->facets[f], b->facets[f], &fold)) {
        same = false;
        diff += " facet " + q.facets[f] + ": Trove {" + facet_text(a->facets[f]) +
                "} vs PostgreSQL {" + facet_text(b->facets[f]) + "};";
      }
    }
    pages_equal += a->page == b->page;
    if (same) {
      ++equal;
    } else {
      folding += fold;
      if (shown.size() < 5) {
        shown.push_back(
            "- q" + q.id + " `" + q.q + "` filter `" + q.filter + "` facets `" +
            join(q.facets, " ; ") + "`" +
            (q.disjunctive.empty() ? "" : " disjunctive `" + join(q.disjunctive, ",") + "`") + ":" +
            diff + (fold ? " (values that fold alike in Trove are apart in PostgreSQL)" : ""));
      }
    }
  }
  const size_t n = qs.size();
  std::printf("\n### %s: %zu queries, 20 hits a page\n\n", title.c_str(), n);
  std::printf(
      "| engine | queries answered | p50 ms | p99 ms | mean ms | totals + facet counts equal | "
      "first-page sort keys equal |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  const std::string eq =
      pg.empty() ? "-" : std::to_string(equal) + " of " + std::to_string(compared);
  const std::string pe =
      pg.empty() ? "-" : std::to_string(pages_equal) + " of " + std::to_string(compared);
  std::printf("| Trove (`CatalogIndex::search`, in-process) | %zu | %s | %s | %s | %s | %s |\n",
              t_ms.size(), ms_text(pct(t_ms, 0.5)).c_str(), ms_text(pct(t_ms, 0.99)).c_str(),
              ms_text(mean(t_ms)).c_str(), eq.c_str(), pe.c_str());
  if (pg.empty()) {
    std::printf("| PostgreSQL 15 | skipped (TROVE_SKIP_PG=1) | | | | | |\n");
  } else {
    std::printf(
        "| PostgreSQL 15 (page + count + GROUP BY per facet, in-server) | %zu | %s | %s | %s | %s "
        "| %s |\n",
        p_ms.size(), ms_text(pct(p_ms, 0.5)).c_str(), ms_text(pct(p_ms, 0.99)).c_str(),
        ms_text(mean(p_ms)).c_str(), eq.c_str(), pe.c_str());
    std::printf("| PostgreSQL / Trove | | %.1fx | %.1fx | %.1fx | | |\n",
                pct(p_ms, 0.5) / pct(t_ms, 0.5), pct(p_ms, 0.99) / pct(t_ms, 0.99),
                mean(p_ms) / mean(t_ms));
  }
  std::printf(
      "\nMatches a query (Trove's total): median %.0f, p90 %.0f, max %.0f; %zu queries match "
      "nothing.\n",
      pct(totals, 0.5), pct(totals, 0.9), pct(totals, 1.0),
      static_cast<size_t>(std::count(totals.begin(), totals.end(), 0.0)));
  if (target_ms > 0) {
    const double p99 = pct(t_ms, 0.99);
    std::printf(
        "\nTarget: Trove p99 <= %s ms for a filtered, faceted, sorted page: %s (p99 %s ms).\n",
        num(target_ms).c_str(), p99 <= target_ms ? "met" : "MISSED", ms_text(p99).c_str());
  }
  std::printf(
      "\n| shape | n | Trove p50 | p99 | PostgreSQL p50 | p99 |\n|---|---|---|---|---|---|\n");
  for (const auto& [shape, v] : by_shape) {
    std::printf("| %s | %zu | %s | %s | %s | %s |\n", shape.c_str(), v.first.size(),
                ms_text(pct(v.first, 0.5)).c_str(), ms_text(pct(v.first, 0.99)).c_str(),
                ms_text(pct(v.second, 0.5)).c_str(), ms_text(pct(v.second, 0.99)).c_str());
  }
  std::printf(
      "\nErrors: Trove %zu, PostgreSQL %zu. Disagreements: %zu (of which %zu with values "
      "PostgreSQL's "
      "lower() keeps apart and Trove folds together).%s\n",
      t_err, p_err, compared - equal, folding, shown.empty() ? "" : " First ones:");
  for (const auto& s : shown) std::printf("%s\n", s.c_str());
  // The slowest pages of Trove, with PostgreSQL's time on the same query.
  std::vector<size_t> order;
  for (size_t i = 1; i <= n; ++i) {
    if (tr[i] && tr[i]->ok) order.push_back(i);
  }
  std::sort(order.begin(), order.end(), [&](size_t x, size_t y) { return tr[x]->ms > tr[y]->ms; });
  std::printf(
      "\nSlowest Trove pages:\n\n| q | Trove ms | PostgreSQL ms | total | query "
      "|\n|---|---|---|---|---|\n");
  for (size_t k = 0; k < order.size() && k < 5; ++k) {
    const size_t i = order[k];
    const QueryLine& q = qs[i - 1];
    const std::string p = !pg.empty() && pg[i] && pg[i]->ok ? ms_text(pg[i]->ms) : "-";
    std::printf(
        "| %s | %s | %s | %llu | `%s` filter `%s` facets `%s`%s sort `%s` |\n", q.id.c_str(),
        ms_text(tr[i]->ms).c_str(), p.c_str(), static_cast<unsigned long long>(tr[i]->total),
        q.q.c_str(), q.filter.c_str(), join(q.facets, " ; ").c_str(),
        q.disjunctive.empty() ? "" : (" disjunctive `" + join(q.disjunctive, ",") + "`").c_str(),
        q.sort.c_str());
  }
  return 0;
}

}  // namespace trove_filter_bench
