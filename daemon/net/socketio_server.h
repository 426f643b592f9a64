#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <rapidjson/document.h>

#include "daemon/net/engineio_server.h"
#include "daemon/net/socketio_packet.h"

// Socket.IO on top of Engine.IO sessions (docs/protocol.md, "Socket.IO"): revision 5 on
// Engine.IO 4 sessions, revision 4 on Engine.IO 3 ones, in the same namespaces and rooms:
// namespaces, sockets, rooms, events and acknowledgements. Runs on the network loop.
namespace ilchat::metrics {
class Metrics;
}

namespace ilchat::net::sio {

class Namespace;
class Server;

// One event a client sent: `name(args...)`.
struct Event {
    std::string_view name;
    const rapidjson::Value& payload;  // the whole array; the arguments start at index 1
    std::span<const std::string> attachments;
    std::optional<std::uint64_t> ack_id;  // the client waits for an ack with this id

    std::size_t arg_count() const { return payload.Size() - 1; }
    const rapidjson::Value& arg(std::size_t i) const { return payload[static_cast<rapidjson::SizeType>(i + 1)]; }
    // The arguments as JSON text, comma-separated (what goes between the brackets again).
    std::string args_json() const;
};

using EventHandler = std::function<void(class Socket&, const Event&)>;

class Socket {
public:
    Socket(Namespace& nsp, eio::Session& session, std::string id, std::string auth);
    ~Socket();
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;

    const std::string& id() const { return id_; }
    Namespace& nsp() { return nsp_; }
    eio::Session& session() { return session_; }
    // The CONNECT payload (auth object) as JSON text; "" when the client sent none.
    const std::string& auth() const { return auth_; }

    // Sends `event(args...)`; `args_json` is the comma-separated JSON arguments ("" for none).
    void emit(std::string_view event, std::string_view args_json = {},
              std::span<const std::string> attachments = {});
    // Answers the client's ack request `id` with the given arguments.
    void ack(std::uint64_t id, std::string_view args_json = {}, std::span<const std::string> attachments = {});
    // Server-side namespace disconnect: the client is told with a DISCONNECT packet.
    void disconnect();

    void join(const std::string& room);
    void leave(const std::string& room);
    const std::vector<std::string>& rooms() const { return rooms_; }

    // Per-socket state of the layer above, destroyed with the socket.
    struct Attachment {
        virtual ~Attachment() = default;
    };
    std::unique_ptr<Attachment> attachment;

private:
    friend class Server;

    Namespace& nsp_;
    eio::Session& session_;
    std::string id_;
    std::string auth_;
    // A socket is in few rooms (a chat socket in one): a vector costs an idle socket far less
    // than a hash set.
    std::vector<std::string> rooms_;
};

class Namespace {
public:
    Namespace(std::string name, metrics::Metrics* metrics) : name_(std::move(name)), metrics_(metrics) {}

    const std::string& name() const { return name_; }

    void on(std::string event, EventHandler handler) { handlers_[std::move(event)] = std::move(handler); }
    void on_connect(std::function<void(Socket&)> handler) { on_connect_ = std::move(handler); }
    void on_disconnect(std::function<void(Socket&, std::string_view reason)> handler) {
        on_disconnect_ = std::move(handler);
    }

    // Serialised once; the same frame bytes go to every receiver.
    void emit_to_room(const std::string& room, std::string_view event, std::string_view args_json,
                      const Socket* except = nullptr);
    // The same for an event that is a snapshot of the room's state (its user list): a member that
    // has not been written the previous one yet gets only this one (Frame::supersedes).
    void emit_latest_to_room(const std::string& room, std::string_view event, std::string_view args_json);
    void emit_to(const std::vector<Socket*>& sockets, std::string_view event, std::string_view args_json);

    std::size_t socket_count() const { return sockets_.size(); }
    template <class Visit>
    void for_each_socket(Visit&& visit) const {
        for (const auto& [id, socket] : sockets_) visit(*socket);
    }
    Socket* find(const std::string& socket_id) const;
    // Ends the Engine.IO session of every socket here, so that their clients connect again (and
    // log in again) the way they do after a network loss.
    void reconnect_all();
    // While muted, events go nowhere: the chat above replays changes its clients have seen.
    void mute(bool muted) { muted_ = muted; }

private:
    friend class Socket;
    friend class Server;
    SharedFrame event_frame(std::string_view event, std::string_view args_json, std::string supersedes = {}) const;
    void deliver_to_room(const std::string& room, const SharedFrame& frame, const Socket* except = nullptr);
    // Sends one frame to each socket, counting the deliveries.
    void deliver(const SharedFrame& frame, const std::vector<Socket*>& sockets, const Socket* except = nullptr);

    std::string name_;
    metrics::Metrics* metrics_;
    std::unordered_map<std::string, EventHandler> handlers_;
    std::function<void(Socket&)> on_connect_;
    std::function<void(Socket&, std::string_view)> on_disconnect_;
    std::unordered_map<std::string_view, Socket*> sockets_;  // keys view the sockets' own ids
    std::unordered_map<std::string, std::unordered_set<Socket*>> rooms_;
    bool muted_ = false;
};

class Server final : public eio::SessionHandler {
public:
    // `metrics` (optional) counts events received and sent per namespace.
    Server(TimerQueue& timers, std::chrono::milliseconds connect_timeout, metrics::Metrics* metrics = nullptr);
    ~Server() override;

    // A reload: sessions opened from now on get the new time to join a namespace.
    void set_connect_timeout(std::chrono::milliseconds timeout) { connect_timeout_ = timeout; }

    // `name` as on the wire, e.g. "/" or "/ilias-im".
    Namespace& add_namespace(const std::string& name);
    Namespace* find_namespace(const std::string& name);
    // A reload dropped the namespace: each of its sockets gets a DISCONNECT packet (the sessions
    // stay open for their other namespaces); joining it from now on is refused.
    void remove_namespace(const std::string& name);
    template <class Visit>
    void for_each_namespace(Visit&& visit) const {
        for (const auto& [name, nsp] : namespaces_) visit(*nsp);
    }

    void on_open(eio::Session& session) override;
    void on_message(eio::Session& session, std::string_view data, bool binary) override;
    void on_close(eio::Session& session, eio::CloseReason reason) override;

private:
    friend class Socket;
    class Sockets;
    struct Client;
    void dispatch(eio::Session& session, Client& client, Packet packet);
    void connect(eio::Session& session, Client& client, const Packet& packet);
    static void remove_socket(Client& client, const std::string& nsp, std::string_view reason);

    TimerQueue& timers_;
    std::chrono::milliseconds connect_timeout_;
    metrics::Metrics* metrics_;
    std::unordered_map<std::string, std::unique_ptr<Namespace>> namespaces_;
};

// The comma-separated JSON arguments `[name, args...]` becomes on the wire.
std::string event_payload(std::string_view event, std::string_view args_json);

}  // namespace ilchat::net::sio
