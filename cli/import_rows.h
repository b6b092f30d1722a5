// The two kinds of source row RowMapper reads: a CSV record (values by column) and a JSON
// object (values by key or dotted path, with JSON's own types).
//
// Ownership: a row borrows its record or its parsed document; a Cell it returns stays valid
// until the next reset()/parse(). Thread-safety: none; one row object per thread.
#pragma once

#include <simdjson.h>

#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "import_csv.h"
#include "import_mapper.h"

namespace trove::cli {

class CsvRow final : public SourceRow {
 public:
  // Resolves each source name to its column in the header (the first one, if repeated).
  CsvRow(const std::vector<std::string>& sources, const std::vector<std::string>& header);
  // REQUIRES: the record has as many fields as the header.
  void reset(const CsvRecord* record) { record_ = record; }
  Cell get(size_t source) override;

 private:
  std::vector<int> column_;  // per source; -1: not in the header
  const CsvRecord* record_ = nullptr;
};

class JsonRow final : public SourceRow {
 public:
  explicit JsonRow(const std::vector<std::string>& sources);
  // Parses one JSONL line. REQUIRES simdjson::SIMDJSON_PADDING readable bytes after it.
  // Errors: not JSON, not an object, invalid UTF-8.
  Status parse(std::string_view line);
  Cell get(size_t source) override;

 private:
  Cell convert(simdjson::dom::element el, size_t source);
  std::string_view number_text(simdjson::dom::element el);

  std::vector<std::string> names_;
  std::vector<std::vector<std::string>> paths_;  // dotted names split; empty when no dot
  simdjson::dom::parser parser_;
  simdjson::dom::object root_;
  std::deque<std::string> texts_;  // numbers as text, for this row (stable addresses)
  std::vector<std::vector<std::string_view>> lists_;  // per source, for this row
};

}  // namespace trove::cli
