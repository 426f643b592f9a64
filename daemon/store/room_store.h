#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/db/connection.h"

// The chat-room statements (docs/protocol.md, "SQL"), run on a database worker (or at start-up
// before the listener opens). Statement text matches what the Node server and ILIAS PHP expect.
namespace ilchat::store {

// What the ILIAS schema of this database has (ILIAS <= 8 still has private rooms).
struct RoomSchema {
    bool history_sub_room = false;  // chatroom_history.sub_room
    bool private_rooms = false;     // chatroom_prooms / chatroom_psessions
    // One INSERT of k rows into chatroom_history_seq yields k consecutive ids (MyISAM or Aria,
    // or InnoDB with innodb_autoinc_lock_mode <= 1, and auto_increment_increment 1), so a batch
    // of messages can take its ids as one block.
    bool history_id_blocks = false;
};

RoomSchema detect_room_schema(db::Connection& db);

// ILIAS's sequence emulation (ilDB::nextId on MySQL): the ids PHP takes from the same table
// never collide with ours.
std::int64_t next_id(db::Connection& db, const std::string& table);

std::vector<std::int64_t> load_room_ids(db::Connection& db);

// Private rooms still open (ILIAS <= 8): parent room, private room id, title, owner.
struct PrivateRoom {
    std::int64_t parent_id;
    std::int64_t id;
    std::string title;
    std::string owner;
};
std::vector<PrivateRoom> load_private_rooms(db::Connection& db);

// Moves every chatroom_users row to chatroom_sessions (start-up and shutdown).
void disconnect_all_users(db::Connection& db, const RoomSchema& schema, std::int64_t now_s);

// Moves one user's rows of the given rooms to chatroom_sessions (after the disconnect grace).
void disconnect_user(db::Connection& db, std::int64_t user_id, const std::vector<std::int64_t>& room_ids,
                     std::int64_t now_s);

// ILIAS <= 8: the user's private-room sessions end at `now_s`; the rooms in `closed` are closed.
void leave_private_rooms(db::Connection& db, std::int64_t user_id, const std::vector<std::int64_t>& proom_ids,
                         const std::vector<std::int64_t>& closed, std::int64_t now_s);

// One chat message for chatroom_history; `json` is the object as sent, the timestamp in seconds.
struct HistoryRow {
    std::int64_t room_id = 0;
    std::int64_t sub_room = 0;
    std::string_view json;
    std::int64_t timestamp_s = 0;
};

// The statements of persist_message for several messages as one script (one round trip): the
// sequence emulation in SQL variables, the ids taken as one block where the schema allows it
// (then also one multi-row INSERT). Without the D13 fallback: a failing script is redone one by one.
std::string persist_messages_script(db::Connection& db, const RoomSchema& schema, std::span<const HistoryRow> rows);

// Whether chatroom_history already holds this message (the object as sent carries its sender and
// millisecond time, so equal text in the same room and second is the same message).
bool message_stored(db::Connection& db, std::int64_t room_id, const std::string& json, std::int64_t timestamp_s);

// Stores one chat message; `json` is the object as sent, with the timestamp in seconds.
void persist_message(db::Connection& db, const RoomSchema& schema, std::int64_t room_id, std::int64_t sub_room,
                     const std::string& json, std::int64_t timestamp_s);

}  // namespace ilchat::store
