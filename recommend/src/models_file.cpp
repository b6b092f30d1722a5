#include "trove/recommend/models_file.h"

#include <xxhash.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <optional>

#include "journal_fold.h"

namespace trove {
namespace reco_internal {

uint64_t record_fingerprint(const RecordView& r) {
  const uint64_t seed = static_cast<uint64_t>(r.timestamp_ms) * 65537u + r.type;
  return XXH64(r.payload.data(), r.payload.size(), seed);
}

Status fold_journal(const std::string& data_dir, RecoModels* models, Fold& fold) {
  const uint64_t first = fold.check_before ? fold.from - 1 : fold.from;
  if (first > fold.until) return {};
  const bool to_end = fold.until == Fold::kToEnd;
  EventParser parser;
  Status failure;
  uint64_t last_read = 0;
  const std::vector<RecoModels::Forgotten> none;
  const auto& forgotten = fold.forgotten ? *fold.forgotten : none;
  Status st = Journal::scan(
      (std::filesystem::path(data_dir) / "journal").string(), first, [&](const RecordView& rec) {
        if (rec.seq > fold.until) return false;
        last_read = rec.seq;
        if (fold.stop && fold.stop->load(std::memory_order_relaxed)) {
          failure = Status::unavailable("stopped");
          return false;
        }
        if (rec.seq == fold.until || to_end) fold.fingerprint = record_fingerprint(rec);
        if (rec.seq < fold.from) {
          if (record_fingerprint(rec) != *fold.check_before) {
            failure = Status::corruption("the journal's record " + std::to_string(rec.seq) +
                                         " is not the one the models were saved at");
            return false;
          }
          return true;
        }
        auto ev = parser.parse(rec.payload);
        if (!ev.ok()) {
          failure = Status::corruption("journal record " + std::to_string(rec.seq) +
                                       " does not parse: " + ev.status().to_string());
          return false;
        }
        if (!RecoModels::forgotten_event(forgotten, rec.seq, *ev)) {
          models->apply_deferred(rec.seq, *ev);
          if (fold.flush_at != 0 && models->waiting_updates() >= fold.flush_at) models->flush();
        }
        ++fold.folded;
        return true;
      });
  models->flush();
  TROVE_RETURN_IF_ERROR(st);
  TROVE_RETURN_IF_ERROR(failure);
  fold.last = last_read;
  if (fold.check_before && last_read < first) {
    return Status::corruption("the journal ends before record " + std::to_string(first) +
                              ", the one the models were saved at");
  }
  if (to_end) return {};
  if (last_read != fold.until) {
    return Status::corruption("the journal ends at seq " + std::to_string(last_read) +
                              ", before " + std::to_string(fold.until));
  }
  return {};
}

}  // namespace reco_internal

namespace {

namespace fs = std::filesystem;
using reco_internal::Fold;
using reco_internal::fold_journal;

// Row updates made in batches of 2^18 (4 MiB) while a models file's tail or the whole journal is
// folded, not the 2^22 RecoModels allows: at start-up the waiting updates' memory is fresh, and
// faulting in 64 MiB (and its sorted copy) cost more than the larger batches gain (CPU until
// ready: docs/BENCHMARKS.md, "Restart after kill -9").
constexpr size_t kStartupFlushAt = size_t{1} << 18;

// The start-up fold of the records after models saved at `seq` (whose record had
// `fingerprint`, checked before folding) up to `until`.
Fold tail_fold(uint64_t seq, uint64_t fingerprint, uint64_t until, const ModelsBuildOptions& build) {
  Fold fold;
  fold.from = seq + 1;
  fold.until = until;
  fold.stop = build.stop;
  fold.flush_at = kStartupFlushAt;
  if (seq > 0) fold.check_before = fingerprint;
  return fold;
}

std::string snapshot_dir(const std::string& data_dir) {
  return (fs::path(data_dir) / "snapshots").string();
}

void put_u32(std::string& out, uint32_t v) { out.append(reinterpret_cast<const char*>(&v), 4); }
void put_u64(std::string& out, uint64_t v) { out.append(reinterpret_cast<const char*>(&v), 8); }
void put_str(std::string& out, const std::string& s) {
  put_u32(out, static_cast<uint32_t>(s.size()));
  out += s;
}

// The payload's head (fingerprint, filter) read from `in`, which is left at the models' bytes.
bool get_head(std::string_view& in, uint64_t* fingerprint,
              std::vector<RecoModels::Forgotten>* filter) {
  auto take = [&](void* p, size_t n) {
    if (in.size() < n) return false;
    std::memcpy(p, in.data(), n);
    in.remove_prefix(n);
    return true;
  };
  auto str = [&](std::string* s) {
    uint32_t n = 0;
    if (!take(&n, 4) || in.size() < n) return false;
    s->assign(in.substr(0, n));
    in.remove_prefix(n);
    return true;
  };
  auto strings = [&](std::vector<std::string>* v) {
    uint32_t n = 0;
    if (!take(&n, 4) || n > in.size() / 4) return false;
    v->resize(n);
    for (auto& s : *v) {
      if (!str(&s)) return false;
    }
    return true;
  };
  uint32_t n = 0;
  if (!take(fingerprint, 8) || !take(&n, 4) || n > in.size() / 16) return false;
  filter->resize(n);
  for (auto& f : *filter) {
    if (!take(&f.seq, 8) || !strings(&f.user_ids) || !strings(&f.visitor_ids)) return false;
  }
  return true;
}

// The models of records 1..until from the file `info` and the records after it.
Result<BuiltModels> from_file(const std::string& data_dir, const SnapshotInfo& info,
                              uint64_t until, const RecommendOptions& opts,
                              const ModelsBuildOptions& build, uint64_t* folded) {
  auto payload = read_side_file(info, kModelsFileKind);
  if (!payload.ok()) return payload.status();
  std::string_view in = payload.value();
  BuiltModels b;
  b.seq = info.seq;
  if (!get_head(in, &b.fingerprint, &b.filter)) {
    return Status::corruption("models file: truncated in its head");
  }
  auto models = RecoModels::decode(in, opts);
  if (!models.ok()) return models.status();
  b.models = std::move(models).value();
  const size_t forgets = b.models.forgotten().size();
  Fold fold = tail_fold(b.seq, b.fingerprint, until, build);
  // (No filter needed: every filtered event is before its forget, so before the file's seq.)
  TROVE_RETURN_IF_ERROR(fold_journal(data_dir, &b.models, fold));
  if (until == Fold::kToEnd) until = std::max(info.seq, fold.last);
  if (until == info.seq) fold.fingerprint = b.fingerprint;
  b.seq = until;
  b.fingerprint = fold.fingerprint;
  *folded = fold.folded;
  if (b.models.forgotten().size() != forgets) {
    return Status::unavailable("a UserForget is among the journal records after it");
  }
  return b;
}

// The models of records 1..until from the whole journal, as Recommender::open always built
// them: one fold to find who was forgotten, then, if anyone was, one without their events.
Result<BuiltModels> from_journal(const std::string& data_dir, uint64_t until,
                                 const RecommendOptions& opts, const ModelsBuildOptions& build,
                                 uint64_t* folded) {
  BuiltModels b;
  b.models = RecoModels(opts);
  b.seq = until;
  Fold fold;
  fold.until = until;
  fold.stop = build.stop;
  fold.flush_at = kStartupFlushAt;
  TROVE_RETURN_IF_ERROR(fold_journal(data_dir, &b.models, fold));
  *folded = fold.folded;
  b.fingerprint = fold.fingerprint;
  if (until == Fold::kToEnd) b.seq = until = fold.last;
  if (!b.models.forgotten().empty()) {
    b.filter = b.models.forgotten();
    RecoModels fresh(opts);
    Fold again;
    again.until = until;
    again.forgotten = &b.filter;
    again.stop = build.stop;
    again.flush_at = kStartupFlushAt;
    TROVE_RETURN_IF_ERROR(fold_journal(data_dir, &fresh, again));
    b.models = std::move(fresh);
  }
  return b;
}

// prefetch_models(): one build per data directory, handed over once to build_models().
struct Prefetched {
  Result<BuiltModels> built = Status::unavailable("not built");
  ModelsBuildReport report;
};
struct Prefetch {
  RecommendOptions opts;
  std::future<Prefetched> result;
};
std::mutex prefetch_mu;
std::map<std::string, Prefetch>& prefetches() {
  static auto* m = new std::map<std::string, Prefetch>();  // never destroyed: no wait at exit
  return *m;
}

std::optional<Prefetched> take_prefetched(const std::string& data_dir,
                                          const RecommendOptions& opts) {
  std::future<Prefetched> f;
  {
    std::lock_guard lock(prefetch_mu);
    auto it = prefetches().find(data_dir);
    if (it == prefetches().end()) return std::nullopt;
    const bool same = it->second.opts == opts;
    f = std::move(it->second.result);
    prefetches().erase(it);
    if (!same) return std::nullopt;
  }
  return f.get();
}

}  // namespace

void prefetch_models(const std::string& data_dir, const RecommendOptions& opts) {
  Prefetch p;
  p.opts = opts;
  p.result = std::async(std::launch::async, [data_dir, opts] {
    Prefetched out;
    out.built = build_models(data_dir, Fold::kToEnd, opts, &out.report);
    return out;
  });
  std::lock_guard lock(prefetch_mu);
  prefetches()[data_dir] = std::move(p);
}

Result<BuiltModels> build_models(const std::string& data_dir, uint64_t until,
                                 const RecommendOptions& opts, ModelsBuildReport* report,
                                 const ModelsBuildOptions& build) {
  const auto t0 = std::chrono::steady_clock::now();
  ModelsBuildReport local;
  ModelsBuildReport& out = report ? *report : local;
  out = {};
  auto done = [&](Result<BuiltModels> r) {
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return r;
  };
  // Built ahead by prefetch_models() (as far as the journal went then, never past the State:
  // the Store only cuts what no valid record follows): the records after it on top.
  if (build.use_files && until != Fold::kToEnd) {
    if (auto pre = take_prefetched(data_dir, opts); pre && pre->built.ok() &&
                                                    pre->built->seq <= until) {
      BuiltModels b = std::move(pre->built).value();
      const size_t forgets = b.models.forgotten().size();
      Fold fold = tail_fold(b.seq, b.fingerprint, until, build);
      if (fold_journal(data_dir, &b.models, fold).ok() &&
          b.models.forgotten().size() == forgets) {
        if (until != b.seq) b.fingerprint = fold.fingerprint;
        b.seq = until;
        out = pre->report;
        out.folded += fold.folded;
        out.prefetched = true;
        return done(std::move(b));
      }
    }
  }
  out.why_full = build.use_files ? "no models file" : "models files not used";
  if (build.use_files) {
    auto files = list_side_files(snapshot_dir(data_dir), kModelsFileKind.ext);
    for (auto it = files.rbegin(); it != files.rend(); ++it) {
      if (it->seq > until) continue;  // of events this State does not have (yet)
      uint64_t folded = 0;
      auto b = from_file(data_dir, *it, until, opts, build, &folded);
      if (b.ok()) {
        out.file_seq = it->seq;
        out.folded = folded;
        out.why_full.clear();
        return done(std::move(b));
      }
      if (build.stop && build.stop->load()) return done(b.status());
      if (b.status().code() == StatusCode::kUnavailable) {
        out.why_full = "a UserForget after models file " + it->path;
        break;  // an older file has the same forget after it
      }
      out.warnings.push_back("models file " + it->path + " not used: " + b.status().to_string());
      out.why_full = "no usable models file";
    }
  }
  uint64_t folded = 0;
  auto b = from_journal(data_dir, until, opts, build, &folded);
  out.folded = folded;
  return done(std::move(b));
}

Result<SnapshotInfo> write_models_file(const std::string& data_dir, const BuiltModels& built,
                                       size_t keep) {
  std::string payload;
  put_u64(payload, built.fingerprint);
  put_u32(payload, static_cast<uint32_t>(built.filter.size()));
  for (const auto& f : built.filter) {
    put_u64(payload, f.seq);
    put_u32(payload, static_cast<uint32_t>(f.user_ids.size()));
    for (const auto& u : f.user_ids) put_str(payload, u);
    put_u32(payload, static_cast<uint32_t>(f.visitor_ids.size()));
    for (const auto& v : f.visitor_ids) put_str(payload, v);
  }
  payload += built.models.encode();
  return write_side_file(snapshot_dir(data_dir), kModelsFileKind, built.seq, payload, keep);
}

AutoSnapshotOptions::SideWriter models_side_writer(std::string data_dir, RecommendOptions opts,
                                                   size_t keep) {
  return {"models", [data_dir = std::move(data_dir), opts, keep](
                        uint64_t seq, const std::atomic<bool>& stop) -> Result<SnapshotInfo> {
            ModelsBuildOptions build;
            build.stop = &stop;
            auto built = build_models(data_dir, seq, opts, nullptr, build);
            if (!built.ok()) return built.status();
            return write_models_file(data_dir, built.value(), keep);
          }};
}

}  // namespace trove
