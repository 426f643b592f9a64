#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "common/db/connection.h"

// The On-Screen Chat statements (docs/protocol.md, "SQL"), run on a database worker (the
// preload at start-up, before the listener opens).
namespace ilchat::store {

struct StoredConversation {
    std::string id;
    bool is_group = false;
    std::string participants_json;  // [{"id":..,"name":..}, ...] as stored
};

// Streams every osc_conversation row (100,000 rows must not be slow, nor all in memory twice).
void load_conversations(db::Connection& db, const std::function<void(StoredConversation)>& visit);

void insert_conversation(db::Connection& db, const StoredConversation& conversation);
void update_conversation(db::Connection& db, const StoredConversation& conversation);

// An osc_messages row: id, conversation_id, user_id, message, timestamp (ms).
struct StoredMessage {
    std::string id;
    std::string conversation_id;
    std::int64_t user_id = 0;
    std::string message;
    std::int64_t timestamp = 0;
};

void insert_message(db::Connection& db, const StoredMessage& message);
// insert_message as a script statement (see persist_message_script).
std::string insert_message_script(db::Connection& db, const StoredMessage& message);
std::optional<StoredMessage> latest_message(db::Connection& db, const std::string& conversation_id);
// Up to `limit` messages older than `older_than` (all when absent), newest first.
std::vector<StoredMessage> message_history(db::Connection& db, const std::string& conversation_id,
                                           std::optional<std::int64_t> older_than, int limit = 6);
std::int64_t count_unread(db::Connection& db, const std::string& conversation_id, std::int64_t user_id);

struct Activity {
    std::int64_t timestamp = 0;
    bool is_closed = false;
};
std::optional<Activity> activity(db::Connection& db, const std::string& conversation_id, std::int64_t user_id);
void track_activity(db::Connection& db, const std::string& conversation_id, std::int64_t user_id, std::int64_t timestamp);
void close_conversation(db::Connection& db, const std::string& conversation_id, std::int64_t user_id, std::int64_t now_ms);

// Users whose chat_osc_accept_msg preference is 'y'.
std::unordered_set<std::int64_t> accepting_users(db::Connection& db);
// Those of `users` whose preference is 'y' (a user without the row does not accept, as ILIAS reads it).
std::unordered_set<std::int64_t> accepting_among(db::Connection& db, const std::vector<std::int64_t>& users);

}  // namespace ilchat::store
