// The JSON shape of search, suggest and fuzzy answers, shared by the HTTP API and the CLI's
// --json output so the two cannot drift, and the names of the sort orders both accept.
//
// Thread-safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <vector>

#include "trove/index/catalog_index.h"

namespace trove::http {

nlohmann::json search_response_json(const SearchResponse& res, bool explain);
nlohmann::json suggest_response_json(const SuggestResponse& res);
nlohmann::json fuzzy_terms_json(const std::vector<FuzzyTerm>& terms);

// "relevance", "price_asc", "price_desc", "popularity", "newest".
std::optional<SortOrder> sort_order_from_name(std::string_view name);
inline constexpr std::string_view kSortOrderNames[] = {"relevance", "price_asc", "price_desc",
                                                       "popularity", "newest"};

}  // namespace trove::http
