// LevenshteinDfa: the lazily determinized automaton must describe, state by state, exactly the
// State the automaton itself reaches (with every non-matching State folded into kDead), and
// its caches must survive reuse: the same candidate run again, other candidates interleaved,
// reset() onto another query.
#include "trove/fuzzy/levenshtein_dfa.h"

#include <catch2/catch.hpp>
#include <random>

#include "fuzzy_oracle.h"
#include "trove/fuzzy/utf8.h"

using trove::fuzzy::LevenshteinAutomaton;
using trove::fuzzy::LevenshteinDfa;
using trove::fuzzy::LevenshteinOptions;

namespace {

bool same_state(const LevenshteinAutomaton::State& a, const LevenshteinAutomaton::State& b) {
  return a.live == b.live && a.transpose == b.transpose && a.depth == b.depth && a.best == b.best;
}

// Runs `t` through both; returns a description of the first disagreement, or "".
// `probes`: characters to check lead_bytes() against at every step.
std::string compare_run(const LevenshteinAutomaton& a, LevenshteinDfa& dfa, const std::u32string& t,
                        std::u32string_view probes) {
  const auto at = [](size_t j) { return std::to_string(j); };
  auto s = a.start();
  auto d = dfa.start();
  for (size_t j = 0;; ++j) {
    if (!a.can_match(s)) {
      if (d != LevenshteinDfa::kDead)
        return "dfa alive where the automaton is dead at " + std::to_string(j);
      return "";
    }
    if (d == LevenshteinDfa::kDead)
      return "dfa dead where the automaton lives at " + std::to_string(j);
    if (!same_state(dfa.state(d), s)) return "different state at " + std::to_string(j);
    if (dfa.distance(d) != a.distance(s) || dfa.is_match(d) != a.is_match(s) ||
        dfa.lower_bound(d) != a.lower_bound(s) || dfa.is_sink(d) != a.is_sink(s) ||
        dfa.min_remaining(d) != a.min_remaining(s) || dfa.depth(d) != s.depth) {
      return "different derived values at " + std::to_string(j);
    }
    // lead_bytes: the automaton's forced set when it has one; otherwise null or a superset of
    // the first bytes of every character that keeps the state alive.
    uint64_t forced[4];
    int highest = 0;
    const uint64_t* lead = dfa.lead_bytes(d, &highest);
    const bool is_forced = a.forced_lead_bytes(s, forced);
    if (is_forced && lead == nullptr) return "lead_bytes lost the forced set at " + at(j);
    if (lead != nullptr) {
      int want_highest = -1;
      for (int b = 0; b < 256; ++b) {
        const bool in_lead = (lead[b >> 6] >> (b & 63)) & 1;
        if (is_forced && in_lead != (((forced[b >> 6] >> (b & 63)) & 1) != 0)) {
          return "lead set differs from the forced set at " + at(j);
        }
        if (in_lead) want_highest = b;
      }
      if (highest != want_highest) return "highest lead byte differs at " + at(j);
      for (char32_t c : probes) {
        std::string utf8;
        trove::fuzzy::append_utf8(c, &utf8);
        const auto b = static_cast<uint8_t>(utf8[0]);
        if (a.can_match(a.step(s, c)) && !((lead[b >> 6] >> (b & 63)) & 1)) {
          return "lead_bytes drops a live character at " + at(j);
        }
      }
    }
    std::string_view rest_a, rest_d;
    const bool tail_a = a.exact_tail(s, &rest_a);
    if (tail_a != dfa.exact_tail(d, &rest_d) || (tail_a && rest_a != rest_d)) {
      return "exact_tail disagrees at " + std::to_string(j);
    }
    if (j == t.size()) return "";
    s = a.step(s, t[j]);
    d = dfa.step(d, t[j]);
  }
}

}  // namespace

TEST_CASE("dfa follows the automaton state by state on random strings", "[fuzzy]") {
  // A small alphabet with multi-byte symbols, plus characters the queries never contain
  // (they share the "other" class).
  const std::u32string alphabet = U"abcé😀";
  const std::u32string strangers = U"xyzñ中";
  std::mt19937_64 rng(11);
  auto random_string = [&](size_t max_len, const std::u32string& from) {
    std::u32string s(rng() % (max_len + 1), U'a');
    for (auto& c : s) c = from[rng() % from.size()];
    return s;
  };
  int failures = 0;
  LevenshteinDfa dfa;  // one object, reset() for every automaton: the buffers are reused
  for (int iter = 0; iter < 1500 && failures < 5; ++iter) {
    const std::u32string q = random_string(8, alphabet);
    const std::string q8 = trove::fuzzy::encode_utf8(q);
    const bool limited = iter % 4 >= 2;
    const auto head_length = static_cast<uint32_t>(rng() % (q.size() + 1));
    const auto head_pick = static_cast<uint8_t>(rng() % trove::fuzzy::kMaxEditDistance);
    // Candidates: near the query, random, and with characters absent from it.
    std::vector<std::u32string> cands;
    for (int c = 0; c < 6; ++c) {
      cands.push_back(c % 3 == 0   ? fuzzy_test::random_edits(q, c % 4, rng)
                      : c % 3 == 1 ? random_string(10, alphabet)
                                   : random_string(10, alphabet + strangers));
    }
    for (uint8_t k = 0; k <= trove::fuzzy::kMaxEditDistance; ++k) {
      const uint8_t head_budget = limited ? static_cast<uint8_t>(head_pick % (k + 1)) : 3;
      for (bool tr : {false, true}) {
        for (bool prefix : {false, true}) {
          for (bool rule : {false, true}) {
            const LevenshteinOptions o{k, tr, prefix, rule, limited ? head_length : 0, head_budget};
            const LevenshteinAutomaton a(q8, o);
            dfa.reset(a);
            // Twice over the same candidates: the second pass runs on cached transitions.
            for (int pass = 0; pass < 2; ++pass) {
              for (const auto& t : cands) {
                const std::string why = compare_run(a, dfa, t, alphabet + strangers);
                if (!why.empty()) {
                  ++failures;
                  FAIL_CHECK("q=" << q8 << " t=" << trove::fuzzy::encode_utf8(t) << " k=" << int{k}
                                  << " tr=" << tr << " prefix=" << prefix << " rule=" << rule
                                  << " head " << o.head_length << "/" << int{o.head_budget}
                                  << " pass " << pass << ": " << why);
                }
              }
            }
          }
        }
      }
    }
  }
  CHECK(failures == 0);
}

TEST_CASE("dfa caches transitions and interns each state once", "[fuzzy]") {
  const LevenshteinAutomaton a("chocolat", {.max_distance = 2});
  LevenshteinDfa dfa(a);
  auto run = [&](std::u32string_view t) {
    auto s = dfa.start();
    for (char32_t c : t) {
      if (s == LevenshteinDfa::kDead) break;
      s = dfa.step(s, c);
    }
    return s;
  };
  const auto s1 = run(U"chocloate");
  CHECK(dfa.is_match(s1));
  CHECK(dfa.distance(s1) == 2);
  const size_t states = dfa.state_count(), filled = dfa.transitions_filled();
  CHECK(run(U"chocloate") == s1);  // the same path again: nothing new
  CHECK(dfa.state_count() == states);
  CHECK(dfa.transitions_filled() == filled);
  // Characters absent from the query share one class, hence one transition per state.
  CHECK(dfa.char_class('x') == dfa.char_class(U'中'));
  CHECK(dfa.char_class('x') == dfa.other_class());
  CHECK(dfa.char_class('c') != dfa.other_class());
  CHECK(dfa.class_count() == 7);  // c h o l a t + other
  const auto sx = run(U"chocxlat");
  const size_t after_x = dfa.transitions_filled();
  CHECK(run(U"chocqlat") == sx);
  CHECK(dfa.transitions_filled() == after_x);
  CHECK(dfa.distance(sx) == 1);
  // Far off: dead, and dead stays the one id.
  CHECK(run(U"zzzzzz") == LevenshteinDfa::kDead);
  CHECK_FALSE(dfa.can_match(LevenshteinDfa::kDead));
}

TEST_CASE("dfa reset onto another query forgets the old states", "[fuzzy]") {
  const LevenshteinAutomaton a("abc", {.max_distance = 1});
  const LevenshteinAutomaton b("xyz", {.max_distance = 1, .prefix = true});
  LevenshteinDfa dfa(a);
  auto s = dfa.step(dfa.step(dfa.step(dfa.start(), 'a'), 'b'), 'c');
  CHECK(dfa.distance(s) == 0);
  dfa.reset(b);
  CHECK(dfa.state_count() == 2);  // kDead and the start state
  s = dfa.step(dfa.step(dfa.start(), 'x'), 'y');
  CHECK(dfa.distance(s) == 1);
  s = dfa.step(dfa.step(s, 'z'), 'q');
  CHECK(dfa.distance(s) == 0);  // prefix mode: "xyz" is a prefix of "xyzq"
  CHECK(dfa.is_sink(s));
  dfa.reset(a);
  CHECK(dfa.step(dfa.step(dfa.start(), 'x'), 'y') == LevenshteinDfa::kDead);
}

TEST_CASE("dfa handles long queries with many distinct characters", "[fuzzy]") {
  // More than 64 code points and more than 128 distinct ones (classes beyond ASCII).
  std::u32string q;
  for (char32_t c = 0x400; c < 0x4A0; ++c) q.push_back(c);
  for (char32_t c = 'a'; c <= 'z'; ++c) q.push_back(c);
  std::u32string t = q;
  t.erase(100, 1);
  std::swap(t[10], t[11]);
  const LevenshteinAutomaton a(trove::fuzzy::encode_utf8(q), {.max_distance = 2});
  LevenshteinDfa dfa(a);
  CHECK(dfa.class_count() == q.size() + 1);
  CHECK(compare_run(a, dfa, t, U"abz\u0400\u0401\u0450").empty());
  auto s = dfa.start();
  for (char32_t c : t) s = dfa.step(s, c);
  CHECK(dfa.distance(s) == 2);
}
