// What search and suggest share: answer hits (make_hit, highlight), timing and query glue.
// Private to index/.
#pragma once

#include <absl/container/flat_hash_set.h>
#include <xapian.h>

#include <chrono>
#include <string>
#include <vector>

#include "document.h"
#include "query.h"
#include "trove/data/state.h"
#include "trove/index/catalog_index.h"

namespace trove::index_internal {

inline constexpr size_t kMaxPerPage = 100;

double ms_since(std::chrono::steady_clock::time_point t0);
// All of `qs` (match_all() when empty).
Xapian::Query and_all(const std::vector<Xapian::Query>& qs);
// The title with the words that matched (exactly, by stem, or as a prefix) wrapped in <em>,
// the rest HTML-escaped.
std::string highlight(const DocumentBuilder& b, const std::string& title,
                      const absl::flat_hash_set<std::string>& matched,
                      const std::string& prefix = {});
// The item as a hit carries it: every stored field, less the attributes `schema` declares not
// retrievable.
SearchHit make_hit(const Item& item, const std::string& id, const AttributeSchema& schema);

}  // namespace trove::index_internal
