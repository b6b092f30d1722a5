// IngestLane: the threads bulk ingestion runs on, at a lower CPU priority (a higher nice
// value) than the workers, so that on a busy core searches and suggestions are not
// time-sliced against a bulk import (Core::ingest_lane, ServerOptions::ingest_nice).
//
// The nice value is set once when each thread starts and never lowered again (an unprivileged
// process may raise its nice value, not lower it), which is why these are threads of their own
// rather than workers reniced for the length of a request.
//
// Thread-safety: run() may be called from any number of threads at once.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace trove::http {

class IngestLane {
 public:
  // `threads` lane threads at nice value `nice` (0: the workers' own priority).
  IngestLane(size_t threads, int nice);
  ~IngestLane();  // lets queued runs finish, then joins
  IngestLane(const IngestLane&) = delete;
  IngestLane& operator=(const IngestLane&) = delete;

  // Runs fn on a lane thread and returns when it has finished; an exception fn throws is
  // rethrown here.
  void run(const std::function<void()>& fn);
  // The nice value the lane threads got (the asked one, or what the system allowed).
  int nice() const { return nice_applied_.load(); }

 private:
  struct Task {
    const std::function<void()>* fn = nullptr;
    std::exception_ptr error;
    bool done = false;
    std::condition_variable cv;
  };
  void loop(int nice);

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Task*> queue_;
  bool stopping_ = false;
  std::atomic<int> nice_applied_{0};
  std::vector<std::thread> threads_;
};

}  // namespace trove::http
