// Opening the catalog index of a data directory beside its Store (DATA_DIR/index), and the
// JSON shape of search and suggest answers shared by the CLI (and, later, the HTTP API).
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "trove/data/store.h"
#include "trove/index/catalog_index.h"

namespace trove::cli {

// Opens DATA_DIR/index, attaches it to `store` (catching up or rebuilding) and flushes.
Result<std::unique_ptr<CatalogIndex>> open_index(Store& store, std::vector<std::string>* warnings,
                                                 const IndexOptions& opts = {});

nlohmann::json search_response_json(const SearchResponse& res, bool explain);
nlohmann::json suggest_response_json(const SuggestResponse& res);

}  // namespace trove::cli
