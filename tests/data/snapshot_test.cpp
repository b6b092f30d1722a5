#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "trove/data/snapshot.h"
#include "trove/data/state.h"

namespace fs = std::filesystem;

TEST_CASE("writing a snapshot removes temp files a crash mid-write left behind", "[snapshot]") {
  char tmpl[] = "/tmp/trove-snapshot-test-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  const std::string dir = tmpl;
  const fs::path stale = fs::path(dir) / "00000000000000000007.snap.tmp";
  std::ofstream(stale) << "half a snapshot";
  REQUIRE(fs::exists(stale));

  trove::State state;
  auto info = trove::write_snapshot(dir, 0, state.encode());
  REQUIRE(info.ok());
  CHECK(fs::exists(info->path));
  CHECK_FALSE(fs::exists(stale));
  CHECK(trove::list_snapshots(dir).size() == 1);
  fs::remove_all(dir);
}
