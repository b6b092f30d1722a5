// Folding RecoModels over the journal (Recommender::open and its forget rebuilds, and
// build_models). Private to recommend/.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "trove/data/journal.h"
#include "trove/data/status.h"
#include "trove/recommend/models.h"

namespace trove::reco_internal {

// What identifies a journal record: XXH64 of its payload, seeded with its timestamp and type.
uint64_t record_fingerprint(const RecordView& r);

struct Fold {
  uint64_t from = 1;   // the first record folded
  static constexpr uint64_t kToEnd = UINT64_MAX;
  uint64_t until = 0;  // the last (kToEnd: as far as the journal goes)
  const std::vector<RecoModels::Forgotten>* forgotten = nullptr;  // their events left out
  const std::atomic<bool>* stop = nullptr;  // set: stop early (Unavailable)
  // When set, the record at from - 1 is read first (not folded) and must have this
  // fingerprint (kCorruption otherwise): the record the models were saved at.
  std::optional<uint64_t> check_before;
  // Row updates made once this many wait (0: only when RecoModels itself flushes, at 2^22).
  size_t flush_at = 0;
  // Out: the fingerprint of the record at `until` (when read; kToEnd: of the last one read),
  // the records folded and the seq of the last record read.
  uint64_t fingerprint = 0;
  uint64_t folded = 0;
  uint64_t last = 0;
};

// Folds `models` over the journal records from..until of DATA_DIR/journal (apply_deferred,
// then flush). The journal must hold them all (kCorruption names the seq it ends at).
Status fold_journal(const std::string& data_dir, RecoModels* models, Fold& fold);

}  // namespace trove::reco_internal
