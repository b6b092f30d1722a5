#include "trove/http/json_shapes.h"

namespace trove::http {
namespace {
nlohmann::json hit_json(const SearchHit& h, bool explain) {
  nlohmann::json j = {{"id", h.id}, {"title", h.title}, {"title_highlighted", h.title_highlighted}};
  if (h.brand) j["brand"] = *h.brand;
  if (h.price) j["price"] = *h.price;
  if (h.in_stock) j["in_stock"] = *h.in_stock;
  j["score"] = h.score;
  j["typos"] = h.typos;
  if (explain) {
    j["matched_terms"] = h.matched_terms;
    if (!h.ranking.empty()) {
      nlohmann::json parts = nlohmann::json::object();
      for (const auto& [name, value] : h.ranking) parts[name] = value;
      j["ranking"] = parts;
    }
  }
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

nlohmann::json recommend_response_json(const RecoResponse& r) {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& i : r.items) {
    nlohmann::json j = {{"id", i.id}, {"title", i.title}, {"score", i.score}, {"source", i.source}};
    if (i.brand) j["brand"] = *i.brand;
    if (i.price) j["price"] = *i.price;
    items.push_back(std::move(j));
  }
  return {{"strategy", r.strategy}, {"source", r.source}, {"personalized", r.personalized},
          {"items", std::move(items)}, {"took_ms", r.took_ms}};
}

nlohmann::json suggest_response_json(const SuggestResponse& res) {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& h : res.items) items.push_back(hit_json(h, false));
  return {{"items", items}, {"completions", res.completions}, {"took_ms", res.took_ms}};
}

nlohmann::json fuzzy_terms_json(const std::vector<FuzzyTerm>& terms) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& m : terms) {
    out.push_back({{"term", m.term}, {"distance", m.distance}, {"frequency", m.frequency}});
  }
  return out;
}

std::optional<SortOrder> sort_order_from_name(std::string_view name) {
  if (name == "relevance") return SortOrder::kRelevance;
  if (name == "price_asc") return SortOrder::kPriceAsc;
  if (name == "price_desc") return SortOrder::kPriceDesc;
  if (name == "popularity") return SortOrder::kPopularity;
  if (name == "newest") return SortOrder::kNewest;
  return std::nullopt;
}

}  // namespace trove::http
