#include "hits.h"

#include <algorithm>
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

// The text with the words that matched (exactly, by stem, or as a prefix) wrapped in <em>;
// with crop_words, only that many words from a little before the first match.
std::string highlight(const DocumentBuilder& b, const std::string& text,
                      const absl::flat_hash_set<std::string>& matched, const std::string& prefix,
                      size_t crop_words) {
  std::vector<std::pair<size_t, size_t>> spans;
  b.analyzer().word_spans(text, &spans);
  std::vector<bool> hit(spans.size(), false);
  std::vector<Token> tokens;
  for (size_t w = 0; w < spans.size(); ++w) {
    const auto [begin, end] = spans[w];
    tokens.clear();
    b.analyzer().analyze(std::string_view(text).substr(begin, end - begin), &tokens);
    for (const auto& t : tokens) {
      std::string stemmed = "Z";  // built in steps: GCC 12 warns falsely on "Z" + std::string
      stemmed += b.stem(t.text);
      hit[w] = hit[w] || matched.contains(t.text) || matched.contains(stemmed) ||
               (!prefix.empty() && t.text.rfind(prefix, 0) == 0);
    }
  }
  // The window of words shown: all of them, or crop_words from a quarter of it before the
  // first match (the start when nothing matched).
  size_t first = 0, last = spans.size();
  if (crop_words > 0 && spans.size() > crop_words) {
    const size_t match = static_cast<size_t>(std::find(hit.begin(), hit.end(), true) - hit.begin());
    first = match == hit.size() ? 0 : match - std::min(match, crop_words / 4);
    first = std::min(first, spans.size() - crop_words);
    last = first + crop_words;
  }
  const size_t from = first == 0 ? 0 : spans[first].first;
  const size_t to = last == spans.size() ? text.size() : spans[last - 1].second;
  std::string out = first == 0 ? "" : "…";
  size_t at = from;
  for (size_t w = first; w < last; ++w) {
    if (!hit[w]) continue;
    const auto [begin, end] = spans[w];
    out += html_escape(std::string_view(text).substr(at, begin - at));
    out += "<em>";
    out += html_escape(std::string_view(text).substr(begin, end - begin));
    out += "</em>";
    at = end;
  }
  out += html_escape(std::string_view(text).substr(at, to - at));
  if (to < text.size()) out += "…";
  return out;
}

Status check_highlight(const std::vector<std::string>& fields, size_t snippet_words,
                       const AttributeSchema& schema) {
  if (snippet_words < 1 || snippet_words > kMaxSnippetWords) {
    return Status::invalid("expected 1.." + std::to_string(kMaxSnippetWords), "snippet_words");
  }
  for (size_t i = 0; i < fields.size(); ++i) {
    const std::string& f = fields[i];
    const bool attribute = f.starts_with("attributes.") && f.size() > 11 && f.size() <= 128;
    if (attribute ? !schema.roles_of(std::string_view(f).substr(11)).retrievable
                  : f != "brand" && f != "categories" && f != "tags" && f != "description") {
      return Status::invalid("expected brand, categories, tags, description or a retrievable "
                             "attributes.<name>, got \"" + f.substr(0, 64) + "\"",
                             "highlight[" + std::to_string(i) + "]");
    }
  }
  return {};
}

std::vector<SearchHit::Highlight> field_highlights(const DocumentBuilder& b, const Item& item,
                                                   const std::vector<std::string>& fields,
                                                   const absl::flat_hash_set<std::string>& matched,
                                                   size_t snippet_words) {
  const ItemUpsert& d = item.data;
  std::vector<SearchHit::Highlight> out;
  auto one = [&](const std::string& field, const std::string& text, size_t crop) {
    out.push_back({field, {highlight(b, text, matched, {}, crop)}, false});
  };
  auto each = [&](const std::string& field, const std::vector<std::string>& texts) {
    SearchHit::Highlight h{field, {}, true};
    for (const auto& t : texts) h.texts.push_back(highlight(b, t, matched));
    out.push_back(std::move(h));
  };
  for (const std::string& f : fields) {
    if (f == "brand" && d.brand) one(f, *d.brand, 0);
    if (f == "description" && d.description) one(f, *d.description, snippet_words);
    if (f == "categories" && d.categories) each(f, *d.categories);
    if (f == "tags" && d.tags) each(f, *d.tags);
    if (!f.starts_with("attributes.") || !d.attributes) continue;
    const std::string folded = b.analyzer().fold(std::string_view(f).substr(11));
    for (const auto& [key, value] : *d.attributes) {
      if (b.analyzer().fold(key) != folded) continue;
      if (const auto* s = std::get_if<std::string>(&value)) one(f, *s, 0);
      if (const auto* list = std::get_if<std::vector<std::string>>(&value)) each(f, *list);
      break;
    }
  }
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
