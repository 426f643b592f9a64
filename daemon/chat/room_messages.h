#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/text/json.h"

// The message objects of the repository chat (docs/protocol.md, "The chat namespaces") as JSON text. Every object starts
// with type, timestamp (ms, or s for storage), content and roomId (and subRoomId for ILIAS <= 8
// clients), in the order the Node server creates them.
namespace ilchat::chat {

// How a room is named in a message: roomId exactly as the client or the URL gave it (a number,
// or a string where the original sends one) and, for ILIAS <= 8, the subRoomId likewise.
struct RoomRef {
    std::string room_id_json;
    std::optional<std::string> sub_room_id_json;
};

struct SubscriberView {
    std::int64_t id = 0;
    std::string name;
    std::optional<bool> profile_picture_visible;  // only when the client sent it
};

std::string text_message(std::int64_t timestamp, const RoomRef& room, std::string_view content,
                         const SubscriberView& from, std::optional<std::string_view> format_json,
                         std::optional<std::string_view> target_json);
std::string notice(std::int64_t timestamp, const RoomRef& room, std::string_view content,
                   std::optional<std::string_view> data_json);
std::string userlist(std::int64_t timestamp, const RoomRef& room, const std::vector<SubscriberView>& users);
std::string enter_action(std::int64_t timestamp, const RoomRef& room, const SubscriberView& subscriber);
// clear, userjustkicked, private_room_deleted: type and content only.
std::string plain_action(std::int64_t timestamp, const RoomRef& room, std::string_view type, std::string_view content);
std::string invite_action(std::int64_t timestamp, const RoomRef& room, std::string_view title,
                          const std::optional<std::string>& owner);
std::string typing(std::int64_t timestamp, const RoomRef& room, bool started, const SubscriberView& subscriber);
std::string create_action(std::int64_t timestamp, const RoomRef& room, std::string_view title, std::string_view owner_id);

// {"id":6,"username":"root"}: the subscriber's toString() in the Node server.
std::string subscriber_json(const SubscriberView& subscriber);

// A JSON object from alternating keys and JSON texts, e.g. {"user":"x"} for notice data.
std::string json_object(std::initializer_list<std::pair<std::string_view, std::string>> members);
using text::json_string;

}  // namespace ilchat::chat
