// The catalog's business signal (SearchSettingsUpsert::signal) in relevance ranking for
// everyone: a re-ranking of the first kRerankWindow hits, the same hook personalized search
// uses (a request with its own re-ranking keeps it). Private to index/.
//
// Each hit's signal value (popularity from behaviour, index_rep.h's popularity(), or a numeric
// attribute; true/false count 1/0) is log-compressed (counts have heavy tails), scaled to 0..1
// over the window (descending: the largest 1; ascending: the smallest), 0 when the item has
// none. With signal_weight w > 0 a hit's score is text / best text + w x signal; with w = 0 the
// signal only orders hits the text scores equally. Either way every hit found without a typo
// stays before every hit that needed one. explain lists "text" and "signal:popularity" (or
// "signal:attributes.<name>") with their contributions.
//
// Thread-safety: the returned function is called under the Store's read lock, by one thread.
#pragma once

#include <functional>
#include <optional>
#include <vector>

#include "trove/data/state.h"
#include "trove/index/attributes.h"
#include "trove/index/catalog_index.h"

namespace trove::index_internal {

inline constexpr double kDefaultSignalWeight = 0.5;

// The signal value of an item, if it has one (none for RankingSignal::kNone); an attribute
// is read as `schema` declares it (a number, or a boolean as 1 or 0).
std::optional<double> signal_value(const State& st, ItemRef ref, const SearchSettingsUpsert& s,
                                   const AttributeSchema& schema);

// The re-ranking for `s` (whose signal is set and not kNone).
std::function<void(const State&, std::vector<RerankCandidate>&)> signal_rerank(
    const SearchSettingsUpsert& s, const AttributeSchema& schema);

}  // namespace trove::index_internal
