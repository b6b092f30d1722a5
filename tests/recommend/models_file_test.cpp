// The recommendation models saved beside the snapshots (models_file.h): the encoding round trip
// (the decoded models answer, digest and go on exactly as the original), start-up from a models
// file plus the journal tail giving the recommendations of a fold of the whole journal, and the
// fall-backs to that fold (no file, a damaged one, another version, other options, a journal
// that does not match it, a UserForget after it).
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "recommend_fixture.h"
#include "test_util.h"
#include "trove/data/auto_snapshot.h"
#include "trove/data/generator.h"
#include "trove/recommend/models_file.h"
#include "trove/recommend/recommender.h"

using namespace trove;
using namespace trove::test;

namespace {

std::vector<Event> generated(uint64_t seed, size_t n, bool all_kinds) {
  GeneratorOptions g;
  g.seed = seed;
  g.items = 120;
  g.visitors = 90;
  g.behaviour_events = n;
  g.all_kinds = all_kinds;
  g.with_event_ids = false;
  return generate_events(g);
}

std::vector<std::string> item_ids(const RecoModels& m, const std::vector<ScoredItem>& v) {
  std::vector<std::string> out;
  for (const auto& s : v) out.push_back(m.item_id(s.item) + "=" + std::to_string(s.score));
  return out;
}

// Every answer of two models, for every item and the first people, as text.
std::vector<std::string> answers(const RecoModels& m) {
  std::vector<std::string> out;
  auto add = [&](const std::vector<std::string>& v) { out.insert(out.end(), v.begin(), v.end()); };
  for (uint32_t i = 0; i < m.item_count(); ++i) {
    const uint32_t j = m.item_index(m.item_id(i)).value();
    add(item_ids(m, m.similar(j, 10, nullptr)));
    add(item_ids(m, m.bought_together(j, 10, nullptr)));
  }
  for (uint32_t p = 0; p < std::min<size_t>(m.person_count(), 60); ++p) {
    const std::string key = m.person(p);
    out.push_back(key);
    add(item_ids(m, m.for_you(key, 10, nullptr)));
    for (uint32_t i : m.recent_items(key, false)) out.push_back(m.item_id(i));
  }
  add(item_ids(m, m.popular(20, nullptr)));
  add(item_ids(m, m.trending(20, nullptr)));
  return out;
}

struct Shop {
  TempDir tmp;
  std::unique_ptr<Store> store;
  std::string dir() const { return tmp.sub("data"); }
  Shop() {
    auto s = Store::open(dir());
    REQUIRE(s.ok());
    store = std::move(s).value();
  }
  void ingest(std::vector<Event> events) {
    auto acks = store->ingest(std::move(events));
    INFO(acks.status().to_string());
    REQUIRE(acks.ok());
  }
  // The State's snapshot and the models file at the current seq, as AutoSnapshots takes them.
  uint64_t snapshot() {
    std::atomic<bool> stop{false};
    const uint64_t seq = store->last_seq();
    auto r = AutoSnapshots::build(dir(), seq, 2, {models_side_writer(dir(), {})}, stop);
    INFO(r.status.to_string());
    REQUIRE(r.status.ok());
    REQUIRE(r.sides.size() == 1);
    INFO(r.sides[0].status.to_string());
    REQUIRE(r.sides[0].status.ok());
    return seq;
  }
  std::unique_ptr<Recommender> open(bool use_files) {
    ModelsBuildOptions b;
    b.use_files = use_files;
    auto r = Recommender::open(*store, {}, b);
    INFO(r.status().to_string());
    REQUIRE(r.ok());
    return std::move(r).value();
  }
  std::string models_file(uint64_t seq) const {
    char name[32];
    std::snprintf(name, sizeof name, "%020llu.models", static_cast<unsigned long long>(seq));
    return dir() + "/snapshots/" + name;
  }
};

std::vector<std::string> served(const Recommender& reco) {
  std::vector<std::string> out;
  auto add = [&](const Result<RecoResponse>& r) {
    REQUIRE(r.ok());
    out.push_back(r->source);
    for (const auto& i : r->items) out.push_back(i.id + "=" + std::to_string(i.score));
  };
  for (int i = 0; i < 120; i += 7) {
    RecoRequest q;
    q.item_id = "sku-" + std::to_string(10000 + i);
    add(reco.similar(q));
    add(reco.bought_together(q));
  }
  for (int v = 0; v < 90; v += 5) {
    RecoRequest q;
    q.visitor_id = "visitor-" + std::to_string(v);
    add(reco.for_you(q));
    add(reco.recently_viewed(q));
  }
  add(reco.trending({}));
  return out;
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}
void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

bool mentions(const std::vector<std::string>& v, const std::string& what) {
  for (const auto& s : v) {
    if (s.find(what) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("decoded models answer, digest and go on applying exactly as the models encoded",
          "[models][persist]") {
  // Every kind of event (merges, forgets, carts, purchases, ratings), small rows so that
  // pruning runs, cut at several points.
  const std::vector<Event> events = generated(5, 20000, true);
  RecommendOptions o;
  o.max_row = 6;
  for (size_t cut : {size_t{0}, size_t{1}, events.size() / 3, events.size()}) {
    CAPTURE(cut);
    RecoModels original(o);
    for (size_t i = 0; i < cut; ++i) original.apply(i + 1, events[i]);
    const std::string bytes = original.encode();
    auto decoded = RecoModels::decode(bytes, o);
    INFO(decoded.status().to_string());
    REQUIRE(decoded.ok());
    CHECK(decoded->encode() == bytes);  // canonical and complete
    CHECK(decoded->digest() == original.digest());
    CHECK(decoded->last_seq() == original.last_seq());
    CHECK(decoded->forgotten().size() == original.forgotten().size());
    CHECK(answers(decoded.value()) == answers(original));
    for (size_t i = cut; i < events.size(); ++i) {
      original.apply_deferred(i + 1, events[i]);
      decoded->apply_deferred(i + 1, events[i]);
    }
    original.flush();
    decoded->flush();
    CHECK(decoded->encode() == original.encode());
    CHECK(decoded->digest() == original.digest());
    CHECK(answers(decoded.value()) == answers(original));
  }
}

TEST_CASE("models of other options, truncated or with a bad index are refused, never read out "
          "of range",
          "[models][persist]") {
  RecoModels m;
  const std::vector<Event> events = generated(6, 3000, true);
  for (size_t i = 0; i < events.size(); ++i) m.apply(i + 1, events[i]);
  const std::string bytes = m.encode();
  RecommendOptions other;
  other.window = 7;
  auto refused = RecoModels::decode(bytes, other);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().message().find("other model options") != std::string::npos);
  // Every prefix of the first 4 KiB and a sample of the rest: refused, not crashed.
  for (size_t n = 0; n < bytes.size(); n += (n < 4096 ? 1 : 997)) {
    CHECK_FALSE(RecoModels::decode(std::string_view(bytes).substr(0, n), {}).ok());
  }
  // Flipped bytes either decode to models or are refused (the file's checksum is what catches
  // damage; this is about never reading past the data).
  for (size_t at = 200; at < bytes.size(); at += 101) {
    std::string damaged = bytes;
    damaged[at] = static_cast<char>(damaged[at] ^ 0xff);
    (void)RecoModels::decode(damaged, {});
  }
}

TEST_CASE("models loaded from a models file and the journal after it give the recommendations "
          "of models folded from the whole journal",
          "[models][persist]") {
  const std::vector<Event> events = generated(7, 30000, false);
  const size_t first = events.size() * 2 / 3;
  Shop shop;
  shop.ingest({events.begin(), events.begin() + static_cast<std::ptrdiff_t>(first)});
  const uint64_t at = shop.snapshot();
  shop.ingest({events.begin() + static_cast<std::ptrdiff_t>(first), events.end()});
  const uint64_t last = shop.store->last_seq();
  REQUIRE(last > at);

  auto loaded = shop.open(true);
  auto folded = shop.open(false);
  CHECK(loaded->startup().file_seq == at);
  CHECK(loaded->startup().folded == last - at);
  CHECK(loaded->startup().warnings.empty());
  CHECK(folded->startup().file_seq == 0);
  CHECK(folded->startup().folded == last);
  CHECK(loaded->digest() == folded->digest());
  const auto want = served(*folded);
  CHECK(served(*loaded) == want);
  CHECK(want.size() > 100);

  // Both keep following the Store alike.
  shop.ingest(generated(8, 500, false));
  CHECK(loaded->digest() == folded->digest());
  CHECK(served(*loaded) == served(*folded));
}

TEST_CASE("a missing, damaged, older-format, other-options or mismatched models file falls back "
          "to folding the whole journal, with the same models",
          "[models][persist]") {
  const std::vector<Event> events = generated(9, 6000, false);
  Shop shop;
  shop.ingest({events.begin(), events.begin() + 4000});
  const uint64_t at = shop.snapshot();
  shop.ingest({events.begin() + 4000, events.end()});
  const std::string want = shop.open(false)->digest();
  const std::string file = shop.models_file(at);
  const std::string good = read_bytes(file);

  auto check_full = [&](const std::string& why) {
    auto reco = shop.open(true);
    CAPTURE(why);
    INFO(reco->startup().why_full);
    CHECK(reco->startup().file_seq == 0);
    CHECK(reco->startup().folded == shop.store->last_seq());
    CHECK(reco->digest() == want);
    if (!why.empty()) CHECK(mentions(reco->startup().warnings, why));
  };
  SECTION("missing") {
    std::filesystem::remove(file);
    check_full("");
    CHECK(shop.open(true)->startup().why_full == "no models file");
  }
  SECTION("damaged") {
    std::string bad = good;
    bad[bad.size() / 2] = static_cast<char>(bad[bad.size() / 2] ^ 1);
    write_bytes(file, bad);
    check_full("checksum mismatch");
  }
  SECTION("truncated") {
    write_bytes(file, good.substr(0, good.size() - 9));
    check_full("models file");
  }
  SECTION("another format version") {
    SideFileKind v2 = kModelsFileKind;
    v2.version = 2;
    std::filesystem::remove(file);
    REQUIRE(write_side_file(shop.dir() + "/snapshots", v2, at, "whatever v2 holds", 2).ok());
    check_full("format version 2 is not supported");
  }
  SECTION("other model options") {
    RecommendOptions other;
    other.max_row = 50;
    auto built = build_models(shop.dir(), at, other);
    REQUIRE(built.ok());
    REQUIRE(write_models_file(shop.dir(), built.value()).ok());
    check_full("other model options");
  }
  SECTION("the journal's record at its seq is another one") {
    // The file of another data directory with the same number of events.
    Shop elsewhere;
    elsewhere.ingest(generated(10, 6000, false));
    REQUIRE(elsewhere.store->last_seq() >= at);
    auto built = build_models(elsewhere.dir(), at, {});
    REQUIRE(built.ok());
    std::filesystem::remove(file);
    REQUIRE(write_models_file(shop.dir(), built.value()).ok());
    check_full("is not the one the models were saved at");
  }
  SECTION("an older good file is used when the newest is damaged") {
    shop.ingest(generated(11, 300, false));
    const uint64_t at2 = shop.snapshot();
    std::string bad = read_bytes(shop.models_file(at2));
    bad[60] = static_cast<char>(bad[60] ^ 1);
    write_bytes(shop.models_file(at2), bad);
    const std::string want2 = shop.open(false)->digest();
    auto reco = shop.open(true);
    CHECK(reco->startup().file_seq == at);
    CHECK(mentions(reco->startup().warnings, "checksum mismatch"));
    CHECK(reco->digest() == want2);
  }
}

TEST_CASE("a UserForget after the models file makes start-up fold the whole journal without the "
          "person's events",
          "[models][persist]") {
  Shop shop;
  Feed f;
  for (int i = 0; i < 4; ++i) f.view(numbered("v", i), "mug").view(numbered("v", i), "tea");
  f.view("bob-phone", "mug").view("bob-phone", "pot").merge("bob-phone", "bob");
  shop.ingest(f.events());
  const uint64_t at = shop.snapshot();
  Feed later;
  later.at_day(1).forget_user("bob").at_day(2).view("v1", "pot");
  shop.ingest(later.events());
  auto reco = shop.open(true);
  CHECK(reco->startup().file_seq == 0);
  CHECK(reco->startup().why_full.find("UserForget") != std::string::npos);
  CHECK(reco->digest() == shop.open(false)->digest());
  // And the rebuilt models are those of a journal without bob.
  Shop without;
  Feed g;
  for (int i = 0; i < 4; ++i) g.view(numbered("v", i), "mug").view(numbered("v", i), "tea");
  without.ingest(g.events());
  Feed g2;
  g2.at_day(2).view("v1", "pot");
  without.ingest(g2.events());
  CHECK(reco->digest() == without.open(false)->digest());
  // A models file written after the forget is used again, with the forget's filter.
  const uint64_t after = shop.snapshot();
  auto again = shop.open(true);
  CHECK(again->startup().file_seq == after);
  CHECK(again->digest() == reco->digest());
  CHECK(at < after);
}

TEST_CASE("models prefetched while the Store opens, with events the prefetch may or may not have "
          "seen, are those of a fold of the whole journal",
          "[models][persist]") {
  const std::vector<Event> events = generated(12, 9000, false);
  Shop shop;
  shop.ingest({events.begin(), events.begin() + 5000});
  shop.snapshot();
  shop.ingest({events.begin() + 5000, events.begin() + 7000});
  prefetch_models(shop.dir());
  shop.ingest({events.begin() + 7000, events.end()});  // beside the prefetch: seen or not
  auto reco = shop.open(true);
  CHECK(reco->startup().prefetched);
  CHECK(reco->startup().file_seq > 0);
  auto folded = shop.open(false);
  CHECK(reco->digest() == folded->digest());
  CHECK(served(*reco) == served(*folded));
  // A prefetch with other options is not used.
  RecommendOptions other;
  other.window = 3;
  prefetch_models(shop.dir(), other);
  CHECK_FALSE(shop.open(true)->startup().prefetched);
}
