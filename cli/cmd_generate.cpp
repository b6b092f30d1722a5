// `trove generate`: the project's deterministic demo generator (generate_events) as NDJSON.
#include <fmt/core.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "common.h"
#include "trove/data/events.h"
#include "trove/data/generator.h"

namespace trove::cli {
namespace {

constexpr std::string_view kName = "generate";

struct GenerateCliOptions {
  GeneratorOptions gen;
  std::string out = "-";
  std::string start;
  bool behaviour_only = false;
  bool no_event_ids = false;
};

int run_generate(GenerateCliOptions o) {
  if (!o.start.empty()) {
    Result<int64_t> ms = parse_iso8601(o.start);
    if (!ms.ok()) return fail(kName, ms.status().with_context("--start"));
    o.gen.start_ms = ms.value();
  }
  o.gen.all_kinds = !o.behaviour_only;
  o.gen.with_event_ids = !o.no_event_ids;
  const std::vector<Event> events = generate_events(o.gen);

  const bool to_stdout = o.out == "-";
  std::FILE* f = to_stdout ? stdout : std::fopen(o.out.c_str(), "w");
  if (f == nullptr) {
    return fail(kName, Status::io_error("cannot open " + o.out + ": " + std::strerror(errno)));
  }
  std::string buf;
  buf.reserve(2u << 20);
  bool ok = true;
  for (const Event& e : events) {
    serialize_event(e, &buf);
    buf += '\n';
    if (buf.size() >= (1u << 20)) {
      ok = ok && std::fwrite(buf.data(), 1, buf.size(), f) == buf.size();
      buf.clear();
    }
  }
  ok = ok && std::fwrite(buf.data(), 1, buf.size(), f) == buf.size();
  ok = std::fflush(f) == 0 && ok;
  if (!to_stdout) ok = std::fclose(f) == 0 && ok;
  if (!ok) return fail(kName, Status::io_error("writing " + o.out + " failed"));
  if (!to_stdout) fmt::print(stderr, "wrote {} events to {}\n", events.size(), o.out);
  return kExitOk;
}

}  // namespace

Command add_generate_command(CLI::App& root) {
  auto o = std::make_shared<GenerateCliOptions>();
  CLI::App* app = root.add_subcommand(
      "generate",
      "Write a deterministic stream of plausible shop events (catalog, then shoppers) as "
      "NDJSON: same seed, same events");
  app->add_option("--items", o->gen.items, "Catalog items")->capture_default_str();
  app->add_option("--visitors", o->gen.visitors, "Distinct visitors")->capture_default_str();
  app->add_option("--events", o->gen.behaviour_events, "Behaviour events")->capture_default_str();
  app->add_option("--seed", o->gen.seed, "Random seed")->capture_default_str();
  app->add_option("--start", o->start,
                  "Timestamp of the first event, e.g. 2023-11-14T22:13:20Z (default)");
  app->add_option("--out", o->out, "Output file, or - for stdout")->capture_default_str();
  app->add_flag("--behaviour-only", o->behaviour_only,
                "Only the catalog and common behaviour (no config, merges, forgets, repeats)");
  app->add_flag("--no-event-ids", o->no_event_ids, "Leave event_id out of every event");
  return {app, [o] { return run_generate(*o); }};
}

}  // namespace trove::cli
