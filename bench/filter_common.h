// What filter_bench.cpp (events, rows, queries, Trove's timing) and filter_report.cpp (the
// tables) share: the query file and small helpers. Private to bench/.
#pragma once

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace trove_filter_bench {

[[noreturn]] inline void die(const std::string& what) {
  std::fprintf(stderr, "filter_bench: %s\n", what.c_str());
  std::exit(1);
}

inline std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t from = 0;
  for (;;) {
    const size_t at = s.find(sep, from);
    out.push_back(s.substr(from, at == std::string::npos ? std::string::npos : at - from));
    if (at == std::string::npos) return out;
    from = at + 1;
  }
}

inline std::string join(const std::vector<std::string>& v, std::string_view sep) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

// A number in its shortest form, as Trove writes facet labels and values (number_text).
inline std::string num(double x) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, x);
  return std::string(buf, r.ptr);
}

// A line of queries.tsv: id, shape, q, filter, facets (|), disjunctive facets (|), sort.
struct QueryLine {
  std::string id, shape, q, filter, sort;
  std::vector<std::string> facets, disjunctive;
};

inline std::vector<QueryLine> read_queries(const std::string& path) {
  std::ifstream in(path);
  if (!in) die("cannot read " + path);
  std::vector<QueryLine> out;
  std::string line;
  while (std::getline(in, line)) {
    const auto f = split(line, '\t');
    if (f.size() != 7) die("bad line in " + path + ": " + line);
    QueryLine q{f[0], f[1], f[2], f[3], f[6], {}, {}};
    if (!f[4].empty()) q.facets = split(f[4], '|');
    if (!f[5].empty()) q.disjunctive = split(f[5], '|');
    out.push_back(std::move(q));
  }
  return out;
}

// filter_bench report TITLE TARGET_MS QUERIES TROVE_OUT [PG_OUT] (filter_report.cpp).
int report(const std::string& title, double target_ms, const std::string& qpath,
           const std::string& trove_path, const std::string& pg_path);

}  // namespace trove_filter_bench
