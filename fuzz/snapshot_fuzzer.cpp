// Fuzz target: the snapshot loader (data/src/snapshot.cpp) and the state decoding under it
// (State::decode, data/src/state.cpp and archive.h), which start-up runs on the newest
// snapshot file of the data directory.
//
// The first byte picks what the rest is:
//   0: a State encoding, decoded directly (most inputs: the checksums in front of it would
//      stop nearly every mutation in the other modes);
//   1: a whole snapshot file (header, zstd payload, checksums), loaded from a directory with
//      load_newest_snapshot under the name its header's seq gives it (or, when the next
//      byte is odd, under a name of 20 digits taken from the 20 bytes after it: any name
//      of 20 digits is a snapshot's name, 2^64 or more included);
//   2: a State encoding, written with write_snapshot and loaded back: loads exactly when
//      State::decode accepts it, to the same state.
// A state that loads is then used as the server uses one: encoded again (decode(encode(s))
// must give the same bytes), its items and config serialized as events, its item tables read,
// and a few events of each kind applied to it ("a bad encoding must not become a bad write").
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "trove/data/events.h"
#include "trove/data/snapshot.h"
#include "trove/data/state.h"

namespace {

using namespace trove;

Event event(EventBody body, int64_t ts) {
  Event e;
  e.body = std::move(body);
  e.timestamp_ms = ts;
  return e;
}

UserRef user(std::string visitor, std::optional<std::string> user_id = std::nullopt) {
  UserRef u;
  u.visitor_id = std::move(visitor);
  u.user_id = std::move(user_id);
  return u;
}

// Reads and writes through the loaded state as the rest of Trove would.
void exercise(State& state) {
  const std::string encoded = state.encode();
  Result<State> again = State::decode(encoded);
  FUZZ_CHECK(again.ok(),
             "a loaded state does not decode after encoding: " + again.status().to_string());
  FUZZ_CHECK(again.value().encode() == encoded, "decode(encode(state)) encodes differently");
  (void)state.digest();
  (void)state.memory_bytes();

  std::string json;
  size_t live = 0;
  state.for_each_item([&](const std::string&, const Item& item) {
    ++live;
    json.clear();
    serialize_event(event(item.data, 0), &json);
  });
  FUZZ_CHECK(live == state.item_count(), "for_each_item disagrees with item_count");
  for (ItemRef r = 0; r < state.item_refs(); ++r) {
    FUZZ_CHECK(state.item_ref(state.item_id(r)) == r, "item ref table is not a bijection");
    (void)state.item_at(r);
    FUZZ_CHECK(state.item_counters(r) != nullptr, "an interned item without counters");
  }
  for (const auto& [id, s] : state.synonyms()) serialize_event(event(s, 0), &json);
  for (const auto& [id, p] : state.placements()) serialize_event(event(p, 0), &json);
  serialize_event(event(state.ranking(), 0), &json);
  for (const auto& [key, refs] : state.offline_recommendations()) {
    for (ItemRef r : refs) (void)state.item_id(r);
  }
  for (EventType t : all_event_types()) (void)state.event_count(t);

  // Events touching what the state holds: its first item, and the visitor and account ids
  // the seed states use.
  if (state.last_seq() > UINT64_MAX - 64) return;  // seqs come from the journal, never this high
  const std::string item = state.item_refs() > 0 ? state.item_id(0) : std::string("sku-1");
  int64_t ts = state.last_timestamp_ms();
  std::vector<Event> events;
  events.push_back(event(DetailItemView{user("v1"), item}, ++ts));
  events.push_back(event(AddToCart{user("v1"), item, 2, 3.5}, ++ts));
  events.push_back(event(RateItem{user("v1"), item, 4}, ++ts));
  events.push_back(event(AddToList{user("v1"), "wish", item}, ++ts));
  events.push_back(event(UserMerge{"v1", "u1"}, ++ts));
  events.push_back(event(PurchaseComplete{user("v2", "u1"), "o1", {{item, 1, 2.0}}, {}, {}}, ++ts));
  events.push_back(event(RemoveFromList{user("v2", "u1"), "wish", item}, ++ts));
  events.push_back(event(RemoveFromCart{user("v1"), item, 1}, ++ts));
  ItemPatch patch;
  patch.id = item;
  patch.price = 9.5;
  patch.attributes = Attributes{{"color", std::string("red")}};
  events.push_back(event(patch, ++ts));
  events.push_back(event(ItemRemove{item}, ++ts));
  events.push_back(event(UserUpsert{"u1", false, {}}, ++ts));
  events.push_back(event(UserForget{"u1", {}}, ++ts));
  events.push_back(event(UserForget{{}, "v1"}, ++ts));
  for (const Event& e : events) state.apply(state.last_seq() + 1, e);
  Result<State> after = State::decode(state.encode());
  FUZZ_CHECK(after.ok(),
             "the state after applying events does not decode: " + after.status().to_string());
}

uint64_t header_seq(std::string_view file) {
  uint64_t seq = 1;
  if (file.size() >= 24) std::memcpy(&seq, file.data() + 16, 8);
  return seq;
}

std::string snapshot_name(uint64_t seq) {
  char name[40];
  std::snprintf(name, sizeof name, "%020llu.snap", static_cast<unsigned long long>(seq));
  return name;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::ByteReader in(data, size);
  const uint8_t mode = in.u8() % 3;
  const std::string_view bytes = in.rest();

  if (mode == 0) {
    Result<State> state = State::decode(bytes);
    if (state.ok()) exercise(state.value());
    return 0;
  }

  const std::string dir = fuzz::fresh_dir("snapshots");
  std::vector<std::string> warnings;
  if (mode == 1) {
    fuzz::ByteReader file(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    std::string name;
    if (file.u8() & 1) {
      for (char c : file.bytes(20)) name += static_cast<char>('0' + static_cast<uint8_t>(c) % 10);
      name.resize(20, '0');
      name += ".snap";
    }
    const std::string_view content = file.rest();
    if (name.empty()) name = snapshot_name(header_seq(content));
    fuzz::write_file(dir + "/" + name, content);
    auto loaded = load_newest_snapshot(dir, UINT64_MAX, &warnings);
    FUZZ_CHECK(loaded.ok(),
               "load_newest_snapshot failed (a damaged snapshot is skipped, not an error): " +
                   loaded.status().to_string());
    // One warning per snapshot skipped (a name over 2^64 - 1 is not a snapshot's: no warning).
    FUZZ_CHECK(loaded.value().has_value() || warnings.size() == list_snapshots(dir).size(),
               "a skipped snapshot without a warning");
    if (loaded.value()) exercise(loaded.value()->state);
    return 0;
  }

  Result<State> direct = State::decode(bytes);
  const uint64_t seq = direct.ok() ? direct.value().last_seq() : 1;
  auto written = write_snapshot(dir, seq, std::string(bytes));
  FUZZ_CHECK(written.ok(), "write_snapshot failed: " + written.status().to_string());
  auto loaded = load_newest_snapshot(dir, UINT64_MAX, &warnings);
  FUZZ_CHECK(loaded.ok(), "load_newest_snapshot failed: " + loaded.status().to_string());
  FUZZ_CHECK(loaded.value().has_value() == direct.ok(),
             "a written snapshot loads differently from State::decode of its payload");
  if (loaded.value()) {
    FUZZ_CHECK(loaded.value()->state.encode() == direct.value().encode(),
               "a written snapshot loads to another state");
    exercise(loaded.value()->state);
  }
  return 0;
}
