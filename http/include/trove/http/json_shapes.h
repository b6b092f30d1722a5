// The JSON shape of search, suggest, fuzzy and recommendation answers, shared by the HTTP API
// and the CLI's --json output so the two cannot drift, and the names of the sort orders both
// accept.
//
// Thread-safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <vector>

#include "trove/index/catalog_index.h"
#include "trove/recommend/recommender.h"

namespace trove::http {

// Each hit carries `typos` (edits it needed; 0: none). With explain: `matched_terms`, the
// `query` as run, and, after a personalized re-ranking, `ranking`: each part of the blended
// score (text, affinity, popularity, typo_penalty) as an object of contributions.
nlohmann::json search_response_json(const SearchResponse& res, bool explain);
// {"strategy", "source", "personalized", "items": [{"id", "title", "brand"?, "price"?,
// "score", "source"}], "took_ms"}.
nlohmann::json recommend_response_json(const RecoResponse& res);
nlohmann::json suggest_response_json(const SuggestResponse& res);
nlohmann::json fuzzy_terms_json(const std::vector<FuzzyTerm>& terms);

// "relevance", "price_asc", "price_desc", "popularity", "newest".
std::optional<SortOrder> sort_order_from_name(std::string_view name);
inline constexpr std::string_view kSortOrderNames[] = {"relevance", "price_asc", "price_desc",
                                                       "popularity", "newest"};

}  // namespace trove::http
