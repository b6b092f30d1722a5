// Test support for the fuzzy tests: an independent brute-force edit-distance oracle, the
// word-list loaders and a random-edit query generator. Nothing here uses trove::fuzzy except
// the UTF-8 helpers to convert strings.
//
// The oracle is the textbook dynamic program over code points:
//   D[i][j] = distance(query[0..i), term[0..j))
//   D[i][0] = i, D[0][j] = j
//   D[i][j] = min(D[i-1][j] + 1, D[i][j-1] + 1, D[i-1][j-1] + (q[i-1] != t[j-1]),
//                 D[i-2][j-2] + 1 if transpositions and q[i-1] == t[j-2] and q[i-2] == t[j-1])
// full distance = D[m][n]; prefix distance = min over j of D[m][j].
// "First character counts double" adds 1 when the query is non-empty and the term's first
// code point differs from the query's (or the term is empty).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "trove/fuzzy/utf8.h"

namespace fuzzy_test {

// Plain DP, both variants at once. Used directly by the small property tests.
struct OracleResult {
  int full;
  int prefix;
};

// With a head limit (LevenshteinOptions::head_length / head_budget): alignments may not
// pass through a cell D[i][j] with i < head_length at a cost above head_budget; such cells
// are unreachable (a large value), which the minimum per cell handles exactly since costs
// only grow along an alignment.
inline OracleResult oracle_distance(const std::u32string& q, const std::u32string& t,
                                    bool transpositions, size_t head_length = 0,
                                    int head_budget = 1000) {
  const size_t m = q.size(), n = t.size();
  std::vector<std::vector<int>> d(m + 1, std::vector<int>(n + 1, 0));
  for (size_t i = 0; i <= m; ++i) d[i][0] = static_cast<int>(i);
  for (size_t j = 0; j <= n; ++j) d[0][j] = static_cast<int>(j);
  for (size_t i = 1; i <= m; ++i) {
    for (size_t j = 1; j <= n; ++j) {
      int best = std::min(d[i - 1][j] + 1, d[i][j - 1] + 1);
      best = std::min(best, d[i - 1][j - 1] + (q[i - 1] != t[j - 1] ? 1 : 0));
      if (transpositions && i > 1 && j > 1 && q[i - 1] == t[j - 2] && q[i - 2] == t[j - 1]) {
        best = std::min(best, d[i - 2][j - 2] + 1);
      }
      d[i][j] = best;
    }
  }
  if (head_length > 0) {
    // Recompute row by row with the limit applied to every cell as it is produced.
    constexpr int kUnreachable = 1000000;
    for (size_t i = 0; i <= m; ++i) {
      for (size_t j = 0; j <= n; ++j) {
        int best;
        if (i == 0 && j == 0) {
          best = 0;
        } else {
          best = kUnreachable;
          if (i > 0) best = std::min(best, d[i - 1][j] + 1);
          if (j > 0) best = std::min(best, d[i][j - 1] + 1);
          if (i > 0 && j > 0) best = std::min(best, d[i - 1][j - 1] + (q[i - 1] != t[j - 1]));
          if (transpositions && i > 1 && j > 1 && q[i - 1] == t[j - 2] && q[i - 2] == t[j - 1]) {
            best = std::min(best, d[i - 2][j - 2] + 1);
          }
        }
        if (i < head_length && best > head_budget) best = kUnreachable;
        d[i][j] = best;
      }
    }
  }
  int prefix = d[m][0];
  for (size_t j = 0; j <= n; ++j) prefix = std::min(prefix, d[m][j]);
  return {d[m][n], prefix};
}

inline int first_char_penalty(const std::u32string& q, const std::u32string& t) {
  return !q.empty() && (t.empty() || t[0] != q[0]) ? 1 : 0;
}

// The same dynamic program run over a whole word list for one query. Only a speed-up of the
// function above, with two facts that need no trust in the code under test:
//  - column j of D depends only on term[0..j), so consecutive sorted terms that share their
//    first l code points share columns 0..l (they are not recomputed);
//  - a prefix longer than m + kMaxK code points is more than kMaxK away from the query, so
//    columns past m + kMaxK are not computed and such distances are reported as kMaxK + 1.
class ListOracle {
 public:
  static constexpr int kMaxK = 3;

  // `terms` must stay alive and unchanged while the oracle is used.
  explicit ListOracle(const std::vector<std::u32string>& terms) : terms_(terms) {}

  // For every term i: distances capped at kMaxK + 1, without and with transpositions.
  struct Row {
    uint8_t lev_full, lev_prefix, osa_full, osa_prefix;
  };
  const std::vector<Row>& run(const std::u32string& q) {
    rows_.assign(terms_.size(), Row{});
    const size_t m = q.size();
    const size_t max_cols = m + kMaxK;
    lev_.assign((max_cols + 1) * (m + 1), 0);
    osa_.assign((max_cols + 1) * (m + 1), 0);
    for (size_t i = 0; i <= m; ++i) lev_[i] = osa_[i] = static_cast<int>(i);  // column 0
    const std::u32string* prev = nullptr;
    for (size_t ti = 0; ti < terms_.size(); ++ti) {
      const std::u32string& t = terms_[ti];
      const size_t cols = std::min(t.size(), max_cols);
      size_t lcp = 0;
      if (prev != nullptr) {
        while (lcp < cols && lcp < prev->size() && (*prev)[lcp] == t[lcp]) ++lcp;
      }
      for (size_t j = lcp + 1; j <= cols; ++j) {
        fill_column(q, t, j, false, lev_.data());
        fill_column(q, t, j, true, osa_.data());
      }
      prev = &t;
      Row r;
      r.lev_full = full(t.size(), cols, m, lev_.data());
      r.osa_full = full(t.size(), cols, m, osa_.data());
      r.lev_prefix = prefix(cols, m, lev_.data());
      r.osa_prefix = prefix(cols, m, osa_.data());
      rows_[ti] = r;
    }
    return rows_;
  }

 private:
  void fill_column(const std::u32string& q, const std::u32string& t, size_t j, bool transpositions,
                   int* d) const {
    const size_t m = q.size();
    auto at = [&](size_t i, size_t jj) -> int& { return d[jj * (m + 1) + i]; };
    at(0, j) = static_cast<int>(j);
    for (size_t i = 1; i <= m; ++i) {
      int best = std::min(at(i - 1, j) + 1, at(i, j - 1) + 1);
      best = std::min(best, at(i - 1, j - 1) + (q[i - 1] != t[j - 1] ? 1 : 0));
      if (transpositions && i > 1 && j > 1 && q[i - 1] == t[j - 2] && q[i - 2] == t[j - 1]) {
        best = std::min(best, at(i - 2, j - 2) + 1);
      }
      at(i, j) = best;
    }
  }
  static uint8_t cap(int v) { return static_cast<uint8_t>(std::min(v, kMaxK + 1)); }
  static uint8_t full(size_t n, size_t cols, size_t m, const int* d) {
    return n > cols ? static_cast<uint8_t>(kMaxK + 1) : cap(d[n * (m + 1) + m]);
  }
  static uint8_t prefix(size_t cols, size_t m, const int* d) {
    int best = kMaxK + 1;
    for (size_t j = 0; j <= cols; ++j) best = std::min(best, d[j * (m + 1) + m]);
    return cap(best);
  }

  const std::vector<std::u32string>& terms_;
  std::vector<Row> rows_;
  std::vector<int> lev_, osa_;  // column-major (m + 1) x (max_cols + 1)
};

// ---- data ----------------------------------------------------------------------------------

inline std::string shared_data_dir() {
  if (const char* env = std::getenv("TROVE_SHARED_DATA")) return env;
  return std::string(TROVE_SOURCE_DIR) + "/../shared/data";
}

inline const char* kDictionaryPath = "/usr/share/dict/american-english-large";

// Lower-cases ASCII and Latin-1 capitals (the only capitals wamerican-large has beyond ASCII).
inline std::u32string simple_lower(std::u32string s) {
  for (char32_t& c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 0xC0 && c <= 0xDE && c != 0xD7)) c += 0x20;
  }
  return s;
}

inline std::string simple_lower_utf8(const std::string& s) {
  std::u32string cps;
  trove::fuzzy::decode_utf8(s, &cps);
  return trove::fuzzy::encode_utf8(simple_lower(cps));
}

// Every word of wamerican-large lower-cased, without the apostrophe forms, sorted and
// distinct. Empty when the file is absent.
inline std::vector<std::string> load_dictionary_words() {
  std::ifstream in(kDictionaryPath);
  std::set<std::string> words;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line.find('\'') != std::string::npos) continue;
    words.insert(simple_lower_utf8(line));
  }
  return {words.begin(), words.end()};
}

struct Misspelling {
  std::string wrong;
  std::vector<std::string> correct;  // alternatives
  std::string list;                  // file stem
};

// All pairs of ../shared/data/misspellings/*.csv (header skipped), lower-cased.
inline std::vector<Misspelling> load_misspellings() {
  std::vector<Misspelling> out;
  const std::filesystem::path dir = shared_data_dir() + "/misspellings";
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return out;
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (e.path().extension() == ".csv") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    std::ifstream in(f);
    std::string line;
    bool header = true;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (header) {
        header = false;
        continue;
      }
      Misspelling m;
      m.list = f.stem().string();
      size_t start = 0;
      bool first = true;
      while (start <= line.size()) {
        size_t comma = line.find(',', start);
        if (comma == std::string::npos) comma = line.size();
        std::string field = simple_lower_utf8(line.substr(start, comma - start));
        while (!field.empty() && field.front() == ' ') field.erase(field.begin());
        while (!field.empty() && field.back() == ' ') field.pop_back();
        if (first) {
          m.wrong = field;
          first = false;
        } else if (!field.empty()) {
          m.correct.push_back(field);
        }
        start = comma + 1;
      }
      if (!m.wrong.empty() && !m.correct.empty()) out.push_back(std::move(m));
    }
  }
  return out;
}

// ---- queries -------------------------------------------------------------------------------

// Applies `edits` random edits (insert, delete, substitute, adjacent transpose) to `word`.
// Inserted and substituted characters are mostly a-z, sometimes multi-byte (é ü ñ ß ж 中 😀).
inline std::u32string random_edits(std::u32string word, int edits, std::mt19937_64& rng) {
  static const std::u32string kExtra = U"éüñßж中😀";
  auto pick_char = [&]() -> char32_t {
    if (rng() % 8 == 0) return kExtra[rng() % kExtra.size()];
    return static_cast<char32_t>('a' + rng() % 26);
  };
  for (int e = 0; e < edits; ++e) {
    const size_t n = word.size();
    switch (rng() % 4) {
      case 0:
        word.insert(word.begin() + static_cast<long>(rng() % (n + 1)), pick_char());
        break;
      case 1:
        if (n > 0) word.erase(word.begin() + static_cast<long>(rng() % n));
        break;
      case 2:
        if (n > 0) word[rng() % n] = pick_char();
        break;
      default:
        if (n > 1) {
          const size_t i = rng() % (n - 1);
          std::swap(word[i], word[i + 1]);
        }
        break;
    }
  }
  return word;
}

}  // namespace fuzzy_test
