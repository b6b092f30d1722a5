#include "trove/data/generator.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <random>
#include <string>

namespace trove {
namespace {

// Word lists for titles: plain English plus a few accented and non-Latin words, so search and
// analysis see real Unicode from day one.
constexpr std::array<std::string_view, 12> kCategories = {
    "Kitchen > Cookware", "Kitchen > Coffee & Tea", "Home > Lighting", "Home > Textiles",
    "Garden > Tools",     "Toys > Puzzles",         "Books > Cooking", "Books > Travel",
    "Electronics > Audio", "Electronics > Chargers", "Food > Chocolate", "Food > Pâtisserie"};
constexpr std::array<std::string_view, 10> kBrands = {
    "Acme", "Nordlicht", "Maison Dorée", "Kōbō", "Brightside",
    "Oak & Iron", "Vélo", "Sunburst", "Bramble", "Zenith"};
constexpr std::array<std::string_view, 24> kAdjectives = {
    "vintage", "enamel", "stainless", "organic", "wireless", "handmade", "ceramic", "bamboo",
    "crème",   "brûlée", "smoked",    "glass",   "wooden",   "copper",   "linen",   "matte",
    "rustic",  "compact", "deluxe",   "portable", "classic", "spicy",    "dark",    "café"};
constexpr std::array<std::array<std::string_view, 4>, 12> kNouns = {{
    {"skillet", "saucepan", "wok", "dutch oven"},
    {"teapot", "coffee grinder", "espresso cup", "kettle"},
    {"t-light holder", "desk lamp", "lantern", "string lights"},
    {"cushion", "throw blanket", "tea towel", "table runner"},
    {"trowel", "pruning shears", "watering can", "rake"},
    {"jigsaw puzzle", "wooden puzzle", "puzzle box", "brain teaser"},
    {"baking book", "noodle cookbook", "dessert guide", "spice atlas"},
    {"travel guide", "city map", "phrasebook", "atlas"},
    {"headphones", "speaker", "turntable", "radio"},
    {"usb-c charger", "wireless charger", "power bank", "charging cable"},
    {"chocolate bar", "truffles", "cocoa powder", "hazelnut spread"},
    {"macarons", "éclair", "crème brûlée set", "madeleines"},
}};
constexpr std::array<std::string_view, 6> kColors = {"red", "blue", "green", "black", "white",
                                                     "natural"};
constexpr std::array<std::string_view, 8> kQueries = {
    "chocolate", "chocolat", "teapot", "lamp", "wireless charger", "creme brulee", "puzzle",
    "skilet"};

class Gen {
 public:
  explicit Gen(const GeneratorOptions& o) : o_(o), rng_(o.seed) {}

  std::vector<Event> run() {
    catalog();
    if (o_.all_kinds) config();
    behaviour();
    return std::move(out_);
  }

 private:
  size_t pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  double uniform() { return std::uniform_real_distribution<double>(0, 1)(rng_); }
  bool chance(double p) { return uniform() < p; }

  std::string item_id(size_t i) { return "sku-" + std::to_string(10000 + i); }

  void emit(EventBody body) {
    Event e;
    e.timestamp_ms = now_;
    if (o_.with_event_ids) {
      // About 1 in 200 events repeats an earlier id: a client retrying after a timeout.
      if (!ids_.empty() && chance(0.005)) {
        e.event_id = ids_[pick(ids_.size())];
      } else {
        e.event_id = "ev-" + std::to_string(o_.seed) + "-" + std::to_string(out_.size());
        ids_.push_back(*e.event_id);
      }
    }
    e.body = std::move(body);
    out_.push_back(std::move(e));
  }

  void catalog() {
    for (size_t i = 0; i < o_.items; ++i) {
      const size_t c = i % kCategories.size();
      ItemUpsert it;
      it.id = item_id(i);
      it.title = std::string(kAdjectives[pick(kAdjectives.size())]) + " " +
                 std::string(kNouns[c][pick(4)]);
      it.title[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(it.title[0])));
      it.brand = std::string(kBrands[pick(kBrands.size())]);
      it.categories = std::vector<std::string>{std::string(kCategories[c])};
      it.price = std::round((2 + uniform() * 150) * 100) / 100;
      it.currency = "EUR";
      it.in_stock = !chance(0.1);
      it.description = "A " + std::string(kAdjectives[pick(kAdjectives.size())]) + " " +
                       std::string(kNouns[c][pick(4)]) + " from " + *it.brand + ".";
      it.tags = std::vector<std::string>{std::string(kColors[pick(kColors.size())])};
      Attributes attrs;
      attrs["color"] = std::string(kColors[pick(kColors.size())]);
      attrs["rating"] = std::round(uniform() * 50) / 10;
      attrs["gift"] = chance(0.3);
      it.attributes = std::move(attrs);
      it.url = "https://shop.example/p/" + it.id;
      emit(std::move(it));
      now_ += 10;
    }
  }

  void config() {
    emit(SynonymsUpsert{"syn-tlight", std::nullopt, {"t-light", "tealight", "tea light"}});
    emit(SynonymsUpsert{"syn-cocoa", std::string("cocoa"), {"chocolate"}});
    emit(RankingUpsert{1.0, 0.5, 0.2, 0.3});
    emit(PlacementUpsert{"home-trending", Strategy::kTrending, 8, std::nullopt});
    emit(PlacementUpsert{"pdp-similar", Strategy::kSimilar, 6,
                         PlacementFilters{std::nullopt, std::nullopt, true, std::nullopt, std::nullopt}});
    emit(OfflineRecommendationsUpsert{RecoScope::kGlobal, "*", {item_id(1), item_id(2), item_id(3)},
                                      std::nullopt});
  }

  UserRef user_for(size_t v) {
    UserRef u;
    u.visitor_id = "visitor-" + std::to_string(v);
    if (v % 3 == 0 && logged_in_[v]) u.user_id = "user-" + std::to_string(v / 3);
    u.session_id = "s-" + std::to_string(v) + "-" + std::to_string(sessions_[v]);
    if (v % 50 == 7) u.personalized = false;
    return u;
  }

  // A visitor's taste: two favourite categories, so their items co-occur.
  size_t item_for(size_t v) {
    const size_t cats = kCategories.size();
    const size_t c = chance(0.8) ? (v % cats + (chance(0.5) ? 0 : 1 + v % 3)) % cats : pick(cats);
    const size_t per_cat = std::max<size_t>(1, o_.items / cats);
    // Skewed within the category: low indexes are the bestsellers.
    const size_t k = static_cast<size_t>(std::pow(uniform(), 2.0) * static_cast<double>(per_cat));
    return std::min(o_.items - 1, c + cats * std::min(k, per_cat - 1));
  }

  void behaviour() {
    if (o_.visitors == 0 || o_.items == 0) return;
    logged_in_.assign(o_.visitors, false);
    sessions_.assign(o_.visitors, 0);
    size_t orders = 0;
    for (size_t n = 0; n < o_.behaviour_events; ++n) {
      now_ += 1 + static_cast<int64_t>(std::exponential_distribution<double>(1.0)(rng_) *
                                       static_cast<double>(o_.step_ms));
      const size_t v = pick(o_.visitors);
      if (chance(0.05)) ++sessions_[v];
      if (v % 3 == 0 && !logged_in_[v] && chance(0.1)) {
        logged_in_[v] = true;
        if (o_.all_kinds) {
          emit(UserMerge{"visitor-" + std::to_string(v), "user-" + std::to_string(v / 3)});
          continue;
        }
      }
      const UserRef u = user_for(v);
      const std::string item = item_id(item_for(v));
      const double r = uniform();
      if (r < 0.45) {
        emit(DetailItemView{u, item});
      } else if (r < 0.55) {
        std::vector<std::string> shown;
        for (int i = 0; i < 5; ++i) shown.push_back(item_id(item_for(v)));
        emit(SearchQuery{u, std::string(kQueries[pick(kQueries.size())]), shown, std::nullopt});
      } else if (r < 0.60) {
        emit(SearchResultClick{u, std::string(kQueries[pick(kQueries.size())]), item,
                               static_cast<int64_t>(pick(10)), std::nullopt});
      } else if (r < 0.72) {
        emit(AddToCart{u, item, 1 + static_cast<int64_t>(pick(2)), std::nullopt});
      } else if (r < 0.75) {
        emit(RemoveFromCart{u, item, std::nullopt});
      } else if (r < 0.82) {
        PurchaseComplete p{u, "order-" + std::to_string(o_.seed) + "-" + std::to_string(orders++),
                           {}, std::nullopt, std::string("EUR")};
        const size_t lines = 1 + pick(3);
        for (size_t l = 0; l < lines; ++l) {
          p.lines.push_back(PurchaseLine{item_id(item_for(v)), 1 + static_cast<int64_t>(pick(2)),
                                         std::round((2 + uniform() * 150) * 100) / 100});
        }
        emit(std::move(p));
      } else if (r < 0.86) {
        emit(RateItem{u, item, static_cast<double>(1 + pick(5))});
      } else if (r < 0.89) {
        emit(AddToList{u, "wishlist", item});
      } else if (r < 0.92) {
        emit(ItemsView{u, {item, item_id(item_for(v)), item_id(item_for(v))}, std::string("home")});
      } else if (r < 0.94) {
        emit(RecoShow{u, {item, item_id(item_for(v))}, std::string("pdp-similar"), std::nullopt});
      } else if (r < 0.95) {
        emit(RecoClick{u, item, std::string("pdp-similar"), std::nullopt, 0});
      } else if (r < 0.96) {
        emit(HomePageView{u});
      } else if (!o_.all_kinds) {
        emit(PageVisit{u, "https://shop.example/", std::nullopt});
      } else {
        rare(u, item);
      }
    }
  }

  void rare(const UserRef& u, const std::string& item) {
    switch (pick(12)) {
      case 0: emit(PageVisit{u, "https://shop.example/c/kitchen", std::string("https://search.example/")}); break;
      case 1: emit(ImageInteraction{u, item, std::nullopt}); break;
      case 2: emit(OtherInteraction{u, "share", item, 2.0}); break;
      case 3: emit(CartPageView{u, std::vector<std::string>{item}}); break;
      case 4: emit(CheckoutStart{u, std::vector<std::string>{item}, 42.5}); break;
      case 5: emit(RemoveFromList{u, "wishlist", item}); break;
      case 6: {
        ItemPatch p;
        p.id = item;
        p.price = std::round((2 + uniform() * 150) * 100) / 100;
        p.in_stock = chance(0.7);
        emit(std::move(p));
        break;
      }
      case 7:
        if (chance(0.2)) emit(ItemRemove{item});
        else emit(ItemPatch{item, std::string("Limited ") + item, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}});
        break;
      case 8: emit(UserUpsert{"user-" + std::to_string(pick(std::max<size_t>(1, o_.visitors / 3))),
                              chance(0.1) ? std::optional<bool>(false) : std::nullopt, std::nullopt});
        break;
      case 9:
        if (chance(0.3)) {
          UserForget f;
          if (chance(0.5)) f.visitor_id = u.visitor_id;
          else f.user_id = "user-" + std::to_string(pick(std::max<size_t>(1, o_.visitors / 3)));
          emit(std::move(f));
        }
        break;
      case 10: emit(OfflineRecommendationsUpsert{RecoScope::kItem, item, {item_id(pick(o_.items))},
                                                 std::string("pdp-similar")});
        break;
      default:  // synonyms come and go; the stream ends with both sets in place
        if (chance(0.5)) emit(SynonymsRemove{"syn-cocoa"});
        emit(SynonymsUpsert{"syn-cocoa", std::string("cocoa"), {"chocolate"}});
        break;
    }
  }

  const GeneratorOptions& o_;
  std::mt19937_64 rng_;
  int64_t now_ = o_.start_ms;
  std::vector<Event> out_;
  std::vector<std::string> ids_;
  std::vector<bool> logged_in_;
  std::vector<uint32_t> sessions_;
};

}  // namespace

std::vector<Event> generate_events(const GeneratorOptions& opts) { return Gen(opts).run(); }

}  // namespace trove
