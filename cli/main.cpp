// `trove`: one binary, one subcommand per job (ingest, replay, snapshot, stats, schema,
// generate, import, search, suggest, fuzzy, serve). This file only builds the command tree, parses, and dispatches; each subcommand
// is in its own cmd_<name>.cpp.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "common.h"

#ifdef TROVE_JEMALLOC
// Read by jemalloc at its first allocation (cli/CMakeLists.txt says why): its chunks are
// madvised for transparent huge pages, so decoding a snapshot faults 2 MiB at a time.
// MALLOC_CONF in the environment still overrides it.
extern "C" {
const char* malloc_conf = "thp:always,metadata_thp:auto";
}
#endif

namespace trove::cli {
Command add_import_command(CLI::App& root);   // cmd_import.cpp
Command add_search_command(CLI::App& root);   // cmd_search.cpp
Command add_suggest_command(CLI::App& root);  // cmd_search.cpp
Command add_fuzzy_command(CLI::App& root);    // cmd_search.cpp
Command add_recommend_command(CLI::App& root);  // cmd_recommend.cpp
Command add_serve_command(CLI::App& root);    // cmd_serve.cpp
Command add_eval_command(CLI::App& root);     // cmd_eval.cpp
}  // namespace trove::cli

int main(int argc, char** argv) {
  using namespace trove::cli;
  CLI::App app{"trove: real-time recommendations and typo-tolerant product search"};
  app.require_subcommand(1);
  // Global options may follow the subcommand too: `trove ingest --log-level debug ...`.
  app.fallthrough();
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "Log level: trace, debug, info, warn, error, off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));

  std::vector<Command> commands = {
      add_ingest_command(app), add_replay_command(app), add_snapshot_command(app),
      add_stats_command(app),  add_schema_command(app), add_generate_command(app),
      add_import_command(app), add_search_command(app), add_suggest_command(app),
      add_fuzzy_command(app),  add_serve_command(app), add_recommend_command(app),  add_eval_command(app),
  };

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help is a "parse error" that exits 0; real usage errors are fatal (2), never 1, which
    // `ingest` reserves for rejected lines.
    const int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitFatal;
  }

  // Logs go to stderr: stdout carries data (NDJSON, JSON, `ack <seq>` lines).
  spdlog::set_default_logger(spdlog::stderr_color_mt("trove"));
  spdlog::set_level(spdlog::level::from_str(log_level));

  for (const Command& c : commands) {
    if (c.app->parsed()) return c.run();
  }
  return kExitFatal;  // unreachable: require_subcommand(1)
}
