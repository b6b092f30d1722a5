// `trove serve` as a real child process: SIGTERM ends it cleanly with a snapshot; kill -9
// after acknowledged events loses none of them.
#include <signal.h>
#include <sys/wait.h>

#include <string>
#include <vector>

#include "http/http_harness.h"
#include "http/serve_process.h"
#include "trove/data/snapshot.h"

using trove::test::bearer;
using trove::test::body_json;

using trove::test::ServeProcess;

TEST_CASE("SIGTERM: trove serve finishes, writes a snapshot at the last seq and exits 0",
          "[http][process]") {
  trove::test::TempDir dir;
  const std::string data = dir.sub("data");
  uint64_t last = 0;
  {
    ServeProcess p(data, dir.path());
    REQUIRE(p.ready());
    auto c = p.client();
    auto r = c.Post("/v1/events/bulk", trove::test::shop_ndjson(50, 400), "application/x-ndjson");
    REQUIRE(r);
    REQUIRE(r->status == 200);
    last = body_json(r)["last_seq"];
    // A long request in flight when the signal comes still gets its answer.
    std::thread late([&] {
      auto c2 = p.client();
      auto r2 = c2.Post("/v1/events/bulk", trove::test::shop_ndjson(50, 20000, 3),
                        "application/x-ndjson");
      if (r2 && r2->status == 200) last = body_json(r2)["last_seq"];
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const int status = p.signal_and_wait(SIGTERM);
    late.join();
    INFO(p.error_log());
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(p.error_log().find("snapshot written at seq") != std::string::npos);
  }
  const auto snaps = trove::list_snapshots(data + "/snapshots");
  REQUIRE(!snaps.empty());
  auto store = trove::Store::open(data);
  REQUIRE(store.ok());
  CHECK(snaps.back().seq == store.value()->last_seq());
  CHECK(store.value()->last_seq() >= last);
}

TEST_CASE("kill -9 after acknowledged events: a restart has every one of them",
          "[http][process]") {
  trove::test::TempDir dir;
  const std::string data = dir.sub("data");
  std::vector<uint64_t> acked;
  {
    ServeProcess p(data, dir.path());
    REQUIRE(p.ready());
    auto c = p.client();
    for (int i = 0; i < 50; ++i) {
      const std::string ev = R"({"type":"ItemUpsert","id":"k-)" + std::to_string(i) +
                             R"(","title":"Kettle )" + std::to_string(i) + R"("})";
      auto r = c.Post("/v1/events", ev, "application/json");
      REQUIRE(r);
      REQUIRE(r->status == 200);
      acked.push_back(body_json(r)["seq"]);
    }
    p.signal_and_wait(SIGKILL);
  }
  // Restarted with the answer cache off and one read at a time (the flags reach the server).
  ServeProcess again(data, dir.path(), {"--answer-cache-entries=0", "--max-running-reads=1"});
  REQUIRE(again.ready());
  auto c = again.client();
  for (int i = 0; i < 50; ++i) {
    auto r = c.Get("/v1/items/k-" + std::to_string(i));
    REQUIRE(r);
    CHECK(r->status == 200);
  }
  auto s = c.Get("/v1/search?q=kettle&per_page=1");
  REQUIRE(s);
  CHECK(body_json(s)["total"] == 50);
  auto s2 = c.Get("/v1/search?q=kettle&per_page=1");  // a repeat, yet no cache to hit
  REQUIRE(s2);
  CHECK(s2->get_header_value("X-Trove-Cache") != "hit");  // with the cache on: "hit"
  CHECK(body_json(c.Get("/readyz"))["seq"] == acked.back());
}

TEST_CASE("kill -9 after an automatic snapshot: a restart loads it and the models file, replays "
          "only the events after it, and has every acknowledged one",
          "[http][process]") {
  trove::test::TempDir dir;
  const std::string data = dir.sub("data");
  uint64_t snapshot_seq = 0;
  uint64_t last = 0;
  {
    ServeProcess p(data, dir.path(), {"--snapshot-every-events=2000"});
    REQUIRE(p.ready());
    auto c = p.client();
    auto r = c.Post("/v1/events/bulk", trove::test::shop_ndjson(50, 3000), "application/x-ndjson");
    REQUIRE(r);
    REQUIRE(r->status == 200);
    // The snapshot and then the models beside it, in the background.
    for (int i = 0; i < 600 && snapshot_seq == 0; ++i) {
      const std::string log = p.error_log();
      const size_t at = log.find("automatic snapshot at seq ");
      if (at != std::string::npos && log.find(".models", at) != std::string::npos) {
        snapshot_seq = std::stoull(log.substr(at + 26));
      }
      if (snapshot_seq == 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    INFO(p.error_log());
    REQUIRE(snapshot_seq >= 2000);
    // A tail after it, acknowledged one by one (fewer than 2,000: no other snapshot).
    for (int i = 0; i < 40; ++i) {
      const std::string ev =
          i == 0 ? std::string(R"({"type":"ItemUpsert","id":"tail-item","title":"Tail item"})")
                 : R"({"type":"DetailItemView","user":{"visitor_id":"tail-)" +
                       std::to_string(i % 4) + R"("},"item_id":"tail-item"})";
      auto e = c.Post("/v1/events", ev, "application/json");
      REQUIRE(e);
      REQUIRE(e->status == 200);
      last = body_json(e)["seq"];
    }
    p.signal_and_wait(SIGKILL);
  }
  REQUIRE(last > snapshot_seq);
  ServeProcess again(data, dir.path(), {"--snapshot-every-events=2000"});
  REQUIRE(again.ready());
  const std::string log = again.error_log();
  INFO(log);
  // The Store loaded the automatic snapshot and replayed the tail alone.
  CHECK(log.find("store open: seq " + std::to_string(last) + " (snapshot " +
                 std::to_string(snapshot_seq) + ", " + std::to_string(last - snapshot_seq) +
                 " journal records replayed") != std::string::npos);
  auto c = again.client();
  CHECK(body_json(c.Get("/readyz"))["seq"] == last);
  // The models too: the tail's visitors have what they viewed.
  auto v = c.Get("/v1/recommend/recently-viewed?visitor=tail-1");
  REQUIRE(v);
  INFO(v->body);
  CHECK(v->status == 200);
  CHECK(v->body.find("tail-item") != std::string::npos);
}
