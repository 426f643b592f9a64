#include "daemon/chat/room_messages.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace ilchat::chat {

namespace {

class ObjectWriter {
public:
    ObjectWriter() : writer_(buffer_) { writer_.StartObject(); }

    ObjectWriter& key(std::string_view name) {
        writer_.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
        return *this;
    }
    ObjectWriter& string(std::string_view name, std::string_view value) {
        key(name);
        writer_.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
        return *this;
    }
    ObjectWriter& integer(std::string_view name, std::int64_t value) {
        key(name);
        writer_.Int64(value);
        return *this;
    }
    ObjectWriter& boolean(std::string_view name, bool value) {
        key(name);
        writer_.Bool(value);
        return *this;
    }
    // Already-serialised JSON (client-supplied values are kept as they came).
    ObjectWriter& raw(std::string_view name, std::string_view json) {
        key(name);
        writer_.RawValue(json.data(), json.size(), rapidjson::kObjectType);
        return *this;
    }
    ObjectWriter& base(std::int64_t timestamp, const RoomRef& room, std::string_view type, std::string_view content) {
        string("type", type).integer("timestamp", timestamp).string("content", content).raw("roomId", room.room_id_json);
        if (room.sub_room_id_json) raw("subRoomId", *room.sub_room_id_json);
        return *this;
    }
    ObjectWriter& subscriber(std::string_view name, const SubscriberView& s, bool with_picture_flag) {
        key(name);
        writer_.StartObject();
        writer_.Key("id");
        writer_.Int64(s.id);
        writer_.Key("username");
        writer_.String(s.name.data(), static_cast<rapidjson::SizeType>(s.name.size()));
        if (with_picture_flag && s.profile_picture_visible) {
            writer_.Key("profile_picture_visible");
            writer_.Bool(*s.profile_picture_visible);
        }
        writer_.EndObject();
        return *this;
    }
    rapidjson::Writer<rapidjson::StringBuffer>& writer() { return writer_; }

    std::string done() {
        writer_.EndObject();
        return buffer_.GetString();
    }

private:
    rapidjson::StringBuffer buffer_;
    rapidjson::Writer<rapidjson::StringBuffer> writer_;
};

}  // namespace

std::string json_object(std::initializer_list<std::pair<std::string_view, std::string>> members) {
    ObjectWriter o;
    for (const auto& [name, json] : members) o.raw(name, json);
    return o.done();
}

std::string subscriber_json(const SubscriberView& subscriber) {
    return json_object({{"id", std::to_string(subscriber.id)}, {"username", json_string(subscriber.name)}});
}

std::string text_message(std::int64_t timestamp, const RoomRef& room, std::string_view content,
                         const SubscriberView& from, std::optional<std::string_view> format_json,
                         std::optional<std::string_view> target_json) {
    ObjectWriter o;
    o.base(timestamp, room, "message", content).subscriber("from", from, true);
    if (format_json) o.raw("format", *format_json);
    if (target_json) o.raw("target", *target_json);
    return o.done();
}

std::string notice(std::int64_t timestamp, const RoomRef& room, std::string_view content,
                   std::optional<std::string_view> data_json) {
    ObjectWriter o;
    o.base(timestamp, room, "notice", content);
    if (data_json) o.raw("data", *data_json);
    return o.done();
}

std::string userlist(std::int64_t timestamp, const RoomRef& room, const std::vector<SubscriberView>& users) {
    ObjectWriter o;
    o.base(timestamp, room, "userlist", "userlist").key("users");
    o.writer().StartObject();
    for (const auto& user : users) {
        std::string id = std::to_string(user.id);
        o.subscriber(id, user, true);
    }
    o.writer().EndObject();
    return o.done();
}

std::string enter_action(std::int64_t timestamp, const RoomRef& room, const SubscriberView& subscriber) {
    ObjectWriter o;
    o.base(timestamp, room, "private_room_entered", "private_room_entered").subscriber("subscriber", subscriber, false);
    return o.done();
}

std::string plain_action(std::int64_t timestamp, const RoomRef& room, std::string_view type, std::string_view content) {
    ObjectWriter o;
    o.base(timestamp, room, type, content);
    return o.done();
}

std::string invite_action(std::int64_t timestamp, const RoomRef& room, std::string_view title,
                          const std::optional<std::string>& owner) {
    ObjectWriter o;
    o.base(timestamp, room, "user_invited", "user_invited").string("title", title);
    o.raw("owner", owner ? json_string(*owner) : "null");
    return o.done();
}

std::string typing(std::int64_t timestamp, const RoomRef& room, bool started, const SubscriberView& subscriber) {
    const std::string_view name = started ? "user_started_typing" : "user_stopped_typing";
    ObjectWriter o;
    o.base(timestamp, room, name, name).string("subscriber", subscriber_json(subscriber));
    return o.done();
}

std::string create_action(std::int64_t timestamp, const RoomRef& room, std::string_view title, std::string_view owner_id) {
    ObjectWriter o;
    o.base(timestamp, room, "private_room_created", "private_room_created").string("title", title).string("ownerId", owner_id);
    return o.done();
}

}  // namespace ilchat::chat
