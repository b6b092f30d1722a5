// TermDictionary: construction, lookups, ranking, prefix completion, Unicode terms.
#include "trove/fuzzy/term_dictionary.h"

#include <catch2/catch.hpp>
#include <cstdio>
#include <limits>
#include <random>

#include "fuzzy_oracle.h"
#include "trove/fuzzy/utf8.h"

using trove::fuzzy::FuzzyMatch;
using trove::fuzzy::LevenshteinOptions;
using trove::fuzzy::TermDictionary;
using trove::fuzzy::TermFrequencies;

namespace {

constexpr size_t kUnlimited = std::numeric_limits<size_t>::max();

std::vector<std::string> terms_of(const std::vector<FuzzyMatch>& v) {
  std::vector<std::string> out;
  for (const auto& m : v) out.push_back(m.term);
  return out;
}

// Lower-cased words of Open Food Facts product names (the first `lines` products), or a
// built-in multilingual list when the data set or zstd is absent.
std::vector<std::string> food_words(size_t lines) {
  std::vector<std::string> words;
  const std::string path = fuzzy_test::shared_data_dir() + "/openfoodfacts/products.jsonl.zst";
  if (std::FILE* probe = std::fopen(path.c_str(), "rb")) {
    std::fclose(probe);
    std::string cmd = "zstd -dc '";
    cmd += path;
    cmd += "' 2>/dev/null | head -n ";
    cmd += std::to_string(lines);
    if (std::FILE* p = popen(cmd.c_str(), "r")) {
      char buf[1 << 16];
      while (std::fgets(buf, sizeof buf, p)) {
        // Only the "name" field; good enough for words: split on anything not a letter.
        std::string line(buf);
        const size_t at = line.find("\"name\": \"");
        if (at == std::string::npos) continue;
        const size_t start = at + 9, end = line.find('"', start);
        std::u32string name;
        trove::fuzzy::decode_utf8(line.substr(start, end - start), &name);
        name = fuzzy_test::simple_lower(name);
        std::u32string word;
        for (char32_t c : name) {
          const bool letter =
              (c >= 'a' && c <= 'z') ||
              (c >= 0xC0 && c != 0xD7 && c != 0xF7 && c != 0xFFFD && !(c >= 0x2000 && c < 0x3040));
          if (letter) {
            word.push_back(c);
          } else if (!word.empty()) {
            words.push_back(trove::fuzzy::encode_utf8(word));
            word.clear();
          }
        }
        if (!word.empty()) words.push_back(trove::fuzzy::encode_utf8(word));
      }
      pclose(p);
    }
  }
  if (words.size() < 100) {
    words = {"crème",  "brûlée", "pâté",     "café",    "müsli",  "jalapeño", "smørrebrød",
             "ñoquis", "garçon", "fraîche",  "шоколад", "молоко", "σοκολάτα", "巧克力",
             "牛奶",   "抹茶",   "ラーメン", "김치",    "حليب",   "chocolat", "chocolate",
             "creme",  "cafe",   "pate",     "muesli",  "brulee", "noquis",   "matcha"};
  }
  return words;
}

}  // namespace

TEST_CASE("dictionary sorts, merges duplicates and drops invalid terms", "[fuzzy]") {
  const TermDictionary d(TermFrequencies{
      {"pear", 2}, {"apple", 3}, {"pear", 5}, {"", 9}, {"bad\xff", 1}, {"zero", 0}, {"apples", 1}});
  CHECK(d.size() == 3);
  CHECK(d.dropped_terms() == 4);  // the second "pear", "", invalid UTF-8, frequency 0
  CHECK(d.frequency("pear") == 7);
  CHECK(d.frequency("apple") == 3);
  CHECK(d.contains("apples"));
  CHECK_FALSE(d.contains("appl"));
  CHECK_FALSE(d.contains("applesauce"));
  CHECK_FALSE(d.contains(""));
  CHECK(d.frequency("zero") == 0);
  std::vector<std::string> seen;
  d.for_each([&](std::string_view t, uint64_t) { seen.emplace_back(t); });
  CHECK(seen == std::vector<std::string>{"apple", "apples", "pear"});
}

TEST_CASE("an empty dictionary answers every lookup with nothing", "[fuzzy]") {
  const TermDictionary d;
  CHECK(d.size() == 0);
  CHECK(d.search("x", {.max_distance = 2, .prefix = true}, 10).empty());
  CHECK(d.prefix_terms("", 10).empty());
  CHECK_FALSE(d.contains("x"));
  const TermDictionary e(TermFrequencies{});
  CHECK(e.search("", {.max_distance = 2, .prefix = true}, 10).empty());
}

TEST_CASE("search ranks by distance, then frequency, then term", "[fuzzy]") {
  const TermDictionary d(TermFrequencies{{"chocolate", 812},
                                         {"chocolat", 95},
                                         {"choco", 40},
                                         {"chocolats", 95},
                                         {"hot chocolate", 7}});
  const auto m = d.search("chocolat", {.max_distance = 1}, 10);
  REQUIRE(m.size() == 3);
  CHECK(m[0] == FuzzyMatch{"chocolat", 0, 95});
  CHECK(m[1] == FuzzyMatch{"chocolate", 1, 812});
  CHECK(m[2] == FuzzyMatch{"chocolats", 1, 95});
  CHECK(terms_of(d.search("chocolat", {.max_distance = 1}, 2)) ==
        std::vector<std::string>{"chocolat", "chocolate"});
  CHECK(d.search("chocolat", {.max_distance = 1}, 0).empty());
}

TEST_CASE("prefix mode returns whole terms at their best prefix distance", "[fuzzy]") {
  const TermDictionary d(TermFrequencies{
      {"chocolate", 812}, {"chocolat", 95}, {"choco", 40}, {"cheese", 300}, {"coconut", 10}});
  const auto m = d.search("chocl", {.max_distance = 1, .prefix = true}, 10);
  CHECK(m == std::vector<FuzzyMatch>{{"chocolate", 1, 812}, {"chocolat", 1, 95}, {"choco", 1, 40}});
  const auto exact = d.search("choco", {.max_distance = 0, .prefix = true}, 10);
  CHECK(terms_of(exact) == std::vector<std::string>{"chocolate", "chocolat", "choco"});
  // Limited: the most frequent among the closest.
  CHECK(terms_of(d.search("c", {.max_distance = 1, .prefix = true}, 2)) ==
        std::vector<std::string>{"chocolate", "cheese"});
}

TEST_CASE("a top-k search drops distance-k terms only when closer ones fill it", "[fuzzy]") {
  // The walk sets aside subtrees that can only end at distance k and skips them when the
  // closer matches already fill the limit; a very frequent distance-2 term must then stay
  // out, and come back as soon as the limit leaves room for it.
  TermFrequencies tf{{"tapes", 1}, {"tape", 1}, {"taped", 1}, {"capes", 1}, {"toxes", 1000000}};
  const TermDictionary d(std::move(tf));
  const LevenshteinOptions o{.max_distance = 2};
  CHECK(terms_of(d.search("tapes", o, 3)) == std::vector<std::string>{"tapes", "capes", "tape"});
  CHECK(terms_of(d.search("tapes", o, 4)) ==
        std::vector<std::string>{"tapes", "capes", "tape", "taped"});
  CHECK(terms_of(d.search("tapes", o, 5)) ==
        std::vector<std::string>{"tapes", "capes", "tape", "taped", "toxes"});
  // Prefix mode, k = 1: three terms start with "tap" (distance 0), "capes" is at 1.
  const LevenshteinOptions p{.max_distance = 1, .prefix = true};
  CHECK(terms_of(d.search("tap", p, 3)) == std::vector<std::string>{"tape", "taped", "tapes"});
  CHECK(terms_of(d.search("tap", p, 10)) ==
        std::vector<std::string>{"tape", "taped", "tapes", "capes"});
}

TEST_CASE("long terms below tall subtrees are found (heights saturate)", "[fuzzy]") {
  const std::string long_term = "antidisestablishmentarianism";
  const TermDictionary d(TermFrequencies{{long_term, 1}, {"anti", 5}, {"antidote", 3}});
  CHECK(terms_of(d.search("antidisestablishmentarianizm", {.max_distance = 1}, 10)) ==
        std::vector<std::string>{long_term});
  CHECK(terms_of(d.search("antidisestablishmentarinism", {.max_distance = 2}, 10)) ==
        std::vector<std::string>{long_term});
  CHECK(terms_of(d.search("antidisestablishmentarianism", {.max_distance = 0}, 10)) ==
        std::vector<std::string>{long_term});
}

TEST_CASE("prefix_terms returns the most frequent completions", "[fuzzy]") {
  const TermDictionary d(TermFrequencies{
      {"chocolate", 812}, {"chocolat", 95}, {"choco", 40}, {"cheese", 300}, {"chocolatine", 95}});
  CHECK(terms_of(d.prefix_terms("choc", 3)) ==
        std::vector<std::string>{"chocolate", "chocolat", "chocolatine"});
  CHECK(terms_of(d.prefix_terms("", 2)) == std::vector<std::string>{"chocolate", "cheese"});
  CHECK(d.prefix_terms("chocolate", 5).size() == 1);
  CHECK(d.prefix_terms("x", 5).empty());
  CHECK(d.prefix_terms("choc", 1)[0] == FuzzyMatch{"chocolate", 0, 812});
}

TEST_CASE("accented and non-Latin food words are found at the right distances", "[fuzzy]") {
  const std::vector<std::string> words = food_words(20000);
  TermFrequencies tf;
  for (const auto& w : words) tf.emplace_back(w, 1);
  // Make sure the classic pairs are present whatever the data gave.
  for (const char* w : {"crème", "creme", "brûlée", "巧克力", "шоколад", "gâteau😀"}) {
    tf.emplace_back(w, 1);
  }
  const TermDictionary d(std::move(tf));
  std::vector<std::string> distinct;
  d.for_each([&](std::string_view t, uint64_t) { distinct.emplace_back(t); });
  size_t non_ascii = 0;
  for (const auto& w : distinct) non_ascii += trove::fuzzy::count_code_points(w) != w.size();
  INFO(distinct.size() << " distinct words, " << non_ascii << " with non-ASCII letters");
  CHECK(non_ascii >= 6);

  auto distance_to = [&](const std::string& q, const std::string& t, uint8_t k) -> int {
    for (const auto& m : d.search(q, {.max_distance = k}, kUnlimited)) {
      if (m.term == t) return m.distance;
    }
    return -1;
  };
  CHECK(distance_to("creme", "crème", 1) == 1);
  CHECK(distance_to("crème", "creme", 1) == 1);
  CHECK(distance_to("brulee", "brûlée", 2) == 2);
  CHECK(distance_to("巧克", "巧克力", 1) == 1);
  CHECK(distance_to("шоколат", "шоколад", 1) == 1);
  CHECK(distance_to("gateau", "gâteau😀", 2) == 2);
  CHECK(distance_to("gâteau", "gâteau😀", 1) == 1);

  // Property: random edits of the non-ASCII words agree with the oracle over this list.
  std::vector<std::u32string> terms32;
  for (const auto& w : distinct) {
    std::u32string c;
    trove::fuzzy::decode_utf8(w, &c);
    terms32.push_back(std::move(c));
  }
  fuzzy_test::ListOracle oracle(terms32);
  std::mt19937_64 rng(99);
  int failures = 0;
  for (int i = 0; i < 300 && failures < 5; ++i) {
    const std::u32string* base;
    do {
      base = &terms32[rng() % terms32.size()];
    } while (trove::fuzzy::encode_utf8(*base).size() == base->size() && rng() % 8 != 0);
    const std::u32string q = fuzzy_test::random_edits(*base, i % 3, rng);
    const auto& rows = oracle.run(q);
    for (bool prefix : {false, true}) {
      const LevenshteinOptions o{.max_distance = 2, .prefix = prefix};
      std::vector<std::pair<std::string, int>> want, got;
      for (size_t t = 0; t < rows.size(); ++t) {
        const int dd = prefix ? rows[t].osa_prefix : rows[t].osa_full;
        if (dd <= 2) want.emplace_back(distinct[t], dd);
      }
      for (const auto& m : d.search(trove::fuzzy::encode_utf8(q), o, kUnlimited)) {
        got.emplace_back(m.term, m.distance);
      }
      std::sort(got.begin(), got.end());
      if (want != got) {
        ++failures;
        FAIL_CHECK("query " << trove::fuzzy::encode_utf8(q) << " prefix=" << prefix << ": "
                            << want.size() << " expected, " << got.size() << " found");
      }
    }
  }
  CHECK(failures == 0);
}

TEST_CASE("memory per term stays small", "[fuzzy]") {
  TermFrequencies tf;
  std::mt19937_64 rng(3);
  for (int i = 0; i < 50000; ++i) {
    std::string w;
    const int len = 4 + static_cast<int>(rng() % 8);
    for (int j = 0; j < len; ++j) w.push_back(static_cast<char>('a' + rng() % 26));
    tf.emplace_back(w, 1 + rng() % 100);
  }
  const TermDictionary d(std::move(tf));
  const double per_term = static_cast<double>(d.memory_bytes()) / static_cast<double>(d.size());
  INFO(per_term << " bytes per term, " << d.node_count() << " nodes");
  // Random strings share little: this is a worst case for a trie, still a fraction of 617.
  CHECK(per_term < 128.0);
}

TEST_CASE("a vocabulary past the trie's node limit keeps its most frequent terms and counts "
          "the rest as dropped", "[fuzzy][slow]") {
  // 2,300,000 terms of 30 bytes: 69 MB of term bytes, past the 2^26-node bound.
  constexpr size_t kTerms = 2'300'000;
  trove::fuzzy::TermFrequencies terms;
  terms.reserve(kTerms);
  char buf[32];
  for (size_t i = 0; i < kTerms; ++i) {
    std::snprintf(buf, sizeof buf, "t%029zu", i);
    terms.emplace_back(buf, i + 1);  // later terms are more frequent
  }
  trove::fuzzy::TermDictionary dict(std::move(terms));
  const size_t kept = (size_t{1} << 26) / 30;  // terms of 30 bytes under 2^26 bytes
  CHECK(dict.size() + dict.dropped_terms() == kTerms);
  CHECK(dict.size() >= kept - 1);
  CHECK(dict.size() <= kept);
  std::snprintf(buf, sizeof buf, "t%029zu", kTerms - 1);
  CHECK(dict.contains(buf));  // the most frequent stays
  std::snprintf(buf, sizeof buf, "t%029zu", size_t{0});
  CHECK_FALSE(dict.contains(buf));  // the least frequent went
}
