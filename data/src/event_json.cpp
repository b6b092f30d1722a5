// Event names, the canonical serializer and the JSON Schema generator: both walk the same
// field tables as the parser (event_fields.h).
#include <nlohmann/json.hpp>

#include "event_fields.h"
#include "json_out.h"
#include "trove/data/events.h"

namespace trove {
namespace {

using namespace fields;
using Json = nlohmann::ordered_json;

constexpr std::string_view kTypeNames[] = {
#define TROVE_X(name, group) #name,
    TROVE_EVENT_TYPES(TROVE_X)
#undef TROVE_X
};
constexpr std::string_view kTypeGroups[] = {
#define TROVE_X(name, group) group,
    TROVE_EVENT_TYPES(TROVE_X)
#undef TROVE_X
};
static_assert(std::size(kTypeNames) == kEventTypeCount);

// ---- canonical serialization -----------------------------------------------------------------

void write(std::string& out, const std::string& v) { json_out::string(out, v); }
void write(std::string& out, int64_t v) { json_out::integer(out, v); }
void write(std::string& out, double v) { json_out::number(out, v); }
void write(std::string& out, bool v) { json_out::boolean(out, v); }

template <class E>
  requires std::is_enum_v<E>
void write(std::string& out, E v) {
  json_out::string(out, EnumNames<E>::names[static_cast<size_t>(v)]);
}

void write(std::string& out, const std::vector<std::string>& v) {
  out.push_back('[');
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out.push_back(',');
    json_out::string(out, v[i]);
  }
  out.push_back(']');
}

void write(std::string& out, const Attributes& attrs) {
  out.push_back('{');
  bool first = true;
  for (const auto& [key, value] : attrs) {  // std::map: sorted keys, canonical
    if (!first) out.push_back(',');
    first = false;
    json_out::string(out, key);
    out.push_back(':');
    std::visit([&](const auto& v) { write(out, v); }, value);
  }
  out.push_back('}');
}

template <class T>
  requires HasFields<T>
void write(std::string& out, const T& v);

template <class T>
  requires HasFields<T>
void write(std::string& out, const std::vector<T>& v) {
  out.push_back('[');
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out.push_back(',');
    write(out, v[i]);
  }
  out.push_back(']');
}

template <class M>
bool present(const std::optional<M>& m) { return m.has_value(); }
template <class M>
bool present(const M&) { return true; }
template <class M>
const M& deref(const std::optional<M>& m) { return *m; }
template <class M>
const M& deref(const M& m) { return m; }

// Members as `"name":value` pairs, comma-separated; `first` tracks the separator.
template <class T>
void write_members(std::string& out, const T& v, bool first) {
  for_each_field<T>([&](const auto& f, size_t) {
    const auto& m = v.*f.member;
    if (!present(m)) return;
    if (!first) out.push_back(',');
    first = false;
    json_out::string(out, f.name);
    out.push_back(':');
    write(out, deref(m));
  });
}

template <class T>
  requires HasFields<T>
void write(std::string& out, const T& v) {
  out.push_back('{');
  write_members(out, v, true);
  out.push_back('}');
}

// ---- JSON Schema -----------------------------------------------------------------------------

template <class T>
struct Tag {};

void describe(Json& s, const Spec& spec) {
  if (!spec.doc.empty()) s["description"] = std::string(spec.doc);
}

Json schema(Tag<std::string>, const Spec& spec) {
  Json s = {{"type", "string"}, {"minLength", spec.min_len}, {"maxLength", spec.max_len}};
  if (spec.upper3) s["pattern"] = "^[A-Z]{3}$";
  describe(s, spec);
  return s;
}
Json schema(Tag<double>, const Spec& spec) {
  Json s = {{"type", "number"}, {"minimum", spec.min}, {"maximum", spec.max}};
  describe(s, spec);
  return s;
}
Json schema(Tag<int64_t>, const Spec& spec) {
  Json s = {{"type", "integer"},
            {"minimum", static_cast<int64_t>(spec.min)},
            {"maximum", static_cast<int64_t>(spec.max)}};
  describe(s, spec);
  return s;
}
Json schema(Tag<bool>, const Spec& spec) {
  Json s = {{"type", "boolean"}};
  describe(s, spec);
  return s;
}
template <class E>
  requires std::is_enum_v<E>
Json schema(Tag<E>, const Spec&) {
  Json names = Json::array();
  for (auto n : EnumNames<E>::names) names.push_back(std::string(n));
  return {{"type", "string"}, {"enum", names}};
}
Json schema(Tag<Attributes>, const Spec&) {
  const Json text = {{"type", "string"}, {"maxLength", kMaxAttributeText}};
  const Json value = {
      {"anyOf",
       {text,
        {{"type", "number"}, {"minimum", -kMaxSafe}, {"maximum", kMaxSafe}},
        {{"type", "boolean"}},
        {{"type", "array"}, {"maxItems", kMaxAttributeList}, {"items", text}}}}};
  return {{"type", "object"},
          {"description", "free-form attributes: text, number, boolean or list of text"},
          {"maxProperties", kMaxAttributes},
          {"propertyNames", {{"minLength", 1}, {"maxLength", kMaxAttributeKey}}},
          {"additionalProperties", value}};
}

template <class T>
  requires HasFields<T>
Json schema(Tag<T>, const Spec& spec);

template <class T>
Json schema(Tag<std::vector<T>>, const Spec& spec) {
  Json s = {{"type", "array"}};
  if (spec.min_items) s["minItems"] = spec.min_items;
  s["maxItems"] = spec.max_items;
  s["items"] = schema(Tag<T>{}, Spec{.min_len = spec.item_min_len, .max_len = spec.item_max_len});
  describe(s, spec);
  if constexpr (HasFields<T>) {
    if (spec.unique_first) {
      // JSON Schema's uniqueItems compares whole items; the parser refuses a repeated key.
      const std::string key(std::get<0>(Fields<T>::table).name);
      s["description"] = "no two items with the same " + key;
    }
  }
  return s;
}
template <class T>
Json schema(Tag<std::optional<T>>, const Spec& spec) {
  return schema(Tag<T>{}, spec);
}

template <class M>
constexpr bool is_optional(Tag<std::optional<M>>) { return true; }
template <class M>
constexpr bool is_optional(Tag<M>) { return false; }

// Fills properties/required/additionalProperties of an object schema from T's table.
template <class T>
void object_schema(Json& s, Json& props, Json& required) {
  for_each_field<T>([&](const auto& f, size_t) {
    using M = std::remove_cvref_t<decltype(std::declval<T>().*f.member)>;
    props[std::string(f.name)] = schema(Tag<M>{}, f.spec);
    if (!is_optional(Tag<M>{})) required.push_back(std::string(f.name));
  });
  s["properties"] = props;
  if (!required.empty()) s["required"] = required;
  s["additionalProperties"] = false;
  if (!AnyOf<T>::names.empty()) {
    Json any = Json::array();
    for (auto n : AnyOf<T>::names) any.push_back({{"required", {std::string(n)}}});
    s["anyOf"] = any;
  }
}

template <class T>
  requires HasFields<T>
Json schema(Tag<T>, const Spec& spec) {
  Json s = {{"type", "object"}};
  describe(s, spec);
  Json props = Json::object(), required = Json::array();
  object_schema<T>(s, props, required);
  return s;
}

template <class T>
Json event_schema(EventType type) {
  const std::string name(event_type_name(type));
  Json s = {{"$schema", "https://json-schema.org/draft/2020-12/schema"},
            {"$id", "https://trove.dev/schemas/v1/" + name + ".json"},
            {"title", name},
            {"description", "Trove event " + name + " (" + std::string(event_type_group(type)) +
                                "). Generated from the C++ field table; do not edit. Beyond this "
                                "schema, an event is at most " +
                                std::to_string(ParseLimits::kMaxEventBytes) +
                                " bytes of UTF-8, nests at most " +
                                std::to_string(ParseLimits::kMaxDepth) +
                                " levels, and repeats no key."},
            {"type", "object"}};
  Json props = {{"type", {{"const", name}}},
                {"event_id", schema(Tag<std::string>{}, kEventId)},
                {"timestamp", schema(Tag<int64_t>{}, kTimestamp)}};
  Json required = {"type"};
  object_schema<T>(s, props, required);
  return s;
}

using SchemaFn = Json (*)(EventType);
constexpr SchemaFn kSchemaFns[] = {
#define TROVE_X(name, group) &event_schema<name>,
    TROVE_EVENT_TYPES(TROVE_X)
#undef TROVE_X
};

}  // namespace

std::string_view event_type_name(EventType type) {
  const auto i = static_cast<size_t>(type);
  return i >= 1 && i <= kEventTypeCount ? kTypeNames[i - 1] : std::string_view();
}

std::string_view event_type_group(EventType type) {
  const auto i = static_cast<size_t>(type);
  return i >= 1 && i <= kEventTypeCount ? kTypeGroups[i - 1] : std::string_view();
}

std::optional<EventType> event_type_from_name(std::string_view name) {
  for (size_t i = 0; i < kEventTypeCount; ++i) {
    if (kTypeNames[i] == name) return static_cast<EventType>(i + 1);
  }
  return std::nullopt;
}

std::vector<EventType> all_event_types() {
  std::vector<EventType> all;
  for (size_t i = 1; i <= kEventTypeCount; ++i) all.push_back(static_cast<EventType>(i));
  return all;
}

std::string_view strategy_name(Strategy s) {
  return EnumNames<Strategy>::names[static_cast<size_t>(s)];
}
std::string_view reco_scope_name(RecoScope s) {
  return EnumNames<RecoScope>::names[static_cast<size_t>(s)];
}
std::string_view ranking_signal_name(RankingSignal s) {
  return EnumNames<RankingSignal>::names[static_cast<size_t>(s)];
}
std::string_view signal_order_name(SignalOrder s) {
  return EnumNames<SignalOrder>::names[static_cast<size_t>(s)];
}
std::string_view attribute_type_name(AttributeType t) {
  return EnumNames<AttributeType>::names[static_cast<size_t>(t)];
}

const UserRef* Event::user() const {
  return std::visit(
      [](const auto& b) -> const UserRef* {
        if constexpr (requires { b.user; }) {
          return &b.user;
        } else {
          return nullptr;
        }
      },
      body);
}

void serialize_event(const Event& event, std::string* out) {
  std::string& o = *out;
  o += "{\"type\":";
  json_out::string(o, event_type_name(event.type()));
  if (event.event_id) {
    o += ",\"event_id\":";
    json_out::string(o, *event.event_id);
  }
  if (event.timestamp_ms) {
    o += ",\"timestamp\":";
    json_out::integer(o, *event.timestamp_ms);
  }
  std::visit(
      [&](const auto& b) {
        if constexpr (HasFields<std::remove_cvref_t<decltype(b)>>) write_members(o, b, false);
      },
      event.body);
  o.push_back('}');
}

std::string serialize_event(const Event& event) {
  std::string out;
  out.reserve(256);
  serialize_event(event, &out);
  return out;
}

namespace {
template <class M>
constexpr bool is_text(const M*) {
  return std::is_same_v<M, std::string> || std::is_same_v<M, std::optional<std::string>>;
}
template <class M>
constexpr bool is_text_list(const M*) {
  return std::is_same_v<M, std::vector<std::string>> ||
         std::is_same_v<M, std::optional<std::vector<std::string>>>;
}

template <class T>
size_t text_limit(std::string_view field) {
  if (field == "attributes") {
    bool has = false;
    for_each_field<T>([&](const auto& f, size_t) { has = has || f.name == "attributes"; });
    return has ? kMaxAttributeText : 0;
  }
  size_t limit = 0;
  for_each_field<T>([&](const auto& f, size_t) {
    using M = std::remove_cvref_t<decltype(std::declval<T>().*f.member)>;
    if (f.name != field) return;
    if (is_text(static_cast<const M*>(nullptr))) limit = f.spec.max_len;
    if (is_text_list(static_cast<const M*>(nullptr))) limit = f.spec.item_max_len;
  });
  return limit;
}

using LimitFn = size_t (*)(std::string_view);
constexpr LimitFn kLimitFns[] = {
#define TROVE_X(name, group) &text_limit<name>,
    TROVE_EVENT_TYPES(TROVE_X)
#undef TROVE_X
};
}  // namespace

size_t max_text_length(EventType type, std::string_view field) {
  const auto i = static_cast<size_t>(type);
  return i >= 1 && i <= kEventTypeCount ? kLimitFns[i - 1](field) : 0;
}

std::string event_schema_json(EventType type) {
  const auto i = static_cast<size_t>(type);
  if (i < 1 || i > kEventTypeCount) return {};
  return kSchemaFns[i - 1](type).dump(2) + "\n";
}

std::string event_schema_index_json() {
  Json list = Json::array();
  for (EventType t : all_event_types()) {
    list.push_back({{"type", std::string(event_type_name(t))},
                    {"group", std::string(event_type_group(t))},
                    {"schema", std::string(event_type_name(t)) + ".json"}});
  }
  Json index = {{"title", "Trove event schemas (v1)"},
                {"description", "One JSON Schema (draft 2020-12) per event type, generated "
                                "from the C++ field tables."},
                {"events", list}};
  return index.dump(2) + "\n";
}

}  // namespace trove
