// Fuzz target: the filter language's parser (trove/index/filter.h), as `filter=` in search,
// suggest and recommendations and `--filter` in the CLI read it.
//
// Input: the filter text, as sent.
// Oracle: a refused filter is an InvalidArgument whose message says at which column (or that
// the text is not UTF-8 or too long); an accepted one prints a canonical text that parses
// again to the same canonical text (a fixpoint; unless quoting took it past the 1,024-byte
// limit) and to a filter that decides every item of a
// small fixed catalog as the first did, with no attribute declared and with a number and a
// geo point declared.
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "trove/index/filter.h"

namespace {

using namespace trove;

std::vector<Item> catalog() {
  std::vector<Item> out;
  auto add = [&](ItemUpsert u) {
    Item i;
    i.data = std::move(u);
    out.push_back(std::move(i));
  };
  ItemUpsert a;
  a.id = "a";
  a.title = "Acme teapot";
  a.brand = "Acmé";
  a.price = 12.5;
  a.categories = std::vector<std::string>{"Kitchen > Pots"};
  a.attributes = Attributes{{"year", 2015.0}, {"colour", std::string("Red")}, {"signed", true},
                            {"tags", std::vector<std::string>{"gift", "sale"}}};
  add(a);
  ItemUpsert b;
  b.id = "b";
  b.title = "Plain mug";
  b.in_stock = false;
  add(b);
  ItemUpsert c;
  c.id = "c";
  c.title = "Tea";
  c.brand = "Maison Dorée";
  c.price = 0;
  c.categories = std::vector<std::string>{"Food > Tea", "Gifts"};
  c.attributes = Attributes{{"year", std::string("1990")}, {"Colour", std::string("rouge")},
                            {"at", std::string("48.85,2.35")}};
  add(c);
  return out;
}

// `s` with control bytes as \xNN, for the failure message.
std::string printable(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<Item> items = catalog();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto f = Filter::parse(text);
  if (!f.ok()) {
    FUZZ_CHECK(f.status().code() == StatusCode::kInvalidArgument, "refused, but not as invalid");
    const std::string& m = f.status().message();
    FUZZ_CHECK(m.rfind("at column ", 0) == 0 || m.find("UTF-8") != std::string::npos,
               "an error without its column");
    return 0;
  }
  const std::string canonical = f->to_string();
  // Quoting lengthens a text: one near the limit of 1,024 bytes may print past it, and is
  // then refused like any text that long.
  if (canonical.size() > 1024) return 0;
  auto again = Filter::parse(canonical);
  FUZZ_CHECK(again.ok(), "the canonical text [" + printable(canonical) + "] does not parse: " +
                             printable(again.status().message()));
  FUZZ_CHECK(again->to_string() == canonical, "the canonical text [" + printable(canonical) +
                                                  "] is not a fixpoint: [" +
                                                  printable(again->to_string()) + "]");
  // Undeclared, and with year a number and at a geo point (WITHIN then decides).
  static const AttributeSchema declared = AttributeSchema::of(std::map<std::string, AttributeSetting>{
      {"year", AttributeSetting{"year", AttributeType::kNumber}},
      {"at", AttributeSetting{"at", AttributeType::kGeoPoint}}});
  for (const AttributeSchema& schema : {AttributeSchema(), declared}) {
    for (const Item& i : items) {
      FUZZ_CHECK(f->matches(i, schema) == again->matches(i, schema),
                 "the canonical text decides an item otherwise");
    }
  }
  return 0;
}
