// `trove recommend` end to end: the real binary over a data directory made by `trove
// generate` and `trove ingest`, every strategy in JSON, and its exit codes on bad input.
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "test_util.h"

namespace {

struct Run {
  int exit_code = -1;
  std::string out, err;
};

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

Run run_trove(const trove::test::TempDir& tmp, const std::string& args) {
  const std::string cmd = std::string(TROVE_CLI_PATH) + " " + args + " >" + tmp.sub("out") +
                          " 2>" + tmp.sub("err");
  const int status = std::system(cmd.c_str());
  REQUIRE(WIFEXITED(status));
  return {WEXITSTATUS(status), slurp(tmp.sub("out")), slurp(tmp.sub("err"))};
}

}  // namespace

TEST_CASE("trove recommend answers every strategy in JSON and refuses bad requests", "[cli]") {
  trove::test::TempDir tmp;
  const std::string d = " --data-dir " + tmp.sub("d");
  REQUIRE(run_trove(tmp, "generate --items 200 --visitors 50 --events 3000 --behaviour-only --out " +
                             tmp.sub("ev.ndjson")).exit_code == 0);
  REQUIRE(run_trove(tmp, "ingest" + d + " " + tmp.sub("ev.ndjson")).exit_code == 0);
  // An item and a visitor from the stream.
  std::ifstream in(tmp.sub("ev.ndjson"));
  std::string item, visitor;
  for (std::string line; std::getline(in, line) && visitor.empty();) {
    auto e = nlohmann::json::parse(line);
    if (e["type"] == "DetailItemView") {
      item = e["item_id"];
      visitor = e["user"]["visitor_id"];
    }
  }
  REQUIRE_FALSE(visitor.empty());
  for (const std::string strategy : {"similar", "bought-together", "for-you", "trending",
                                     "recently-viewed", "popular", "new-arrivals"}) {
    INFO(strategy);
    Run r = run_trove(tmp, "recommend" + d + " " + strategy + " --item " + item + " --visitor " +
                               visitor + " --count 5 --json");
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    auto j = nlohmann::json::parse(r.out);
    CHECK(j["strategy"] == strategy);
    CHECK(j["items"].size() <= 5);
    for (const auto& i : j["items"]) CHECK(i["id"] != item);
  }
  auto mine = nlohmann::json::parse(
      run_trove(tmp, "recommend" + d + " for-you --visitor " + visitor + " --json").out);
  CHECK(mine["personalized"] == true);
  CHECK(mine["items"].size() == 10);

  Run unknown = run_trove(tmp, "recommend" + d + " similar --item no-such-item");
  CHECK(unknown.exit_code == 2);
  CHECK(unknown.err.find("no-such-item") != std::string::npos);
  CHECK(run_trove(tmp, "recommend" + d + " similar --item " + item + " --count 0").exit_code == 2);
  CHECK(run_trove(tmp, "recommend" + d + " sideways").exit_code == 2);
  Run window = run_trove(tmp, "recommend" + d + " popular --window-days 91");
  CHECK(window.exit_code == 2);
  CHECK(window.err.find("window_days") != std::string::npos);
  CHECK(run_trove(tmp, "recommend" + d + " placement").exit_code == 2);
}
