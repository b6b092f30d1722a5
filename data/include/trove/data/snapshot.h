// Snapshots: a State as of a sequence number, in DATA_DIR/snapshots/.
//
// File `<seq, 20 digits>.snap`: a 48-byte header (magic "TROVESNP", format version, seq,
// uncompressed size, compressed size, XXH64 of the compressed bytes, XXH64 of the header)
// followed by zstd(State::encode()). Written to a temp file, fsynced, renamed into place, and
// the directory fsynced, so a crash leaves either the old set or the new one. Only the newest
// `keep` snapshots are kept.
//
// Side files: a derived view's own state as of a seq (the recommendation models, `<seq>.models`),
// in the same container (header with the kind's own magic and format version, zstd payload,
// checksums, the same atomic write and pruning), so a view can be loaded instead of rebuilt
// from the journal. The view owns the payload's encoding; a file it cannot use (missing, of
// another version, damaged) only means the view is rebuilt.
//
// Thread-safety: the functions are reentrant; two writers must not target one directory.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "trove/data/state.h"
#include "trove/data/status.h"

namespace trove {

struct SnapshotInfo {
  uint64_t seq = 0;
  std::string path;
  uint64_t bytes = 0;  // file size
};

// Writes a snapshot of `encoded` (State::encode() of the state at `seq`). Returns its file.
Result<SnapshotInfo> write_snapshot(const std::string& dir, uint64_t seq,
                                    const std::string& encoded, size_t keep = 3);

struct LoadedSnapshot {
  State state;
  SnapshotInfo info;
};

// The newest snapshot with seq <= max_seq that passes every check. Damaged or unreadable
// ones are skipped with a warning each (so start-up falls back to an older one or to a full
// replay). nullopt when none qualifies.
Result<std::optional<LoadedSnapshot>> load_newest_snapshot(const std::string& dir,
                                                           uint64_t max_seq,
                                                           std::vector<std::string>* warnings);

// Snapshot files in `dir`, oldest first (by name; not validated).
std::vector<SnapshotInfo> list_snapshots(const std::string& dir);

// ---- side files ----------------------------------------------------------------------------

struct SideFileKind {
  std::string_view ext;    // file name extension, without the dot ("models")
  std::string_view magic;  // exactly 8 bytes, not "TROVESNP"
  uint32_t version = 1;    // of the payload's encoding: a file of another version is refused
};

// Writes `raw` as `<dir>/<seq>.<ext>` (tmp + fsync + rename + directory fsync); keeps the newest
// `keep` files of the kind and removes its temp files a crash left behind.
Result<SnapshotInfo> write_side_file(const std::string& dir, const SideFileKind& kind, uint64_t seq,
                                     std::string_view raw, size_t keep);
// The payload of a side file, after every check (magic, version, sizes, both checksums, the seq
// in its name). kCorruption says what failed.
Result<std::string> read_side_file(const SnapshotInfo& info, const SideFileKind& kind);
// Side files of the kind in `dir`, oldest first (by name; not validated).
std::vector<SnapshotInfo> list_side_files(const std::string& dir, std::string_view ext);

}  // namespace trove
