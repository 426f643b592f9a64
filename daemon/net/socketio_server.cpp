#include "daemon/net/socketio_server.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include "common/text/json.h"
#include "daemon/net/loop_timer.h"
#include "daemon/net/random_id.h"
#include "daemon/metrics/metrics.h"

namespace ilchat::net::sio {

using text::json_string;
using text::to_json;

namespace {

// The Engine.IO frames of one Socket.IO packet: its text, then each binary attachment.
void send_packet(eio::Session& session, const Packet& packet) {
    session.send(eio::message_frame(encode(packet)));
    for (const auto& attachment : packet.attachments) session.send(eio::message_frame(attachment, true));
}

Packet outgoing(PacketType text_type, PacketType binary_type, const std::string& nsp, std::string payload,
                std::span<const std::string> attachments) {
    Packet packet;
    packet.type = attachments.empty() ? text_type : binary_type;
    packet.nsp = nsp;
    packet.payload = std::move(payload);
    packet.attachments.assign(attachments.begin(), attachments.end());
    return packet;
}

}  // namespace

std::string event_payload(std::string_view event, std::string_view args_json) {
    std::string payload = "[" + json_string(event);
    if (!args_json.empty()) {
        payload += ',';
        payload += args_json;
    }
    payload += ']';
    return payload;
}

std::string Event::args_json() const {
    std::string text;
    for (std::size_t i = 0; i < arg_count(); ++i) {
        if (i) text += ',';
        text += to_json(arg(i));
    }
    return text;
}

// ---------------------------------------------------------------------------------------------
// Per Engine.IO session: the namespaces it joined and the binary packet being reassembled.

// The namespaces a session joined: at most a few (ILIAS: two), so a vector beats a map for an idle
// session's memory.
class Server::Sockets {
public:
    Socket* find(std::string_view nsp) {
        auto found = entry(nsp);
        return found == entries_.end() ? nullptr : found->get();
    }
    void add(std::unique_ptr<Socket> socket) { entries_.push_back(std::move(socket)); }
    std::unique_ptr<Socket> take(std::string_view nsp) {
        auto found = entry(nsp);
        if (found == entries_.end()) return nullptr;
        auto socket = std::move(*found);
        entries_.erase(found);
        return socket;
    }
    bool empty() const { return entries_.empty(); }
    const std::string& first_namespace() const { return entries_.front()->nsp().name(); }

private:
    std::vector<std::unique_ptr<Socket>>::iterator entry(std::string_view nsp) {
        return std::find_if(entries_.begin(), entries_.end(), [nsp](const auto& s) { return s->nsp().name() == nsp; });
    }
    std::vector<std::unique_ptr<Socket>> entries_;
};

struct Server::Client final : eio::Session::Attachment {
    Client(TimerQueue& timers, eio::Session& session)
        : revision(session.protocol() == eio::Protocol::v3 ? Revision::v4 : Revision::v5),
          connect_timer(timers, [&session] {
              // No namespace joined in time (socket.io's connectTimeout).
              session.close(eio::CloseReason::server_close);
          }) {}

    const Revision revision;
    LoopTimer connect_timer;
    Sockets sockets;
    Reassembler reassembler;
};

// ---------------------------------------------------------------------------------------------
// Socket

Socket::Socket(Namespace& nsp, eio::Session& session, std::string id, std::string auth)
    : nsp_(nsp), session_(session), id_(std::move(id)), auth_(std::move(auth)) {
    nsp_.sockets_.emplace(id_, this);
}

Socket::~Socket() {
    for (const auto& room : rooms_) {
        auto found = nsp_.rooms_.find(room);
        if (found == nsp_.rooms_.end()) continue;
        found->second.erase(this);
        if (found->second.empty()) nsp_.rooms_.erase(found);
    }
    nsp_.sockets_.erase(id_);
}

void Socket::emit(std::string_view event, std::string_view args_json, std::span<const std::string> attachments) {
    if (attachments.empty()) {
        nsp_.deliver(nsp_.event_frame(event, args_json), {this});
        return;
    }
    send_packet(session_, outgoing(PacketType::event, PacketType::binary_event, nsp_.name(),
                                   event_payload(event, args_json), attachments));
}

void Socket::ack(std::uint64_t id, std::string_view args_json, std::span<const std::string> attachments) {
    Packet packet = outgoing(PacketType::ack, PacketType::binary_ack, nsp_.name(), "[" + std::string(args_json) + "]",
                             attachments);
    packet.ack_id = id;
    send_packet(session_, packet);
}

void Socket::disconnect() {
    Packet packet;
    packet.type = PacketType::disconnect;
    packet.nsp = nsp_.name();
    send_packet(session_, packet);
    // Removing the socket destroys it: nothing of `this` is used afterwards.
    if (auto* client = static_cast<Server::Client*>(session_.attachment.get()))
        Server::remove_socket(*client, std::string(nsp_.name()), "server namespace disconnect");
}

void Socket::join(const std::string& room) {
    if (std::find(rooms_.begin(), rooms_.end(), room) != rooms_.end()) return;
    rooms_.push_back(room);
    nsp_.rooms_[room].insert(this);
}

void Socket::leave(const std::string& room) {
    auto mine = std::find(rooms_.begin(), rooms_.end(), room);
    if (mine == rooms_.end()) return;
    rooms_.erase(mine);
    auto found = nsp_.rooms_.find(room);
    if (found == nsp_.rooms_.end()) return;
    found->second.erase(this);
    if (found->second.empty()) nsp_.rooms_.erase(found);
}

// ---------------------------------------------------------------------------------------------
// Namespace

SharedFrame Namespace::event_frame(std::string_view event, std::string_view args_json, std::string supersedes) const {
    Packet packet;
    packet.type = PacketType::event;
    packet.nsp = name_;
    packet.payload = event_payload(event, args_json);
    return eio::message_frame(encode(packet), false, std::move(supersedes));
}

void Namespace::deliver(const SharedFrame& frame, const std::vector<Socket*>& sockets, const Socket* except) {
    if (muted_) return;
    std::size_t delivered = 0;
    for (Socket* socket : sockets)
        if (socket != except) {
            socket->session().send(frame);
            ++delivered;
        }
    if (metrics_ && delivered) {
        metrics_->packets_sent(name_).Increment(static_cast<double>(delivered));
        metrics_->bytes_sent().Increment(static_cast<double>(delivered * frame->payload().size()));
    }
}

void Namespace::deliver_to_room(const std::string& room, const SharedFrame& frame, const Socket* except) {
    auto found = rooms_.find(room);
    if (found == rooms_.end() || muted_) return;
    // Sending may close a slow session, which removes sockets from this very room.
    deliver(frame, {found->second.begin(), found->second.end()}, except);
}

void Namespace::emit_to_room(const std::string& room, std::string_view event, std::string_view args_json,
                             const Socket* except) {
    deliver_to_room(room, event_frame(event, args_json), except);
}

void Namespace::emit_latest_to_room(const std::string& room, std::string_view event, std::string_view args_json) {
    std::string key = name_;
    ((key += '\0') += room) += '\0';
    key += event;
    deliver_to_room(room, event_frame(event, args_json, std::move(key)));
}

void Namespace::emit_to(const std::vector<Socket*>& sockets, std::string_view event, std::string_view args_json) {
    if (sockets.empty()) return;
    deliver(event_frame(event, args_json), sockets);
}

Socket* Namespace::find(const std::string& socket_id) const {
    auto found = sockets_.find(socket_id);
    return found == sockets_.end() ? nullptr : found->second;
}

// ---------------------------------------------------------------------------------------------
// Server

Server::Server(TimerQueue& timers, std::chrono::milliseconds connect_timeout, metrics::Metrics* metrics)
    : timers_(timers), connect_timeout_(connect_timeout), metrics_(metrics) {
    // The main namespace always exists in socket.io; revision 4 clients are put in it at once.
    add_namespace("/");
}

Server::~Server() = default;

Namespace& Server::add_namespace(const std::string& name) {
    auto& slot = namespaces_[name];
    if (!slot) slot = std::make_unique<Namespace>(name, metrics_);
    return *slot;
}

Namespace* Server::find_namespace(const std::string& name) {
    auto found = namespaces_.find(name);
    return found == namespaces_.end() ? nullptr : found->second.get();
}

void Namespace::reconnect_all() {
    std::vector<eio::Session*> sessions;
    for (const auto& [id, socket] : sockets_) sessions.push_back(&socket->session());
    for (auto* session : sessions) session->shut_down();
}

void Server::remove_namespace(const std::string& name) {
    auto found = namespaces_.find(name);
    if (found == namespaces_.end()) return;
    std::vector<Socket*> sockets;
    found->second->for_each_socket([&](Socket& socket) { sockets.push_back(&socket); });
    for (Socket* socket : sockets) socket->disconnect();
    namespaces_.erase(found);
}

void Server::on_open(eio::Session& session) {
    auto owned = std::make_unique<Client>(timers_, session);
    Client& client = *owned;
    session.attachment = std::move(owned);
    if (client.revision == Revision::v5) {
        client.connect_timer.start(connect_timeout_);
        return;
    }
    // socket.io 2 connected every session to "/" and sent that CONNECT with the handshake.
    Packet main;
    main.type = PacketType::connect;
    connect(session, client, main);
}

void Server::on_message(eio::Session& session, std::string_view data, bool binary) {
    auto* client = static_cast<Client*>(session.attachment.get());
    if (!client) return;
    auto reject = [&](std::string_view why) {
        spdlog::debug("socket.io: closing session {}: {}", session.id(), why);
        session.close(eio::CloseReason::parse_error);
    };
    if (binary) {
        Decoded decoded = client->reassembler.add_attachment(std::string(data));
        if (!decoded.error.empty()) return reject(decoded.error);
        if (decoded.packet) dispatch(session, *client, std::move(*decoded.packet));
        return;
    }
    if (client->reassembler.pending()) return reject("text packet while binary attachments were expected");
    Decoded decoded = decode(data, client->revision);
    if (!decoded.packet) return reject(decoded.error);
    if (auto complete = client->reassembler.start(std::move(*decoded.packet)))
        dispatch(session, *client, std::move(*complete));
}

void Server::dispatch(eio::Session& session, Client& client, Packet packet) {
    if (packet.type == PacketType::connect) {
        connect(session, client, packet);
        return;
    }
    Socket* found = client.sockets.find(packet.nsp);
    if (!found) {
        // socket.io 4 closes a connection that talks in a namespace it never joined; socket.io 2
        // ignored such packets.
        if (client.revision == Revision::v5) session.close(eio::CloseReason::parse_error);
        return;
    }
    Socket& socket = *found;
    switch (packet.type) {
        case PacketType::disconnect:
            remove_socket(client, packet.nsp, "client namespace disconnect");
            return;
        case PacketType::event:
        case PacketType::binary_event: {
            rapidjson::Document payload;
            payload.Parse(packet.payload.data(), packet.payload.size());
            if (payload.HasParseError() || !payload.IsArray() || payload.Empty()) return;  // decode() validated it
            std::string name = payload[0].IsString() ? std::string(payload[0].GetString(), payload[0].GetStringLength())
                                                     : to_json(payload[0]);
            if (metrics_) metrics_->packets_received(socket.nsp().name()).Increment();
            auto handler = socket.nsp().handlers_.find(name);
            if (handler == socket.nsp().handlers_.end()) return;
            Event event{name, payload, packet.attachments, packet.ack_id};
            handler->second(socket, event);
            return;
        }
        case PacketType::ack:
        case PacketType::binary_ack:
            return;  // the server never asks for acks, so there is nothing to answer
        default:  // CONNECT_ERROR only travels from server to client; socket.io 2 merely logged an ERROR
            if (client.revision == Revision::v5) session.close(eio::CloseReason::parse_error);
            return;
    }
}

void Server::connect(eio::Session& session, Client& client, const Packet& packet) {
    std::string name = packet.nsp.empty() ? "/" : packet.nsp;
    // A revision 4 CONNECT may carry a query ("/room?token=x"); it names the namespace before it.
    if (client.revision == Revision::v4) name = name.substr(0, name.find('?'));
    Namespace* nsp = find_namespace(name);
    if (!nsp) {
        Packet refusal;
        refusal.type = PacketType::connect_error;
        refusal.nsp = name;
        refusal.payload = client.revision == Revision::v4 ? R"("Invalid namespace")" : R"({"message":"Invalid namespace"})";
        send_packet(session, refusal);
        return;
    }
    if (client.sockets.find(nsp->name())) return;  // already joined: socket.io ignores the repeat
    client.connect_timer.cancel();
    auto socket = std::make_unique<Socket>(*nsp, session, random_id(), packet.payload);
    Socket& joined = *socket;
    client.sockets.add(std::move(socket));

    Packet reply;
    reply.type = PacketType::connect;
    reply.nsp = nsp->name();
    // A revision 5 client needs its socket id; revision 4 replies carried nothing.
    if (client.revision == Revision::v5) reply.payload = R"({"sid":")" + joined.id() + R"("})";
    send_packet(session, reply);
    if (nsp->on_connect_) nsp->on_connect_(joined);
}

void Server::remove_socket(Client& client, const std::string& nsp, std::string_view reason) {
    std::unique_ptr<Socket> socket = client.sockets.take(nsp);
    if (!socket) return;
    if (socket->nsp().on_disconnect_) socket->nsp().on_disconnect_(*socket, reason);
}

void Server::on_close(eio::Session& session, eio::CloseReason reason) {
    auto* client = static_cast<Client*>(session.attachment.get());
    if (!client) return;
    client->connect_timer.cancel();
    while (!client->sockets.empty()) remove_socket(*client, client->sockets.first_namespace(), eio::describe(reason));
}

}  // namespace ilchat::net::sio
