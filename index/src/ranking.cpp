#include "ranking.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "index_rep.h"

namespace trove::index_internal {
namespace {

double compress(double v) { return std::copysign(std::log1p(std::fabs(v)), v); }

std::string signal_label(const SearchSettingsUpsert& s) {
  if (s.signal == RankingSignal::kPopularity) return "signal:popularity";
  return "signal:attributes." + s.signal_attribute.value_or("");
}

}  // namespace

std::optional<double> signal_value(const State& st, ItemRef ref, const SearchSettingsUpsert& s,
                                   const AttributeSchema& schema) {
  switch (s.signal.value_or(RankingSignal::kNone)) {
    case RankingSignal::kNone:
      return std::nullopt;
    case RankingSignal::kPopularity:
      return popularity(st, ref);
    case RankingSignal::kAttribute: {
      const Item* item = st.item_at(ref);
      if (!item || !s.signal_attribute) return std::nullopt;
      const auto v = schema.value(*item, folding_analyzer().fold(*s.signal_attribute));
      if (!v) return std::nullopt;
      if (const double* d = std::get_if<double>(&*v)) return *d;
      if (const bool* b = std::get_if<bool>(&*v)) return *b ? 1.0 : 0.0;
      return std::nullopt;
    }
  }
  return std::nullopt;
}

std::function<void(const State&, std::vector<RerankCandidate>&)> signal_rerank(
    const SearchSettingsUpsert& s, const AttributeSchema& schema) {
  return [s, schema](const State& st, std::vector<RerankCandidate>& hits) {
    const double w = s.signal_weight.value_or(kDefaultSignalWeight);
    const bool ascending = s.signal_order == SignalOrder::kAsc;
    const std::string label = signal_label(s);
    std::vector<std::optional<double>> value(hits.size());
    double lo = std::numeric_limits<double>::infinity(), hi = -lo, best_text = 0;
    for (size_t i = 0; i < hits.size(); ++i) {
      best_text = std::max(best_text, hits[i].score);
      if (auto ref = st.item_ref(hits[i].id)) value[i] = signal_value(st, *ref, s, schema);
      if (!value[i]) continue;
      value[i] = compress(*value[i]);
      lo = std::min(lo, *value[i]);
      hi = std::max(hi, *value[i]);
    }
    std::vector<double> signal(hits.size(), 0.0), text(hits.size(), 0.0);
    for (size_t i = 0; i < hits.size(); ++i) {
      if (value[i]) {
        const double scaled = hi > lo ? (*value[i] - lo) / (hi - lo) : 1.0;
        signal[i] = ascending ? 1.0 - scaled : scaled;
      }
      text[i] = best_text > 0 ? hits[i].score / best_text : 0.0;
      if (w > 0) hits[i].score = text[i] + w * signal[i];
      hits[i].ranking = {{"text", text[i]}, {label, w * signal[i]}};
    }
    std::vector<size_t> order(hits.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      const bool typo_a = hits[a].typos > 0, typo_b = hits[b].typos > 0;
      if (typo_a != typo_b) return !typo_a;
      if (w > 0) return hits[a].score > hits[b].score;
      if (text[a] != text[b]) return text[a] > text[b];
      return signal[a] > signal[b];
    });
    std::vector<RerankCandidate> sorted;
    sorted.reserve(hits.size());
    for (size_t i : order) sorted.push_back(std::move(hits[i]));
    hits = std::move(sorted);
  };
}

}  // namespace trove::index_internal
