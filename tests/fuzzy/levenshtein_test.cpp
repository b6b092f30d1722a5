// LevenshteinAutomaton unit tests and a property test against the plain DP oracle.
#include "trove/fuzzy/levenshtein.h"

#include <catch2/catch.hpp>
#include <random>

#include "fuzzy_oracle.h"
#include "trove/fuzzy/utf8.h"

using trove::fuzzy::LevenshteinAutomaton;
using trove::fuzzy::LevenshteinOptions;

namespace {

uint8_t dist(std::string_view q, std::string_view t, LevenshteinOptions o) {
  return LevenshteinAutomaton(q, o).evaluate(t);
}

LevenshteinAutomaton::State run(const LevenshteinAutomaton& a, std::u32string_view s) {
  auto st = a.start();
  for (char32_t c : s) st = a.step(st, c);
  return st;
}

}  // namespace

TEST_CASE("automaton start, step, is_match and can_match follow the query", "[fuzzy]") {
  const LevenshteinAutomaton a("abc", {.max_distance = 1});
  auto s = a.start();
  CHECK_FALSE(a.is_match(s));  // "" is 3 deletions away
  CHECK(a.can_match(s));
  s = a.step(s, 'a');
  s = a.step(s, 'b');
  CHECK(a.is_match(s));  // "ab": one deletion
  CHECK(a.distance(s) == 1);
  s = a.step(s, 'c');
  CHECK(a.is_match(s));
  CHECK(a.distance(s) == 0);
  s = a.step(s, 'd');
  CHECK(a.distance(s) == 1);  // "abcd"
  s = a.step(s, 'e');
  CHECK_FALSE(a.is_match(s));  // "abcde": 2
  CHECK_FALSE(a.can_match(s));
  // Two substitutions early: dead before the end.
  auto t = a.step(a.step(a.start(), 'x'), 'y');
  CHECK_FALSE(a.can_match(t));
  CHECK(a.distance(a.start()) == 2);  // k + 1 means "no match"
}

TEST_CASE("automaton accepts one transposition at distance 1", "[fuzzy]") {
  CHECK(dist("chocolate", "chocolaet", {.max_distance = 1}) == 1);
  CHECK(dist("chocolate", "hcocolate", {.max_distance = 1}) == 1);
  CHECK(dist("ab", "ba", {.max_distance = 1}) == 1);
  // Without transpositions a swap is two substitutions.
  CHECK(dist("chocolate", "chocolaet", {.max_distance = 1, .transpositions = false}) == 2);
  CHECK(dist("chocolate", "chocolaet", {.max_distance = 2, .transpositions = false}) == 2);
  // Optimal string alignment: "ca" -> "abc" is 3 (a swapped pair is not edited again).
  CHECK(dist("ca", "abc", {.max_distance = 3}) == 3);
}

TEST_CASE("automaton at k = 0 accepts exactly the query", "[fuzzy]") {
  const LevenshteinOptions o{.max_distance = 0};
  CHECK(dist("nutella", "nutella", o) == 0);
  CHECK(dist("nutella", "nutela", o) == 1);  // 1 = k + 1: no match
  CHECK(dist("nutella", "nutellas", o) == 1);
  const LevenshteinAutomaton a("nut", o);
  auto s = a.step(a.start(), 'n');
  CHECK(a.can_match(s));
  CHECK_FALSE(a.can_match(a.step(s, 'x')));
}

TEST_CASE("empty query matches candidates of at most k code points", "[fuzzy]") {
  const LevenshteinAutomaton a("", {.max_distance = 2});
  CHECK(a.distance(a.start()) == 0);
  CHECK(a.evaluate("é") == 1);
  CHECK(a.evaluate("ab") == 2);
  CHECK(a.evaluate("abc") == 3);
  const LevenshteinAutomaton p("", {.max_distance = 2, .prefix = true});
  CHECK(p.evaluate("anything") == 0);
  CHECK(p.is_sink(p.start()));
}

TEST_CASE("prefix mode matches when some prefix of the candidate is within k", "[fuzzy]") {
  const LevenshteinOptions o{.max_distance = 1, .prefix = true};
  CHECK(dist("choc", "chocolate", o) == 0);
  CHECK(dist("chco", "chocolate", o) == 1);  // transposed
  CHECK(dist("chocl", "chocolate", o) == 1);
  CHECK(dist("xyz", "chocolate", o) == 2);
  // The best prefix wins, even past a worse one.
  const LevenshteinAutomaton a("abc", o);
  auto s = run(a, U"ab");
  CHECK(a.distance(s) == 1);
  s = a.step(s, 'c');
  CHECK(a.distance(s) == 0);
  CHECK(a.is_sink(s));  // every extension matches at 0
  s = a.step(s, 'z');
  CHECK(a.distance(s) == 0);
}

TEST_CASE("a multi-byte code point is one edit", "[fuzzy]") {
  const LevenshteinOptions o{.max_distance = 2};
  CHECK(dist("creme", "crème", o) == 1);
  CHECK(dist("crème", "creme", o) == 1);
  CHECK(dist("brulee", "brûlée", o) == 2);
  CHECK(dist("cake", "cake😀", o) == 1);     // 4-byte emoji inserted
  CHECK(dist("c😀ke", "cake", o) == 1);      // substituted
  CHECK(dist("巧克力", "巧克", o) == 1);    // CJK deletion
  CHECK(dist("巧克力", "克巧力", o) == 1);  // CJK transposition
  CHECK(dist("шоколад", "шоколат", o) == 1);
  CHECK(dist("σοκολάτα", "σοκολατα", o) == 1);
  CHECK(trove::fuzzy::count_code_points("😀é") == 2);
}

TEST_CASE("byte stepping over UTF-8 equals code point stepping", "[fuzzy]") {
  const LevenshteinAutomaton a("crème brûlée 😀", {.max_distance = 2, .prefix = false});
  const std::string cand = "creme brûle 😀!";
  auto bs = a.start_bytes();
  for (char ch : cand) bs = a.step_byte(bs, static_cast<uint8_t>(ch));
  CHECK(bs.pending == 0);
  std::u32string cps;
  trove::fuzzy::decode_utf8(cand, &cps);
  const auto s = run(a, cps);
  CHECK(a.distance(bs.state) == a.distance(s));
  CHECK(a.distance(s) == 3);  // over k = 2: no match
  CHECK(a.evaluate(cand) == 3);
}

TEST_CASE("a typo on the first character counts double", "[fuzzy]") {
  const LevenshteinOptions k1{.max_distance = 1, .first_char_costs_double = true};
  const LevenshteinOptions k2{.max_distance = 2, .first_char_costs_double = true};
  CHECK(dist("chocolat", "xhocolat", k1) == 2);  // excluded at k = 1
  CHECK(dist("chocolat", "xhocolat", k2) == 2);
  CHECK(dist("chocolat", "hocolat", k2) == 2);    // first character deleted
  CHECK(dist("chocolat", "hcocolat", k2) == 2);   // first two swapped
  CHECK(dist("chocolat", "achocolat", k2) == 2);  // inserted before the first
  CHECK(dist("chocolat", "chocolta", k1) == 1);   // elsewhere: the usual cost
  CHECK(dist("chocolat", "xhocolta", k2) == 3);   // 2 + 1: over budget
  const LevenshteinOptions p1{.max_distance = 1, .prefix = true, .first_char_costs_double = true};
  CHECK(dist("choc", "chcolate", p1) == 1);
  CHECK(dist("choc", "xhocolate", p1) == 2);
  CHECK(dist("", "abc", {.max_distance = 3, .first_char_costs_double = true}) == 3);
}

TEST_CASE("automaton agrees with the oracle on random short strings", "[fuzzy]") {
  // Small alphabet (with multi-byte symbols) so that edits collide often.
  const std::u32string alphabet = U"abcé😀";
  std::mt19937_64 rng(7);
  auto random_string = [&](size_t max_len) {
    std::u32string s(rng() % (max_len + 1), U'a');
    for (auto& c : s) c = alphabet[rng() % alphabet.size()];
    return s;
  };
  int failures = 0;
  for (int iter = 0; iter < 6000 && failures < 5; ++iter) {
    const std::u32string q = random_string(7);
    // Half the candidates are near the query, half are random.
    const std::u32string t =
        iter % 2 ? random_string(9) : fuzzy_test::random_edits(q, iter % 4, rng);
    const std::string q8 = trove::fuzzy::encode_utf8(q), t8 = trove::fuzzy::encode_utf8(t);
    // Every other iteration also limits the edits before a random point of the query.
    const bool limited = iter % 4 >= 2;
    const auto head_length = static_cast<uint32_t>(rng() % (q.size() + 1));
    const auto head_pick = static_cast<uint8_t>(rng() % trove::fuzzy::kMaxEditDistance);
    for (uint8_t k = 0; k <= trove::fuzzy::kMaxEditDistance; ++k) {
      const uint8_t head_budget = limited ? static_cast<uint8_t>(head_pick % (k + 1)) : 3;
      for (bool tr : {false, true}) {
        for (bool prefix : {false, true}) {
          for (bool rule : {false, true}) {
            const LevenshteinOptions o{k, tr, prefix, rule, limited ? head_length : 0, head_budget};
            const LevenshteinAutomaton a(q8, o);
            // (The head limit is ignored together with the first-character rule.)
            auto want = [&](const std::u32string& cand) {
              const auto r = limited && !rule ? fuzzy_test::oracle_distance(
                                                    q, cand, tr, head_length, head_budget)
                                              : fuzzy_test::oracle_distance(q, cand, tr);
              int d = (prefix ? r.prefix : r.full) +
                      (rule ? fuzzy_test::first_char_penalty(q, cand) : 0);
              return static_cast<uint8_t>(std::min(d, k + 1));
            };
            // Every prefix of the candidate: distance, lower bound and can_match hold.
            auto s = a.start();
            bool dead = false;
            for (size_t j = 0; j <= t.size(); ++j) {
              if (j > 0) s = a.step(s, t[j - 1]);
              const std::u32string p = t.substr(0, j);
              const uint8_t w = want(p);
              const bool ok = a.distance(s) == w && a.lower_bound(s) <= w &&
                              (!dead || w == k + 1) && (!a.is_sink(s) || want(t) == w);
              if (!a.can_match(s)) dead = true;
              // Without a head limit a pending swap is always a live position too.
              if (!limited && (s.transpose & ~s.live) != 0) {
                ++failures;
                FAIL_CHECK("pending swap not live: q=" << q8 << " t=" << t8 << " at " << j);
              }
              // The walk's early exits never drop a candidate that matches.
              const uint8_t whole = want(t);
              if (whole <= k) {
                const bool need_ok = t.size() - j >= a.min_remaining(s);
                uint64_t allowed[4];
                bool forced_ok = true;
                if (j < t.size() && a.forced_lead_bytes(s, allowed)) {
                  std::string next;
                  trove::fuzzy::append_utf8(t[j], &next);
                  const auto lead = static_cast<uint8_t>(next[0]);
                  forced_ok = (allowed[lead >> 6] >> (lead & 63)) & 1;
                }
                bool tail_ok = true;
                std::string_view rest;
                if (a.exact_tail(s, &rest)) {
                  const std::string cont(rest);
                  const std::string after = trove::fuzzy::encode_utf8(t.substr(j));
                  tail_ok = whole == k && (prefix ? after.starts_with(cont) : after == cont);
                }
                if (!need_ok || !forced_ok || !tail_ok) {
                  ++failures;
                  FAIL_CHECK("early exit lost q="
                             << q8 << " t=" << t8 << " at " << j << " k=" << int{k} << " tr=" << tr
                             << " prefix=" << prefix << " rule=" << rule << " need=" << need_ok
                             << " forced=" << forced_ok << " tail=" << tail_ok);
                }
              }
              if (!ok) {
                ++failures;
                FAIL_CHECK("q=" << q8 << " t=" << t8 << " prefix of " << j << " k=" << int{k}
                                << " head " << o.head_length << "/" << int{o.head_budget}
                                << " tr=" << tr << " prefix=" << prefix << " rule=" << rule
                                << ": distance " << int{a.distance(s)} << " want " << int{w}
                                << " lower_bound " << int{a.lower_bound(s)});
              }
            }
            CHECK(a.evaluate(t8) == want(t));
          }
        }
      }
    }
  }
  CHECK(failures == 0);
}

TEST_CASE("automaton handles queries longer than 64 code points", "[fuzzy]") {
  std::string q;
  for (int i = 0; i < 150; ++i) q.push_back(static_cast<char>('a' + (i * 7) % 26));
  std::string t = q;
  t.erase(100, 1);
  t[130] = 'Z';
  std::swap(t[10], t[11]);
  CHECK(dist(q, t, {.max_distance = 3}) == 3);
  CHECK(dist(q, t, {.max_distance = 2}) == 3);
  CHECK(dist(q, q, {.max_distance = 1}) == 0);
}
