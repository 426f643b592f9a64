#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/db/connection.h"
#include "daemon/store/im_store.h"
#include "daemon/store/room_store.h"

// Every write the chat makes, as data rather than a closure: a record can wait in memory, be
// written to the spool file while the database is away, and be replayed after a restart.
namespace ilchat::store {

struct RoomMessageWrite {  // chatroom_history (docs/protocol.md, "chatroom_history")
    std::int64_t room_id = 0;
    std::int64_t sub_room = 0;
    std::string json;
    std::int64_t timestamp_s = 0;
};

struct UserLeftWrite {  // chatroom_users -> chatroom_sessions after the disconnect grace
    std::int64_t user_id = 0;
    std::vector<std::int64_t> room_ids;
    std::int64_t at_s = 0;
};

struct PrivateRoomsLeftWrite {  // ILIAS <= 8: chatroom_psessions / chatroom_prooms after the grace
    std::int64_t user_id = 0;
    std::vector<std::int64_t> proom_ids;   // the private rooms the user was in
    std::vector<std::int64_t> closed_ids;  // those of them nobody is in any more
    std::int64_t at_s = 0;
};

struct ConversationWrite {  // osc_conversation
    bool insert = false;  // INSERT of a new conversation, else UPDATE of its participants
    StoredConversation conversation;
};

struct ImMessageWrite {  // osc_messages
    StoredMessage message;
};

struct ActivityWrite {  // osc_activity: each user's read mark in a conversation
    std::string conversation_id;
    std::vector<std::int64_t> user_ids;
    std::int64_t timestamp = 0;  // ms; 0 only creates a missing row
};

struct CloseWrite {  // osc_activity.is_closed
    std::string conversation_id;
    std::int64_t user_id = 0;
    std::int64_t at_ms = 0;
};

using WriteRecord =
    std::variant<RoomMessageWrite, UserLeftWrite, ConversationWrite, ImMessageWrite, ActivityWrite, CloseWrite,
                 PrivateRoomsLeftWrite>;

// Runs the statements of one record. With `replay` the record may have been stored before (a
// spool replayed after a crash, or a batch whose COMMIT got no answer): then a row that is
// already there is left alone, so each record lands exactly once.
void apply(db::Connection& db, const RoomSchema& schema, const WriteRecord& record, bool replay);

// The hot records (chat messages) at the front of `records` as SQL text to run with others in one
// round trip: a run of room messages together (their ids as one block where the schema allows),
// an On-Screen Chat message alone. `records` = 0 for a record that must run through apply. Never
// for a replay: it would not check what is there.
struct Script {
    std::size_t records = 0;
    std::string sql;
};
Script script_of(db::Connection& db, const RoomSchema& schema, std::span<const WriteRecord> records);

// One line of JSON (no newline); decode gives nullopt for a line that is not a record.
std::string encode(const WriteRecord& record);
std::optional<WriteRecord> decode(std::string_view line);

}  // namespace ilchat::store
