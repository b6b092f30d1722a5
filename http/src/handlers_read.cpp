// The read side: search, suggest, fuzzy, items, schemas, metrics.
#include <sys/stat.h>

#include <cmath>
#include <filesystem>

#include "core.h"
#include "trove/data/snapshot.h"
#include "trove/http/json_shapes.h"

namespace trove::http {
namespace {

// The index names the request field ("q", "filters[1]"); the API names the query parameter.
Status as_query_error(const Status& st) {
  if (st.code() != StatusCode::kInvalidArgument || st.path().empty()) return st;
  std::string path = st.path();
  if (path.rfind("filters", 0) == 0) path = "filter" + path.substr(7);
  return Status::invalid(st.message(), "query." + path);
}

// Where a fresh answer is kept: the key, the index generation and the Store's applied seq read
// before computing it (an answer computed across a commit or an event is then stored as of
// the older ones: stale at once, or within the TTL).
struct CacheSlot {
  std::string key;
  uint64_t generation = 0;
  uint64_t seq = 0;
  bool store = false;
};

// Answers from the cache when it can (true); else prepares `slot` for the fresh answer.
bool answer_from_cache(Core& core, RouteId route, const httplib::Request& req,
                       httplib::Response& res, CacheSlot* slot) {
  if (!core.answers || !core.answers->enabled()) return false;
  slot->generation = core.the_index().generation();
  slot->seq = core.the_store().last_seq();
  slot->key = AnswerCache::key(static_cast<int>(route), req);
  slot->store = true;
  if (AnswerCache::bypass(req)) {
    res.set_header("X-Trove-Cache", "bypass");
    return false;
  }
  auto body = core.answers->get(slot->key, slot->generation, slot->seq);
  if (!body) {
    res.set_header("X-Trove-Cache", "miss");
    return false;
  }
  res.status = 200;
  res.set_header("X-Trove-Cache", "hit");
  res.set_content(*body, "application/json");
  return true;
}

void send_cacheable(Core& core, const CacheSlot& slot, httplib::Response& res,
                    const nlohmann::json& answer) {
  auto body = std::make_shared<std::string>(
      answer.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  res.status = 200;
  res.set_content(*body, "application/json");
  if (slot.store) core.answers->put(slot.key, slot.generation, slot.seq, std::move(body));
}

// The typo parameters of search and suggest (typos, min_len_1typo, min_len_2typo) into
// `tolerance` and `settings` (typo_choice: the rule, one place for HTTP and the CLI).
Status read_typo_params(const Query& q, const CatalogIndex& index, bool* tolerance,
                        std::optional<TypoSettings>* settings) {
  TypoParams p;
  auto typos = q.text("typos", 16);
  if (!typos.ok()) return typos.status();
  p.typos = *typos;
  for (auto [name, field] : {std::pair{"min_len_1typo", &p.min_len_1typo},
                             std::pair{"min_len_2typo", &p.min_len_2typo}}) {
    auto v = q.text(name, 16);
    if (!v.ok()) return v.status();
    if (!*v) continue;
    auto n = q.integer(name, 0, 1, 64);
    if (!n.ok()) return n.status();
    *field = *n;
  }
  auto choice = typo_choice(p, index.typo_defaults());
  if (!choice.ok()) return as_query_error(choice.status());
  *tolerance = choice->tolerance;
  *settings = choice->settings;
  return Status::ok_status();
}

}  // namespace

void handle_search(Core& core, const httplib::Request& req, httplib::Response& res) {
  // A personalized order follows the person's live behaviour: never cached.
  CacheSlot slot;
  const Query q(req);
  const bool personal = q.has("user") || q.has("visitor");
  if (!personal && answer_from_cache(core, RouteId::kSearch, req, res, &slot)) return;
  TROVE_ANSWER_IF_ERROR(q.only({"q", "filter", "facets", "sort", "page", "per_page", "explain",
                                "typos", "min_len_1typo", "min_len_2typo", "user", "visitor",
                                "fields", "disjunctive_facets", "distinct", "max_facet_values",
                                "facet_sort", "facet_query", "highlight", "snippet_words"}));
  TROVE_ASSIGN_OR_ANSWER(fields, hit_fields(q.all("fields"), "query.fields"));
  TROVE_ASSIGN_OR_ANSWER(text, q.text("q"));
  if (!text) return send_error(res, 400, "invalid_argument", "required: the words to search for (* for all)", "query.q");
  TROVE_ASSIGN_OR_ANSWER(sort, q.text("sort", 512));
  TROVE_ASSIGN_OR_ANSWER(page, q.integer("page", 1, 1, 1000));
  TROVE_ASSIGN_OR_ANSWER(per_page, q.integer("per_page", 10, 1, 100));
  TROVE_ASSIGN_OR_ANSWER(explain, q.boolean("explain", false));
  TROVE_ASSIGN_OR_ANSWER(user, q.text("user", 256));
  TROVE_ASSIGN_OR_ANSWER(visitor, q.text("visitor", 256));
  SearchRequest sr;
  sr.q = *text;
  sr.filters = q.all("filter");
  sr.facets = split_commas(q.all("facets"));  // checked by the index (check_facets)
  sr.disjunctive_facets = split_commas(q.all("disjunctive_facets"));
  TROVE_ASSIGN_OR_ANSWER(distinct, q.text("distinct", 128));
  sr.distinct = distinct.value_or("");
  TROVE_ASSIGN_OR_ANSWER(max_facet_values, q.integer("max_facet_values", 20, 1, kMaxFacetValues));
  sr.max_facet_values = static_cast<size_t>(max_facet_values);
  TROVE_ASSIGN_OR_ANSWER(facet_sort, q.text("facet_sort", 16));
  if (facet_sort && *facet_sort != "count" && *facet_sort != "value") {
    return send_error(res, 400, "invalid_argument", "expected count or value", "query.facet_sort");
  }
  if (facet_sort == "value") sr.facet_sort = FacetSort::kValue;
  TROVE_ASSIGN_OR_ANSWER(facet_query, q.text("facet_query", 256));
  sr.facet_query = facet_query.value_or("");
  sr.highlight = split_commas(q.all("highlight"));
  TROVE_ASSIGN_OR_ANSWER(snippet_words, q.integer("snippet_words", 20, 1, kMaxSnippetWords));
  sr.snippet_words = static_cast<size_t>(snippet_words);
  if (sort) {
    TROVE_ASSIGN_OR_ANSWER(keys, parse_sort(*sort), as_query_error);
    sr.sort_by = std::move(keys);
  }
  sr.page = static_cast<size_t>(page);
  sr.per_page = static_cast<size_t>(per_page);
  sr.explain = explain;
  TROVE_ANSWER_IF_ERROR(read_typo_params(q, core.the_index(), &sr.typo_tolerance, &sr.typos));
  // A person re-ranks the first results by their affinity (Recommender::search); the plain
  // order for anyone the models do not know or who said personalized: false.
  const bool person = (user && !user->empty()) || (visitor && !visitor->empty());
  TROVE_ASSIGN_OR_ANSWER(found,
                         person ? core.the_reco().search(core.the_index(), sr, user.value_or(""),
                                                         visitor.value_or(""))
                                : core.the_index().search(sr),
                         as_query_error);
  if (person) return send_json(res, search_response_json(found, explain, fields));
  send_cacheable(core, slot, res, search_response_json(found, explain, fields));
}

void handle_suggest(Core& core, const httplib::Request& req, httplib::Response& res) {
  CacheSlot slot;
  if (answer_from_cache(core, RouteId::kSuggest, req, res, &slot)) return;
  const Query q(req);
  TROVE_ANSWER_IF_ERROR(q.only({"q", "filter", "items", "completions", "typos", "min_len_1typo",
                                "min_len_2typo", "fields"}));
  TROVE_ASSIGN_OR_ANSWER(fields, hit_fields(q.all("fields"), "query.fields"));
  TROVE_ASSIGN_OR_ANSWER(text, q.text("q"));
  if (!text) return send_error(res, 400, "invalid_argument", "required: the text typed so far", "query.q");
  TROVE_ASSIGN_OR_ANSWER(items, q.integer("items", 5, 0, 50));
  TROVE_ASSIGN_OR_ANSWER(completions, q.integer("completions", 5, 0, 50));
  SuggestRequest sr;
  sr.q = *text;
  sr.filters = q.all("filter");
  sr.items = static_cast<size_t>(items);
  sr.completions = static_cast<size_t>(completions);
  TROVE_ANSWER_IF_ERROR(read_typo_params(q, core.the_index(), &sr.typo_tolerance, &sr.typos));
  TROVE_ASSIGN_OR_ANSWER(found, core.the_index().suggest(sr), as_query_error);
  send_cacheable(core, slot, res, suggest_response_json(found, fields));
}

void handle_fuzzy(Core& core, const httplib::Request& req, httplib::Response& res) {
  const Query q(req);
  TROVE_ANSWER_IF_ERROR(q.only({"term", "max_distance", "prefix", "limit"}));
  TROVE_ASSIGN_OR_ANSWER(term, q.text("term", 256));
  if (!term || term->empty()) return send_error(res, 400, "invalid_argument", "required: the word, as typed", "query.term");
  TROVE_ASSIGN_OR_ANSWER(max_distance, q.integer("max_distance", -1, -1, 3));
  TROVE_ASSIGN_OR_ANSWER(prefix, q.boolean("prefix", false));
  TROVE_ASSIGN_OR_ANSWER(limit, q.integer("limit", 20, 1, 1000));
  TROVE_ASSIGN_OR_ANSWER(found,
                         core.the_index().fuzzy_terms(*term, static_cast<int>(max_distance),
                                                      prefix, static_cast<size_t>(limit)),
                         as_query_error);
  send_json(res, {{"terms", fuzzy_terms_json(found)}});
}

void handle_item(Core& core, const httplib::Request& req, httplib::Response& res) {
  const std::string id = req.matches[1];
  nlohmann::json out;
  bool found = false;
  core.the_store().read([&](const State& s) {
    const Item* item = s.item(id);
    if (item == nullptr) return;
    found = true;
    Event e;
    e.body = item->data;
    out = nlohmann::json::parse(serialize_event(e));
    out.erase("type");
    out["created_seq"] = item->created_seq;
    out["updated_seq"] = item->updated_seq;
    if (auto ref = s.item_ref(id)) {
      if (const ItemCounters* c = s.item_counters(*ref)) {
        out["counters"] = {{"views", c->views},         {"impressions", c->impressions},
                           {"clicks", c->clicks},       {"cart_adds", c->cart_adds},
                           {"purchases", c->purchases}, {"orders", c->orders},
                           {"revenue", c->revenue},     {"rating_count", c->rating_count},
                           {"rating_sum", c->rating_sum}};
      }
    }
  });
  if (!found) return send_error(res, 404, "not_found", "no item with this id", "id");
  send_json(res, out);
}

void handle_schemas(Core&, const httplib::Request& req, httplib::Response& res) {
  TROVE_ANSWER_IF_ERROR(Query(req).only({}));
  res.set_content(event_schema_index_json(), "application/json");
}

void handle_schema(Core&, const httplib::Request& req, httplib::Response& res) {
  TROVE_ANSWER_IF_ERROR(Query(req).only({}));
  const auto type = event_type_from_name(std::string(req.matches[1]));
  if (!type) return send_error(res, 404, "not_found", "no event type of this name", "type");
  res.set_content(event_schema_json(*type), "application/schema+json");
}

void handle_metrics(Core& core, const httplib::Request& req, httplib::Response& res) {
  TROVE_ANSWER_IF_ERROR(Query(req).only({}));
  Gauges g;
  g.ready = core.ready.load();
  g.uptime_seconds = std::chrono::duration<double>(Clock::now() - core.started).count();
  if (core.transport) {
    g.open_connections = core.transport->open_connections();
    g.refused_connections = core.transport->refused_connections();
  }
  const StoreStats* stats = nullptr;
  if (g.ready) {
    Store& store = core.the_store();
    CatalogIndex& index = core.the_index();
    store.read([&](const State& s) {
      g.items = s.item_count();
      g.accounts = s.account_count();
      g.profiles = s.profile_count();
      g.last_seq = s.last_seq();
    });
    g.journal_bytes = store.journal_bytes();
    g.index_documents = index.document_count();
    g.indexed_seq = index.indexed_seq();
    g.vocabulary_terms = index.vocabulary_size();
    g.vocabulary_unmerged = index.vocabulary_unmerged();
    const Recommender& reco = core.the_reco();
    const RecoModels::Memory mem = reco.memory();
    g.reco_item_bytes = mem.items;
    g.reco_person_bytes = mem.people;
    g.reco_items = static_cast<decltype(g.reco_items)>(mem.item_count);
    g.reco_people = static_cast<decltype(g.reco_people)>(mem.person_count);
    g.reco_rebuilds = reco.rebuilds();
    g.reco_rebuild_failures = reco.rebuild_failures();
    g.reco_forget_pending = reco.forget_status().ok() ? 0 : 1;
    g.answer_cache_hits = core.answers ? core.answers->hits() : 0;
    g.answer_cache_misses = core.answers ? core.answers->misses() : 0;
    stats = &store.stats();
    const auto snaps =
        list_snapshots((std::filesystem::path(store.data_dir()) / "snapshots").string());
    if (!snaps.empty()) {
      struct stat st {};
      if (::stat(snaps.back().path.c_str(), &st) == 0) {
        const double now = std::chrono::duration<double>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
        g.snapshot_age_seconds = std::max(0.0, now - static_cast<double>(st.st_mtime));
        g.snapshot_seq = snaps.back().seq;
      }
    }
  }
  res.set_content(core.metrics.render(g, stats), "text/plain; version=0.0.4; charset=utf-8");
}

}  // namespace trove::http
