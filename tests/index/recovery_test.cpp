// The index as a derived view: reopening without a rebuild, catching up on events journaled
// while it was not attached (and only those), rebuilding when it is missing or damaged, and
// reaching exactly the state's catalog after `trove ingest` is SIGKILLed at random moments.
// White-box checks open the shards with Xapian directly: item ref r is document r + 1 of the
// shards taken together (catalog_index.h).
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xapian.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "test_util.h"
#include "trove/data/events.h"
#include "trove/data/store.h"
#include "trove/index/analyzer.h"
#include "trove/index/catalog_index.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using namespace trove;

using TempDir = trove::test::TempDir;

Event ev(EventBody body) {
  Event e;
  e.body = std::move(body);
  return e;
}

ItemUpsert item(std::string id, std::string title) {
  ItemUpsert u;
  u.id = std::move(id);
  u.title = std::move(title);
  return u;
}

UserRef visitor(const std::string& v) {
  UserRef u;
  u.visitor_id = v;
  return u;
}

// A Store and an attached CatalogIndex on a data dir; destroyed index first.
struct Opened {
  std::unique_ptr<Store> store;
  std::unique_ptr<CatalogIndex> index;
  std::vector<std::string> warnings;

  explicit Opened(const std::string& data, bool with_index = true, unsigned shards = 2) {
    auto s = Store::open(data);
    INFO(s.status().to_string());
    REQUIRE(s.ok());
    store = std::move(s).value();
    if (!with_index) return;
    IndexOptions o;
    o.shards = shards;
    auto i = CatalogIndex::open(data + "/index", o);
    REQUIRE(i.ok());
    index = std::move(i).value();
    Status st = index->attach(*store, &warnings);
    INFO(st.to_string());
    REQUIRE(st.ok());
  }
  ~Opened() {
    index.reset();
    store.reset();
  }
  void add(std::vector<Event> events) {
    auto acks = store->ingest(std::move(events));
    INFO(acks.status().to_string());
    REQUIRE(acks.ok());
    if (index) REQUIRE(index->flush().ok());
  }
  std::set<std::string> ids(const std::string& q) {
    SearchRequest req;
    req.q = q;
    req.per_page = 100;
    auto res = index->search(req);
    INFO(res.status().to_string());
    REQUIRE(res.ok());
    std::set<std::string> out;
    for (const auto& h : res->hits) out.insert(h.id);
    return out;
  }
  std::string all_warnings() const {
    std::string s;
    for (const auto& w : warnings) s += w + "\n";
    return s;
  }
};

std::vector<Event> catalog(int from, int to, const std::string& word) {
  std::vector<Event> out;
  for (int i = from; i < to; ++i) {
    ItemUpsert u = item("it-" + std::to_string(i), word + " widget id" + std::to_string(i));
    u.price = 1.5 * i;
    out.push_back(ev(u));
  }
  return out;
}

Xapian::Database open_shards(const std::string& index_dir, unsigned shards) {
  Xapian::Database db;
  for (unsigned i = 0; i < shards; ++i) {
    db.add_database(Xapian::Database(index_dir + "/shard-" + std::to_string(i)));
  }
  return db;
}

// The index's documents are exactly the state's live catalog, each written from the item's
// current title: document ref + 1 exists iff item_at(ref), and holds the words of its title.
void check_index_equals_state(const std::string& data, Store& store, CatalogIndex& index,
                              unsigned shards = 2) {
  Analyzer analyzer;
  Xapian::Database db = open_shards(data + "/index", shards);
  std::set<Xapian::docid> docs;
  for (auto it = db.postlist_begin(""); it != db.postlist_end(""); ++it) docs.insert(*it);
  size_t live = 0, checked_terms = 0;
  std::vector<std::string> problems;
  store.read([&](const State& s) {
    CHECK(index.document_count() == s.item_count());
    CHECK(db.get_doccount() == s.item_count());
    for (ItemRef ref = 0; ref < s.item_refs(); ++ref) {
      const Item* item = s.item_at(ref);
      const Xapian::docid did = ref + 1;
      if (!item) {
        if (docs.count(did)) problems.push_back("document for removed/unknown " + s.item_id(ref));
        continue;
      }
      ++live;
      if (!docs.count(did)) {
        problems.push_back("no document for " + s.item_id(ref));
        continue;
      }
      std::set<std::string> terms;
      for (auto t = db.termlist_begin(did); t != db.termlist_end(did); ++t) terms.insert(*t);
      std::vector<Token> tokens;
      analyzer.analyze(item->data.title, &tokens);
      for (const auto& t : tokens) {
        ++checked_terms;
        if (!terms.count(t.text)) {
          problems.push_back("document of " + s.item_id(ref) + " lacks \"" + t.text +
                             "\" of its title \"" + item->data.title + "\"");
          break;
        }
      }
    }
    CHECK(docs.size() == live);
  });
  for (size_t i = 0; i < problems.size() && i < 20; ++i) UNSCOPED_INFO(problems[i]);
  CHECK(problems.empty());
  CHECK(checked_terms >= live);
}

uint64_t shard_seq(const std::string& index_dir, unsigned shard) {
  Xapian::Database db(index_dir + "/shard-" + std::to_string(shard));
  const std::string s = db.get_metadata("trove.seq");
  return s.empty() ? 0 : std::stoull(s);
}

}  // namespace

TEST_CASE("a reopened index resumes from its seq without rebuilding", "[index]") {
  TempDir tmp;
  const std::string data = tmp.path() + "/data";
  uint64_t seq = 0;
  {
    Opened o(data);
    o.add(catalog(0, 50, "copper"));
    seq = o.store->last_seq();
    CHECK(o.index->indexed_seq() == seq);
    CHECK(o.index->document_count() == 50);
  }
  // A rebuild removes the directory: a file of ours in it survives only if none happened.
  std::ofstream(data + "/index/keep-me") << "x";
  {
    Opened o(data);
    INFO(o.all_warnings());
    CHECK(o.warnings.empty());
    CHECK(o.index->indexed_seq() == seq);
    CHECK(o.index->indexed_seq() == o.store->last_seq());
    CHECK(o.index->document_count() == 50);
    CHECK(fs::exists(data + "/index/keep-me"));
    CHECK(o.ids("copper").size() == 50);
    check_index_equals_state(data, *o.store, *o.index);
  }
  // Behaviour events after the last catalog change: nothing to write, still no rebuild.
  {
    Opened o(data);
    std::vector<Event> views;
    for (int i = 0; i < 20; ++i) views.push_back(ev(DetailItemView{visitor("v"), "it-3"}));
    o.add(std::move(views));
    CHECK(o.index->indexed_seq() <= o.store->last_seq());
  }
  {
    Opened o(data);
    INFO(o.all_warnings());
    CHECK(o.warnings.empty());
    CHECK(fs::exists(data + "/index/keep-me"));
    CHECK(o.ids("copper").size() == 50);
  }
}

// Behaviour alone never gives the index anything to write, so without a commit of the seq
// alone every start would scan (and checksum) all of it again: 626,000 records were a tenth of
// a second of each restart after kill -9 in bench/restart.sh.
TEST_CASE("the index commits its seq when behaviour alone moved the journal far past it",
          "[index]") {
  TempDir tmp;
  const std::string data = tmp.path() + "/data";
  uint64_t catalog_seq = 0;
  {
    Opened o(data);
    o.add(catalog(0, 10, "copper"));
    catalog_seq = o.store->last_seq();
    std::vector<Event> views;
    for (int i = 0; i < 1000; ++i) views.push_back(ev(DetailItemView{visitor("v"), "it-3"}));
    o.add(std::move(views));
    // A short way behind: no commit for a number.
    CHECK(o.index->indexed_seq() == catalog_seq);
    CHECK(shard_seq(data + "/index", 0) == catalog_seq);
    views.clear();
    for (int i = 0; i < 70000; ++i) views.push_back(ev(DetailItemView{visitor("v"), "it-3"}));
    o.add(std::move(views));
    CHECK(o.index->indexed_seq() == o.store->last_seq());
    for (unsigned shard = 0; shard < 2; ++shard) {
      CHECK(shard_seq(data + "/index", shard) == o.store->last_seq());
    }
  }
  Opened o(data);
  INFO(o.all_warnings());
  CHECK(o.warnings.empty());
  CHECK(o.index->indexed_seq() == o.store->last_seq());
  CHECK(o.ids("copper").size() == 10);
  check_index_equals_state(data, *o.store, *o.index);
}

TEST_CASE("events journaled while no index was attached are caught up, and only those", "[index]") {
  TempDir tmp;
  const std::string data = tmp.path() + "/data";
  {
    Opened o(data);
    o.add(catalog(0, 40, "enamel"));
  }
  // Mark every indexed document, behind the index's back: a document that is rewritten loses
  // the mark, one that is left alone keeps it.
  for (unsigned shard = 0; shard < 2; ++shard) {
    Xapian::WritableDatabase w(data + "/index/shard-" + std::to_string(shard));
    std::vector<Xapian::docid> ids;
    for (auto it = w.postlist_begin(""); it != w.postlist_end(""); ++it) ids.push_back(*it);
    for (auto did : ids) {
      Xapian::Document d = w.get_document(did);
      d.add_boolean_term("XTESTMARK");
      w.replace_document(did, d);
    }
    w.commit();
  }
  // Store only: a patch, a removal, a new item, and behaviour.
  {
    Opened o(data, /*with_index=*/false);
    std::vector<Event> events;
    ItemPatch p;
    p.id = "it-7";
    p.title = "Enamel teapot id7";
    events.push_back(ev(p));
    events.push_back(ev(ItemRemove{"it-8"}));
    events.push_back(ev(item("it-new", "Enamel skillet idnew")));
    for (int i = 0; i < 10; ++i) events.push_back(ev(DetailItemView{visitor("v"), "it-1"}));
    o.add(std::move(events));
  }
  Opened o(data);
  INFO(o.all_warnings());
  REQUIRE(o.warnings.size() == 1);
  CHECK(o.warnings[0].find("caught up") != std::string::npos);
  CHECK(o.warnings[0].find("(3 catalog events)") != std::string::npos);
  CHECK(o.index->indexed_seq() == o.store->last_seq());
  check_index_equals_state(data, *o.store, *o.index);
  CHECK(o.ids("teapot") == std::set<std::string>{"it-7"});
  CHECK(o.ids("skillet") == std::set<std::string>{"it-new"});
  CHECK(o.ids("id8").empty());
  CHECK(o.ids("enamel").size() == 40);
  // Only the three touched items were written again.
  Xapian::Database db = open_shards(data + "/index", 2);
  std::set<std::string> unmarked;
  o.store->read([&](const State& s) {
    for (ItemRef ref = 0; ref < s.item_refs(); ++ref) {
      if (!s.item_at(ref)) continue;
      bool marked = false;
      for (auto t = db.termlist_begin(ref + 1); t != db.termlist_end(ref + 1); ++t) {
        marked = marked || *t == "XTESTMARK";
      }
      if (!marked) unmarked.insert(s.item_id(ref));
    }
  });
  CHECK(unmarked == std::set<std::string>{"it-7", "it-new"});
}

TEST_CASE("a deleted index is rebuilt from the state with a warning", "[index]") {
  TempDir tmp;
  const std::string data = tmp.path() + "/data";
  {
    Opened o(data);
    CHECK(o.warnings.empty());  // a new index over an empty catalog is no news
    o.add(catalog(0, 120, "glass"));
    o.add({ev(ItemRemove{"it-5"})});
  }
  fs::remove_all(data + "/index");
  Opened o(data);
  INFO(o.all_warnings());
  REQUIRE(o.warnings.size() == 1);
  CHECK(o.warnings[0].find("rebuild") != std::string::npos);
  CHECK(o.index->document_count() == 119);
  CHECK(o.index->indexed_seq() == o.store->last_seq());
  CHECK(o.ids("glass").size() == 100);  // one page
  CHECK(o.ids("id5").empty());
  CHECK(o.ids("id6") == std::set<std::string>{"it-6"});
  check_index_equals_state(data, *o.store, *o.index);
}

TEST_CASE("an index with other settings is rebuilt with them", "[index]") {
  TempDir tmp;
  const std::string data = tmp.path() + "/data";
  {
    Opened o(data);
    o.add(catalog(0, 30, "bamboo"));
  }
  Opened o(data, true, /*shards=*/3);
  INFO(o.all_warnings());
  REQUIRE(o.warnings.size() == 1);
  CHECK(o.warnings[0].find("other settings") != std::string::npos);
  CHECK(o.ids("bamboo").size() == 30);
  check_index_equals_state(data, *o.store, *o.index, 3);
}

TEST_CASE("a shard with damaged table blocks is rebuilt with a warning", "[index]") {
  TempDir tmp;
  const std::string data = tmp.path() + "/data";
  {
    Opened o(data);
    o.add(catalog(0, 300, "rustic"));
  }
  const std::string pristine = tmp.path() + "/pristine-index";
  fs::copy(data + "/index", pristine, fs::copy_options::recursive);
  auto restore = [&] {
    fs::remove_all(data + "/index");
    fs::copy(pristine, data + "/index", fs::copy_options::recursive);
  };
  auto damage = [&](const std::string& table, long block) {
    std::fstream f(data + "/index/shard-0/" + table,
                   std::ios::in | std::ios::out | std::ios::binary);
    REQUIRE(f.is_open());
    f.seekp(block * 8192);
    const std::string junk(64, '\xA5');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  };
  // Every block of the termlist table: found when the index is attached.
  {
    const auto size = static_cast<long>(fs::file_size(data + "/index/shard-0/termlist.glass"));
    for (long b = 0; b * 8192 < size; ++b) damage("termlist.glass", b);
    Opened o(data);
    INFO(o.all_warnings());
    REQUIRE(o.warnings.size() == 1);
    CHECK(o.warnings[0].find("damaged") != std::string::npos);
    CHECK(o.ids("rustic").size() == 100);
    CHECK(o.ids("id17") == std::set<std::string>{"it-17"});
    check_index_equals_state(data, *o.store, *o.index);
  }
  // One block at a time: damage that only a search runs into fails that search with an
  // internal error (no Xapian text), and the next attach rebuilds.
  size_t found_late = 0, found_at_attach = 0;
  for (const char* table : {"termlist.glass", "postlist.glass", "position.glass"}) {
    const auto size = static_cast<long>(fs::file_size(pristine + "/shard-0/" + table));
    for (long b = 0; b * 8192 < size && found_late < 3; ++b) {
      restore();
      damage(table, b);
      bool failed = false;
      {
        Opened o(data);
        if (!o.warnings.empty()) {
          ++found_at_attach;
          continue;
        }
        for (const char* q : {"rustic", "\"rustic widget\"", "id42", "*"}) {
          SearchRequest req;
          req.q = q;
          req.per_page = 100;
          req.facets = {"brand", "price"};
          req.explain = true;
          for (req.page = 1; req.page <= 3 && !failed; ++req.page) {
            auto res = o.index->search(req);
            if (res.ok()) continue;
            failed = true;
            CHECK(res.status().code() == StatusCode::kInternal);
            CHECK(res.status().message().find("Error") == std::string::npos);
          }
        }
        for (const char* q : {"r", "ru", "rusti", "rustic wid"}) {
          SuggestRequest sreq;
          sreq.q = q;
          auto res = o.index->suggest(sreq);
          if (res.ok() || failed) continue;
          failed = true;
          CHECK(res.status().code() == StatusCode::kInternal);
          CHECK(res.status().message().find("Error") == std::string::npos);
        }
      }
      if (!failed) continue;
      ++found_late;
      Opened o(data);
      INFO(table << " block " << b << ": " << o.all_warnings());
      REQUIRE(o.warnings.size() == 1);
      CHECK(o.warnings[0].find("damaged") != std::string::npos);
      CHECK(o.ids("id42") == std::set<std::string>{"it-42"});
      check_index_equals_state(data, *o.store, *o.index);
    }
  }
  WARN("single damaged blocks: " << found_at_attach << " found by attach, " << found_late
                                 << " found by a search and repaired by the next attach");
  CHECK(found_late > 0);
}

namespace {

// The catalog-heavy NDJSON of one round: new items, patches, removals, re-upserts, and views
// of items that are not (yet) in the catalog, which intern refs without documents.
std::string round_file(const std::string& dir, int round, std::mt19937_64& rng, int& next_item,
                       int& version) {
  const std::string path = dir + "/round-" + std::to_string(round) + ".ndjson";
  std::ofstream out(path);
  auto emit = [&](EventBody b) { out << serialize_event(ev(std::move(b))) << '\n'; };
  auto title = [&](int id) {
    return std::string("Widget id") + std::to_string(id) + " v" + std::to_string(++version);
  };
  for (int k = 0; k < 4000; ++k) {
    const int r = static_cast<int>(rng() % 100);
    const int existing = next_item > 0 ? static_cast<int>(rng() % next_item) : 0;
    if (r < 45 || next_item == 0) {
      const int id = next_item++;
      ItemUpsert u = item("it-" + std::to_string(id), title(id));
      u.price = static_cast<double>(rng() % 10000) / 100;
      u.brand = "Brand" + std::to_string(rng() % 7);
      u.categories = std::vector<std::string>{"Cat" + std::to_string(rng() % 5) + " > Sub"};
      emit(u);
    } else if (r < 70) {
      ItemPatch p;
      p.id = "it-" + std::to_string(existing);
      p.title = title(existing);
      emit(p);
    } else if (r < 80) {
      emit(ItemRemove{"it-" + std::to_string(existing)});
    } else if (r < 87) {
      emit(item("it-" + std::to_string(existing), title(existing)));  // re-upsert
    } else {
      emit(DetailItemView{visitor("v" + std::to_string(rng() % 50)),
                          "ghost-" + std::to_string(rng() % 400)});
    }
  }
  return path;
}

}  // namespace

TEST_CASE("after trove ingest is killed at random moments the index equals the state's catalog",
          "[index][crash]") {
  TempDir tmp;
  const std::string data = tmp.path() + "/data";
  const std::string log = tmp.path() + "/child.log";
  std::mt19937_64 rng(20240611);
  int next_item = 0, version = 0;
  // Rounds go on until at least 12 children died by SIGKILL (a child that finishes before its
  // kill is a round too); the last child runs to completion.
  constexpr int kKills = 12, kMaxRounds = 40;
  int killed = 0, finished = 0, lagging = 0, uneven = 0, rebuilt = 0, caught_up = 0;
  // The kill lands 5 ms to 200 ms past the child's start-up, timed once on an empty input: a
  // sanitizer build starts in hundreds of milliseconds, and kills that all land before the
  // child has read anything miss the index lagging the journal (under TSan, 12 of 12 did).
  const int startup_ms = [&] {
    const std::string empty = tmp.path() + "/empty.ndjson";
    std::ofstream(empty).flush();
    const std::string cmd = std::string(TROVE_CLI_PATH) + " ingest --data-dir " + tmp.path() +
                            "/startup " + empty + " >/dev/null 2>&1";
    const auto t0 = std::chrono::steady_clock::now();
    REQUIRE(std::system(cmd.c_str()) == 0);
    return static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::steady_clock::now() - t0)
                                .count());
  }();
  for (int round = 0;; ++round) {
    const bool last = killed >= kKills || round >= kMaxRounds;
    const std::string file = round_file(tmp.path(), round, rng, next_item, version);
    if (round % 5 == 4) fs::remove_all(data + "/index");  // the child rebuilds, maybe killed
    const std::vector<std::string> args = {TROVE_CLI_PATH, "ingest", "--data-dir", data,
                                           "--batch",      "200",    file};
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    REQUIRE(posix_spawn_file_actions_init(&actions) == 0);
    REQUIRE(posix_spawn_file_actions_addopen(&actions, 1, log.c_str(),
                                             O_WRONLY | O_CREAT | O_APPEND, 0644) == 0);
    REQUIRE(posix_spawn_file_actions_adddup2(&actions, 1, 2) == 0);
    pid_t pid = -1;
    REQUIRE(::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ) == 0);
    posix_spawn_file_actions_destroy(&actions);
    int status = 0;
    if (!last) {
      const auto ms = 5 + static_cast<int>(rng() % (196 + static_cast<unsigned>(startup_ms)));
      std::this_thread::sleep_for(std::chrono::milliseconds(ms));
      ::kill(pid, SIGKILL);
    }
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    if (WIFSIGNALED(status)) {
      ++killed;
    } else {
      ++finished;
      INFO("child exit " << WEXITSTATUS(status) << "; log " << log);
      CHECK(WEXITSTATUS(status) == 0);
    }
    // Every other round recovers here; the others leave recovery to the next child.
    if (round % 2 == 0 && !last) continue;
    if (fs::exists(data + "/index/shard-0") && fs::exists(data + "/index/shard-1")) {
      try {
        const uint64_t s0 = shard_seq(data + "/index", 0), s1 = shard_seq(data + "/index", 1);
        if (s0 != s1) ++uneven;
        auto st = Store::open(data);
        REQUIRE(st.ok());
        if (std::min(s0, s1) < st.value()->last_seq()) ++lagging;
      } catch (const Xapian::Error&) {
        ++lagging;  // killed before the first commit of a new shard
      }
    }
    Opened o(data);
    for (const auto& w : o.warnings) {
      if (w.find("rebuild") != std::string::npos) ++rebuilt;
      if (w.find("caught up") != std::string::npos) ++caught_up;
    }
    INFO("round " << round << ": " << o.all_warnings());
    check_index_equals_state(data, *o.store, *o.index);
    CHECK(o.index->indexed_seq() <= o.store->last_seq());
    if (last) break;
  }
  WARN("kill -9 of trove ingest (start-up " << startup_ms << " ms): " << killed << " killed, "
                                            << finished << " finished; "
                                   << "checked with the index behind the journal " << lagging
                                   << " times (shards at different seqs " << uneven
                                   << "); attach rebuilt " << rebuilt << ", caught up " << caught_up
                                   << "; " << next_item << " item ids");
  CHECK(killed >= kKills);
  CHECK(lagging >= 1);
}

// Regression: attach() read the state's seq, scanned the journal after the index's seq, and only
// then registered its listener, so items ingested during the scan were in neither and the next
// flush claimed a seq that covered them.
TEST_CASE("items ingested while attach catches up are indexed too", "[index]") {
  TempDir tmp;
  const std::string data = tmp.path() + "/data";
  {
    Opened o(data);
    o.add(catalog(0, 10, "linen"));
  }
  {
    // A long journal tail to catch up over: the window in which ingest runs beside attach.
    Opened o(data, /*with_index=*/false);
    std::vector<Event> events = catalog(10, 4000, "linen");
    for (int i = 0; i < 20000; ++i) events.push_back(ev(DetailItemView{visitor("v"), "it-1"}));
    o.add(std::move(events));
  }
  auto s = Store::open(data);
  REQUIRE(s.ok());
  std::unique_ptr<Store> store = std::move(s).value();
  auto idx = CatalogIndex::open(data + "/index");
  REQUIRE(idx.ok());
  std::unique_ptr<CatalogIndex> index = std::move(idx).value();
  std::atomic<bool> attached{false};
  std::atomic<int> batches{0}, failed{0};
  std::thread writer([&] {  // no Catch2 assertions off the main thread
    for (int b = 0; !attached.load() && b < 2000; ++b) {
      std::vector<Event> one;
      one.push_back(ev(item("late-" + std::to_string(b), "Late linen towel")));
      if (!store->ingest(std::move(one)).ok()) ++failed;
      ++batches;
    }
  });
  Status st = index->attach(*store);
  attached = true;
  writer.join();
  REQUIRE(st.ok());
  CHECK(failed.load() == 0);
  REQUIRE(index->flush().ok());
  INFO(batches.load() << " items ingested beside attach");
  check_index_equals_state(data, *store, *index);
  index.reset();
  store.reset();
}
