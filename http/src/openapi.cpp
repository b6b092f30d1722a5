// The OpenAPI 3.1 document, generated from the route table (routes.h) and the event schemas
// of data/ (event_schema_json: the same field tables that drive the parser), so it cannot
// drift from what the server serves and accepts. OpenAPI 3.1 schemas are JSON Schema 2020-12,
// the dialect the event schemas are written in.
#include "core.h"
#include "trove/http/json_shapes.h"

namespace trove::http {
namespace {

using nlohmann::json;

json schema_ref(std::string_view name) { return {{"$ref", "#/components/schemas/" + std::string(name)}}; }

json param(std::string_view name, std::string_view in, std::string_view description,
           json schema, bool required = false) {
  json p = {{"name", name}, {"in", in}, {"description", description}, {"schema", schema}};
  if (required || in == "path") p["required"] = true;
  return p;
}

json integer(int64_t lo, int64_t hi, int64_t def) {
  return {{"type", "integer"}, {"minimum", lo}, {"maximum", hi}, {"default", def}};
}
json boolean(bool def) { return {{"type", "boolean"}, {"default", def}}; }
json text(size_t max) { return {{"type", "string"}, {"maxLength", max}}; }

json json_response(std::string_view description, json schema) {
  return {{"description", description}, {"content", {{"application/json", {{"schema", schema}}}}}};
}
json error_response(std::string_view description) {
  return json_response(description, schema_ref("Error"));
}

// `filter`: the filter language (trove/index/filter.h), search, suggest and recommendations.
json filter_parameter() {
  return param("filter", "query",
               "the filter language: brand = X AND (price < 10 OR attributes.year >= 2015), "
               "category = A > B (the path or below), price = 10..50, brand IN [A, B], "
               "attributes.rating EXISTS, NOT, OR, parentheses; repeatable, all must hold",
               {{"type", "array"}, {"items", text(1024)}});
}

// The recommendation routes' own parameters, then the filters and exclusions they share.
json reco_parameters(RouteId id, json own) {
  const json price = {{"type", "number"}, {"minimum", 0}};
  for (json p : {param("count", "query",
                       id == RouteId::kRecoPlacement ? "items to return (the placement's count wins)"
                                                     : "items to return",
                       integer(1, 100, 10)),
                 param("category", "query", "only items under this category path (A > B)",
                       text(1024)),
                 param("brand", "query", "only items of this brand", text(256)),
                 param("in_stock", "query",
                       "true: in-stock items only (also the default without it); false: "
                       "out-of-stock items only",
                       {{"type", "boolean"}}),
                 param("min_price", "query", "lowest price", price),
                 param("max_price", "query", "highest price", price),
                 filter_parameter(),
                 param("exclude", "query",
                       "item ids never to return: repeatable, or a comma list (at most 100)",
                       {{"type", "array"}, {"items", text(256)}})}) {
    own.push_back(std::move(p));
  }
  return own;
}

// popular (and a popular placement, whose own window_days it replaces): the days counted.
json window_days() {
  return param("window_days", "query",
               "count the last N UTC days (today included); all time without it",
               {{"type", "integer"}, {"minimum", 1}, {"maximum", kMaxWindowDays}});
}

// typos, min_len_1typo, min_len_2typo: search and suggest (typo_choice in the index).
json typo_parameters() {
  return json::array(
      {param("typos", "query",
             "typos a word may carry: 0 none, 1 at most one, 2 by the word's length (false and "
             "true are 0 and 2)",
             {{"type", "string"}, {"enum", {"0", "1", "2", "false", "true"}}, {"default", "2"}}),
       param("min_len_1typo", "query", "letters a word needs for one typo", integer(1, 64, 4)),
       param("min_len_2typo", "query", "letters a word needs for two typos (at least min_len_1typo)",
             integer(1, 64, 8))});
}

json parameters(RouteId id) {
  const json filter = filter_parameter();
  const json fields = param("fields", "query",
                            "the stored fields each hit shows, comma list (default: all): title, "
                            "brand, price, currency, in_stock, url, image_url, categories, tags, "
                            "attributes, attributes.<name>",
                            {{"type", "array"}, {"items", text(1024)}});
  switch (id) {
    case RouteId::kSearch: {
      json out = json::array(
          {param("q", "query", "words, \"phrases\", -exclusions; * for all", text(1024), true),
           filter,
           param("facets", "query",
                 "comma-separated: brand, category, price, attributes.<name> (numbers also give "
                 "facet_stats); price and numeric attributes may name ranges: price(0..10,10..50,50..)",
                 text(1024)),
           param("max_facet_values", "query", "values a facet shows", integer(1, 100, 20)),
           param("facet_sort", "query", "count (default) or value", text(16)),
           param("highlight", "query",
                 "comma-separated fields whose matched words hits return in highlights: brand, "
                 "categories, tags, description (a snippet), attributes.<name>",
                 text(1024)),
           param("snippet_words", "query", "words of a description snippet", integer(1, 100, 20)),
           param("facet_query", "query",
                 "<facet>:<text>: only that facet's values whose words start with the text's, with typos",
                 text(256)),
           param("disjunctive_facets", "query",
                 "comma-separated facets (each also in facets) counted under the other filters "
                 "only, so a selected value's siblings stay counted",
                 text(1024)),
           param("sort", "query",
                 "result order: up to 3 comma-separated keys, each relevance, price, popularity, "
                 "newest, attributes.<name> or a geo point's distance attributes.<name>(lat, lng), "
                 "with :asc or :desc (attributes.rating:desc,price); also price_asc, price_desc",
                 text(512)),
           param("distinct", "query",
                 "attributes.<name> (declared, facetable): one hit per value, with its group_size; "
                 "total and pages count groups",
                 text(128)),
           param("page", "query", "1-based page", integer(1, 1000, 1)),
           param("per_page", "query", "hits per page", integer(1, 100, 10)),
           param("explain", "query", "show the matched terms and the query", boolean(false)),
           fields,
           param("user", "query",
                 "the account the results are for: the first 100 hits are re-ranked by a blend "
                 "of text score, the person's affinity (co-occurrence with their recent items), "
                 "popularity and typo penalty (RankingUpsert weights); explain lists each hit's "
                 "contributions in `ranking`. Plain order for people the models do not know or "
                 "who said personalized: false",
                 text(256)),
           param("visitor", "query", "the visitor the results are for, when there is no account "
                 "(as user)", text(256))});
      for (auto& p : typo_parameters()) out.push_back(std::move(p));
      return out;
    }
    case RouteId::kRecoSimilar:
    case RouteId::kRecoBoughtTogether:
      return reco_parameters(id, {param("item", "query", "the item to recommend for", text(256),
                                        true)});
    case RouteId::kRecoForYou:
      return reco_parameters(
          id, {param("user", "query", "the account (without user and visitor: popular items)",
                     text(256)),
               param("visitor", "query", "the visitor, when there is no account", text(256))});
    case RouteId::kRecoRecentlyViewed:
      return reco_parameters(
          id, {param("user", "query", "the account (user or visitor required)", text(256)),
               param("visitor", "query", "the visitor, when there is no account", text(256)),
               param("drop_bought", "query", "leave out the items the person bought",
                     boolean(false))});
    case RouteId::kRecoTrending:
    case RouteId::kRecoNewArrivals:
      return reco_parameters(id, {});
    case RouteId::kRecoPopular:
      return reco_parameters(id, {window_days()});
    case RouteId::kRecoPlacement:
      return reco_parameters(
          id, {param("placement", "query", "a PlacementUpsert id", text(256), true),
               param("item", "query", "the item, for a similar or bought_together placement",
                     text(256)),
               param("user", "query", "the account, for a for_you or recently_viewed placement",
                     text(256)),
               param("visitor", "query", "the visitor, when there is no account", text(256)),
               param("drop_bought", "query",
                     "a recently_viewed placement: leave out the items the person bought",
                     boolean(false)),
               window_days()});
    case RouteId::kSuggest: {
      json out = json::array(
          {param("q", "query", "the text typed so far; its last word is a prefix", text(1024), true),
           filter, param("items", "query", "items to return", integer(0, 50, 5)),
           param("completions", "query", "query completions to return", integer(0, 50, 5)),
           fields});
      for (auto& p : typo_parameters()) out.push_back(std::move(p));
      return out;
    }
    case RouteId::kFuzzy:
      return json::array(
          {param("term", "query", "the word, as typed", text(256), true),
           param("max_distance", "query", "edits allowed; -1: the typo budget of its length",
                 integer(-1, 3, -1)),
           param("prefix", "query", "match words that some prefix of is within reach",
                 boolean(false)),
           param("limit", "query", "words to return", integer(1, 1000, 20))});
    case RouteId::kItem:
      return json::array({param("id", "path", "the item id", text(256))});
    case RouteId::kSchema: {
      json names = json::array();
      for (EventType t : all_event_types()) names.push_back(event_type_name(t));
      return json::array(
          {param("type", "path", "an event type", {{"type", "string"}, {"enum", names}})});
    }
    default:
      return json::array();
  }
}

json request_body(RouteId id) {
  switch (id) {
    case RouteId::kEvents:
      return {{"required", true},
              {"description", "One event, or an array of events (all accepted or none)"},
              {"content",
               {{"application/json",
                 {{"schema",
                   {{"oneOf", json::array({schema_ref("Event"), {{"type", "array"},
                                                          {"minItems", 1},
                                                          {"items", schema_ref("Event")}}})}}}}}}}};
    case RouteId::kEventsBulk:
      return {{"required", true},
              {"description", "NDJSON: one event per line (each an Event); blank lines skipped"},
              {"content", {{"application/x-ndjson", {{"schema", {{"type", "string"}}}}}}}};
    case RouteId::kItemsDeleteByFilter:
      return {{"required", true},
              {"description", "The items to remove, in the filter language of search"},
              {"content",
               {{"application/json",
                 {{"schema",
                   {{"type", "object"},
                    {"required", {"filter"}},
                    {"additionalProperties", false},
                    {"properties", {{"filter", {{"type", "string"}, {"minLength", 1}}}}}}}}}}}};
    default:
      return nullptr;
  }
}

json ok_response(RouteId id) {
  const json object = {{"type", "object"}};
  switch (id) {
    case RouteId::kEvents:
      return json_response("Durable: every event is journaled and fsynced",
                           {{"oneOf", json::array({schema_ref("Ack"), {{"type", "object"},
                                                                {"required", {"acks"}},
                                                                {"properties",
                                                                 {{"acks", {{"type", "array"},
                                                                            {"items", schema_ref("Ack")}}}}}}})}});
    case RouteId::kEventsBulk:
      return json_response("Per line: accepted lines are durable, rejected ones listed",
                           schema_ref("BulkResult"));
    case RouteId::kMetrics:
      return {{"description", "Prometheus text format 0.0.4"},
              {"content", {{"text/plain", {{"schema", {{"type", "string"}}}}}}}};
    case RouteId::kRecoSimilar:
    case RouteId::kRecoBoughtTogether:
    case RouteId::kRecoForYou:
    case RouteId::kRecoTrending:
    case RouteId::kRecoRecentlyViewed:
    case RouteId::kRecoPopular:
    case RouteId::kRecoNewArrivals:
    case RouteId::kRecoPlacement:
      return json_response("Recommended items, best first; `source` says what answered",
                           schema_ref("Recommendations"));
    case RouteId::kSchema:
      return {{"description", "A JSON Schema (draft 2020-12)"},
              {"content", {{"application/schema+json", {{"schema", object}}}}}};
    default:
      return json_response("OK", object);
  }
}

json components() {
  json schemas = json::object();
  json one_of = json::array();
  json mapping = json::object();
  for (EventType t : all_event_types()) {
    json s = json::parse(event_schema_json(t));
    s.erase("$schema");
    s.erase("$id");
    const std::string name(event_type_name(t));
    schemas[name] = s;
    one_of.push_back(schema_ref(name));
    mapping[name] = "#/components/schemas/" + name;
  }
  schemas["Event"] = {{"oneOf", one_of},
                      {"discriminator", {{"propertyName", "type"}, {"mapping", mapping}}}};
  schemas["Error"] = {
      {"type", "object"},
      {"required", {"error"}},
      {"properties",
       {{"error",
         {{"type", "object"},
          {"required", {"code", "message"}},
          {"properties",
           {{"code", {{"type", "string"}}},
            {"message", {{"type", "string"}}},
            {"path", {{"type", "string"},
                      {"description", "the field, parameter or line the error is about"}}}}}}}}}};
  schemas["Ack"] = {{"type", "object"},
                    {"required", {"seq", "duplicate"}},
                    {"properties",
                     {{"seq", {{"type", "integer"}, {"minimum", 1}}},
                      {"duplicate", {{"type", "boolean"},
                                     {"description", "the event_id was seen before: seq is the "
                                                     "original event's, nothing applied again"}}}}}};
  schemas["BulkResult"] = {
      {"type", "object"},
      {"required", {"lines", "accepted", "duplicates", "rejected", "errors"}},
      {"properties",
       {{"lines", {{"type", "integer"}}},
        {"accepted", {{"type", "integer"}}},
        {"duplicates", {{"type", "integer"}}},
        {"rejected", {{"type", "integer"}}},
        {"first_seq", {{"type", "integer"}}},
        {"last_seq", {{"type", "integer"}}},
        {"errors_truncated", {{"type", "boolean"}}},
        {"errors",
         {{"type", "array"},
          {"items",
           {{"type", "object"},
            {"properties",
             {{"line", {{"type", "integer"}}},
              {"code", {{"type", "string"}}},
              {"message", {{"type", "string"}}},
              {"path", {{"type", "string"}}}}}}}}}}}};
  const json strategies = json::array(
      {"similar", "bought-together", "for-you", "trending", "recently-viewed", "popular",
       "new-arrivals"});
  const json reco_item = {{"type", "object"},
                          {"required", {"id", "title", "score", "source"}},
                          {"properties",
                           {{"id", {{"type", "string"}}},
                            {"title", {{"type", "string"}}},
                            {"brand", {{"type", "string"}}},
                            {"price", {{"type", "number"}}},
                            {"score",
                             {{"type", "number"},
                              {"minimum", 0},
                              {"maximum", 1},
                              {"description",
                               "one scale for every list: non-increasing down the list, the "
                               "first 1; each source's items over its best, in a band below the "
                               "sources before it"}}},
                            {"source",
                             {{"type", "string"},
                              {"description", "what produced this item: offline, "
                                              "co-occurrence, co-occurrence+ease, "
                                              "bought-together, similar-content, trending, "
                                              "recently-viewed, popular, new-arrivals, "
                                              "category-popularity, popularity"}}}}}};
  json reco_props = json::object();
  reco_props["strategy"] = {{"type", "string"}, {"enum", strategies}};
  reco_props["source"] = {
      {"type", "string"},
      {"description", "the items' sources in the order they first appear, joined by +; empty "
                      "when no item was found"}};
  reco_props["personalized"] = {
      {"type", "boolean"}, {"description", "the answer comes from the person's own history"}};
  reco_props["items"] = {{"type", "array"}, {"items", reco_item}};
  reco_props["took_ms"] = {{"type", "number"}};
  schemas["Recommendations"] = {
      {"type", "object"},
      {"required", {"strategy", "source", "personalized", "items", "took_ms"}},
      {"properties", reco_props}};
  return {{"schemas", schemas},
          {"securitySchemes",
           {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}},
            {"apiKey", {{"type", "apiKey"}, {"in", "header"}, {"name", "X-Api-Key"}}}}}};
}

}  // namespace

std::string build_openapi_json() {
  json paths = json::object();
  for (const RouteSpec& r : kRoutes) {
    json op = {{"summary", r.summary}};
    // operationId: method + path words, unique by construction of the table.
    std::string op_id = std::string(r.method == "GET" ? "get" : "post");
    bool upper = true;
    for (char ch : r.path) {
      if (std::isalnum(static_cast<unsigned char>(ch))) {
        op_id += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(ch))) : ch;
        upper = false;
      } else {
        upper = true;
      }
    }
    op["operationId"] = op_id;
    const json params = parameters(r.id);
    if (!params.empty()) op["parameters"] = params;
    if (json body = request_body(r.id); !body.is_null()) op["requestBody"] = body;
    json responses = {{"200", ok_response(r.id)}};
    if (r.scope != Scope::kNone) {
      op["security"] = json::array({{{"bearer", json::array()}}, {{"apiKey", json::array()}}});
      op["description"] = "Needs a key of scope " + std::string(scope_name(r.scope)) +
                          " or above (admin > write > search).";
      responses["401"] = error_response("No key, or an unknown key");
      responses["403"] = error_response("The key's scope does not allow this route");
      responses["429"] = error_response("Rate limited (see Retry-After)");
    }
    if (!params.empty() || r.method == "POST") {
      responses["400"] = error_response("Bad input; `path` names the field, parameter or line");
    }
    if (r.id == RouteId::kItem || r.id == RouteId::kSchema) {
      responses["404"] = error_response("No such item or event type");
    }
    if (r.id == RouteId::kRecoSimilar || r.id == RouteId::kRecoBoughtTogether ||
        r.id == RouteId::kRecoPlacement) {
      responses["404"] = error_response(
          "No such item (path query.item) or placement (path query.placement)");
    }
    if (r.method == "POST") {
      responses["411"] = error_response("Chunked body where Content-Length is required");
      responses["413"] = error_response("Body over the limit");
      responses["415"] = error_response("Wrong Content-Type");
    }
    if (r.needs_data || r.id == RouteId::kReadyz) {
      responses["503"] = error_response("Not ready, or the journal cannot be written");
    }
    op["responses"] = responses;
    std::string method(r.method);
    for (auto& ch : method) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    paths[std::string(r.path)][method] = op;
  }
  json doc = {
      {"openapi", "3.1.0"},
      {"info",
       {{"title", "Trove HTTP API"},
        {"version", TROVE_VERSION},
        {"description",
         "Events in; search, suggestions and recommendations out. Every error is "
         "{\"error\": {\"code\", \"message\", \"path\"}}; any route may also answer 408, 414, "
         "431 (request limits) and 500."}}},
      {"servers", json::array({{{"url", "/"}}})},
      {"paths", paths},
      {"components", components()}};
  return doc.dump(2) + "\n";
}

}  // namespace trove::http
