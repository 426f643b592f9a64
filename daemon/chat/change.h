#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <rapidjson/document.h>

namespace ilchat::chat {

// One change of a client's shared chat state (docs/cluster.md): a socket event, a socket that
// went away, a grace that ran out, a backend call, a database answer that changes state. Every
// node applies the same changes in the same order; what must not be chosen twice (the time, the
// ids) is chosen by the node where the change happened and travels with it.
struct Change {
    enum class Chat : char { rooms = 'r', im = 'i', backend = 'b' };
    Change() = default;
    Change(Chat chat_, std::string kind_, std::int64_t ts_) : chat(chat_), kind(std::move(kind_)), ts(ts_) {}
    Change&& acting(std::string socket_, std::int64_t user_ = 0) && {
        socket = std::move(socket_);
        user = user_;
        return std::move(*this);
    }
    Change&& carrying(std::string payload_, std::string id_ = {}) && {
        payload = std::move(payload_);
        id = std::move(id_);
        return std::move(*this);
    }

    Chat chat = Chat::rooms;
    std::string kind;         // socket event name, "disconnect", "grace", backend action, ...
    std::string socket;       // the acting socket's id, if any
    std::int64_t user = 0;    // the acting user, where the change names one itself
    std::int64_t ts = 0;      // the originating node's clock, milliseconds since 1970
    std::string id;           // an id the originating node chose (conversation or message UUID)
    // The payload as a Socket.IO event carries it: a JSON array, the kind first, then the
    // arguments. Empty while the change has not left this node (the parsed event is used).
    std::string payload;
    // Set by the ChangeLog.
    std::string node;         // originating node (its name and this run of it)
    std::uint64_t reply = 0;  // the originating node's waiting backend request; 0 for none
    // Applied by the originating node at once because Redis was away (docs/cluster.md).
    bool provisional = false;
};

// One stream entry's text and back. `encode` takes the payload from `parsed` when the change
// carries none yet. `decode` leaves the payload in `doc` (member "p"), parsed once; nullopt for
// text no node wrote.
std::string encode(const Change& change, const rapidjson::Value* parsed = nullptr);
std::optional<Change> decode(std::string_view text, rapidjson::Document& doc);
const rapidjson::Value& decoded_payload(const rapidjson::Document& doc);

}  // namespace ilchat::chat
