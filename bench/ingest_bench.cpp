// ingest_bench: the whole write path over a real stream, the UCI Online Retail invoices
// turned into ~565,000 Trove events (bench/retail_events.h), each figure printed beside a
// naive baseline measured in the same run, with the ratio and the target it answers to.
//
//   (a) parse + validate           vs nlohmann::json::parse of the same lines
//   (b) parse + State::apply       vs nlohmann DOM + std::map "state" (the obvious version)
//   (c) parse + journal (fsync, group commit through Store::ingest) + apply
//                                  vs fwrite + fdatasync per event (2,000 events)
//   (d) snapshot write / load      vs (e) the full replay it saves
//   (e) full replay, no snapshots  vs (b) parse + apply from memory
//
// Environment: TROVE_SHARED_DATA (data dir; default <source>/../shared/data),
// TROVE_BENCH_DIR (where temp data dirs go; default $TMPDIR or /tmp), TROVE_BENCH_ROWS (convert
// only the first N CSV rows, for profiling), TROVE_BENCH_REPEAT (best of N for the in-memory
// measurements; default 3). Missing data: prints why and exits 0. Never asserts a time.
#include <fcntl.h>
#include <stdlib.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "retail_events.h"
#include "trove/data/events.h"
#include "trove/data/snapshot.h"
#include "trove/data/state.h"
#include "trove/data/store.h"

#ifndef TROVE_SOURCE_DIR
#define TROVE_SOURCE_DIR "."
#endif

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

[[noreturn]] void die(const std::string& what, const trove::Status& st) {
  std::fprintf(stderr, "ingest_bench: %s: %s\n", what.c_str(), st.to_string().c_str());
  std::exit(1);
}

long env_long(const char* name, long fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtol(v, nullptr, 10) : fallback;
}

// ---- formatting ------------------------------------------------------------------------------

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}
std::string rate(double events, double secs) {
  const double r = events / secs;
  if (r >= 1e6) return fmt("%.2f M ev/s", r / 1e6);
  if (r >= 1e4) return fmt("%.0f k ev/s", r / 1e3);
  return fmt("%.0f ev/s", r);
}
std::string ms(double secs) { return fmt("%.1f ms", secs * 1e3); }
std::string mb(double bytes) { return fmt("%.1f MB", bytes / 1e6); }
std::string ratio(double ours, double base) { return fmt("%.1fx", ours / base); }

struct Row {
  std::string measure, ours, baseline, ratio, target;
};
std::vector<Row> table;

void print_table() {
  size_t w[5] = {7, 4, 8, 5, 6};
  for (const auto& r : table) {
    w[0] = std::max(w[0], r.measure.size());
    w[1] = std::max(w[1], r.ours.size());
    w[2] = std::max(w[2], r.baseline.size());
    w[3] = std::max(w[3], r.ratio.size());
    w[4] = std::max(w[4], r.target.size());
  }
  auto line = [&](const Row& r) {
    std::printf("| %-*s | %*s | %-*s | %*s | %-*s |\n", int(w[0]), r.measure.c_str(), int(w[1]),
                r.ours.c_str(), int(w[2]), r.baseline.c_str(), int(w[3]), r.ratio.c_str(),
                int(w[4]), r.target.c_str());
  };
  line({"measure", "ours", "baseline (same run)", "ratio", "target"});
  std::printf("|%s|%s|%s|%s|%s|\n", std::string(w[0] + 2, '-').c_str(),
              std::string(w[1] + 2, '-').c_str(), std::string(w[2] + 2, '-').c_str(),
              std::string(w[3] + 2, '-').c_str(), std::string(w[4] + 2, '-').c_str());
  for (const auto& r : table) line(r);
  std::printf("ratio = our rate / the baseline's rate (above 1: ours is faster)\n");
}

std::string target_mark(bool met, const std::string& target) {
  return target + (met ? " (met)" : " (MISSED)");
}

// ---- the machine -----------------------------------------------------------------------------

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

std::string fs_type(const std::string& dir) {
  struct statfs sf {};
  if (::statfs(dir.c_str(), &sf) != 0) return "?";
  switch (static_cast<unsigned long>(sf.f_type)) {
    case 0xEF53:
      return "ext4";
    case 0x01021994:
      return "tmpfs (fsync is a no-op)";
    case 0x794c7630:
      return "overlayfs";
    case 0x58465342:
      return "xfs";
    case 0x9123683E:
      return "btrfs";
    default:
      return fmt("0x%.0f", static_cast<double>(sf.f_type));
  }
}

std::string make_temp_dir(const std::string& parent, const char* tag) {
  std::string tmpl = parent + "/trove_bench_" + tag + "_XXXXXX";
  if (!::mkdtemp(tmpl.data())) {
    std::fprintf(stderr, "ingest_bench: cannot create a temp dir under %s\n", parent.c_str());
    std::exit(1);
  }
  return tmpl;
}

// ---- the lines -------------------------------------------------------------------------------

struct Lines {
  std::string text;                   // NDJSON, then kPadding bytes so parse_padded may read on
  std::vector<std::string_view> all;  // one per event, without the '\n'
  size_t bytes = 0;                   // NDJSON bytes (with newlines)
};

// The baseline for (b): what one writes first, a JSON DOM and string-keyed std::maps.
struct NaiveState {
  std::map<std::string, nlohmann::json> items;
  std::map<std::string, std::vector<std::string>> histories;
  std::map<std::string, std::map<std::string, int64_t>> carts;
  std::map<std::string, uint64_t> purchases;
  size_t events = 0;

  void apply(const nlohmann::json& e) {
    ++events;
    const std::string& type = e["type"].get_ref<const std::string&>();
    if (type == "ItemUpsert") {
      items[e["id"].get<std::string>()] = e;
      return;
    }
    const std::string& visitor = e["user"]["visitor_id"].get_ref<const std::string&>();
    if (type == "PurchaseComplete") {
      for (const auto& l : e["lines"]) {
        const std::string id = l["item_id"].get<std::string>();
        purchases[id] += l["quantity"].get<uint64_t>();
        histories[visitor].push_back(id);
      }
      carts.erase(visitor);
    } else {
      const std::string id = e["item_id"].get<std::string>();
      const int64_t q = e.value("quantity", int64_t{1});
      carts[visitor][id] += type == "AddToCart" ? q : -q;
      histories[visitor].push_back(id);
    }
  }
};

template <class Fn>
double best_of(int repeat, Fn&& fn) {
  double best = 1e300;
  for (int i = 0; i < repeat; ++i) best = std::min(best, fn());
  return best;
}

}  // namespace

int main() {
  const std::string fallback = std::string(TROVE_SOURCE_DIR) + "/../shared/data";
  const auto csv = trove::retail::find_transactions_csv(fallback);
  if (!csv) {
    const char* env = std::getenv("TROVE_SHARED_DATA");
    std::printf(
        "ingest_bench: %s/uci-online-retail/transactions.csv not found (set TROVE_SHARED_DATA "
        "to the shared data dir); nothing to measure.\n",
        env && *env ? env : fallback.c_str());
    return 0;
  }
  const int repeat = static_cast<int>(std::max(1L, env_long("TROVE_BENCH_REPEAT", 3)));
  const char* tmp_env = std::getenv("TROVE_BENCH_DIR");
  if (!tmp_env || !*tmp_env) tmp_env = std::getenv("TMPDIR");
  const std::string tmp_parent = tmp_env && *tmp_env ? tmp_env : "/tmp";

  struct utsname un {};
  ::uname(&un);
  std::printf("ingest_bench: %s\n", csv->c_str());
  std::printf("machine: %s, %ld cores, %s %s; temp dirs in %s (%s)\n", cpu_model().c_str(),
              ::sysconf(_SC_NPROCESSORS_ONLN), un.sysname, un.release, tmp_parent.c_str(),
              fs_type(tmp_parent).c_str());
  {
    // Other work on the machine moves every figure here; say how busy it was.
    std::ifstream in("/proc/loadavg");
    std::string one, five;
    in >> one >> five;
    std::printf("load average at start: %s (1 min), %s (5 min)\n", one.c_str(), five.c_str());
  }
#ifdef NDEBUG
  std::printf("build: NDEBUG, compiler %s; in-memory figures are best of %d\n", __VERSION__,
              repeat);
#else
  std::printf("build: ASSERTIONS ON (not a Release build), compiler %s\n", __VERSION__);
#endif

  // ---- conversion ----
  Lines lines;
  trove::retail::RetailStats stats;
  trove::retail::RetailOptions ropts;
  ropts.max_rows = static_cast<uint64_t>(std::max(0L, env_long("TROVE_BENCH_ROWS", 0)));
  auto t0 = Clock::now();
  if (auto st = trove::retail::convert_retail_csv_to_ndjson(*csv, &lines.text, &stats, ropts);
      !st.ok()) {
    die("conversion", st);
  }
  const double convert_s = since(t0);
  lines.bytes = lines.text.size();
  lines.text.append(trove::EventParser::kPadding, '\0');
  {
    size_t start = 0;
    for (size_t i = 0; i < lines.bytes; ++i) {
      if (lines.text[i] == '\n') {
        lines.all.emplace_back(lines.text.data() + start, i - start);
        start = i + 1;
      }
    }
  }
  const size_t n = lines.all.size();
  const double nd = static_cast<double>(n);
  std::printf(
      "converted %llu CSV rows -> %zu events (%llu ItemUpsert, %llu AddToCart, %llu "
      "RemoveFromCart, %llu PurchaseComplete; %llu rows skipped, %llu bad) in %s (%s); NDJSON "
      "%s, %.0f bytes/event\n\n",
      static_cast<unsigned long long>(stats.rows), n, static_cast<unsigned long long>(stats.items),
      static_cast<unsigned long long>(stats.add_to_cart),
      static_cast<unsigned long long>(stats.remove_from_cart),
      static_cast<unsigned long long>(stats.purchases),
      static_cast<unsigned long long>(stats.skipped_rows),
      static_cast<unsigned long long>(stats.bad_rows), ms(convert_s).c_str(),
      rate(nd, convert_s).c_str(), mb(static_cast<double>(lines.bytes)).c_str(),
      static_cast<double>(lines.bytes) / nd);
  table.push_back({"CSV -> events -> NDJSON (conversion, once)", rate(nd, convert_s), "", "", ""});

  // TROVE_BENCH_ONLY=ab (say) runs a subset, for profiling one phase at a time; (d) and (e)
  // need the store that (c) writes and build it quietly when (c) is not selected.
  const char* only = std::getenv("TROVE_BENCH_ONLY");
  auto want = [&](char phase) {
    return !only || !*only || std::string_view(only).find(phase) != std::string_view::npos;
  };
  trove::EventParser parser;
  const double mbytes = static_cast<double>(lines.bytes) / 1e6;

  // ---- (a) parse + validate ----
  if (want('a')) {
    size_t parse_errors = 0;
    const double parse_s = best_of(repeat, [&] {
      size_t types = 0;
      auto t = Clock::now();
      for (auto line : lines.all) {
        auto r = parser.parse_padded(line);
        if (r.ok()) {
          types += static_cast<size_t>(r->type());
        } else {
          ++parse_errors;
        }
      }
      const double s = since(t);
      if (types == 0) std::printf("(no events)\n");
      return s;
    });
    if (parse_errors) std::printf("WARNING: %zu lines did not parse\n", parse_errors / repeat);
    const double nlohmann_s = best_of(repeat, [&] {
      size_t keys = 0;
      auto t = Clock::now();
      for (auto line : lines.all) keys += nlohmann::json::parse(line).size();
      const double s = since(t);
      if (keys == 0) std::printf("(no keys)\n");
      return s;
    });
    table.push_back(
        {"(a) parse + validate (EventParser::parse_padded)",
         rate(nd, parse_s) + fmt(", %.0f MB/s", mbytes / parse_s),
         "nlohmann::json::parse " + rate(nd, nlohmann_s) + fmt(", %.0f MB/s", mbytes / nlohmann_s),
         ratio(nlohmann_s, parse_s), ""});
  }

  // ---- (b) parse + apply ----
  std::string memory_digest;  // empty when (b) did not run
  double apply_s = 0;
  if (want('b')) {
    apply_s = best_of(repeat, [&] {
      auto state = std::make_unique<trove::State>();
      auto t = Clock::now();
      uint64_t seq = 0;
      for (auto line : lines.all) {
        auto r = parser.parse_padded(line);
        if (r.ok()) state->apply(++seq, r.value());
      }
      const double s = since(t);
      memory_digest = state->digest();
      return s;
    });
    // Breakdown: apply alone over pre-parsed events.
    std::vector<trove::Event> parsed;
    parsed.reserve(n);
    for (auto line : lines.all) {
      auto r = parser.parse_padded(line);
      if (r.ok()) parsed.push_back(std::move(r).value());
    }
    const double apply_only_s = best_of(repeat, [&] {
      auto state = std::make_unique<trove::State>();
      auto t = Clock::now();
      uint64_t seq = 0;
      for (const auto& e : parsed) state->apply(++seq, e);
      return since(t);
    });
    parsed = {};
    const double naive_s = best_of(1, [&] {
      NaiveState naive;
      auto t = Clock::now();
      for (auto line : lines.all) naive.apply(nlohmann::json::parse(line));
      return since(t);
    });
    table.push_back({"(b) parse + State::apply, 1 thread", rate(nd, apply_s),
                     "nlohmann DOM + std::map state " + rate(nd, naive_s), ratio(naive_s, apply_s),
                     target_mark(nd / apply_s >= 1e6, ">= 1 M ev/s")});
    table.push_back(
        {"    of which State::apply alone (pre-parsed)", rate(nd, apply_only_s), "", "", ""});
  }

  // ---- (c) parse + journal append (fsync, group commit) + apply ----
  std::string store_dir;  // the batch-10000 run, kept for (d) and (e)
  std::string live_digest;
  uint64_t journal_bytes = 0;
  size_t live_memory = 0;
  auto ingest_run = [&](size_t batch, bool fsync, bool keep) {
    const std::string dir = make_temp_dir(tmp_parent, "store");
    trove::StoreOptions opts;
    opts.journal.fsync = fsync;
    auto store = trove::Store::open(dir, opts);
    if (!store.ok()) die("Store::open " + dir, store.status());
    ::sync();  // start with no writeback of earlier runs pending
    auto t = Clock::now();
    for (size_t i = 0; i < n; i += batch) {
      std::vector<trove::Event> events;
      events.reserve(std::min(batch, n - i));
      for (size_t k = i; k < std::min(n, i + batch); ++k) {
        auto r = parser.parse_padded(lines.all[k]);
        if (r.ok()) events.push_back(std::move(r).value());
      }
      // The events come from EventParser, as in `trove ingest` and the HTTP API.
      auto acks = store.value()->ingest(std::move(events), trove::Store::Origin::kParsed);
      if (!acks.ok()) die("ingest", acks.status());
    }
    const double s = since(t);
    if (keep) {
      store_dir = dir;
      journal_bytes = store.value()->journal_bytes();
      store.value()->read([&](const trove::State& st) {
        live_digest = st.digest();
        live_memory = st.memory_bytes();
      });
    } else {
      store.value().reset();
      fs::remove_all(dir);
    }
    return s;
  };
  if (want('c')) {
    // Baselines first, on a quiet disk: one fdatasync per event (2,000 events), and the disk
    // alone with our grouping (fwrite everything, fdatasync every 10,000 lines; no parse, no
    // apply). Each timed run starts after sync(), so none pays for another's writeback.
    const size_t naive_n = std::min<size_t>(2000, n);
    double per_event_sync_s, raw_group_s;
    {
      const std::string dir = make_temp_dir(tmp_parent, "fsync");
      std::FILE* f = std::fopen((dir + "/log").c_str(), "wb");
      ::sync();
      auto t = Clock::now();
      for (size_t i = 0; i < naive_n; ++i) {
        std::fwrite(lines.all[i].data(), 1, lines.all[i].size(), f);
        std::fputc('\n', f);
        std::fflush(f);
        ::fdatasync(fileno(f));
      }
      per_event_sync_s = since(t);
      std::fclose(f);
      f = std::fopen((dir + "/log2").c_str(), "wb");
      ::sync();
      t = Clock::now();
      for (size_t i = 0; i < n; ++i) {
        std::fwrite(lines.all[i].data(), 1, lines.all[i].size(), f);
        std::fputc('\n', f);
        if ((i + 1) % 10000 == 0 || i + 1 == n) {
          std::fflush(f);
          ::fdatasync(fileno(f));
        }
      }
      raw_group_s = since(t);
      std::fclose(f);
      fs::remove_all(dir);
    }
    const double ingest_1k_s = ingest_run(1000, true, false);
    const double ingest_10k_s = ingest_run(10000, true, true);
    const double ingest_nofsync_s = ingest_run(10000, false, false);

    const double naive_nd = static_cast<double>(naive_n);
    const std::string per_event =
        fmt("fwrite+fdatasync per event (%.0f ev) ", naive_nd) + rate(naive_nd, per_event_sync_s);
    const double per_event_rate = naive_nd / per_event_sync_s;
    table.push_back({"(c) parse + journal (fsync) + apply, batches of 1,000", rate(nd, ingest_1k_s),
                     per_event, ratio(nd / ingest_1k_s, per_event_rate),
                     target_mark(nd / ingest_1k_s >= 5e5, ">= 500 k ev/s")});
    table.push_back({"(c) parse + journal (fsync) + apply, batches of 10,000",
                     rate(nd, ingest_10k_s), per_event, ratio(nd / ingest_10k_s, per_event_rate),
                     target_mark(nd / ingest_10k_s >= 5e5, ">= 500 k ev/s")});
    table.push_back({"    same, batches of 10,000, fsync off", rate(nd, ingest_nofsync_s),
                     "raw fwrite, fdatasync/10,000 lines " + rate(nd, raw_group_s),
                     ratio(raw_group_s, ingest_nofsync_s), ""});
  } else if (want('d') || want('e')) {
    (void)ingest_run(10000, true, true);
  }

  // ---- (d) snapshot write and load ----
  std::string snap_digest;
  double snap_load_s = 0;
  if (want('d')) {
    double snap_write_s = 0;
    uint64_t snap_bytes = 0;
    size_t encoded_bytes = 0;
    trove::StoreOptions opts;
    auto store = trove::Store::open(store_dir, opts);  // reopen: also checks recovery
    if (!store.ok()) die("Store::open (reopen)", store.status());
    store.value()->read([&](const trove::State& st) { encoded_bytes = st.encode().size(); });
    auto t = Clock::now();
    auto info = store.value()->snapshot();
    snap_write_s = since(t);
    if (!info.ok()) die("snapshot", info.status());
    snap_bytes = info->bytes;
    std::vector<std::string> warnings;
    t = Clock::now();
    auto loaded = trove::load_newest_snapshot(store_dir + "/snapshots", UINT64_MAX, &warnings);
    snap_load_s = since(t);
    if (!loaded.ok() || !loaded->has_value()) die("load_newest_snapshot", loaded.status());
    snap_digest = (*loaded)->state.digest();
    table.push_back({"(d) snapshot write (encode + zstd + fsync + rename)", ms(snap_write_s), "",
                     "",
                     mb(static_cast<double>(snap_bytes)) + " on disk, " +
                         mb(static_cast<double>(encoded_bytes)) + " raw"});
  }

  // ---- (e) full replay ----
  std::string replay_digest, snap_replay_digest;
  if (want('e')) {
    trove::ReplayReport rr;
    auto t = Clock::now();
    auto replayed = trove::replay(store_dir, trove::ReplayOptions{.use_snapshots = false}, &rr);
    const double replay_s = since(t);
    if (!replayed.ok()) die("replay", replayed.status());
    replay_digest = replayed->digest();
    if (want('d')) {
      table.push_back({"(d) snapshot load (load_newest_snapshot)", ms(snap_load_s),
                       "full replay " + ms(replay_s), ratio(replay_s, snap_load_s), ""});
    }
    table.push_back({"(e) full replay, no snapshots (trove::replay)",
                     ms(replay_s) + ", " + rate(static_cast<double>(rr.replayed), replay_s),
                     apply_s > 0 ? "in-memory parse+apply " + ms(apply_s) : "",
                     apply_s > 0 ? ratio(apply_s, replay_s) : "",
                     target_mark(replay_s < 1.0, "< 1 s")});
    if (want('d')) {
      t = Clock::now();
      auto from_snap = trove::replay(store_dir, trove::ReplayOptions{}, nullptr);
      const double snap_replay_s = since(t);
      if (!from_snap.ok()) die("replay from snapshot", from_snap.status());
      snap_replay_digest = from_snap->digest();
      table.push_back({"    replay with the snapshot", ms(snap_replay_s), "", "", ""});
    }
  }

  print_table();

  if (!store_dir.empty()) {
    std::printf("\njournal: %s for %zu events = %.1f bytes/event (NDJSON %.1f bytes/event)\n",
                mb(static_cast<double>(journal_bytes)).c_str(), n,
                static_cast<double>(journal_bytes) / nd, static_cast<double>(lines.bytes) / nd);
    std::printf("state: State::memory_bytes() %s = %.1f bytes/event\n",
                mb(static_cast<double>(live_memory)).c_str(),
                static_cast<double>(live_memory) / nd);
  }
  // Every state built in this run, however it was built, must be the same state.
  bool same = true;
  std::string seen = live_digest.empty() ? "" : "live store";
  for (const auto& [name, d] :
       {std::pair<const char*, const std::string*>{"in-memory apply", &memory_digest},
        {"replay", &replay_digest},
        {"snapshot", &snap_digest},
        {"snapshot+replay", &snap_replay_digest}}) {
    if (d->empty()) continue;
    if (live_digest.empty()) live_digest = *d;
    same = same && *d == live_digest;
    seen += std::string(seen.empty() ? "" : ", ") + name;
  }
  if (!live_digest.empty()) {
    std::printf("digest: %s (%s: %s)\n", live_digest.c_str(), seen.c_str(),
                same ? "all identical" : "DIFFERENT");
  }
  if (!store_dir.empty()) fs::remove_all(store_dir);
  return same ? 0 : 1;
}
