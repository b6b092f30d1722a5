// The parser's error messages and limits, case by case: what a client sees when an event is
// refused (the field's path and what was expected), numbers, code-point lengths, size and
// nesting limits, and the limits the field table exports. The fixture-driven and schema
// agreement tests are in events_test.cpp.
#include <catch2/catch.hpp>
#include <string>

#include "trove/data/events.h"

namespace {

using trove::Event;
using trove::EventParser;
using trove::Result;

Result<Event> parse(const std::string& json) {
  EventParser parser;
  return parser.parse(json);
}

std::string error_of(const std::string& json) {
  auto r = parse(json);
  return r.ok() ? "OK" : r.status().to_string();
}

TEST_CASE("error messages name the field and say what was expected", "[events]") {
  CHECK(error_of(R"({"type":"DetailItemView","user":{"visitor_id":5},"item_id":"i"})") ==
        "user.visitor_id: expected string, got number");
  CHECK(error_of(R"({"type":"DetailItemView","user":{"visitor_id":"v"}})") ==
        "item_id: required field is missing");
  CHECK(error_of(R"({"type":"PurchaseComplete","user":{"visitor_id":"v"},"order_id":"o",)"
                 R"("lines":[{"item_id":"a","quantity":1},{"item_id":"b","quantity":0}]})") ==
        "lines[1].quantity: expected an integer from 1 to 1000000, got 0");
  CHECK(error_of(R"({"type":"ItemRemove","id":"a","colour":1})") == "colour: unknown field");
  CHECK(error_of(R"({"type":"Nope"})") ==
        "type: unknown event type \"Nope\" (GET /v1/schemas lists them)");
  CHECK(error_of(R"({"id":"a"})") == "type: required field is missing");
  CHECK(error_of("[1]") == "expected an event object, got array");
  CHECK(error_of("") == "empty input: expected a JSON event object");
  CHECK(error_of(R"({"type":"UserForget"})") == "expected at least one of user_id visitor_id");
  CHECK(error_of(R"({"type":"ItemRemove","id":"a","id":"b"})") == "id: duplicate field");
  CHECK(error_of("{\"type\":\"ItemRemove\",\"id\":\"\xff\"}") == "invalid UTF-8 in the event");
  CHECK(error_of(R"({"type":"PlacementUpsert","id":"p","strategy":"popular","window_days":91})") ==
        "window_days: expected an integer from 1 to 90, got 91");
  CHECK(error_of(R"({"type":"PlacementUpsert","id":"p","strategy":"popular","window_days":7})") ==
        "OK");
  CHECK(error_of(R"({"type":"PlacementUpsert","id":"p","strategy":"new_arrivals"})") == "OK");
}

TEST_CASE("an integer beyond 2^53 in an attribute is refused, not rounded to 2^53", "[events]") {
  // Regression: the attribute number went through double first, so 2^53 + 1 became 2^53.
  const std::string head = R"({"type":"ItemUpsert","id":"a","title":"t","attributes":{"n":)";
  CHECK(error_of(head + "9007199254740993}}") ==
        "attributes.n: expected a number from -9007199254740992 to 9007199254740992, got "
        "9007199254740993");
  CHECK(error_of(head + "-9007199254740993}}") ==
        "attributes.n: expected a number from -9007199254740992 to 9007199254740992, got "
        "-9007199254740993");
  CHECK(error_of(head + "18446744073709551615}}").rfind("attributes.n: expected a number", 0) ==
        0);
  auto at_limit = parse(head + "9007199254740992, \"m\": -9007199254740992}}");
  REQUIRE(at_limit.ok());
  const auto& attrs = *std::get<trove::ItemUpsert>(at_limit->body).attributes;
  CHECK(std::get<double>(attrs.at("n")) == 9007199254740992.0);
  CHECK(std::get<double>(attrs.at("m")) == -9007199254740992.0);
}

TEST_CASE("error messages print numbers in their shortest form", "[events]") {
  // Regression: std::to_string printed -1e-300 as "-0.000000" and 2.5 as "2.500000".
  CHECK(error_of(R"({"type":"ItemUpsert","id":"a","title":"t","price":-1e-300})") ==
        "price: expected a number from 0 to 1000000000000, got -1e-300");
  const std::string cart = R"({"type":"AddToCart","user":{"visitor_id":"v"},"item_id":"i",)";
  CHECK(error_of(cart + R"("quantity":2.5})") == "quantity: expected an integer, got 2.5");
  CHECK(error_of(cart + R"("quantity":0.5})") ==
        "quantity: expected an integer from 1 to 1000000, got 0.5");
  CHECK(error_of(R"({"type":"RateItem","user":{"visitor_id":"v"},"item_id":"i","rating":5.5})") ==
        "rating: expected a number from 0 to 5, got 5.5");
}

TEST_CASE("integral floats are integers and negative zero is zero", "[events]") {
  auto cart = parse(R"({"type":"AddToCart","user":{"visitor_id":"v"},"item_id":"i",)"
                    R"("quantity":3.0,"price":-0.0})");
  REQUIRE(cart.ok());
  CHECK(std::get<trove::AddToCart>(cart->body).quantity == 3);
  CHECK_FALSE(std::signbit(*std::get<trove::AddToCart>(cart->body).price));
  CHECK(trove::serialize_event(cart.value()) ==
        R"({"type":"AddToCart","user":{"visitor_id":"v"},"item_id":"i","quantity":3,"price":0})");
  auto ts = parse(R"({"type":"HomePageView","timestamp":1e3,"user":{"visitor_id":"v"}})");
  REQUIRE(ts.ok());
  CHECK(ts->timestamp_ms == 1000);
}

TEST_CASE("string limits count code points, not bytes", "[events]") {
  auto id = [](const std::string& unit, int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += unit;
    return R"({"type":"ItemRemove","id":")" + s + "\"}";
  };
  for (const std::string unit : {"a", "é", "中", "😀"}) {
    INFO("unit " << unit);
    CHECK(parse(id(unit, 256)).ok());
    CHECK(error_of(id(unit, 257)) == "id: string of 257 characters is over the limit of 256");
  }
  CHECK(parse(id("\\ud83d\\ude00", 256)).ok());  // an escaped pair is one code point
  CHECK_FALSE(parse(id("\\ud83d\\ude00", 257)).ok());
  // Currency needs exactly three: one 3-byte code point is not three characters.
  CHECK(error_of(R"({"type":"ItemUpsert","id":"a","title":"t","currency":"€"})") ==
        "currency: expected at least 3 characters");
}

TEST_CASE("an event over 256 KiB is refused even when every field is within its limits",
          "[events]") {
  std::string emoji256;
  for (int i = 0; i < 256; ++i) emoji256 += "😀";
  trove::ItemUpsert item{.id = "big", .title = "t"};
  item.description.emplace();
  for (int i = 0; i < 20000; ++i) *item.description += "😀";
  item.tags = std::vector<std::string>(100, emoji256);
  item.categories = std::vector<std::string>(100, emoji256);
  const std::string json = trove::serialize_event(Event{.body = item});
  REQUIRE(json.size() > trove::ParseLimits::kMaxEventBytes);
  auto r = parse(json);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message() == "event of " + std::to_string(json.size()) +
                                    " bytes is over the limit of 262144");
  item.categories.reset();  // now 185 KB: fine
  CHECK(parse(trove::serialize_event(Event{.body = item})).ok());
}

TEST_CASE("nesting is limited before any field is looked at", "[events]") {
  auto nested = [](int depth) {
    return R"({"type":"HomePageView","user":{"visitor_id":"v"},"x":)" + std::string(depth, '[') +
           "1" + std::string(depth, ']') + "}";
  };
  CHECK(error_of(nested(6)) == "x: unknown field");
  CHECK(error_of(nested(7)) == "JSON nested deeper than 8 levels");
  CHECK(error_of(nested(1000)) == "JSON nested deeper than 8 levels");
}

}  // namespace

TEST_CASE("max_text_length reads the limits from the field table", "[events]") {
  using trove::EventType;
  CHECK(trove::max_text_length(EventType::kItemUpsert, "title") == 1000);
  CHECK(trove::max_text_length(EventType::kItemUpsert, "brand") == 1000);
  CHECK(trove::max_text_length(EventType::kItemUpsert, "description") == 20000);
  CHECK(trove::max_text_length(EventType::kItemUpsert, "tags") == 256);
  CHECK(trove::max_text_length(EventType::kItemUpsert, "attributes") == 1000);
  CHECK(trove::max_text_length(EventType::kItemUpsert, "price") == 0);
  CHECK(trove::max_text_length(EventType::kItemUpsert, "no_such_field") == 0);
  CHECK(trove::max_text_length(EventType::kDetailItemView, "attributes") == 0);
  // Over the limit by one code point is refused by the parser itself.
  trove::EventParser parser;
  std::string brand(1001, 'b');
  auto r = parser.parse(R"({"type":"ItemUpsert","id":"a","title":"t","brand":")" + brand + "\"}");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().path() == "brand");
}

TEST_CASE("searchable fields: known names, weights in range, no field twice", "[events]") {
  auto r = parse(R"({"type":"SearchSettingsUpsert","searchable_fields":)"
                 R"([{"field":"description","weight":10},{"field":"title","weight":1}]})");
  REQUIRE(r.ok());
  const auto& s = std::get<trove::SearchSettingsUpsert>(r->body);
  REQUIRE(s.searchable_fields);
  REQUIRE(s.searchable_fields->size() == 2);
  CHECK((*s.searchable_fields)[0].field == trove::SearchField::kDescription);
  CHECK((*s.searchable_fields)[0].weight == 10);
  CHECK(error_of(R"({"type":"SearchSettingsUpsert","searchable_fields":[{"field":"colour","weight":1}]})")
            .starts_with("searchable_fields[0].field: "));
  CHECK(error_of(R"({"type":"SearchSettingsUpsert","searchable_fields":[{"field":"title","weight":0}]})") ==
        "searchable_fields[0].weight: expected an integer from 1 to 100, got 0");
  CHECK(error_of(R"({"type":"SearchSettingsUpsert","searchable_fields":[{"field":"title"}]})") ==
        "searchable_fields[0].weight: required field is missing");
  CHECK(error_of(R"({"type":"SearchSettingsUpsert","searchable_fields":[]})") ==
        "searchable_fields: expected at least 1 item(s)");
  CHECK(error_of(R"({"type":"SearchSettingsUpsert","searchable_fields":)"
                 R"([{"field":"title","weight":2},{"field":"brand","weight":1},{"field":"title","weight":3}]})") ==
        "searchable_fields[2]: the same field as item 0");
}
