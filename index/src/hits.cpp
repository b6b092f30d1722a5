#include "hits.h"

#include <utility>

namespace trove::index_internal {

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

Xapian::Query and_all(const std::vector<Xapian::Query>& qs) {
  if (qs.empty()) return match_all();
  return qs.size() == 1 ? qs[0] : Xapian::Query(Xapian::Query::OP_AND, qs.begin(), qs.end());
}

namespace {
std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace

// The title with the words that matched (exactly, by stem, or as a prefix) wrapped in <em>.
std::string highlight(const DocumentBuilder& b, const std::string& title,
                      const absl::flat_hash_set<std::string>& matched,
                      const std::string& prefix) {
  std::vector<std::pair<size_t, size_t>> spans;
  b.analyzer().word_spans(title, &spans);
  std::string out;
  size_t at = 0;
  std::vector<Token> tokens;
  for (const auto& [begin, end] : spans) {
    tokens.clear();
    b.analyzer().analyze(std::string_view(title).substr(begin, end - begin), &tokens);
    bool hit = false;
    for (const auto& t : tokens) {
      std::string stemmed = "Z";  // built in steps: GCC 12 warns falsely on "Z" + std::string
      stemmed += b.stem(t.text);
      hit = hit || matched.contains(t.text) || matched.contains(stemmed) ||
            (!prefix.empty() && t.text.rfind(prefix, 0) == 0);
    }
    if (!hit) continue;
    out += html_escape(std::string_view(title).substr(at, begin - at));
    out += "<em>";
    out += html_escape(std::string_view(title).substr(begin, end - begin));
    out += "</em>";
    at = end;
  }
  out += html_escape(std::string_view(title).substr(at));
  return out;
}

SearchHit make_hit(const Item& item, const std::string& id, const AttributeSchema& schema) {
  SearchHit h;
  h.id = id;
  h.title = item.data.title;
  const ItemUpsert& d = item.data;
  h.brand = d.brand;
  h.price = d.price;
  h.currency = d.currency;
  h.in_stock = d.in_stock;
  h.url = d.url;
  h.image_url = d.image_url;
  h.categories = d.categories;
  h.tags = d.tags;
  h.attributes = d.attributes;
  if (h.attributes && !schema.empty()) {
    std::erase_if(*h.attributes, [&](const auto& kv) { return !schema.roles_of(kv.first).retrievable; });
    if (h.attributes->empty()) h.attributes.reset();
  }
  return h;
}

}  // namespace trove::index_internal
