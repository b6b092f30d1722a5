// FairSlots: a FIFO counting semaphore: the run slots of the server's GET requests
// (Core::run_slots, GuardedServer::set_run_gate).
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>

namespace trove::http {

// At most n holders at once, admitted first come, first served: a released slot is handed to
// the oldest waiter, whose own condition variable alone is signalled (no thundering herd, and
// a releasing thread cannot barge ahead of the waiters as with std::counting_semaphore, which
// under load starved some requests for 100+ ms).
class FairSlots {
 public:
  explicit FairSlots(size_t n) : free_(n) {}
  void acquire() {
    std::unique_lock lock(mu_);
    if (free_ > 0 && waiters_.empty()) {
      --free_;
      return;
    }
    Waiter w;
    waiters_.push_back(&w);
    w.cv.wait(lock, [&] { return w.admitted; });
  }
  // Takes a slot only if one is free and nobody waits.
  bool try_acquire() {
    std::lock_guard lock(mu_);
    if (free_ == 0 || !waiters_.empty()) return false;
    --free_;
    return true;
  }
  size_t waiting() const {
    std::lock_guard lock(mu_);
    return waiters_.size();
  }
  void release() {
    std::lock_guard lock(mu_);
    if (waiters_.empty()) {
      ++free_;
      return;
    }
    Waiter* w = waiters_.front();
    waiters_.pop_front();
    w->admitted = true;  // the slot passes to it directly
    w->cv.notify_one();
  }

 private:
  struct Waiter {
    std::condition_variable cv;
    bool admitted = false;
  };
  mutable std::mutex mu_;
  std::deque<Waiter*> waiters_;
  size_t free_;
};

}  // namespace trove::http
