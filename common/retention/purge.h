#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/db/connection.h"

namespace ilchat::retention {

// Rows removed (or, for a dry run, that would be removed) per table.
struct PurgeCounts {
    std::uint64_t history = 0;  // chatroom_history
    std::uint64_t osc_messages = 0;
    std::uint64_t osc_conversations = 0;
    std::uint64_t osc_activity = 0;
    // So that the daemon can forget them too (D7); a dry run leaves this empty.
    std::vector<std::string> deleted_conversation_ids;
};

struct PurgeProgress {
    std::string_view table;     // the table the last batch deleted from
    const PurgeCounts& counts;  // totals so far
};

// The deletion job's statements (docs/decisions.md D9; docs/protocol.md, "SQL") in their order: chat history and OSC messages older
// than `bound`, then conversations left without messages, then activity rows of conversations
// that no longer exist. Each step deletes at most `batch` rows per statement (D9) until a batch
// comes up short, so no statement holds locks for long. `progress` is called after every batch
// and may return false to stop there; each batch deletes in one statement and the steps run in this
// order, so stopping leaves at most orphans for the next run and never removes a conversation
// that still has messages. Throws db::Error, and std::invalid_argument for a zero batch.
PurgeCounts purge(db::Connection& db, std::chrono::system_clock::time_point bound, std::size_t batch,
                  const std::function<bool(const PurgeProgress&)>& progress = {});

// What purge would delete now, in one consistent read: conversations count when they have no
// message from `bound` on, activity rows when their conversation is gone or counts.
PurgeCounts count_purgeable(db::Connection& db, std::chrono::system_clock::time_point bound);

}  // namespace ilchat::retention
