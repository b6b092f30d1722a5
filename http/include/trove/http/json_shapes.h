// The JSON shape of search, suggest, fuzzy and recommendation answers, shared by the HTTP API
// and the CLI's --json output so the two cannot drift, and the stored fields a hit shows.
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

// Which stored fields each hit shows (`fields=`, `--fields`): by default every one: title,
// brand, price, currency, in_stock, url, image_url, categories, tags, attributes. `id`,
// `title_highlighted`, `score` and `typos` are always there; `attributes.<name>` shows one
// attribute.
struct HitFields {
  bool title = true, brand = true, price = true, currency = true, in_stock = true, url = true,
       image_url = true, categories = true, tags = true, attributes = true;
  std::vector<std::string> some_attributes;  // with attributes false: only these
};
// `names` (each also split at commas) as HitFields; none: every field. InvalidArgument with
// the path `path` naming an unknown field.
Result<HitFields> hit_fields(const std::vector<std::string>& names, std::string_view path = "fields");

// Each hit carries `typos` (edits it needed; 0: none). With explain: `matched_terms`, the
// `query` as run, and, after a personalized re-ranking, `ranking`: each part of the blended
// score (text, affinity, popularity, typo_penalty) as an object of contributions.
nlohmann::json search_response_json(const SearchResponse& res, bool explain,
                                    const HitFields& fields = {});
// {"strategy", "source", "personalized", "items": [{"id", "title", "brand"?, "price"?,
// "currency"?, "url"?, "image_url"?, "score", "source"}], "took_ms"}.
nlohmann::json recommend_response_json(const RecoResponse& res);
nlohmann::json suggest_response_json(const SuggestResponse& res, const HitFields& fields = {});
nlohmann::json fuzzy_terms_json(const std::vector<FuzzyTerm>& terms);

}  // namespace trove::http
