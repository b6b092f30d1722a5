// Crash test: a child process (tests/crash_child.cpp) ingests into a data dir and reports
// every acknowledged seq on a pipe; we SIGKILL it at random moments (while ingesting, while
// writing a snapshot, while recovering), then check in-process that no acknowledged event
// was lost and that the recovered state equals a full replay of the journal. Every round
// restarts the child on the same directory, so recovery runs on top of recovery.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.h"
#include "trove/data/snapshot.h"
#include "trove/data/store.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

using TempDir = trove::test::TempDir;

// What the child said before it died.
struct Heard {
  bool opened = false;
  uint64_t open_seq = 0;
  std::vector<uint64_t> fresh;  // acks of newly journaled events, in order
  std::vector<uint64_t> dups;   // acks of repeated event_ids (their original seq)
  uint64_t snapshots = 0;
  std::string bad_line;  // the first line that did not parse, if any
};

// A running crash_child with its stdout on a pipe.
class Child {
 public:
  Child(const std::vector<std::string>& args, const std::string& stderr_path) {
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    posix_spawn_file_actions_t actions;
    REQUIRE(posix_spawn_file_actions_init(&actions) == 0);
    // dup2 onto 1 clears FD_CLOEXEC on the child's copy.
    REQUIRE(posix_spawn_file_actions_adddup2(&actions, fds[1], 1) == 0);
    REQUIRE(posix_spawn_file_actions_addopen(&actions, 2, stderr_path.c_str(),
                                             O_WRONLY | O_CREAT | O_APPEND, 0644) == 0);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    const int rc = ::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    read_fd_ = fds[0];
    REQUIRE(rc == 0);
  }
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (read_fd_ >= 0) ::close(read_fd_);
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  // Reads lines until `stop` says so, the deadline passes, or the child closes its stdout.
  // Returns false on EOF (the child ended by itself).
  template <class Stop>
  bool listen(Clock::time_point deadline, Stop stop) {
    char buf[1 << 16];
    while (!stop(heard_)) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return true;
      pollfd p{read_fd_, POLLIN, 0};
      const int r = ::poll(&p, 1, static_cast<int>(left));
      if (r < 0 && errno == EINTR) continue;
      REQUIRE(r >= 0);
      if (r == 0) return true;
      if (!take(buf, sizeof buf)) return false;
    }
    return true;
  }

  // SIGKILLs the child, reaps it, then reads what it wrote before dying. Returns the wait
  // status.
  int kill_and_drain() {
    ::kill(pid_, SIGKILL);
    int status = 0;
    REQUIRE(::waitpid(pid_, &status, 0) == pid_);
    pid_ = -1;
    char buf[1 << 16];
    while (take(buf, sizeof buf)) {
    }
    return status;
  }

  const Heard& heard() const { return heard_; }

 private:
  // One read(2); false at EOF.
  bool take(char* buf, size_t size) {
    ssize_t n;
    do {
      n = ::read(read_fd_, buf, size);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) return false;
    pending_.append(buf, static_cast<size_t>(n));
    size_t start = 0;
    for (size_t nl; (nl = pending_.find('\n', start)) != std::string::npos; start = nl + 1) {
      parse(pending_.substr(start, nl - start));
    }
    pending_.erase(0, start);  // a torn last line stays pending and is never counted
    return true;
  }

  void parse(const std::string& line) {
    std::istringstream in(line);
    std::string word, flag;
    uint64_t seq = 0;
    if (!(in >> word >> seq)) {
      if (heard_.bad_line.empty()) heard_.bad_line = line;
      return;
    }
    in >> flag;
    if (word == "open") {
      heard_.opened = true;
      heard_.open_seq = seq;
    } else if (word == "ack" && flag == "dup") {
      heard_.dups.push_back(seq);
    } else if (word == "ack") {
      heard_.fresh.push_back(seq);
    } else if (word == "snap") {
      ++heard_.snapshots;
    } else if (heard_.bad_line.empty()) {
      heard_.bad_line = line;
    }
  }

  pid_t pid_ = -1;
  int read_fd_ = -1;
  std::string pending_;
  Heard heard_;
};

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_CASE(
    "a writer killed at random moments loses no acknowledged event and recovers to the "
    "state a full replay gives",
    "[crash]") {
  TempDir tmp;
  const std::string data = tmp.path() + "/data";
  const std::string child_log = tmp.path() + "/child.stderr";
  std::mt19937_64 rng(0xC0FFEE);
  const auto t0 = Clock::now();

  constexpr int kRounds = 24;
  uint64_t durable = 0;  // last_seq after the previous round's recovery
  uint64_t total_acked = 0, total_dups = 0, total_snapshots = 0, killed_in_open = 0;
  uint64_t torn_tails = 0, killed_mid_snapshot = 0;
  std::set<std::string> temp_files;
  std::vector<uint64_t> seeds;
  for (int round = 0; round < kRounds; ++round) {
    // Mostly fresh events; sometimes a restarted client resends an earlier run's events.
    uint64_t seed = 1 + static_cast<uint64_t>(round);
    if (!seeds.empty() && rng() % 4 == 0) seed = seeds[rng() % seeds.size()];
    seeds.push_back(seed);
    // Snapshots: never, now and then, or after every batch (so kills land inside one).
    const uint64_t snapshot_one_in = std::vector<uint64_t>{0, 1, 4, 20}[rng() % 4];
    // How long it lives: usually 20-300 ms of ingesting; every sixth round past a few
    // thousand acks; now and then it dies during start-up recovery.
    enum class Mode { kShort, kLong, kDuringOpen } mode = Mode::kShort;
    if (round % 6 == 5) mode = Mode::kLong;
    if (round % 5 == 3) mode = Mode::kDuringOpen;
    const auto lifetime = std::chrono::milliseconds(20 + rng() % 281);

    INFO("round " << round << " seed " << seed << " snapshot 1/" << snapshot_one_in << " mode "
                  << static_cast<int>(mode) << " lifetime " << lifetime.count()
                  << " ms; durable before: " << durable);
    Child child(
        {TROVE_CRASH_CHILD_PATH, data, std::to_string(seed), std::to_string(snapshot_one_in)},
        child_log);
    bool alive = true;
    if (mode == Mode::kDuringOpen) {
      const auto at = Clock::now() + std::chrono::microseconds(rng() % 10000);
      alive = child.listen(at, [](const Heard&) { return false; });
    } else {
      // Start the clock once recovery is done, so the kill lands while ingesting.
      alive = child.listen(Clock::now() + std::chrono::seconds(20),
                           [](const Heard& h) { return h.opened; });
      REQUIRE(child.heard().opened);
      if (mode == Mode::kShort) {
        alive = child.listen(Clock::now() + lifetime, [](const Heard&) { return false; });
      } else {
        const size_t want = 3000 + rng() % 2000;
        alive = child.listen(Clock::now() + std::chrono::seconds(20),
                             [want](const Heard& h) { return h.fresh.size() >= want; });
      }
    }
    const int status = child.kill_and_drain();
    INFO("child stderr: " << read_text(child_log));
    REQUIRE(alive);
    REQUIRE(WIFSIGNALED(status));
    REQUIRE(WTERMSIG(status) == SIGKILL);

    const Heard& h = child.heard();
    CHECK(h.bad_line.empty());
    if (fs::is_directory(data + "/snapshots")) {
      // A temp file not seen before: this kill landed inside write_snapshot.
      for (const auto& e : fs::directory_iterator(data + "/snapshots")) {
        if (e.path().extension() == ".tmp" && temp_files.insert(e.path().string()).second) {
          ++killed_mid_snapshot;
        }
      }
    }
    if (!h.opened) ++killed_in_open;
    if (h.opened) CHECK(h.open_seq == durable);  // the child recovered exactly what we did
    // Fresh acks continue the journal one by one.
    for (size_t i = 0; i < h.fresh.size(); ++i) {
      INFO("fresh ack #" << i);
      REQUIRE(h.fresh[i] == durable + 1 + i);
    }
    const uint64_t max_fresh = h.fresh.empty() ? durable : h.fresh.back();
    for (uint64_t d : h.dups) {
      CHECK(d >= 1);
      CHECK(d <= max_fresh);
    }
    total_acked += h.fresh.size();
    total_dups += h.dups.size();
    total_snapshots += h.snapshots;

    // Recover in-process, exactly as a restarted server would.
    trove::OpenReport report;
    std::string recovered_digest;
    uint64_t last = 0;
    {
      auto store = trove::Store::open(data, {}, &report);
      INFO(store.status().to_string());
      REQUIRE(store.ok());
      last = store.value()->last_seq();
      store.value()->read([&](const trove::State& s) { recovered_digest = s.digest(); });
    }
    INFO("recovered last_seq " << last << ", snapshot " << report.snapshot_seq << ", warnings "
                               << report.warnings.size());
    CHECK(last >= max_fresh);  // no acknowledged event lost
    CHECK(last >= durable);    // nor anything recovered before
    // At most the batch in flight was journaled without being acknowledged.
    CHECK(last <= max_fresh + 16);
    for (const auto& w : report.warnings) {
      if (w.find("torn tail") != std::string::npos) ++torn_tails;
      // A torn journal tail may be cut; a snapshot is never damaged by a crash (temp + rename).
      CHECK(w.find("snapshot") == std::string::npos);
    }

    auto full = trove::replay(data, {.use_snapshots = false});
    INFO(full.status().to_string());
    REQUIRE(full.ok());
    CHECK(full->last_seq() == last);
    CHECK(full->digest() == recovered_digest);
    auto from_snapshot = trove::replay(data, {});
    REQUIRE(from_snapshot.ok());
    CHECK(from_snapshot->digest() == recovered_digest);
    durable = last;
  }

  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  // Not assertions about speed: context for whoever reads the log.
  WARN("crash test: " << kRounds << " kills, " << total_acked << " events acknowledged, "
                      << total_dups << " duplicate acks, " << total_snapshots << " snapshots, "
                      << killed_in_open << " killed before open finished, " << torn_tails
                      << " torn tails cut, " << killed_mid_snapshot
                      << " kills left a snapshot temp file, " << durable << " events journaled, "
                      << seconds << " s");
  CHECK(total_acked > 5000);
  CHECK(total_snapshots > 0);
}
