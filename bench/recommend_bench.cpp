// recommend_bench: the recommendation hot paths on a generated shop of 4,000 items and 4,000
// people (trove generate's stream, deterministic), each figure beside a baseline measured in
// the same run, with the target it answers to:
//
//   (a) event apply with every model updating: State::apply + RecoModels, row updates
//       flushed per 1,024-event apply slice as the Recommender does while readers use the rows
//       (and per event, per 65,536, and only when 2^21 pile up: a bulk import nobody reads)
//                       vs State::apply alone (the foundation's fold)        target >= 500k/s
//   (b) latency p50/p99 per strategy (similar, bought together, for you, trending, recently
//       viewed) through Recommender (catalog filters, fallbacks, Store read lock)
//                       vs similar computed at request time from every person's
//                          interactions (no model kept)                      target p99 <= 1 ms
//   (c) personalized search: Recommender::search (top 100 re-ranked) vs CatalogIndex::search
//   (d) model memory per item and per person.
//
// Environment: TROVE_BENCH_DIR (temp dirs; default $TMPDIR or /tmp), TROVE_RECO_EVENTS
// (behaviour events, default 400000), TROVE_RECO_QUERIES (requests per strategy, default 4000).
// Never asserts a time.
#include <stdlib.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "retail_events.h"
#include "trove/data/generator.h"
#include "trove/data/state.h"
#include "trove/data/store.h"
#include "trove/index/catalog_index.h"
#include "trove/recommend/recommender.h"

namespace {

using namespace trove;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

double secs(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

size_t env_size(const char* name, size_t fallback) {
  const char* v = std::getenv(name);
  return v ? std::strtoull(v, nullptr, 10) : fallback;
}

// Wall time and the thread's CPU time per call: on a shared machine a 100 us call that is
// descheduled for a 4 ms time slice shows in the wall p99, not in the CPU p99.
struct Latency {
  std::vector<double> us, cpu_us;
  static double at(std::vector<double>& v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
  }
  double pct(double p) { return at(us, p); }
  double cpu_pct(double p) { return at(cpu_us, p); }
};

double thread_cpu_us() {
  timespec ts;
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

template <typename F>
Latency time_each(size_t n, F&& fn) {
  Latency l;
  l.us.reserve(n);
  l.cpu_us.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const double c0 = thread_cpu_us();
    const auto t0 = Clock::now();
    fn(i);
    l.us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    l.cpu_us.push_back(thread_cpu_us() - c0);
  }
  return l;
}

// The baseline for similar(): co-occurrence counted at request time from every person's
// interactions (what a shop without kept models would do).
std::vector<uint32_t> naive_similar(const RecoModels& m, uint32_t item, size_t n) {
  std::vector<double> co(m.item_count(), 0.0);
  std::vector<uint32_t> mine;
  uint32_t current = UINT32_MAX;
  bool has = false;
  auto flush = [&] {
    if (has) {
      for (uint32_t j : mine) co[j] += 1;
    }
    mine.clear();
    has = false;
  };
  m.for_each_interaction([&](uint32_t person, uint32_t i, double) {
    if (person != current) {
      flush();
      current = person;
    }
    if (i == item) has = true;
    else mine.push_back(i);
  });
  flush();
  std::vector<uint32_t> order(m.item_count());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  const size_t k = std::min(n, order.size());
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k), order.end(),
                    [&](uint32_t a, uint32_t b) { return co[a] > co[b]; });
  order.resize(k);
  return order;
}

// Event apply with every model, one thread, best of 3: State::apply + RecoModels as the
// Recommender runs them while readers use the rows (RecoModels::apply_deferred per event,
// flush() at the end of each slice of at most 1,024 events the Store applies under one hold of
// its write lock), beside larger slices, no flush until updates pile up (the Recommender while
// nobody reads the rows), RecoModels::apply per event (each row update at once), State alone
// (the baseline) and the models alone.
void report_apply(const char* what, const std::vector<Event>& events) {
  constexpr size_t kSlice = 1024;  // the Store's apply slice (data/src/store.cpp)
  // flush() once 2^21 wait, as the Recommender does while nobody reads the rows.
  constexpr size_t kPile = SIZE_MAX;
  // Best of 3 by wall time and, apart, by this thread's CPU time (which other processes on a
  // shared machine move less).
  struct Row {
    const char* name;
    bool state, models;
    size_t flush_every;  // 0: RecoModels::apply per event
    double wall = 1e30, cpu = 1e30;
  };
  Row rows[] = {{"State::apply + every model, rows per 1,024-event slice", true, true, kSlice},
                {"  ... rows per 65,536 events", true, true, 65536},
                {"  ... rows when 2^21 updates pile up (nobody reads)", true, true, kPile},
                {"  ... rows per event (RecoModels::apply)", true, true, 0},
                {"State::apply alone (baseline)", true, false, 0},
                {"RecoModels alone, rows per 1,024-event slice", false, true, kSlice}};
  for (int rep = 0; rep < 3; ++rep) {
    for (Row& row : rows) {
      const auto t0 = Clock::now();
      const double c0 = thread_cpu_us();
      State s;
      RecoModels m;
      uint64_t seq = 0;
      for (const auto& e : events) {
        ++seq;
        if (row.state) s.apply(seq, e);
        if (!row.models) continue;
        if (row.flush_every == 0) {
          m.apply(seq, e);
        } else {
          m.apply_deferred(seq, e);
          if (row.flush_every == kPile ? m.waiting_updates() >= (size_t{1} << 21)
                                       : seq % row.flush_every == 0) {
            m.flush();
          }
        }
      }
      m.flush();
      row.cpu = std::min(row.cpu, (thread_cpu_us() - c0) / 1e6);
      row.wall = std::min(row.wall, secs(t0));
    }
  }
  const double ev = static_cast<double>(events.size());
  std::printf("(a) event apply, one thread, best of 3: %s (%zu events)\n", what, events.size());
  std::printf("                                                            wall ev/s    CPU ev/s\n");
  for (const Row& row : rows) {
    std::printf("    %-54s %10.0f  %10.0f\n", row.name, ev / row.wall, ev / row.cpu);
  }
  const Row& ours = rows[0];
  const Row& state_only = rows[4];
  std::printf("    target >= 500,000 ev/s with every model (rows per slice, as the Recommender runs\n"
              "    them): %s by wall time, %s by CPU time; models cost %.0f%% on top of State\n\n",
              ev / ours.wall >= 500000 ? "met" : "missed", ev / ours.cpu >= 500000 ? "met" : "missed",
              100.0 * (ours.cpu - state_only.cpu) / state_only.cpu);
}

}  // namespace

int main() {
  const size_t n_events = env_size("TROVE_RECO_EVENTS", 400000);
  const size_t n_queries = env_size("TROVE_RECO_QUERIES", 4000);
  GeneratorOptions g;
  g.items = 4000;
  g.visitors = 4000;
  g.behaviour_events = n_events;
  g.all_kinds = false;
  g.with_event_ids = false;
  std::printf("recommend_bench: %zu items, %zu people, %zu behaviour events (trove generate, seed 1)\n\n",
              g.items, g.visitors, n_events);
  std::vector<Event> events = generate_events(g);

  // (a) apply throughput, best of 3, on both streams.
  report_apply("generated shop", events);
  if (const auto csv = retail::find_transactions_csv(std::string(TROVE_SOURCE_DIR) + "/../shared/data")) {
    std::vector<Event> retail_events;
    retail::RetailStats rs;
    if (retail::convert_retail_csv(*csv, [&](Event&& e) { retail_events.push_back(std::move(e)); }, &rs).ok()) {
      report_apply("UCI Online Retail", retail_events);
    }
  } else {
    std::printf("(a) UCI Online Retail: ../shared/data/uci-online-retail not here; skipped\n\n");
  }
  RecoModels built;
  {
    uint64_t seq = 0;
    for (const auto& e : events) built.apply_deferred(++seq, e);
    built.flush();
  }

  // (b) latency through a real Store + Recommender.
  const char* base = std::getenv("TROVE_BENCH_DIR");
  if (!base) base = std::getenv("TMPDIR");
  const fs::path dir = fs::path(base ? base : "/tmp") / ("trove_reco_bench_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  auto store = Store::open(dir.string());
  if (!store.ok()) {
    std::fprintf(stderr, "Store::open: %s\n", store.status().to_string().c_str());
    return 2;
  }
  for (size_t i = 0; i < events.size(); i += 20000) {
    std::vector<Event> batch(events.begin() + static_cast<std::ptrdiff_t>(i),
                             events.begin() + static_cast<std::ptrdiff_t>(std::min(events.size(), i + 20000)));
    if (auto a = store.value()->ingest(std::move(batch)); !a.ok()) {
      std::fprintf(stderr, "ingest: %s\n", a.status().to_string().c_str());
      return 2;
    }
  }
  const auto t_open = Clock::now();
  auto reco = Recommender::open(*store.value());
  if (!reco.ok()) {
    std::fprintf(stderr, "Recommender::open: %s\n", reco.status().to_string().c_str());
    return 2;
  }
  const double open_s = secs(t_open);
  std::vector<std::string> items, visitors;
  for (const auto& e : events) {
    if (const auto* v = std::get_if<DetailItemView>(&e.body)) {
      items.push_back(v->item_id);
      visitors.push_back(v->user.visitor_id);
    }
  }
  std::mt19937_64 rng(7);
  std::vector<size_t> pick(n_queries);
  for (auto& p : pick) p = rng() % items.size();
  const Recommender& r = *reco.value();
  auto request = [&](size_t i) {
    RecoRequest q;
    q.item_id = items[pick[i]];
    q.visitor_id = visitors[pick[(i * 7 + 3) % pick.size()]];
    q.count = 10;
    return q;
  };
  struct Row {
    const char* name;
    Latency l;
  };
  std::vector<Row> rows;
  rows.push_back({"similar", time_each(n_queries, [&](size_t i) { (void)r.similar(request(i)); })});
  rows.push_back({"bought together", time_each(n_queries, [&](size_t i) { (void)r.bought_together(request(i)); })});
  rows.push_back({"for you", time_each(n_queries, [&](size_t i) { (void)r.for_you(request(i)); })});
  rows.push_back({"trending", time_each(n_queries, [&](size_t i) { (void)r.trending(request(i)); })});
  rows.push_back({"recently viewed", time_each(n_queries, [&](size_t i) { (void)r.recently_viewed(request(i)); })});
  rows.push_back({"popular, all time", time_each(n_queries, [&](size_t i) { (void)r.popular(request(i)); })});
  rows.push_back({"popular, 7 days", time_each(n_queries, [&](size_t i) {
    RecoRequest q = request(i);
    q.window_days = 7;
    (void)r.popular(q);
  })});
  rows.push_back({"new arrivals", time_each(n_queries, [&](size_t i) { (void)r.new_arrivals(request(i)); })});
  const size_t naive_n = std::min<size_t>(n_queries, 200);
  Latency naive = time_each(naive_n, [&](size_t i) {
    (void)naive_similar(built, built.item_index(items[pick[i]]).value_or(0), 10);
  });
  std::printf("(b) latency per request, %zu requests each (Recommender over the Store; models "
              "built from the journal in %.2f s)\n", n_queries, open_s);
  std::printf("    %-18s %10s %10s %12s %12s   %s\n", "strategy", "p50 us", "p99 us", "CPU p50 us",
              "CPU p99 us", "target p99 <= 1 ms (wall; CPU)");
  for (auto& row : rows) {
    const double p99 = row.l.pct(0.99), cpu99 = row.l.cpu_pct(0.99);
    std::printf("    %-18s %10.1f %10.1f %12.1f %12.1f   %s; %s\n", row.name, row.l.pct(0.50), p99,
                row.l.cpu_pct(0.50), cpu99, p99 <= 1000 ? "met" : "missed",
                cpu99 <= 1000 ? "met" : "missed");
  }
  const double naive_p50 = naive.pct(0.50);
  std::printf("    %-18s %10.1f %10.1f   (baseline: similar from every person's interactions "
              "at request time, %zu requests; ours %.0fx faster at p50)\n\n",
              "naive similar", naive_p50, naive.pct(0.99), naive_n, naive_p50 / rows[0].l.pct(0.50));

  // (c) personalized search over the same catalog.
  auto index = CatalogIndex::open((dir / "index").string());
  if (!index.ok() || !index.value()->attach(*store.value()).ok() || !index.value()->flush().ok()) {
    std::fprintf(stderr, "index: cannot open\n");
    return 2;
  }
  std::vector<std::string> words;
  store.value()->read([&](const State& s) {
    s.for_each_item([&](const std::string&, const Item& it) {
      const auto sp = it.data.title.find(' ');
      words.push_back(it.data.title.substr(sp == std::string::npos ? 0 : sp + 1));
    });
  });
  auto search_req = [&](size_t i) {
    SearchRequest q;
    q.q = words[pick[i] % words.size()];
    return q;
  };
  const size_t n_search = std::min<size_t>(n_queries, 2000);
  Latency plain = time_each(n_search, [&](size_t i) { (void)index.value()->search(search_req(i)); });
  Latency personal = time_each(n_search, [&](size_t i) {
    (void)r.search(*index.value(), search_req(i), "", visitors[pick[(i * 7 + 3) % pick.size()]]);
  });
  std::printf("(c) search, %zu queries (one title word each), per_page 10\n", n_search);
  std::printf("    personalized (top 100 re-ranked) p50 %8.1f us  p99 %8.1f us\n", personal.pct(0.5),
              personal.pct(0.99));
  std::printf("    plain CatalogIndex::search       p50 %8.1f us  p99 %8.1f us  (overhead p50 %.1f us)\n\n",
              plain.pct(0.5), plain.pct(0.99), personal.pct(0.5) - plain.pct(0.5));

  // (d) memory.
  const RecoModels::Memory mem = r.memory();
  std::printf("(d) model memory: %.1f MiB in all; %.0f bytes per item, %.0f bytes per person\n",
              static_cast<double>(mem.total) / (1 << 20), mem.per_item, mem.per_person);
  index.value().reset();
  reco.value().reset();
  store.value().reset();
  fs::remove_all(dir);
  return 0;
}
