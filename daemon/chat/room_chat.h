#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <rapidjson/document.h>

#include "daemon/chat/change_log.h"
#include "daemon/chat/remote_sockets.h"
#include "daemon/chat/room_messages.h"
#include "daemon/net/http_message.h"
#include "daemon/net/loop_timer.h"
#include "daemon/net/socketio_server.h"
#include "daemon/store/database_worker.h"
#include "daemon/store/room_store.h"

namespace ilchat::metrics {
class Metrics;
}

namespace ilchat::chat {

struct RoomChatOptions {
    bool html_escape = true;                              // docs/decisions.md D10
    std::chrono::milliseconds disconnect_grace{15000};    // docs/protocol.md, "The chat namespaces"
    metrics::Metrics* metrics = nullptr;                      // counts ignored events and chat messages
};

// The repository chat of one ILIAS client (namespace /<name>; docs/protocol.md, "The chat namespaces"): rooms, their
// subscribers, the socket events and the backend tasks. Lives on the network loop; persists
// through the client's database worker. Every change goes through the client's ChangeLog and is
// applied by apply() (docs/cluster.md): sockets of other nodes are known by id only.
class RoomChat {
public:
    RoomChat(std::string client_name, net::sio::Namespace& nsp, store::DatabaseWorker& database,
             store::RoomSchema schema, RoomChatOptions options, net::TimerQueue& timers, ChangeLog& log);
    ~RoomChat();

    // Preload (docs/protocol.md, "SQL"): main rooms "<id>_0" and, ILIAS <= 8, the open private rooms.
    void add_main_room(std::int64_t room_id);
    void add_private_room(const store::PrivateRoom& room);

    // A change of this chat (Change::Chat::rooms), in the log's order.
    void apply(const Change& change, const rapidjson::Value& payload, bool own);
    // The whole state as JSON (room_chat_snapshot.cpp), and the state replaced by one.
    std::string snapshot() const;
    void restore(const rapidjson::Value& state);

    // Backend tasks (docs/protocol.md, "Backend routes"), applied like any change at `ts`. `sub_id` is the subRoomId of
    // the ILIAS <= 8 route shape, absent in the ILIAS >= 9 shape (which then also answers without it). Each returns
    // the answer.
    using SubRoom = std::optional<std::string>;
    net::HttpResponse subscribe(std::int64_t user_id);
    net::HttpResponse enter_room(const std::string& room_id, const SubRoom& sub_id, std::int64_t user_id);
    net::HttpResponse create_room(std::int64_t ts, const std::string& room_id, const SubRoom& sub_id,
                                  const std::string& owner, const std::string& title);
    net::HttpResponse leave_room(std::int64_t ts, const std::string& room_id, const SubRoom& sub_id, std::int64_t user_id);
    net::HttpResponse invite(std::int64_t ts, const std::string& room_id, const SubRoom& sub_id, std::int64_t user_id,
                             std::int64_t invited_id);
    net::HttpResponse delete_room(std::int64_t ts, const std::string& room_id, const std::string& sub_id);
    net::HttpResponse clear_messages(std::int64_t ts, const std::string& room_id, const SubRoom& sub_id);
    net::HttpResponse kick(std::int64_t ts, const std::string& room_id, const SubRoom& sub_id, std::int64_t user_id);
    net::HttpResponse ban(std::int64_t ts, const std::string& room_id, std::int64_t user_id);
    net::HttpResponse get_rooms() const;

    // A reload: the next message is escaped (or not) accordingly; a grace already running keeps
    // its length.
    void set_options(const RoomChatOptions& options) { options_ = options; }

    std::size_t room_count() const { return rooms_.size(); }
    bool legacy_schema() const { return schema_.private_rooms; }
    // A database that was away at start-up answered: its schema is known now.
    void set_schema(store::RoomSchema schema) { schema_ = schema; }
    // {"<room>": {"title": ..., "subscribers": [ids], "joined": [ids]}, ...} for the admin socket.
    std::string rooms_json() const;
    // For the admin socket's table: each room's key, title, users allowed and users joined.
    template <class Visit>
    void for_each_room(Visit&& visit) const {
        for (const auto& [key, room] : rooms_) visit(key, room.title, room.subscribers.size(), room.joined.size());
    }

private:
    struct Subscriber {
        std::int64_t id = 0;
        std::string name;
        std::optional<bool> profile_picture_visible;
        std::vector<std::string> sockets;  // socket ids of this namespace
    };
    struct Room {
        std::string key;  // "<roomId>_<subRoomId>", also the socket.io room name
        std::string title = "Main";
        std::optional<std::string> owner;  // null for preloaded main rooms
        std::set<std::int64_t> subscribers;  // allowed in the room (EnterPrivateRoom, invite)
        std::vector<std::int64_t> joined;    // entered through a socket, in order
        bool is_joined(std::int64_t id) const;
        void leave(std::int64_t id);
    };

    // Changes.
    void submit(net::sio::Socket& socket, const net::sio::Event& event);
    void on_login(const Applying& a, const net::sio::Event& event);
    void on_enter_room(const Applying& a, const net::sio::Event& event);
    void on_message(const Applying& a, const net::sio::Event& event);
    void on_typing(const Applying& a, const net::sio::Event& event, bool started);
    void on_disconnect(const Applying& a);
    // The subscriber lost a socket; when it was their last, their grace starts, kept by the node
    // that made the change.
    void socket_gone(const Applying& a, Subscriber& subscriber, const std::string& socket);
    void start_grace(std::int64_t user_id);
    void grace_expired(const Applying& a);
    void node_gone(const Applying& a, const net::sio::Event& event);
    using Handler = void (*)(RoomChat&, const Applying&, const net::sio::Event&);
    static const std::unordered_map<std::string_view, Handler>& handlers();

    Subscriber* subscriber_of(const Applying& a);
    Subscriber* find_subscriber(std::int64_t id);
    Room* find_room(const std::string& key);
    SubscriberView view(const Subscriber& s) const;
    std::vector<SubscriberView> userlist_of(const Room& room) const;
    std::vector<net::sio::Socket*> sockets_of(const Subscriber& s) const;
    void emit_to_subscriber(const Subscriber& s, std::string_view event, const std::string& json);
    void emit_userlist(const Room& room, const RoomRef& ref);
    void flush_userlists();
    void cancel_grace(std::int64_t user_id);
    void ignored(const Applying& a, std::string_view reason);
    // Database writes are made once, by the node where the change happened.
    void write(const Applying& a, store::WriteRecord record);

    std::string client_name_;
    net::sio::Namespace& nsp_;
    store::DatabaseWorker& database_;
    store::RoomSchema schema_;
    RoomChatOptions options_;
    net::TimerQueue& timers_;
    ChangeLog& log_;
    std::map<std::string, Room> rooms_;
    RemoteSockets remote_sockets_;
    std::unordered_map<std::int64_t, Subscriber> subscribers_;
    // One per user who ever disconnected; kept (not erased from inside its own callback).
    std::unordered_map<std::int64_t, std::unique_ptr<net::LoopTimer>> grace_timers_;
    // Which node keeps each running grace, so that another takes it over when that node is gone.
    std::unordered_map<std::int64_t, std::string> grace_keepers_;
    // User lists in this turn of the network loop: a room's first goes out at once, later ones
    // are folded into one sent at the end of the turn (userlists_due_), so that N users entering
    // in one burst cost O(N) lists, not O(N^2). Each client replaces its list, so it ends the same.
    std::set<std::string> userlists_sent_;
    std::map<std::string, RoomRef> userlists_due_;
    net::LoopTimer end_of_turn_;
};

}  // namespace ilchat::chat
