#pragma once

#include <span>
#include <string_view>
#include <utility>

// The ILIAS tables and columns ilchatd reads or writes (docs/protocol.md, "SQL"): the one list
// that `ilchatctl check-db` checks a database against and that the daemon's schema detection
// names. A unit test holds it to the statements in daemon/store and common/retention and to
// the ILIAS schemas under tests/sql.
namespace ilchat::db::ilias {

struct TableColumns {
    std::string_view table;
    std::string_view columns;  // separated by single spaces
};

// Every ILIAS version.
std::span<const TableColumns> tables();
// ILIAS <= 8 only: private rooms (ILIAS 9 dropped them), and the sub-room of a history row.
std::span<const TableColumns> private_room_tables();
inline constexpr std::string_view private_rooms_table = "chatroom_prooms";
inline constexpr std::pair<std::string_view, std::string_view> history_sub_room{"chatroom_history", "sub_room"};
// Columns whose character set decides whether emoji survive (docs/decisions.md D13).
std::span<const std::pair<std::string_view, std::string_view>> message_columns();

}  // namespace ilchat::db::ilias
