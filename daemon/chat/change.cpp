#include "daemon/chat/change.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/text/json.h"
#include "daemon/net/socketio_server.h"

namespace ilchat::chat {

namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void put(Writer& w, const char* key, std::string_view value) {
    w.Key(key);
    w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

std::string string_member(const rapidjson::Value& object, const char* key) {
    auto found = object.FindMember(key);
    if (found == object.MemberEnd() || !found->value.IsString()) return {};
    return {found->value.GetString(), found->value.GetStringLength()};
}

std::int64_t integer_member(const rapidjson::Value& object, const char* key) {
    auto found = object.FindMember(key);
    return found != object.MemberEnd() && found->value.IsInt64() ? found->value.GetInt64() : 0;
}

}  // namespace

std::string encode(const Change& c, const rapidjson::Value* parsed) {
    rapidjson::StringBuffer buffer;
    Writer w(buffer);
    w.StartObject();
    const char chat = static_cast<char>(c.chat);
    put(w, "c", std::string_view(&chat, 1));
    put(w, "k", c.kind);
    put(w, "n", c.node);
    if (!c.socket.empty()) put(w, "s", c.socket);
    if (c.user) {
        w.Key("u");
        w.Int64(c.user);
    }
    w.Key("t");
    w.Int64(c.ts);
    if (!c.id.empty()) put(w, "i", c.id);
    if (c.reply) {
        w.Key("r");
        w.Uint64(c.reply);
    }
    if (c.provisional) {
        w.Key("v");
        w.Bool(true);
    }
    w.Key("p");
    const std::string payload = !c.payload.empty() ? c.payload
                                : parsed          ? text::to_json(*parsed)
                                                  : net::sio::event_payload(c.kind, {});
    w.RawValue(payload.data(), payload.size(), rapidjson::kArrayType);
    w.EndObject();
    return buffer.GetString();
}

std::optional<Change> decode(std::string_view text, rapidjson::Document& doc) {
    doc.Parse(text.data(), text.size());
    if (doc.HasParseError() || !doc.IsObject()) return std::nullopt;
    const std::string chat = string_member(doc, "c");
    auto payload = doc.FindMember("p");
    if (chat.size() != 1 || (chat[0] != 'r' && chat[0] != 'i' && chat[0] != 'b') || payload == doc.MemberEnd() ||
        !payload->value.IsArray() || payload->value.Empty())
        return std::nullopt;
    Change c;
    c.chat = static_cast<Change::Chat>(chat[0]);
    c.kind = string_member(doc, "k");
    c.node = string_member(doc, "n");
    c.socket = string_member(doc, "s");
    c.user = integer_member(doc, "u");
    c.ts = integer_member(doc, "t");
    c.id = string_member(doc, "i");
    if (auto reply = doc.FindMember("r"); reply != doc.MemberEnd() && reply->value.IsUint64())
        c.reply = reply->value.GetUint64();
    if (auto provisional = doc.FindMember("v"); provisional != doc.MemberEnd() && provisional->value.IsBool())
        c.provisional = provisional->value.GetBool();
    if (c.kind.empty()) return std::nullopt;
    return c;
}

const rapidjson::Value& decoded_payload(const rapidjson::Document& doc) { return doc["p"]; }

}  // namespace ilchat::chat
