// A tiny binary archive for the canonical state encoding. One `io(ar, value)` function per type
// serves both directions (Writer and Reader), so encode and decode cannot drift. Hash maps are
// written in key order, which makes the encoding canonical (the digest hashes it).
#pragma once

#include <absl/container/flat_hash_map.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace trove::archive {

class Writer {
 public:
  static constexpr bool kReading = false;
  std::string out;

  void raw(const void* p, size_t n) { out.append(static_cast<const char*>(p), n); }
  void varint(uint64_t v) {
    while (v >= 0x80) {
      out.push_back(static_cast<char>(v | 0x80));
      v >>= 7;
    }
    out.push_back(static_cast<char>(v));
  }
};

class Reader {
 public:
  static constexpr bool kReading = true;
  explicit Reader(std::string_view in) : in_(in) {}
  bool failed = false;

  void raw(void* p, size_t n) {
    if (failed || in_.size() - pos_ < n) {
      failed = true;
      std::memset(p, 0, n);
      return;
    }
    std::memcpy(p, in_.data() + pos_, n);
    pos_ += n;
  }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64 && !failed; shift += 7) {
      if (pos_ >= in_.size()) break;
      const auto b = static_cast<uint8_t>(in_[pos_++]);
      v |= uint64_t(b & 0x7F) << shift;
      if (!(b & 0x80)) return v;
    }
    failed = true;
    return 0;
  }
  // A length read from untrusted bytes: no more than what is left (each element >= 1 byte).
  size_t length() {
    uint64_t n = varint();
    if (n > in_.size() - pos_) {
      failed = true;
      return 0;
    }
    return static_cast<size_t>(n);
  }
  std::string_view take(size_t n) {
    if (failed || in_.size() - pos_ < n) {
      failed = true;
      return {};
    }
    auto s = in_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  bool at_end() const { return pos_ == in_.size(); }

 private:
  std::string_view in_;
  size_t pos_ = 0;
};

// Integers as varints (zigzag for signed), floats bitwise, enums as their integer.
template <class Ar, class T>
  requires std::is_integral_v<T> || std::is_enum_v<T>
void io(Ar& ar, T& v) {
  using U = std::conditional_t<std::is_enum_v<T>, std::underlying_type<T>, std::type_identity<T>>;
  using I = typename U::type;
  if constexpr (Ar::kReading) {
    uint64_t raw = ar.varint();
    if constexpr (std::is_signed_v<I>) {
      v = static_cast<T>(static_cast<I>((raw >> 1) ^ (~(raw & 1) + 1)));
    } else {
      v = static_cast<T>(raw);
    }
  } else {
    const auto i = static_cast<I>(v);
    if constexpr (std::is_signed_v<I>) {
      ar.varint((static_cast<uint64_t>(i) << 1) ^ static_cast<uint64_t>(i >> (sizeof(I) * 8 - 1)));
    } else {
      ar.varint(static_cast<uint64_t>(i));
    }
  }
}

template <class Ar, class T>
  requires std::is_floating_point_v<T>
void io(Ar& ar, T& v) {
  if constexpr (Ar::kReading) {
    ar.raw(&v, sizeof v);
  } else {
    T c = v == 0 ? T(0) : v;  // one encoding for -0 and 0
    ar.raw(&c, sizeof c);
  }
}

template <class Ar>
void io(Ar& ar, std::string& s) {
  if constexpr (Ar::kReading) {
    s.assign(ar.take(ar.length()));
  } else {
    ar.varint(s.size());
    ar.raw(s.data(), s.size());
  }
}

template <class Ar, class A, class B>
void io(Ar& ar, std::pair<A, B>& v) {
  io(ar, v.first);
  io(ar, v.second);
}

template <class Ar, class T>
void io(Ar& ar, std::optional<T>& v) {
  bool has = v.has_value();
  io(ar, has);
  if constexpr (Ar::kReading) {
    if (has) io(ar, v.emplace());
    else v.reset();
  } else if (has) {
    io(ar, *v);
  }
}

template <class Ar, class T>
void io(Ar& ar, std::vector<T>& v) {
  if constexpr (Ar::kReading) {
    v.clear();
    size_t n = ar.length();
    v.reserve(n);
    for (size_t i = 0; i < n && !ar.failed; ++i) io(ar, v.emplace_back());
  } else {
    ar.varint(v.size());
    for (auto& x : v) io(ar, x);
  }
}

template <class Ar, class K, class V, class C>
void io(Ar& ar, std::map<K, V, C>& m) {
  if constexpr (Ar::kReading) {
    m.clear();
    size_t n = ar.length();
    for (size_t i = 0; i < n && !ar.failed; ++i) {
      K k{};
      io(ar, k);
      io(ar, m[std::move(k)]);
    }
  } else {
    ar.varint(m.size());
    for (auto& [k, v] : m) {
      K key = k;
      io(ar, key);
      io(ar, v);
    }
  }
}

template <class Ar, class K>
void io(Ar& ar, std::set<K>& s) {
  if constexpr (Ar::kReading) {
    s.clear();
    size_t n = ar.length();
    for (size_t i = 0; i < n && !ar.failed; ++i) {
      K k{};
      io(ar, k);
      s.insert(std::move(k));
    }
  } else {
    ar.varint(s.size());
    for (auto k : s) io(ar, k);
  }
}

// Hash maps: written sorted by key so the bytes do not depend on hash order.
template <class Ar, class K, class V>
void io(Ar& ar, absl::flat_hash_map<K, V>& m) {
  if constexpr (Ar::kReading) {
    m.clear();
    size_t n = ar.length();
    m.reserve(n);
    for (size_t i = 0; i < n && !ar.failed; ++i) {
      K k{};
      io(ar, k);
      io(ar, m[std::move(k)]);
    }
  } else {
    std::vector<std::pair<const K*, V*>> sorted;
    sorted.reserve(m.size());
    for (auto& [k, v] : m) sorted.emplace_back(&k, &v);
    std::sort(sorted.begin(), sorted.end(),
              [](const auto& a, const auto& b) { return *a.first < *b.first; });
    ar.varint(sorted.size());
    for (auto& [k, v] : sorted) {
      K key = *k;
      io(ar, key);
      io(ar, *v);
    }
  }
}

template <class Ar, class... Ts>
void io(Ar& ar, std::variant<Ts...>& v) {
  uint32_t index = static_cast<uint32_t>(v.index());
  io(ar, index);
  if constexpr (Ar::kReading) {
    if (index >= sizeof...(Ts)) {
      ar.failed = true;
      return;
    }
    [&]<size_t... I>(std::index_sequence<I...>) {
      ((index == I ? (io(ar, v.template emplace<I>()), 0) : 0), ...);
    }(std::index_sequence_for<Ts...>{});
  } else {
    std::visit([&](auto& x) { io(ar, x); }, v);
  }
}

}  // namespace trove::archive
