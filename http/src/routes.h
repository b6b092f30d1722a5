// The route table: one row per route, read by the server (registration, scopes, metric and
// log labels) and by the OpenAPI generator, so the document lists exactly what is served.
#pragma once

#include <cstddef>
#include <string_view>

#include "keys.h"

namespace trove::http {

enum class RouteId {
  kEvents,
  kEventsBulk,
  kSearch,
  kSuggest,
  kFuzzy,
  kItem,
  kSchemas,
  kSchema,
  kOpenApi,
  kMetrics,
  kHealthz,
  kReadyz,
  kAdminSnapshot,
  kAdminTrainEase,
  kItemsDeleteByFilter,
  kRecoSimilar,
  kRecoBoughtTogether,
  kRecoForYou,
  kRecoTrending,
  kRecoRecentlyViewed,
  kRecoPopular,
  kRecoNewArrivals,
  kRecoPlacement,
  kOther,  // no route matched, or the request was refused before routing
};
inline constexpr size_t kRouteCount = static_cast<size_t>(RouteId::kOther) + 1;

struct RouteSpec {
  RouteId id;
  std::string_view method;
  std::string_view path;     // OpenAPI template, also the metric and log label
  std::string_view pattern;  // httplib regex
  Scope scope;               // kNone: no key needed
  bool needs_data;           // 503 until the store and the index are attached
  std::string_view summary;
};

inline constexpr RouteSpec kRoutes[] = {
    {RouteId::kEvents, "POST", "/v1/events", "/v1/events", Scope::kWrite, true,
     "Append one event or an array of events; answered once they are durable"},
    {RouteId::kEventsBulk, "POST", "/v1/events/bulk", "/v1/events/bulk", Scope::kWrite, true,
     "Append NDJSON events, one per line; answered per line"},
    {RouteId::kSearch, "GET", "/v1/search", "/v1/search", Scope::kSearch, true,
     "Full-text, typo-tolerant search of the catalog"},
    {RouteId::kSuggest, "GET", "/v1/suggest", "/v1/suggest", Scope::kSearch, true,
     "Search-as-you-type: items and query completions for a prefix"},
    {RouteId::kFuzzy, "GET", "/v1/fuzzy", "/v1/fuzzy", Scope::kSearch, true,
     "Vocabulary words within an edit distance of a term"},
    {RouteId::kItem, "GET", "/v1/items/{id}", "/v1/items/(.+)", Scope::kSearch, true,
     "One catalog item with its counters"},
    {RouteId::kRecoSimilar, "GET", "/v1/recommend/similar", "/v1/recommend/similar",
     Scope::kSearch, true,
     "Items people interact with alongside an item (a new item: items like it by their text)"},
    {RouteId::kRecoBoughtTogether, "GET", "/v1/recommend/bought-together",
     "/v1/recommend/bought-together", Scope::kSearch, true,
     "Items bought in the same baskets as an item"},
    {RouteId::kRecoForYou, "GET", "/v1/recommend/for-you", "/v1/recommend/for-you",
     Scope::kSearch, true,
     "Items for a person from their recent history (popular items without one)"},
    {RouteId::kRecoTrending, "GET", "/v1/recommend/trending", "/v1/recommend/trending",
     Scope::kSearch, true, "Items gaining interest now"},
    {RouteId::kRecoRecentlyViewed, "GET", "/v1/recommend/recently-viewed",
     "/v1/recommend/recently-viewed", Scope::kSearch, true,
     "The items a person viewed last, newest first"},
    {RouteId::kRecoPopular, "GET", "/v1/recommend/popular", "/v1/recommend/popular",
     Scope::kSearch, true, "The most interacted-with items, all time or over the last days"},
    {RouteId::kRecoNewArrivals, "GET", "/v1/recommend/new-arrivals",
     "/v1/recommend/new-arrivals", Scope::kSearch, true,
     "The catalog's newest items (by their first ItemUpsert)"},
    {RouteId::kRecoPlacement, "GET", "/v1/recommend/placement", "/v1/recommend/placement",
     Scope::kSearch, true, "A named slot configured by PlacementUpsert (strategy, filters, count)"},
    {RouteId::kSchemas, "GET", "/v1/schemas", "/v1/schemas", Scope::kNone, false,
     "The index of event JSON Schemas"},
    {RouteId::kSchema, "GET", "/v1/schemas/{type}", "/v1/schemas/([A-Za-z]+)", Scope::kNone,
     false, "The JSON Schema (draft 2020-12) of one event type"},
    {RouteId::kOpenApi, "GET", "/openapi.json", "/openapi.json", Scope::kNone, false,
     "This document"},
    {RouteId::kMetrics, "GET", "/metrics", "/metrics", Scope::kAdmin, false,
     "Prometheus metrics (text format 0.0.4)"},
    {RouteId::kHealthz, "GET", "/healthz", "/healthz", Scope::kNone, false,
     "Liveness: the process answers"},
    {RouteId::kReadyz, "GET", "/readyz", "/readyz", Scope::kNone, false,
     "Readiness: the store is open and the index caught up"},
    {RouteId::kAdminSnapshot, "POST", "/v1/admin/snapshot", "/v1/admin/snapshot", Scope::kAdmin,
     true, "Write a snapshot of the state now"},
    {RouteId::kAdminTrainEase, "POST", "/v1/admin/train-ease", "/v1/admin/train-ease",
     Scope::kAdmin, true,
     "Train EASE in the background from what the models know now; swapped in when done"},
    {RouteId::kItemsDeleteByFilter, "POST", "/v1/items/delete-by-filter",
     "/v1/items/delete-by-filter", Scope::kWrite, true,
     "Remove every item a filter matches: one ItemRemove journaled per item"},
};

inline std::string_view route_label(RouteId id) {
  for (const auto& r : kRoutes) {
    if (r.id == id) return r.path;
  }
  return "other";
}

}  // namespace trove::http
