// RoomChat's state as one JSON text and back (docs/cluster.md, "Snapshots and catch-up").
#include <spdlog/spdlog.h>

#include "daemon/chat/room_chat.h"
#include "daemon/chat/snapshot_json.h"

namespace ilchat::chat {

using namespace snapshot;

std::string RoomChat::snapshot() const {
    rapidjson::StringBuffer buffer;
    Writer w(buffer);
    w.StartObject();
    w.Key("rooms");
    w.StartArray();
    for (const auto& [key, room] : rooms_) {
        w.StartObject();
        w.Key("key");
        put(w, key);
        w.Key("title");
        put(w, room.title);
        w.Key("owner");
        if (room.owner) put(w, *room.owner);
        else w.Null();
        w.Key("subscribers");
        w.StartArray();
        for (auto id : room.subscribers) w.Int64(id);
        w.EndArray();
        w.Key("joined");
        w.StartArray();
        for (auto id : room.joined) w.Int64(id);
        w.EndArray();
        w.EndObject();
    }
    w.EndArray();
    w.Key("subscribers");
    w.StartArray();
    for (const auto* entry : in_order(subscribers_)) {
        const auto& [id, s] = *entry;
        w.StartObject();
        w.Key("id");
        w.Int64(id);
        w.Key("name");
        put(w, s.name);
        w.Key("picture");
        if (s.profile_picture_visible) w.Bool(*s.profile_picture_visible);
        else w.Null();
        w.Key("sockets");
        put_sockets(w, s.sockets, remote_sockets_, log_.node());
        w.EndObject();
    }
    w.EndArray();
    w.Key("graces");
    w.StartArray();
    for (const auto* entry : in_order(grace_keepers_)) {
        const auto& [user, keeper] = *entry;
        w.StartArray();
        w.Int64(user);
        put(w, keeper);
        w.EndArray();
    }
    w.EndArray();
    w.EndObject();
    return buffer.GetString();
}

void RoomChat::restore(const rapidjson::Value& state) {
    if (!state.IsObject()) return;
    rooms_.clear();
    subscribers_.clear();
    remote_sockets_.clear();
    grace_keepers_.clear();
    for (auto& [user, timer] : grace_timers_) timer->cancel();
    for (const auto& r : array_member(state, "rooms").GetArray()) {
        Room room;
        room.key = string_member(r, "key");
        room.title = string_member(r, "title");
        if (auto owner = r.FindMember("owner"); owner != r.MemberEnd() && owner->value.IsString())
            room.owner = string_of(owner->value);
        for (const auto& id : array_member(r, "subscribers").GetArray())
            if (id.IsInt64()) room.subscribers.insert(id.GetInt64());
        for (const auto& id : array_member(r, "joined").GetArray())
            if (id.IsInt64()) room.joined.push_back(id.GetInt64());
        if (!room.key.empty()) rooms_.insert_or_assign(room.key, std::move(room));
    }
    for (const auto& s : array_member(state, "subscribers").GetArray()) {
        Subscriber subscriber{integer_of(s, "id"), string_member(s, "name"), std::nullopt, {}};
        if (auto picture = s.FindMember("picture"); picture != s.MemberEnd() && picture->value.IsBool())
            subscriber.profile_picture_visible = picture->value.GetBool();
        subscriber.sockets = take_sockets(array_member(s, "sockets"), subscriber.id, nsp_, remote_sockets_);
        subscribers_.insert_or_assign(subscriber.id, std::move(subscriber));
    }
    for (const auto& g : array_member(state, "graces").GetArray()) {
        if (!g.IsArray() || g.Size() != 2 || !g[0].IsInt64()) continue;
        const std::int64_t user = g[0].GetInt64();
        const std::string keeper = string_of(g[1]);
        grace_keepers_.insert_or_assign(user, keeper);
        // A grace this node keeps starts again: its timer did not come with the snapshot.
        if (keeper == log_.node()) start_grace(user);
    }
    // Local sockets follow the rooms they are in now.
    nsp_.for_each_socket([&](net::sio::Socket& socket) {
        const LoggedIn* user = logged_in(socket);
        for (const auto& [key, room] : rooms_) {
            if (user && room.is_joined(user->user_id)) socket.join(key);
            else socket.leave(key);
        }
    });
    spdlog::info("Cluster: {} rooms and {} subscribers of namespace {} restored", rooms_.size(), subscribers_.size(),
                 client_name_);
}

}  // namespace ilchat::chat
