#include "trove/recommend/recommender.h"

#include <absl/container/flat_hash_set.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "journal_fold.h"
#include "trove/data/journal.h"
#include "trove/recommend/models_file.h"

namespace trove {
namespace {

constexpr size_t kMaxCount = 100;
// Row updates made together while no read wants the rows: 2^21 (32 MiB). In development runs
// of the retail stream's bulk import over HTTP (16 million updates to 4,000 items' rows; how:
// docs/BENCHMARKS.md) it ran at ~157,000 events/s with a batch per 1,024 events, ~172,000
// with 2^18, 180,000-190,000 with 2^21 to 2^23; recommend_bench prints a row for 2^21.
constexpr size_t kRowBatch = size_t{1} << 21;

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// Folds `models` over the journal records from..until, leaving out forgotten people's events;
// stops early (Unavailable) once *stop is set.
Status fold_journal(const std::string& data_dir, uint64_t from, uint64_t until,
                    const std::vector<RecoModels::Forgotten>& forgotten, RecoModels* models,
                    const std::atomic<bool>* stop = nullptr) {
  reco_internal::Fold fold;
  fold.from = from;
  fold.until = until;
  fold.forgotten = &forgotten;
  fold.stop = stop;
  return reco_internal::fold_journal(data_dir, models, fold);
}

bool has_category_prefix(const Item& item, const std::string& prefix) {
  if (!item.data.categories) return false;
  for (const auto& c : *item.data.categories) {
    if (c.size() >= prefix.size() && c.compare(0, prefix.size(), prefix) == 0 &&
        (c.size() == prefix.size() || c[prefix.size()] == ' ' || c[prefix.size()] == '>')) {
      return true;
    }
  }
  return false;
}

// The top level of an item's first category path ("Food" of "Food > Chocolate").
std::string top_category(const Item& item) {
  if (!item.data.categories || item.data.categories->empty()) return {};
  const std::string& path = item.data.categories->front();
  std::string top = path.substr(0, path.find('>'));
  while (!top.empty() && top.back() == ' ') top.pop_back();
  while (!top.empty() && top.front() == ' ') top.erase(0, 1);
  return top;
}

// Every list on one scale. An answer is built source after source (an offline list, then the
// model, then the fallbacks), each in its own units: a position, a co-occurrence weight, a
// decayed count. A client that sorts or thresholds by score needs one scale, so each source's
// run of items is divided by its best (a run whose best is not positive counts as level), and
// run k of n takes the band [(n-1-k)/n, (n-k)/n]: the list reads top to bottom in the order
// served, every score in [0, 1], the first 1. `source` becomes the runs' sources joined by +.
void to_one_scale(RecoResponse* out) {
  auto& items = out->items;
  std::vector<size_t> starts;  // where each run of one source begins
  for (size_t i = 0; i < items.size(); ++i) {
    if (i == 0 || items[i].source != items[i - 1].source) starts.push_back(i);
  }
  out->source.clear();
  const double runs = static_cast<double>(starts.size());
  for (size_t k = 0; k < starts.size(); ++k) {
    const size_t end = k + 1 < starts.size() ? starts[k + 1] : items.size();
    double best = 0;
    for (size_t i = starts[k]; i < end; ++i) best = std::max(best, items[i].score);
    const double floor = (runs - 1 - static_cast<double>(k)) / runs;
    for (size_t i = starts[k]; i < end; ++i) {
      double own = best > 0 && std::isfinite(best) ? std::max(items[i].score, 0.0) / best : 1;
      if (!(own >= 0 && own <= 1)) own = 1;  // a NaN score (or one above an infinite best)
      double score = floor + own / runs;
      if (i > 0) score = std::min(score, items[i - 1].score);  // a source's order kept as served
      items[i].score = score;
    }
    out->source += (k == 0 ? "" : "+") + items[starts[k]].source;
  }
}

}  // namespace

struct Recommender::Rep {
  Store* store = nullptr;
  uint64_t listener = 0;
  RecoModels models;  // guarded by the Store's lock (written by the listener)
  std::vector<RecoModels::Forgotten> forgotten;
  std::atomic<uint64_t> rebuilds{0};
  std::atomic<bool> ready{false};
  ModelsBuildReport startup;  // how open() built the models

  // EASE: the model in use (swapped whole under ease_mu) and the training thread.
  mutable std::mutex ease_mu;
  mutable std::condition_variable ease_done;
  std::shared_ptr<const EaseModel> ease;
  bool ease_running = false;
  std::thread ease_thread;
  std::shared_ptr<const EaseModel> current_ease() const {
    std::lock_guard lock(ease_mu);
    return ease;
  }
  // UserForget: the models are rebuilt from the journal without the person's events on a
  // thread of their own, off the Store's lock (a replay takes seconds on a large journal;
  // ingestion and reads go on meanwhile), then the records applied in between are folded in
  // and the result swapped in under the write lock. Until then the people the forget names
  // (their person keys in `unforgotten`, guarded by the Store's lock like `forgotten`,
  // `models` and `rebuild_error`) get no personal output. A rebuild that cannot read the
  // journal is tried again after the next group commit; forget_status() says why meanwhile.
  Status rebuild_error;
  absl::flat_hash_set<std::string> unforgotten;
  std::atomic<uint64_t> rebuild_failures{0};
  std::mutex forget_mu;  // guards the three below; never held while taking the Store's lock
  std::condition_variable forget_cv;
  bool forget_wanted = false;   // a forget (or a commit after a failed rebuild) to act on
  bool forget_running = false;
  std::atomic<bool> forget_stop{false};
  std::thread forget_thread;

  void want_rebuild() {
    {
      std::lock_guard lock(forget_mu);
      forget_wanted = true;
    }
    forget_cv.notify_all();
  }

  void forget_loop() {
    std::unique_lock lock(forget_mu);
    for (;;) {
      forget_cv.wait(lock, [&] { return forget_stop.load() || forget_wanted; });
      if (forget_stop.load()) return;
      forget_wanted = false;
      forget_running = true;
      lock.unlock();
      rebuild_once();
      lock.lock();
      forget_running = false;
      forget_cv.notify_all();  // wait_for_forgets()
    }
  }

  void rebuild_once() {
    std::vector<RecoModels::Forgotten> list;
    uint64_t until = 0;
    bool pending = false;
    RecommendOptions opts;
    store->read([&](const State&) {
      pending = !unforgotten.empty();
      list = forgotten;
      until = models.last_seq();
      opts = models.options();
    });
    if (!pending) return;
    RecoModels fresh(opts);
    Status st = fold_journal(store->data_dir(), 1, until, list, &fresh, &forget_stop);
    if (forget_stop.load()) return;
    store->exclusive([&](const State&) {
      if (forgotten.size() != list.size()) return;  // another forget came: its wake-up redoes it
      // The records applied while the thread folded, into the fresh models too.
      if (st.ok()) st = fold_journal(store->data_dir(), until + 1, models.last_seq(), list, &fresh);
      if (!st.ok()) {
        rebuild_error = std::move(st);
        rebuild_failures.fetch_add(1);
        return;
      }
      models = std::move(fresh);
      unforgotten.clear();
      rebuild_error = {};
      rebuilds.fetch_add(1);
    });
  }
  // Whether `who` (a person key) may get personal output now.
  bool personal(const std::string& who) const {
    return models.personalized(who) && !unforgotten.contains(who);
  }

  // What a request may return, as RecoModels item indexes.
  struct Gate {
    const State& st;
    const RecoModels& m;
    const RecoRequest& req;
    absl::flat_hash_set<std::string> exclude;
    // The request's filters and catalog filters, matched as search matches them.
    Filter filter = Filter::of(req.filters) && req.filter;
    AttributeSchema schema = AttributeSchema::of(st);
    // Out-of-stock items only when the filters speak of in_stock anywhere (which they then
    // check: `in_stock = false OR brand = X` selects as search selects). Until 2026-12-08 only
    // a top-level conjunct did, and such an OR dropped every out-of-stock item.
    bool any_stock = req.filters.in_stock.has_value() || req.filter.mentions("in_stock");
    bool operator()(uint32_t i) const { return allows(m.item_id(i)); }
    bool allows(const std::string& id) const {
      if (id == req.item_id || exclude.contains(id)) return false;
      const Item* item = st.item(id);
      if (!item) return false;
      if (!any_stock && !item->data.in_stock.value_or(true)) return false;
      return filter.matches(*item, schema);
    }
  };

  Status check(const RecoRequest& req) const {
    if (req.count < 1 || req.count > kMaxCount) {
      return Status::invalid("expected 1.." + std::to_string(kMaxCount) + ", got " +
                                 std::to_string(req.count),
                             "count");
    }
    if (req.window_days && (*req.window_days < 1 || *req.window_days > kMaxWindowDays)) {
      return Status::invalid("expected 1.." + std::to_string(kMaxWindowDays) + " days, got " +
                                 std::to_string(*req.window_days),
                             "window_days");
    }
    return {};
  }

  // Appends catalog item `id` with its score and source, unless the answer holds it already.
  // Returns whether it was added.
  static bool add(const std::string& id, const Item& item, double score, std::string_view source,
                  RecoResponse* out) {
    if (std::any_of(out->items.begin(), out->items.end(),
                    [&](const Recommendation& r) { return r.id == id; })) {
      return false;
    }
    const ItemUpsert& d = item.data;
    out->items.push_back({id, d.title, d.brand, d.price, score, std::string(source), d.currency,
                          d.url, d.image_url});
    return true;
  }

  // The catalog's newest items that the gate lets through (and, given a person, that they
  // may be offered: RecoModels::excluded_for), scored by position (the newest 1, each next one
  // 0.99 of the one before: the order, on the one scale).
  void newest(const State& st, const Gate& gate, RecoResponse* out,
              const std::string* person = nullptr) const {
    double score = 1;
    st.newest_items([&](ItemRef ref, const Item& item) {
      if (out->items.size() >= gate.req.count) return false;
      const std::string& id = st.item_id(ref);
      if (!gate.allows(id)) return true;
      if (person) {
        const std::optional<uint32_t> i = models.item_index(id);
        if (i && models.excluded_for(*person, *i)) return true;
      }
      if (add(id, item, score, "new-arrivals", out)) score *= 0.99;
      return true;
    });
  }

  // Adds answers to `out` (no repeats, up to req.count), noting their source.
  static void take(const State& st, const RecoModels& m, const std::vector<ScoredItem>& found,
                   const std::string& source, const RecoRequest& req, RecoResponse* out) {
    for (const auto& s : found) {
      if (out->items.size() >= req.count) break;
      const std::string& id = m.item_id(s.item);
      if (const Item* item = st.item(id)) add(id, *item, s.score, source, out);
    }
  }

  // Popular items within the categories of `seeds` (top level), then, if `global`, any.
  // Popular items that `accept` lets through: those within the top categories of `seeds`
  // first (when there are any), then any.
  void fill_popular(const State& st, const RecoModels::Accept& accept,
                    const std::vector<uint32_t>& seeds, const RecoRequest& req,
                    RecoResponse* out) const {
    if (out->items.size() >= req.count) return;
    absl::flat_hash_set<std::string> cats;
    for (uint32_t s : seeds) {
      if (const Item* item = st.item(models.item_id(s))) {
        if (auto c = top_category(*item); !c.empty()) cats.insert(c);
      }
    }
    const size_t want = req.count + out->items.size();
    if (!cats.empty()) {
      auto in_cats = [&](uint32_t i) {
        if (!accept(i)) return false;
        const Item* item = st.item(models.item_id(i));
        return std::any_of(cats.begin(), cats.end(),
                           [&](const std::string& c) { return has_category_prefix(*item, c); });
      };
      take(st, models, models.popular(want, in_cats), "category-popularity", req, out);
    }
    take(st, models, models.popular(want, accept), "popularity", req, out);
  }

  std::string person(const RecoRequest& req) const {
    return models.person_key(req.user_id, req.visitor_id);
  }

  // The offline list for (scope, this placement or any, key), as given, before the models'
  // answers.
  static void offline(const State& st, const Gate& gate, RecoScope scope, std::string_view placement,
                      const std::string& key, RecoResponse* out) {
    const auto& lists = st.offline_recommendations();
    for (const std::string_view p : {placement, std::string_view("*")}) {
      if (p.empty()) continue;
      std::string k(reco_scope_name(scope));
      k += "/";
      k += p;
      k += "/";
      k += key;
      auto it = lists.find(k);
      if (it == lists.end()) continue;
      // Scored by position as given: the first the list's length, the last 1.
      double score = static_cast<double>(it->second.size());
      for (ItemRef ref : it->second) {
        const std::string& id = st.item_id(ref);
        const Item* item = st.item_at(ref);
        score -= 1;
        if (!item || !gate.allows(id) || out->items.size() >= gate.req.count) continue;
        add(id, *item, score + 1, "offline", out);
      }
      return;
    }
  }

  // Items like the request's item by their text (CatalogIndex::similar_items), for similar
  // when behaviour is short: asked outside serve(), whose read lock the index's own would
  // nest in.
  using Content = std::vector<ContentMatch>;

  // An answer that needed more than behaviour: short of items, or filled from popularity.
  static bool short_of_behaviour(const RecoResponse& r, const RecoRequest& req) {
    return r.items.size() < req.count ||
           std::any_of(r.items.begin(), r.items.end(), [](const Recommendation& i) {
             return i.source == "category-popularity" || i.source == "popularity" ||
                    i.source == "new-arrivals";
           });
  }

  // serve(), then for a similar list short of behaviour, again with the item's content
  // matches (without an index, or when the index fails, the first answer stands).
  Result<RecoResponse> serve_with_content(Strategy strategy, std::string_view placement,
                                          const RecoRequest& req,
                                          const CatalogIndex* index) const {
    auto out = serve(strategy, placement, req);
    if (strategy != Strategy::kSimilar || !index || !out.ok() || !short_of_behaviour(*out, req)) {
      return out;
    }
    // Enough candidates that catalog filters and exclusions leave req.count.
    auto content = index->similar_items(req.item_id, 4 * req.count + req.exclude.size() + 16);
    if (!content.ok() || content->empty()) return out;
    return serve(strategy, placement, req, &*content);
  }

  // Content matches that the gate lets through, after what `out` holds.
  static void take_content(const State& st, const Gate& gate, const Content& content,
                           RecoResponse* out) {
    for (const ContentMatch& c : content) {
      if (out->items.size() >= gate.req.count) return;
      const Item* item = st.item_at(c.ref);
      if (item && gate.allows(st.item_id(c.ref))) {
        add(st.item_id(c.ref), *item, c.weight, "similar-content", out);
      }
    }
  }

  Result<RecoResponse> serve(Strategy strategy, std::string_view placement,
                             const RecoRequest& req, const Content* content = nullptr) const {
    const auto t0 = std::chrono::steady_clock::now();
    TROVE_RETURN_IF_ERROR(check(req));
    RecoResponse out;
    Status failure;
    store->read([&](const State& st) {
      Gate gate{st, models, req, {req.exclude.begin(), req.exclude.end()}};
      failure = gate.filter.check(gate.schema);
      if (!failure.ok()) return;
      const std::string who = person(req);
      const bool anyone = !req.user_id.empty() || !req.visitor_id.empty();
      switch (strategy) {
        case Strategy::kSimilar:
        case Strategy::kBoughtTogether: {
          out.strategy = strategy == Strategy::kSimilar ? "similar" : "bought-together";
          if (req.item_id.empty()) {
            failure = Status::invalid("expected the item to recommend for", "item_id");
            return;
          }
          if (!st.item(req.item_id)) {
            failure = Status::not_found("no item \"" + req.item_id + "\" in the catalog");
            return;
          }
          offline(st, gate, RecoScope::kItem, placement, req.item_id, &out);
          auto idx = models.item_index(req.item_id);
          if (idx) {
            take(st, models,
                 strategy == Strategy::kSimilar
                     ? models.similar(*idx, req.count + out.items.size(), std::cref(gate))
                     : models.bought_together(*idx, req.count + out.items.size(), std::cref(gate)),
                 strategy == Strategy::kSimilar ? "co-occurrence" : "bought-together", req, &out);
          }
          // Short of neighbours (a new item): items like it by their text.
          if (content) take_content(st, gate, *content, &out);
          // A new item (or one with few neighbours): the popular items of its category.
          if (out.items.size() < req.count) {
            const Item* item = st.item(req.item_id);
            const std::string cat = top_category(*item);
            if (!cat.empty()) {
              auto in_cat = [&](uint32_t i) {
                return gate(i) && has_category_prefix(*st.item(models.item_id(i)), cat);
              };
              take(st, models, models.popular(req.count + out.items.size(), in_cat),
                   "category-popularity", req, &out);
            }
          }
          // Still short (no category, or a small one): everyone's popular items, so a new item
          // without a category is not answered with nothing.
          if (out.items.size() < req.count) {
            take(st, models, models.popular(req.count + out.items.size(), std::cref(gate)),
                 "popularity", req, &out);
          }
          // A shop with a catalog and no behaviour yet: its newest items, not nothing.
          if (out.items.empty()) newest(st, gate, &out);
          break;
        }
        case Strategy::kForYou: {
          out.strategy = "for-you";
          const bool personal = anyone && this->personal(who);
          // Personal output needs a person the models know; others get the popular items.
          out.personalized = personal && !models.recent_items(who, false).empty();
          if (personal) {
            offline(st, gate, RecoScope::kUser, placement, req.user_id.empty() ? req.visitor_id : req.user_id, &out);
            const size_t want = req.count + out.items.size();
            auto ease_model = models.options().ease_blend > 0 ? current_ease() : nullptr;
            if (ease_model) {
              // Blend with EASE: both lists' candidates, normalized, EASE weighted.
              auto offerable = [&](uint32_t i) { return gate(i) && !models.excluded_for(who, i); };
              const size_t c = std::max<size_t>(100, want);
              auto history = models.interactions_of(who);
              take(st, models,
                   blend_lists(models.for_you(who, c, std::cref(gate)), 1.0,
                               ease_model->recommend(history, c, offerable, true),
                               models.options().ease_blend, want),
                   "co-occurrence+ease", req, &out);
            } else {
              take(st, models, models.for_you(who, want, std::cref(gate)), "co-occurrence", req, &out);
            }
            auto seeds = models.recent_items(who, false);
            auto not_excluded = [&](uint32_t i) { return gate(i) && !models.excluded_for(who, i); };
            // Cold start or few neighbours: the person's categories, then everyone's; in a shop
            // without behaviour yet, the catalog's newest rather than nothing.
            fill_popular(st, not_excluded, seeds, req, &out);
            if (out.items.empty()) newest(st, gate, &out, &who);
          } else {
            offline(st, gate, RecoScope::kGlobal, placement, "*", &out);
            fill_popular(st, std::cref(gate), {}, req, &out);
            if (out.items.empty()) newest(st, gate, &out);
          }
          break;
        }
        case Strategy::kTrending:
          out.strategy = "trending";
          offline(st, gate, RecoScope::kGlobal, placement, "*", &out);
          take(st, models, models.trending(req.count + out.items.size(), std::cref(gate)),
               "trending", req, &out);
          // Few items gaining on their baseline (a quiet day): the popular ones after them; in a
          // shop without behaviour yet, the newest rather than nothing.
          fill_popular(st, std::cref(gate), {}, req, &out);
          if (out.items.empty()) newest(st, gate, &out);
          break;
        case Strategy::kPopular:
          out.strategy = "popular";
          offline(st, gate, RecoScope::kGlobal, placement, "*", &out);
          take(st, models,
               models.popular_within(req.window_days.value_or(0), req.count + out.items.size(),
                                     std::cref(gate)),
               "popular", req, &out);
          break;
        case Strategy::kNewArrivals:
          out.strategy = "new-arrivals";
          offline(st, gate, RecoScope::kGlobal, placement, "*", &out);
          newest(st, gate, &out);
          break;
        case Strategy::kRecentlyViewed: {
          out.strategy = "recently-viewed";
          const bool personal = anyone && this->personal(who);
          out.personalized = personal;
          if (!personal) break;
          std::vector<ScoredItem> seen;
          double score = 1;
          for (uint32_t i : models.recent_items(who, true)) {
            if (gate(i) && !(req.drop_bought && models.has_bought(who, i))) seen.push_back({i, score});
            score *= 0.9;
          }
          take(st, models, seen, "recently-viewed", req, &out);
          break;
        }
      }
    });
    TROVE_RETURN_IF_ERROR(failure);
    to_one_scale(&out);
    out.took_ms = ms_since(t0);
    return out;
  }
};

Recommender::Recommender(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}

const ModelsBuildReport& Recommender::startup() const { return rep_->startup; }
Recommender::~Recommender() {
  rep_->forget_stop.store(true);
  rep_->forget_cv.notify_all();
  if (rep_->forget_thread.joinable()) rep_->forget_thread.join();
  if (rep_->ease_thread.joinable()) rep_->ease_thread.join();
  if (rep_->store && rep_->listener) rep_->store->remove_listener(rep_->listener);
}

Status Recommender::train_ease(const EaseOptions& opts) {
  Rep& r = *rep_;
  {
    std::lock_guard lock(r.ease_mu);
    if (r.ease_running) return Status::unavailable("an EASE training is running");
    r.ease_running = true;
  }
  if (r.ease_thread.joinable()) r.ease_thread.join();
  std::vector<EaseCell> cells;
  r.store->read([&](const State&) {
    r.models.for_each_interaction([&](uint32_t person, uint32_t item, double weight) {
      if (!opts.skip_unpersonalized || r.models.personalized(r.models.person(person))) {
        cells.push_back({person, item, weight});
      }
    });
  });
  r.ease_thread = std::thread([&r, opts, cells = std::move(cells)] {
    auto trained = std::make_shared<const EaseModel>(EaseModel::train(cells, opts));
    std::lock_guard lock(r.ease_mu);
    r.ease = std::move(trained);
    r.ease_running = false;
    r.ease_done.notify_all();
  });
  return {};
}

void Recommender::wait_for_ease() const {
  std::unique_lock lock(rep_->ease_mu);
  rep_->ease_done.wait(lock, [&] { return !rep_->ease_running; });
}

std::optional<EaseModel::Stats> Recommender::ease_stats() const {
  auto e = rep_->current_ease();
  if (!e) return std::nullopt;
  return e->stats();
}

Result<std::unique_ptr<Recommender>> Recommender::open(Store& store, RecommendOptions opts,
                                                       const ModelsBuildOptions& build) {
  auto rep = std::make_unique<Rep>();
  rep->store = &store;
  rep->models = RecoModels(opts);
  Rep* r = rep.get();
  Status status;
  // The listener is added first but waits for `ready`, which the fold sets under the Store's
  // read lock: events applied before it are in the journal the fold reads (up to the State's
  // seq), events after it come through the listener; none twice, none missed.
  // Row updates are made after the group commit's slice, under the read lock (searches and
  // other reads of the state go on beside it; only reads of the rows wait), when a read used
  // the rows since the last time, or once kRowBatch wait; while nobody reads them (a bulk
  // import), larger batches give each row more of its updates while it is in cache.
  r->listener = store.add_listener([r](uint64_t seq, const Event& e, const State&) {
    if (!r->ready.load() || seq <= r->models.last_seq()) return;
    r->models.apply_deferred(seq, e);
    if (e.type() != EventType::kUserForget) return;
    // Erase the person: rebuild without their events (and their visitors'), exactly.
    const RecoModels::Forgotten& f = r->models.forgotten().back();
    r->forgotten.push_back(f);
    for (const auto& u : f.user_ids) r->unforgotten.insert(r->models.person_key(u, ""));
    for (const auto& v : f.visitor_ids) {
      r->unforgotten.insert("v:" + v);
      r->unforgotten.insert(r->models.person_key("", v));
    }
    r->want_rebuild();
  }, [r](const State&) {
    if (!r->unforgotten.empty() && !r->rebuild_error.ok()) r->want_rebuild();  // a failed one, again
  }, [r](const State&) {
    // (Not while the fold below builds the models: it runs under the read lock too.)
    if (!r->ready.load()) return;
    if (r->models.rows_wanted() || r->models.waiting_updates() >= kRowBatch) r->models.settle();
  });
  r->forget_thread = std::thread([r] { r->forget_loop(); });
  // The newest models file saved beside the snapshots and the journal after it, or the whole
  // journal (models_file.h): the same models either way.
  store.read([&](const State& s) {
    auto built = build_models(store.data_dir(), s.last_seq(), opts, &r->startup, build);
    if (built.ok()) {
      r->models = std::move(built->models);
      r->forgotten = std::move(built->filter);
    } else {
      status = built.status();
    }
    r->ready.store(true);
  });
  // Built first so that a failure still stops the thread and removes the listener.
  std::unique_ptr<Recommender> out(new Recommender(std::move(rep)));
  if (!status.ok()) return status;
  return out;
}

Result<RecoResponse> Recommender::similar(const RecoRequest& req,
                                          const CatalogIndex* index) const {
  return rep_->serve_with_content(Strategy::kSimilar, {}, req, index);
}
Result<RecoResponse> Recommender::bought_together(const RecoRequest& req) const {
  return rep_->serve(Strategy::kBoughtTogether, {}, req);
}
Result<RecoResponse> Recommender::for_you(const RecoRequest& req) const {
  return rep_->serve(Strategy::kForYou, {}, req);
}
Result<RecoResponse> Recommender::trending(const RecoRequest& req) const {
  return rep_->serve(Strategy::kTrending, {}, req);
}
Result<RecoResponse> Recommender::recently_viewed(const RecoRequest& req) const {
  return rep_->serve(Strategy::kRecentlyViewed, {}, req);
}
Result<RecoResponse> Recommender::popular(const RecoRequest& req) const {
  return rep_->serve(Strategy::kPopular, {}, req);
}
Result<RecoResponse> Recommender::new_arrivals(const RecoRequest& req) const {
  return rep_->serve(Strategy::kNewArrivals, {}, req);
}

Result<RecoResponse> Recommender::placement(std::string_view placement_id,
                                            const RecoRequest& req,
                                            const CatalogIndex* index) const {
  std::optional<PlacementUpsert> p;
  rep_->store->read([&](const State& st) {
    auto it = st.placements().find(std::string(placement_id));
    if (it != st.placements().end()) p = it->second;
  });
  if (!p) return Status::not_found("no placement \"" + std::string(placement_id) + "\"");
  RecoRequest q = req;
  if (p->count) q.count = static_cast<size_t>(*p->count);
  if (p->filters) {
    const PlacementFilters& f = *p->filters;
    if (!q.filters.category) q.filters.category = f.category;
    if (!q.filters.brand) q.filters.brand = f.brand;
    if (!q.filters.in_stock) q.filters.in_stock = f.in_stock;
    if (!q.filters.min_price) q.filters.min_price = f.min_price;
    if (!q.filters.max_price) q.filters.max_price = f.max_price;
  }
  if (!q.window_days) q.window_days = p->window_days;
  if (p->filter) {
    auto f = Filter::parse(*p->filter, "placement.filter");  // parsed when the event came in
    if (!f.ok()) return f.status();
    q.filter = q.filter && *f;
  }
  return rep_->serve_with_content(p->strategy, placement_id, q, index);
}

Result<SearchResponse> Recommender::search(const CatalogIndex& index, const SearchRequest& req,
                                           std::string_view user_id,
                                           std::string_view visitor_id) const {
  bool personal = false;
  std::string who;
  if (!user_id.empty() || !visitor_id.empty()) {
    rep_->store->read([&](const State&) {
      who = rep_->models.person_key(user_id, visitor_id);
      personal = rep_->personal(who) && !rep_->models.recent_items(who, false).empty();
    });
  }
  if (!personal) return index.search(req);
  // The index hands over its first kRerankWindow hits (under the Store's read lock, so the
  // models are consistent with the State) and cuts and highlights the page from our order.
  SearchRequest personalized = req;
  const RecoModels& m = rep_->models;
  const bool explain = req.explain;
  personalized.rerank = [&m, who, explain](const State& st, std::vector<RerankCandidate>& hits) {
    const RankingUpsert& rk = st.ranking();
    const double tw = rk.text_weight.value_or(1.0), aw = rk.affinity_weight.value_or(0.5),
                 pw = rk.popularity_weight.value_or(0.2), tp = rk.typo_penalty.value_or(0.3);
    std::vector<uint32_t> idx(hits.size(), UINT32_MAX);
    double max_text = 0, max_pop = 0;
    for (size_t i = 0; i < hits.size(); ++i) {
      if (auto k = m.item_index(hits[i].id)) idx[i] = *k;
      max_text = std::max(max_text, hits[i].score);
      if (idx[i] != UINT32_MAX) max_pop = std::max(max_pop, m.popularity(idx[i]));
    }
    std::vector<uint32_t> known;
    for (uint32_t k : idx) known.push_back(k == UINT32_MAX ? 0 : k);
    std::vector<double> aff = m.affinity(who, known);
    double max_aff = 0;
    for (size_t i = 0; i < hits.size(); ++i) {
      if (idx[i] == UINT32_MAX) aff[i] = 0;
      max_aff = std::max(max_aff, aff[i]);
    }
    for (size_t i = 0; i < hits.size(); ++i) {
      const double text = max_text > 0 ? hits[i].score / max_text : 0;
      const double affinity = max_aff > 0 ? aff[i] / max_aff : 0;
      const double pop = idx[i] != UINT32_MAX && max_pop > 0
                             ? std::log1p(m.popularity(idx[i])) / std::log1p(max_pop)
                             : 0;
      const double typo = static_cast<double>(hits[i].typos);
      hits[i].score = tw * text + aw * affinity + pw * pop - tp * typo;
      if (explain) {
        hits[i].ranking = {{"text", tw * text},
                           {"affinity", aw * affinity},
                           {"popularity", pw * pop},
                           {"typo_penalty", -tp * typo}};
      }
    }
    std::stable_sort(hits.begin(), hits.end(), [](const RerankCandidate& a, const RerankCandidate& b) {
      return a.score > b.score;
    });
  };
  return index.search(personalized);
}

std::string Recommender::digest() const {
  std::string d;
  rep_->store->read([&](const State&) { d = rep_->models.digest(); });
  return d;
}
RecoModels::Memory Recommender::memory() const {
  RecoModels::Memory m;
  rep_->store->read([&](const State&) { m = rep_->models.memory(); });
  return m;
}
uint64_t Recommender::rebuilds() const { return rep_->rebuilds.load(); }
uint64_t Recommender::rebuild_failures() const { return rep_->rebuild_failures.load(); }

Status Recommender::forget_status() const {
  Status out;
  rep_->store->read([&](const State&) {
    if (rep_->unforgotten.empty()) return;
    std::string why = rep_->rebuild_error.ok() ? std::string("rebuilding")
                                               : "rebuild failed: " + rep_->rebuild_error.to_string();
    out = Status::unavailable("a UserForget is not yet applied to the recommendation models "
                              "(their people get no personal output meanwhile): " + why);
  });
  return out;
}

void Recommender::wait_for_forgets() const {
  std::unique_lock lock(rep_->forget_mu);
  rep_->forget_cv.wait(lock, [&] { return !rep_->forget_wanted && !rep_->forget_running; });
}

}  // namespace trove
