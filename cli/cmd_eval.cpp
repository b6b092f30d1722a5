// `trove eval`: offline evaluation by replaying the journal (recommend/eval.h): popularity,
// trending, the real-time model, EASE trained at the split and their blend, scored on what
// people chose after the split, in one table.
#include <fmt/core.h>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common.h"
#include "trove/data/store.h"
#include "trove/recommend/eval.h"

namespace trove::cli {
namespace {

constexpr std::string_view kName = "eval";

struct EvalCliOptions {
  std::string data_dir;
  std::string split;
  size_t k = 10;
  std::vector<std::string> targets = {"purchase", "rating"};
  double ease_lambda = EaseOptions{}.lambda;
  size_t ease_max_items = EaseOptions{}.max_items;
  std::string ease_weighting =
      EaseOptions{}.weighting == EaseOptions::Weighting::kLog ? "log" : "binary";
  double blend_weight = EvalOptions{}.blend_weight;
  uint64_t max_cases = 0;
  double min_rating = 0;
  bool shuffle_lines = false;
  double retrain_days = EvalOptions{}.retrain_days;
  std::vector<std::string> model_options;  // name=value
  bool json = false;
};

// RecommendOptions fields settable as --model-option name=value (numbers only).
Status set_model_option(RecommendOptions* o, std::string_view text) {
  const size_t eq = text.find('=');
  if (eq == std::string_view::npos) {
    return Status::invalid("expected name=value", "--model-option");
  }
  const std::string name(text.substr(0, eq));
  const std::string value(text.substr(eq + 1));
  std::map<std::string, double*> reals = {
      {"view", &o->view},           {"image", &o->image},
      {"click", &o->click},         {"list_add", &o->list_add},
      {"cart", &o->cart},           {"purchase", &o->purchase},
      {"other", &o->other},         {"rating", &o->rating},
      {"half_life_days", &o->half_life_days},
      {"trending_half_life_hours", &o->trending_half_life_hours},
      {"trending_baseline_days", &o->trending_baseline_days},
      {"damping", &o->damping},     {"repeat_ratio", &o->repeat_ratio},
      {"buy_again", &o->buy_again}};
  std::map<std::string, size_t*> counts = {
      {"window", &o->window}, {"recent", &o->recent}, {"max_row", &o->max_row}};
  std::string path = "--model-option ";
  path += name;
  size_t used = 0;
  try {
    if (auto it = reals.find(name); it != reals.end()) {
      const double v = std::stod(value, &used);
      if (used == value.size()) {
        *it->second = v;
        return Status();
      }
    } else if (auto jt = counts.find(name); jt != counts.end()) {
      const unsigned long long v = std::stoull(value, &used);
      if (used == value.size() && value[0] != '-') {
        *jt->second = static_cast<size_t>(v);
        return Status();
      }
    } else {
      std::string known;
      for (const auto& [n, p] : reals) (known += known.empty() ? "" : ", ") += n;
      for (const auto& [n, p] : counts) (known += ", ") += n;
      std::string msg = "unknown option; known: ";
      msg += known;
      return Status::invalid(std::move(msg), path);
    }
  } catch (const std::exception&) {
  }
  std::string msg = "expected a number, got '";
  msg += value;
  msg += "'";
  return Status::invalid(std::move(msg), path);
}

nlohmann::json report_json(const EvalCliOptions& o, const EvalReport& r) {
  nlohmann::json rows = nlohmann::json::array();
  for (const EvalRow& row : r.rows) {
    nlohmann::json kinds = nlohmann::json::array();
    for (const KindScore& k : row.by_kind) {
      kinds.push_back({{"kind", k.kind}, {"hr", k.hr}, {"ndcg", k.ndcg}, {"cases", k.cases}});
    }
    rows.push_back({{"by_kind", kinds},
                    {"method", row.method},
                    {"hr", row.hr},
                    {"ndcg", row.ndcg},
                    {"recall", row.recall},
                    {"coverage", row.coverage},
                    {"cases", row.cases},
                    {"filled", row.filled},
                    {"seconds", row.seconds}});
  }
  return {
      {"split", o.split},
      {"k", r.k},
      {"list_size", r.list_size},
      {"targets", o.targets},
      {"min_rating", o.min_rating},
      {"shuffle_lines", o.shuffle_lines},
      {"retrain_days", o.retrain_days},
      {"retrainings", r.retrainings},
      {"rows", rows},
      {"records_before", r.records_before},
      {"records_after", r.records_after},
      {"skipped_forgotten", r.skipped_forgotten},
      {"targets_walked", r.targets},
      {"cases", r.cases},
      {"purchase_cases", r.purchase_cases},
      {"rating_cases", r.rating_cases},
      {"cart_cases", r.cart_cases},
      {"unknown", r.unknown},
      {"unpersonalized", r.unpersonalized},
      {"items_with_interactions", r.items_with_interactions},
      {"stopped_early", r.stopped_early},
      {"ease",
       {{"lambda", o.ease_lambda},
        {"weighting", o.ease_weighting},
        {"items", r.ease.items},
        {"candidates", r.ease.candidates},
        {"people", r.ease.people},
        {"nonzeros", r.ease.nonzeros},
        {"bytes", r.ease.bytes},
        {"gram_seconds", r.ease.gram_seconds},
        {"solve_seconds", r.ease.solve_seconds},
        {"seconds", r.ease.seconds}}},
      {"models_bytes_at_split", r.models_memory.total},
      {"fold_seconds", r.fold_seconds},
      {"walk_seconds", r.walk_seconds},
      {"seconds", r.seconds},
  };
}

void print_report(const EvalCliOptions& o, const EvalReport& r) {
  std::string targets;
  for (const std::string& t : o.targets) (targets += targets.empty() ? "" : ",") += t;
  fmt::print("split {}, k {}, lists of {}, targets {}{}{}\n", o.split, r.k, r.list_size, targets,
             o.min_rating > 0 ? fmt::format(" (ratings of {} stars or more)", o.min_rating) : "",
             o.shuffle_lines ? ", lines shuffled" : "");
  fmt::print("records: {} folded before the split, {} walked after{}; {} retrainings\n",
             r.records_before, r.records_after,
             r.stopped_early ? " (stopped at --max-cases)" : "", r.retrainings);
  fmt::print(
      "cases: {} (purchase {}, rating {}, cart {}); targets not scored: {} by someone unknown, "
      "{} not personalized\n\n",
      r.cases, r.purchase_cases, r.rating_cases, r.cart_cases, r.unknown, r.unpersonalized);
  const std::string hr = fmt::format("HR@{}", r.k), ndcg = fmt::format("NDCG@{}", r.k);
  fmt::print("{:<14} {:>8} {:>8} {:>9} {:>9} {:>8} {:>8} {:>9}\n", "method", hr, ndcg,
             "recall@20", "coverage", "cases", "filled", "ms/query");
  for (const EvalRow& row : r.rows) {
    const double per = row.cases ? 1000 * row.seconds / static_cast<double>(row.cases) : 0;
    fmt::print("{:<14} {:>8.4f} {:>8.4f} {:>9.4f} {:>9.4f} {:>8} {:>8} {:>9.3f}\n", row.method,
               row.hr, row.ndcg, row.recall, row.coverage, row.cases, row.filled, per);
  }
  if (!r.rows.empty()) {
    fmt::print("\n{} by what the chosen items were to the person before (cases):\n{:<14}", hr,
               "method");
    for (const KindScore& k : r.rows.front().by_kind) {
      fmt::print(" {:>16}", fmt::format("{} ({})", k.kind, k.cases));
    }
    fmt::print("\n");
    for (const EvalRow& row : r.rows) {
      fmt::print("{:<14}", row.method);
      for (const KindScore& k : row.by_kind) fmt::print(" {:>16.4f}", k.hr);
      fmt::print("\n");
    }
  }
  fmt::print(
      "\nfilled: lists shorter than {} completed with the most popular items the method may "
      "offer (real-time: for_you; EASE: no modeled item in the history; blend: both short).\n"
      "own-history, real-time, EASE-repeat and blend offer what RecoModels::excluded_for allows "
      "(bought items only when their buyers often buy again); EASE skips the history.\n"
      "coverage: distinct items in a top {} / {} items with any interaction.\n\n",
      r.list_size, r.k, r.items_with_interactions);
  fmt::print(
      "EASE: {} items (of {}), {} people, {} cells, lambda {}, {}; trained in {:.2f} s (gram "
      "{:.2f} s, solve {:.2f} s), {:.1f} MB\n",
      r.ease.items, r.ease.candidates, r.ease.people, r.ease.nonzeros, o.ease_lambda,
      o.ease_weighting, r.ease.seconds, r.ease.gram_seconds, r.ease.solve_seconds,
      static_cast<double>(r.ease.bytes) / 1e6);
  fmt::print("time: fold to the split {:.2f} s, walk {:.2f} s, total {:.2f} s\n", r.fold_seconds,
             r.walk_seconds, r.seconds);
}

int run_eval(const EvalCliOptions& o) {
  EvalOptions opts;
  Result<int64_t> split = parse_iso8601(o.split);
  if (!split.ok()) return fail(kName, split.status().with_context("--split"));
  opts.split_ms = split.value();
  opts.k = o.k;
  opts.purchases = opts.ratings = opts.carts = false;
  for (const std::string& t : o.targets) {
    if (t == "purchase") {
      opts.purchases = true;
    } else if (t == "rating") {
      opts.ratings = true;
    } else if (t == "cart") {
      opts.carts = true;
    } else {
      std::string msg = "expected purchase, rating or cart, got '";
      msg += t;
      msg += "'";
      return fail(kName, Status::invalid(std::move(msg), "--targets"));
    }
  }
  opts.max_cases = o.max_cases;
  opts.min_rating = o.min_rating;
  opts.shuffle_lines = o.shuffle_lines;
  opts.retrain_days = o.retrain_days;
  opts.ease.lambda = o.ease_lambda;
  opts.ease.max_items = o.ease_max_items;
  opts.ease.weighting =
      o.ease_weighting == "log" ? EaseOptions::Weighting::kLog : EaseOptions::Weighting::kBinary;
  opts.blend_weight = o.blend_weight;
  for (const std::string& m : o.model_options) {
    if (Status st = set_model_option(&opts.models, m); !st.ok()) return fail(kName, st);
  }
  Result<EvalReport> report = evaluate(o.data_dir, opts);
  if (!report.ok()) return fail(kName, report.status());
  if (o.json) {
    fmt::print("{}\n", report_json(o, report.value()).dump());
  } else {
    print_report(o, report.value());
  }
  return kExitOk;
}

}  // namespace

Command add_eval_command(CLI::App& root) {
  auto o = std::make_shared<EvalCliOptions>();
  CLI::App* app = root.add_subcommand(
      "eval",
      "Replay the journal to a split instant, then score popularity, trending, the real-time "
      "model, EASE and their blend on what people chose next (HR, NDCG, recall, coverage)");
  app->add_option("--data-dir", o->data_dir, "Data directory (its journal is read, not changed)")
      ->required();
  app->add_option("--split", o->split,
                  "Instant where training ends and cases begin, e.g. 2011-11-01T00:00:00Z")
      ->required();
  app->add_option("--k", o->k, "Cut-off of HR and NDCG")->check(CLI::Range(1, 1000));
  app->add_option("--targets", o->targets,
                  "Target event kinds, comma-separated: purchase, rating, cart")
      ->delimiter(',');
  app->add_option("--ease-lambda", o->ease_lambda, "EASE's L2 regularization")
      ->check(CLI::PositiveNumber);
  app->add_option("--ease-max-items", o->ease_max_items,
                  "EASE models only this many most popular items")
      ->check(CLI::Range(size_t{1}, size_t{20000}));
  app->add_option("--ease-weighting", o->ease_weighting, "How interactions enter EASE's X")
      ->check(CLI::IsMember({"binary", "log"}));
  app->add_option("--blend-weight", o->blend_weight,
                  "Weight of EASE's normalized score beside the real-time one in the blend")
      ->check(CLI::NonNegativeNumber);
  app->add_option("--max-cases", o->max_cases, "Stop after this many cases (0: all)");
  app->add_option("--min-rating", o->min_rating,
                  "Ratings below this many stars are not cases (they still train the models)")
      ->check(CLI::Range(0.0, 5.0));
  app->add_option("--retrain-days", o->retrain_days,
                  "EASE-retrained and ItemKNN train again every this many days of the walk "
                  "(0: never)")
      ->check(CLI::NonNegativeNumber);
  app->add_flag("--shuffle-lines", o->shuffle_lines,
                "Walk each run of one person's same-kind events at one timestamp (an invoice's "
                "lines) and each purchase's lines in a shuffled order (fixed seed), so an order "
                "the data does not carry cannot be learned");
  app->add_option("--model-option", o->model_options,
                  "A RecommendOptions field for the real-time models, name=value "
                  "(e.g. damping=0.3, half_life_days=60); repeatable");
  app->add_flag("--json", o->json, "Print one JSON object");
  return {app, [o] { return run_eval(*o); }};
}

}  // namespace trove::cli
