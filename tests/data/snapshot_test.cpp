#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

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

// Found by fuzz/snapshot_fuzzer.cpp (corpus/snapshot/file-huge-name): list_snapshots read the
// twenty digits with std::stoull, which throws std::out_of_range above 2^64 - 1, so one stray
// file made Store::open (and `trove serve`) die of an uncaught exception.
TEST_CASE("a twenty-digit file name over 2^64 in the snapshot directory is not a snapshot",
          "[snapshot]") {
  char tmpl[] = "/tmp/trove-snapshot-test-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  const std::string dir = tmpl;
  trove::State state;
  REQUIRE(trove::write_snapshot(dir, 0, state.encode()).ok());
  std::ofstream(fs::path(dir) / "99999999999999999999.snap") << "not a snapshot";
  std::ofstream(fs::path(dir) / "18446744073709551616.snap") << "2^64";

  std::vector<trove::SnapshotInfo> listed;
  REQUIRE_NOTHROW(listed = trove::list_snapshots(dir));
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].seq == 0);
  std::vector<std::string> warnings;
  auto loaded = trove::load_newest_snapshot(dir, UINT64_MAX, &warnings);
  REQUIRE(loaded.ok());
  REQUIRE(loaded.value().has_value());
  CHECK(loaded.value()->info.seq == 0);
  fs::remove_all(dir);
}
