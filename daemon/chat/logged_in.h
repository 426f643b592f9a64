#pragma once

#include <cstdint>

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

}  // namespace ilchat::chat
