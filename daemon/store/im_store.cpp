#include "daemon/store/im_store.h"

#include <mysqld_error.h>

#include "common/text/json.h"
#include "common/text/utf8.h"

namespace ilchat::store {

namespace {

std::int64_t number(const std::optional<std::string>& text) {
    return text ? text::integer_of(*text).value_or(0) : 0;
}

StoredMessage message_of(const db::Row& row) {
    return {row[0].value_or(""), row[1].value_or(""), number(row[2]), row[3].value_or(""), number(row[4])};
}

constexpr const char* message_insert =
    "INSERT INTO osc_messages (id, conversation_id, user_id, message, timestamp) VALUES (?, ?, ?, ?, ?)";

std::vector<db::Param> message_values(const StoredMessage& m, const std::string& text) {
    return {m.id, m.conversation_id, m.user_id, text, m.timestamp};
}

constexpr const char* message_columns = "SELECT id, conversation_id, user_id, message, timestamp FROM osc_messages ";

}  // namespace

void load_conversations(db::Connection& db, const std::function<void(StoredConversation)>& visit) {
    db.for_each_row("SELECT id, is_group, participants FROM osc_conversation", [&](const db::Row& row) {
        visit({row[0].value_or(""), number(row[1]) != 0, row[2].value_or("")});
    });
}

void insert_conversation(db::Connection& db, const StoredConversation& c) {
    db.execute("INSERT INTO osc_conversation (id, is_group, participants) VALUES (?, ?, ?)",
               {c.id, std::int64_t{c.is_group}, c.participants_json});
}

void update_conversation(db::Connection& db, const StoredConversation& c) {
    db.execute("UPDATE osc_conversation SET participants = ?, is_group = ? WHERE id = ?",
               {c.participants_json, std::int64_t{c.is_group}, c.id});
}

void insert_message(db::Connection& db, const StoredMessage& m) {
    auto insert = [&](const std::string& text) { db.execute(message_insert, message_values(m, text)); };
    try {
        insert(m.message);
    } catch (const db::Error& e) {
        // docs/decisions.md D13, as for chatroom_history.
        if (e.code() != ER_TRUNCATED_WRONG_VALUE_FOR_FIELD || !text::has_supplementary(m.message)) throw;
        insert(text::replace_supplementary(m.message));
    }
}

std::string insert_message_script(db::Connection& db, const StoredMessage& message) {
    return db.bind(message_insert, message_values(message, message.message)) + ";";
}

std::optional<StoredMessage> latest_message(db::Connection& db, const std::string& conversation_id) {
    auto rows = db.query(std::string(message_columns) + "WHERE conversation_id = ? ORDER BY timestamp DESC LIMIT 1",
                         {conversation_id});
    if (rows.empty()) return std::nullopt;
    return message_of(rows[0]);
}

std::vector<StoredMessage> message_history(db::Connection& db, const std::string& conversation_id,
                                           std::optional<std::int64_t> older_than, int limit) {
    std::vector<db::Param> params{conversation_id};
    std::string sql = std::string(message_columns) + "WHERE conversation_id = ?";
    if (older_than) {
        sql += " AND timestamp < ?";
        params.emplace_back(*older_than);
    }
    sql += " ORDER BY timestamp DESC LIMIT 0, " + std::to_string(limit);
    std::vector<StoredMessage> messages;
    for (const auto& row : db.query(sql, params)) messages.push_back(message_of(row));
    return messages;
}

std::int64_t count_unread(db::Connection& db, const std::string& conversation_id, std::int64_t user_id) {
    auto rows = db.query("SELECT COUNT(m.id) AS numMessages FROM osc_messages m LEFT JOIN osc_activity a ON "
                         "a.conversation_id = m.conversation_id WHERE m.conversation_id = ? AND a.user_id = ? AND "
                         "m.timestamp > a.timestamp",
                         {conversation_id, user_id});
    return rows.empty() ? 0 : number(rows[0][0]);
}

std::optional<Activity> activity(db::Connection& db, const std::string& conversation_id, std::int64_t user_id) {
    auto rows = db.query("SELECT timestamp, is_closed FROM osc_activity WHERE conversation_id = ? AND user_id = ?",
                         {conversation_id, user_id});
    if (rows.empty()) return std::nullopt;
    return Activity{number(rows[0][0]), number(rows[0][1]) != 0};
}

void track_activity(db::Connection& db, const std::string& conversation_id, std::int64_t user_id, std::int64_t timestamp) {
    if (activity(db, conversation_id, user_id)) {
        if (timestamp > 0)
            db.execute("UPDATE osc_activity SET timestamp = ?, is_closed = 0 WHERE conversation_id = ? AND user_id = ?",
                       {timestamp, conversation_id, user_id});
        return;
    }
    db.execute("INSERT INTO osc_activity (conversation_id, user_id, timestamp) VALUES (?, ?, ?)",
               {conversation_id, user_id, timestamp});
}

void close_conversation(db::Connection& db, const std::string& conversation_id, std::int64_t user_id, std::int64_t now_ms) {
    db.execute("UPDATE osc_activity SET is_closed = 1, timestamp = ? WHERE conversation_id = ? AND user_id = ?",
               {now_ms, conversation_id, user_id});
}

namespace {

constexpr const char* accepting_sql = "SELECT usr_id FROM usr_pref WHERE keyword = 'chat_osc_accept_msg' AND value = 'y'";

std::unordered_set<std::int64_t> user_ids(const std::vector<db::Row>& rows) {
    std::unordered_set<std::int64_t> users;
    for (const auto& row : rows) users.insert(number(row[0]));
    return users;
}

}  // namespace

std::unordered_set<std::int64_t> accepting_users(db::Connection& db) { return user_ids(db.query(accepting_sql)); }

std::unordered_set<std::int64_t> accepting_among(db::Connection& db, const std::vector<std::int64_t>& users) {
    if (users.empty()) return {};
    std::string in;
    for (auto id : users) in += (in.empty() ? "" : ",") + std::to_string(id);
    return user_ids(db.query(std::string(accepting_sql) + " AND usr_id IN (" + in + ")"));
}

}  // namespace ilchat::store
