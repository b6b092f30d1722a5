// Replaying journal records into a State: the one definition of how a record is checked (it
// parses; its header's type and timestamp match its payload) and applied. Store::open,
// Store::replay_until and the automatic snapshots' background build all go through it.
// Internal to trove_data.
//
// Thread-safety: a call works on the State it is given, which the caller owns.
#pragma once

#include <cstdint>
#include <functional>

#include "trove/data/journal.h"
#include "trove/data/state.h"
#include "trove/data/status.h"
#include "trove/data/store.h"

namespace trove::data_internal {

// Calls `fn` on each record from seq `from` on, until it returns false (Journal::read or
// Journal::scan).
using RecordSource =
    std::function<Status(uint64_t from, const std::function<bool(const RecordView&)>&)>;

// Applies the records after state.last_seq() up to `until_seq`, counting them in *applied and
// calling `listener` (if any) after each. Corruption names the record.
Status apply_records(const RecordSource& source, State& state, uint64_t until_seq,
                     uint64_t* applied, const Store::Listener* listener = nullptr);

}  // namespace trove::data_internal
