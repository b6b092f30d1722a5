// Pieces the `trove` subcommands share: exit codes, how a failure is reported, opening a
// data directory, and the state summary printed by `stats` and `replay`.
//
// Each subcommand lives in its own cmd_<name>.cpp and registers itself through one
// add_<name>_command() function; main.cpp only parses and dispatches.
//
// Thread-safety: the functions write to stdout/stderr and are meant for the main thread.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "trove/data/state.h"
#include "trove/data/status.h"
#include "trove/data/store.h"

namespace trove::cli {

// Exit codes every subcommand keeps to.
inline constexpr int kExitOk = 0;
inline constexpr int kExitRejected = 1;  // ran to the end, but some input was refused
inline constexpr int kExitFatal = 2;     // could not do the job: I/O, corruption, bad usage

// A registered subcommand: its CLI11 node and what to run when it was chosen.
struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

Command add_ingest_command(CLI::App& root);
Command add_replay_command(CLI::App& root);
Command add_snapshot_command(CLI::App& root);
Command add_stats_command(CLI::App& root);
Command add_schema_command(CLI::App& root);
Command add_generate_command(CLI::App& root);

// Prints "trove <command>: <code>: <status>" to stderr and returns kExitFatal. The Status text
// carries the details (for corruption: the segment file and the byte offset).
int fail(std::string_view command, const Status& status);
// Prints each warning to stderr as "trove <command>: warning: ...".
void print_warnings(std::string_view command, const std::vector<std::string>& warnings);

// Opens the Store of an existing data directory (snapshot + journal tail). Refuses a
// directory that does not exist rather than creating an empty one, so a typo in --data-dir
// is an error and not a fresh, empty store.
Result<std::unique_ptr<Store>> open_existing_store(const std::string& data_dir, OpenReport* report);

// "2023-11-14T22:13:20.000Z", or "-" for 0 (no event yet).
std::string format_time_or_dash(int64_t ms);

// Counts of what a State holds, as one JSON object (events_by_type lists non-zero kinds only).
nlohmann::json state_counts_json(const State& state);
// The same counts as aligned "name  value" lines on stdout.
void print_state_counts(const State& state);

}  // namespace trove::cli
