// Opening the catalog index of a data directory beside its Store (DATA_DIR/index). The JSON
// shape of search, suggest and fuzzy answers, shared with the HTTP API, is in
// trove/http/json_shapes.h.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "trove/data/store.h"
#include "trove/index/catalog_index.h"

namespace trove::cli {

// Opens DATA_DIR/index, attaches it to `store` (catching up or rebuilding) and flushes.
// With `write_failure` given, a flush that cannot write (a full disk) is put there and the
// index is returned anyway, searchable at what it had committed (CatalogIndex::attach).
Result<std::unique_ptr<CatalogIndex>> open_index(Store& store, std::vector<std::string>* warnings,
                                                 const IndexOptions& opts = {},
                                                 Status* write_failure = nullptr);

}  // namespace trove::cli
