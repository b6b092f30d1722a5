// `trove serve` on a full disk (issue 13 item 6): it starts read-only instead of exiting,
// serves reads, answers writes 503 and becomes writable once space returns. The disk is a
// small tmpfs this test mounts (as root; skipped with a warning when it cannot).
#include <signal.h>
#include <sys/wait.h>

#include <string>
#include <string_view>
#include <vector>

#include "http/http_harness.h"
#include "http/serve_process.h"

using trove::test::body_json;

namespace {

// In steps: GCC 12 warns falsely (-Wrestrict) on "literal" + std::string.
std::string upsert(std::string_view id, std::string_view title) {
  std::string out = R"({"type":"ItemUpsert","event_id":"e-)";
  out += id;
  out += R"(","id":")";
  out += id;
  out += R"(","title":")";
  out += title;
  out += R"("})";
  return out;
}

std::string numbered(char prefix, int i) {
  std::string out(1, prefix);
  out += std::to_string(i);
  return out;
}

}  // namespace

TEST_CASE("trove serve on a full disk starts read-only and takes writes once space returns",
          "[http][process]") {
  trove::test::TmpfsMount mnt(8 << 20);
  if (!mnt.mounted()) {
    WARN("skipped: cannot mount a tmpfs (" << mnt.error() << "; needs root)");
    return;
  }
  trove::test::TempDir logs;
  const std::string data = mnt.sub("data");
  {
    // An index at seq 200, then 200 more catalog events it has not seen: the start-up below
    // must catch it up, which writes to the (then full) disk.
    auto store = trove::Store::open(data);
    REQUIRE(store.ok());
    std::vector<trove::Event> events;
    trove::EventParser parser;
    for (int i = 0; i < 200; ++i) {
      events.push_back(parser.parse(upsert(numbered('a', i), "Anchor kettle")).value());
    }
    REQUIRE(store.value()->ingest(events).ok());
    auto index = trove::CatalogIndex::open(data + "/index");
    REQUIRE(index.ok());
    REQUIRE(index.value()->attach(*store.value()).ok());
    index.value().reset();
    events.clear();
    for (int i = 0; i < 200; ++i) {
      events.push_back(parser.parse(upsert(numbered('b', i), "Brass teapot")).value());
    }
    REQUIRE(store.value()->ingest(events).ok());
  }
  mnt.fill_up("filler");

  trove::test::ServeProcess serve(data, logs.path());
  INFO(serve.error_log());
  REQUIRE(serve.ready());
  CHECK(serve.error_log().find("starting read-only") != std::string::npos);
  auto c = serve.client();
  auto found = c.Get("/v1/search?q=kettle");
  REQUIRE(found);
  CHECK(found->status == 200);
  CHECK(body_json(found)["total"] == 200);
  auto item = c.Get("/v1/items/b7");  // applied to the state, not yet in the index
  REQUIRE(item);
  CHECK(item->status == 200);

  auto refused = c.Post("/v1/events", upsert("c1", "Copper pan"), "application/json");
  trove::test::check_error(refused, 503, "journal_unwritable");
  CHECK(refused->get_header_value("Retry-After") == "1");

  std::filesystem::remove(mnt.sub("filler"));
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  auto accepted = c.Post("/v1/events", upsert("c1", "Copper pan"), "application/json");
  REQUIRE(accepted);
  CHECK(accepted->status == 200);
  CHECK(body_json(accepted)["seq"] == 401);
  // The background flush catches the index up now that it can write.
  bool caught_up = false;
  for (int i = 0; i < 100 && !caught_up; ++i) {
    auto r = c.Get("/v1/search?q=teapot");
    caught_up = r && r->status == 200 && body_json(r)["total"] == 200;
    if (!caught_up) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(caught_up);
}
