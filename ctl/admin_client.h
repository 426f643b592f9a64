#pragma once

#include <chrono>
#include <stdexcept>
#include <string>
#include <string_view>

#include <rapidjson/document.h>

#include "common/admin/admin_protocol.h"
#include "common/config/server_config.h"

// The client side of ilchatd's admin socket, in the protocol both share (common/admin).
namespace ilchat::ctl {

// Where ilchatd puts its admin socket when server.cfg does not say.
inline const std::string default_admin_socket = config::ServerConfig{}.admin_socket;

struct AdminAnswer {
    int result = admin::ok;
    std::string text;
    rapidjson::Document arguments{rapidjson::kObjectType};  // empty when the command answers in its text alone
};

// Why no answer came, in words for the operator (says which socket, and what to do).
class AdminError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Sends one command and waits up to `timeout` (zero: no limit) for its reply. Throws AdminError
// when the daemon is not running, refuses this user, or answers nothing or garbage.
AdminAnswer ask_admin(const std::string& socket_path, std::string_view command, const admin::Arguments& arguments,
                      std::chrono::milliseconds timeout);

}  // namespace ilchat::ctl
