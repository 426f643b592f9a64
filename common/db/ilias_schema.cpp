#include "common/db/ilias_schema.h"

#include <array>

namespace ilchat::db::ilias {

namespace {

constexpr auto every_version = std::to_array<TableColumns>({
    {"chatroom_settings", "room_id"},
    {"chatroom_users", "room_id user_id userdata connected"},
    {"chatroom_sessions", "sess_id room_id user_id userdata connected disconnected"},
    {"chatroom_sessions_seq", "sequence"},
    {"chatroom_history", "hist_id room_id message timestamp"},
    {"chatroom_history_seq", "sequence"},
    {"osc_conversation", "id is_group participants"},
    {"osc_messages", "id conversation_id user_id message timestamp"},
    {"osc_activity", "conversation_id user_id timestamp is_closed"},
    {"usr_pref", "usr_id keyword value"},
});

constexpr auto private_rooms = std::to_array<TableColumns>({
    {history_sub_room.first, history_sub_room.second},
    {private_rooms_table, "proom_id parent_id title owner closed"},
    {"chatroom_psessions", "proom_id user_id disconnected"},
});

constexpr auto emoji_columns = std::to_array<std::pair<std::string_view, std::string_view>>({
    {"chatroom_history", "message"},
    {"osc_messages", "message"},
});

}  // namespace

std::span<const TableColumns> tables() { return every_version; }
std::span<const TableColumns> private_room_tables() { return private_rooms; }
std::span<const std::pair<std::string_view, std::string_view>> message_columns() { return emoji_columns; }

}  // namespace ilchat::db::ilias
