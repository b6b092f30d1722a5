// `trove snapshot`: opens the store (snapshot + journal tail) and writes a fresh snapshot.
#include <fmt/core.h>

#include <memory>
#include <string>

#include "common.h"

namespace trove::cli {
namespace {

constexpr std::string_view kName = "snapshot";

int run_snapshot(const std::string& data_dir) {
  OpenReport report;
  auto store = open_existing_store(data_dir, &report);
  print_warnings(kName, report.warnings);
  if (!store.ok()) return fail(kName, store.status());
  Result<SnapshotInfo> info = store.value()->snapshot();
  if (!info.ok()) return fail(kName, info.status());
  fmt::print("{:<8} {}\n", "path", info->path);
  fmt::print("{:<8} {}\n", "seq", info->seq);
  fmt::print("{:<8} {}\n", "bytes", info->bytes);
  return kExitOk;
}

}  // namespace

Command add_snapshot_command(CLI::App& root) {
  auto data_dir = std::make_shared<std::string>();
  CLI::App* app = root.add_subcommand(
      "snapshot", "Write a snapshot of the current state (makes the next start faster)");
  app->add_option("--data-dir", *data_dir, "Data directory")->required();
  return {app, [data_dir] { return run_snapshot(*data_dir); }};
}

}  // namespace trove::cli
