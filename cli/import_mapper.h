// RowMapper: turns one source row (a CSV record, a JSON object) into an ItemUpsert, following
// `trove import`'s mapping rules:
//
//   --map title=name                      item field <- a CSV column or a JSON key
//   --map attributes.year:number=year     attribute with a type (:text :number :bool :list)
//   --map description=                    an empty source: do not import the field
//
// and, for every field not mapped, the first source present among its default names
// (kDefaultSources below). For CSV the candidates are resolved once against the header; for
// JSON they are tried per row, since keys vary from object to object. A JSON source may be a
// dotted path into nested objects ("nutrition.energy"); a key that itself contains the dots is
// preferred when present.
//
// Conversion: text fields take text (or a JSON number, as text); price a decimal ("3.50") or a
// JSON number; in_stock true/false/1/0/yes/no (any case) or a JSON boolean; categories and tags
// a JSON array or text split on the list separator (parts trimmed, empty parts dropped).
// Empty text and JSON null are an absent field. Text longer than its limit is an error, or cut
// on a code-point boundary with `truncate`.
//
// Errors come back as Status::invalid with the item field as path and a message that names
// the source and says what was expected: `price` / `column "UnitPrice": expected a decimal
// number such as 3.50, got "abc"`.
//
// Thread-safety: none; one mapper per thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "trove/data/events.h"
#include "trove/data/status.h"

namespace trove::cli {

// Limits of the ItemUpsert fields the mapper can truncate, in code points, read from the
// field table (data/src/event_fields.h) so they cannot drift; the parser re-checks anyway.
inline const size_t kMaxTitleChars = max_text_length(EventType::kItemUpsert, "title");
inline const size_t kMaxDescriptionChars = max_text_length(EventType::kItemUpsert, "description");
inline const size_t kMaxBrandChars = max_text_length(EventType::kItemUpsert, "brand");
inline const size_t kMaxAttributeTextChars = max_text_length(EventType::kItemUpsert, "attributes");

enum class ImportFormat { kCsv, kJsonl };

enum class ItemField {
  kId,
  kTitle,
  kDescription,
  kBrand,
  kCategories,
  kPrice,
  kCurrency,
  kInStock,
  kTags,
  kUrl,
  kImageUrl,
  kAttribute,
};
enum class ValueType { kAuto, kText, kNumber, kBool, kList };

struct FieldRule {
  ItemField field = ItemField::kId;
  std::string attribute;              // kAttribute: the attribute's name
  ValueType type = ValueType::kAuto;  // kAttribute only; kAuto = text from CSV, JSON's own type
  std::vector<std::string> sources;   // candidates, first present wins; empty: not imported
  bool explicit_map = false;          // from --map (else a default)
  std::string target() const;         // "title", "attributes.year"
};

// Parses one --map value.
Result<FieldRule> parse_map_option(std::string_view text);

struct MapperOptions {
  ImportFormat format = ImportFormat::kCsv;
  std::vector<std::string> maps;  // --map values
  std::string list_separator = "|";
  bool truncate = false;
};

// One value found in a row.
struct Cell {
  enum class Kind { kAbsent, kText, kNumber, kBool, kList, kOther };
  Kind kind = Kind::kAbsent;
  std::string_view text;  // kText; kNumber: the number as text; kOther: what it is ("an object")
  double number = 0;      // kNumber
  bool boolean = false;   // kBool
  std::span<const std::string_view> list;  // kList
};

// A row as the mapper sees it: values by source index (RowMapper::sources()).
class SourceRow {
 public:
  virtual ~SourceRow() = default;
  // kAbsent when the column or key is missing or the value is JSON null; empty text stays
  // kText (the mapper treats it as absent, but names it in a "missing" error).
  virtual Cell get(size_t source) = 0;
};

class RowMapper {
 public:
  // For CSV, `header` is the header record: explicit sources must name one of its columns,
  // and defaults are narrowed to the first column present. For JSONL, header is ignored.
  static Result<std::unique_ptr<RowMapper>> create(const MapperOptions& opts,
                                                   const std::vector<std::string>& header);
  ~RowMapper();

  // The distinct source names the rules read (CSV: column names; JSONL: keys or paths).
  const std::vector<std::string>& sources() const { return sources_; }
  // One line per imported field: `title <- column "name"` (or the candidate list for JSONL).
  std::vector<std::string> describe() const;

  // Fills *item from the row (all fields reset first).
  Status map(SourceRow& row, ItemUpsert* item);
  // For an EventParser error at `path` ("brand", "categories[2]", "attributes.year") on the row
  // just mapped: the source that fed it (`column "authors"`), or "" when unknown.
  std::string source_of(std::string_view path) const;

 private:
  struct Rule {
    FieldRule spec;
    std::vector<size_t> sources;  // indexes into sources_
    int used = -1;                // source index the last row took the value from
  };
  RowMapper() = default;
  size_t intern(const std::string& name);
  std::string describe_source(size_t source) const;
  // The value of a rule in the row: the first candidate that is present and not empty.
  // On kAbsent, *empty_source is the first candidate that was present but empty (or -1).
  Cell find(Rule& rule, SourceRow& row, int* empty_source);
  Status missing(const Rule& rule, int empty_source) const;
  Status text_value(Rule& rule, SourceRow& row, size_t limit, std::string* out, bool* present);
  Status list_value(Rule& rule, SourceRow& row, std::vector<std::string>* out, bool* present);
  Status attribute_value(Rule& rule, SourceRow& row, Attributes* attrs);
  Status check_text(const Rule& rule, std::string_view text) const;
  Status fit(const Rule& rule, std::string_view text, size_t limit, std::string* out) const;

  MapperOptions opts_;
  std::vector<std::string> sources_;
  std::vector<Rule> rules_;
};

}  // namespace trove::cli
