// Writes the seed inputs that only the code itself can make: a journal segment and a
// snapshot written by Trove (from the generator's small all-kinds stream plus the valid
// event fixtures), a state encoding, and checksum-valid journal recipes, into
// <corpus>/journal/ and <corpus>/snapshot/ in the framing journal_fuzzer.cpp and
// snapshot_fuzzer.cpp read. Run by hand when the formats change:
//   build-fz/fuzz/trove_fuzz_seed_writer tests/data/fixtures/valid_events.jsonl fuzz/corpus
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "trove/data/events.h"
#include "trove/data/generator.h"
#include "trove/data/snapshot.h"
#include "trove/data/store.h"

namespace fs = std::filesystem;
using namespace trove;

namespace {

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_seed(const fs::path& p, char prefix, const std::string& bytes) {
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary);
  out.put(prefix);
  out << bytes;
  std::printf("%s: %zu bytes\n", p.c_str(), bytes.size() + 1);
}

int fail(const std::string& what) {
  std::fprintf(stderr, "seed_writer: %s\n", what.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) return fail("usage: seed_writer VALID_EVENTS.jsonl CORPUS_DIR");
  const fs::path corpus = argv[2];

  std::vector<Event> events;
  {
    std::ifstream in(argv[1]);
    EventParser parser;
    std::string line;
    // A few small ones: seeds stay small so that mutations are cheap.
    for (int n = 0; n < 8 && std::getline(in, line);) {
      if (line.size() > 1000) continue;
      auto e = parser.parse(line);
      if (e.ok() && e.value().event_id == std::nullopt) {
        events.push_back(std::move(e).value());
        ++n;
      }
    }
  }
  GeneratorOptions g;
  g.items = 8;
  g.visitors = 4;
  g.behaviour_events = 24;
  for (Event& e : generate_events(g)) events.push_back(std::move(e));

  char tmpl[] = "/tmp/trove_seeds_XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return fail("mkdtemp failed");
  const std::string dir = tmpl;
  {
    StoreOptions so;
    so.now_ms = [t = int64_t{1700000000000}]() mutable { return t += 1000; };
    auto store = Store::open(dir, so);
    if (!store.ok()) return fail(store.status().to_string());
    auto acks = store.value()->ingest(std::move(events));
    if (!acks.ok()) return fail(acks.status().to_string());
    auto snap = store.value()->snapshot();
    if (!snap.ok()) return fail(snap.status().to_string());
    write_seed(corpus / "snapshot" / "file-real", '\x01',
               std::string(1, '\0') + read_file(snap.value().path));
    store.value()->read([&](const State& s) {
      write_seed(corpus / "snapshot" / "state-real", '\x00', s.encode());
      write_seed(corpus / "snapshot" / "written-real", '\x02', s.encode());
    });
    write_seed(corpus / "snapshot" / "state-empty", '\x00', State().encode());
  }
  for (const auto& e : fs::directory_iterator(fs::path(dir) / "journal")) {
    write_seed(corpus / "journal" / "segment-real", '\x00', read_file(e.path()));
  }
  fs::remove_all(dir);
  return 0;
}
