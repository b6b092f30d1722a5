#include "trove/fuzzy/utf8.h"

#include <cassert>

namespace trove::fuzzy {
namespace {

// Decodes one code point at s[i]; sets *len to the bytes consumed (>= 1). Returns
// kReplacementChar with *len = 1 for a byte that does not start a well-formed sequence.
char32_t decode_one(std::string_view s, size_t i, size_t* len, bool* ok) {
  const auto lead = static_cast<unsigned char>(s[i]);
  const int n = utf8_sequence_length(lead);
  *len = 1;
  *ok = true;
  if (n == 1) return lead;
  if (n == 0 || i + static_cast<size_t>(n) > s.size()) {
    *ok = false;
    return kReplacementChar;
  }
  char32_t cp = lead & (0x7F >> n);
  for (int j = 1; j < n; ++j) {
    const auto b = static_cast<unsigned char>(s[i + j]);
    if ((b & 0xC0) != 0x80) {
      *ok = false;
      return kReplacementChar;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  // Overlong 3- and 4-byte forms, surrogates and values past U+10FFFF are not well-formed.
  const bool overlong = (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000);
  if (overlong || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
    *ok = false;
    return kReplacementChar;
  }
  *len = static_cast<size_t>(n);
  return cp;
}

}  // namespace

char32_t next_code_point(std::string_view utf8, size_t* pos) {
  size_t len;
  bool ok;
  const char32_t cp = decode_one(utf8, *pos, &len, &ok);
  *pos += len;
  return cp;
}

bool decode_utf8(std::string_view utf8, std::u32string* out) {
  bool all_ok = true;
  for (size_t i = 0; i < utf8.size();) {
    size_t len;
    bool ok;
    out->push_back(decode_one(utf8, i, &len, &ok));
    all_ok &= ok;
    i += len;
  }
  return all_ok;
}

bool is_valid_utf8(std::string_view utf8) {
  for (size_t i = 0; i < utf8.size();) {
    if (static_cast<unsigned char>(utf8[i]) < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    bool ok;
    decode_one(utf8, i, &len, &ok);
    if (!ok) return false;
    i += len;
  }
  return true;
}

size_t count_code_points(std::string_view utf8) {
  size_t n = 0;
  for (size_t i = 0; i < utf8.size(); ++n) {
    size_t len;
    bool ok;
    decode_one(utf8, i, &len, &ok);
    i += len;
  }
  return n;
}

void append_utf8(char32_t cp, std::string* out) {
  // REQUIRES: a Unicode scalar value.
  assert(cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF));
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string encode_utf8(std::u32string_view code_points) {
  std::string out;
  out.reserve(code_points.size());
  for (char32_t cp : code_points) append_utf8(cp, &out);
  return out;
}

}  // namespace trove::fuzzy
