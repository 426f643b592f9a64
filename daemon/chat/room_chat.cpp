#include "daemon/chat/room_chat.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "common/text/json.h"
#include "daemon/chat/clock.h"
#include "daemon/chat/html_escape.h"
#include "daemon/chat/logged_in.h"
#include "daemon/metrics/metrics.h"

namespace ilchat::chat {

namespace {

using net::HttpResponse;
using net::sio::Event;
using net::sio::Socket;

HttpResponse json_body(std::string body) {
    HttpResponse response;
    response.body = std::move(body);
    return response;
}

HttpResponse success() { return json_body(R"({"success":true})"); }

HttpResponse success_with_sub_room(const std::string& sub_room_json) {
    return json_body(R"({"success":true,"subRoomId":)" + sub_room_json + "}");
}

std::string room_key(std::int64_t room, std::int64_t sub) { return std::to_string(room) + "_" + std::to_string(sub); }

std::string room_key(const std::string& room, const std::optional<std::string>& sub) {
    return room_key(text::integer_of(room).value_or(0), sub ? text::integer_of(*sub).value_or(0) : 0);
}

std::int64_t sub_number(const std::optional<std::string>& sub) { return sub ? text::integer_of(*sub).value_or(0) : 0; }

// The room of an event: roomId (argument `index`) and, from ILIAS <= 8 clients, subRoomId after it.
struct EventRoom {
    std::string key;
    RoomRef ref;
    std::int64_t room_id = 0;
    std::int64_t sub_id = 0;
};

std::optional<EventRoom> event_room(const Event& event, std::size_t index) {
    if (event.arg_count() <= index) return std::nullopt;
    auto room = text::integer_of(event.arg(index));
    if (!room) return std::nullopt;
    EventRoom result;
    result.room_id = *room;
    result.ref.room_id_json = text::to_json(event.arg(index));
    if (event.arg_count() > index + 1 && !event.arg(index + 1).IsNull()) {
        result.sub_id = text::integer_of(event.arg(index + 1)).value_or(0);
        result.ref.sub_room_id_json = text::to_json(event.arg(index + 1));
    }
    result.key = room_key(result.room_id, result.sub_id);
    return result;
}

// The room of a backend call. The ids come from the URL: most tasks of the Node server parse
// them into numbers, a few (invite, ban, the disconnect notices) pass the strings on.
enum class IdForm { number, string };

std::string id_json(const std::string& id, IdForm form) {
    return form == IdForm::number ? std::to_string(text::integer_of(id).value_or(0)) : json_string(id);
}

RoomRef url_room(const std::string& room, const std::optional<std::string>& sub, IdForm form = IdForm::number) {
    RoomRef ref{id_json(room, form), std::nullopt};
    if (sub) ref.sub_room_id_json = id_json(*sub, form);
    return ref;
}

bool truthy(const rapidjson::Value& v) {
    if (v.IsBool()) return v.GetBool();
    if (v.IsNumber()) return v.GetDouble() != 0;
    if (v.IsString()) return v.GetStringLength() > 0;
    return !v.IsNull();
}

}  // namespace

bool RoomChat::Room::is_joined(std::int64_t id) const { return std::find(joined.begin(), joined.end(), id) != joined.end(); }

void RoomChat::Room::leave(std::int64_t id) { joined.erase(std::remove(joined.begin(), joined.end(), id), joined.end()); }

RoomChat::RoomChat(std::string client_name, net::sio::Namespace& nsp, store::DatabaseWorker& database,
                   store::RoomSchema schema, RoomChatOptions options, net::TimerQueue& timers, ChangeLog& log)
    : client_name_(std::move(client_name)),
      nsp_(nsp),
      database_(database),
      schema_(schema),
      options_(options),
      timers_(timers),
      log_(log),
      end_of_turn_(timers, [this] { flush_userlists(); }) {
    nsp_.on_connect([](Socket& socket) { spdlog::debug("New Connection with SocketId: {}", socket.id()); });
    for (const auto& [name, handler] : handlers()) nsp_.on(std::string(name), [this](Socket& s, const Event& e) { submit(s, e); });
    nsp_.on_disconnect([this](Socket& s, std::string_view) {
        log_.append(Change(Change::Chat::rooms, "disconnect", now_ms()).acting(s.id(), logged_in_user(&s).value_or(0)));
    });
}

const std::unordered_map<std::string_view, RoomChat::Handler>& RoomChat::handlers() {
    static const std::unordered_map<std::string_view, Handler> table{
        {"login", [](RoomChat& r, const Applying& a, const Event& e) { r.on_login(a, e); }},
        {"enterRoom", [](RoomChat& r, const Applying& a, const Event& e) { r.on_enter_room(a, e); }},
        {"message", [](RoomChat& r, const Applying& a, const Event& e) { r.on_message(a, e); }},
        {"userStartedTyping", [](RoomChat& r, const Applying& a, const Event& e) { r.on_typing(a, e, true); }},
        {"userStoppedTyping", [](RoomChat& r, const Applying& a, const Event& e) { r.on_typing(a, e, false); }},
    };
    return table;
}

void RoomChat::submit(Socket& socket, const Event& event) {
    log_.append(Change(Change::Chat::rooms, std::string(event.name), now_ms()).acting(socket.id()),
                &event.payload);
}

void RoomChat::apply(const Change& change, const rapidjson::Value& payload, bool own) {
    const Applying a{change, change.socket.empty() ? nullptr : nsp_.find(change.socket), own};
    const Event event{change.kind, payload, {}, std::nullopt};
    if (a.change.kind == "disconnect") on_disconnect(a);
    else if (a.change.kind == "grace") grace_expired(a);
    else if (a.change.kind == "node_gone") node_gone(a, event);
    else if (auto handler = handlers().find(a.change.kind); handler != handlers().end()) handler->second(*this, a, event);
    else spdlog::warn("Cluster: room change \"{}\" unknown to this version, skipped", a.change.kind);
}

RoomChat::~RoomChat() {
    nsp_.on_connect(nullptr);
    nsp_.on_disconnect(nullptr);
}

void RoomChat::add_main_room(std::int64_t room_id) {
    Room room;
    room.key = room_key(room_id, 0);
    rooms_.emplace(room.key, std::move(room));
}

void RoomChat::add_private_room(const store::PrivateRoom& private_room) {
    Room room;
    room.key = room_key(private_room.parent_id, private_room.id);
    room.title = private_room.title;
    room.owner = private_room.owner;
    rooms_.emplace(room.key, std::move(room));
}

// ---------------------------------------------------------------------------------------------
// Helpers

RoomChat::Subscriber* RoomChat::find_subscriber(std::int64_t id) {
    auto found = subscribers_.find(id);
    return found == subscribers_.end() ? nullptr : &found->second;
}

RoomChat::Subscriber* RoomChat::subscriber_of(const Applying& a) {
    auto user = remote_sockets_.user_of(a.change, logged_in_user(a.socket));
    return user ? find_subscriber(*user) : nullptr;
}

RoomChat::Room* RoomChat::find_room(const std::string& key) {
    auto found = rooms_.find(key);
    return found == rooms_.end() ? nullptr : &found->second;
}

SubscriberView RoomChat::view(const Subscriber& s) const { return {s.id, s.name, s.profile_picture_visible}; }

std::vector<SubscriberView> RoomChat::userlist_of(const Room& room) const {
    std::vector<SubscriberView> users;
    for (auto id : room.joined) {
        if (!room.subscribers.count(id)) continue;
        auto found = subscribers_.find(id);
        if (found != subscribers_.end()) users.push_back(view(found->second));
    }
    return users;
}

std::vector<Socket*> RoomChat::sockets_of(const Subscriber& s) const {
    std::vector<Socket*> sockets;
    for (const auto& id : s.sockets)
        if (Socket* socket = nsp_.find(id)) sockets.push_back(socket);
    return sockets;
}

void RoomChat::emit_to_subscriber(const Subscriber& s, std::string_view event, const std::string& json) {
    nsp_.emit_to(sockets_of(s), event, json);
}

void RoomChat::emit_userlist(const Room& room, const RoomRef& ref) {
    if (!userlists_sent_.insert(room.key).second) {
        userlists_due_.insert_or_assign(room.key, ref);
        return;
    }
    if (!end_of_turn_.running()) end_of_turn_.start(std::chrono::milliseconds(0));
    nsp_.emit_to_room(room.key, "userlist", userlist(now_ms(), ref, userlist_of(room)));
}

void RoomChat::flush_userlists() {
    auto due = std::exchange(userlists_due_, {});
    userlists_sent_.clear();
    for (const auto& [key, ref] : due)
        if (const Room* room = find_room(key))
            nsp_.emit_latest_to_room(key, "userlist", userlist(now_ms(), ref, userlist_of(*room)));
}

void RoomChat::cancel_grace(std::int64_t user_id) {
    grace_keepers_.erase(user_id);
    if (auto found = grace_timers_.find(user_id); found != grace_timers_.end()) found->second->cancel();
}

void RoomChat::ignored(const Applying& a, std::string_view reason) {
    // Counted where the event came in, once in a cluster.
    if (options_.metrics && a.own) options_.metrics->ignored_events("/" + client_name_, reason).Increment();
}

void RoomChat::write(const Applying& a, store::WriteRecord record) {
    if (a.own) database_.write(std::move(record));
}

// ---------------------------------------------------------------------------------------------
// Socket events

void RoomChat::on_login(const Applying& a, const Event& event) {
    if (event.arg_count() < 2) return;
    auto user_id = text::integer_of(event.arg(1));
    if (!user_id) return;
    cancel_grace(*user_id);
    Subscriber* subscriber = find_subscriber(*user_id);
    if (!subscriber) {
        // docs/decisions.md D3: the client's intended path, a "connection lost" page.
        spdlog::info("Login of unknown subscriber {} in namespace {}: shutdown", *user_id, client_name_);
        if (a.socket) a.socket->emit("shutdown");
        return;
    }
    if (event.arg(0).IsString()) subscriber->name.assign(event.arg(0).GetString(), event.arg(0).GetStringLength());
    if (event.arg_count() > 2) subscriber->profile_picture_visible = truthy(event.arg(2));
    if (std::find(subscriber->sockets.begin(), subscriber->sockets.end(), a.change.socket) == subscriber->sockets.end())
        subscriber->sockets.push_back(a.change.socket);
    if (a.socket) {
        a.socket->attachment = std::make_unique<LoggedIn>(*user_id);
        a.socket->emit("loggedIn");
    } else {
        remote_sockets_.logged_in(a.change, *user_id);
    }
    spdlog::info("Subscriber {} connected for namespace {}", subscriber->name, client_name_);
}

void RoomChat::on_enter_room(const Applying& a, const Event& event) {
    Subscriber* subscriber = subscriber_of(a);
    auto where = event_room(event, 0);
    Room* room = where ? find_room(where->key) : nullptr;
    if (!subscriber || !room) {
        spdlog::warn("enterRoom ignored in namespace {}: {}", client_name_, subscriber ? "unknown room" : "not logged in");
        ignored(a, subscriber ? "unknown_room" : "not_logged_in");
        return;
    }
    cancel_grace(subscriber->id);
    const bool already_joined = room->is_joined(subscriber->id);
    if (a.socket) a.socket->join(room->key);
    if (room->subscribers.count(subscriber->id) && !already_joined) room->joined.push_back(subscriber->id);

    const std::int64_t ts = a.change.ts;
    if (a.socket) a.socket->emit("private_room_entered", enter_action(ts, where->ref, view(*subscriber)));
    emit_userlist(*room, where->ref);
    if (!already_joined) {
        const std::string data = json_object({{"id", std::to_string(subscriber->id)},
                                              {"username", json_string(subscriber->name)},
                                              {"title", json_string(room->title)}});
        const bool private_room = where->sub_id != 0;
        if (a.socket)
            a.socket->emit("notice", notice(ts, where->ref, private_room ? "private_room_entered" : "welcome_to_chat", data));
        nsp_.emit_to_room(room->key, "notice",
                          notice(ts, where->ref, private_room ? "private_room_entered_user" : "connect", data), a.socket);
    }
    spdlog::info("Subscriber {} enters room {} of namespace {}", subscriber->name, room->key, client_name_);
}

void RoomChat::on_message(const Applying& a, const Event& event) {
    Subscriber* subscriber = subscriber_of(a);
    if (!subscriber) {
        spdlog::error("Missing subscriber, don't process message");
        ignored(a, "not_logged_in");
        return;
    }
    auto where = event_room(event, 1);
    Room* room = where ? find_room(where->key) : nullptr;
    if (!room || !event.arg(0).IsObject()) {
        spdlog::warn("message ignored in namespace {}: unknown room or malformed data", client_name_);
        ignored(a, "malformed");
        return;
    }
    // docs/decisions.md D15: only a subscriber who entered the room may post to it.
    if (!room->is_joined(subscriber->id) || !room->subscribers.count(subscriber->id)) {
        spdlog::warn("message of subscriber {} to room {} ignored: not in the room", subscriber->id, room->key);
        ignored(a, "not_in_room");
        return;
    }
    const rapidjson::Value& data = event.arg(0);
    std::string content;
    if (auto c = data.FindMember("content"); c != data.MemberEnd())
        content = c->value.IsString() ? std::string(c->value.GetString(), c->value.GetStringLength())
                                      : text::to_json(c->value);
    if (options_.html_escape) content = html_escape(content);
    std::optional<std::string> format, target;
    if (auto f = data.FindMember("format"); f != data.MemberEnd()) format = text::to_json(f->value);
    const rapidjson::Value* target_value = nullptr;
    if (auto t = data.FindMember("target"); t != data.MemberEnd() && !t->value.IsNull()) {
        target_value = &t->value;
        target = text::to_json(t->value);
    }

    auto build = [&](std::int64_t timestamp) {
        return text_message(timestamp, where->ref, content, view(*subscriber), format, target);
    };
    const std::int64_t ts = a.change.ts;
    const std::string message = build(ts);
    const bool whisper = target_value && target_value->IsObject() &&
                         !(target_value->HasMember("public") && truthy((*target_value)["public"]));
    if (whisper) {
        std::vector<Socket*> receivers = sockets_of(*subscriber);
        if (auto id = target_value->FindMember("id"); id != target_value->MemberEnd()) {
            // docs/decisions.md D18: an unknown target still reaches the sender and is stored.
            if (auto target_id = text::integer_of(id->value))
                if (Subscriber* to = find_subscriber(*target_id); to && to != subscriber)
                    for (Socket* s : sockets_of(*to)) receivers.push_back(s);
        }
        nsp_.emit_to(receivers, "message", message);
    } else {
        nsp_.emit_to_room(room->key, "message", message);
    }
    if (options_.metrics && a.own) options_.metrics->chat_messages(whisper ? "whisper" : "room").Increment();
    write(a, store::RoomMessageWrite{where->room_id, where->sub_id, build(ts / 1000), ts / 1000});
    spdlog::debug("Message send to room {} of namespace {}", room->key, client_name_);
}

void RoomChat::on_typing(const Applying& a, const Event& event, bool started) {
    Subscriber* subscriber = subscriber_of(a);
    auto where = event_room(event, 0);
    Room* room = where ? find_room(where->key) : nullptr;
    if (!subscriber || !room) return;
    if (!room->subscribers.count(subscriber->id) || !room->is_joined(subscriber->id)) {
        spdlog::debug("Subscriber is not in room, don't process message");
        ignored(a, "not_in_room");
        return;
    }
    std::vector<Socket*> receivers;
    for (auto id : room->subscribers) {
        if (id == subscriber->id) continue;
        if (Subscriber* other = find_subscriber(id))
            for (Socket* s : sockets_of(*other)) receivers.push_back(s);
    }
    nsp_.emit_to(receivers, started ? "userStartedTyping" : "userStoppedTyping",
                 typing(a.change.ts, where->ref, started, view(*subscriber)));
}

void RoomChat::on_disconnect(const Applying& a) {
    // The socket is gone by now: it names its user itself, unless its login was not applied
    // before it closed (then it is a remote socket).
    const auto user = remote_sockets_.closed(a.change);
    Subscriber* subscriber = user ? find_subscriber(*user) : nullptr;
    if (!subscriber) {
        spdlog::debug("Close socket with no subscriber");
        return;
    }
    socket_gone(a, *subscriber, a.change.socket);
}

void RoomChat::socket_gone(const Applying& a, Subscriber& subscriber, const std::string& socket) {
    auto& sockets = subscriber.sockets;
    sockets.erase(std::remove(sockets.begin(), sockets.end(), socket), sockets.end());
    // docs/decisions.md D4: the user leaves only when no socket of theirs remains after the grace;
    // the node that made the change keeps the time.
    if (!sockets.empty()) return;
    const std::int64_t user_id = subscriber.id;
    grace_keepers_.insert_or_assign(user_id, a.change.node);
    // Also when the change is read again to rebuild the state: the timer went with the old one.
    if (a.change.node == log_.node()) start_grace(user_id);
}

void RoomChat::start_grace(std::int64_t user_id) {
    auto& timer = grace_timers_[user_id];
    if (!timer)
        timer = std::make_unique<net::LoopTimer>(timers_, [this, user_id] {
            log_.append(Change(Change::Chat::rooms, "grace", now_ms()).acting({}, user_id));
        });
    timer->start(options_.disconnect_grace);
}

void RoomChat::node_gone(const Applying& a, const Event& event) {
    if (event.arg_count() < 1 || !event.arg(0).IsString()) return;
    const std::string gone(event.arg(0).GetString(), event.arg(0).GetStringLength());
    if (gone == log_.node()) {
        // This node was taken for gone (it could not report): its users are no longer in the
        // others' rooms, so they must come back, through the balancer, and log in again.
        spdlog::warn("Cluster: this node was taken for gone; closing the sockets of namespace {}", client_name_);
        nsp_.reconnect_all();
        return;
    }
    for (const auto& socket : remote_sockets_.of_node(gone)) {
        const auto user = remote_sockets_.take(socket);
        if (Subscriber* subscriber = user ? find_subscriber(*user) : nullptr) socket_gone(a, *subscriber, socket);
    }
    // Graces the gone node kept run on here, on the node that noticed.
    for (auto& [user, keeper] : grace_keepers_) {
        if (keeper != gone) continue;
        keeper = a.change.node;
        if (a.change.node == log_.node())
            if (Subscriber* subscriber = find_subscriber(user)) socket_gone(a, *subscriber, {});
    }
}

void RoomChat::grace_expired(const Applying& a) {
    const std::int64_t user_id = a.change.user;
    grace_keepers_.erase(user_id);
    Subscriber* subscriber = find_subscriber(user_id);
    if (!subscriber || !subscriber->sockets.empty()) return;
    std::vector<std::int64_t> room_ids, proom_ids, closed_ids;
    const std::int64_t ts = a.change.ts;
    for (auto& [key, room] : rooms_) {
        if (!room.subscribers.count(user_id)) continue;
        room.leave(user_id);
        room.subscribers.erase(user_id);
        if (const auto sub = text::integer_of(std::string_view(key).substr(key.find('_') + 1)).value_or(0); sub != 0) {
            proom_ids.push_back(sub);
            if (room.subscribers.empty()) closed_ids.push_back(sub);
        }
        const auto underscore = key.find('_');
        RoomRef ref{json_string(key.substr(0, underscore)), std::nullopt};
        if (schema_.private_rooms) ref.sub_room_id_json = json_string(key.substr(underscore + 1));
        emit_userlist(room, ref);
        nsp_.emit_to_room(key, "notice",
                          notice(ts, ref, "disconnected", json_object({{"username", json_string(subscriber->name)}})));
        const auto room_id = text::integer_of(key).value_or(0);
        if (std::find(room_ids.begin(), room_ids.end(), room_id) == room_ids.end()) room_ids.push_back(room_id);
    }
    subscribers_.erase(user_id);
    if (schema_.private_rooms && !proom_ids.empty())
        write(a, store::PrivateRoomsLeftWrite{user_id, std::move(proom_ids), std::move(closed_ids), ts / 1000});
    write(a, store::UserLeftWrite{user_id, std::move(room_ids), ts / 1000});
}

// ---------------------------------------------------------------------------------------------
// Backend tasks

HttpResponse RoomChat::subscribe(std::int64_t user_id) {
    cancel_grace(user_id);
    spdlog::info("New Subscriber {} of namespace {}", user_id, client_name_);
    subscribers_.try_emplace(user_id, Subscriber{user_id, {}, std::nullopt, {}});
    return json_body(R"({"status":200})");
}

HttpResponse RoomChat::enter_room(const std::string& room_id, const SubRoom& sub_id, std::int64_t user_id) {
    Room* room = find_room(room_key(room_id, sub_id));
    if (!room || !find_subscriber(user_id)) return json_body(R"({"success":false})");
    room->subscribers.insert(user_id);
    return sub_id ? success_with_sub_room(std::to_string(sub_number(sub_id))) : success();
}

HttpResponse RoomChat::create_room(std::int64_t ts, const std::string& room_id, const SubRoom& sub_id,
                                   const std::string& owner, const std::string& title) {
    const std::string key = room_key(room_id, sub_id);
    if (!rooms_.count(key)) {
        Room room;
        room.key = key;
        room.title = title;
        room.owner = owner;
        rooms_.emplace(key, std::move(room));
        if (sub_number(sub_id) > 0)
            if (Subscriber* creator = find_subscriber(text::integer_of(owner).value_or(0)))
                emit_to_subscriber(*creator, "private_room_created",
                                   create_action(ts, url_room(room_id, sub_id), title, owner));
    }
    return sub_id ? success_with_sub_room(std::to_string(sub_number(sub_id))) : success();
}

HttpResponse RoomChat::leave_room(std::int64_t ts, const std::string& room_id, const SubRoom& sub_id,
                                  std::int64_t user_id) {
    Room* room = find_room(room_key(room_id, sub_id));
    if (!room) return HttpResponse::json_error(404, "Unknown room");
    Subscriber* subscriber = find_subscriber(user_id);
    if (!subscriber || !room->subscribers.count(user_id)) return HttpResponse::json_error(404, "Unknown subscriber");
    room->leave(user_id);
    const auto ref = url_room(room_id, sub_id);
    if (Room* main_room = find_room(room_key(room_id, std::nullopt))) {
        const auto main_ref = url_room(room_id, sub_id ? std::optional<std::string>("0") : std::nullopt);
        const auto main_list = userlist(ts, main_ref, userlist_of(*main_room));
        for (Socket* socket : sockets_of(*subscriber)) {
            socket->leave(room->key);
            socket->emit("notice", notice(ts, ref, "left", std::nullopt));
            socket->emit("userlist", main_list);
        }
    }
    emit_userlist(*room, ref);
    nsp_.emit_to_room(room->key, "notice",
                      notice(ts, ref, "private_room_left",
                             json_object({{"user", json_string(subscriber->name)}, {"title", json_string(room->title)}})));
    return sub_id ? success_with_sub_room(std::to_string(sub_number(sub_id))) : success();
}

HttpResponse RoomChat::invite(std::int64_t ts, const std::string& room_id, const SubRoom& sub_id, std::int64_t user_id,
                              std::int64_t invited_id) {
    Room* room = find_room(room_key(room_id, sub_id));
    if (!room) return HttpResponse::json_error(404, "Unknown room");
    Subscriber& invitee = subscribers_.try_emplace(invited_id, Subscriber{invited_id, {}, std::nullopt, {}}).first->second;
    room->subscribers.insert(invited_id);
    const auto ref = url_room(room_id, sub_id, IdForm::string);
    if (Subscriber* inviter = find_subscriber(user_id)) {
        emit_to_subscriber(*inviter, "notice", notice(ts, ref, "user_invited", std::nullopt));
        emit_to_subscriber(invitee, "user_invited", invite_action(ts, ref, room->title, room->owner));
        // docs/decisions.md D14: the intended data, not the original's -1.
        emit_to_subscriber(invitee, "notice",
                           notice(ts, ref, "user_invited_self",
                                  json_object({{"user", json_string(inviter->name)}, {"room", json_string(room->title)}})));
    }
    return sub_id ? success_with_sub_room(json_string(*sub_id)) : success();
}

HttpResponse RoomChat::delete_room(std::int64_t ts, const std::string& room_id, const std::string& sub_id) {
    const std::string key = room_key(room_id, sub_id);
    Room* room = find_room(key);
    if (!room) return HttpResponse::json_error(404, "Unknown room");
    const auto ref = url_room(room_id, sub_id);
    const std::string deleted = plain_action(ts, ref, "private_room_deleted", "private_room_deleted");
    for (auto id : room->subscribers)
        if (Subscriber* s = find_subscriber(id))
            for (Socket* socket : sockets_of(*s)) {
                socket->leave(key);
                socket->emit("private_room_deleted", deleted);
            }
    nsp_.emit_to_room(room_key(room_id, std::nullopt), "notice",
                      notice(ts, url_room(room_id, std::string("0")), "private_room_closed",
                             json_object({{"title", json_string(room->title)}})));
    rooms_.erase(key);
    return success_with_sub_room(json_string(sub_id));
}

HttpResponse RoomChat::clear_messages(std::int64_t ts, const std::string& room_id, const SubRoom& sub_id) {
    const std::string key = room_key(room_id, sub_id);
    // The Node server emitted to the empty socket.io room and answered success: no exception
    // there, so D2's error does not apply.
    if (!find_room(key)) return success();
    const auto ref = url_room(room_id, sub_id);
    nsp_.emit_to_room(key, "clear", plain_action(ts, ref, "clear", "history_has_been_cleared"));
    nsp_.emit_to_room(key, "notice", notice(ts, ref, "history_has_been_cleared", std::nullopt));
    return success();
}

HttpResponse RoomChat::kick(std::int64_t ts, const std::string& room_id, const SubRoom& sub_id, std::int64_t user_id) {
    const std::string key = room_key(room_id, sub_id);
    Room* room = find_room(key);
    if (!room) return HttpResponse::json_error(404, "Unknown room");
    Subscriber* subscriber = find_subscriber(user_id);
    if (!subscriber || !room->subscribers.count(user_id)) return success();
    room->subscribers.erase(user_id);
    room->leave(user_id);
    const auto ref = url_room(room_id, sub_id);
    const std::string kicked = plain_action(ts, ref, "userjustkicked", "userjustkicked");
    const std::string kicked_notice =
        notice(ts, ref, "kicked_from_private_room", json_object({{"title", json_string(room->title)}}));
    for (Socket* socket : sockets_of(*subscriber)) {
        socket->emit("userjustkicked", kicked);
        socket->emit("notice", kicked_notice);
        socket->leave(key);
    }
    emit_userlist(*room, ref);
    nsp_.emit_to_room(key, "notice", notice(ts, ref, "user_kicked", json_object({{"user", json_string(subscriber->name)}})));
    return success();
}

HttpResponse RoomChat::ban(std::int64_t ts, const std::string& room_id, std::int64_t user_id) {
    Subscriber* subscriber = find_subscriber(user_id);
    if (!subscriber) return success();
    const std::string prefix = std::to_string(text::integer_of(room_id).value_or(0)) + "_";
    for (auto& [key, room] : rooms_) {
        if (!key.starts_with(prefix) || !room.subscribers.count(user_id)) continue;
        room.subscribers.erase(user_id);
        room.leave(user_id);
        for (Socket* socket : sockets_of(*subscriber)) {
            socket->emit("userjustbanned");
            socket->leave(key);
        }
        RoomRef ref{json_string(room_id), std::nullopt};
        if (schema_.private_rooms) ref.sub_room_id_json = json_string(key.substr(prefix.size()));
        emit_userlist(room, ref);
        nsp_.emit_to_room(key, "notice",
                          notice(ts, ref, "user_banned", json_object({{"user", json_string(subscriber->name)}})));
    }
    for (Socket* socket : sockets_of(*subscriber)) socket->attachment.reset();
    for (const auto& id : subscriber->sockets) remote_sockets_.forget(id);
    subscribers_.erase(user_id);
    return success();
}

std::string RoomChat::rooms_json() const {
    std::string json = "{";
    for (const auto& [key, room] : rooms_) {
        if (json.size() > 1) json += ',';
        auto ids = [](auto begin, auto end) {
            std::string list = "[";
            for (auto it = begin; it != end; ++it) list += (list.size() > 1 ? "," : "") + std::to_string(*it);
            return list + "]";
        };
        json += json_string(key) + ":" +
                json_object({{"title", json_string(room.title)},
                             {"subscribers", ids(room.subscribers.begin(), room.subscribers.end())},
                             {"joined", ids(room.joined.begin(), room.joined.end())}});
    }
    return json + "}";
}

HttpResponse RoomChat::get_rooms() const {
    std::string body = R"({"rooms":{)";
    bool first = true;
    for (const auto& [key, room] : rooms_) {
        if (!first) body += ',';
        first = false;
        body += json_string(key) + ":{}";
    }
    return json_body(body + "}}");
}

}  // namespace ilchat::chat
