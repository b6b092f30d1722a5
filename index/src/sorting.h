// Sorting search results by up to three keys (SearchRequest::sort_by, parse_sort). Private to
// index/.
#pragma once

#include <xapian.h>

#include <memory>
#include <vector>

#include "trove/data/state.h"
#include "trove/index/attributes.h"
#include "trove/index/catalog_index.h"

namespace trove::index_internal {

// The request's sort as keys: sort_by, or `sort` read as keys.
std::vector<SortKey> sort_keys(const SearchRequest& req);
// kInvalidArgument when a key sorts by an attribute `schema` says is not sortable (text, or
// declared sortable: false).
Status check_sortable(const std::vector<SortKey>& keys, const AttributeSchema& schema);
// Whether the keys are relevance alone (the typo tiers and re-rankings apply).
bool by_relevance(const std::vector<SortKey>& keys);
// Whether a key reads the State (popularity): the match then runs under the Store's lock.
bool sort_reads_state(const std::vector<SortKey>& keys);

// Sets the keys on `enquire`. Returns the KeyMaker the enquire uses (it must outlive the
// enquire's use), or null. `st` is needed when sort_reads_state().
std::unique_ptr<Xapian::KeyMaker> set_sort(Xapian::Enquire& enquire,
                                           const std::vector<SortKey>& keys, const State* st);

}  // namespace trove::index_internal
