#pragma once

#include <cstdint>
#include <optional>

#include "daemon/net/socketio_server.h"

namespace ilchat::chat {

// Which user a socket logged in as (room subscriber or IM participant).
struct LoggedIn final : net::sio::Socket::Attachment {
    explicit LoggedIn(std::int64_t id) : user_id(id) {}
    std::int64_t user_id;
};

inline const LoggedIn* logged_in(const net::sio::Socket& socket) {
    return dynamic_cast<const LoggedIn*>(socket.attachment.get());
}

// The user a socket of this node logged in as; none for no socket (one of another node).
inline std::optional<std::int64_t> logged_in_user(const net::sio::Socket* socket) {
    const LoggedIn* user = socket ? logged_in(*socket) : nullptr;
    return user ? std::optional(user->user_id) : std::nullopt;
}

}  // namespace ilchat::chat
