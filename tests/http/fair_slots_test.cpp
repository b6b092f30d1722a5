// FairSlots (http/src/fair_slots.h), the run slots of GET requests: at most n at once, and waiters
// admitted in the order they came, each handed the slot a holder releases.
#include "fair_slots.h"

#include <catch2/catch.hpp>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using trove::http::FairSlots;

TEST_CASE("FairSlots admits waiters first come, first served, n at a time", "[http]") {
  FairSlots slots(1);
  slots.acquire();  // the slot held
  std::mutex mu;
  std::vector<int> order;
  std::vector<std::thread> waiters;
  for (int i = 0; i < 4; ++i) {
    waiters.emplace_back([&, i] {
      slots.acquire();
      {
        std::lock_guard lock(mu);
        order.push_back(i);
      }
      slots.release();
    });
    // The next waiter starts only once this one waits (no timing: the queue length tells).
    while (slots.waiting() < static_cast<size_t>(i + 1)) std::this_thread::yield();
  }
  CHECK(order.empty());
  slots.release();  // to waiter 0, which releases to 1, ...
  for (auto& t : waiters) t.join();
  CHECK(order == std::vector<int>{0, 1, 2, 3});
  CHECK(slots.waiting() == 0);

  // n = 2: two holders at once, the third waits until one releases.
  FairSlots two(2);
  two.acquire();
  two.acquire();
  bool third_in = false;
  std::thread third([&] {
    two.acquire();
    std::lock_guard lock(mu);
    third_in = true;
  });
  while (two.waiting() < 1) std::this_thread::yield();
  {
    std::lock_guard lock(mu);
    CHECK_FALSE(third_in);
  }
  two.release();
  third.join();
  CHECK(third_in);
  CHECK(two.waiting() == 0);
}
