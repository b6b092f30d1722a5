// Writing the index and keeping it in step with the Store: open, attach (catch up or rebuild),
// flush. Queries are in search.cpp.
#include <absl/container/flat_hash_map.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <thread>

#include "index_rep.h"

namespace trove {
namespace {

namespace fs = std::filesystem;
using namespace index_internal;

std::atomic<uint64_t> g_instances{0};

constexpr size_t kFlushChunk = 20000;  // documents per commit when rebuilding
// Documents a re-index writes between two turns of the serving shards (new events wait at most
// that long to show in search).
constexpr size_t kReindexChunk = 4096;
constexpr size_t kMaxUnmergedTerms = 2048;  // vocabulary delta always allowed (write_pending)

std::string config_string(const IndexOptions& o) {
  // v2: documents carry their item ref in kSlotRef; v4: the exact title term (E); v5: the
  // filter language's presence terms (XE) and numeric attribute slots. Older indexes are
  // rebuilt.
  return "trove-index v5 shards=" + std::to_string(o.shards) + " language=" + o.language;
}

bool is_catalog(EventType t) {
  return t == EventType::kItemUpsert || t == EventType::kItemPatch || t == EventType::kItemRemove;
}

std::string xapian_error(const Xapian::Error& e) {
  return e.get_type() + std::string(": ") + e.get_msg();
}

// Runs fn(shard) for every shard, one thread each when `parallel` (analysis and Xapian's term
// generation are the cost of writing).
void for_each_shard(unsigned n, bool parallel, const std::function<void(unsigned)>& fn) {
  if (n == 1 || !parallel) {
    for (unsigned i = 0; i < n; ++i) fn(i);
    return;
  }
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < n; ++i) threads.emplace_back(fn, i);
  fn(0);
  for (auto& t : threads) t.join();
}

uint64_t dir_bytes(const std::string& dir) {
  uint64_t n = 0;
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(dir, ec)) {
    if (e.is_regular_file(ec)) n += e.file_size(ec);
  }
  return n;
}

}  // namespace

// Damage a read or write ran into (Xapian cannot check a whole database cheaply at open):
// the next attach sees the mark and rebuilds. The rebuild removes the directory, mark included.
void CatalogIndex::Rep::mark_damaged(const std::string& what) const {
  if (FILE* f = std::fopen((fs::path(dir) / kDamagedFile).c_str(), "w")) {
    std::fputs(what.c_str(), f);
    std::fclose(f);
  }
}

std::string CatalogIndex::Rep::damage_mark() const {
  const fs::path path = fs::path(dir) / kDamagedFile;
  std::error_code ec;
  if (!fs::exists(path, ec)) return {};
  std::string what;
  if (FILE* f = std::fopen(path.c_str(), "r")) {
    char buf[512];
    const size_t n = std::fread(buf, 1, sizeof buf, f);
    what.assign(buf, n);
    std::fclose(f);
  }
  return what.empty() ? std::string("marked by a failed read") : what;
}

std::string CatalogIndex::Rep::shard_path(unsigned i) const {
  return (fs::path(dir) / ("shard-" + std::to_string(i))).string();
}

std::string CatalogIndex::Rep::shard_path(const char* subdir, unsigned i) const {
  return (fs::path(dir) / subdir / ("shard-" + std::to_string(i))).string();
}

Xapian::Database& CatalogIndex::Rep::reader() const {
  struct Cached {
    uint64_t generation = UINT64_MAX;
    uint64_t epoch = 0;
    Xapian::Database db;
  };
  thread_local absl::flat_hash_map<uint64_t, Cached> cache;
  Cached& c = cache[instance];
  const uint64_t gen = generation.load(std::memory_order_acquire);
  if (c.generation != gen) {
    // Shards swapped in by a re-index are other databases at the same paths: open them.
    const uint64_t now = epoch.load(std::memory_order_acquire);
    if (c.generation == UINT64_MAX || c.epoch != now) {
      c.db = Xapian::Database();
      c.epoch = now;
      Xapian::Database db;
      for (unsigned i = 0; i < opts.shards; ++i) db.add_database(Xapian::Database(shard_path(i)));
      c.db = db;
    } else {
      c.db.reopen();
    }
    c.generation = gen;
  }
  return c.db;
}

const DocumentBuilder& CatalogIndex::Rep::query_builder() const {
  thread_local absl::flat_hash_map<uint64_t, std::unique_ptr<DocumentBuilder>> builders;
  auto& b = builders[instance];
  if (!b) b = std::make_unique<DocumentBuilder>(opts.language);
  return *b;
}

std::shared_ptr<const SynonymMap> CatalogIndex::Rep::synonyms_for(const State& state) const {
  std::lock_guard lock(synonyms_mu);
  const uint64_t version = synonyms_version.load();
  if (synonyms_built != version || !synonyms) {
    synonyms = std::make_shared<const SynonymMap>(build_synonyms(query_builder().analyzer(), state));
    synonyms_built = version;
  }
  return synonyms;
}

// The vocabulary (free-text terms, document frequency summed over shards) and which refs
// have documents, read from the shards.
void CatalogIndex::Rep::load_vocabulary() {
  Rep& r = *this;
  absl::flat_hash_map<std::string, uint64_t> df;
  r.docs.clear();
  const unsigned n = r.opts.shards;
  for (unsigned shard = 0; shard < n; ++shard) {
    Xapian::WritableDatabase& db = *r.shards[shard];
    for (auto t = db.allterms_begin(); t != db.allterms_end(); ++t) {
      const std::string& term = *t;
      if (is_vocabulary_term(term)) df[term] += t.get_termfreq();
    }
    for (auto p = db.postlist_begin(""); p != db.postlist_end(""); ++p) {
      r.set_has_doc(static_cast<ItemRef>((*p - 1) * n + shard), true);
    }
  }
  fuzzy::TermFrequencies terms(df.begin(), df.end());
  r.vocab = std::make_unique<fuzzy::LiveDictionary>(
      std::make_shared<const fuzzy::TermDictionary>(std::move(terms)));
}

CatalogIndex::CatalogIndex(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}
CatalogIndex::~CatalogIndex() {
  if (rep_->store != nullptr && rep_->listener != 0) rep_->store->remove_listener(rep_->listener);
}

namespace {
// The language an existing index was built with ("" when there is none or it cannot be read).
std::string language_on_disk(const std::string& dir) {
  try {
    Xapian::Database db((fs::path(dir) / "shard-0").string());
    const std::string config = db.get_metadata(kConfigKey);
    const auto at = config.find(" language=");
    if (at == std::string::npos) return "";
    return config.substr(at + std::strlen(" language="));
  } catch (const Xapian::Error&) {
    return "";
  }
}
}  // namespace

Result<std::unique_ptr<CatalogIndex>> CatalogIndex::open(const std::string& dir,
                                                         IndexOptions opts) {
  if (opts.language.empty()) opts.language = language_on_disk(dir);
  if (opts.language.empty()) opts.language = "english";
  if (opts.shards < 1 || opts.shards > 64) {
    return Status::invalid("expected 1..64 shards, got " + std::to_string(opts.shards), "shards");
  }
  if (opts.language != "none") {
    try {
      Xapian::Stem probe(opts.language);
    } catch (const Xapian::Error&) {
      return Status::invalid("unknown stemming language \"" + opts.language +
                                 "\" (Xapian::Stem::get_available_languages lists them)",
                             "language");
    }
  }
  if (auto budget = typo_budget(std::nullopt, opts.typos); !budget.ok()) return budget.status();
  auto rep = std::make_unique<Rep>();
  rep->dir = dir;
  rep->opts = opts;
  rep->instance = ++g_instances;
  for (unsigned i = 0; i < opts.shards; ++i) {
    rep->builders.push_back(std::make_unique<DocumentBuilder>(opts.language));
  }
  return std::unique_ptr<CatalogIndex>(new CatalogIndex(std::move(rep)));
}

Status CatalogIndex::attach(Store& store, std::vector<std::string>* warnings,
                            Status* write_failure) {
  Rep& r = *rep_;
  r.store = &store;
  std::unique_lock lock(r.write_mu);
  // Follow the store before reading its seq: an event applied while the journal is scanned
  // below is then pending here, rather than in neither the scan nor the listener.
  r.listener = store.add_listener([&r](uint64_t, const Event& e, const State& s) {
    if (e.type() == EventType::kSynonymsUpsert || e.type() == EventType::kSynonymsRemove ||
        e.type() == EventType::kSearchSettingsUpsert ||
        e.type() == EventType::kAttributeSettingsUpsert ||
        e.type() == EventType::kAttributeSettingsRemove) {
      r.synonyms_version.fetch_add(1);  // rebuilds the SynonymMap, moves generation()
    }
    if (!is_catalog(e.type())) {
      // Behaviour moves popularity: keep the block maxima an upper bound.
      auto raise = [&](const std::string& id) {
        if (auto ref = s.item_ref(id)) r.raise_popularity(*ref, popularity(s, *ref));
      };
      std::visit([&](const auto& b) {
        if constexpr (requires { b.item_id.size(); }) raise(b.item_id);
        if constexpr (requires { b.lines; }) {
          for (const auto& line : b.lines) raise(line.item_id);
        }
      }, e.body);
      return;
    }
    std::visit([&](const auto& b) {
      if constexpr (requires { b.id; }) {
        if (auto ref = s.item_ref(b.id)) {
          std::lock_guard p(r.pending_mu);
          r.pending.insert(*ref);
        }
      }
    }, e.body);
  });
  // Open the shards; anything wrong with them means rebuilding from the State.
  uint64_t seq = UINT64_MAX;
  bool rebuild = false;
  std::string why;
  if (std::string mark = r.damage_mark(); !mark.empty()) {
    rebuild = true;
    why = "damaged (" + mark + ")";
  }
  std::optional<DocumentSettings> on_disk;
  try {
    std::error_code ec;
    fs::create_directories(r.dir, ec);
    // A re-index the process did not finish: its shards were never served.
    fs::remove_all(fs::path(r.dir) / kNextDir, ec);
    fs::remove_all(fs::path(r.dir) / kOldDir, ec);
    for (unsigned i = 0; i < r.opts.shards && !rebuild; ++i) {
      auto db = std::make_unique<Xapian::WritableDatabase>(
          r.shard_path(i), Xapian::DB_CREATE_OR_OPEN | Xapian::DB_BACKEND_GLASS);
      // Glass opens the termlist and position tables lazily: read one document through all
      // of them, so that a damaged table root is found now rather than by every search.
      if (db->get_doccount() > 0) {
        Xapian::Document doc = db->get_document(*db->postlist_begin(""));
        (void)doc.get_value(kSlotRef);
        for (auto t = doc.termlist_begin(); t != doc.termlist_end(); ++t) {
          if (t.positionlist_count() > 0) break;
        }
      }
      const std::string config = db->get_metadata(kConfigKey);
      const std::string s = db->get_metadata(kSeqKey);
      if (config != config_string(r.opts)) {
        rebuild = true;
        why = config.empty() ? "new index" : "built with other settings (" + config + ")";
      }
      seq = std::min<uint64_t>(seq, s.empty() ? 0 : std::stoull(s));
      // Indexes from before searchable fields (or attributes) were settable were built with
      // the defaults.
      const std::string f = db->get_metadata(kFieldsKey);
      const auto w = f.empty() ? std::optional<FieldWeights>(FieldWeights{}) : parse_field_weights(f);
      const auto a = AttributeSchema::from_layout(db->get_metadata(kAttributesKey));
      const auto built = w && a ? std::optional<DocumentSettings>(DocumentSettings{*w, *a}) : std::nullopt;
      if (!rebuild && (!built || (on_disk && !(*built == *on_disk)))) {
        rebuild = true;
        why = "shards built with other settings (a re-index cut short)";
      }
      on_disk = built;
      r.shards.push_back(std::move(db));
    }
    // A shard left over from a larger shard count would shadow nothing but waste disk.
    if (!rebuild && fs::exists(r.shard_path(r.opts.shards))) {
      rebuild = true, why = "shard count changed";
    }
  } catch (const Xapian::Error& e) {
    rebuild = true;
    why = "damaged (" + xapian_error(e) + ")";
  } catch (const std::exception& e) {
    rebuild = true;
    why = std::string("unreadable (") + e.what() + ")";
  }

  uint64_t state_seq = 0;
  size_t state_items = 0;
  DocumentSettings wanted;
  store.read([&](const State& s) {
    state_seq = s.last_seq();
    state_items = s.item_count();
    wanted = document_settings(s);
    for (ItemRef ref = 0; ref < s.item_refs(); ++ref) {
      if (const double p = popularity(s, ref); p > 0) r.raise_popularity(ref, p);
    }
  });
  // A new index over a catalog that has items: the index was deleted (or never built).
  if (rebuild && why == "new index" && state_items > 0) why = "missing";
  if (!rebuild && seq > state_seq) {
    rebuild = true;
    why = "ahead of the journal (seq " + std::to_string(seq) + " > " + std::to_string(state_seq) + ")";
  }

  r.indexed_seq.store(rebuild ? 0 : seq);
  // Documents caught up below match the rest of the shards; flush() re-indexes them all
  // with the State's settings in the background if they differ.
  r.set_settings(rebuild || !on_disk ? wanted : *on_disk);
  if (!rebuild) {
    uint64_t docs = 0;
    for (auto& db : r.shards) docs += db->get_doccount();
    r.doc_count.store(docs);
    try {
      r.load_vocabulary();
    } catch (const Xapian::Error& e) {
      rebuild = true;
      why = "damaged (" + xapian_error(e) + ")";
    }
  }
  if (rebuild) {
    r.shards.clear();
    r.vocab = std::make_unique<fuzzy::LiveDictionary>();
    r.docs.clear();
    std::error_code ec;
    fs::remove_all(r.dir, ec);
    fs::create_directories(r.dir, ec);
    try {
      for (unsigned i = 0; i < r.opts.shards; ++i) {
        r.shards.push_back(std::make_unique<Xapian::WritableDatabase>(
            r.shard_path(i), Xapian::DB_CREATE | Xapian::DB_BACKEND_GLASS));
        r.shards.back()->set_metadata(kConfigKey, config_string(r.opts));
        r.shards.back()->set_metadata(kFieldsKey, to_string(r.settings.weights));
        r.shards.back()->set_metadata(kAttributesKey, r.settings.attributes.layout());
      }
    } catch (const Xapian::Error& e) {
      return Status::io_error("cannot create the index in " + r.dir + ": " + xapian_error(e));
    }
    if (warnings && why != "new index") warnings->push_back("index " + why + ": rebuilding from the state");
    // The pending set's lock inside the Store's, as flush() and the Store's listener take
    // them (the other order here was a lock-order inversion ThreadSanitizer reported).
    store.read([&](const State& s) {
      std::lock_guard p(r.pending_mu);
      for (ItemRef ref = 0; ref < s.item_refs(); ++ref) {
        if (s.item_at(ref)) r.pending.insert(ref);
      }
    });
  } else if (seq < state_seq) {
    // Catch up: the items named by catalog events after the index's seq.
    std::vector<std::string> ids;
    EventParser parser;
    Status st = Journal::scan((fs::path(store.data_dir()) / "journal").string(), seq + 1,
                              [&](const RecordView& rec) {
                                if (rec.seq > state_seq) return false;
                                if (!is_catalog(static_cast<EventType>(rec.type))) return true;
                                auto ev = parser.parse(rec.payload);
                                if (ev.ok()) {
                                  std::visit([&](const auto& b) {
                                    if constexpr (requires { b.id; }) ids.push_back(b.id);
                                  }, ev->body);
                                }
                                return true;
                              });
    TROVE_RETURN_IF_ERROR(st);
    store.read([&](const State& s) {
      std::lock_guard p(r.pending_mu);
      for (const auto& id : ids) {
        if (auto ref = s.item_ref(id)) r.pending.insert(*ref);
      }
    });
    if (warnings && !ids.empty()) {
      warnings->push_back("index caught up from seq " + std::to_string(seq) + " to " +
                          std::to_string(state_seq) + " (" + std::to_string(ids.size()) +
                          " catalog events)");
    }
  }

  Status flushed = r.write_pending();
  r.searched_queries.refresh(store, r.builders[0]->analyzer(), std::chrono::milliseconds(0));
  lock.unlock();
  if (!flushed.ok() && write_failure != nullptr) {
    *write_failure = std::move(flushed);
    return Status();
  }
  return flushed;
}

Status CatalogIndex::flush() {
  Rep& r = *rep_;
  if (r.store == nullptr) return Status::unavailable("index is not attached to a store");
  std::lock_guard lock(r.write_mu);
  Status reindexed;
  if (!r.interrupted.load()) {
    DocumentSettings wanted;
    r.store->read([&](const State& s) { wanted = document_settings(s); });
    // A re-index that fails (a full disk) is tried again at the next flush; meanwhile the
    // serving shards keep following events with the settings they have.
    if (!(wanted == r.settings)) reindexed = r.reindex(wanted);
  }
  r.searched_queries.refresh(*r.store, r.builders[0]->analyzer(), r.opts.query_suggestions_every);
  Status written = r.write_pending();
  TROVE_RETURN_IF_ERROR(reindexed);
  return written;
}

void CatalogIndex::interrupt() { rep_->interrupted.store(true); }

// Records only behaviour since the last catalog change leave the committed seq behind, and
// attach() reads (and checksums) every record after it: 626,000 of them were a tenth of a
// second of a restart after kill -9 (bench/restart.sh). A commit of the seq alone, at most
// once per kSeqCommitLag records, keeps that scan short for the price of one commit per shard.
Status CatalogIndex::Rep::commit_seq_if_behind(uint64_t seq) {
  if (seq < indexed_seq.load() + kSeqCommitLag) return {};
  std::string error;
  try {
    for (auto& db : shards) {
      db->set_metadata(kSeqKey, std::to_string(seq));
      db->commit();
    }
  } catch (const Xapian::DatabaseCorruptError& e) {
    error = xapian_error(e);
    mark_damaged(error);
  } catch (const Xapian::Error& e) {
    error = xapian_error(e);
  }
  // A shard left at the older seq only makes the next attach scan from there.
  if (!error.empty()) return Status::io_error("index write failed: " + error);
  indexed_seq.store(seq);
  return {};
}

Status CatalogIndex::Rep::write_pending(absl::flat_hash_set<ItemRef>* taken) {
  Rep& r = *this;
  for (bool more = true; more;) {
    // Take a chunk of pending refs and copy their items under the state's shared lock: no
    // event applies meanwhile, so the chunk reflects exactly the state at `seq`.
    std::vector<std::pair<ItemRef, std::optional<Item>>> work;
    uint64_t seq = 0;
    r.store->read([&](const State& s) {
      std::lock_guard p(r.pending_mu);
      std::vector<ItemRef> refs;
      refs.reserve(std::min(r.pending.size(), kFlushChunk));
      for (auto it = r.pending.begin(); it != r.pending.end() && refs.size() < kFlushChunk; ++it) {
        refs.push_back(*it);
      }
      for (ItemRef ref : refs) r.pending.erase(ref);
      if (taken) taken->insert(refs.begin(), refs.end());
      more = !r.pending.empty();
      std::sort(refs.begin(), refs.end());
      work.reserve(refs.size());
      for (ItemRef ref : refs) {
        const Item* item = s.item_at(ref);
        work.emplace_back(ref, item ? std::optional<Item>(*item) : std::nullopt);
      }
      // While more chunks wait, the committed seq must not claim them.
      seq = more ? std::min<uint64_t>(r.indexed_seq.load(), s.last_seq()) : s.last_seq();
    });
    // Nothing to write: the committed seq stays (catch-up skips non-catalog records) unless
    // the journal ran far past it, which every start after would scan again.
    if (work.empty()) return r.commit_seq_if_behind(seq);

    // One thread per shard: analysis and Xapian's term generation are the cost.
    const unsigned n = r.opts.shards;
    std::vector<std::string> errors(n);
    // Vocabulary deltas (document frequencies of free-text terms), one map per shard thread.
    std::vector<absl::flat_hash_map<std::string, int64_t>> vocab_deltas(n);
    auto write_shard = [&](unsigned shard) {
      try {
        Xapian::WritableDatabase& db = *r.shards[shard];
        const DocumentBuilder& builder = *r.builders[shard];
        auto& deltas = vocab_deltas[shard];
        auto count_terms = [&](Xapian::TermIterator t, Xapian::TermIterator end, int64_t sign) {
          for (; t != end; ++t) {
            const std::string& term = *t;
            if (is_vocabulary_term(term)) deltas[term] += sign;
          }
        };
        for (const auto& [ref, item] : work) {
          if (ref % n != shard) continue;
          const Xapian::docid local = ref / n + 1;
          if (r.has_doc(ref)) {
            // Terms leave the vocabulary with the document version that had them.
            Xapian::Document old = db.get_document(local);
            count_terms(old.termlist_begin(), old.termlist_end(), -1);
          }
          if (item) {
            Xapian::Document doc = builder.build(ref, *item);
            count_terms(doc.termlist_begin(), doc.termlist_end(), +1);
            db.replace_document(local, doc);
          } else {
            try {
              db.delete_document(local);
            } catch (const Xapian::DocNotFoundError&) {
            }
          }
        }
        // One commit (and its fsyncs) per flush, not per chunk: Xapian still writes its
        // buffer out past its own threshold, and an interrupted flush leaves the old seq, so
        // the next attach redoes the work.
        if (!more) {
          db.set_metadata(kSeqKey, std::to_string(seq));
          db.commit();
        }
      } catch (const Xapian::DatabaseCorruptError& e) {
        errors[shard] = xapian_error(e);
        r.mark_damaged(errors[shard]);
      } catch (const Xapian::Error& e) {
        errors[shard] = xapian_error(e);
      }
    };
    for_each_shard(n, work.size() >= 64, write_shard);
    for (const auto& e : errors) {
      if (!e.empty()) {
        // The journal still has everything: a restart catches the index up again.
        std::lock_guard p(r.pending_mu);
        for (const auto& w : work) r.pending.insert(w.first);
        return Status::io_error("index write failed: " + e);
      }
    }
    for (const auto& [ref, item] : work) r.set_has_doc(ref, item.has_value());
    for (auto& deltas : vocab_deltas) {
      std::vector<std::pair<std::string, int64_t>> list(deltas.begin(), deltas.end());
      r.vocab->add(list);
    }
    // Every typo lookup runs its automaton over each term of the delta, and a merge
    // rebuilds the whole base (docs/FUZZY.md has both costs). Merged past 1/256 of the base:
    // at most a few thousand terms stay in the delta. At 1/4 of the base, as until
    // 2026-12-07, an index rebuilt from the State at start left up to a quarter of its
    // vocabulary there, and typo lookups stayed many times slower until the next restart.
    if (r.vocab->delta_size() > std::max<size_t>(kMaxUnmergedTerms, r.vocab->base()->size() / 256)) {
      r.vocab->merge();
    }
    if (more) continue;
    uint64_t docs = 0;
    for (auto& db : r.shards) docs += db->get_doccount();
    r.doc_count.store(docs);
    r.indexed_seq.store(seq);
    r.generation.fetch_add(1, std::memory_order_release);
  }
  return {};
}

namespace {

// The shards a re-index writes beside the serving ones, with the builders of the new field
// weights and which refs have a document in them.
struct FreshShards {
  std::vector<std::unique_ptr<Xapian::WritableDatabase>> dbs;
  std::vector<std::unique_ptr<DocumentBuilder>> builders;
  std::vector<bool> has_doc;

  // Writes the items at `refs` as the State holds them now (deleting those that are gone).
  Status write(Store& store, const std::vector<ItemRef>& refs) {
    const auto n = static_cast<unsigned>(dbs.size());
    std::vector<std::pair<ItemRef, std::optional<Item>>> work;
    work.reserve(refs.size());
    store.read([&](const State& s) {
      for (ItemRef ref : refs) {
        const Item* item = s.item_at(ref);
        work.emplace_back(ref, item ? std::optional<Item>(*item) : std::nullopt);
      }
    });
    std::vector<std::string> errors(n);
    for_each_shard(n, work.size() >= 64, [&](unsigned shard) {
      try {
        for (const auto& [ref, item] : work) {
          if (ref % n != shard) continue;
          if (item) {
            dbs[shard]->replace_document(ref / n + 1, builders[shard]->build(ref, *item));
          } else if (ref < has_doc.size() && has_doc[ref]) {
            dbs[shard]->delete_document(ref / n + 1);
          }
        }
      } catch (const Xapian::Error& e) {
        errors[shard] = xapian_error(e);
      }
    });
    for (const auto& e : errors) {
      if (!e.empty()) return Status::io_error("re-index write failed: " + e);
    }
    for (const auto& [ref, item] : work) {
      if (ref >= has_doc.size()) has_doc.resize(std::max<size_t>(ref + 1, has_doc.size() * 2));
      has_doc[ref] = item.has_value();
    }
    return {};
  }
};

}  // namespace

// The re-index after the searchable fields changed. The serving shards keep answering and
// following events while every item is written into fresh shards under next/; those are then
// committed at the serving shards' seq and renamed into their place. Items still pending are
// written afterwards by write_pending, into the new shards. A crash
// before the swap leaves next/, which attach removes; one during the renames leaves shards
// of both weights, which attach rebuilds.
Status CatalogIndex::Rep::reindex(const DocumentSettings& wanted) {
  Rep& r = *this;
  const unsigned n = r.opts.shards;
  std::error_code ec;
  fs::remove_all(fs::path(r.dir) / kNextDir, ec);
  fs::create_directories(fs::path(r.dir) / kNextDir, ec);
  FreshShards fresh;
  // Before the swap, a re-index that stops leaves nothing behind: on a full disk, what it
  // wrote is the space the serving shards need.
  auto abandon = [&](Status why) {
    fresh.dbs.clear();
    std::error_code ignored;
    fs::remove_all(fs::path(r.dir) / kNextDir, ignored);
    return why;
  };
  try {
    for (unsigned i = 0; i < n; ++i) {
      fresh.dbs.push_back(std::make_unique<Xapian::WritableDatabase>(
          r.shard_path(kNextDir, i), Xapian::DB_CREATE | Xapian::DB_BACKEND_GLASS));
      fresh.dbs.back()->set_metadata(kConfigKey, config_string(r.opts));
      fresh.dbs.back()->set_metadata(kFieldsKey, to_string(wanted.weights));
      fresh.dbs.back()->set_metadata(kAttributesKey, wanted.attributes.layout());
      fresh.builders.push_back(std::make_unique<DocumentBuilder>(r.opts.language));
      fresh.builders.back()->set_settings(wanted);
    }
  } catch (const Xapian::Error& e) {
    return abandon(
        Status::io_error("re-index: cannot create shards in " + r.dir + ": " + xapian_error(e)));
  }

  std::vector<ItemRef> refs;
  r.store->read([&](const State& s) {
    for (ItemRef ref = 0; ref < s.item_refs(); ++ref) {
      if (s.item_at(ref)) refs.push_back(ref);
    }
  });
  // Between chunks the serving shards take the events that arrived (write_pending), so they
  // show in search during the re-index; the items they touched are written again into the
  // fresh shards at the end, as the State holds them then. Until 2026-12-08 they waited for
  // the swap.
  absl::flat_hash_set<ItemRef> touched;
  for (size_t at = 0; at < refs.size(); at += kReindexChunk) {
    if (r.interrupted.load()) return abandon(Status());
    const size_t end = std::min(refs.size(), at + kReindexChunk);
    Status written = fresh.write(*r.store, std::vector<ItemRef>(refs.begin() + static_cast<std::ptrdiff_t>(at),
                                                                refs.begin() + static_cast<std::ptrdiff_t>(end)));
    if (!written.ok()) return abandon(std::move(written));
    // A failed write leaves its items pending: they go into the new shards after the swap.
    (void)r.write_pending(&touched);
  }
  if (!touched.empty()) {
    Status written = fresh.write(*r.store, std::vector<ItemRef>(touched.begin(), touched.end()));
    if (!written.ok()) return abandon(std::move(written));
  }

  // The vocabulary's document frequencies move by what the new documents hold against the
  // old (only when a field joined or left the searched ones).
  absl::flat_hash_map<std::string, int64_t> delta;
  try {
    auto count = [&](Xapian::WritableDatabase& db, int64_t sign) {
      for (auto t = db.allterms_begin(); t != db.allterms_end(); ++t) {
        if (is_vocabulary_term(*t)) delta[*t] += sign * static_cast<int64_t>(t.get_termfreq());
      }
    };
    for (unsigned i = 0; i < n; ++i) {
      fresh.dbs[i]->set_metadata(kSeqKey, std::to_string(r.indexed_seq.load()));
      fresh.dbs[i]->commit();
      count(*fresh.dbs[i], +1);
      count(*r.shards[i], -1);
      fresh.dbs[i]->close();
    }
  } catch (const Xapian::Error& e) {
    return abandon(Status::io_error("re-index commit failed: " + xapian_error(e)));
  }

  // Swap: the serving shards move to old/ (readers holding them keep their open files), the
  // new ones take their paths, and readers open those at their next search.
  r.shards.clear();
  fs::create_directories(fs::path(r.dir) / kOldDir, ec);
  for (unsigned i = 0; i < n && !ec; ++i) {
    fs::rename(r.shard_path(i), r.shard_path(kOldDir, i), ec);
    if (!ec) fs::rename(r.shard_path(kNextDir, i), r.shard_path(i), ec);
  }
  try {
    for (unsigned i = 0; i < n; ++i) {
      r.shards.push_back(std::make_unique<Xapian::WritableDatabase>(
          r.shard_path(i), Xapian::DB_OPEN | Xapian::DB_BACKEND_GLASS));
    }
  } catch (const Xapian::Error& e) {
    if (!ec) ec = std::make_error_code(std::errc::io_error);
    r.mark_damaged("re-index swap: " + xapian_error(e));
  }
  if (ec) {
    r.mark_damaged("re-index swap: " + ec.message());
    return Status::io_error("re-index: swapping the shards in " + r.dir + " failed (" +
                            ec.message() + "); the index is rebuilt on the next start");
  }
  fs::remove_all(fs::path(r.dir) / kOldDir, ec);
  fs::remove_all(fs::path(r.dir) / kNextDir, ec);

  r.docs = std::move(fresh.has_doc);
  r.set_settings(wanted);
  std::vector<std::pair<std::string, int64_t>> list;
  for (auto& [term, d] : delta) {
    if (d != 0) list.emplace_back(term, d);
  }
  r.vocab->add(list);
  r.vocab->merge();
  uint64_t docs = 0;
  for (auto& db : r.shards) docs += db->get_doccount();
  r.doc_count.store(docs);
  r.epoch.fetch_add(1, std::memory_order_release);
  r.generation.fetch_add(1, std::memory_order_release);
  return {};
}

uint64_t CatalogIndex::indexed_seq() const { return rep_->indexed_seq.load(); }
Result<TypoChoice> typo_choice(const TypoParams& params, const TypoSettings& index_default) {
  TypoChoice out;
  TypoSettings t = index_default;
  if (params.typos) {
    const std::string& v = *params.typos;
    if (v == "0" || v == "false") {
      out.tolerance = false;
    } else if (v == "1") {
      t.max_typos = 1;
    } else if (v == "2" || v == "true") {
      t.max_typos = 2;
    } else {
      return Status::invalid("expected 0, 1 or 2 (or false, true), got \"" + v + "\"", "typos");
    }
  }
  constexpr int64_t kMaxLen = 64;
  if (params.min_len_1typo) {
    if (*params.min_len_1typo < 1 || *params.min_len_1typo > kMaxLen) {
      return Status::invalid("expected 1.." + std::to_string(kMaxLen) + ", got " +
                                 std::to_string(*params.min_len_1typo),
                             "min_len_1typo");
    }
    t.min_len_1typo = static_cast<size_t>(*params.min_len_1typo);
  }
  if (params.min_len_2typo) {
    if (*params.min_len_2typo < 1 || *params.min_len_2typo > kMaxLen) {
      return Status::invalid("expected 1.." + std::to_string(kMaxLen) + ", got " +
                                 std::to_string(*params.min_len_2typo),
                             "min_len_2typo");
    }
    t.min_len_2typo = static_cast<size_t>(*params.min_len_2typo);
  }
  if (t.min_len_2typo < t.min_len_1typo) {
    return Status::invalid("expected at least min_len_1typo (" + std::to_string(t.min_len_1typo) +
                               "), got " + std::to_string(t.min_len_2typo),
                           params.min_len_2typo ? "min_len_2typo" : "min_len_1typo");
  }
  if (!(t == index_default)) out.settings = t;
  return out;
}

TypoSettings CatalogIndex::typo_defaults() const {
  TypoSettings t = rep_->opts.typos;
  if (rep_->store == nullptr) return t;
  rep_->store->read([&](const State& st) { t = with_search_settings(t, st.search_settings()); });
  return t;
}
uint64_t CatalogIndex::document_count() const { return rep_->doc_count.load(); }
uint64_t CatalogIndex::disk_bytes() const { return dir_bytes(rep_->dir); }

}  // namespace trove
