#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>

#include "trove/data/store.h"

namespace {
trove::Event view(const std::string& item) {
  trove::Event e;
  e.timestamp_ms = 1700000000000;
  e.body = trove::DetailItemView{trove::UserRef{"v1", {}, {}, {}}, item};
  return e;
}
}  // namespace

TEST_CASE("a removed store listener is never called again", "[store]") {
  char tmpl[] = "/tmp/trove-listener-test-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  {
    auto store = trove::Store::open(tmpl);
    REQUIRE(store.ok());
    int a = 0, b = 0;
    const uint64_t ida = store.value()->add_listener([&](uint64_t, const trove::Event&, const trove::State&) { ++a; });
    store.value()->add_listener([&](uint64_t, const trove::Event&, const trove::State&) { ++b; });
    REQUIRE(store.value()->ingest({view("x")}).ok());
    store.value()->remove_listener(ida);
    REQUIRE(store.value()->ingest({view("y")}).ok());
    CHECK(a == 1);
    CHECK(b == 2);
  }
  std::filesystem::remove_all(tmpl);
}
