#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <rapidjson/document.h>

#include "common/thread/mailbox.h"
#include "daemon/chat/change_log.h"
#include "daemon/chat/remote_sockets.h"
#include "daemon/net/http_message.h"
#include "daemon/net/loop_timer.h"
#include "daemon/net/socketio_server.h"
#include "daemon/store/database_worker.h"
#include "daemon/store/im_store.h"

namespace ilchat::metrics {
class Metrics;
}

namespace ilchat::chat {

struct ImChatOptions {
    bool html_escape = true;           // docs/decisions.md D10, as for the rooms
    metrics::Metrics* metrics = nullptr;  // counts ignored events and chat messages
};

// The On-Screen Chat of one ILIAS client (namespace /<name>-im; docs/protocol.md, "The chat namespaces" and "SQL", and docs/decisions.md
// D5-D7, D16, D17): participants, conversations, their events and persistence. Lives on the
// network loop; queries run on the client's database worker and answer through the mailbox.
// Every change goes through the client's ChangeLog and is applied by apply() (docs/cluster.md);
// reads answer only on the node of the asking socket, but reach the user's sockets on every node.
class ImChat {
public:
    ImChat(std::string client_name, net::sio::Namespace& nsp, store::DatabaseWorker& database, Mailbox& network,
           ImChatOptions options, net::TimerQueue& timers, ChangeLog& log);
    ~ImChat();

    // Preload (docs/protocol.md, "SQL"): false when the row is malformed (then it is skipped).
    bool add_stored_conversation(const store::StoredConversation& stored);
    std::size_t conversation_count() const { return conversations_.size(); }
    // A reload: the next message is escaped (or not) accordingly.
    void set_options(const ImChatOptions& options) { options_ = options; }
    // The deletion job removed these from the database (D7: memory follows, on every node).
    void forget_conversations(const std::vector<std::string>& ids);

    // A change of this chat (Change::Chat::im), in the log's order.
    void apply(const Change& change, const rapidjson::Value& payload, bool own);
    // The whole state as JSON (im_chat_snapshot.cpp), and the state replaced by one.
    std::string snapshot() const;
    void restore(const rapidjson::Value& state);

    // Backend UserConfigChange: {"<userId>": {"acceptsMessages": bool}, ...}.
    net::HttpResponse user_config_change(std::string_view message_json);

    // Reads usr_pref now and then on every :00, :20 and :40 of the local clock (docs/protocol.md, "usr_pref").
    void start_preference_refresh();

private:
    struct Participant {
        std::int64_t id = 0;
        std::string name;
        bool online = false;
        bool accepts_messages = true;
        std::vector<std::string> sockets;
    };
    struct Conversation {
        std::string id;
        std::vector<std::int64_t> participants;  // in the order they joined
        bool is_group = false;
        std::optional<store::StoredMessage> latest_message;
        bool has(std::int64_t user) const;
    };

    void submit(net::sio::Socket& socket, const net::sio::Event& event);
    void on_login(const Applying& a, const net::sio::Event& event);
    void on_conversations(const Applying& a);
    void on_conversation(const Applying& a, const net::sio::Event& event);
    void on_add_user(const Applying& a, const net::sio::Event& event);
    void on_remove_user(const Applying& a, const net::sio::Event& event);
    void on_message(const Applying& a, const net::sio::Event& event);
    void on_history(const Applying& a, const net::sio::Event& event);
    void on_activity(const Applying& a, const net::sio::Event& event);
    void on_close_conversation(const Applying& a, const net::sio::Event& event);
    void on_typing(const Applying& a, const net::sio::Event& event, bool started);
    void on_disconnect(const Applying& a);
    void socket_gone(std::int64_t user, const std::string& socket);
    void on_node_gone(const net::sio::Event& event);
    void on_emit(const Applying& a, const net::sio::Event& event);
    void on_preferences(const Applying& a, const net::sio::Event& event);
    using Handler = void (*)(ImChat&, const Applying&, const net::sio::Event&);
    // The socket events, and whether the change needs an id chosen where it happens.
    struct EventEntry {
        Handler handler;
        bool takes_id;
    };
    static const std::unordered_map<std::string_view, EventEntry>& events();

    // The participant a socket logged in as, when `claimed_user` (an argument naming the acting
    // user) is that participant too (D5); `claimed_user` absent: no such argument.
    Participant* actor(const Applying& a, std::optional<std::int64_t> claimed_user, std::string_view event);
    // `own`: this node made the change, so it reads the preferences of a new participant.
    Participant& participant(std::int64_t id, std::string_view name, bool own);
    Conversation* find_conversation(const rapidjson::Value& id);
    Conversation& create_conversation(const Applying& a, std::vector<std::int64_t> participants, bool is_group);

    std::string conversation_json(const Conversation& c, std::int64_t new_messages = 0) const;
    store::StoredConversation stored(const Conversation& c) const;
    void emit_to_participant(const Participant& p, std::string_view event, const std::string& json);
    // A database answer for `user`: to their sockets on every node.
    void answer(std::int64_t user, std::string_view event, const std::string& json);
    // Runs `query` on the database worker and `then` with its result on the network loop, as
    // long as this ImChat still exists. When the database cannot answer, `then` gets an empty
    // result, unless `skip_when_unavailable` (an empty answer would be taken as true).
    template <class Result>
    void query(std::function<Result(db::Connection&)> query, std::function<void(Result)> then,
               bool skip_when_unavailable = false);
    // Database writes are made once, by the node where the change happened.
    void write(const Applying& a, store::WriteRecord record) {
        if (a.own) database_.write(std::move(record));
    }
    void publish_preferences(std::string_view kind, const std::vector<std::int64_t>& users,
                             const std::unordered_set<std::int64_t>& accepting);
    void apply_preferences(const std::unordered_set<std::int64_t>& accepting);
    void schedule_preference_refresh();
    void read_new_preferences();

    std::string client_name_;
    net::sio::Namespace& nsp_;
    store::DatabaseWorker& database_;
    Mailbox& network_;
    ImChatOptions options_;
    ChangeLog& log_;
    std::unordered_map<std::int64_t, Participant> participants_;
    RemoteSockets remote_sockets_;
    std::unordered_map<std::string, Conversation> conversations_;
    // Who accepted messages at the last usr_pref read.
    std::optional<std::unordered_set<std::int64_t>> accepting_;
    net::LoopTimer preference_timer_;
    // docs/decisions.md D20: participants that appeared after the last read get theirs read at once, those
    // of one loop turn in one query; until it answers they count as the last read had them.
    std::vector<std::int64_t> unread_preferences_;
    net::LoopTimer preference_lookup_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ilchat::chat
