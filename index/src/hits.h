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
// The text with the words that matched (exactly, by stem, or as a prefix) wrapped in <em>,
// the rest HTML-escaped. With crop_words > 0 and a longer text: a snippet of that many words
// from a quarter of them before the first match, "…" where it was cut.
std::string highlight(const DocumentBuilder& b, const std::string& text,
                      const absl::flat_hash_set<std::string>& matched,
                      const std::string& prefix = {}, size_t crop_words = 0);
// kInvalidArgument ("highlight[i]", "snippet_words") unless every field is brand, categories,
// tags, description or attributes.<name> of a retrievable attribute.
Status check_highlight(const std::vector<std::string>& fields, size_t snippet_words,
                       const AttributeSchema& schema);
// The highlights of `fields` (checked) in `item`: description cropped to snippet_words.
std::vector<SearchHit::Highlight> field_highlights(const DocumentBuilder& b, const Item& item,
                                                   const std::vector<std::string>& fields,
                                                   const absl::flat_hash_set<std::string>& matched,
                                                   size_t snippet_words);
// The item as a hit carries it: every stored field, less the attributes `schema` declares not
// retrievable.
SearchHit make_hit(const Item& item, const std::string& id, const AttributeSchema& schema);

}  // namespace trove::index_internal
