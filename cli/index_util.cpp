#include "index_util.h"

#include <filesystem>

namespace trove::cli {

Result<std::unique_ptr<CatalogIndex>> open_index(Store& store, std::vector<std::string>* warnings,
                                                 const IndexOptions& opts) {
  auto index = CatalogIndex::open((std::filesystem::path(store.data_dir()) / "index").string(), opts);
  if (!index.ok()) return index.status();
  TROVE_RETURN_IF_ERROR(index.value()->attach(store, warnings));
  return std::move(index).value();
}

namespace {
nlohmann::json hit_json(const SearchHit& h, bool explain) {
  nlohmann::json j = {{"id", h.id}, {"title", h.title}, {"title_highlighted", h.title_highlighted}};
  if (h.brand) j["brand"] = *h.brand;
  if (h.price) j["price"] = *h.price;
  if (h.in_stock) j["in_stock"] = *h.in_stock;
  j["score"] = h.score;
  if (explain) j["matched_terms"] = h.matched_terms;
  return j;
}
}  // namespace

nlohmann::json search_response_json(const SearchResponse& res, bool explain) {
  nlohmann::json hits = nlohmann::json::array();
  for (const auto& h : res.hits) hits.push_back(hit_json(h, explain));
  nlohmann::json facets = nlohmann::json::object();
  for (const auto& f : res.facets) {
    nlohmann::json values = nlohmann::json::array();
    for (const auto& v : f.values) values.push_back({{"value", v.value}, {"count", v.count}});
    facets[f.field] = values;
  }
  nlohmann::json j = {{"total", res.total}, {"total_exact", res.total_exact}, {"hits", hits}};
  if (!res.facets.empty()) j["facets"] = facets;
  if (!res.dropped_terms.empty()) j["relaxed"] = {{"dropped_terms", res.dropped_terms}};
  if (explain) j["query"] = res.query_explained;
  j["took_ms"] = res.took_ms;
  return j;
}

nlohmann::json suggest_response_json(const SuggestResponse& res) {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& h : res.items) items.push_back(hit_json(h, false));
  return {{"items", items}, {"completions", res.completions}, {"took_ms", res.took_ms}};
}

}  // namespace trove::cli
