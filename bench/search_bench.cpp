// search_bench: the helper program behind bench/search.sh, the catalog search benchmark on the
// Open Food Facts products (../shared/data/openfoodfacts/products.jsonl.zst). The script runs
// `trove import` and PostgreSQL itself; this program does the parts that need code:
//
//   search_bench xapian-import FILE DB_DIR
//       The naive baseline for the import: bare Xapian, one thread, a plain TermGenerator with
//       positions and the French stemmer, name (as title, prefix S, and unprefixed) and
//       ingredients per product, one glass database, one commit at the end.
//   search_bench make-queries FILE QUERIES_OUT PG_ROWS_OUT [SEED [SEARCH_N [SUGGEST_MIN]]]
//       Picks product names with a fixed seed and writes the queries (whole words for search;
//       every prefix of the first words for suggest) and the rows for PostgreSQL's COPY.
//   search_bench latency DATA_DIR XAPIAN_DB QUERIES LATENCY_OUT
//       Runs every query in-process, a warm-up pass then a timed pass: Trove (Store +
//       CatalogIndex::search / suggest) and the bare Xapian baseline (QueryParser, FLAG_PARTIAL
//       for suggest) on its own database.
//   search_bench pipe DATA_DIR
//       Answers queries read from stdin with their time and hit count (bench/search_ab.py).
//   search_bench report FIGURES QUERIES LATENCY PG_LATENCY
//       Prints the tables: import rates, bytes and memory per product, latency by prefix length,
//       Trove beside bare Xapian and PostgreSQL, with ratios and targets.
//
// Never asserts a time. Exit 1 on a broken input or an error from the library.
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

#include "search_common.h"
#include "trove/data/store.h"
#include "trove/index/catalog_index.h"

namespace {

using trove_bench::Query;
using trove_bench::Timing;
using trove_bench::die;
using trove_bench::read_queries;
using trove_bench::split;

using Clock = std::chrono::steady_clock;

double since_ms(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}


long peak_rss_kb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}


// ---- input: the zstd-compressed JSONL, streamed ------------------------------------------------

// Lines of a .zst file (or a plain one), decompressed block by block: memory stays at a few
// buffers, so the baseline's peak RSS is Xapian's, not the file's.
class ZstdLines {
 public:
  explicit ZstdLines(const std::string& path) : dctx_(ZSTD_createDCtx()) {
    file_ = std::fopen(path.c_str(), "rb");
    if (file_ == nullptr) die("cannot open " + path + ": " + std::strerror(errno));
    compressed_ = path.size() > 4 && path.compare(path.size() - 4, 4, ".zst") == 0;
    in_buf_.resize(ZSTD_DStreamInSize());
    out_buf_.resize(ZSTD_DStreamOutSize());
  }
  ~ZstdLines() {
    if (file_ != nullptr) std::fclose(file_);
    ZSTD_freeDCtx(dctx_);
  }
  ZstdLines(const ZstdLines&) = delete;
  ZstdLines& operator=(const ZstdLines&) = delete;

  // The next line without its '\n'; valid until the next call.
  bool next(std::string_view* line) {
    for (;;) {
      const size_t nl = buf_.find('\n', scan_);
      if (nl != std::string::npos) {
        *line = std::string_view(buf_).substr(pos_, nl - pos_);
        pos_ = scan_ = nl + 1;
        return true;
      }
      if (eof_) {
        if (pos_ >= buf_.size()) return false;
        *line = std::string_view(buf_).substr(pos_);
        pos_ = scan_ = buf_.size();
        return true;
      }
      buf_.erase(0, pos_);
      pos_ = 0;
      scan_ = buf_.size();
      fill();
    }
  }

 private:
  void fill() {
    if (!compressed_) {
      const size_t n = std::fread(out_buf_.data(), 1, out_buf_.size(), file_);
      buf_.append(out_buf_.data(), n);
      if (n == 0) eof_ = true;
      return;
    }
    if (in_.pos == in_.size) {
      const size_t n = std::fread(in_buf_.data(), 1, in_buf_.size(), file_);
      if (n == 0) {
        if (last_ret_ != 0) die("truncated zstd input");
        eof_ = true;
        return;
      }
      in_ = {in_buf_.data(), n, 0};
    }
    ZSTD_outBuffer out{out_buf_.data(), out_buf_.size(), 0};
    last_ret_ = ZSTD_decompressStream(dctx_, &out, &in_);
    if (ZSTD_isError(last_ret_)) die(std::string("zstd: ") + ZSTD_getErrorName(last_ret_));
    buf_.append(out_buf_.data(), out.pos);
  }

  std::FILE* file_ = nullptr;
  ZSTD_DCtx* dctx_;
  bool compressed_ = false;
  std::vector<char> in_buf_, out_buf_;
  ZSTD_inBuffer in_{nullptr, 0, 0};
  size_t last_ret_ = 0;
  std::string buf_;
  size_t pos_ = 0, scan_ = 0;
  bool eof_ = false;
};

struct Product {
  std::string_view code, name, ingredients;  // empty when absent
};

// Parses one line; false on a line that is not a JSON object.
bool parse_product(simdjson::dom::parser& parser, std::string_view line, Product* p) {
  simdjson::dom::element doc;
  if (parser.parse(line.data(), line.size(), true).get(doc)) return false;
  *p = {};
  if (doc["code"].get(p->code)) p->code = {};
  if (doc["name"].get(p->name)) p->name = {};
  if (doc["ingredients"].get(p->ingredients)) p->ingredients = {};
  return true;
}

// ---- words of a product name -----------------------------------------------------------------

// One code point of a UTF-8 string at byte i (input already validated by simdjson).
char32_t decode(std::string_view s, size_t i, size_t* len) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return *len = 1, c;
  const int n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
  char32_t cp = c & (0xFF >> (n + 1));
  for (int k = 1; k < n && i + k < s.size(); ++k) cp = (cp << 6) | (s[i + k] & 0x3F);
  *len = static_cast<size_t>(n);
  return cp;
}

bool is_alnum(char32_t cp) { return std::iswalnum(static_cast<wint_t>(cp)) != 0; }
bool is_mark(char32_t cp) { return cp >= 0x300 && cp <= 0x36F; }
bool is_apostrophe(char32_t cp) { return cp == U'\'' || cp == U'\u2019'; }
bool is_digit(char32_t cp) { return cp >= U'0' && cp <= U'9'; }

// A word as a user types it: letters and digits, with an apostrophe between letters
// ("d'olive") and a point or comma between digits ("4.5") kept inside. `cuts` are the byte
// lengths after each letter or digit not followed by a combining mark: the prefixes a user can
// have typed, so cuts.size() is the word's length in characters (about).
struct Word {
  std::string text;
  std::vector<size_t> cuts;
};

std::vector<Word> words_of(std::string_view s) {
  std::vector<char32_t> cps;
  std::vector<size_t> offs;
  for (size_t i = 0, len = 0; i < s.size(); i += len) {
    cps.push_back(decode(s, i, &len));
    offs.push_back(i);
  }
  offs.push_back(s.size());
  std::vector<Word> out;
  size_t i = 0;
  while (i < cps.size()) {
    if (!is_alnum(cps[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < cps.size()) {
      const char32_t c = cps[j];
      const bool inner =
          j > i && j + 1 < cps.size() && is_alnum(cps[j - 1]) && is_alnum(cps[j + 1]) &&
          (is_apostrophe(c) ||
           ((c == U'.' || c == U',') && is_digit(cps[j - 1]) && is_digit(cps[j + 1])));
      if (!is_alnum(c) && !is_mark(c) && !inner) break;
      ++j;
    }
    Word w;
    w.text.assign(s.substr(offs[i], offs[j] - offs[i]));
    for (size_t k = i; k < j; ++k) {
      if (is_alnum(cps[k]) && (k + 1 >= j || !is_mark(cps[k + 1]))) {
        w.cuts.push_back(offs[k + 1] - offs[i]);
      }
    }
    out.push_back(std::move(w));
    i = j;
  }
  return out;
}

// The tsquery text for PostgreSQL: words ANDed, apostrophes turned into AND (PostgreSQL's
// parser splits "d'olive" into d, olive, and a ' would open a quoted string in to_tsquery),
// and the last word with :* when it is a prefix.
std::string pg_tsquery(const std::vector<std::string>& words, bool last_is_prefix) {
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) {
    std::string w;
    for (size_t b = 0, len = 0; b < words[i].size(); b += len) {
      const char32_t cp = decode(words[i], b, &len);
      if (is_apostrophe(cp)) {
        w += " & ";
      } else {
        w.append(words[i], b, len);
      }
    }
    if (!out.empty()) out += " & ";
    out += w;
    if (last_is_prefix && i + 1 == words.size()) out += ":*";
  }
  return out;
}

// ---- xapian-import ---------------------------------------------------------------------------

int xapian_import(const std::string& file, const std::string& db_dir) {
  const auto t0 = Clock::now();
  Xapian::WritableDatabase db(db_dir, Xapian::DB_CREATE_OR_OVERWRITE | Xapian::DB_BACKEND_GLASS);
  Xapian::TermGenerator tg;
  tg.set_stemmer(Xapian::Stem("french"));
  ZstdLines lines(file);
  simdjson::dom::parser parser;
  std::string_view line;
  uint64_t n = 0, bad = 0;
  Product p;
  while (lines.next(&line)) {
    if (line.empty()) continue;
    if (!parse_product(parser, line, &p)) {
      ++bad;
      continue;
    }
    Xapian::Document doc;
    tg.set_document(doc);
    const std::string name(p.name);
    tg.index_text(name, 1, "S");
    tg.index_text(name);
    tg.increase_termpos();
    tg.index_text(std::string(p.ingredients));
    std::string id_term = "Q";
    id_term += p.code;
    doc.add_boolean_term(id_term);
    doc.set_data(name);
    db.add_document(doc);
    ++n;
  }
  db.commit();
  db.close();
  const double s = since_ms(t0) / 1e3;
  std::printf("xapian_products=%llu\nxapian_bad_lines=%llu\nxapian_inner_s=%.3f\n",
              static_cast<unsigned long long>(n), static_cast<unsigned long long>(bad), s);
  return 0;
}

// ---- make-queries ----------------------------------------------------------------------------

// PostgreSQL COPY text format: backslash, tab, newline and carriage return escaped; NUL
// (which PostgreSQL text cannot hold) dropped; absent fields \N.
void copy_field(std::FILE* out, std::string_view v, bool absent) {
  if (absent) {
    std::fputs("\\N", out);
    return;
  }
  for (char c : v) {
    switch (c) {
      case '\\':
        std::fputs("\\\\", out);
        break;
      case '\t':
        std::fputs("\\t", out);
        break;
      case '\n':
        std::fputs("\\n", out);
        break;
      case '\r':
        std::fputs("\\r", out);
        break;
      case '\0':
        break;
      default:
        std::fputc(c, out);
    }
  }
}

std::string join_words(const std::vector<std::string>& w) {
  std::string out;
  for (const auto& s : w) {
    if (!out.empty()) out += ' ';
    out += s;
  }
  return out;
}

int make_queries(const std::string& file, const std::string& queries_out,
                 const std::string& rows_out, uint64_t seed, size_t search_n, size_t suggest_min) {
  ZstdLines lines(file);
  simdjson::dom::parser parser;
  std::FILE* rows = std::fopen(rows_out.c_str(), "w");
  if (rows == nullptr) die("cannot write " + rows_out);
  std::vector<std::string> names;
  std::string_view line;
  Product p;
  while (lines.next(&line)) {
    if (line.empty() || !parse_product(parser, line, &p)) continue;
    copy_field(rows, p.code, p.code.empty());
    std::fputc('\t', rows);
    copy_field(rows, p.name, p.name.empty());
    std::fputc('\t', rows);
    copy_field(rows, p.ingredients, p.ingredients.empty());
    std::fputc('\n', rows);
    names.emplace_back(p.name);
  }
  if (std::fclose(rows) != 0) die("writing " + rows_out + " failed");
  if (names.empty()) die("no products in " + file);

  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<size_t> pick(0, names.size() - 1);
  // A name with at least one word; up to three of its first words.
  auto pick_words = [&](size_t max_words) {
    for (;;) {
      std::vector<Word> w = words_of(names[pick(rng)]);
      if (w.empty()) continue;
      if (w.size() > max_words) w.resize(max_words);
      return w;
    }
  };
  std::FILE* out = std::fopen(queries_out.c_str(), "w");
  if (out == nullptr) die("cannot write " + queries_out);
  // kind \t prefix length (chars; 0 for search) \t word index \t Trove text \t PostgreSQL text
  size_t n_search = 0, n_suggest = 0;
  for (; n_search < search_n; ++n_search) {
    std::vector<Word> w = pick_words(3);
    std::uniform_int_distribution<size_t> k(1, w.size());
    w.resize(k(rng));
    std::vector<std::string> texts;
    for (const auto& x : w) texts.push_back(x.text);
    const std::string q = join_words(texts);
    std::fprintf(out, "search\t0\t%zu\t%s\t%s\n", texts.size() - 1, q.c_str(), q.c_str());
  }
  size_t n_names = 0;
  while (n_suggest < suggest_min) {
    const std::vector<Word> w = pick_words(3);
    ++n_names;
    std::vector<std::string> before;
    for (size_t i = 0; i < w.size(); ++i) {
      for (size_t c = 0; c < w[i].cuts.size(); ++c) {
        std::vector<std::string> typed = before;
        typed.push_back(w[i].text.substr(0, w[i].cuts[c]));
        const std::string q = join_words(typed);
        const std::string pq = pg_tsquery(typed, true);
        std::fprintf(out, "suggest\t%zu\t%zu\t%s\t%s\n", c + 1, i, q.c_str(), pq.c_str());
        ++n_suggest;
      }
      before.push_back(w[i].text);
    }
  }
  if (std::fclose(out) != 0) die("writing " + queries_out + " failed");
  std::printf("products_in_file=%zu\nsearch_queries=%zu\nsuggest_queries=%zu\nsuggest_names=%zu\n",
              names.size(), n_search, n_suggest, n_names);
  return 0;
}

// ---- latency ---------------------------------------------------------------------------------


// The bare-Xapian baseline for queries, as a simple app would write them: a QueryParser with
// AND as the default operator and the French stemmer; suggest adds FLAG_PARTIAL and looks in
// the title field only (prefix S).
class XapianQueries {
 public:
  explicit XapianQueries(const std::string& dir) : db_(dir) {
    qp_.set_database(db_);
    qp_.set_stemmer(Xapian::Stem("french"));
    qp_.set_stemming_strategy(Xapian::QueryParser::STEM_SOME);
    qp_.set_default_op(Xapian::Query::OP_AND);
  }
  Timing run(const Query& q) {
    const auto t0 = Clock::now();
    size_t hits = 0;
    try {
      const bool suggest = q.kind == "suggest";
      unsigned flags = Xapian::QueryParser::FLAG_DEFAULT;
      if (suggest) flags |= Xapian::QueryParser::FLAG_PARTIAL;
      Xapian::Enquire enq(db_);
      enq.set_query(qp_.parse_query(q.text, flags, suggest ? "S" : ""));
      Xapian::MSet m = enq.get_mset(0, suggest ? 5 : 10);
      for (auto it = m.begin(); it != m.end(); ++it) {
        if (!it.get_document().get_data().empty()) ++hits;
      }
    } catch (const Xapian::Error& e) {
      ++errors;
    }
    return {since_ms(t0), hits};
  }
  size_t errors = 0;

 private:
  Xapian::Database db_;
  Xapian::QueryParser qp_;
};

int latency(const std::string& data_dir, const std::string& xapian_dir, const std::string& qpath,
            const std::string& out_path) {
  const std::vector<Query> qs = read_queries(qpath);
  const auto t_open = Clock::now();
  auto store = trove::Store::open(data_dir);
  if (!store.ok()) die("Store::open: " + store.status().to_string());
  auto index = trove::CatalogIndex::open(data_dir + "/index");
  if (!index.ok()) die("CatalogIndex::open: " + index.status().to_string());
  std::vector<std::string> warnings;
  if (auto st = index.value()->attach(*store.value(), &warnings); !st.ok()) {
    die("attach: " + st.to_string());
  }
  for (const auto& w : warnings) std::fprintf(stderr, "search_bench: attach: %s\n", w.c_str());
  const double open_ms = since_ms(t_open);
  const long rss_open_kb = peak_rss_kb();
  const trove::CatalogIndex& idx = *index.value();

  size_t trove_errors = 0;
  auto run_trove = [&](const Query& q) -> Timing {
    const auto t0 = Clock::now();
    size_t hits = 0;
    if (q.kind == "suggest") {
      trove::SuggestRequest req;
      req.q = q.text;
      auto r = idx.suggest(req);
      if (r.ok()) {
        hits = r.value().items.size();
      } else if (++trove_errors <= 5) {
        std::fprintf(stderr, "search_bench: suggest \"%s\": %s\n", q.text.c_str(),
                     r.status().to_string().c_str());
      }
    } else {
      trove::SearchRequest req;
      req.q = q.text;
      auto r = idx.search(req);
      if (r.ok()) {
        hits = r.value().hits.size();
      } else if (++trove_errors <= 5) {
        std::fprintf(stderr, "search_bench: search \"%s\": %s\n", q.text.c_str(),
                     r.status().to_string().c_str());
      }
    }
    return {since_ms(t0), hits};
  };

  // Both passes are kept: the index caches the answer of a lone prefix ("c", "ch") for a while
  // (index/src/search.cpp), so the timed (second) pass mostly sees cache hits there, the first
  // pass the misses.
  std::vector<Timing> first_t(qs.size()), trove_t(qs.size()), xap_t(qs.size());
  for (size_t i = 0; i < qs.size(); ++i) first_t[i] = run_trove(qs[i]);
  trove_errors = 0;
  for (size_t i = 0; i < qs.size(); ++i) trove_t[i] = run_trove(qs[i]);
  const long rss_after_kb = peak_rss_kb();
  XapianQueries xq(xapian_dir);
  for (int pass = 0; pass < 2; ++pass) {
    xq.errors = 0;
    for (size_t i = 0; i < qs.size(); ++i) xap_t[i] = xq.run(qs[i]);
  }
  std::FILE* out = std::fopen(out_path.c_str(), "w");
  if (out == nullptr) die("cannot write " + out_path);
  for (size_t i = 0; i < qs.size(); ++i) {
    std::fprintf(out, "%zu\t%.4f\t%zu\t%.4f\t%zu\t%.4f\n", i + 1, trove_t[i].ms, trove_t[i].hits,
                 xap_t[i].ms, xap_t[i].hits, first_t[i].ms);
  }
  if (std::fclose(out) != 0) die("writing " + out_path + " failed");
  std::printf(
      "query_open_ms=%.1f\nquery_rss_open_kb=%ld\nquery_rss_kb=%ld\ntrove_errors=%zu\n"
      "xapian_query_errors=%zu\nindex_documents=%llu\n",
      open_ms, rss_open_kb, rss_after_kb, trove_errors, xq.errors,
      static_cast<unsigned long long>(idx.document_count()));
  return 0;
}

// Serves queries on stdin, one "search|suggest<TAB>text" per line, answering each with
// "<ms><TAB><hits><TAB><hash of the hit ids><TAB>ok|error" (flushed) after a first line "ready": bench/search_ab.py drives two of
// these, built from two commits, in alternating batches.
int pipe_mode(const std::string& data_dir) {
  auto store = trove::Store::open(data_dir);
  if (!store.ok()) die("Store::open: " + store.status().to_string());
  auto index = trove::CatalogIndex::open(data_dir + "/index");
  if (!index.ok()) die("CatalogIndex::open: " + index.status().to_string());
  if (auto st = index.value()->attach(*store.value()); !st.ok()) die("attach: " + st.to_string());
  const trove::CatalogIndex& idx = *index.value();
  std::printf("ready\n");
  std::fflush(stdout);
  std::string line;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, stdin)) {
    line = buf;
    if (!line.empty() && line.back() == '\n') line.pop_back();
    const size_t tab = line.find('\t');
    if (tab == std::string::npos) die("pipe: expected kind<TAB>text, got " + line);
    const std::string kind = line.substr(0, tab), text = line.substr(tab + 1);
    // The answer's ids in order, hashed (FNV-1a), so the driver sees a change of answers.
    uint64_t answer = 1469598103934665603ull;
    auto add = [&](const std::vector<trove::SearchHit>& hits) {
      for (const auto& h : hits) {
        for (unsigned char c : h.id + "\n") answer = (answer ^ c) * 1099511628211ull;
      }
    };
    const auto t0 = Clock::now();
    size_t hits = 0;
    bool ok = true;
    double ms = 0;
    if (kind == "suggest") {
      trove::SuggestRequest req;
      req.q = text;
      auto r = idx.suggest(req);
      ms = since_ms(t0);
      ok = r.ok();
      if (ok) hits = r.value().items.size(), add(r.value().items);
    } else {
      trove::SearchRequest req;
      req.q = text;
      auto r = idx.search(req);
      ms = since_ms(t0);
      ok = r.ok();
      if (ok) hits = r.value().hits.size(), add(r.value().hits);
    }
    std::printf("%.4f\t%zu\t%016llx\t%s\n", ms, hits, static_cast<unsigned long long>(answer),
                ok ? "ok" : "error");
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::setlocale(LC_ALL, "C.UTF-8");  // iswalnum over all of Unicode
  const std::vector<std::string> a(argv + 1, argv + argc);
  try {
    if (a.size() == 3 && a[0] == "xapian-import") return xapian_import(a[1], a[2]);
    if (a.size() >= 4 && a.size() <= 7 && a[0] == "make-queries") {
      const uint64_t seed = a.size() > 4 ? std::stoull(a[4]) : 20261126;
      const size_t search_n = a.size() > 5 ? std::stoul(a[5]) : 2000;
      const size_t suggest_min = a.size() > 6 ? std::stoul(a[6]) : 3000;
      return make_queries(a[1], a[2], a[3], seed, search_n, suggest_min);
    }
    if (a.size() == 5 && a[0] == "latency") return latency(a[1], a[2], a[3], a[4]);
    if (a.size() == 2 && a[0] == "pipe") return pipe_mode(a[1]);
    if ((a.size() == 4 || a.size() == 5) && a[0] == "report") {
      return trove_bench::report(a[1], a[2], a[3], a.size() == 5 ? a[4] : "");
    }
  } catch (const Xapian::Error& e) {
    die("Xapian: " + e.get_description());
  } catch (const std::exception& e) {
    die(e.what());
  }
  std::fprintf(stderr,
               "usage: search_bench xapian-import FILE DB_DIR\n"
               "       search_bench make-queries FILE QUERIES_OUT PG_ROWS_OUT [SEED [SEARCH_N "
               "[SUGGEST_MIN]]]\n"
               "       search_bench latency DATA_DIR XAPIAN_DB QUERIES LATENCY_OUT\n"
               "       search_bench pipe DATA_DIR   (queries on stdin; bench/search_ab.py)\n"
               "       search_bench report FIGURES QUERIES LATENCY [PG_LATENCY]\n"
               "Run by bench/search.sh, which says what each figure means.\n");
  return 2;
}
