// CatalogIndex::similar_items: items whose text is like an item's ("more like this"), for
// recommendations of an item nobody has interacted with yet (recommend/, similar).
//
// The item's own document is the relevance-feedback set: Xapian's expand set ranks its
// free-text terms by how much they single it out of the catalog (frequent words such as "the"
// weigh little, a rare title word much), and the best of them, ORed, find the items that share
// them, ranked by BM25. Filter terms (brand, category, stock, attributes) are left to the
// caller's catalog filters, which see the candidates.
#include <xapian.h>

#include "index_rep.h"

namespace trove {
namespace {

using index_internal::is_vocabulary_term;

// Only free-text words: prefixed terms (prefixes, stems, exact titles, filters) would
// repeat the words or match on metadata.
struct WordsOnly : Xapian::ExpandDecider {
  bool operator()(const std::string& term) const override { return is_vocabulary_term(term); }
};

}  // namespace

Result<std::vector<ContentMatch>> CatalogIndex::similar_items(std::string_view item_id,
                                                              size_t n) const {
  const Rep& r = *rep_;
  std::optional<ItemRef> ref;
  r.store->read([&](const State& st) {
    if (st.item(item_id)) ref = st.item_ref(item_id);
  });
  std::vector<ContentMatch> out;
  if (!ref || n == 0) return out;
  try {
    Xapian::Database& db = r.reader();
    const Xapian::docid self = index_internal::docid_of(*ref);
    if (self > db.get_lastdocid() || db.get_doclength(self) == 0) return out;  // not indexed yet
    Xapian::RSet feedback;
    feedback.add_document(self);
    Xapian::Enquire enquire(db);
    const WordsOnly words;
    const Xapian::ESet terms = enquire.get_eset(kSimilarTerms, feedback, &words);
    if (terms.empty()) return out;
    std::vector<Xapian::Query> any;
    for (auto t = terms.begin(); t != terms.end(); ++t) any.emplace_back(*t);
    enquire.set_query(Xapian::Query(Xapian::Query::OP_OR, any.begin(), any.end()));
    const Xapian::MSet found = enquire.get_mset(0, static_cast<Xapian::doccount>(n + 1));
    for (auto it = found.begin(); it != found.end() && out.size() < n; ++it) {
      if (*it == self) continue;
      out.push_back({index_internal::ref_of(*it), it.get_weight()});
    }
  } catch (const Xapian::DocNotFoundError&) {
    return out;  // removed and not yet re-added: nothing to go on
  } catch (const Xapian::DatabaseCorruptError& e) {
    r.mark_damaged(std::string("similar items: ") + e.get_msg());
    return Status::internal("similar items failed: the index is damaged and is rebuilt on the "
                            "next start");
  } catch (const Xapian::Error& e) {
    return Status::internal(std::string("similar items failed in the index (") + e.get_type() +
                            ")");
  }
  return out;
}

}  // namespace trove
