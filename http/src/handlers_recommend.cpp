// The /v1/recommend/... routes: query parameters to a RecoRequest, the Recommender's answer
// to JSON (the shape `trove recommend --json` prints).
#include <charconv>
#include <cmath>

#include "core.h"
#include "trove/http/json_shapes.h"

namespace trove::http {
namespace {

constexpr size_t kMaxIdBytes = 256;
constexpr size_t kMaxExclusions = 100;

// A price bound: a finite, non-negative decimal number.
Result<std::optional<double>> price(const Query& q, const std::string& name) {
  auto t = q.text(name, 32);
  if (!t.ok()) return t.status();
  if (!t->has_value()) return std::optional<double>();
  const std::string& s = **t;
  double v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || !std::isfinite(v) || v < 0) {
    return Status::invalid("expected a number >= 0", "query." + name);
  }
  return std::optional<double>(v);
}

// The Recommender names its request's fields ("item_id", "count"); the API names the
// parameters.
Status as_query_error(const Status& st) {
  if (st.code() != StatusCode::kInvalidArgument || st.path().empty()) return st;
  std::string path = st.path();
  if (path == "item_id") path = "item";
  return Status::invalid(st.message(), "query." + path);
}

}  // namespace

void handle_recommend(Core& core, RouteId route, const httplib::Request& req,
                      httplib::Response& res) {
  const Query q(req);
  const bool by_item = route == RouteId::kRecoSimilar || route == RouteId::kRecoBoughtTogether;
  switch (route) {
    case RouteId::kRecoSimilar:
    case RouteId::kRecoBoughtTogether:
      TROVE_ANSWER_IF_ERROR(q.only({"item", "count", "category", "brand", "in_stock",
                                    "min_price", "max_price", "exclude"}));
      break;
    case RouteId::kRecoForYou:
      TROVE_ANSWER_IF_ERROR(q.only({"user", "visitor", "count", "category", "brand", "in_stock",
                                    "min_price", "max_price", "exclude"}));
      break;
    case RouteId::kRecoRecentlyViewed:
      TROVE_ANSWER_IF_ERROR(q.only({"user", "visitor", "count", "category", "brand", "in_stock",
                                    "min_price", "max_price", "filter", "exclude", "drop_bought"}));
      break;
    case RouteId::kRecoTrending:
    case RouteId::kRecoNewArrivals:
      TROVE_ANSWER_IF_ERROR(q.only(
          {"count", "category", "brand", "in_stock", "min_price", "max_price", "filter", "exclude"}));
      break;
    case RouteId::kRecoPopular:
      TROVE_ANSWER_IF_ERROR(q.only({"count", "category", "brand", "in_stock", "min_price",
                                    "max_price", "filter", "exclude", "window_days"}));
      break;
    default:
      TROVE_ANSWER_IF_ERROR(q.only({"placement", "item", "user", "visitor", "count", "category",
                                    "brand", "in_stock", "min_price", "max_price", "filter",
                                    "exclude", "drop_bought", "window_days"}));
      break;
  }
  RecoRequest r;
  TROVE_ASSIGN_OR_ANSWER(item, q.text("item", kMaxIdBytes));
  TROVE_ASSIGN_OR_ANSWER(user, q.text("user", kMaxIdBytes));
  TROVE_ASSIGN_OR_ANSWER(visitor, q.text("visitor", kMaxIdBytes));
  TROVE_ASSIGN_OR_ANSWER(count, q.integer("count", 10, 1, 100));
  TROVE_ASSIGN_OR_ANSWER(category, q.text("category", 1024));
  TROVE_ASSIGN_OR_ANSWER(brand, q.text("brand", kMaxIdBytes));
  TROVE_ASSIGN_OR_ANSWER(min_price, price(q, "min_price"));
  TROVE_ASSIGN_OR_ANSWER(max_price, price(q, "max_price"));
  std::optional<bool> in_stock;
  if (q.has("in_stock")) {
    TROVE_ASSIGN_OR_ANSWER(v, q.boolean("in_stock", true));
    in_stock = v;
  }
  r.item_id = item.value_or("");
  r.user_id = user.value_or("");
  r.visitor_id = visitor.value_or("");
  r.count = static_cast<size_t>(count);
  if (category && !category->empty()) r.filters.category = *category;
  if (brand && !brand->empty()) r.filters.brand = *brand;
  r.filters.in_stock = in_stock;
  r.filters.min_price = min_price;
  r.filters.max_price = max_price;
  TROVE_ASSIGN_OR_ANSWER(filter, Filter::all_of(q.all("filter"), "query.filter"));
  r.filter = std::move(filter);
  r.exclude = split_commas(q.all("exclude"));
  TROVE_ASSIGN_OR_ANSWER(drop_bought, q.boolean("drop_bought", false));
  r.drop_bought = drop_bought;
  if (q.has("window_days")) {
    TROVE_ASSIGN_OR_ANSWER(days, q.integer("window_days", 0, 1, kMaxWindowDays));
    r.window_days = days;
  }
  if (r.exclude.size() > kMaxExclusions) {
    return send_error(res, 400, "invalid_argument",
                      "at most " + std::to_string(kMaxExclusions) + " item ids", "query.exclude");
  }
  if (min_price && max_price && *min_price > *max_price) {
    return send_error(res, 400, "invalid_argument", "greater than max_price", "query.min_price");
  }
  if (by_item && r.item_id.empty()) {
    return send_error(res, 400, "invalid_argument", "required: the item to recommend for",
                      "query.item");
  }
  if (route == RouteId::kRecoRecentlyViewed && r.user_id.empty() && r.visitor_id.empty()) {
    return send_error(res, 400, "invalid_argument", "required: user or visitor", "query.user");
  }

  const Recommender& reco = core.the_reco();
  Result<RecoResponse> out = Status::internal("unreachable");
  switch (route) {
    case RouteId::kRecoSimilar: out = reco.similar(r, &core.the_index()); break;
    case RouteId::kRecoBoughtTogether: out = reco.bought_together(r); break;
    case RouteId::kRecoForYou: out = reco.for_you(r); break;
    case RouteId::kRecoTrending: out = reco.trending(r); break;
    case RouteId::kRecoRecentlyViewed: out = reco.recently_viewed(r); break;
    case RouteId::kRecoPopular: out = reco.popular(r); break;
    case RouteId::kRecoNewArrivals: out = reco.new_arrivals(r); break;
    default: {
      TROVE_ASSIGN_OR_ANSWER(placement, q.text("placement", kMaxIdBytes));
      if (!placement || placement->empty()) {
        return send_error(res, 400, "invalid_argument", "required: a PlacementUpsert id",
                          "query.placement");
      }
      out = reco.placement(*placement, r, &core.the_index());
      break;
    }
  }
  if (!out.ok()) {
    const Status& st = out.status();
    // The Recommender's NotFound is about the item or the placement, whichever was asked.
    if (st.code() == StatusCode::kNotFound) {
      const bool placement = route == RouteId::kRecoPlacement &&
                             st.message().rfind("no placement", 0) == 0;
      return send_error(res, 404, "not_found", st.message(),
                        placement ? "query.placement" : "query.item");
    }
    return send_status(res, as_query_error(st));
  }
  send_json(res, recommend_response_json(*out));
}

}  // namespace trove::http
