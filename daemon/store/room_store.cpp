#include "daemon/store/room_store.h"

#include <charconv>
#include <utility>
#include <mysqld_error.h>

#include "common/db/ilias_schema.h"
#include "common/text/utf8.h"

namespace ilchat::store {

namespace {

std::int64_t to_int(const std::optional<std::string>& text) {
    std::int64_t n = 0;
    if (text) std::from_chars(text->data(), text->data() + text->size(), n);
    return n;
}

std::string in_list(const std::vector<std::int64_t>& ids) {
    std::string list;
    for (auto id : ids) {
        if (!list.empty()) list += ',';
        list += std::to_string(id);
    }
    return list;
}

std::string seq_insert_sql(const std::string& table) { return "INSERT INTO " + table + "_seq (sequence) VALUES (NULL)"; }
std::string seq_delete_sql(const std::string& table, const std::string& id) {
    return "DELETE FROM " + table + "_seq WHERE sequence < " + id;
}

// The statements that take the next id of ILIAS's sequence emulation into the SQL variable `id`.
std::string next_id_script(const std::string& table, const std::string& id) {
    return seq_insert_sql(table) + ";SET " + id + " = LAST_INSERT_ID();" + seq_delete_sql(table, id) + ";";
}

// chatroom_users rows become chatroom_sessions rows: the session ended at `now_s`. A shutdown
// moves every user at once, so the rows go in scripts, hundreds to a round trip.
void move_to_sessions(db::Connection& db, const std::vector<db::Row>& rows, std::int64_t now_s) {
    constexpr std::size_t rows_per_script = 500;
    const std::string id = "@ilchat_sess_id";
    std::string script;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const auto& row = rows[i];  // room_id, user_id, userdata, connected
        script += next_id_script("chatroom_sessions", id) +
                  db.bind("INSERT INTO chatroom_sessions (sess_id, room_id, user_id, userdata, connected, disconnected) "
                          "VALUES (" + id + ", ?, ?, ?, ?, ?);",
                          {to_int(row[0]), to_int(row[1]), row[2] ? db::Param(*row[2]) : db::Param(nullptr),
                           to_int(row[3]), now_s});
        if ((i + 1) % rows_per_script == 0 || i + 1 == rows.size()) db.execute_script(std::exchange(script, {}));
    }
}

std::string history_columns(const RoomSchema& schema) {
    return schema.history_sub_room ? "(hist_id, room_id, message, timestamp, sub_room)" : "(hist_id, room_id, message, timestamp)";
}

// One row of values: `id` as the SQL of its hist_id, placeholders for the others.
std::string history_row(const RoomSchema& schema, const std::string& id) {
    return "(" + id + (schema.history_sub_room ? ", ?, ?, ?, ?)" : ", ?, ?, ?)");
}

// The chatroom_history INSERT with `id` as the SQL of its hist_id; the other values are bound.
std::string history_insert_sql(const RoomSchema& schema, const std::string& id) {
    return "INSERT INTO chatroom_history " + history_columns(schema) + " VALUES " + history_row(schema, id);
}

std::vector<db::Param> history_values(const RoomSchema& schema, std::int64_t room_id, std::int64_t sub_room,
                                      const std::string& json, std::int64_t timestamp_s) {
    if (schema.history_sub_room) return {room_id, json, timestamp_s, sub_room};
    return {room_id, json, timestamp_s};
}

// Whether one multi-row INSERT into `table` (an auto-increment sequence table) takes consecutive ids.
bool consecutive_ids(db::Connection& db, const std::string& table) {
    const auto engine = db.query("SELECT UPPER(ENGINE) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
                                 "AND TABLE_NAME = ?",
                                 {table});
    if (engine.empty() || !engine[0][0]) return false;
    const auto settings = db.query("SELECT @@auto_increment_increment, @@innodb_autoinc_lock_mode");
    if (settings.empty() || to_int(settings[0][0]) != 1) return false;  // Galera steps ids by its node count
    if (*engine[0][0] == "MYISAM" || *engine[0][0] == "ARIA") return true;  // table locks
    // InnoDB's "interleaved" mode 2 may hand a multi-row INSERT ids with gaps between them.
    return *engine[0][0] == "INNODB" && to_int(settings[0][1]) <= 1;
}

}  // namespace

RoomSchema detect_room_schema(db::Connection& db) {
    return {db.has_column(db::ilias::history_sub_room.first, db::ilias::history_sub_room.second),
            db.has_table(db::ilias::private_rooms_table),
            consecutive_ids(db, "chatroom_history_seq")};
}

std::int64_t next_id(db::Connection& db, const std::string& table) {
    db.execute(seq_insert_sql(table));
    auto id = static_cast<std::int64_t>(db.last_insert_id());
    db.execute(seq_delete_sql(table, std::to_string(id)));
    return id;
}

std::vector<std::int64_t> load_room_ids(db::Connection& db) {
    std::vector<std::int64_t> ids;
    for (const auto& row : db.query("SELECT room_id FROM chatroom_settings")) ids.push_back(to_int(row[0]));
    return ids;
}

std::vector<PrivateRoom> load_private_rooms(db::Connection& db) {
    std::vector<PrivateRoom> rooms;
    for (const auto& row : db.query("SELECT proom_id, parent_id, title, owner FROM chatroom_prooms roomtable "
                                    "WHERE closed = 0 OR closed IS NULL"))
        rooms.push_back({to_int(row[1]), to_int(row[0]), row[2].value_or(""), row[3].value_or("")});
    return rooms;
}

void disconnect_all_users(db::Connection& db, const RoomSchema& schema, std::int64_t now_s) {
    if (schema.private_rooms) {
        db.execute("UPDATE chatroom_psessions SET disconnected = ?", {now_s});
        db.execute("UPDATE chatroom_prooms SET closed = ? WHERE closed = 0", {now_s});
    }
    move_to_sessions(db, db.query("SELECT room_id, user_id, userdata, connected FROM chatroom_users"), now_s);
    db.execute("DELETE FROM chatroom_users");
}

void disconnect_user(db::Connection& db, std::int64_t user_id, const std::vector<std::int64_t>& room_ids,
                     std::int64_t now_s) {
    if (room_ids.empty()) return;
    const std::string rooms = in_list(room_ids);
    auto rows = db.query("SELECT room_id, user_id, userdata, connected FROM chatroom_users WHERE user_id = ? AND "
                         "room_id IN (" + rooms + ")",
                         {user_id});
    move_to_sessions(db, rows, now_s);
    db.execute("DELETE FROM chatroom_users WHERE user_id = ? AND room_id IN (" + rooms + ")", {user_id});
}

void leave_private_rooms(db::Connection& db, std::int64_t user_id, const std::vector<std::int64_t>& proom_ids,
                         const std::vector<std::int64_t>& closed, std::int64_t now_s) {
    if (proom_ids.empty()) return;
    db.execute("UPDATE chatroom_psessions SET disconnected = ? WHERE user_id = ? AND proom_id IN (" + in_list(proom_ids) +
                   ")",
               {now_s, user_id});
    if (!closed.empty())
        db.execute("UPDATE chatroom_prooms SET closed = ? WHERE proom_id IN (" + in_list(closed) + ")", {now_s});
}

std::string persist_messages_script(db::Connection& db, const RoomSchema& schema, std::span<const HistoryRow> rows) {
    const std::string id = "@ilchat_hist_id";
    auto values = [&](const HistoryRow& row) {
        return history_values(schema, row.room_id, row.sub_room, std::string(row.json), row.timestamp_s);
    };
    std::string script;
    if (!schema.history_id_blocks || rows.size() < 2) {
        for (const auto& row : rows) script += next_id_script("chatroom_history", id) + db.bind(history_insert_sql(schema, id), values(row)) + ";";
        return script;
    }
    // k ids in one statement, the rows in another, and the sequence table trimmed to its last id.
    script = "INSERT INTO chatroom_history_seq (sequence) VALUES (NULL)";
    for (std::size_t i = 1; i < rows.size(); ++i) script += ",(NULL)";
    script += ";SET " + id + " = LAST_INSERT_ID();INSERT INTO chatroom_history " + history_columns(schema) + " VALUES ";
    for (std::size_t i = 0; i < rows.size(); ++i)
        script += (i ? "," : "") + db.bind(history_row(schema, id + "+" + std::to_string(i)), values(rows[i]));
    script += ";" + seq_delete_sql("chatroom_history", id + "+" + std::to_string(rows.size() - 1)) + ";";
    return script;
}

bool message_stored(db::Connection& db, std::int64_t room_id, const std::string& json, std::int64_t timestamp_s) {
    // D13: it may have been stored with its emoji replaced.
    const std::string stored_as = text::replace_supplementary(json);
    return !db.query("SELECT 1 FROM chatroom_history WHERE room_id = ? AND timestamp = ? AND message IN (?, ?) LIMIT 1",
                     {room_id, timestamp_s, json, stored_as})
                .empty();
}

void persist_message(db::Connection& db, const RoomSchema& schema, std::int64_t room_id, std::int64_t sub_room,
                     const std::string& json, std::int64_t timestamp_s) {
    const std::string id = std::to_string(next_id(db, "chatroom_history"));
    auto insert = [&](const std::string& message) {
        db.execute(history_insert_sql(schema, id), history_values(schema, room_id, sub_room, message, timestamp_s));
    };
    try {
        insert(json);
    } catch (const db::Error& e) {
        // docs/decisions.md D13: a utf8 (3-byte) column refuses emoji; keep the message, not the emoji.
        if (e.code() != ER_TRUNCATED_WRONG_VALUE_FOR_FIELD || !text::has_supplementary(json)) throw;
        insert(text::replace_supplementary(json));
    }
}

}  // namespace ilchat::store
