// LiveDictionary: delta visibility, merge equivalence, concurrent search during merge.
#include "trove/fuzzy/live_dictionary.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <limits>
#include <map>
#include <random>
#include <thread>

using trove::fuzzy::FuzzyMatch;
using trove::fuzzy::LevenshteinOptions;
using trove::fuzzy::LiveDictionary;
using trove::fuzzy::TermDictionary;
using trove::fuzzy::TermFrequencies;

namespace {

constexpr size_t kUnlimited = std::numeric_limits<size_t>::max();

std::shared_ptr<const TermDictionary> make_base(TermFrequencies tf) {
  return std::make_shared<const TermDictionary>(std::move(tf));
}

std::string random_word(std::mt19937_64& rng) {
  std::string w;
  const int len = 3 + static_cast<int>(rng() % 5);
  for (int i = 0; i < len; ++i) w.push_back(static_cast<char>('a' + rng() % 6));
  return w;
}

}  // namespace

TEST_CASE("live dictionary finds added terms immediately", "[fuzzy]") {
  LiveDictionary live(make_base({{"chocolate", 10}, {"cheese", 5}}));
  CHECK(live.search("oatly", {.max_distance = 1}, 10).empty());
  live.add("oatly", 3);
  auto m = live.search("otaly", {.max_distance = 1}, 10);
  REQUIRE(m.size() == 1);
  CHECK(m[0] == FuzzyMatch{"oatly", 1, 3});
  CHECK(live.contains("oatly"));
  CHECK(live.frequency("chocolate") == 10);
  CHECK(live.prefix_terms("oa", 5) == std::vector<FuzzyMatch>{{"oatly", 0, 3}});
  CHECK(live.delta_size() == 1);
}

TEST_CASE("live dictionary applies frequency changes and removals", "[fuzzy]") {
  LiveDictionary live(make_base({{"chocolate", 10}, {"chocolat", 8}, {"cheese", 5}}));
  live.add("chocolat", 5);  // 13: now above chocolate at the same distance
  auto m = live.search("chocolatx", {.max_distance = 2}, 10);
  REQUIRE(m.size() == 2);
  CHECK(m[0] == FuzzyMatch{"chocolat", 1, 13});
  CHECK(m[1] == FuzzyMatch{"chocolate", 1, 10});
  live.add("chocolate", -10);  // removed
  CHECK_FALSE(live.contains("chocolate"));
  m = live.search("chocolatx", {.max_distance = 2}, 10);
  REQUIRE(m.size() == 1);
  CHECK(m[0].term == "chocolat");
  // A limit-1 search must not lose the overridden term's replacement.
  live.add("cheese", 100);
  CHECK(live.prefix_terms("", 1) == std::vector<FuzzyMatch>{{"cheese", 0, 105}});
  live.merge();
  CHECK(live.delta_size() == 0);
  CHECK_FALSE(live.base()->contains("chocolate"));
  CHECK(live.base()->frequency("chocolat") == 13);
  CHECK(live.prefix_terms("", 1) == std::vector<FuzzyMatch>{{"cheese", 0, 105}});
}

TEST_CASE("merge keeps every search result identical", "[fuzzy]") {
  std::mt19937_64 rng(11);
  TermFrequencies tf;
  std::map<std::string, int64_t> reference;
  for (int i = 0; i < 3000; ++i) {
    const std::string w = random_word(rng);
    const auto f = static_cast<int64_t>(1 + rng() % 50);
    tf.emplace_back(w, f);
    reference[w] += f;
  }
  LiveDictionary live(make_base(tf));
  for (int i = 0; i < 800; ++i) {
    const std::string w = random_word(rng);
    int64_t delta = static_cast<int64_t>(rng() % 20) - 5;
    // Never take a term below zero, so the reference needs no clamping.
    if (reference[w] + delta < 0) delta = -reference[w];
    live.add(w, delta);
    reference[w] += delta;
  }
  TermFrequencies expected_terms;
  for (const auto& [w, f] : reference) {
    if (f > 0) expected_terms.emplace_back(w, static_cast<uint64_t>(f));
  }
  const TermDictionary expected(std::move(expected_terms));

  std::vector<std::string> queries;
  for (int i = 0; i < 200; ++i) queries.push_back(random_word(rng));
  auto check_all = [&](const char* when) {
    for (const auto& q : queries) {
      for (bool prefix : {false, true}) {
        for (size_t limit : {size_t{5}, kUnlimited}) {
          const LevenshteinOptions o{.max_distance = 1, .prefix = prefix};
          INFO(when << ": query " << q << " prefix=" << prefix << " limit=" << limit);
          REQUIRE(live.search(q, o, limit) == expected.search(q, o, limit));
        }
      }
      REQUIRE(live.prefix_terms(q.substr(0, 2), 7) == expected.prefix_terms(q.substr(0, 2), 7));
    }
  };
  check_all("before merge");
  live.merge();
  CHECK(live.delta_size() == 0);
  CHECK(live.base()->size() == expected.size());
  check_all("after merge");
}

TEST_CASE("concurrent searches during adds and merges are safe", "[fuzzy][slow]") {
  TermFrequencies tf;
  for (int i = 0; i < 20000; ++i) tf.emplace_back("base" + std::to_string(i), 1);
  LiveDictionary live(make_base(tf));
  std::atomic<bool> stop{false};
  std::atomic<int> added{0};
  std::atomic<int> bad{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&, r] {
      std::mt19937_64 rng(static_cast<uint64_t>(r));
      while (!stop.load()) {
        // A base term is always there, at distance 0.
        const std::string b = "base" + std::to_string(rng() % 20000);
        const auto m = live.search(b, {.max_distance = 1}, 3);
        if (m.empty() || m[0].term != b || m[0].distance != 0) ++bad;
        // A term whose add() returned before this search began is visible.
        const int n = added.load();
        if (n > 0) {
          const std::string t = "new" + std::to_string(rng() % n);
          if (!live.contains(t)) ++bad;
          const auto p = live.prefix_terms(t, 1);
          if (p.empty() || p[0].term != t) ++bad;
        }
      }
    });
  }
  std::thread merger([&] {
    while (!stop.load()) {
      live.merge();
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  for (int i = 0; i < 3000; ++i) {
    live.add("new" + std::to_string(i), 1);
    added.store(i + 1);
    if (i % 100 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  stop.store(true);
  for (auto& t : readers) t.join();
  merger.join();
  CHECK(bad.load() == 0);
  live.merge();
  CHECK(live.base()->size() == 23000);
  CHECK(live.delta_size() == 0);
}
