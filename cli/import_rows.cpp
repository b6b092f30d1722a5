#include "import_rows.h"

#include <fmt/format.h>

#include <algorithm>

namespace trove::cli {

using simdjson::dom::element;
using simdjson::dom::element_type;

CsvRow::CsvRow(const std::vector<std::string>& sources, const std::vector<std::string>& header) {
  column_.reserve(sources.size());
  for (const std::string& s : sources) {
    const auto it = std::find(header.begin(), header.end(), s);
    column_.push_back(it == header.end() ? -1 : static_cast<int>(it - header.begin()));
  }
}

Cell CsvRow::get(size_t source) {
  const int col = column_[source];
  if (col < 0) return Cell{};
  return Cell{.kind = Cell::Kind::kText, .text = record_->fields[static_cast<size_t>(col)]};
}

JsonRow::JsonRow(const std::vector<std::string>& sources)
    : names_(sources), paths_(sources.size()), lists_(sources.size()) {
  for (size_t i = 0; i < sources.size(); ++i) {
    const std::string& s = sources[i];
    if (s.find('.') == std::string::npos) continue;
    size_t from = 0;
    for (;;) {
      const size_t dot = s.find('.', from);
      paths_[i].push_back(s.substr(from, dot - from));
      if (dot == std::string::npos) break;
      from = dot + 1;
    }
  }
}

Status JsonRow::parse(std::string_view line) {
  texts_.clear();
  element root;
  const auto err = parser_.parse(line.data(), line.size(), false).get(root);
  if (err != simdjson::SUCCESS) {
    if (err == simdjson::UTF8_ERROR) return Status::invalid("invalid UTF-8", "row");
    return Status::invalid(std::string("invalid JSON: ") + simdjson::error_message(err), "row");
  }
  if (root.get_object().get(root_) != simdjson::SUCCESS) {
    std::string_view got = root.is_array() ? "an array" : "a scalar";
    return Status::invalid("expected a JSON object, got " + std::string(got), "row");
  }
  return Status();
}

std::string_view JsonRow::number_text(element el) {
  std::string& t = texts_.emplace_back();
  switch (el.type()) {
    case element_type::INT64:
      t = fmt::format_int(int64_t(el)).str();
      break;
    case element_type::UINT64:
      t = fmt::format_int(uint64_t(el)).str();
      break;
    default:
      t = fmt::format("{}", double(el));
      break;
  }
  return t;
}

Cell JsonRow::convert(element el, size_t source) {
  switch (el.type()) {
    case element_type::NULL_VALUE:
      return Cell{};
    case element_type::STRING:
      return Cell{.kind = Cell::Kind::kText, .text = el.get_string()};
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE: {
      double d = 0;
      if (el.type() == element_type::INT64)
        d = static_cast<double>(int64_t(el));
      else if (el.type() == element_type::UINT64)
        d = static_cast<double>(uint64_t(el));
      else
        d = double(el);
      return Cell{.kind = Cell::Kind::kNumber, .text = number_text(el), .number = d};
    }
    case element_type::BOOL:
      return Cell{.kind = Cell::Kind::kBool, .boolean = bool(el)};
    case element_type::OBJECT:
      return Cell{.kind = Cell::Kind::kOther, .text = "an object"};
    case element_type::ARRAY: {
      std::vector<std::string_view>& list = lists_[source];
      list.clear();
      for (element item : el.get_array()) {
        switch (item.type()) {
          case element_type::NULL_VALUE:
            break;
          case element_type::STRING:
            list.push_back(item.get_string());
            break;
          case element_type::BOOL:
            list.push_back(bool(item) ? "true" : "false");
            break;
          case element_type::OBJECT:
          case element_type::ARRAY:
            return Cell{.kind = Cell::Kind::kOther, .text = "an array holding objects or arrays"};
          default:
            list.push_back(number_text(item));
            break;
        }
      }
      return Cell{.kind = Cell::Kind::kList, .list = list};
    }
  }
  return Cell{};
}

Cell JsonRow::get(size_t source) {
  element el;
  if (root_[names_[source]].get(el) == simdjson::SUCCESS) return convert(el, source);
  const auto& path = paths_[source];
  if (path.empty()) return Cell{};
  simdjson::dom::object obj = root_;
  for (size_t i = 0; i < path.size(); ++i) {
    if (obj[path[i]].get(el) != simdjson::SUCCESS) return Cell{};
    if (i + 1 < path.size() && el.get_object().get(obj) != simdjson::SUCCESS) return Cell{};
  }
  return convert(el, source);
}

}  // namespace trove::cli
