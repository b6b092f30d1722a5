// How an item becomes a Xapian document, and the term and value conventions that search relies
// on. Private to index/.
//
// Terms (all produced by the Analyzer, so identical at index and query time):
//   <word>            free-text term; wdf weighted by field (FieldWeights: title 6, brand 3,
//                     categories and tags 2, description 1 unless the settings say otherwise;
//                     a field of weight 0 has none). Title and brand carry positions (phrase search);
//                     categories, tags and description do not (about a third of the postings).
//   Z<stem>           Snowball stem of a word when it differs from the word, same weights
//                     (where they agree, <word> itself lists the document): stemmed matches
//                     rank below exact ones.
//   P<prefix>         the first 1..3 characters of title and brand words (search-as-you-type on
//                     short prefixes is one posting list, not a thousand-term expansion).
//   T<word>           title and brand words, boolean: longer prefixes expand over these, and
//                     completions come from them (not from ingredient lists).
//   E<words>          the whole title's words, folded, one space apart (exact_title_term), wdf
//                     1: a query that is the whole title finds its items first ("Ketchup"
//                     before "Kristine's Ketchup, Spoonably Delicious! Ketchup").
//   XB<brand>         boolean filter terms (folded): brand, every prefix of every category path
//   XC<path>          ("kitchen", "kitchen>cookware"), stock, attribute equality
//   XS1 / XS0
//   XA<key>=<value>
// Values: kSlotPrice (sortable_serialise), kSlotUpdated (updated seq, for "newest"), kSlotRef
// (the item ref, 4 bytes big-endian). KeyMakers and MatchSpies must read the ref from kSlotRef:
// over several shards, Xapian::Document::get_docid() is the shard's own docid, not the
// combined one.
#pragma once

#include <xapian.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "trove/data/state.h"
#include "trove/index/analyzer.h"
#include "trove/index/attributes.h"

namespace trove::index_internal {

inline constexpr Xapian::valueno kSlotPrice = 0;
inline constexpr Xapian::valueno kSlotUpdated = 1;
inline constexpr Xapian::valueno kSlotRef = 2;

// How much a word counts in each field (its wdf per occurrence); 0: the field is not searched
// (no free-text terms; its filter terms stay). The catalog's SearchSettingsUpsert
// searchable_fields sets them; these are the defaults.
struct FieldWeights {
  unsigned title = 6;
  unsigned brand = 3;
  unsigned categories = 2;
  unsigned tags = 2;
  unsigned description = 1;
  bool operator==(const FieldWeights&) const = default;
};
// The weights the settings ask for (the defaults when they name no fields).
FieldWeights field_weights(const SearchSettingsUpsert& settings);
// "title=6 brand=3 categories=2 tags=2 description=1": what the index records beside its
// documents (metadata kFieldsKey), and its parse (nullopt for anything else).
std::string to_string(const FieldWeights& w);
std::optional<FieldWeights> parse_field_weights(std::string_view s);
// Everything the catalog's settings say about how its documents are built: the field weights
// and the declared attributes. The index records both beside its documents and re-indexes
// when the State's differ.
struct DocumentSettings {
  FieldWeights weights;
  AttributeSchema attributes;
  bool operator==(const DocumentSettings& o) const {
    return weights == o.weights && attributes.layout() == o.attributes.layout();
  }
};
// What `st` asks for. REQUIRES: the Store's read lock.
DocumentSettings document_settings(const State& st);
inline constexpr uint32_t kBrandPositionBase = 1000;  // phrases never span title and brand
inline constexpr size_t kMaxTermBytes = 120;           // Xapian's limit is 245 with prefixes
inline constexpr size_t kMaxPrefixChars = 3;

// The pieces of `text` between `sep`s, trimmed of spaces, empty ones kept ("a, ,b" -> "a",
// "", "b"; views into `text`).
std::vector<std::string_view> split_trimmed(std::string_view text, char sep);
// The levels of a category path, split at '>' and trimmed of spaces, empty ones left out:
// "Kitchen > Cookware" -> "Kitchen", "Cookware" (views into `path`). The one place a path is
// split: filters, facets and the index's category terms all read it so.
std::vector<std::string_view> category_levels(std::string_view path);
// The category path "Kitchen > Cookware" folded level by level: "kitchen>cookware".
std::string fold_path(const Analyzer& analyzer, std::string_view path);
// Every prefix of a folded path: "a", "a>b", "a>b>c".
std::vector<std::string> path_prefixes(const std::string& folded_path);
// The brand filter term ("XB" + folded brand, capped like attribute terms: Xapian refuses
// terms over 245 bytes, and a brand may have 256 characters).
std::string brand_term(const Analyzer& analyzer, std::string_view brand);
// The words of `text`, folded, one space apart ("Crème  Brûlée" -> "creme brulee"; the joined
// form of a compound is left out: "t-light" -> "t light").
std::string folded_words(const Analyzer& analyzer, std::string_view text);
// "E" + the words of `text` (a title, or what was typed), folded, one space apart; empty when
// it has no word or the term would be over kMaxTermBytes.
std::string exact_title_term(const Analyzer& analyzer, std::string_view text);
// The attribute filter term for a key and a scalar value.
std::string attribute_term(const Analyzer& analyzer, std::string_view key, std::string_view value);

// An Analyzer for folding outside a DocumentBuilder (filters, sort keys): folding is the same
// in every language, so one serves the process.
const Analyzer& folding_analyzer();

// ---- What filters match (the index's terms and values, and Filter::matches on an item) ----
// A number as attribute terms write it: its shortest form ("3", not "3.0").
std::string number_text(double n);
// The category terms of one path: "XC" + each of its folded prefixes.
std::vector<std::string> category_terms(const Analyzer& analyzer, std::string_view path);
inline std::string in_stock_term(bool in_stock) { return in_stock ? "XS1" : "XS0"; }
// The filter terms of one attribute value: text, "true"/"false", a number's shortest form,
// or each string of a list.
std::vector<std::string> attribute_terms(const Analyzer& analyzer, std::string_view key,
                                         const AttrValue& value);
// "An item has this field": "XE" + `field` (brand, category, price, or attributes.<folded
// key>), for EXISTS.
inline std::string presence_term(std::string_view field) { return "XE" + std::string(field); }
// The value slot holding a numeric attribute (sortable_serialise), for ranges, or a geo
// point's (geo_slot_value): from a hash of the folded key, above the built-in slots. Two keys
// share a slot with odds of about one in 2^31 per pair.
Xapian::valueno attribute_slot(std::string_view folded_key);
// The value slot of an attribute's group key (SearchRequest::distinct): a declared, facetable
// attribute's value as group_key() writes it.
Xapian::valueno distinct_slot(std::string_view folded_key);
// What two items of one group share: the value's filter text (folded text, a number's shortest
// form, true/false; a list's folded strings sorted, unit-separated).
std::string group_key(const Analyzer& analyzer, const AttrValue& value);
// A geo point as its slot holds it (16 bytes: latitude and longitude as doubles), and back
// (nullopt for anything else).
std::string geo_slot_value(const GeoPoint& p);
std::optional<GeoPoint> geo_of_slot_value(std::string_view v);
// The first `n` code points of a UTF-8 string.
std::string first_chars(std::string_view s, size_t n);
// A term as explain shows it, without the prefixes above: a word as is, "frais (stem)",
// "brand:acme", "category:kitchen>cookware", "in_stock:true", "attributes.color=red",
// "title word:potter", "prefix:po", "exact title:harry potter".
std::string readable_term(std::string_view term);
// A hit's matched term as explain lists it: words and stems (readable_term); boolean terms
// (filters, title words, prefixes) are not shown.
std::optional<std::string> explained_term(const std::string& term);
// Xapian's description of `query` with each term as readable_term() shows it.
std::string explained_query(const Xapian::Query& query);
// The item ref a document stores in kSlotRef; UINT32_MAX when absent.
ItemRef ref_of_document(const Xapian::Document& doc);

class DocumentBuilder {
 public:
  explicit DocumentBuilder(const std::string& language);  // "none": no stemming
  Xapian::Document build(ItemRef ref, const Item& item) const;
  void set_settings(const DocumentSettings& s) { weights_ = s.weights, attributes_ = s.attributes; }
  std::string stem(const std::string& term) const;  // "" when stemming is off or for numbers
  const Analyzer& analyzer() const { return analyzer_; }

 private:
  void add_text(Xapian::Document& doc, std::string_view text, unsigned weight, bool positions,
                uint32_t position_base, bool prefixes) const;
  void add_attribute(Xapian::Document& doc, const std::string& key, const AttrValue& stored) const;
  Analyzer analyzer_;
  FieldWeights weights_;
  AttributeSchema attributes_;
  Xapian::Stem stemmer_;
  bool stemming_ = false;
};

}  // namespace trove::index_internal
