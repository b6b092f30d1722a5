// Socket helpers shared by the guarded stream (conn.cpp) and the guarded server
// (guarded_server.cpp): timed sends, deadlines, and the run slot a worker thread holds.
// Internal to trove_http.
//
// Thread-safety: the thread-locals belong to the worker thread that sets them.
#pragma once

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>

#include "conn.h"
#include "fair_slots.h"

namespace trove::http::conn_io {

inline constexpr size_t kReadChunk = 16 * 1024;

inline int ms_until(Clock::time_point t) {
  const auto d = std::chrono::duration_cast<std::chrono::milliseconds>(t - Clock::now()).count();
  return d <= 0 ? 0 : static_cast<int>(std::min<int64_t>(d, 1 << 30));
}

// The request this worker thread is processing (GuardedServer::current).
inline thread_local RequestGuard* tl_guard = nullptr;
// The run slot this worker holds (nullptr: none): GuardedServer::worker.
inline thread_local FairSlots* tl_run_slot = nullptr;

// Gives the run slot back before the worker may block on its peer (a slow reader or a body
// still arriving must not hold the core's slot).
inline void release_run_slot() {
  if (tl_run_slot) {
    tl_run_slot->release();
    tl_run_slot = nullptr;
  }
}

// Sends everything or gives up after `timeout_ms` without progress (letting go of the run
// slot before it waits).
inline bool send_all(int fd, const char* p, size_t n, int timeout_ms, size_t* sent) {
  while (n > 0) {
    const ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w > 0) {
      p += w;
      n -= static_cast<size_t>(w);
      if (sent) *sent += static_cast<size_t>(w);
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      release_run_slot();
      pollfd pfd{fd, POLLOUT, 0};
      const int r = ::poll(&pfd, 1, timeout_ms);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return false;
      continue;
    }
    return false;
  }
  return true;
}

}  // namespace trove::http::conn_io
