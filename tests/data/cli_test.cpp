// End-to-end tests of the `trove` binary: each runs the real executable (TROVE_CLI_PATH) in a
// fresh temporary directory and checks its output, its files and its exit code.
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.h"
#include "trove/data/store.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

using TempDir = trove::test::TempDir;

struct Run {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
}

// Runs `trove <args>` (arguments already quoted where needed), `stdin_from` as its stdin.
Run run_trove(const TempDir& tmp, const std::string& args, const std::string& stdin_from = "") {
  const std::string err_path = tmp.sub("stderr.txt");
  std::string cmd = quote(TROVE_CLI_PATH) + " " + args + " 2>" + quote(err_path);
  if (!stdin_from.empty()) cmd += " <" + quote(stdin_from);
  Run r;
  std::FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int status = ::pclose(p);
  REQUIRE(WIFEXITED(status));
  r.exit_code = WEXITSTATUS(status);
  r.err = read_text(err_path);
  return r;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

std::string join_lines(const std::vector<std::string>& lines, size_t from, size_t to) {
  std::string s;
  for (size_t i = from; i < to && i < lines.size(); ++i) s += lines[i] + "\n";
  return s;
}

// The number after `key` in the ingest summary ("accepted    12").
uint64_t summary_value(const std::string& text, const std::string& key) {
  for (const std::string& l : lines_of(text)) {
    if (l.rfind(key + " ", 0) == 0)
      return std::stoull(l.substr(l.find_first_not_of(' ', key.size())));
  }
  FAIL("no `" << key << "` in:\n" << text);
  return 0;
}

// A small deterministic stream written by `trove generate`; returns its lines.
std::vector<std::string> generate(const TempDir& tmp, const std::string& path,
                                  const std::string& extra = "") {
  Run r = run_trove(tmp, "generate --items 40 --visitors 15 --events 400 --seed 11 --out " +
                             quote(path) + " " + extra);
  REQUIRE(r.exit_code == 0);
  return lines_of(read_text(path));
}

json stats_json(const TempDir& tmp, const std::string& data_dir) {
  Run r = run_trove(tmp, "stats --json --data-dir " + quote(data_dir));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return json::parse(r.out);
}

json replay_json(const TempDir& tmp, const std::string& data_dir, const std::string& extra) {
  Run r = run_trove(tmp, "replay --json --data-dir " + quote(data_dir) + " " + extra);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return json::parse(r.out);
}

const char* const kBadLines[] = {
    R"({"type":"DetailItemView","user":{},"item_id":"sku-1"})",
    R"(not json)",
    R"({"type":"PurchaseComplete","user":{"visitor_id":"v"},"order_id":"o","lines":[{"item_id":"a","quantity":1.5}]})",
};
const char* const kBadPaths[] = {"user.visitor_id: ", "invalid JSON", "lines[0].quantity: "};

}  // namespace

TEST_CASE("ingest of a small generated file reports its counts and exits 0", "[cli]") {
  TempDir tmp;
  const auto lines = generate(tmp, tmp.sub("ev.ndjson"));
  Run r = run_trove(tmp,
                    "ingest --data-dir " + quote(tmp.sub("d")) + " " + quote(tmp.sub("ev.ndjson")));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const uint64_t accepted = summary_value(r.err, "accepted");
  CHECK(summary_value(r.err, "lines") == lines.size());
  CHECK(accepted + summary_value(r.err, "duplicates") == lines.size());
  CHECK(summary_value(r.err, "rejected") == 0);
  CHECK(r.err.find("seq range   1.." + std::to_string(accepted)) != std::string::npos);
  CHECK(r.err.find("events/s") != std::string::npos);

  const json stats = stats_json(tmp, tmp.sub("d"));
  CHECK(stats["last_seq"] == accepted);
  CHECK(stats["total_events"] == accepted);
  CHECK(stats["items"].get<uint64_t>() > 0);
  CHECK(stats["journal_bytes"].get<uint64_t>() > 0);
  CHECK(stats["digest"].get<std::string>().size() == 32);

  // The same stream from stdin (`-`) gives the same state.
  Run piped =
      run_trove(tmp, "ingest --data-dir " + quote(tmp.sub("d2")) + " -", tmp.sub("ev.ndjson"));
  REQUIRE(piped.exit_code == 0);
  CHECK(stats_json(tmp, tmp.sub("d2"))["digest"] == stats["digest"]);
}

TEST_CASE("ingest reports each bad line with its JSON path, keeps the good ones and exits 1",
          "[cli]") {
  TempDir tmp;
  const auto good = generate(tmp, tmp.sub("ev.ndjson"), "--no-event-ids");
  // good 0..2, bad, good 3, blank, bad, good 4, bad, good 5
  std::string text = join_lines(good, 0, 3) + kBadLines[0] + "\n" + good[3] + "\n\n" +
                     kBadLines[1] + "\n" + good[4] + "\n" + kBadLines[2] + "\n" + good[5] + "\n";
  write_text(tmp.sub("mixed.ndjson"), text);
  Run r = run_trove(tmp, "ingest --data-dir " + quote(tmp.sub("d")) + " --errors-file " +
                             quote(tmp.sub("errors.txt")) + " " + quote(tmp.sub("mixed.ndjson")));
  INFO(r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.err.find(std::string("line 4: ") + kBadPaths[0]) != std::string::npos);
  CHECK(r.err.find(std::string("line 7: ") + kBadPaths[1]) != std::string::npos);
  CHECK(r.err.find(std::string("line 9: ") + kBadPaths[2]) != std::string::npos);
  CHECK(summary_value(r.err, "accepted") == 6);
  CHECK(summary_value(r.err, "rejected") == 3);

  const auto errors = lines_of(read_text(tmp.sub("errors.txt")));
  REQUIRE(errors.size() == 3);
  CHECK(errors[0].rfind(std::string("line 4: ") + kBadPaths[0], 0) == 0);
  CHECK(errors[2].rfind(std::string("line 9: ") + kBadPaths[2], 0) == 0);
  CHECK(stats_json(tmp, tmp.sub("d"))["total_events"] == 6);
}

TEST_CASE("ingest --strict stops at the first bad line and keeps the lines before it", "[cli]") {
  TempDir tmp;
  const auto good = generate(tmp, tmp.sub("ev.ndjson"), "--no-event-ids");
  write_text(tmp.sub("mixed.ndjson"), join_lines(good, 0, 5) + kBadLines[0] + "\n" +
                                          join_lines(good, 5, 10) + kBadLines[1] + "\n");
  Run r = run_trove(tmp, "ingest --strict --data-dir " + quote(tmp.sub("d")) + " " +
                             quote(tmp.sub("mixed.ndjson")));
  INFO(r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("line 6: user.visitor_id") != std::string::npos);
  CHECK(r.err.find("line 12:") == std::string::npos);
  CHECK(summary_value(r.err, "accepted") == 5);
  CHECK(stats_json(tmp, tmp.sub("d"))["last_seq"] == 5);
}

TEST_CASE("ingest --ack prints one durable ack per event, in seq order", "[cli]") {
  TempDir tmp;
  const auto lines = generate(tmp, tmp.sub("ev.ndjson"), "--no-event-ids");
  Run r = run_trove(tmp, "ingest --ack --batch 100 --data-dir " + quote(tmp.sub("d")) + " " +
                             quote(tmp.sub("ev.ndjson")));
  REQUIRE(r.exit_code == 0);
  const auto acks = lines_of(r.out);
  REQUIRE(acks.size() == lines.size());
  for (size_t i = 0; i < acks.size(); ++i) REQUIRE(acks[i] == "ack " + std::to_string(i + 1));
}

TEST_CASE("re-ingesting the same file with event_ids changes nothing and counts duplicates",
          "[cli]") {
  TempDir tmp;
  const auto lines = generate(tmp, tmp.sub("ev.ndjson"));
  const std::string cmd =
      "ingest --data-dir " + quote(tmp.sub("d")) + " " + quote(tmp.sub("ev.ndjson"));
  Run first = run_trove(tmp, cmd);
  REQUIRE(first.exit_code == 0);
  const json before = stats_json(tmp, tmp.sub("d"));

  Run again = run_trove(tmp, cmd);
  INFO(again.err);
  REQUIRE(again.exit_code == 0);
  CHECK(summary_value(again.err, "accepted") == 0);
  CHECK(summary_value(again.err, "duplicates") == lines.size());
  CHECK(again.err.find("seq range   none") != std::string::npos);
  const json after = stats_json(tmp, tmp.sub("d"));
  CHECK(after["digest"] == before["digest"]);
  CHECK(after["last_seq"] == before["last_seq"]);
}

TEST_CASE("replay --until-seq gives the digest of ingesting only that prefix", "[cli]") {
  TempDir tmp;
  const auto lines = generate(tmp, tmp.sub("ev.ndjson"));
  REQUIRE(run_trove(tmp, "ingest --data-dir " + quote(tmp.sub("full")) + " " +
                             quote(tmp.sub("ev.ndjson")))
              .exit_code == 0);
  // A snapshot past the target must not be used; one before it may be.
  REQUIRE(run_trove(tmp, "snapshot --data-dir " + quote(tmp.sub("full"))).exit_code == 0);

  const size_t n = lines.size() * 3 / 5;
  write_text(tmp.sub("prefix.ndjson"), join_lines(lines, 0, n));
  REQUIRE(run_trove(tmp, "ingest --data-dir " + quote(tmp.sub("prefix")) + " " +
                             quote(tmp.sub("prefix.ndjson")))
              .exit_code == 0);
  const json prefix = stats_json(tmp, tmp.sub("prefix"));
  const uint64_t k = prefix["last_seq"];
  REQUIRE(k > 0);

  const json travelled = replay_json(tmp, tmp.sub("full"), "--until-seq " + std::to_string(k));
  CHECK(travelled["last_seq"] == k);
  CHECK(travelled["digest"] == prefix["digest"]);
  CHECK(travelled["snapshot_seq"] == 0);
  CHECK(travelled["replayed"] == k);
  CHECK(travelled["items"] == prefix["items"]);
  CHECK(travelled["events_by_type"] == prefix["events_by_type"]);

  // The whole journal, with or without the snapshot, is the live state.
  const json live = stats_json(tmp, tmp.sub("full"));
  const json from_snapshot = replay_json(tmp, tmp.sub("full"), "");
  CHECK(from_snapshot["snapshot_seq"] == live["last_seq"]);
  CHECK(from_snapshot["digest"] == live["digest"]);
  CHECK(replay_json(tmp, tmp.sub("full"), "--no-snapshots")["digest"] == live["digest"]);
}

TEST_CASE("replay --until an instant applies the events stamped up to it", "[cli]") {
  TempDir tmp;
  const auto lines = generate(tmp, tmp.sub("ev.ndjson"), "--no-event-ids");
  REQUIRE(
      run_trove(tmp, "ingest --data-dir " + quote(tmp.sub("d")) + " " + quote(tmp.sub("ev.ndjson")))
          .exit_code == 0);
  const int64_t cut = json::parse(lines[lines.size() / 2])["timestamp"];
  uint64_t expected = 0;  // the prefix up to the first event stamped after `cut`
  while (expected < lines.size() &&
         json::parse(lines[expected])["timestamp"].get<int64_t>() <= cut) {
    ++expected;
  }
  const std::string iso = trove::format_iso8601(cut);
  const json j = replay_json(tmp, tmp.sub("d"), "--until " + iso);
  CHECK(j["last_seq"] == expected);
  CHECK(j["last_timestamp"] == iso);

  Run bad = run_trove(tmp, "replay --data-dir " + quote(tmp.sub("d")) + " --until yesterday");
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("--until") != std::string::npos);
}

TEST_CASE("schema --out writes one schema per event type plus index.json", "[cli]") {
  TempDir tmp;
  Run r = run_trove(tmp, "schema --out " + quote(tmp.sub("schemas")));
  REQUIRE(r.exit_code == 0);
  size_t schemas = 0;
  for (const auto& entry : fs::directory_iterator(tmp.sub("schemas"))) {
    const json j = json::parse(read_text(entry.path().string()));  // each one is valid JSON
    if (entry.path().filename() != "index.json") {
      ++schemas;
      CHECK(j.contains("$schema"));
    }
  }
  CHECK(schemas == 34);
  const json index = json::parse(read_text(tmp.sub("schemas/index.json")));
  CHECK(index["events"].size() == 34);
  CHECK(fs::exists(tmp.sub("schemas/PurchaseComplete.json")));

  CHECK(json::parse(run_trove(tmp, "schema").out) == index);
  Run one = run_trove(tmp, "schema --type RateItem");
  REQUIRE(one.exit_code == 0);
  CHECK(json::parse(one.out) == json::parse(read_text(tmp.sub("schemas/RateItem.json"))));
  CHECK(run_trove(tmp, "schema --type NoSuchEvent").exit_code == 2);
}

TEST_CASE("every subcommand answers --help and exits 0", "[cli]") {
  TempDir tmp;
  for (const char* sub : {"", "ingest", "replay", "snapshot", "stats", "schema", "generate"}) {
    Run r = run_trove(tmp, std::string(sub) + " --help");
    INFO(sub);
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("Usage:") != std::string::npos);
  }
  CHECK(run_trove(tmp, "").exit_code == 2);  // a subcommand is required
  CHECK(run_trove(tmp, "ingest --no-such-flag x").exit_code == 2);
}

TEST_CASE("a journal corrupted in the middle makes stats exit 2 naming the segment", "[cli]") {
  TempDir tmp;
  generate(tmp, tmp.sub("ev.ndjson"));
  REQUIRE(
      run_trove(tmp, "ingest --data-dir " + quote(tmp.sub("d")) + " " + quote(tmp.sub("ev.ndjson")))
          .exit_code == 0);
  std::vector<fs::path> segments;
  for (const auto& e : fs::directory_iterator(tmp.sub("d/journal"))) {
    if (e.path().extension() == ".seg") segments.push_back(e.path());
  }
  REQUIRE(segments.size() == 1);
  std::string bytes = read_text(segments[0].string());
  bytes[bytes.size() / 2] ^= 0x5a;
  write_text(segments[0].string(), bytes);

  Run r = run_trove(tmp, "stats --data-dir " + quote(tmp.sub("d")));
  CHECK(r.exit_code == 2);
  CHECK(r.err.find(segments[0].filename().string()) != std::string::npos);
  CHECK(r.err.find("offset") != std::string::npos);
  Run replayed = run_trove(tmp, "replay --data-dir " + quote(tmp.sub("d")));
  CHECK(replayed.exit_code == 2);
  CHECK(replayed.err.find(segments[0].filename().string()) != std::string::npos);
}

TEST_CASE("stats of a data directory that does not exist exits 2 and creates nothing", "[cli]") {
  TempDir tmp;
  Run r = run_trove(tmp, "stats --data-dir " + quote(tmp.sub("missing")));
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("missing") != std::string::npos);
  CHECK_FALSE(fs::exists(tmp.sub("missing")));
}
