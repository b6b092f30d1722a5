// UTF-8 helpers shared by the fuzzy module's automaton, dictionary and tests.
//
// Edit distances in trove::fuzzy count Unicode code points, not bytes: "crème" is 5 symbols,
// and replacing "è" (2 bytes) or "😀" (4 bytes) is one edit. Text is not normalized here;
// the analyzer (index/) hands us folded terms.
//
// Decoding rule (used everywhere in this module, so a query and a dictionary term always agree):
// a well-formed sequence gives its code point; every byte that does not start a well-formed
// sequence (stray continuation, truncated, overlong, surrogate, > U+10FFFF) gives U+FFFD.
//
// Thread-safety: free functions without state.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace trove::fuzzy {

inline constexpr char32_t kReplacementChar = 0xFFFD;

// Decodes the code point at utf8[*pos] and advances *pos past it (by 1 for an invalid byte,
// which yields U+FFFD). REQUIRES: *pos < utf8.size().
char32_t next_code_point(std::string_view utf8, size_t* pos);

// Appends the code points of `utf8` to `*out`. Returns false if some byte was invalid (and was
// replaced by U+FFFD).
bool decode_utf8(std::string_view utf8, std::u32string* out);

// True when `utf8` is well-formed UTF-8 (no overlongs, surrogates or values above U+10FFFF).
bool is_valid_utf8(std::string_view utf8);

// Number of code points `decode_utf8` would produce.
size_t count_code_points(std::string_view utf8);

// Appends the UTF-8 encoding of `cp`. REQUIRES: cp <= 0x10FFFF and not a surrogate.
void append_utf8(char32_t cp, std::string* out);

// The UTF-8 encoding of a code-point string.
std::string encode_utf8(std::u32string_view code_points);

// Length of the sequence a lead byte announces: 1 for ASCII, 2..4 for a lead byte, 0 for a
// continuation byte or a byte that never starts a sequence (0xC0, 0xC1, 0xF5..0xFF).
inline int utf8_sequence_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead < 0xC2) return 0;
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  if (lead < 0xF5) return 4;
  return 0;
}

}  // namespace trove::fuzzy
