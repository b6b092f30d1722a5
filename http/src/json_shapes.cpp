#include "trove/http/json_shapes.h"

#include <algorithm>
#include <variant>

#include "core.h"

namespace trove::http {
namespace {

nlohmann::json attribute_json(const AttrValue& v) {
  return std::visit([](const auto& x) { return nlohmann::json(x); }, v);
}

nlohmann::json hit_json(const SearchHit& h, bool explain, const HitFields& f) {
  nlohmann::json j = {{"id", h.id}, {"title_highlighted", h.title_highlighted}};
  if (f.title) j["title"] = h.title;
  if (f.brand && h.brand) j["brand"] = *h.brand;
  if (f.price && h.price) j["price"] = *h.price;
  if (f.currency && h.currency) j["currency"] = *h.currency;
  if (f.in_stock && h.in_stock) j["in_stock"] = *h.in_stock;
  if (f.url && h.url) j["url"] = *h.url;
  if (f.image_url && h.image_url) j["image_url"] = *h.image_url;
  if (f.categories && h.categories) j["categories"] = *h.categories;
  if (f.tags && h.tags) j["tags"] = *h.tags;
  if (h.attributes && (f.attributes || !f.some_attributes.empty())) {
    nlohmann::json attrs = nlohmann::json::object();
    for (const auto& [key, value] : *h.attributes) {
      if (f.attributes || std::find(f.some_attributes.begin(), f.some_attributes.end(), key) !=
                              f.some_attributes.end()) {
        attrs[key] = attribute_json(value);
      }
    }
    if (!attrs.empty()) j["attributes"] = std::move(attrs);
  }
  if (h.geo_distance_metres) j["geo_distance_metres"] = *h.geo_distance_metres;
  if (h.group_size) j["group_size"] = *h.group_size;
  if (!h.highlights.empty()) {
    nlohmann::json hl = nlohmann::json::object();
    for (const auto& one : h.highlights) {
      hl[one.field] = one.list ? nlohmann::json(one.texts) : nlohmann::json(one.texts.at(0));
    }
    j["highlights"] = std::move(hl);
  }
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

Result<HitFields> hit_fields(const std::vector<std::string>& names, std::string_view path) {
  std::vector<std::string> wanted;
  for (std::string one : split_commas(names)) {
    while (!one.empty() && one.front() == ' ') one.erase(0, 1);
    while (!one.empty() && one.back() == ' ') one.pop_back();
    if (!one.empty()) wanted.push_back(std::move(one));
  }
  if (wanted.empty()) return HitFields{};
  HitFields f;
  f.title = f.brand = f.price = f.currency = f.in_stock = f.url = f.image_url = f.categories =
      f.tags = f.attributes = false;
  const std::pair<const char*, bool HitFields::*> named[] = {
      {"title", &HitFields::title},         {"brand", &HitFields::brand},
      {"price", &HitFields::price},         {"currency", &HitFields::currency},
      {"in_stock", &HitFields::in_stock},   {"url", &HitFields::url},
      {"image_url", &HitFields::image_url}, {"categories", &HitFields::categories},
      {"tags", &HitFields::tags},           {"attributes", &HitFields::attributes}};
  for (const auto& w : wanted) {
    if (w == "id") continue;  // always there
    if (w.rfind("attributes.", 0) == 0 && w.size() > 11) {
      f.some_attributes.push_back(w.substr(11));
      continue;
    }
    bool known = false;
    for (const auto& [name, member] : named) {
      if (w == name) f.*member = known = true;
    }
    if (!known) {
      return Status::invalid("unknown field \"" + w.substr(0, 64) +
                                 "\"; expected id, title, brand, price, currency, in_stock, url, "
                                 "image_url, categories, tags, attributes or attributes.<name>",
                             std::string(path));
    }
  }
  return f;
}

nlohmann::json search_response_json(const SearchResponse& res, bool explain,
                                    const HitFields& fields) {
  nlohmann::json hits = nlohmann::json::array();
  for (const auto& h : res.hits) hits.push_back(hit_json(h, explain, fields));
  nlohmann::json facets = nlohmann::json::object();
  nlohmann::json stats = nlohmann::json::object();
  for (const auto& f : res.facets) {
    nlohmann::json values = nlohmann::json::array();
    for (const auto& v : f.values) values.push_back({{"value", v.value}, {"count", v.count}});
    facets[f.field] = values;
    if (f.stats) {
      const FacetStats& s = *f.stats;
      stats[f.field] = {{"count", s.count}, {"min", s.min}, {"max", s.max}, {"sum", s.sum},
                        {"avg", s.sum / static_cast<double>(s.count)}};
    }
  }
  nlohmann::json j = {{"total", res.total}, {"total_exact", res.total_exact}, {"hits", hits}};
  if (!res.facets.empty()) j["facets"] = facets;
  if (!stats.empty()) j["facet_stats"] = stats;
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
    if (i.currency) j["currency"] = *i.currency;
    if (i.url) j["url"] = *i.url;
    if (i.image_url) j["image_url"] = *i.image_url;
    items.push_back(std::move(j));
  }
  return {{"strategy", r.strategy}, {"source", r.source}, {"personalized", r.personalized},
          {"items", std::move(items)}, {"took_ms", r.took_ms}};
}

nlohmann::json suggest_response_json(const SuggestResponse& res, const HitFields& fields) {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& h : res.items) items.push_back(hit_json(h, false, fields));
  return {{"items", items}, {"completions", res.completions}, {"took_ms", res.took_ms}};
}

nlohmann::json fuzzy_terms_json(const std::vector<FuzzyTerm>& terms) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& m : terms) {
    out.push_back({{"term", m.term}, {"distance", m.distance}, {"frequency", m.frequency}});
  }
  return out;
}

}  // namespace trove::http
