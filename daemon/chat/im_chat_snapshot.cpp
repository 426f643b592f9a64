// ImChat's state as one JSON text and back (docs/cluster.md, "Snapshots and catch-up").
#include <spdlog/spdlog.h>

#include "daemon/chat/im_chat.h"
#include "daemon/chat/snapshot_json.h"

namespace ilchat::chat {

using namespace snapshot;

std::string ImChat::snapshot() const {
    rapidjson::StringBuffer buffer;
    Writer w(buffer);
    w.StartObject();
    w.Key("participants");
    w.StartArray();
    for (const auto* entry : in_order(participants_)) {
        const auto& [id, p] = *entry;
        w.StartObject();
        w.Key("id");
        w.Int64(id);
        w.Key("name");
        put(w, p.name);
        w.Key("online");
        w.Bool(p.online);
        w.Key("accepts");
        w.Bool(p.accepts_messages);
        w.Key("sockets");
        put_sockets(w, p.sockets, remote_sockets_, log_.node());
        w.EndObject();
    }
    w.EndArray();
    w.Key("conversations");
    w.StartArray();
    for (const auto* entry : in_order(conversations_)) {
        const auto& [id, c] = *entry;
        w.StartObject();
        w.Key("id");
        put(w, id);
        w.Key("group");
        w.Bool(c.is_group);
        w.Key("participants");
        w.StartArray();
        for (auto user : c.participants) w.Int64(user);
        w.EndArray();
        if (const auto& m = c.latest_message) {
            w.Key("latest");
            w.StartObject();
            w.Key("id");
            put(w, m->id);
            w.Key("user");
            w.Int64(m->user_id);
            w.Key("message");
            put(w, m->message);
            w.Key("timestamp");
            w.Int64(m->timestamp);
            w.EndObject();
        }
        w.EndObject();
    }
    w.EndArray();
    if (accepting_) {
        w.Key("accepting");
        w.StartArray();
        for (auto id : sorted(*accepting_)) w.Int64(id);
        w.EndArray();
    }
    w.EndObject();
    return buffer.GetString();
}

void ImChat::restore(const rapidjson::Value& state) {
    if (!state.IsObject()) return;
    participants_.clear();
    conversations_.clear();
    remote_sockets_.clear();
    for (const auto& p : array_member(state, "participants").GetArray()) {
        Participant participant;
        participant.id = integer_of(p, "id");
        participant.name = string_member(p, "name");
        participant.online = p.HasMember("online") && p["online"].IsBool() && p["online"].GetBool();
        participant.accepts_messages = !p.HasMember("accepts") || !p["accepts"].IsBool() || p["accepts"].GetBool();
        participant.sockets = take_sockets(array_member(p, "sockets"), participant.id, nsp_, remote_sockets_);
        participants_.insert_or_assign(participant.id, std::move(participant));
    }
    for (const auto& c : array_member(state, "conversations").GetArray()) {
        Conversation conversation;
        conversation.id = string_member(c, "id");
        conversation.is_group = c.HasMember("group") && c["group"].IsBool() && c["group"].GetBool();
        for (const auto& user : array_member(c, "participants").GetArray())
            if (user.IsInt64()) conversation.participants.push_back(user.GetInt64());
        if (auto latest = c.FindMember("latest"); latest != c.MemberEnd() && latest->value.IsObject())
            conversation.latest_message = store::StoredMessage{string_member(latest->value, "id"), conversation.id,
                                                               integer_of(latest->value, "user"),
                                                               string_member(latest->value, "message"),
                                                               integer_of(latest->value, "timestamp")};
        if (!conversation.id.empty()) conversations_.insert_or_assign(conversation.id, std::move(conversation));
    }
    accepting_.reset();
    if (auto accepting = state.FindMember("accepting"); accepting != state.MemberEnd() && accepting->value.IsArray()) {
        accepting_.emplace();
        for (const auto& id : accepting->value.GetArray())
            if (id.IsInt64()) accepting_->insert(id.GetInt64());
    }
    spdlog::info("Cluster: {} participants and {} conversations of namespace {}-im restored", participants_.size(),
                 conversations_.size(), client_name_);
}

}  // namespace ilchat::chat
