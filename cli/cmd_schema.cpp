// `trove schema`: the JSON Schemas (draft 2020-12) generated from the event field tables.
#include <fmt/core.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "common.h"
#include "trove/data/events.h"

namespace trove::cli {
namespace {

constexpr std::string_view kName = "schema";
namespace fs = std::filesystem;

struct SchemaOptions {
  std::string out_dir;
  std::string type;
};

Status write_text(const fs::path& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
  f.close();
  if (!f) return Status::io_error("cannot write " + path.string());
  return Status();
}

int run_schema(const SchemaOptions& o) {
  if (!o.type.empty()) {
    std::optional<EventType> t = event_type_from_name(o.type);
    if (!t) {
      std::string known;
      for (EventType k : all_event_types()) {
        known += known.empty() ? "" : ", ";
        known += event_type_name(k);
      }
      return fail(kName,
                  Status::invalid("unknown event type \"" + o.type + "\"; expected one of " + known,
                                  "--type"));
    }
    fmt::print("{}", event_schema_json(*t));
    return kExitOk;
  }
  if (o.out_dir.empty()) {
    fmt::print("{}", event_schema_index_json());
    return kExitOk;
  }
  std::error_code ec;
  fs::create_directories(o.out_dir, ec);
  if (ec) {
    return fail(kName, Status::io_error("cannot create " + o.out_dir + ": " + ec.message()));
  }
  size_t files = 0;
  for (EventType t : all_event_types()) {
    const fs::path path = fs::path(o.out_dir) / (std::string(event_type_name(t)) + ".json");
    if (Status st = write_text(path, event_schema_json(t)); !st.ok()) return fail(kName, st);
    ++files;
  }
  if (Status st = write_text(fs::path(o.out_dir) / "index.json", event_schema_index_json());
      !st.ok()) {
    return fail(kName, st);
  }
  fmt::print("wrote {} schemas and index.json to {}\n", files, o.out_dir);
  return kExitOk;
}

}  // namespace

Command add_schema_command(CLI::App& root) {
  auto o = std::make_shared<SchemaOptions>();
  CLI::App* app = root.add_subcommand(
      "schema",
      "Print or write the JSON Schemas (draft 2020-12) of the events.\n"
      "Without options: print index.json. --out DIR: write <EventType>.json for every event "
      "plus index.json. --type NAME: print one schema.");
  CLI::Option* out = app->add_option("--out", o->out_dir, "Directory to write the schemas to");
  app->add_option("--type", o->type, "Print the schema of this event type, e.g. DetailItemView")
      ->excludes(out);
  return {app, [o] { return run_schema(*o); }};
}

}  // namespace trove::cli
