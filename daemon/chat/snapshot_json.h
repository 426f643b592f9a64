#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "daemon/chat/logged_in.h"
#include "daemon/chat/remote_sockets.h"
#include "daemon/net/socketio_server.h"

// What the snapshots of RoomChat and ImChat share (docs/cluster.md, "Snapshots and catch-up"):
// a user's sockets travel as [id, node] pairs, so that a node restoring one knows which are its
// own and which belong to whom.
namespace ilchat::chat::snapshot {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

// Hash containers in key order, so that the same state always gives the same text (snapshots of
// two nodes, or of one before and after a rebuild, compare as text).
template <class Map>
std::vector<const typename Map::value_type*> in_order(const Map& map) {
    std::vector<const typename Map::value_type*> entries;
    for (const auto& entry : map) entries.push_back(&entry);
    std::sort(entries.begin(), entries.end(), [](auto* a, auto* b) { return a->first < b->first; });
    return entries;
}

template <class Set>
std::vector<typename Set::value_type> sorted(const Set& set) {
    std::vector<typename Set::value_type> values(set.begin(), set.end());
    std::sort(values.begin(), values.end());
    return values;
}

inline void put(Writer& w, std::string_view text) { w.String(text.data(), static_cast<rapidjson::SizeType>(text.size())); }

inline void put_sockets(Writer& w, const std::vector<std::string>& ids, const RemoteSockets& remote,
                        const std::string& own_node) {
    w.StartArray();
    for (const auto& id : ids) {
        w.StartArray();
        put(w, id);
        put(w, remote.node_of(id).value_or(own_node));
        w.EndArray();
    }
    w.EndArray();
}

inline std::string string_of(const rapidjson::Value& v) {
    return v.IsString() ? std::string(v.GetString(), v.GetStringLength()) : std::string();
}

inline std::int64_t integer_of(const rapidjson::Value& object, const char* key) {
    auto found = object.FindMember(key);
    return found != object.MemberEnd() && found->value.IsInt64() ? found->value.GetInt64() : 0;
}

inline std::string string_member(const rapidjson::Value& object, const char* key) {
    auto found = object.FindMember(key);
    return found == object.MemberEnd() ? std::string() : string_of(found->value);
}

inline const rapidjson::Value& array_member(const rapidjson::Value& object, const char* key) {
    static const rapidjson::Value empty(rapidjson::kArrayType);
    auto found = object.FindMember(key);
    return found != object.MemberEnd() && found->value.IsArray() ? found->value : empty;
}

// The socket ids of a restored user; the sockets of other nodes are remembered in `remote`,
// those connected here are told whom they belong to.
inline std::vector<std::string> take_sockets(const rapidjson::Value& pairs, std::int64_t user,
                                             net::sio::Namespace& nsp, RemoteSockets& remote) {
    std::vector<std::string> ids;
    if (!pairs.IsArray()) return ids;
    for (const auto& pair : pairs.GetArray()) {
        if (!pair.IsArray() || pair.Size() != 2) continue;
        std::string id = string_of(pair[0]);
        if (net::sio::Socket* local = nsp.find(id)) local->attachment = std::make_unique<LoggedIn>(user);
        else remote.logged_in(id, user, string_of(pair[1]));
        ids.push_back(std::move(id));
    }
    return ids;
}

}  // namespace ilchat::chat::snapshot
