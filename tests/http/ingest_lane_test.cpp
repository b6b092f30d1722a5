// IngestLane (http/src/ingest_lane.h): bulk ingestion's threads, at a higher nice value than
// the caller's; run() waits for the work and passes its exception back.
#include "ingest_lane.h"

#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <stdexcept>
#include <thread>
#include <vector>

using trove::http::IngestLane;

namespace {
int my_nice() {
  errno = 0;
  return ::getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()));
}
}  // namespace

TEST_CASE("IngestLane runs work on its own threads at its nice value and waits for it", "[http]") {
  const int caller = my_nice();
  IngestLane lane(2, 10);
  int seen = -100;
  std::thread::id where;
  lane.run([&] {
    seen = my_nice();
    where = std::this_thread::get_id();
  });
  CHECK(where != std::this_thread::get_id());
  // Raising one's nice value needs no privilege (lowering it does: a caller already above 10
  // may keep its own); the caller's own is untouched.
  if (caller <= 10) CHECK(lane.nice() == 10);
  CHECK(seen == (lane.nice() == 10 ? 10 : caller));
  CHECK(my_nice() == caller);

  // Work that throws: the exception comes back to the caller.
  CHECK_THROWS_AS(lane.run([] { throw std::runtime_error("boom"); }), std::runtime_error);

  // Many callers at once, more than there are lane threads: every run completes, in full.
  std::atomic<int> done{0};
  std::vector<std::thread> callers;
  for (int i = 0; i < 8; ++i) {
    callers.emplace_back([&] {
      for (int k = 0; k < 50; ++k) lane.run([&] { done.fetch_add(1); });
    });
  }
  for (auto& t : callers) t.join();
  CHECK(done.load() == 400);
}

TEST_CASE("IngestLane at nice 0 keeps the caller's priority", "[http]") {
  const int caller = my_nice();
  IngestLane lane(1, 0);
  int seen = -100;
  lane.run([&] { seen = my_nice(); });
  CHECK(seen == caller);
  CHECK(lane.nice() == 0);
}
