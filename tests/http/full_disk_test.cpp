// `trove serve` on a full disk (issue 13 item 6): it starts read-only instead of exiting,
// serves reads, answers writes 503 and becomes writable once space returns. The disk is a
// small tmpfs this test mounts (as root; skipped with a warning when it cannot).
#include <signal.h>
#include <sys/wait.h>

#include <string>
#include <string_view>
#include <vector>

#include "http/http_harness.h"

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

// `trove serve` on `data_dir` as a child process; the port is read from its start-up log.
class Serve {
 public:
  Serve(const std::string& data_dir, const std::string& log_dir)
      : error_log_(log_dir + "/errors.log") {
    REQUIRE(std::filesystem::exists(TROVE_CLI_PATH));
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      std::vector<std::string> args = {TROVE_CLI_PATH,
                                       "serve",
                                       "--data-dir=" + data_dir,
                                       "--listen=127.0.0.1:0",
                                       "--error-log=" + error_log_,
                                       "--log-file=off",
                                       "--index-flush-ms=50"};
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(TROVE_CLI_PATH, argv.data());
      ::_exit(127);
    }
    pid_ = pid;
  }
  ~Serve() {
    // Only a child still running: kill(-1) would signal every process on the machine.
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  Serve(const Serve&) = delete;
  Serve& operator=(const Serve&) = delete;

  // Waits until /readyz answers 200; false if the process exited or 30 s passed.
  bool ready() {
    for (int i = 0; i < 600 && pid_ > 0; ++i) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      const std::string log = trove::test::read_file(error_log_);
      const size_t p = log.find("listening on 127.0.0.1:");
      if (port_ == 0 && p != std::string::npos) port_ = std::stoi(log.substr(p + 23));
      if (port_ != 0) {
        auto r = client().Get("/readyz");
        if (r && r->status == 200) return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(30, 0);
    return c;
  }
  std::string error_log() const { return trove::test::read_file(error_log_); }

 private:
  std::string error_log_;
  pid_t pid_ = -1;
  int port_ = 0;
};

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

  Serve serve(data, logs.path());
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
