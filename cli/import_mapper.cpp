#include "import_mapper.h"

#include <fmt/core.h>
#include <simdjson.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <optional>
#include <utility>

namespace trove::cli {
namespace {

struct FieldName {
  ItemField field;
  std::string_view name;
};
constexpr std::array<FieldName, 11> kFieldNames = {{
    {ItemField::kId, "id"},
    {ItemField::kTitle, "title"},
    {ItemField::kDescription, "description"},
    {ItemField::kBrand, "brand"},
    {ItemField::kCategories, "categories"},
    {ItemField::kPrice, "price"},
    {ItemField::kCurrency, "currency"},
    {ItemField::kInStock, "in_stock"},
    {ItemField::kTags, "tags"},
    {ItemField::kUrl, "url"},
    {ItemField::kImageUrl, "image_url"},
}};

// Where each field is looked for when no --map names its source. The unusual names fit the
// catalogs Trove is tested on: Open Food Facts (code, ingredients, brands), UCI Online Retail
// (StockCode, Description, UnitPrice / MedianUnitPrice) and goodbooks-10k (book_id, authors,
// original_title).
std::vector<std::string> default_sources(ItemField f) {
  switch (f) {
    case ItemField::kId:
      return {"id", "code", "sku", "item_id", "StockCode", "book_id"};
    case ItemField::kTitle:
      return {"title", "name", "Description", "original_title"};
    case ItemField::kDescription:
      return {"description", "ingredients"};
    case ItemField::kBrand:
      return {"brand", "brands", "authors"};
    case ItemField::kCategories:
      return {"categories"};
    case ItemField::kPrice:
      return {"price", "UnitPrice", "MedianUnitPrice"};
    case ItemField::kCurrency:
      return {"currency"};
    case ItemField::kInStock:
      return {"in_stock"};
    case ItemField::kTags:
      return {"tags"};
    case ItemField::kUrl:
      return {"url"};
    case ItemField::kImageUrl:
      return {"image_url"};
    case ItemField::kAttribute:
      return {};
  }
  return {};
}

std::string_view trim(std::string_view s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

size_t count_code_points(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// Byte length of the first `limit` code points of valid UTF-8 `s`.
size_t prefix_bytes(std::string_view s, size_t limit) {
  size_t seen = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && seen++ == limit) return i;
  }
  return s.size();
}

// Offset of the first byte that breaks UTF-8 (called only once validation has failed).
size_t first_invalid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xE  ? 3
                 : (c >> 3) == 0x1E ? 4
                                    : 0;
    if (len == 0 || i + len > s.size()) return i;
    if (!simdjson::validate_utf8(s.data() + i, len)) return i;
    i += len;
  }
  return s.size();
}

// A value shown in an error: quoted, at most 40 code points, control bytes and bytes that are
// not UTF-8 escaped, so the message itself is always printable UTF-8.
std::string show(std::string_view v) {
  std::string out = "\"";
  size_t shown = 0;
  size_t i = 0;
  while (i < v.size() && shown < 40) {
    const auto c = static_cast<unsigned char>(v[i]);
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xE  ? 3
                 : (c >> 3) == 0x1E ? 4
                                    : 0;
    if (len > 1 && i + len <= v.size() && simdjson::validate_utf8(v.data() + i, len)) {
      out.append(v.substr(i, len));
    } else if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
      len = 1;
    } else if (c < 0x20 || c >= 0x7F) {
      out += fmt::format("\\x{:02X}", c);
      len = 1;
    } else {
      out += static_cast<char>(c);
      len = 1;
    }
    i += len;
    ++shown;
  }
  out += i < v.size() ? "\"..." : "\"";
  return out;
}

std::optional<double> parse_decimal(std::string_view s) {
  s = trim(s);
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  if (s.empty()) return std::nullopt;
  double d = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(d)) return std::nullopt;
  return d;
}

std::optional<bool> parse_bool(std::string_view s) {
  s = trim(s);
  if (s.size() > 5) return std::nullopt;
  std::string lower(s);
  for (char& c : lower) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  if (lower == "true" || lower == "1" || lower == "yes") return true;
  if (lower == "false" || lower == "0" || lower == "no") return false;
  return std::nullopt;
}

std::string_view kind_name(const Cell& c) {
  switch (c.kind) {
    case Cell::Kind::kAbsent:
      return "nothing";
    case Cell::Kind::kText:
      return "text";
    case Cell::Kind::kNumber:
      return "a number";
    case Cell::Kind::kBool:
      return "a boolean";
    case Cell::Kind::kList:
      return "an array";
    case Cell::Kind::kOther:
      return c.text;
  }
  return "?";
}

}  // namespace

std::string FieldRule::target() const {
  if (field == ItemField::kAttribute) return "attributes." + attribute;
  for (const auto& f : kFieldNames) {
    if (f.field == field) return std::string(f.name);
  }
  return "?";
}

Result<FieldRule> parse_map_option(std::string_view text) {
  const size_t eq = text.find('=');
  if (eq == std::string_view::npos) {
    return Status::invalid("expected item_field=source, got \"" + std::string(text) + "\"",
                           "--map");
  }
  std::string_view target = text.substr(0, eq);
  FieldRule rule;
  rule.explicit_map = true;
  if (const std::string_view source = text.substr(eq + 1); !source.empty()) {
    rule.sources.emplace_back(source);
  }
  std::string_view type;
  if (const size_t colon = target.find(':'); colon != std::string_view::npos) {
    type = target.substr(colon + 1);
    target = target.substr(0, colon);
  }
  constexpr std::string_view kAttr = "attributes.";
  if (target.substr(0, kAttr.size()) == kAttr) {
    rule.field = ItemField::kAttribute;
    rule.attribute = std::string(target.substr(kAttr.size()));
    if (rule.attribute.empty()) {
      return Status::invalid("attribute name missing in \"" + std::string(text) + "\"", "--map");
    }
    if (type.empty())
      rule.type = ValueType::kAuto;
    else if (type == "text")
      rule.type = ValueType::kText;
    else if (type == "number")
      rule.type = ValueType::kNumber;
    else if (type == "bool")
      rule.type = ValueType::kBool;
    else if (type == "list")
      rule.type = ValueType::kList;
    else {
      return Status::invalid(
          "unknown type \"" + std::string(type) + "\" (expected text, number, bool or list)",
          "--map " + std::string(text));
    }
    return rule;
  }
  if (!type.empty()) {
    return Status::invalid("a :type suffix is for attributes only", "--map " + std::string(text));
  }
  for (const auto& f : kFieldNames) {
    if (f.name == target) {
      rule.field = f.field;
      return rule;
    }
  }
  return Status::invalid("unknown item field \"" + std::string(target) +
                             "\" (expected id, title, description, brand, categories, price, "
                             "currency, in_stock, tags, url, image_url or attributes.<name>)",
                         "--map");
}

RowMapper::~RowMapper() = default;

size_t RowMapper::intern(const std::string& name) {
  const auto it = std::find(sources_.begin(), sources_.end(), name);
  if (it != sources_.end()) return static_cast<size_t>(it - sources_.begin());
  sources_.push_back(name);
  return sources_.size() - 1;
}

Result<std::unique_ptr<RowMapper>> RowMapper::create(const MapperOptions& opts,
                                                     const std::vector<std::string>& header) {
  std::unique_ptr<RowMapper> m(new RowMapper());
  m->opts_ = opts;
  std::vector<FieldRule> specs;
  for (const std::string& text : opts.maps) {
    auto rule = parse_map_option(text);
    if (!rule.ok()) return rule.status();
    if (rule->sources.empty() &&
        (rule->field == ItemField::kId || rule->field == ItemField::kTitle)) {
      return Status::invalid("\"" + rule->target() + "\" is required and needs a source",
                             "--map " + text);
    }
    for (const FieldRule& other : specs) {
      if (other.target() == rule->target()) {
        return Status::invalid("\"" + rule->target() + "\" is mapped twice", "--map");
      }
    }
    specs.push_back(std::move(rule).value());
  }
  // Item fields in their canonical order (a --map rule or the defaults), then attributes.
  std::vector<FieldRule> ordered;
  for (const auto& f : kFieldNames) {
    const auto it = std::find_if(specs.begin(), specs.end(),
                                 [&](const FieldRule& r) { return r.field == f.field; });
    ordered.push_back(
        it != specs.end() ? *it : FieldRule{.field = f.field, .sources = default_sources(f.field)});
  }
  for (const FieldRule& r : specs) {
    if (r.field == ItemField::kAttribute) ordered.push_back(r);
  }
  specs = std::move(ordered);
  const bool csv = opts.format == ImportFormat::kCsv;
  const auto in_header = [&](const std::string& name) {
    return std::find(header.begin(), header.end(), name) != header.end();
  };
  for (FieldRule& spec : specs) {
    if (csv) {
      if (spec.explicit_map) {
        for (const std::string& s : spec.sources) {
          if (!in_header(s)) {
            std::string cols;
            for (const auto& h : header) cols.append(cols.empty() ? "" : ", ").append(h);
            return Status::invalid("no column \"" + s + "\" in the header (columns: " + cols + ")",
                                   "--map " + spec.target());
          }
        }
      } else {
        // Defaults: the first column the file has, decided once.
        const auto it = std::find_if(spec.sources.begin(), spec.sources.end(), in_header);
        spec.sources =
            it == spec.sources.end() ? std::vector<std::string>{} : std::vector<std::string>{*it};
      }
      if (spec.sources.empty() &&
          (spec.field == ItemField::kId || spec.field == ItemField::kTitle)) {
        std::string tried;
        for (const auto& s : default_sources(spec.field)) tried += (tried.empty() ? "" : ", ") + s;
        return Status::invalid("no column for the required item field \"" + spec.target() +
                                   "\" (looked for " + tried + "); name one with --map " +
                                   spec.target() + "=COLUMN",
                               "header");
      }
    }
    if (spec.sources.empty() && spec.field != ItemField::kId && spec.field != ItemField::kTitle) {
      continue;  // not imported
    }
    Rule rule{.spec = spec};
    for (const std::string& s : spec.sources) rule.sources.push_back(m->intern(s));
    m->rules_.push_back(std::move(rule));
  }
  return m;
}

std::string RowMapper::describe_source(size_t source) const {
  return fmt::format("{} \"{}\"", opts_.format == ImportFormat::kCsv ? "column" : "key",
                     sources_[source]);
}

std::vector<std::string> RowMapper::describe() const {
  std::vector<std::string> out;
  for (const Rule& r : rules_) {
    std::string from;
    if (r.sources.size() == 1) {
      from = describe_source(r.sources[0]);
    } else {
      for (size_t s : r.sources) from += (from.empty() ? "first of " : "|") + sources_[s];
    }
    out.push_back(fmt::format("{} <- {}", r.spec.target(), from.empty() ? "(nothing)" : from));
  }
  return out;
}

Cell RowMapper::find(Rule& rule, SourceRow& row, int* empty_source) {
  *empty_source = -1;
  rule.used = -1;
  for (size_t s : rule.sources) {
    Cell c = row.get(s);
    if (c.kind == Cell::Kind::kAbsent) continue;
    if (c.kind == Cell::Kind::kText && c.text.empty()) {
      if (*empty_source < 0) *empty_source = static_cast<int>(s);
      continue;
    }
    rule.used = static_cast<int>(s);
    return c;
  }
  return Cell{};
}

Status RowMapper::missing(const Rule& rule, int empty_source) const {
  if (empty_source >= 0) {
    return Status::invalid(describe_source(static_cast<size_t>(empty_source)) + " is empty",
                           rule.spec.target());
  }
  if (rule.sources.size() == 1) {
    return Status::invalid(describe_source(rule.sources[0]) + " is missing", rule.spec.target());
  }
  std::string names;
  for (size_t s : rule.sources) names += (names.empty() ? "" : ", ") + sources_[s];
  return Status::invalid(
      fmt::format("missing: none of the {} {} is present",
                  opts_.format == ImportFormat::kCsv ? "columns" : "keys", names),
      rule.spec.target());
}

Status RowMapper::check_text(const Rule& rule, std::string_view text) const {
  // JSON text was validated by the JSON parser; CSV cells are raw bytes.
  if (opts_.format != ImportFormat::kCsv || simdjson::validate_utf8(text.data(), text.size())) {
    return Status();
  }
  const size_t at = first_invalid_utf8(text);
  return Status::invalid(fmt::format("{}: invalid UTF-8 (byte 0x{:02X} at offset {} of the cell)",
                                     describe_source(static_cast<size_t>(rule.used)),
                                     static_cast<unsigned char>(text[at]), at),
                         rule.spec.target());
}

Status RowMapper::fit(const Rule& rule, std::string_view text, size_t limit,
                      std::string* out) const {
  if (limit > 0 && text.size() > limit) {  // bytes >= code points: a cheap early exit
    const size_t n = count_code_points(text);
    if (n > limit) {
      if (!opts_.truncate) {
        return Status::invalid(
            fmt::format("{}: over the limit of {} characters ({}; --truncate cuts it)",
                        describe_source(static_cast<size_t>(rule.used)), limit, n),
            rule.spec.target());
      }
      text = text.substr(0, prefix_bytes(text, limit));
    }
  }
  out->assign(text);
  return Status();
}

Status RowMapper::text_value(Rule& rule, SourceRow& row, size_t limit, std::string* out,
                             bool* present) {
  int empty_source = -1;
  const Cell c = find(rule, row, &empty_source);
  *present = false;
  switch (c.kind) {
    case Cell::Kind::kAbsent:
      if (rule.spec.field == ItemField::kId || rule.spec.field == ItemField::kTitle) {
        return missing(rule, empty_source);
      }
      return Status();
    case Cell::Kind::kText:
      TROVE_RETURN_IF_ERROR(check_text(rule, c.text));
      [[fallthrough]];
    case Cell::Kind::kNumber:
      *present = true;
      return fit(rule, c.text, limit, out);
    default:
      return Status::invalid(
          fmt::format("{}: expected text, got {}", describe_source(static_cast<size_t>(rule.used)),
                      kind_name(c)),
          rule.spec.target());
  }
}

Status RowMapper::list_value(Rule& rule, SourceRow& row, std::vector<std::string>* out,
                             bool* present) {
  int empty_source = -1;
  const Cell c = find(rule, row, &empty_source);
  out->clear();
  *present = false;
  if (c.kind == Cell::Kind::kList) {
    for (std::string_view v : c.list) {
      if (!v.empty()) out->emplace_back(v);
    }
  } else if (c.kind == Cell::Kind::kText) {
    TROVE_RETURN_IF_ERROR(check_text(rule, c.text));
    const std::string_view sep = opts_.list_separator;
    std::string_view rest = c.text;
    for (;;) {
      const size_t at = sep.empty() ? std::string_view::npos : rest.find(sep);
      const std::string_view part = trim(rest.substr(0, at));
      if (!part.empty()) out->emplace_back(part);
      if (at == std::string_view::npos) break;
      rest.remove_prefix(at + sep.size());
    }
  } else if (c.kind == Cell::Kind::kNumber) {
    out->emplace_back(c.text);
  } else if (c.kind != Cell::Kind::kAbsent) {
    return Status::invalid(
        fmt::format("{}: expected an array or text, got {}",
                    describe_source(static_cast<size_t>(rule.used)), kind_name(c)),
        rule.spec.target());
  }
  *present = !out->empty();
  return Status();
}

Status RowMapper::attribute_value(Rule& rule, SourceRow& row, Attributes* attrs) {
  int empty_source = -1;
  const Cell c = find(rule, row, &empty_source);
  if (c.kind == Cell::Kind::kAbsent) return Status();
  ValueType type = rule.spec.type;
  if (type == ValueType::kAuto) {
    switch (c.kind) {
      case Cell::Kind::kNumber:
        type = opts_.format == ImportFormat::kJsonl ? ValueType::kNumber : ValueType::kText;
        break;
      case Cell::Kind::kBool:
        type = ValueType::kBool;
        break;
      case Cell::Kind::kList:
        type = ValueType::kList;
        break;
      default:
        type = ValueType::kText;
        break;
    }
  }
  const auto bad = [&](std::string_view expected) {
    return Status::invalid(
        fmt::format("{}: expected {}, got {}", describe_source(static_cast<size_t>(rule.used)),
                    expected,
                    c.kind == Cell::Kind::kText ? show(c.text) : std::string(kind_name(c))),
        rule.spec.target());
  };
  switch (type) {
    case ValueType::kAuto:
    case ValueType::kText: {
      std::string text;
      if (c.kind == Cell::Kind::kBool) {
        text = c.boolean ? "true" : "false";
      } else if (c.kind == Cell::Kind::kText || c.kind == Cell::Kind::kNumber) {
        if (c.kind == Cell::Kind::kText) TROVE_RETURN_IF_ERROR(check_text(rule, c.text));
        TROVE_RETURN_IF_ERROR(fit(rule, c.text, kMaxAttributeTextChars, &text));
      } else {
        return bad("text");
      }
      (*attrs)[rule.spec.attribute] = std::move(text);
      return Status();
    }
    case ValueType::kNumber: {
      std::optional<double> d;
      if (c.kind == Cell::Kind::kNumber)
        d = c.number;
      else if (c.kind == Cell::Kind::kText)
        d = parse_decimal(c.text);
      if (!d) return bad("a number");
      (*attrs)[rule.spec.attribute] = *d;
      return Status();
    }
    case ValueType::kBool: {
      std::optional<bool> b;
      if (c.kind == Cell::Kind::kBool)
        b = c.boolean;
      else if (c.kind == Cell::Kind::kText)
        b = parse_bool(c.text);
      else if (c.kind == Cell::Kind::kNumber && (c.number == 0 || c.number == 1))
        b = c.number == 1;
      if (!b) return bad("true, false, 1, 0, yes or no");
      (*attrs)[rule.spec.attribute] = *b;
      return Status();
    }
    case ValueType::kList: {
      std::vector<std::string> items;
      bool present = false;
      TROVE_RETURN_IF_ERROR(list_value(rule, row, &items, &present));
      if (present) (*attrs)[rule.spec.attribute] = std::move(items);
      return Status();
    }
  }
  return Status();
}

Status RowMapper::map(SourceRow& row, ItemUpsert* item) {
  *item = ItemUpsert{};
  for (Rule& rule : rules_) {
    bool present = false;
    std::string text;
    switch (rule.spec.field) {
      case ItemField::kId:
        TROVE_RETURN_IF_ERROR(text_value(rule, row, 0, &item->id, &present));
        break;
      case ItemField::kTitle:
        TROVE_RETURN_IF_ERROR(text_value(rule, row, kMaxTitleChars, &item->title, &present));
        break;
      case ItemField::kDescription:
        TROVE_RETURN_IF_ERROR(text_value(rule, row, kMaxDescriptionChars, &text, &present));
        if (present) item->description = std::move(text);
        break;
      case ItemField::kBrand:
        TROVE_RETURN_IF_ERROR(text_value(rule, row, kMaxBrandChars, &text, &present));
        if (present) item->brand = std::move(text);
        break;
      case ItemField::kCurrency:
        TROVE_RETURN_IF_ERROR(text_value(rule, row, 0, &text, &present));
        if (present) item->currency = std::string(trim(text));
        break;
      case ItemField::kUrl:
        TROVE_RETURN_IF_ERROR(text_value(rule, row, 0, &text, &present));
        if (present) item->url = std::move(text);
        break;
      case ItemField::kImageUrl:
        TROVE_RETURN_IF_ERROR(text_value(rule, row, 0, &text, &present));
        if (present) item->image_url = std::move(text);
        break;
      case ItemField::kCategories:
      case ItemField::kTags: {
        std::vector<std::string> list;
        TROVE_RETURN_IF_ERROR(list_value(rule, row, &list, &present));
        if (present) {
          (rule.spec.field == ItemField::kTags ? item->tags : item->categories) = std::move(list);
        }
        break;
      }
      case ItemField::kPrice: {
        int empty_source = -1;
        const Cell c = find(rule, row, &empty_source);
        if (c.kind == Cell::Kind::kAbsent) break;
        std::optional<double> d;
        if (c.kind == Cell::Kind::kNumber)
          d = c.number;
        else if (c.kind == Cell::Kind::kText)
          d = parse_decimal(c.text);
        if (!d) {
          return Status::invalid(
              fmt::format("{}: expected a decimal number such as 3.50, got {}",
                          describe_source(static_cast<size_t>(rule.used)),
                          c.kind == Cell::Kind::kText ? show(c.text) : std::string(kind_name(c))),
              rule.spec.target());
        }
        item->price = *d;
        break;
      }
      case ItemField::kInStock: {
        int empty_source = -1;
        const Cell c = find(rule, row, &empty_source);
        if (c.kind == Cell::Kind::kAbsent) break;
        std::optional<bool> b;
        if (c.kind == Cell::Kind::kBool)
          b = c.boolean;
        else if (c.kind == Cell::Kind::kText)
          b = parse_bool(c.text);
        else if (c.kind == Cell::Kind::kNumber && (c.number == 0 || c.number == 1))
          b = c.number == 1;
        if (!b) {
          return Status::invalid(
              fmt::format("{}: expected true, false, 1, 0, yes or no, got {}",
                          describe_source(static_cast<size_t>(rule.used)),
                          c.kind == Cell::Kind::kText ? show(c.text) : std::string(kind_name(c))),
              rule.spec.target());
        }
        item->in_stock = *b;
        break;
      }
      case ItemField::kAttribute: {
        if (!item->attributes) item->attributes.emplace();
        TROVE_RETURN_IF_ERROR(attribute_value(rule, row, &*item->attributes));
        break;
      }
    }
  }
  if (item->attributes && item->attributes->empty()) item->attributes.reset();
  return Status();
}

std::string RowMapper::source_of(std::string_view path) const {
  for (const Rule& r : rules_) {
    const std::string t = r.spec.target();
    if (path.substr(0, t.size()) != t) continue;
    if (path.size() > t.size() && path[t.size()] != '[' && path[t.size()] != '.') continue;
    return r.used >= 0 ? describe_source(static_cast<size_t>(r.used)) : std::string();
  }
  return {};
}

}  // namespace trove::cli
