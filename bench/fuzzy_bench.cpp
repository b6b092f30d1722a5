// fuzzy_bench: Trove's typo-tolerant lookup (LevenshteinAutomaton x TermDictionary trie) beside
// two baselines measured in the same run on the same terms:
//   - brute force: an edit-distance DP against every term (code points, OSA, cut off once two
//     consecutive rows exceed k), then the same ranking;
//   - the peer: Xapian's spelling module (get_spelling_suggestion, trigram candidates + edit
//     distance) on a spelling database built from the same words and frequencies.
// Sections: (1) build time and bytes per term; (2) quality: recall@1/5/10 of the correct word
// on each misspelling list; (3) lookup latency p50/p99 at k = 1 and 2, full and prefix mode,
// over wamerican-large and over the Open Food Facts vocabulary, with ratios; (4) prefix
// completion and the live dictionary. Latencies are the calling thread's CPU time per lookup
// (the VM is shared, and preemption would otherwise dominate p99), wall-clock beside ours.
//
// Environment: TROVE_SHARED_DATA (default <source>/../shared/data), TROVE_BENCH_DIR (temp
// Xapian databases; default $TMPDIR or /tmp), TROVE_FUZZY_BENCH_QUERIES (timed lookups per
// configuration for ours; default 2000; the baselines take a tenth, at least 100),
// TROVE_FUZZY_BENCH_XAPIAN_OFF=0 skips the Xapian build over the OFF vocabulary (slow).
// Missing dictionary: prints why and exits 0. A benchmark, not a test: it asserts nothing.
#include <simdjson.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <xapian.h>
#include <zstd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "trove/fuzzy/live_dictionary.h"
#include "trove/fuzzy/term_dictionary.h"
#include "trove/fuzzy/typo_budget.h"
#include "trove/fuzzy/utf8.h"

#ifndef TROVE_SOURCE_DIR
#define TROVE_SOURCE_DIR "."
#endif

namespace {

namespace fs = std::filesystem;
namespace tf = trove::fuzzy;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}
double micros_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
}
long env_long(const char* name, long fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtol(v, nullptr, 10) : fallback;
}

// ---- text: lower-casing and letters without ICU ---------------------------------------------

char32_t simple_lower(char32_t c) {
  if (c >= 'A' && c <= 'Z') return c + 0x20;
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 0x20;
  if (c >= 0x100 && c <= 0x17F) {  // Latin Extended-A pairs
    const bool even_upper = (c <= 0x137) || (c >= 0x14A && c <= 0x177);
    if (even_upper && c % 2 == 0) return c + 1;
    if (!even_upper && c != 0x178 && c % 2 == 1 && c != 0x17F && c != 0x149 && c != 0x138) {
      return c + 1;
    }
    if (c == 0x178) return 0xFF;
    return c;
  }
  if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) return c + 0x20;  // Greek
  if (c >= 0x410 && c <= 0x42F) return c + 0x20;                // Cyrillic
  if (c >= 0x400 && c <= 0x40F) return c + 0x50;
  return c;
}

bool is_letter(char32_t c) {
  if (c < 0x80) return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  if (c < 0xC0) return c == 0xAA || c == 0xB5 || c == 0xBA;
  if (c == 0xD7 || c == 0xF7 || c == tf::kReplacementChar) return false;
  if (c >= 0x2000 && c <= 0x2BFF) return false;  // punctuation, symbols, arrows, math
  if (c >= 0x3000 && c <= 0x303F) return false;  // CJK punctuation
  if (c >= 0xFE30 && c <= 0xFE4F) return false;
  if ((c >= 0xFF00 && c <= 0xFF20) || (c >= 0xFF3B && c <= 0xFF40) ||
      (c >= 0xFF5B && c <= 0xFF65)) {
    return false;
  }
  return c < 0x1F000;  // emoji and pictographs are not letters
}

std::string lower_utf8(std::string_view s) {
  std::u32string cps;
  tf::decode_utf8(s, &cps);
  for (auto& c : cps) c = simple_lower(c);
  return tf::encode_utf8(cps);
}

// Lower-case words made of letters; everything else separates.
void tokenize(std::string_view text, std::vector<std::string>* out) {
  std::string word;
  for (size_t pos = 0; pos < text.size();) {
    const char32_t c = tf::next_code_point(text, &pos);
    if (is_letter(c)) {
      tf::append_utf8(simple_lower(c), &word);
    } else if (!word.empty()) {
      out->push_back(std::move(word));
      word.clear();
    }
  }
  if (!word.empty()) out->push_back(std::move(word));
}

// ---- data -------------------------------------------------------------------------------------

const char* kDictionary = "/usr/share/dict/american-english-large";

std::vector<std::string> load_dictionary() {
  std::ifstream in(kDictionary);
  std::set<std::string> words;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.find('\'') == std::string::npos) words.insert(lower_utf8(line));
  }
  return {words.begin(), words.end()};
}

struct Pair {
  std::string wrong;
  std::vector<std::string> correct;
};

std::map<std::string, std::vector<Pair>> load_misspellings(const fs::path& dir) {
  std::map<std::string, std::vector<Pair>> lists;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().extension() != ".csv") continue;
    std::ifstream in(e.path());
    std::string line;
    std::getline(in, line);  // header
    auto& list = lists[e.path().stem().string()];
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      std::vector<std::string> fields;
      size_t start = 0;
      while (start <= line.size()) {
        size_t comma = line.find(',', start);
        if (comma == std::string::npos) comma = line.size();
        std::string f = lower_utf8(line.substr(start, comma - start));
        while (!f.empty() && f.front() == ' ') f.erase(f.begin());
        while (!f.empty() && f.back() == ' ') f.pop_back();
        fields.push_back(std::move(f));
        start = comma + 1;
      }
      if (fields.size() < 2 || fields[0].empty()) continue;
      list.push_back(Pair{fields[0], {fields.begin() + 1, fields.end()}});
    }
  }
  return lists;
}

// Streams the lines of a .zst file.
template <typename Fn>
bool for_each_zstd_line(const std::string& path, Fn&& fn) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  ZSTD_DCtx* dctx = ZSTD_createDCtx();
  std::vector<char> in(ZSTD_DStreamInSize()), out(ZSTD_DStreamOutSize());
  std::string carry;
  size_t n;
  bool ok = true;
  while (ok && (n = std::fread(in.data(), 1, in.size(), f)) > 0) {
    ZSTD_inBuffer ib{in.data(), n, 0};
    while (ib.pos < ib.size) {
      ZSTD_outBuffer ob{out.data(), out.size(), 0};
      const size_t r = ZSTD_decompressStream(dctx, &ob, &ib);
      if (ZSTD_isError(r)) {
        std::fprintf(stderr, "fuzzy_bench: %s: %s\n", path.c_str(), ZSTD_getErrorName(r));
        ok = false;
        break;
      }
      carry.append(out.data(), ob.pos);
      size_t start = 0, nl;
      while ((nl = carry.find('\n', start)) != std::string::npos) {
        fn(std::string_view(carry).substr(start, nl - start));
        start = nl + 1;
      }
      carry.erase(0, start);
    }
  }
  if (ok && !carry.empty()) fn(std::string_view(carry));
  ZSTD_freeDCtx(dctx);
  std::fclose(f);
  return ok;
}

// Document frequency of each word of the product names and ingredient lists.
std::unordered_map<std::string, uint32_t> off_vocabulary(const std::string& path,
                                                         size_t* products) {
  std::unordered_map<std::string, uint32_t> df;
  simdjson::ondemand::parser parser;
  std::vector<std::string> words;
  *products = 0;
  for_each_zstd_line(path, [&](std::string_view line) {
    simdjson::padded_string padded(line);
    auto doc = parser.iterate(padded);
    if (doc.error()) return;
    words.clear();
    for (const char* field : {"name", "ingredients"}) {
      std::string_view v;
      if (!doc.find_field_unordered(field).get_string().get(v)) tokenize(v, &words);
    }
    std::sort(words.begin(), words.end());
    words.erase(std::unique(words.begin(), words.end()), words.end());
    for (auto& w : words) ++df[w];
    ++*products;
  });
  return df;
}

// ---- the brute-force baseline ----------------------------------------------------------------

class BruteForce {
 public:
  explicit BruteForce(const std::vector<std::string>& terms) {
    for (const auto& t : terms) {
      std::u32string c;
      tf::decode_utf8(t, &c);
      terms_.push_back(std::move(c));
    }
  }

  // Distance of every term (k + 1 when over k), then the best `limit` by (distance, freq).
  std::vector<std::pair<uint8_t, uint32_t>> search(const std::u32string& q, int k, bool prefix,
                                                   const std::vector<uint64_t>& freq,
                                                   size_t limit) {
    std::vector<std::pair<uint8_t, uint32_t>> hits;
    for (uint32_t i = 0; i < terms_.size(); ++i) {
      const int d = distance(q, terms_[i], k, prefix);
      if (d <= k) hits.emplace_back(static_cast<uint8_t>(d), i);
    }
    const auto by_rank = [&](const auto& a, const auto& b) {
      if (a.first != b.first) return a.first < b.first;
      if (freq[a.second] != freq[b.second]) return freq[a.second] > freq[b.second];
      return a.second < b.second;
    };
    const size_t n = std::min(limit, hits.size());
    std::partial_sort(hits.begin(), hits.begin() + static_cast<long>(n), hits.end(), by_rank);
    hits.resize(n);
    return hits;
  }

  // OSA distance over code points, one DP row per term character. Early exit: once two
  // consecutive rows exceed k everywhere, no later cell can come back to k.
  int distance(const std::u32string& q, const std::u32string& t, int k, bool prefix) {
    const size_t m = q.size();
    rows_.resize(3 * (m + 1));
    int* prev2 = rows_.data();
    int* prev = prev2 + (m + 1);
    int* cur = prev + (m + 1);
    for (size_t i = 0; i <= m; ++i) prev[i] = static_cast<int>(i);
    int best_prefix = static_cast<int>(m);
    int prev_min = 0;
    for (size_t j = 1; j <= t.size(); ++j) {
      cur[0] = static_cast<int>(j);
      int row_min = cur[0];
      for (size_t i = 1; i <= m; ++i) {
        int v = std::min(prev[i] + 1, cur[i - 1] + 1);
        v = std::min(v, prev[i - 1] + (q[i - 1] != t[j - 1]));
        if (i > 1 && j > 1 && q[i - 1] == t[j - 2] && q[i - 2] == t[j - 1]) {
          v = std::min(v, prev2[i - 2] + 1);
        }
        cur[i] = v;
        row_min = std::min(row_min, v);
      }
      best_prefix = std::min(best_prefix, cur[m]);
      if (row_min > k && prev_min > k) return prefix ? std::min(best_prefix, k + 1) : k + 1;
      prev_min = row_min;
      int* tmp = prev2;
      prev2 = prev;
      prev = cur;
      cur = tmp;
    }
    return prefix ? best_prefix : prev[m];
  }

 private:
  std::vector<std::u32string> terms_;
  std::vector<int> rows_;
};

// ---- the peer: Xapian spelling ---------------------------------------------------------------

struct XapianSpelling {
  std::string dir;
  Xapian::Database db;
  double build_seconds = 0;
  uint64_t disk_bytes = 0;
};

XapianSpelling build_xapian(const std::string& parent, const char* tag,
                            const std::vector<std::string>& words,
                            const std::vector<uint64_t>& freq) {
  XapianSpelling x;
  std::string tmpl = parent;
  tmpl += "/trove_fuzzy_bench_";
  tmpl += tag;
  tmpl += "_XXXXXX";
  if (!::mkdtemp(tmpl.data())) {
    std::fprintf(stderr, "fuzzy_bench: cannot create a temp dir under %s\n", parent.c_str());
    std::exit(1);
  }
  x.dir = tmpl;
  const auto t0 = Clock::now();
  {
    Xapian::WritableDatabase w(x.dir + "/db", Xapian::DB_CREATE_OR_OVERWRITE);
    for (size_t i = 0; i < words.size(); ++i) {
      w.add_spelling(words[i], static_cast<Xapian::termcount>(freq[i]));
    }
    w.commit();
  }
  x.build_seconds = seconds_since(t0);
  for (const auto& e : fs::recursive_directory_iterator(x.dir)) {
    if (e.is_regular_file()) x.disk_bytes += e.file_size();
  }
  x.db = Xapian::Database(x.dir + "/db");
  return x;
}

// ---- measurement helpers ---------------------------------------------------------------------

struct Percentiles {
  double p50 = 0, p99 = 0;  // CPU time of this thread, microseconds
  double wall_p50 = 0, wall_p99 = 0;
};

double thread_cpu_micros() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

// Each lookup timed twice: by the calling thread's CPU clock (what the lookup costs; the
// figure reported, since other tenants of a shared VM preempt us at random) and by the wall
// clock (what a caller waits, preemptions included).
template <typename Fn>
Percentiles time_each(const std::vector<std::string>& queries, size_t n, Fn&& fn) {
  std::vector<double> cpu, wall;
  for (size_t i = 0; i < 20 && i < queries.size(); ++i) fn(queries[i]);  // warm-up
  for (size_t i = 0; i < n && i < queries.size(); ++i) {
    const auto t0 = Clock::now();
    const double c0 = thread_cpu_micros();
    fn(queries[i]);
    cpu.push_back(thread_cpu_micros() - c0);
    wall.push_back(micros_since(t0));
  }
  if (cpu.empty()) return {};
  std::sort(cpu.begin(), cpu.end());
  std::sort(wall.begin(), wall.end());
  const size_t mid = cpu.size() / 2, p99 = std::min(cpu.size() - 1, cpu.size() * 99 / 100);
  return {cpu[mid], cpu[p99], wall[mid], wall[p99]};
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

std::string group(double v) {  // 130792 -> "130,792"
  const std::string digits = std::to_string(static_cast<long long>(v + 0.5));
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

// Ours vs brute force vs Xapian over one vocabulary.
void latency_table(const char* title, const tf::TermDictionary& dict,
                   const std::vector<std::string>& terms, const std::vector<uint64_t>& freq,
                   const std::vector<std::string>& queries, XapianSpelling* xapian, size_t n_ours,
                   size_t n_base) {
  BruteForce brute(terms);
  std::printf("\n%s: %s terms, %zu queries timed for ours, %zu for each baseline (limit 10)\n",
              title, group(static_cast<double>(terms.size())).c_str(),
              std::min(n_ours, queries.size()), std::min(n_base, queries.size()));
  std::printf(
      "| k | mode   | ours p50 | ours p99 | ours wall p50/p99 | brute p50 | brute p99 | "
      "brute/ours | Xapian p50 | Xapian p99 | Xapian/ours |\n");
  std::printf(
      "|---|--------|---------:|---------:|------------------:|----------:|----------:|"
      "-----------:|-----------:|-----------:|------------:|\n");
  for (uint8_t k : {1, 2}) {
    for (bool prefix : {false, true}) {
      const tf::LevenshteinOptions o{.max_distance = k, .prefix = prefix};
      size_t sink = 0;
      const Percentiles ours = time_each(
          queries, n_ours, [&](const std::string& q) { sink += dict.search(q, o, 10).size(); });
      const Percentiles bf = time_each(queries, n_base, [&](const std::string& q) {
        std::u32string q32;
        tf::decode_utf8(q, &q32);
        sink += brute.search(q32, k, prefix, freq, 10).size();
      });
      Percentiles xp;
      if (xapian && !prefix) {
        xp = time_each(queries, n_base, [&](const std::string& q) {
          sink += xapian->db.get_spelling_suggestion(q, k).size();
        });
      }
      const bool has_x = xapian && !prefix;
      std::printf(
          "| %d | %-6s | %6.1f us | %6.1f us | %6.1f / %6.1f us | %7.0f us | %7.0f us | "
          "%9.0fx | ",
          k, prefix ? "prefix" : "full", ours.p50, ours.p99, ours.wall_p50, ours.wall_p99, bf.p50,
          bf.p99, bf.p50 / ours.p50);
      if (has_x) {
        std::printf("%8.0f us | %8.0f us | %10.0fx |\n", xp.p50, xp.p99, xp.p50 / ours.p50);
      } else {
        std::printf("%10s | %10s | %11s |\n", "n/a", "n/a", "n/a");
      }
      if (sink == 0) std::printf("(no results)\n");
    }
  }
}

}  // namespace

int main() {
  const char* env_data = std::getenv("TROVE_SHARED_DATA");
  const std::string data = env_data ? env_data : std::string(TROVE_SOURCE_DIR) + "/../shared/data";
  const char* env_tmp = std::getenv("TROVE_BENCH_DIR");
  const char* tmpdir = std::getenv("TMPDIR");
  const std::string tmp_parent = env_tmp ? env_tmp : tmpdir ? tmpdir : "/tmp";
  const auto n_ours = static_cast<size_t>(env_long("TROVE_FUZZY_BENCH_QUERIES", 2000));
  const size_t n_base = std::max<size_t>(100, n_ours / 10);
  const bool xapian_off = env_long("TROVE_FUZZY_BENCH_XAPIAN_OFF", 1) != 0;

  utsname un{};
  ::uname(&un);
  std::printf("fuzzy_bench: machine %s, %ld cores, %s %s, compiler %s%s\n", cpu_model().c_str(),
              ::sysconf(_SC_NPROCESSORS_ONLN), un.sysname, un.release, __VERSION__,
#ifdef NDEBUG
              ", NDEBUG"
#else
              ", ASSERTIONS ON (not a Release build)"
#endif
  );

  // ---- the word lists ----
  const std::vector<std::string> words = load_dictionary();
  if (words.empty()) {
    std::printf("fuzzy_bench: %s is absent (apt-get install wamerican-large); nothing to do\n",
                kDictionary);
    return 0;
  }
  const std::string off_path = data + "/openfoodfacts/products.jsonl.zst";
  size_t products = 0;
  auto t0 = Clock::now();
  const auto off_df = off_vocabulary(off_path, &products);
  const double off_read_s = seconds_since(t0);
  std::printf("dictionary: %s words (%s, lower-cased, no apostrophe forms)\n",
              group(static_cast<double>(words.size())).c_str(), kDictionary);
  std::printf(
      "Open Food Facts: %s products, %s distinct words in names + ingredients "
      "(lower-cased letter runs), read in %.1f s\n",
      group(static_cast<double>(products)).c_str(),
      group(static_cast<double>(off_df.size())).c_str(), off_read_s);

  // Dictionary frequencies: 1 + the word's document frequency in Open Food Facts.
  std::vector<uint64_t> freq_one(words.size(), 1), freq_off(words.size());
  size_t in_off = 0;
  for (size_t i = 0; i < words.size(); ++i) {
    const auto it = off_df.find(words[i]);
    freq_off[i] = 1 + (it == off_df.end() ? 0 : it->second);
    in_off += it != off_df.end();
  }
  std::printf("%zu dictionary words occur in Open Food Facts (their frequency = 1 + df)\n", in_off);

  // ---- (1) build ----
  auto build = [](const std::vector<std::string>& terms, const std::vector<uint64_t>& f,
                  double* best_s) {
    std::unique_ptr<tf::TermDictionary> d;
    *best_s = 1e9;
    for (int rep = 0; rep < 3; ++rep) {
      tf::TermFrequencies input;
      input.reserve(terms.size());
      for (size_t i = 0; i < terms.size(); ++i) input.emplace_back(terms[i], f[i]);
      std::shuffle(input.begin(), input.end(), std::mt19937_64(rep));  // unsorted input
      const auto t = Clock::now();
      d = std::make_unique<tf::TermDictionary>(std::move(input));
      *best_s = std::min(*best_s, seconds_since(t));
    }
    return d;
  };
  double dict_build_s, off_build_s = 0;
  const auto dict_one = build(words, freq_one, &dict_build_s);
  const auto dict_off = build(words, freq_off, &dict_build_s);
  std::vector<std::string> off_terms;
  std::vector<uint64_t> off_freq;
  for (const auto& [w, f] : off_df) off_terms.push_back(w);
  std::sort(off_terms.begin(), off_terms.end());
  for (const auto& w : off_terms) off_freq.push_back(off_df.at(w));
  std::unique_ptr<tf::TermDictionary> off_dict;
  if (!off_terms.empty()) off_dict = build(off_terms, off_freq, &off_build_s);

  XapianSpelling x_dict = build_xapian(tmp_parent, "dict", words, freq_off);
  std::printf("\n(1) build (ours: best of 3, from shuffled (term, frequency) pairs)\n");
  std::printf(
      "| vocabulary | terms | trie nodes (both tries) | ours build | ours bytes/term | "
      "Xapian spelling build | Xapian bytes/term (disk) |\n");
  std::printf("|---|---:|---:|---:|---:|---:|---:|\n");
  auto build_row = [](const char* name, const tf::TermDictionary& d, double s,
                      const XapianSpelling* x) {
    std::printf("| %s | %s | %s | %.0f ms | %.1f |", name,
                group(static_cast<double>(d.size())).c_str(),
                group(static_cast<double>(d.node_count())).c_str(), s * 1e3,
                static_cast<double>(d.memory_bytes()) / static_cast<double>(d.size()));
    if (x) {
      std::printf(" %.1f s | %.1f |\n", x->build_seconds,
                  static_cast<double>(x->disk_bytes) / static_cast<double>(d.size()));
    } else {
      std::printf(" skipped | - |\n");
    }
  };
  build_row("wamerican-large", *dict_off, dict_build_s, &x_dict);
  XapianSpelling x_off;
  bool have_x_off = false;
  if (off_dict && xapian_off) {
    x_off = build_xapian(tmp_parent, "off", off_terms, off_freq);
    have_x_off = true;
  }
  if (off_dict) build_row("Open Food Facts", *off_dict, off_build_s, have_x_off ? &x_off : nullptr);
  std::printf(
      "(SymSpell, a symmetric-delete index, spends about 617 bytes per word at this "
      "size; ours holds both tries and the frequencies in RAM)\n");

  // ---- (2) quality ----
  const auto lists = load_misspellings(data + "/misspellings");
  std::set<std::string> word_set(words.begin(), words.end());
  std::printf(
      "\n(2) quality: recall of the correct word among our first 1/5/10 suggestions "
      "(OSA, limit 10); Xapian returns one suggestion, so its @5 = @10 = @1\n");
  std::printf(
      "| list | pairs | within 2 | ours k=2 f=1 @1/@5/@10 | ours k=2 f=OFF @1/@5/@10 | "
      "ours budget f=OFF @1/@5/@10 | ours k=3 f=OFF @1/@5/@10 | Xapian k=2 @1 |\n");
  std::printf("|---|---:|---:|---|---|---|---|---:|\n");
  std::vector<std::string> dict_queries;  // misspellings, for the latency section
  for (const auto& [name, pairs] : lists) {
    size_t n = 0, within2 = 0, xapian_hits = 0;
    size_t hits[4][3] = {};
    for (const auto& p : pairs) {
      std::vector<std::string> good;
      for (const auto& c : p.correct) {
        if (word_set.count(c)) good.push_back(c);
      }
      if (good.empty()) continue;  // the correct word is not in the dictionary
      ++n;
      dict_queries.push_back(p.wrong);
      bool near = false;
      for (const auto& g : good) {
        near |= tf::LevenshteinAutomaton(p.wrong, {.max_distance = 2}).evaluate(g) <= 2;
      }
      within2 += near;
      const std::vector<tf::FuzzyMatch> runs[4] = {
          dict_one->search(p.wrong, {.max_distance = 2}, 10),
          dict_off->search(p.wrong, {.max_distance = 2}, 10),
          dict_off->search(p.wrong, tf::typo_options(p.wrong), 10),
          dict_off->search(p.wrong, {.max_distance = 3}, 10)};
      for (int r = 0; r < 4; ++r) {
        for (size_t i = 0; i < runs[r].size(); ++i) {
          if (std::find(good.begin(), good.end(), runs[r][i].term) == good.end()) continue;
          if (i < 1) ++hits[r][0];
          if (i < 5) ++hits[r][1];
          ++hits[r][2];
          break;
        }
      }
      const std::string s = x_dict.db.get_spelling_suggestion(p.wrong, 2);
      xapian_hits += std::find(good.begin(), good.end(), s) != good.end();
    }
    auto pct = [&](size_t h) {
      return n ? 100.0 * static_cast<double>(h) / static_cast<double>(n) : 0.0;
    };
    std::printf("| %s | %zu | %.1f%% |", name.c_str(), n, pct(within2));
    for (int r = 0; r < 4; ++r) {
      std::printf(" %.1f / %.1f / %.1f |", pct(hits[r][0]), pct(hits[r][1]), pct(hits[r][2]));
    }
    std::printf(" %.1f%% |\n", pct(xapian_hits));
  }
  std::printf(
      "(within 2: pairs whose misspelling is at OSA distance <= 2 of a correct word, the "
      "ceiling at k = 2; budget = typo_options(): 0/1/2 typos by length, first "
      "character x2)\n");

  // ---- (3) latency ----
  std::mt19937_64 rng(42);
  std::shuffle(dict_queries.begin(), dict_queries.end(), rng);
  std::printf(
      "\n(3) lookup latency, queries = the misspellings above (shuffled); p50/p99 are the "
      "thread's CPU time per lookup, wall-clock beside ours\n");
  latency_table("wamerican-large", *dict_off, words, freq_off, dict_queries, &x_dict, n_ours,
                n_base);
  {
    // The same k = 2 lookups without a limit (every match, sorted).
    const tf::LevenshteinOptions o{.max_distance = 2};
    const Percentiles all = time_each(dict_queries, n_ours, [&](const std::string& q) {
      (void)dict_off->search(q, o, SIZE_MAX);
    });
    std::printf("ours k=2 full, every match instead of the top 10: p50 %.1f us, p99 %.1f us\n",
                all.p50, all.p99);
  }
  if (off_dict) {
    // Queries: 1 or 2 random edits of words that occur in at least 3 products.
    std::vector<std::string> pool;
    for (size_t i = 0; i < off_terms.size(); ++i) {
      if (off_freq[i] >= 3 && tf::count_code_points(off_terms[i]) >= 4)
        pool.push_back(off_terms[i]);
    }
    std::vector<std::string> off_queries;
    static const std::u32string kLetters = U"abcdefghijklmnopqrstuvwxyzéèàç";
    for (size_t i = 0; i < n_ours && !pool.empty(); ++i) {
      std::u32string w;
      tf::decode_utf8(pool[rng() % pool.size()], &w);
      for (int e = 0; e < 1 + static_cast<int>(i % 2); ++e) {
        const size_t at = rng() % w.size();
        switch (rng() % 4) {
          case 0:
            w.insert(w.begin() + static_cast<long>(at), kLetters[rng() % kLetters.size()]);
            break;
          case 1:
            if (w.size() > 1) w.erase(w.begin() + static_cast<long>(at));
            break;
          case 2:
            w[at] = kLetters[rng() % kLetters.size()];
            break;
          default:
            if (at + 1 < w.size()) std::swap(w[at], w[at + 1]);
            break;
        }
      }
      off_queries.push_back(tf::encode_utf8(w));
    }
    latency_table("Open Food Facts (queries: 1-2 random edits of words in >= 3 products)",
                  *off_dict, off_terms, off_freq, off_queries, have_x_off ? &x_off : nullptr,
                  n_ours, n_base);

    // ---- (4) completion and live updates ----
    std::printf("\n(4) search-as-you-type and live updates over Open Food Facts\n");
    std::vector<std::string> prefixes;
    for (const auto& q : off_queries) {
      std::u32string w;
      tf::decode_utf8(q, &w);
      prefixes.push_back(tf::encode_utf8(w.substr(0, 2 + rng() % 3)));
    }
    const Percentiles pt = time_each(
        prefixes, n_ours, [&](const std::string& p) { (void)off_dict->prefix_terms(p, 10); });
    std::printf("prefix_terms (2-4 code points, top 10 by frequency): p50 %.1f us, p99 %.1f us\n",
                pt.p50, pt.p99);
    tf::LiveDictionary live(std::shared_ptr<const tf::TermDictionary>(std::move(off_dict)));
    for (size_t i = 0; i < 1000; ++i) {
      std::string novel = "novel";  // built in steps: GCC 12 -Wrestrict on literal + string
      novel += off_queries[i % off_queries.size()];
      live.add(novel, 1);
    }
    const tf::LevenshteinOptions o2{.max_distance = 2};
    const Percentiles lv =
        time_each(off_queries, n_ours, [&](const std::string& q) { (void)live.search(q, o2, 10); });
    t0 = Clock::now();
    live.merge();
    const double merge_s = seconds_since(t0);
    const Percentiles lm =
        time_each(off_queries, n_ours, [&](const std::string& q) { (void)live.search(q, o2, 10); });
    std::printf(
        "LiveDictionary k=2 with a %d-term delta: p50 %.1f us, p99 %.1f us; merge() "
        "(rebuild of %s terms) %.0f ms; after merge p50 %.1f us, p99 %.1f us\n",
        1000, lv.p50, lv.p99, group(static_cast<double>(live.base()->size())).c_str(),
        merge_s * 1e3, lm.p50, lm.p99);
  }

  std::error_code ec;
  fs::remove_all(x_dict.dir, ec);
  if (have_x_off) fs::remove_all(x_off.dir, ec);
  return 0;
}
