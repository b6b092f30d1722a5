// What search_bench.cpp (import, queries, latency) and search_report.cpp (the tables) share:
// the query file format and small helpers. Private to bench/.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace trove_bench {

[[noreturn]] inline void die(const std::string& what) {
  std::fprintf(stderr, "search_bench: %s\n", what.c_str());
  std::exit(1);
}

inline std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, sep)) out.push_back(cur);
  if (!s.empty() && s.back() == sep) out.emplace_back();
  return out;
}

struct Query {
  std::string kind;
  size_t prefix_len = 0;
  size_t word_index = 0;
  std::string text, pg;
};

// One query's latency and whether it found anything.
struct Timing {
  double ms = 0;
  size_t hits = 0;
};

inline std::vector<Query> read_queries(const std::string& path) {
  std::ifstream in(path);
  if (!in) die("cannot read " + path);
  std::vector<Query> qs;
  std::string line;
  while (std::getline(in, line)) {
    const auto f = split(line, '\t');
    if (f.size() != 5) die("bad line in " + path + ": " + line);
    qs.push_back({f[0], std::stoul(f[1]), std::stoul(f[2]), f[3], f[4]});
  }
  return qs;
}

// search_bench report FIGURES QUERIES LATENCY [PG_LATENCY]: the tables (search_report.cpp).
int report(const std::string& figures_path, const std::string& qpath, const std::string& lat_path,
           const std::string& pg_path);

}  // namespace trove_bench
