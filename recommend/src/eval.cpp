#include "trove/recommend/eval.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <chrono>
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "item_knn.h"
#include "trove/data/events.h"
#include "trove/data/journal.h"

namespace trove {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

enum Method {
  kPopularity,
  kTrending,
  kOwnHistory,
  kRealtime,
  kEase,
  kEaseRepeat,
  kBlend,
  kEaseRetrained,
  kItemKnn,
  kMethodCount
};
constexpr std::array<const char*, kMethodCount> kMethodNames = {
    "popularity", "trending",         "own-history", "real-time", "EASE",
    "EASE-repeat", "blend",           "EASE-retrained", "ItemKNN"};
constexpr size_t kRecallAt = 20;

// What a chosen item was to the person before the target (KindScore in eval.h).
enum Kind { kNew, kSeen, kRebuy, kInBasket, kKindCount };
constexpr std::array<const char*, kKindCount> kKindNames = {"new", "seen", "re-buy",
                                                            "in-basket"};

using List = std::vector<uint32_t>;  // RecoModels item indexes, best first

// What every method offered one person at one moment.
struct Offer {
  enum class Who { kKnown, kUnknown, kUnpersonalized };
  Who who = Who::kUnknown;
  std::array<List, kMethodCount> lists;
  std::array<bool, kMethodCount> filled{};
};

struct KindTally {
  double hr = 0, ndcg = 0;
  uint64_t cases = 0;
};

struct Tally {
  double hr = 0, ndcg = 0, recall = 0;
  uint64_t cases = 0, filled = 0;
  double seconds = 0;
  std::vector<uint8_t> shown;  // by item index: ever in a top k
  std::array<KindTally, kKindCount> kinds;
};

// Hits of `list` among the sorted `chosen`: in the top k, their DCG, and in the top kRecallAt.
struct Hits {
  size_t k = 0, recall = 0;
  double dcg = 0;
};
Hits hits_of(const List& list, const std::vector<uint32_t>& chosen, size_t k) {
  Hits h;
  for (size_t r = 0; r < list.size(); ++r) {
    if (!std::binary_search(chosen.begin(), chosen.end(), list[r])) continue;
    if (r < k) {
      ++h.k;
      h.dcg += 1 / std::log2(r + 2.0);
    }
    if (r < kRecallAt) ++h.recall;
  }
  return h;
}

// DCG of min(relevant, k) hits at the top.
double ideal_dcg(size_t relevant, size_t k) {
  double ideal = 0;
  for (size_t r = 0; r < std::min(relevant, k); ++r) ideal += 1 / std::log2(r + 2.0);
  return ideal;
}

bool contains(const List& list, uint32_t item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

List items_of(const std::vector<ScoredItem>& scored) {
  List out;
  out.reserve(scored.size());
  for (const ScoredItem& s : scored) out.push_back(s.item);
  return out;
}

class Walk {
 public:
  explicit Walk(const EvalOptions& opts)
      : opts_(opts), list_size_(std::max(opts.k, kRecallAt)), models_(opts.models) {}

  RecoModels& models() { return models_; }
  // At the split: EASE (kept as trained) and the retrained baselines' first training.
  void train_at_split(int64_t split_ms) {
    ease_ = std::make_shared<const EaseModel>(EaseModel::train(models_, opts_.ease));
    retrained_ = ease_;
    knn_ = reco_internal::ItemKnn::train(models_);
    next_retrain_ms_ = split_ms + retrain_period_ms();
  }
  // During the walk: EASE-retrained and ItemKNN train again on everything known once the
  // period (EvalOptions::retrain_days) has passed since their last training.
  void retrain_if_due(int64_t now_ms, EvalReport* report) {
    if (opts_.retrain_days <= 0 || now_ms < next_retrain_ms_) return;
    models_.flush();
    retrained_ = std::make_shared<const EaseModel>(EaseModel::train(models_, opts_.ease));
    knn_ = reco_internal::ItemKnn::train(models_);
    ++report->retrainings;
    while (next_retrain_ms_ <= now_ms) next_retrain_ms_ += retrain_period_ms();
  }
  const EaseModel& ease() const { return *ease_; }
  size_t list_size() const { return list_size_; }
  bool done() const { return opts_.max_cases != 0 && report_cases() >= opts_.max_cases; }
  uint64_t report_cases() const { return cases_; }

  // Scores the offers due before `event` is applied (a target, or a basket's start).
  void before(const Event& event, EvalReport* report) {
    const UserRef* user = event.user();
    if (user == nullptr) return;
    switch (event.type()) {
      case EventType::kAddToCart: {
        const std::string key = models_.person_key(*user);
        std::optional<Offer> now;
        if (opts_.purchases && !baskets_.contains(key)) {
          now = ask(key);
          baskets_.emplace(key, *now);
        }
        if (opts_.carts) {
          if (!now) now = ask(key);
          const auto& add = std::get<AddToCart>(event.body);
          if (score(*now, {add.item_id}, report, key, /*purchase=*/false)) ++report->cart_cases;
        }
        in_cart_[key].insert(std::get<AddToCart>(event.body).item_id);
        break;
      }
      case EventType::kPurchaseComplete: {
        if (!opts_.purchases) break;
        const std::string key = models_.person_key(*user);
        auto basket = baskets_.find(key);
        Offer offer;
        if (basket != baskets_.end()) {
          offer = std::move(basket->second);
          baskets_.erase(basket);
        } else {
          offer = ask(key);  // no cart step before this purchase
        }
        std::vector<std::string> chosen;
        for (const PurchaseLine& line : std::get<PurchaseComplete>(event.body).lines) {
          chosen.push_back(line.item_id);
        }
        if (score(offer, std::move(chosen), report, key, /*purchase=*/true)) {
          ++report->purchase_cases;
        }
        in_cart_.erase(key);
        break;
      }
      case EventType::kRateItem: {
        if (!opts_.ratings || std::get<RateItem>(event.body).rating < opts_.min_rating) break;
        const std::string key = models_.person_key(*user);
        if (score(ask(key), {std::get<RateItem>(event.body).item_id}, report, key, false)) {
          ++report->rating_cases;
        }
        break;
      }
      default:
        break;
    }
  }

  void finish(EvalReport* report) {
    // Coverage's denominator: items anybody interacted with by the end of the walk.
    std::vector<uint8_t> touched(models_.item_count(), 0);
    models_.for_each_interaction([&](uint32_t, uint32_t item, double) { touched[item] = 1; });
    const auto items = static_cast<uint64_t>(std::count(touched.begin(), touched.end(), 1));
    report->items_with_interactions = items;
    report->k = opts_.k;
    report->list_size = list_size_;
    report->cases = cases_;
    for (size_t m = 0; m < kMethodCount; ++m) {
      const Tally& t = tally_[m];
      EvalRow row;
      row.method = kMethodNames[m];
      row.cases = t.cases;
      row.filled = t.filled;
      row.seconds = t.seconds;
      if (t.cases > 0) {
        const auto n = static_cast<double>(t.cases);
        row.hr = t.hr / n;
        row.ndcg = t.ndcg / n;
        row.recall = t.recall / n;
      }
      if (items > 0) {
        row.coverage = static_cast<double>(std::count(t.shown.begin(), t.shown.end(), 1)) /
                       static_cast<double>(items);
      }
      for (size_t kind = 0; kind < kKindCount; ++kind) {
        const KindTally& kt = t.kinds[kind];
        KindScore ks;
        ks.kind = kKindNames[kind];
        ks.cases = kt.cases;
        if (kt.cases > 0) {
          ks.hr = kt.hr / static_cast<double>(kt.cases);
          ks.ndcg = kt.ndcg / static_cast<double>(kt.cases);
        }
        row.by_kind.push_back(std::move(ks));
      }
      report->rows.push_back(std::move(row));
    }
  }

 private:
  // Every method's top K for `person` as the models stand now.
  Offer ask(const std::string& person) {
    Offer offer;
    const std::optional<uint32_t> index = models_.person_index(person);
    const std::vector<std::pair<uint32_t, double>> history =
        index ? models_.interactions_of(person) : std::vector<std::pair<uint32_t, double>>{};
    if (history.empty()) return offer;
    if (!models_.personalized(person)) {
      offer.who = Offer::Who::kUnpersonalized;
      return offer;
    }
    offer.who = Offer::Who::kKnown;
    const size_t n = list_size_;
    auto timed = [&](Method m, auto&& fn) {
      const auto t = Clock::now();
      fn(offer.lists[m], offer.filled[m]);
      tally_[m].seconds += seconds_since(t);
    };
    const RecoModels::Accept offerable = [&](uint32_t item) {
      return !models_.excluded_for(person, item);
    };
    timed(kPopularity, [&](List& out, bool&) { out = items_of(models_.popular(n, nullptr)); });
    timed(kTrending, [&](List& out, bool&) { out = items_of(models_.trending(n, nullptr)); });
    timed(kOwnHistory, [&](List& out, bool& filled) {
      // The person's own items that may be offered again, heaviest first: the "buy again"
      // baseline, strong wherever re-buying is common.
      std::vector<ScoredItem> own;
      for (const auto& [item, weight] : history) {
        if (weight > 0 && offerable(item)) own.push_back({item, weight});
      }
      std::stable_sort(own.begin(), own.end(), [](const ScoredItem& a, const ScoredItem& b) {
        return a.score > b.score;  // ties keep the lower item first (history order)
      });
      if (own.size() > n) own.resize(n);
      out = items_of(own);
      filled = fill(&out, offerable);
    });
    timed(kRealtime, [&](List& out, bool& filled) {
      out = items_of(models_.for_you(person, n, offerable));
      filled = fill(&out, offerable);
    });
    timed(kEase, [&](List& out, bool& filled) {
      out = items_of(ease_->recommend(history, n, nullptr));
      // Like EASE itself, the filler skips the history.
      std::vector<uint32_t> own;
      for (const auto& [item, weight] : history) own.push_back(item);
      std::sort(own.begin(), own.end());
      filled = fill(&out, [&](uint32_t item) {
        return !std::binary_search(own.begin(), own.end(), item);
      });
    });
    timed(kEaseRepeat, [&](List& out, bool& filled) {
      out = items_of(ease_->recommend(history, n, offerable, /*include_history=*/true));
      filled = fill(&out, offerable);
    });
    timed(kEaseRetrained, [&](List& out, bool& filled) {
      out = items_of(retrained_->recommend(history, n, offerable, /*include_history=*/true));
      filled = fill(&out, offerable);
    });
    timed(kItemKnn, [&](List& out, bool& filled) {
      out = items_of(knn_.recommend(history, n, offerable));
      filled = fill(&out, offerable);
    });
    timed(kBlend, [&](List& out, bool& filled) {
      const size_t c = std::max(opts_.blend_candidates, n);
      blend(models_.for_you(person, c, offerable),
            ease_->recommend(history, c, offerable, /*include_history=*/true), &out);
      filled = fill(&out, offerable);
    });
    return offer;
  }

  // Each list's scores divided by its best one, EASE's times blend_weight, summed per item.
  void blend(const std::vector<ScoredItem>& co, const std::vector<ScoredItem>& ease,
             List* out) const {
    std::map<uint32_t, double> sum;
    auto add = [&](const std::vector<ScoredItem>& list, double weight) {
      if (list.empty() || !(list.front().score > 0)) return;
      const double top = list.front().score;
      for (const ScoredItem& s : list) sum[s.item] += weight * s.score / top;
    };
    add(co, 1.0);
    add(ease, opts_.blend_weight);
    std::vector<ScoredItem> merged;
    merged.reserve(sum.size());
    for (const auto& [item, score] : sum) merged.push_back({item, score});
    std::stable_sort(merged.begin(), merged.end(), [](const ScoredItem& a, const ScoredItem& b) {
      return a.score > b.score;  // ties keep the lower item first (map order)
    });
    if (merged.size() > list_size_) merged.resize(list_size_);
    *out = items_of(merged);
  }

  // Completes a short list with the most popular items `accept` allows; true when it did.
  template <class Accept>
  bool fill(List* list, const Accept& accept) const {
    if (list->size() >= list_size_) return false;
    const size_t before = list->size();
    const List& current = *list;
    const List more = items_of(models_.popular(list_size_ - before, [&](uint32_t item) {
      return !contains(current, item) && accept(item);
    }));
    list->insert(list->end(), more.begin(), more.end());
    return true;
  }

  // What `item` was to `person` before the target (for a purchase: new or re-buy).
  Kind kind_of(const std::string& person, uint32_t item, bool purchase,
               const std::vector<std::pair<uint32_t, double>>& history) const {
    if (models_.has_bought(person, item)) return kRebuy;
    if (purchase) return kNew;
    if (auto cart = in_cart_.find(person);
        cart != in_cart_.end() && cart->second.contains(models_.item_id(item))) {
      return kInBasket;
    }
    const bool seen = std::binary_search(
        history.begin(), history.end(), std::pair<uint32_t, double>{item, 0},
        [](const auto& a, const auto& b) { return a.first < b.first; });
    return seen ? kSeen : kNew;
  }

  // Scores an offer against the chosen item ids; false when it is not a case.
  bool score(const Offer& offer, std::vector<std::string> chosen_ids, EvalReport* report,
             const std::string& person, bool purchase) {
    ++report->targets;
    if (offer.who == Offer::Who::kUnknown) {
      ++report->unknown;
      return false;
    }
    if (offer.who == Offer::Who::kUnpersonalized) {
      ++report->unpersonalized;
      return false;
    }
    std::sort(chosen_ids.begin(), chosen_ids.end());
    chosen_ids.erase(std::unique(chosen_ids.begin(), chosen_ids.end()), chosen_ids.end());
    if (chosen_ids.empty()) return false;  // nothing chosen: nothing to score
    // Items the models have never seen count in |chosen| but no list can hold them.
    std::vector<uint32_t> chosen;
    for (const std::string& id : chosen_ids) {
      if (auto i = models_.item_index(id)) chosen.push_back(*i);
    }
    std::sort(chosen.begin(), chosen.end());
    const size_t relevant = chosen_ids.size();
    const size_t k = opts_.k;
    const double ideal = ideal_dcg(relevant, k);
    // The chosen items by kind (items the models never saw are new to everyone).
    std::array<std::vector<uint32_t>, kKindCount> by_kind;
    std::array<size_t, kKindCount> relevant_by_kind{};
    relevant_by_kind[kNew] = relevant - chosen.size();
    const auto history = models_.interactions_of(person);
    for (uint32_t item : chosen) {
      const Kind kind = kind_of(person, item, purchase, history);
      by_kind[kind].push_back(item);  // sorted, as chosen is
      ++relevant_by_kind[kind];
    }

    for (size_t m = 0; m < kMethodCount; ++m) {
      const List& list = offer.lists[m];
      Tally& t = tally_[m];
      for (size_t r = 0; r < std::min(k, list.size()); ++r) {
        if (list[r] >= t.shown.size()) t.shown.resize(list[r] + 1, 0);
        t.shown[list[r]] = 1;
      }
      const Hits h = hits_of(list, chosen, k);
      t.hr += h.k > 0 ? 1 : 0;
      t.ndcg += h.dcg / ideal;
      t.recall += static_cast<double>(h.recall) / static_cast<double>(relevant);
      ++t.cases;
      t.filled += offer.filled[m] ? 1 : 0;
      for (size_t kind = 0; kind < kKindCount; ++kind) {
        if (relevant_by_kind[kind] == 0) continue;
        const Hits hk = hits_of(list, by_kind[kind], k);
        KindTally& kt = t.kinds[kind];
        kt.hr += hk.k > 0 ? 1 : 0;
        kt.ndcg += hk.dcg / ideal_dcg(relevant_by_kind[kind], k);
        ++kt.cases;
      }
    }
    ++cases_;
    return true;
  }

  const EvalOptions& opts_;
  const size_t list_size_;
  RecoModels models_;
  int64_t retrain_period_ms() const {
    return static_cast<int64_t>(std::max(opts_.retrain_days, 1e-3) * 86'400'000.0);
  }
  std::shared_ptr<const EaseModel> ease_, retrained_;  // the split's; the latest
  reco_internal::ItemKnn knn_;
  int64_t next_retrain_ms_ = 0;
  std::array<Tally, kMethodCount> tally_;
  // Offers made when a person's basket started (first AddToCart since their last purchase),
  // scored when the purchase comes.
  std::map<std::string, Offer> baskets_;
  // Item ids each person carted since their last purchase (in-basket targets).
  std::map<std::string, std::set<std::string>> in_cart_;
  uint64_t cases_ = 0;
};

// Walks records in journal order, or with EvalOptions::shuffle_lines, each run of consecutive
// events of one kind by one person at one timestamp in a shuffled order (the run's seqs handed
// out again in ascending order, so the models still see increasing seqs), and each purchase's
// lines shuffled.
class LineShuffler {
 public:
  using Sink = std::function<bool(uint64_t seq, Event& event)>;
  LineShuffler(const EvalOptions& opts, Sink sink)
      : on_(opts.shuffle_lines), rng_(opts.shuffle_seed), sink_(std::move(sink)) {}

  bool add(uint64_t seq, Event event) {
    if (!on_) return sink_(seq, event);
    if (!run_.empty() && !same_run(run_.front().second, event) && !drain()) return false;
    run_.emplace_back(seq, std::move(event));
    return true;
  }
  // The last run. Returns false when the sink stopped the walk.
  bool drain() {
    std::vector<uint64_t> seqs;
    for (const auto& [seq, e] : run_) seqs.push_back(seq);
    std::shuffle(run_.begin(), run_.end(), rng_);
    for (size_t i = 0; i < run_.size(); ++i) {
      Event& e = run_[i].second;
      if (auto* order = std::get_if<PurchaseComplete>(&e.body)) {
        std::shuffle(order->lines.begin(), order->lines.end(), rng_);
      }
      if (!sink_(seqs[i], e)) {
        run_.clear();
        return false;
      }
    }
    run_.clear();
    return true;
  }

 private:
  static bool same_run(const Event& a, const Event& b) {
    const UserRef* ua = a.user();
    const UserRef* ub = b.user();
    return ua && ub && a.type() == b.type() && a.timestamp_ms == b.timestamp_ms &&
           ua->visitor_id == ub->visitor_id && ua->user_id == ub->user_id;
  }
  bool on_;
  std::mt19937_64 rng_;
  Sink sink_;
  std::vector<std::pair<uint64_t, Event>> run_;
};

}  // namespace

Result<EvalReport> evaluate(const std::string& data_dir, const EvalOptions& opts) {
  assert(opts.k >= 1);  // REQUIRES
  const auto start = Clock::now();
  std::string journal_dir = data_dir;
  journal_dir += "/journal";
  EventParser parser;
  Status parse_error;
  auto parse = [&](const RecordView& r) -> std::optional<Event> {
    Result<Event> e = parser.parse(r.payload);
    if (!e.ok()) {
      std::string msg = "journal record ";
      msg += std::to_string(r.seq);
      msg += " does not parse: ";
      msg += e.status().to_string();
      parse_error = Status::corruption(std::move(msg));
      return std::nullopt;
    }
    Event event = std::move(e).value();
    if (!event.timestamp_ms) event.timestamp_ms = r.timestamp_ms;
    return event;
  };

  // Who UserForget erases: their records are left out of both phases, as a rebuild would.
  // Finding out needs a fold of the whole journal, paid only when a UserForget exists.
  std::vector<RecoModels::Forgotten> forgotten;
  {
    bool any = false;
    const auto forget_type = static_cast<uint16_t>(EventType::kUserForget);
    TROVE_RETURN_IF_ERROR(Journal::scan(journal_dir, 1, [&](const RecordView& r) {
      any = r.type == forget_type;
      return !any;
    }));
    if (any) {
      RecoModels all(opts.models);
      TROVE_RETURN_IF_ERROR(Journal::scan(journal_dir, 1, [&](const RecordView& r) {
        std::optional<Event> e = parse(r);
        if (e) all.apply_deferred(r.seq, *e);
        return e.has_value();
      }));
      TROVE_RETURN_IF_ERROR(parse_error);
      all.flush();
      forgotten = all.forgotten();
    }
  }

  EvalReport report;
  Walk walk(opts);
  bool walking = false;
  const auto walk_start = Clock::now();
  auto split_here = [&] {
    walking = true;
    walk.models().flush();
    report.fold_seconds = seconds_since(walk_start);
    report.models_memory = walk.models().memory();
    walk.train_at_split(opts.split_ms);
    report.ease = walk.ease().stats();
  };
  LineShuffler lines(opts, [&](uint64_t seq, Event& e) {
    if (!walking && *e.timestamp_ms >= opts.split_ms) split_here();
    if (!walking) {
      ++report.records_before;
    } else {
      ++report.records_after;
      walk.retrain_if_due(*e.timestamp_ms, &report);
      walk.models().flush();  // what came before is visible to the predictions
      walk.before(e, &report);
    }
    walk.models().apply_deferred(seq, e);
    if (walk.done()) {
      report.stopped_early = true;
      return false;
    }
    return true;
  });
  bool stopped = false;
  TROVE_RETURN_IF_ERROR(Journal::scan(journal_dir, 1, [&](const RecordView& r) {
    std::optional<Event> e = parse(r);
    if (!e) return false;
    if (!forgotten.empty() && RecoModels::forgotten_event(forgotten, r.seq, *e)) {
      ++report.skipped_forgotten;
      return true;
    }
    stopped = !lines.add(r.seq, std::move(*e));
    return !stopped;
  }));
  TROVE_RETURN_IF_ERROR(parse_error);
  if (!stopped) lines.drain();
  if (!walking) split_here();  // the whole journal is before the split: no case
  walk.finish(&report);
  report.walk_seconds = seconds_since(walk_start) - report.fold_seconds - report.ease.seconds;
  report.seconds = seconds_since(start);
  return report;
}

}  // namespace trove
