// Analyzer: Unicode text -> search terms, identical at index and query time.
//
//   "Crème Brûlée"   -> creme brulee        (NFKC case folding, diacritics folded)
//   "T-LIGHT holder" -> t light holder (+ "tlight" joined at the position of "t")
//   "AT&T"           -> at t (+ "att")
//   "4.5-inch"       -> 4.5 inch (+ "4.5inch")
//   "d'automne"      -> automne              (French/Italian elisions split off)
//   "l’huile"        -> huile
//   "巧克力"          -> ICU dictionary word segmentation for CJK
//
// Word boundaries come from ICU's BreakIterator (UAX #29 plus dictionaries); only word, number,
// kana and ideograph segments become tokens. Diacritics are folded only on Latin, Greek and
// Cyrillic letters: elsewhere (Devanagari vowel signs, Japanese voicing marks) a combining mark
// changes the letter, and folding it would merge different words.
//
//   Analyzer a;
//   std::vector<Token> tokens;
//   a.analyze("Crème Brûlée", &tokens);  // {"creme",0}, {"brulee",1}
//
// Thread-safety: an Analyzer is safe to use from many threads at once (ICU iterators are
// per thread inside).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace trove {

struct Token {
  std::string text;       // folded term, UTF-8
  uint32_t position = 0;  // word position; a joined compound shares its first part's position
  bool joined = false;    // "tlight" made from "t-light": an extra form, not a word of the text
  bool numeric = false;   // digits (with inner . or ,)
  bool operator==(const Token&) const = default;
};

class Analyzer {
 public:
  Analyzer();
  ~Analyzer();
  Analyzer(const Analyzer&) = delete;
  Analyzer& operator=(const Analyzer&) = delete;

  // Appends the tokens of `text` (positions continue from `first_position`). Invalid UTF-8 is
  // replaced by U+FFFD, which is never part of a token.
  void analyze(std::string_view text, std::vector<Token>* out, uint32_t first_position = 0) const;

  // Byte ranges [begin, end) of the word segments of `text` as written (not folded), in
  // order: what highlighting wraps.
  void word_spans(std::string_view text, std::vector<std::pair<size_t, size_t>>* out) const;

  // The folded form of a whole string (case, compatibility and diacritics), no tokenization.
  std::string fold(std::string_view text) const;

 private:
  struct Rep;
  std::unique_ptr<Rep> rep_;
};

}  // namespace trove
