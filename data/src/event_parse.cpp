// Strict JSON -> Event, driven by the field tables in event_fields.h.
//
// simdjson's DOM parser validates UTF-8 and JSON syntax at several GB/s and enforces the depth
// limit; this file then walks the tape once, matching keys against the event's table. Error
// paths are built only when an error occurs (a stack of PathNode, no allocation otherwise).
#include <simdjson.h>

#include <charconv>
#include <cmath>
#include <cstring>

#include "event_fields.h"
#include "trove/data/events.h"

namespace trove {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;
using namespace fields;

// A link in the path from the root to the value being parsed.
struct PathNode {
  const PathNode* parent = nullptr;
  std::string_view key;   // object member, or empty for an array element
  int64_t index = -1;     // array element index

  std::string str() const {
    std::string s = parent ? parent->str() : std::string();
    if (index >= 0) {
      s += '[';
      s += std::to_string(index);
      s += ']';
    } else if (!key.empty()) {
      if (!s.empty()) s += '.';
      s += key;
    }
    return s;
  }
};

const char* kind_name(element_type t) {
  switch (t) {
    case element_type::ARRAY: return "array";
    case element_type::OBJECT: return "object";
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE: return "number";
    case element_type::STRING: return "string";
    case element_type::BOOL: return "boolean";
    case element_type::NULL_VALUE: return "null";
  }
  return "value";
}

Status error(const PathNode& p, std::string msg) { return Status::invalid(std::move(msg), p.str()); }

Status wrong_type(const PathNode& p, const char* expected, element el) {
  return error(p, std::string("expected ") + expected + ", got " + kind_name(el.type()));
}

// Code points in valid UTF-8 (simdjson has validated it): bytes that are not continuations.
size_t code_points(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// Shortest round-trip text: "1.5" and "-1e-300", not std::to_string's "1.500000", "-0.000000".
std::string fmt_number(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e18) return std::to_string(static_cast<int64_t>(v));
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

Status check_length(std::string_view s, uint32_t min_len, uint32_t max_len, const PathNode& p) {
  // Bytes bound code points from above and at most 4 bytes make one, so most strings need no
  // count at all.
  if (s.size() >= 4 * size_t{min_len} && s.size() <= max_len) return {};
  size_t n = code_points(s);
  if (n < min_len) {
    return error(p, min_len == 1 ? "expected a non-empty string"
                                 : "expected at least " + std::to_string(min_len) + " characters");
  }
  if (n > max_len) {
    return error(p, "string of " + std::to_string(n) + " characters is over the limit of " +
                        std::to_string(max_len));
  }
  return {};
}

// ---- one function per member type ------------------------------------------------------------

Status parse_value(element el, std::string& out, const Spec& spec, const PathNode& p) {
  std::string_view s;
  if (el.get_string().get(s) != simdjson::SUCCESS) return wrong_type(p, "string", el);
  TROVE_RETURN_IF_ERROR(check_length(s, spec.min_len, spec.max_len, p));
  if (spec.upper3) {
    bool ok = s.size() == 3;
    for (char c : s) ok = ok && c >= 'A' && c <= 'Z';
    if (!ok) return error(p, "expected three capital letters (ISO 4217), got \"" + std::string(s) + "\"");
  }
  out.assign(s);
  return {};
}

Status out_of_range(const PathNode& p, const char* what, const Spec& spec,
                    const std::string& got) {
  return error(p, std::string("expected ") + what + " from " + fmt_number(spec.min) + " to " +
                      fmt_number(spec.max) + ", got " + got);
}

// Any JSON number within [min, max]; integers above 2^53 are refused rather than rounded.
// Every Spec bound lies within +-2^53, so an integer token beyond that is out of range; it
// must be caught before the conversion to double, which would round 2^53 + 1 down to 2^53.
Status parse_number(element el, double& out, const Spec& spec, const PathNode& p,
                    const char* what = "a number") {
  constexpr auto kMaxSafeInt = static_cast<int64_t>(kMaxSafe);
  double v;
  switch (el.type()) {
    case element_type::INT64: {
      const auto i = int64_t(el);
      if (i > kMaxSafeInt || i < -kMaxSafeInt) {
        return out_of_range(p, what, spec, std::to_string(i));
      }
      v = static_cast<double>(i);
      break;
    }
    case element_type::UINT64: {
      const auto u = uint64_t(el);
      if (u > static_cast<uint64_t>(kMaxSafeInt)) {
        return out_of_range(p, what, spec, std::to_string(u));
      }
      v = static_cast<double>(u);
      break;
    }
    case element_type::DOUBLE: v = double(el); break;
    default: return wrong_type(p, "number", el);
  }
  if (!(v >= spec.min && v <= spec.max)) return out_of_range(p, what, spec, fmt_number(v));
  out = v == 0 ? 0 : v;
  return {};
}

Status parse_value(element el, double& out, const Spec& spec, const PathNode& p) {
  return parse_number(el, out, spec, p);
}

// JSON Schema's "integer": a number with no fractional part (so 3.0 is 3, 3.5 is refused).
Status parse_value(element el, int64_t& out, const Spec& spec, const PathNode& p) {
  if (el.type() == element_type::INT64) {
    int64_t v = int64_t(el);
    if (static_cast<double>(v) < spec.min || static_cast<double>(v) > spec.max) {
      return error(p, "expected an integer from " + fmt_number(spec.min) + " to " +
                          fmt_number(spec.max) + ", got " + std::to_string(v));
    }
    out = v;
    return {};
  }
  double d;
  if (!el.is_number()) return wrong_type(p, "integer", el);
  TROVE_RETURN_IF_ERROR(parse_number(el, d, spec, p, "an integer"));
  if (d != std::floor(d)) return error(p, "expected an integer, got " + fmt_number(d));
  out = static_cast<int64_t>(d);
  return {};
}

Status parse_value(element el, bool& out, const Spec&, const PathNode& p) {
  if (el.get_bool().get(out) != simdjson::SUCCESS) return wrong_type(p, "boolean", el);
  return {};
}

template <class E>
  requires std::is_enum_v<E>
Status parse_value(element el, E& out, const Spec&, const PathNode& p) {
  std::string_view s;
  if (el.get_string().get(s) != simdjson::SUCCESS) return wrong_type(p, "string", el);
  const auto& names = EnumNames<E>::names;
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == s) {
      out = static_cast<E>(i);
      return {};
    }
  }
  std::string msg = "expected one of ";
  for (size_t i = 0; i < names.size(); ++i) msg += (i ? ", " : "") + std::string(names[i]);
  return error(p, msg + "; got \"" + std::string(s.substr(0, 64)) + "\"");
}

Status parse_value(element el, Attributes& out, const Spec&, const PathNode& p) {
  object obj;
  if (el.get_object().get(obj) != simdjson::SUCCESS) return wrong_type(p, "object", el);
  out.clear();
  for (auto kv : obj) {
    PathNode kp{&p, kv.key};
    TROVE_RETURN_IF_ERROR(check_length(kv.key, 1, kMaxAttributeKey, kp));
    if (out.size() >= kMaxAttributes) {
      return error(p, "more than " + std::to_string(kMaxAttributes) + " attributes");
    }
    AttrValue v;
    element val = kv.value;
    switch (val.type()) {
      case element_type::STRING: {
        std::string s;
        TROVE_RETURN_IF_ERROR(parse_value(val, s, Spec{.max_len = kMaxAttributeText}, kp));
        v = std::move(s);
        break;
      }
      case element_type::INT64:
      case element_type::UINT64:
      case element_type::DOUBLE: {
        double d = 0;
        TROVE_RETURN_IF_ERROR(parse_number(val, d, Spec{}, kp));
        v = d;
        break;
      }
      case element_type::BOOL: v = bool(val); break;
      case element_type::ARRAY: {
        std::vector<std::string> list;
        int64_t i = 0;
        for (element item : simdjson::dom::array(val)) {
          PathNode ip{&kp, {}, i++};
          if (list.size() >= kMaxAttributeList) {
            return error(kp, "array of more than " + std::to_string(kMaxAttributeList) + " items");
          }
          TROVE_RETURN_IF_ERROR(parse_value(item, list.emplace_back(),
                                            Spec{.min_len = 0, .max_len = kMaxAttributeText}, ip));
        }
        v = std::move(list);
        break;
      }
      default:
        return wrong_type(kp, "string, number, boolean or array of strings", val);
    }
    if (!out.emplace(std::string(kv.key), std::move(v)).second) {
      return error(kp, "duplicate attribute");
    }
  }
  return {};
}

template <class T>
  requires HasFields<T>
Status parse_value(element el, T& out, const Spec& spec, const PathNode& p);

template <class T>
Status parse_value(element el, std::vector<T>& out, const Spec& spec, const PathNode& p) {
  simdjson::dom::array arr;
  if (el.get_array().get(arr) != simdjson::SUCCESS) return wrong_type(p, "array", el);
  const size_t n = arr.size();
  if (n < spec.min_items) return error(p, "expected at least " + std::to_string(spec.min_items) + " item(s)");
  if (n > spec.max_items) {
    return error(p, "array of " + std::to_string(n) + " items is over the limit of " +
                        std::to_string(spec.max_items));
  }
  out.clear();
  out.reserve(n);
  const Spec item_spec{.min_len = spec.item_min_len, .max_len = spec.item_max_len};
  int64_t i = 0;
  for (element item : arr) {
    PathNode ip{&p, {}, i++};
    TROVE_RETURN_IF_ERROR(parse_value(item, out.emplace_back(), item_spec, ip));
  }
  if constexpr (HasFields<T>) {
    if (spec.unique_first) {
      const auto& key = std::get<0>(Fields<T>::table);
      for (size_t j = 1; j < out.size(); ++j) {
        for (size_t k = 0; k < j; ++k) {
          if (out[j].*key.member == out[k].*key.member) {
            return error(PathNode{&p, {}, static_cast<int64_t>(j)},
                         "the same " + std::string(key.name) + " as item " + std::to_string(k));
          }
        }
      }
    }
  }
  return {};
}

template <class T>
Status parse_value(element el, std::optional<T>& out, const Spec& spec, const PathNode& p) {
  out.emplace();
  return parse_value(el, *out, spec, p);
}

template <class M>
constexpr bool is_optional(const std::optional<M>*) { return true; }
template <class M>
constexpr bool is_optional(const M*) { return false; }

// Walks an object's members against T's table. `extra(key, value, &status)` may claim keys that
// are not in the table (the event header) and returns whether it did.
template <class T, class Extra>
Status parse_fields(object obj, T& out, const PathNode& p, Extra&& extra) {
  static_assert(kFieldCount<T> <= 64);
  uint64_t seen = 0;
  for (auto kv : obj) {
    Status st;
    if (extra(kv.key, kv.value, &st)) {
      if (!st.ok()) return st;
      continue;
    }
    int found = -1;
    for_each_field<T>([&](const auto& f, size_t i) {
      if (found >= 0 || f.name != kv.key) return;
      found = static_cast<int>(i);
      if (seen & (1ull << i)) return;
      PathNode fp{&p, f.name};
      st = parse_value(kv.value, out.*f.member, f.spec, fp);
    });
    PathNode kp{&p, kv.key};
    if (found < 0) return error(kp, "unknown field");
    if (seen & (1ull << found)) return error(kp, "duplicate field");
    seen |= 1ull << found;
    if (!st.ok()) return st;
  }
  Status missing;
  for_each_field<T>([&](const auto& f, size_t i) {
    if (!missing.ok() || (seen & (1ull << i))) return;
    if (!is_optional(&(out.*f.member))) missing = error(PathNode{&p, f.name}, "required field is missing");
  });
  TROVE_RETURN_IF_ERROR(missing);
  const auto& any = AnyOf<T>::names;
  if (!any.empty()) {
    bool present = false;
    for_each_field<T>([&](const auto& f, size_t i) {
      for (auto n : any) present = present || (f.name == n && (seen & (1ull << i)));
    });
    if (!present) {
      std::string msg = "expected at least one of";
      for (auto n : any) msg += " " + std::string(n);
      return error(p, msg);
    }
  }
  return {};
}

template <class T>
  requires HasFields<T>
Status parse_value(element el, T& out, const Spec&, const PathNode& p) {
  object obj;
  if (el.get_object().get(obj) != simdjson::SUCCESS) return wrong_type(p, "object", el);
  return parse_fields(obj, out, p, [](std::string_view, element, Status*) { return false; });
}

// ---- events ----------------------------------------------------------------------------------

template <class T>
Status parse_body(object obj, Event& ev) {
  const PathNode root;
  bool seen_type = false, seen_id = false, seen_ts = false;
  auto header = [&](std::string_view key, element val, Status* st) {
    if (key == "type") {
      if (seen_type) *st = error(PathNode{&root, key}, "duplicate field");
      seen_type = true;
      return true;
    }
    if (key == "event_id") {
      *st = seen_id ? error(PathNode{&root, key}, "duplicate field")
                    : parse_value(val, ev.event_id, kEventId, PathNode{&root, key});
      seen_id = true;
      return true;
    }
    if (key == "timestamp") {
      *st = seen_ts ? error(PathNode{&root, key}, "duplicate field")
                    : parse_value(val, ev.timestamp_ms, kTimestamp, PathNode{&root, key});
      seen_ts = true;
      return true;
    }
    return false;
  };
  T body{};
  TROVE_RETURN_IF_ERROR(parse_fields(obj, body, root, header));
  ev.body = std::move(body);
  return {};
}

using BodyParser = Status (*)(object, Event&);
constexpr BodyParser kBodyParsers[] = {
#define TROVE_X(name, group) &parse_body<name>,
    TROVE_EVENT_TYPES(TROVE_X)
#undef TROVE_X
};

}  // namespace

struct EventParser::Rep {
  simdjson::dom::parser parser;
  std::string buffer;  // padded copy for parse()
};

EventParser::EventParser() : rep_(std::make_unique<Rep>()) {
  // Depth counts the root; the deepest legal event (attributes list) needs 3.
  if (rep_->parser.allocate(ParseLimits::kMaxEventBytes, ParseLimits::kMaxDepth) !=
      simdjson::SUCCESS) {
    std::abort();  // out of memory at start-up: nothing sensible to do
  }
}
EventParser::~EventParser() = default;

Result<Event> EventParser::parse(std::string_view json) {
  if (json.size() > ParseLimits::kMaxEventBytes) return parse_padded(json);  // refuses by size
  rep_->buffer.assign(json);
  rep_->buffer.append(kPadding, '\0');
  return parse_padded(std::string_view(rep_->buffer.data(), json.size()));
}

Result<Event> EventParser::parse_padded(std::string_view json) {
  static_assert(kPadding >= simdjson::SIMDJSON_PADDING);
  if (json.size() > ParseLimits::kMaxEventBytes) {
    return Status::invalid("event of " + std::to_string(json.size()) +
                           " bytes is over the limit of " +
                           std::to_string(ParseLimits::kMaxEventBytes));
  }
  element root;
  auto err = rep_->parser.parse(json.data(), json.size(), false).get(root);
  if (err != simdjson::SUCCESS) {
    switch (err) {
      case simdjson::UTF8_ERROR: return Status::invalid("invalid UTF-8 in the event");
      case simdjson::DEPTH_ERROR:
        return Status::invalid("JSON nested deeper than " +
                               std::to_string(ParseLimits::kMaxDepth) + " levels");
      case simdjson::EMPTY: return Status::invalid("empty input: expected a JSON event object");
      default:
        return Status::invalid(std::string("invalid JSON: ") + simdjson::error_message(err));
    }
  }
  object obj;
  if (root.get_object().get(obj) != simdjson::SUCCESS) {
    return Status::invalid(std::string("expected an event object, got ") + kind_name(root.type()));
  }
  element type_el;
  if (obj["type"].get(type_el) != simdjson::SUCCESS) {
    return Status::invalid("required field is missing", "type");
  }
  std::string_view type_name;
  if (type_el.get_string().get(type_name) != simdjson::SUCCESS) {
    return Status::invalid(std::string("expected string, got ") + kind_name(type_el.type()), "type");
  }
  auto type = event_type_from_name(type_name);
  if (!type) {
    return Status::invalid("unknown event type \"" + std::string(type_name.substr(0, 64)) +
                               "\" (GET /v1/schemas lists them)",
                           "type");
  }
  Event ev;
  TROVE_RETURN_IF_ERROR(kBodyParsers[static_cast<size_t>(*type) - 1](obj, ev));
  return ev;
}

}  // namespace trove
