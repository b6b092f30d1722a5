// The event catalog: strict parser, canonical serializer and generated JSON Schemas.
//
// Fixtures (tests/data/fixtures/): valid_events.jsonl (one event a line), invalid_events.jsonl
// (one {"why","expect_path","schema_can_tell","expect_error"?,"event"} a line, "event" last)
// and invalid_raw.txt (lines no JSON wrapper can hold: bad UTF-8, bad syntax, duplicate keys).
// The oracle for the schemas is Debian's python3-jsonschema, run by validate_events.py; when
// /usr/bin/python3 or the module is missing those checks WARN and return.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "event_fields.h"  // private: the random generator walks the parser's own tables
#include "trove/data/events.h"

namespace {

namespace fs = std::filesystem;
using trove::Event;
using trove::EventParser;
using trove::EventType;
using trove::Result;
using Json = nlohmann::ordered_json;

// ---- fixtures ----------------------------------------------------------------------------

struct Line {
  int number = 0;  // 1-based, as editors and validate_events.py count
  std::string text;
};

std::string fixture_path(const std::string& name) {
  return std::string(TROVE_SOURCE_DIR) + "/tests/data/fixtures/" + name;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const fs::path& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary);
  out << data;
  REQUIRE(out.good());
}

// Every non-blank line, the way validate_events.py reads them.
std::vector<Line> read_lines(const std::string& path) {
  const std::string data = read_file(path);
  std::vector<Line> lines;
  size_t start = 0;
  for (int number = 1; start < data.size(); ++number) {
    size_t end = data.find('\n', start);
    if (end == std::string::npos) end = data.size();
    std::string text = data.substr(start, end - start);
    if (text.find_first_not_of(" \t\r") != std::string::npos) lines.push_back({number, text});
    start = end + 1;
  }
  return lines;
}

struct InvalidCase {
  int line = 0;
  std::string why;
  std::string expect_path;
  std::optional<std::string> expect_error;  // the whole Status::to_string()
  bool schema_can_tell = true;
  std::string event;  // the event's text exactly as written in the fixture
};

// The event is fed to the parser as written (3.0 stays 3.0, 2^64 stays 2^64), so it is cut
// out of the line rather than re-serialized; the cut must parse to the wrapper's "event".
std::vector<InvalidCase> invalid_cases() {
  std::vector<InvalidCase> cases;
  for (const Line& l : read_lines(fixture_path("invalid_events.jsonl"))) {
    INFO("invalid_events.jsonl:" << l.number);
    const Json wrapper = Json::parse(l.text);
    InvalidCase c;
    c.line = l.number;
    c.why = wrapper.at("why").get<std::string>();
    c.expect_path = wrapper.at("expect_path").get<std::string>();
    c.schema_can_tell = wrapper.at("schema_can_tell").get<bool>();
    if (wrapper.contains("expect_error")) {
      c.expect_error = wrapper["expect_error"].get<std::string>();
    }
    const size_t close = l.text.find_last_of('}');
    for (size_t at = l.text.find("\"event\":"); at != std::string::npos && c.event.empty();
         at = l.text.find("\"event\":", at + 1)) {
      std::string candidate = l.text.substr(at + 8, close - at - 8);
      if (Json::accept(candidate) && Json::parse(candidate) == wrapper.at("event")) {
        c.event = candidate;
      }
    }
    REQUIRE_FALSE(c.event.empty());  // "event" must be the wrapper's last member
    cases.push_back(std::move(c));
  }
  return cases;
}

// ---- the independent validator ---------------------------------------------------------------

// A scratch directory, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = fs::temp_directory_path() /
            ("trove_events_test_" + std::to_string(::getpid()) + "_" + std::to_string(rd()));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Debian's interpreter: the `python3` on PATH may be a pyenv build without python3-jsonschema.
constexpr const char* kPython = "/usr/bin/python3";

void write_schemas(const fs::path& dir) {
  for (EventType t : trove::all_event_types()) {
    write_file(dir / (std::string(trove::event_type_name(t)) + ".json"),
               trove::event_schema_json(t));
  }
  write_file(dir / "index.json", trove::event_schema_index_json());
}

// Runs validate_events.py over `args` (e.g. "--valid 'x.jsonl'") with the schemas in
// dir/schemas. Returns nullopt, after a WARN, when the validator cannot run on this machine.
std::optional<Json> run_validator(const TempDir& dir, const std::string& args) {
  if (!fs::exists(kPython)) {
    WARN("schema check not run: " << kPython << " is missing (apt-get install python3 "
                                  << "python3-jsonschema)");
    return std::nullopt;
  }
  const fs::path schemas = dir.path() / "schemas";
  if (!fs::exists(schemas)) {
    fs::create_directories(schemas);
    write_schemas(schemas);
  }
  const fs::path out = dir.path() / "report.json";
  const std::string script = std::string(TROVE_SOURCE_DIR) + "/tests/data/validate_events.py";
  const std::string cmd = std::string(kPython) + " -I '" + script + "' --schemas '" +
                          schemas.string() + "' " + args + " > '" + out.string() + "'";
  const int rc = std::system(cmd.c_str());
  const int code = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  if (code == 77) {
    WARN("schema check not run: " << read_file(out.string())
                                  << " (apt-get install python3-jsonschema)");
    return std::nullopt;
  }
  INFO("command: " << cmd);
  REQUIRE((code == 0 || code == 1));  // 1: some expectation failed, reported per line
  return Json::parse(read_file(out.string()));
}

// line number -> the validator's verdict for that line of the file passed in `mode`.
std::map<int, Json> verdicts(const Json& report, const std::string& mode) {
  std::map<int, Json> by_line;
  for (const Json& file : report.at("files")) {
    if (file.at("mode") != mode) continue;
    for (const Json& r : file.at("results")) by_line[r.at("line").get<int>()] = r;
  }
  return by_line;
}

// For the shell. Built by appending: GCC 12 warns falsely (-Wrestrict) on "'" + s + "'".
std::string quote(const fs::path& p) {
  std::string q(1, '\'');
  q += p.string();
  q += '\'';
  return q;
}

// ---- helpers ---------------------------------------------------------------------------------

// A path the way Status::path() spells it: "user.visitor_id", "lines[2].quantity".
std::string join(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

// ---- random events, generated from the field tables ----------------------------------------

using trove::fields::Spec;

class Gen {
 public:
  explicit Gen(uint64_t seed) : rng_(seed) {}

  size_t below(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  bool chance(double p) { return std::bernoulli_distribution(p)(rng_); }

  // Mostly short, sometimes exactly at a bound.
  size_t length(size_t min, size_t max) {
    if (chance(0.05)) return max;
    if (chance(0.1)) return min;
    return min + below(std::min<size_t>(max - min, 16) + 1);
  }

  // Valid UTF-8 of exactly `n` code points: ASCII with JSON's specials, controls, and 2-, 3-
  // and 4-byte sequences (never surrogates, which UTF-8 cannot hold).
  std::string text(size_t n) {
    std::string s;
    for (size_t i = 0; i < n; ++i) append_utf8(s, code_point());
    return s;
  }
  std::string text(const Spec& spec) {
    if (spec.upper3) {
      std::string s;
      for (int i = 0; i < 3; ++i) s.push_back(static_cast<char>('A' + below(26)));
      return s;
    }
    return text(length(spec.min_len, spec.max_len));
  }

  double number(double min, double max) {
    switch (below(8)) {
      case 0: return min;
      case 1: return max;
      case 2: return std::clamp(0.0, min, max);
      case 3: return std::clamp(-0.0, min, max);
      case 4: return std::clamp(5e-324, min, max);  // the smallest subnormal
      case 5: return std::round(std::uniform_real_distribution<double>(min, max)(rng_));
      case 6: {
        double v = std::round(std::uniform_real_distribution<double>(0, 10000)(rng_)) / 100;
        return std::clamp(min < 0 && chance(0.5) ? -v : v, min, max);
      }
      default: return std::uniform_real_distribution<double>(min, max)(rng_);
    }
  }
  int64_t integer(double min, double max) {
    const auto lo = static_cast<int64_t>(min), hi = static_cast<int64_t>(max);
    if (chance(0.2)) return lo;
    if (chance(0.2)) return hi;
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
  }

 private:
  uint32_t code_point() {
    switch (below(20)) {
      case 0: return static_cast<uint32_t>(below(0x20));  // controls: escaped on output
      case 1: return "\"\\/"[below(3)];
      case 2: {
        static constexpr uint32_t kOdd[] = {0x7F, 0xA0, 0x2028, 0x2029, 0xFEFF, 0xFFFD, 0xFFFF,
                                            0x10FFFF};
        return kOdd[below(std::size(kOdd))];
      }
      case 3:
      case 4:
      case 5: return static_cast<uint32_t>(0x80 + below(0x800 - 0x80));
      case 6:
      case 7:
      case 8: {
        uint32_t c = static_cast<uint32_t>(0x800 + below(0x10000 - 0x800 - 0x800));
        return c >= 0xD800 ? c + 0x800 : c;  // skip the surrogates
      }
      case 9:
      case 10: return static_cast<uint32_t>(0x10000 + below(0x110000 - 0x10000));
      default: return static_cast<uint32_t>(0x20 + below(0x7F - 0x20));
    }
  }
  static void append_utf8(std::string& s, uint32_t c) {
    if (c < 0x80) {
      s.push_back(static_cast<char>(c));
    } else if (c < 0x800) {
      s.push_back(static_cast<char>(0xC0 | (c >> 6)));
      s.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else if (c < 0x10000) {
      s.push_back(static_cast<char>(0xE0 | (c >> 12)));
      s.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
      s.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else {
      s.push_back(static_cast<char>(0xF0 | (c >> 18)));
      s.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
      s.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
      s.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }

  std::mt19937_64 rng_;
};

// One overload per member type; templates are declared first so they find each other.
template <class E>
  requires std::is_enum_v<E>
void generate(Gen& g, E& out, const Spec& spec);
template <class T>
void generate(Gen& g, std::vector<T>& out, const Spec& spec);
template <class T>
void generate(Gen& g, std::optional<T>& out, const Spec& spec);
template <class T>
  requires trove::fields::HasFields<T>
void generate(Gen& g, T& out, const Spec& spec);

void generate(Gen& g, std::string& out, const Spec& spec) { out = g.text(spec); }
void generate(Gen& g, double& out, const Spec& spec) { out = g.number(spec.min, spec.max); }
void generate(Gen& g, int64_t& out, const Spec& spec) { out = g.integer(spec.min, spec.max); }
void generate(Gen& g, bool& out, const Spec&) { out = g.chance(0.5); }

void generate(Gen& g, trove::Attributes& out, const Spec&) {
  using namespace trove::fields;
  const size_t n = g.chance(0.05) ? kMaxAttributes : g.below(6);
  out.clear();
  while (out.size() < n) {
    std::string key = g.text(g.length(1, kMaxAttributeKey));
    trove::AttrValue value;
    switch (g.below(4)) {
      case 0: value = g.text(g.length(0, kMaxAttributeText)); break;
      case 1: value = g.number(-kMaxSafe, kMaxSafe); break;
      case 2: value = g.chance(0.5); break;
      default: {
        std::vector<std::string> list(g.chance(0.05) ? kMaxAttributeList : g.below(4));
        for (auto& s : list) s = g.text(g.length(0, g.chance(0.1) ? kMaxAttributeText : 8));
        value = std::move(list);
      }
    }
    out.insert_or_assign(std::move(key), std::move(value));
  }
}

template <class E>
  requires std::is_enum_v<E>
void generate(Gen& g, E& out, const Spec&) {
  out = static_cast<E>(g.below(trove::fields::EnumNames<E>::names.size()));
}

template <class T>
void generate(Gen& g, std::vector<T>& out, const Spec& spec) {
  // Long lists get short items, so that events stay under ParseLimits::kMaxEventBytes.
  const bool long_list = g.chance(0.05);
  out.resize(long_list ? spec.max_items : g.length(spec.min_items, spec.min_items + 4));
  const Spec item{.min_len = spec.item_min_len,
                  .max_len = long_list ? std::min<uint32_t>(spec.item_max_len, 4)
                                       : spec.item_max_len};
  for (T& v : out) generate(g, v, item);
  if constexpr (trove::fields::HasFields<T>) {
    if (spec.unique_first) {
      // The parser refuses a repeated first field ("the same field as item 0"): keep the first.
      const auto key = std::get<0>(trove::fields::Fields<T>::table).member;
      std::vector<T> distinct;
      for (T& v : out) {
        bool seen = false;
        for (const T& d : distinct) seen = seen || d.*key == v.*key;
        if (!seen) distinct.push_back(std::move(v));
      }
      out = std::move(distinct);
    }
  }
}

template <class T>
void generate(Gen& g, std::optional<T>& out, const Spec& spec) {
  if (g.chance(0.5)) {
    generate(g, out.emplace(), spec);
  } else {
    out.reset();
  }
}

template <class T>
  requires trove::fields::HasFields<T>
void generate(Gen& g, T& out, const Spec&) {
  trove::fields::for_each_field<T>(
      [&](const auto& f, size_t) { generate(g, out.*f.member, f.spec); });
}

template <size_t I>
Event random_event(Gen& g) {
  using Body = std::variant_alternative_t<I, trove::EventBody>;
  Body body{};
  generate(g, body, Spec{});
  if constexpr (std::is_same_v<Body, trove::UserForget>) {
    if (!body.user_id && !body.visitor_id) body.visitor_id = "v-" + g.text(3);
  }
  Event e;
  generate(g, e.event_id, trove::fields::kEventId);
  generate(g, e.timestamp_ms, trove::fields::kTimestamp);
  e.body = std::move(body);
  return e;
}

template <size_t... I>
constexpr auto random_event_table(std::index_sequence<I...>) {
  return std::array<Event (*)(Gen&), sizeof...(I)>{&random_event<I>...};
}
constexpr auto kRandomEvent =
    random_event_table(std::make_index_sequence<trove::kEventTypeCount>());

// ---- mutations of the valid fixtures, judged against the schema's structure -----------------

struct Mutation {
  enum class Expect {
    kReject,            // a required field went missing or an unknown one appeared: at `path`
    kAccept,            // an optional field went missing
    kAcceptOrRejectAt,  // ... but the schema's anyOf may need it: then rejected at `path`
    kAgree,             // a value was replaced: only the schema knows; a rejection names a
                        // field at or under `path`
  };
  std::string what;
  std::string json;
  Expect expect;
  std::string path;
};

constexpr const char* kUnknown = "zz_unknown_ü";

// Values of every JSON kind and the edges of Trove's rules, to put in place of a field's.
const std::vector<Json>& replacements() {
  static const std::vector<Json> values = [] {
    std::vector<Json> v;
    for (const char* text :
         {"null", "true", "false", "0", "-1", "1", "1.5", "3.0", "-0.0", "1e300",
          "9007199254740993", "\"\"", "\"x\"", "\"5\"", "\"USD\"", "\"similar\"", "\"item\"",
          "[]", "[\"\"]", "[\"x\"]", "[1]", "{}", "{\"a\":1}", "{\"visitor_id\":\"v\"}",
          "[{\"item_id\":\"x\",\"quantity\":1}]"}) {
      v.push_back(Json::parse(text));
    }
    v.emplace_back(std::string(257, 'x'));
    return v;
  }();
  return values;
}

// Walks `value` alongside its object schema: deletes each member, adds an unknown one, and
// when `replace`, puts each of replacements() in place of each member's (and attribute's) value.
void mutate(Json& root, Json& value, const Json& schema, const std::string& path, bool replace,
            std::vector<Mutation>& out) {
  using Expect = Mutation::Expect;
  const Json& props = schema.at("properties");
  const Json required = schema.value("required", Json::array());
  const bool any_of = schema.contains("anyOf");
  std::vector<std::string> keys;
  for (auto it = value.begin(); it != value.end(); ++it) keys.push_back(it.key());
  for (const std::string& key : keys) {
    const std::string at = join(path, key);
    Json saved = value[key];
    value.erase(key);
    if (std::find(required.begin(), required.end(), key) != required.end()) {
      out.push_back({"delete " + at, root.dump(), Expect::kReject, at});
    } else if (any_of) {
      out.push_back({"delete " + at, root.dump(), Expect::kAcceptOrRejectAt, path});
    } else {
      out.push_back({"delete " + at, root.dump(), Expect::kAccept, ""});
    }
    value[key] = std::move(saved);  // ordered_json appends: a full pass restores the order
  }
  value[kUnknown] = 1;
  const std::string unknown = join(path, kUnknown);
  out.push_back({"add " + unknown, root.dump(), Expect::kReject, unknown});
  value.erase(kUnknown);

  auto replace_each = [&](Json& slot, const std::string& at) {
    if (!replace) return;
    const Json saved = slot;
    for (const Json& r : replacements()) {
      slot = r;
      out.push_back({"replace " + at + " with " + r.dump().substr(0, 40), root.dump(),
                     Expect::kAgree, at});
    }
    slot = saved;
  };
  for (const std::string& key : keys) {
    const std::string at = join(path, key);
    replace_each(value[key], at);
    if (!props.contains(key)) continue;
    const Json& sub = props[key];
    Json& v = value[key];
    if (v.is_object() && sub.contains("properties")) {
      mutate(root, v, sub, at, replace, out);
    } else if (v.is_object() && sub.contains("additionalProperties")) {  // attributes
      size_t n = 0;
      for (auto it = v.begin(); it != v.end() && n < 8; ++it, ++n) {
        replace_each(it.value(), join(at, it.key()));
      }
    } else if (v.is_array() && sub.contains("items") && sub["items"].contains("properties")) {
      for (size_t i = 0; i < v.size() && i < 3; ++i) {
        mutate(root, v[i], sub["items"], at + "[" + std::to_string(i) + "]", replace, out);
      }
    }
  }
}

// ---- tests -----------------------------------------------------------------------------------

TEST_CASE("every valid fixture parses and survives a canonical round trip", "[events]") {
  const auto lines = read_lines(fixture_path("valid_events.jsonl"));
  REQUIRE(lines.size() >= trove::kEventTypeCount);
  EventParser parser;
  for (const Line& l : lines) {
    INFO("valid_events.jsonl:" << l.number << ": " << l.text.substr(0, 200));
    auto first = parser.parse(l.text);
    INFO("error: " << first.status().to_string());
    REQUIRE(first.ok());
    const std::string canonical = trove::serialize_event(first.value());
    INFO("canonical: " << canonical.substr(0, 200));
    auto second = parser.parse(canonical);
    REQUIRE(second.ok());
    CHECK(second.value() == first.value());
    CHECK(trove::serialize_event(second.value()) == canonical);
    CHECK(canonical.rfind("{\"type\":\"" + std::string(trove::event_type_name(first->type())) +
                              "\"",
                          0) == 0);
  }
}

TEST_CASE("the valid fixtures cover every event type", "[events]") {
  std::set<EventType> seen;
  EventParser parser;
  for (const Line& l : read_lines(fixture_path("valid_events.jsonl"))) {
    auto e = parser.parse(l.text);
    if (e.ok()) seen.insert(e->type());
  }
  for (EventType t : trove::all_event_types()) {
    INFO(trove::event_type_name(t));
    CHECK(seen.count(t) == 1);
  }
}

TEST_CASE("every invalid fixture is rejected naming the field", "[events]") {
  const auto cases = invalid_cases();
  REQUIRE(cases.size() >= 60);
  EventParser parser;
  for (const InvalidCase& c : cases) {
    INFO("invalid_events.jsonl:" << c.line << ": " << c.why);
    auto r = parser.parse(c.event);
    REQUIRE_FALSE(r.ok());
    INFO("got: " << r.status().to_string());
    CHECK(r.status().code() == trove::StatusCode::kInvalidArgument);
    CHECK(r.status().path() == c.expect_path);
    CHECK_FALSE(r.status().message().empty());
    if (c.expect_error) CHECK(r.status().to_string() == *c.expect_error);
  }
}

TEST_CASE("every raw invalid line is rejected", "[events]") {
  const auto lines = read_lines(fixture_path("invalid_raw.txt"));
  EventParser parser;
  int cases = 0;
  std::string comment;
  for (const Line& l : lines) {
    if (l.text.rfind('#', 0) == 0) {
      comment = l.text;
      continue;
    }
    INFO("invalid_raw.txt:" << l.number << ": " << comment);
    REQUIRE_FALSE(comment.empty());  // every case documents itself
    auto r = parser.parse(l.text);
    REQUIRE_FALSE(r.ok());
    INFO("got: " << r.status().to_string());
    CHECK_FALSE(r.status().message().empty());
    const size_t at = comment.rfind("[path: ");
    REQUIRE(at != std::string::npos);
    CHECK(r.status().path() == comment.substr(at + 7, comment.size() - at - 8));
    comment.clear();
    ++cases;
  }
  CHECK(cases >= 30);
}

TEST_CASE("the parser agrees with the generated JSON Schemas on every fixture",
          "[events][schema]") {
  TempDir dir;
  fs::copy_file(fixture_path("valid_events.jsonl"), dir.path() / "valid_events.jsonl");
  fs::copy_file(fixture_path("invalid_events.jsonl"), dir.path() / "invalid_events.jsonl");
  auto report = run_validator(dir, "--valid " + quote(dir.path() / "valid_events.jsonl") +
                                       " --invalid " + quote(dir.path() / "invalid_events.jsonl"));
  if (!report) return;
  INFO("failures: " << report->at("failures").dump(2));
  CHECK(report->at("schemas").at("errors").empty());
  CHECK(report->at("schemas").at("count") == trove::kEventTypeCount);

  EventParser parser;
  const auto valid = verdicts(*report, "valid");
  const auto lines = read_lines(fixture_path("valid_events.jsonl"));
  CHECK(valid.size() == lines.size());
  for (const Line& l : lines) {
    INFO("valid_events.jsonl:" << l.number);
    REQUIRE(valid.count(l.number) == 1);
    CHECK(parser.parse(l.text).ok());
    INFO("schema: " << valid.at(l.number).dump());
    CHECK(valid.at(l.number).at("valid") == true);
  }

  const auto invalid = verdicts(*report, "invalid");
  const auto cases = invalid_cases();
  CHECK(invalid.size() == cases.size());
  for (const InvalidCase& c : cases) {
    INFO("invalid_events.jsonl:" << c.line << ": " << c.why);
    REQUIRE(invalid.count(c.line) == 1);
    CHECK_FALSE(parser.parse(c.event).ok());
    // schema_can_tell=false must be honest too: then the schema accepts what we refuse.
    CHECK(invalid.at(c.line).at("valid") == !c.schema_can_tell);
  }
  CHECK(report->at("ok") == true);
}

TEST_CASE("random events of every type round-trip and satisfy their schema", "[events][schema]") {
  constexpr int kPerType = 100;
  const uint64_t seed = 0x7e57'0000ull + Catch::rngSeed();
  INFO("seed " << seed << " (vary with --rng-seed)");
  Gen gen(seed);
  EventParser parser;
  std::string batch;
  int oversized = 0, count = 0;
  for (size_t t = 0; t < trove::kEventTypeCount; ++t) {
    for (int i = 0; i < kPerType; ++i) {
      const Event e = kRandomEvent[t](gen);
      const std::string json = trove::serialize_event(e);
      if (json.size() > trove::ParseLimits::kMaxEventBytes) {
        ++oversized;  // legal field by field, refused as a whole: see the 256 KiB test
        continue;
      }
      INFO("event: " << json.substr(0, 300));
      auto back = parser.parse(json);
      INFO("error: " << back.status().to_string());
      REQUIRE(back.ok());
      REQUIRE(back.value() == e);
      REQUIRE(trove::serialize_event(back.value()) == json);
      batch += json;
      batch += '\n';
      ++count;
    }
  }
  CHECK(oversized < count / 100);

  TempDir dir;
  write_file(dir.path() / "random.jsonl", batch);
  auto report = run_validator(dir, "--valid " + quote(dir.path() / "random.jsonl"));
  if (!report) return;
  const auto& failures = report->at("failures");
  INFO("first failures: " << (failures.empty() ? "" : failures[0].dump()));
  CHECK(failures.empty());
  CHECK(verdicts(*report, "valid").size() == static_cast<size_t>(count));
}

TEST_CASE("numbers are written as std::to_chars writes them: the shortest text that parses back",
          "[events]") {
  // The serializer has a fast path for prices and quantities (up to 4 decimals, 0.001 to
  // 100,000) and must give to_chars' exact text on both sides of each of its bounds.
  std::mt19937_64 rng(0x9e1ce);
  std::vector<double> values = {0.001, 0.0012, 0.00099, 0.0001, 0.1, 0.3, 0.85, 2.55, 1.0 / 3,
                                99999.9999, 99999.99995, 99999, 100000, 10000, 1e15, 1e-7,
                                123456.75, 5e-324, 1.7976931348623157e308, 0.30000000000000004};
  std::uniform_real_distribution<double> any(0, 2e5);
  for (int i = 0; i < 20000; ++i) {
    values.push_back(static_cast<double>(rng() % 1000000) / 100);
    values.push_back(static_cast<double>(rng() % 1000000) / 10000);
    values.push_back(any(rng));
  }
  EventParser parser;
  for (double v : values) {
    for (double signed_v : {v, -v}) {
      trove::AddToCart cart;
      cart.user.visitor_id = "v";
      cart.item_id = "i";
      cart.price = signed_v;
      Event e;
      e.body = cart;
      const std::string json = trove::serialize_event(e);
      char buf[32];
      const auto r = std::to_chars(buf, buf + sizeof buf, signed_v);
      CAPTURE(signed_v, json);
      CHECK(json.find("\"price\":" + std::string(buf, r.ptr) + "}") != std::string::npos);
      if (signed_v < 0 || signed_v > 1e12) continue;  // outside the prices the parser takes
      auto back = parser.parse(json);
      REQUIRE(back.ok());
      CHECK(std::get<trove::AddToCart>(back->body).price == signed_v);
    }
  }
}

TEST_CASE("mutated fixtures are refused naming the field, exactly when the schema refuses them",
          "[events][schema]") {
  std::vector<Mutation> all;
  for (const Line& l : read_lines(fixture_path("valid_events.jsonl"))) {
    Json event = Json::parse(l.text);
    const auto type = trove::event_type_from_name(event.at("type").get<std::string>());
    REQUIRE(type.has_value());
    const Json schema = Json::parse(trove::event_schema_json(*type));
    // Replacing values in the long boundary fixtures would only re-check the same rules, slowly.
    mutate(event, event, schema, "", l.text.size() <= 2048, all);
  }

  using Expect = Mutation::Expect;
  EventParser parser;
  std::map<Expect, int> count;
  for (const Mutation& m : all) {
    INFO(m.what << ": " << m.json.substr(0, 300));
    auto r = parser.parse(m.json);
    INFO("got: " << r.status().to_string());
    ++count[m.expect];
    switch (m.expect) {
      case Expect::kReject: {
        REQUIRE_FALSE(r.ok());
        CHECK(r.status().path() == m.path);
        const std::string field = m.path.substr(m.path.find_last_of(".]") + 1);
        CHECK(r.status().to_string().find(field) != std::string::npos);
        break;
      }
      case Expect::kAccept: CHECK(r.ok()); break;
      case Expect::kAcceptOrRejectAt:
        if (!r.ok()) CHECK(r.status().path() == m.path);
        break;
      case Expect::kAgree:
        // A replaced value is the only error, so the rejection names it or a part of it.
        if (!r.ok()) {
          const std::string& p = r.status().path();
          CHECK(p.rfind(m.path, 0) == 0);
          CHECK((p.size() == m.path.size() || p[m.path.size()] == '.' ||
                 p[m.path.size()] == '['));
        }
        break;
    }
  }
  CHECK(count[Expect::kReject] > 300);
  CHECK(count[Expect::kAccept] > 100);
  CHECK(count[Expect::kAgree] > 5000);

  // The schema must reach the parser's verdict on every mutation.
  std::string batch;
  for (const Mutation& m : all) batch += m.json + "\n";
  TempDir dir;
  write_file(dir.path() / "mutations.jsonl", batch);
  auto report = run_validator(dir, "--judge " + quote(dir.path() / "mutations.jsonl"));
  if (!report) return;
  const auto judged = verdicts(*report, "judge");
  REQUIRE(judged.size() == all.size());
  int replaced_valid = 0;
  for (size_t i = 0; i < all.size(); ++i) {
    const bool ours = parser.parse(all[i].json).ok();
    INFO(all[i].what << ": " << all[i].json.substr(0, 300));
    INFO("ours: " << ours << ", schema: " << judged.at(static_cast<int>(i) + 1).dump());
    CHECK(judged.at(static_cast<int>(i) + 1).at("valid") == ours);
    replaced_valid += all[i].expect == Expect::kAgree && ours;
  }
  CHECK(replaced_valid > 100);  // the replacements are not all trivially wrong
}

TEST_CASE("the schema index lists every event type once", "[events][schema]") {
  const Json index = Json::parse(trove::event_schema_index_json());
  std::set<std::string> listed;
  for (const Json& e : index.at("events")) {
    CHECK(e.at("schema") == e.at("type").get<std::string>() + ".json");
    listed.insert(e.at("type").get<std::string>());
  }
  CHECK(listed.size() == trove::kEventTypeCount);
  for (EventType t : trove::all_event_types()) {
    CHECK(listed.count(std::string(trove::event_type_name(t))) == 1);
    const Json schema = Json::parse(trove::event_schema_json(t));
    CHECK(schema.at("$schema") == "https://json-schema.org/draft/2020-12/schema");
    CHECK(schema.at("properties").at("type").at("const") == trove::event_type_name(t));
  }
}

}  // namespace
