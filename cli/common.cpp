#include "common.h"

#include <fmt/core.h>

#include <cstdio>
#include <filesystem>

namespace trove::cli {

int fail(std::string_view command, const Status& status) {
  fmt::print(stderr, "trove {}: {}: {}\n", command, status_code_name(status.code()),
             status.to_string());
  return kExitFatal;
}

void print_warnings(std::string_view command, const std::vector<std::string>& warnings) {
  for (const auto& w : warnings) fmt::print(stderr, "trove {}: warning: {}\n", command, w);
}

Result<std::unique_ptr<Store>> open_existing_store(const std::string& data_dir,
                                                   OpenReport* report) {
  std::error_code ec;
  if (!std::filesystem::is_directory(data_dir, ec)) {
    return Status::not_found("no data directory at " + data_dir);
  }
  return Store::open(data_dir, {}, report);
}

std::string format_time_or_dash(int64_t ms) { return ms == 0 ? "-" : format_iso8601(ms); }

nlohmann::json state_counts_json(const State& state) {
  nlohmann::json by_type = nlohmann::json::object();
  for (EventType t : all_event_types()) {
    if (uint64_t n = state.event_count(t)) by_type[std::string(event_type_name(t))] = n;
  }
  return {
      {"items", state.item_count()},
      {"item_refs", state.item_refs()},
      {"profiles", state.profile_count()},
      {"accounts", state.account_count()},
      {"synonyms", state.synonyms().size()},
      {"placements", state.placements().size()},
      {"offline_lists", state.offline_recommendations().size()},
      {"orders", state.orders()},
      {"total_events", state.total_events()},
      {"events_by_type", std::move(by_type)},
  };
}

void print_state_counts(const State& state) {
  const auto row = [](std::string_view name, uint64_t value) {
    fmt::print("{:<16} {}\n", name, value);
  };
  row("items", state.item_count());
  row("item refs", state.item_refs());
  row("profiles", state.profile_count());
  row("accounts", state.account_count());
  row("synonyms", state.synonyms().size());
  row("placements", state.placements().size());
  row("offline lists", state.offline_recommendations().size());
  row("orders", state.orders());
  row("events", state.total_events());
  for (EventType t : all_event_types()) {
    if (uint64_t n = state.event_count(t)) fmt::print("  {:<30} {}\n", event_type_name(t), n);
  }
}

}  // namespace trove::cli
