// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), as used by iSCSI, ext4 and LevelDB.
//
// Two implementations with identical results:
// - hardware: the SSE4.2 crc32 instruction, 8 bytes per step (~3 cycles latency each, so a
//   few GB/s on one stream; enough that checksumming is never the bottleneck of a replay);
// - portable: slicing-by-8 over tables built at compile time, for CPUs without SSE4.2.
// The choice is made once, on first use, from __builtin_cpu_supports.
//
// `crc` chains: crc32c(b, m, crc32c(a, n)) == crc32c(a ++ b). The journal relies on this to
// checksum the length field and the rest of a record without copying them together.
#include <nmmintrin.h>

#include <array>
#include <cstdint>
#include <cstring>

#include "trove/data/journal.h"

namespace trove {
namespace {

constexpr uint32_t kPolynomial = 0x82F63B78u;

using Tables = std::array<std::array<uint32_t, 256>, 8>;

// tables[k][b] is the CRC of byte b followed by k zero bytes, which lets slicing-by-8 fold
// eight input bytes with eight independent lookups.
constexpr Tables make_tables() {
  Tables t{};
  for (uint32_t b = 0; b < 256; ++b) {
    uint32_t c = b;
    for (int i = 0; i < 8; ++i) c = (c >> 1) ^ ((c & 1u) ? kPolynomial : 0u);
    t[0][b] = c;
  }
  for (uint32_t b = 0; b < 256; ++b) {
    for (size_t k = 1; k < 8; ++k) t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xFFu];
  }
  return t;
}

constexpr Tables kTables = make_tables();

inline uint64_t load_le64(const unsigned char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);  // unaligned-safe; x86 and every target we ship are little-endian
  return v;
}

}  // namespace

// Not in the public header: tests/data/journal_test.cpp declares these to check that both
// implementations agree, whichever one the dispatcher picks on the test machine.
namespace crc32c_internal {

uint32_t portable(const void* data, size_t n, uint32_t crc) {
  const auto* p = static_cast<const unsigned char*>(data);
  uint32_t c = ~crc;
  while (n > 0 && (reinterpret_cast<uintptr_t>(p) & 7u) != 0) {
    c = (c >> 8) ^ kTables[0][(c ^ *p++) & 0xFFu];
    --n;
  }
  while (n >= 8) {
    const uint64_t v = load_le64(p) ^ c;
    c = kTables[7][v & 0xFF] ^ kTables[6][(v >> 8) & 0xFF] ^ kTables[5][(v >> 16) & 0xFF] ^
        kTables[4][(v >> 24) & 0xFF] ^ kTables[3][(v >> 32) & 0xFF] ^ kTables[2][(v >> 40) & 0xFF] ^
        kTables[1][(v >> 48) & 0xFF] ^ kTables[0][v >> 56];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) c = (c >> 8) ^ kTables[0][(c ^ *p++) & 0xFFu];
  return ~c;
}

__attribute__((target("sse4.2"))) uint32_t hardware(const void* data, size_t n, uint32_t crc) {
  const auto* p = static_cast<const unsigned char*>(data);
  uint64_t c = ~crc;
  // Aligning first keeps the 8-byte loads from splitting cache lines.
  while (n > 0 && (reinterpret_cast<uintptr_t>(p) & 7u) != 0) {
    c = _mm_crc32_u8(static_cast<uint32_t>(c), *p++);
    --n;
  }
  while (n >= 8) {
    c = _mm_crc32_u64(c, load_le64(p));
    p += 8;
    n -= 8;
  }
  while (n-- > 0) c = _mm_crc32_u8(static_cast<uint32_t>(c), *p++);
  return ~static_cast<uint32_t>(c);
}

bool hardware_available() {
  static const bool available = __builtin_cpu_supports("sse4.2");
  return available;
}

}  // namespace crc32c_internal

uint32_t crc32c(const void* data, size_t n, uint32_t crc) {
  using Fn = uint32_t (*)(const void*, size_t, uint32_t);
  static const Fn impl =
      crc32c_internal::hardware_available() ? crc32c_internal::hardware : crc32c_internal::portable;
  return impl(data, n, crc);
}

}  // namespace trove
