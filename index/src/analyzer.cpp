#include "trove/index/analyzer.h"

#include <unicode/brkiter.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/uscript.h>
#include <unicode/ustring.h>
#include <unicode/utf8.h>

#include <array>
#include <cassert>
#include <string_view>
#include <vector>

namespace trove {
namespace {

// Elided articles and pronouns (French, Italian, Catalan) that precede an apostrophe.
constexpr std::array<std::u16string_view, 16> kElisions = {
    u"l", u"d", u"j", u"m", u"n", u"s", u"t", u"c", u"qu", u"jusqu", u"lorsqu", u"puisqu",
    u"quoiqu", u"dell", u"all", u"nell"};

bool is_apostrophe(char16_t c) { return c == u'\'' || c == u'\u2019' || c == u'\u02bc'; }

bool folds_marks(UScriptCode s) {
  return s == USCRIPT_LATIN || s == USCRIPT_GREEK || s == USCRIPT_CYRILLIC;
}

// Letters with no canonical decomposition that shoppers type without their stroke or ligature.
const char16_t* fold_special(UChar32 c) {
  switch (c) {
    case 0x00F8: return u"o";   // ø
    case 0x00E6: return u"ae";  // æ
    case 0x0153: return u"oe";  // œ
    case 0x0142: return u"l";   // ł
    case 0x0111: return u"d";   // đ
    case 0x0131: return u"i";   // dotless i
    case 0x00F0: return u"d";   // ð
    case 0x00FE: return u"th";  // þ
    default: return nullptr;
  }
}

// One word iterator per thread: ICU iterators are not thread-safe, and cloning per call costs
// more than the analysis itself.
icu::BreakIterator* word_iterator() {
  thread_local std::unique_ptr<icu::BreakIterator> iter = [] {
    UErrorCode status = U_ZERO_ERROR;
    std::unique_ptr<icu::BreakIterator> it(
        icu::BreakIterator::createWordInstance(icu::Locale::getRoot(), status));
    if (U_FAILURE(status)) it.reset();
    return it;
  }();
  return iter.get();
}

bool is_ascii(std::string_view s) {
  for (unsigned char c : s) {
    if (c >= 0x80) return false;
  }
  return true;
}

}  // namespace

struct Analyzer::Rep {
  const icu::Normalizer2* nfkc_cf = nullptr;
  const icu::Normalizer2* nfd = nullptr;
  const icu::Normalizer2* nfc = nullptr;

  icu::UnicodeString fold16(std::string_view text) const {
    icu::UnicodeString u = icu::UnicodeString::fromUTF8(icu::StringPiece(text.data(),
                                                                         static_cast<int32_t>(text.size())));
    if (is_ascii(text)) return u.toLower(icu::Locale::getRoot());  // NFKC_CF of ASCII
    UErrorCode status = U_ZERO_ERROR;
    icu::UnicodeString folded = nfkc_cf->normalize(u, status);
    if (U_FAILURE(status)) return u.foldCase();
    status = U_ZERO_ERROR;
    icu::UnicodeString decomposed = nfd->normalize(folded, status);
    if (U_FAILURE(status)) return folded;
    icu::UnicodeString out;
    UScriptCode base_script = USCRIPT_COMMON;
    for (int32_t i = 0; i < decomposed.length();) {
      const UChar32 c = decomposed.char32At(i);
      i += U16_LENGTH(c);
      if (u_charType(c) == U_NON_SPACING_MARK) {
        if (!folds_marks(base_script)) out.append(c);
        continue;
      }
      UErrorCode sc = U_ZERO_ERROR;
      base_script = uscript_getScript(c, &sc);
      if (const char16_t* repl = fold_special(c)) {
        out.append(repl, -1);
      } else {
        out.append(c);
      }
    }
    status = U_ZERO_ERROR;
    icu::UnicodeString composed = nfc->normalize(out, status);
    return U_FAILURE(status) ? out : composed;
  }
};

Analyzer::Analyzer() : rep_(std::make_unique<Rep>()) {
  UErrorCode status = U_ZERO_ERROR;
  rep_->nfkc_cf = icu::Normalizer2::getNFKCCasefoldInstance(status);
  rep_->nfd = icu::Normalizer2::getNFDInstance(status);
  rep_->nfc = icu::Normalizer2::getNFCInstance(status);
  // ICU's data is linked in (libicudata); failure here means a broken installation.
  assert(U_SUCCESS(status));
}
Analyzer::~Analyzer() = default;

std::string Analyzer::fold(std::string_view text) const {
  std::string out;
  rep_->fold16(text).toUTF8String(out);
  return out;
}

void Analyzer::analyze(std::string_view text, std::vector<Token>* out,
                       uint32_t first_position) const {
  const icu::UnicodeString folded = rep_->fold16(text);
  icu::BreakIterator* it = word_iterator();
  if (it == nullptr || folded.isEmpty()) return;
  it->setText(folded);
  uint32_t position = first_position;
  int32_t prev_end = -1;           // end of the previous token in `folded`
  size_t prev_index = SIZE_MAX;    // its index in *out
  int32_t start = it->first();
  for (int32_t end = it->next(); end != icu::BreakIterator::DONE; start = end, end = it->next()) {
    const int32_t status = it->getRuleStatus();
    if (status < UBRK_WORD_NONE_LIMIT) continue;
    icu::UnicodeString word = folded.tempSubStringBetween(start, end);
    // Apostrophes: split off an elided article ("d'automne"), drop an English possessive
    // ("children's"), and otherwise join the parts ("o'neil" -> "oneil").
    int32_t apos = -1;
    for (int32_t i = 0; i < word.length(); ++i) {
      if (is_apostrophe(word[i])) {
        apos = i;
        break;
      }
    }
    if (apos > 0) {
      const std::u16string_view head(word.getBuffer(), static_cast<size_t>(apos));
      bool elided = false;
      for (auto e : kElisions) elided = elided || head == e;
      if (elided && apos + 1 < word.length()) {
        word = word.tempSubString(apos + 1);
      } else if (word.length() == apos + 2 && word[apos + 1] == u's') {
        word.truncate(apos);
      }
      icu::UnicodeString cleaned;
      for (int32_t i = 0; i < word.length(); ++i) {
        if (!is_apostrophe(word[i])) cleaned.append(word[i]);
      }
      word = cleaned;
    }
    if (word.isEmpty()) continue;
    Token tok;
    word.toUTF8String(tok.text);
    tok.numeric = status >= UBRK_WORD_NUMBER && status < UBRK_WORD_NUMBER_LIMIT;
    tok.position = position++;
    // A compound written with one '-', '&' or '/' between two tokens ("t-light", "at&t") is
    // also indexed joined, at the first part's position.
    const bool compound = prev_end >= 0 && start == prev_end + 1 &&
                          (folded[prev_end] == u'-' || folded[prev_end] == u'&' ||
                           folded[prev_end] == u'/');
    std::string joined;
    uint32_t joined_pos = 0;
    if (compound && prev_index < out->size()) {
      joined = (*out)[prev_index].text + tok.text;
      joined_pos = (*out)[prev_index].position;
    }
    out->push_back(std::move(tok));
    prev_index = out->size() - 1;
    prev_end = end;
    if (!joined.empty()) out->push_back(Token{std::move(joined), joined_pos, true, false});
  }
}

void Analyzer::word_spans(std::string_view text,
                          std::vector<std::pair<size_t, size_t>>* out) const {
  // Decoded by hand so that every UTF-16 offset maps back to a byte offset of `text`: an
  // invalid sequence becomes one U+FFFD (as fromUTF8 makes it) but spans its own bytes, not
  // U+FFFD's three.
  icu::UnicodeString u;
  std::vector<size_t> byte_at;  // byte offset of each UTF-16 unit, then text.size()
  byte_at.reserve(text.size() + 1);
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  const auto len = static_cast<int32_t>(text.size());
  for (int32_t i = 0; i < len;) {
    const auto begin = static_cast<size_t>(i);
    UChar32 c;
    U8_NEXT(s, i, len, c);
    if (c < 0) c = 0xFFFD;
    u.append(c);
    byte_at.push_back(begin);
    if (U16_LENGTH(c) == 2) byte_at.push_back(begin);
  }
  byte_at.push_back(text.size());
  icu::BreakIterator* it = word_iterator();
  if (it == nullptr || u.isEmpty()) return;
  it->setText(u);
  int32_t start = it->first();
  for (int32_t end = it->next(); end != icu::BreakIterator::DONE; start = end, end = it->next()) {
    if (it->getRuleStatus() < UBRK_WORD_NONE_LIMIT) continue;
    out->emplace_back(byte_at[static_cast<size_t>(start)], byte_at[static_cast<size_t>(end)]);
  }
}

}  // namespace trove
