#include "ingest_lane.h"

#include <sys/resource.h>
#include <unistd.h>


namespace trove::http {

IngestLane::IngestLane(size_t threads, int nice) {
  nice_applied_ = nice;
  for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this, nice] { loop(nice); });
}

IngestLane::~IngestLane() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void IngestLane::run(const std::function<void()>& fn) {
  Task task;
  task.fn = &fn;
  std::unique_lock lock(mu_);
  queue_.push_back(&task);
  cv_.notify_one();
  task.cv.wait(lock, [&] { return task.done; });
  if (task.error) std::rethrow_exception(task.error);
}

void IngestLane::loop(int nice) {
  // Per thread on Linux: PRIO_PROCESS with a thread id sets that thread's nice value.
  if (nice != 0 && ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), nice) != 0) {
    nice_applied_ = 0;
  }
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, nothing left
    Task* t = queue_.front();
    queue_.pop_front();
    lock.unlock();
    try {
      (*t->fn)();
    } catch (...) {
      t->error = std::current_exception();
    }
    lock.lock();
    t->done = true;
    t->cv.notify_one();
  }
}

}  // namespace trove::http
