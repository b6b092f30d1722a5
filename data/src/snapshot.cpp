#include "trove/data/snapshot.h"

#include <fcntl.h>
#include <unistd.h>
#include <xxhash.h>
#include <zstd.h>

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "file_util.h"

namespace trove {
namespace {

namespace fs = std::filesystem;

constexpr SideFileKind kStateKind{"snap", "TROVESNP", 1};
constexpr size_t kHeaderBytes = 48;
constexpr int kZstdLevel = 3;  // fast: snapshots are written while the server runs

struct Header {
  uint32_t version = 0;
  uint32_t reserved = 0;
  uint64_t seq = 0;
  uint64_t raw_size = 0;
  uint64_t compressed_size = 0;
  uint64_t payload_hash = 0;
};

void put64(char* p, uint64_t v) { std::memcpy(p, &v, 8); }  // x86-64: little-endian
uint64_t get64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

std::string encode_header(std::string_view magic, const Header& h) {
  std::string out(kHeaderBytes, '\0');
  std::memcpy(out.data(), magic.data(), 8);
  uint32_t vr[2] = {h.version, h.reserved};
  std::memcpy(out.data() + 8, vr, 8);
  put64(out.data() + 16, h.seq);
  put64(out.data() + 24, h.raw_size);
  put64(out.data() + 32, h.compressed_size);
  put64(out.data() + 40, h.payload_hash);
  return out;
}

std::string file_name(uint64_t seq, std::string_view ext) {
  char name[24];
  std::snprintf(name, sizeof name, "%020llu.", static_cast<unsigned long long>(seq));
  return name + std::string(ext);
}

std::vector<SnapshotInfo> list_kind(const std::string& dir, std::string_view ext) {
  std::vector<SnapshotInfo> out;
  const size_t name_size = 21 + ext.size();
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() != name_size || name[20] != '.' || name.compare(21, ext.size(), ext) != 0) {
      continue;
    }
    if (!std::all_of(name.begin(), name.begin() + 20, [](char c) { return c >= '0' && c <= '9'; })) {
      continue;
    }
    SnapshotInfo info;
    // Twenty digits can exceed 2^64 - 1 (std::stoull threw out of start-up here): such a
    // name is not one Trove writes, so the file is not a snapshot.
    const auto parsed = std::from_chars(name.data(), name.data() + 20, info.seq);
    if (parsed.ec != std::errc() || parsed.ptr != name.data() + 20) continue;
    info.path = entry.path().string();
    info.bytes = entry.file_size(ec);
    out.push_back(std::move(info));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.seq < b.seq; });
  return out;
}

Result<SnapshotInfo> write_kind(const std::string& dir, const SideFileKind& kind, uint64_t seq,
                                std::string_view raw, size_t keep) {
  assert(kind.magic.size() == 8);
  TROVE_RETURN_IF_ERROR(file_util::make_dirs(dir));
  std::string compressed(ZSTD_compressBound(raw.size()), '\0');
  const size_t n =
      ZSTD_compress(compressed.data(), compressed.size(), raw.data(), raw.size(), kZstdLevel);
  if (ZSTD_isError(n)) return Status::internal(std::string("zstd: ") + ZSTD_getErrorName(n));
  compressed.resize(n);

  Header h;
  h.version = kind.version;
  h.seq = seq;
  h.raw_size = raw.size();
  h.compressed_size = n;
  h.payload_hash = XXH64(compressed.data(), n, 0);
  std::string header = encode_header(kind.magic, h);
  char tail[8];
  put64(tail, XXH64(header.data(), header.size(), 0));

  SnapshotInfo info;
  info.seq = seq;
  info.path = (fs::path(dir) / file_name(seq, kind.ext)).string();
  info.bytes = header.size() + n + 8;
  const std::string tmp = info.path + ".tmp";
  TROVE_RETURN_IF_ERROR(file_util::write_file_durably(
      tmp, info.path, {std::string_view(header), std::string_view(compressed), std::string_view(tail, 8)}));

  // Prune: keep the newest `keep`, and drop temp files a crash mid-write left behind (only
  // one process writes here: the Store holds the journal's lock). A failure here costs only
  // disk space.
  auto all = list_kind(dir, kind.ext);
  for (size_t i = 0; i + keep < all.size(); ++i) ::unlink(all[i].path.c_str());
  std::string tmp_end(1, '.');  // (not "." + ...: GCC 12's -Wrestrict misfires on it)
  tmp_end.append(kind.ext).append(".tmp");
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().string().ends_with(tmp_end)) ::unlink(entry.path().c_str());
  }
  return info;
}

// What messages call a file of the kind.
std::string noun(const SideFileKind& kind) {
  return kind.ext == kStateKind.ext ? "snapshot" : std::string(kind.ext) + " file";
}

Result<std::string> read_kind(const SnapshotInfo& info, const SideFileKind& kind) {
  const std::string what = noun(kind);
  file_util::MappedFile file;
  TROVE_RETURN_IF_ERROR(file_util::MappedFile::open(info.path, &file));
  const std::string_view bytes = file.bytes();
  if (bytes.size() < kHeaderBytes + 8 || std::memcmp(bytes.data(), kind.magic.data(), 8) != 0) {
    return Status::corruption("not a Trove " + what + " (bad magic or too short)");
  }
  // The last 8 bytes hash the header, so a damaged size field is caught before it is used.
  const uint64_t header_hash = get64(bytes.data() + bytes.size() - 8);
  if (XXH64(bytes.data(), kHeaderBytes, 0) != header_hash) {
    return Status::corruption(what + " header checksum mismatch");
  }
  Header h;
  std::memcpy(&h.version, bytes.data() + 8, 4);
  h.seq = get64(bytes.data() + 16);
  h.raw_size = get64(bytes.data() + 24);
  h.compressed_size = get64(bytes.data() + 32);
  h.payload_hash = get64(bytes.data() + 40);
  if (h.version != kind.version) {
    return Status::corruption(what + " format version " +
                              std::to_string(h.version) + " is not supported (expected " +
                              std::to_string(kind.version) + ")");
  }
  if (h.compressed_size != bytes.size() - kHeaderBytes - 8 || h.seq != info.seq) {
    return Status::corruption(what + " size or sequence does not match its header");
  }
  const char* payload = bytes.data() + kHeaderBytes;
  if (XXH64(payload, h.compressed_size, 0) != h.payload_hash) {
    return Status::corruption(what + " payload checksum mismatch");
  }
  if (h.raw_size > (64ull << 30)) {
    return Status::corruption(what + " claims an absurd size");
  }
  std::string raw(h.raw_size, '\0');
  const size_t n = ZSTD_decompress(raw.data(), raw.size(), payload, h.compressed_size);
  if (ZSTD_isError(n) || n != h.raw_size) {
    return Status::corruption(what + " does not decompress: " +
                              (ZSTD_isError(n) ? ZSTD_getErrorName(n) : "size mismatch"));
  }
  return raw;
}

Result<State> read_snapshot(const SnapshotInfo& info) {
  auto raw = read_kind(info, kStateKind);
  if (!raw.ok()) return raw.status();
  auto state = State::decode(raw.value());
  if (!state.ok()) return state.status();
  if (state->last_seq() != info.seq) {
    return Status::corruption("snapshot state seq differs from header");
  }
  return std::move(state).value();
}

}  // namespace

std::vector<SnapshotInfo> list_snapshots(const std::string& dir) {
  return list_kind(dir, kStateKind.ext);
}

Result<SnapshotInfo> write_snapshot(const std::string& dir, uint64_t seq,
                                    const std::string& encoded, size_t keep) {
  return write_kind(dir, kStateKind, seq, encoded, keep);
}

std::vector<SnapshotInfo> list_side_files(const std::string& dir, std::string_view ext) {
  return list_kind(dir, ext);
}

Result<SnapshotInfo> write_side_file(const std::string& dir, const SideFileKind& kind, uint64_t seq,
                                     std::string_view raw, size_t keep) {
  assert(kind.ext != kStateKind.ext && kind.magic != kStateKind.magic);
  return write_kind(dir, kind, seq, raw, keep);
}

Result<std::string> read_side_file(const SnapshotInfo& info, const SideFileKind& kind) {
  return read_kind(info, kind);
}

Result<std::optional<LoadedSnapshot>> load_newest_snapshot(const std::string& dir,
                                                           uint64_t max_seq,
                                                           std::vector<std::string>* warnings) {
  auto all = list_snapshots(dir);
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    if (it->seq > max_seq) continue;
    auto state = read_snapshot(*it);
    if (!state.ok()) {
      if (warnings) {
        warnings->push_back("snapshot " + it->path + " skipped: " + state.status().to_string() +
                            "; falling back to an older snapshot or a full replay");
      }
      continue;
    }
    return std::optional<LoadedSnapshot>(LoadedSnapshot{std::move(state).value(), *it});
  }
  return std::optional<LoadedSnapshot>();
}

}  // namespace trove
