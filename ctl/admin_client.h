#pragma once

#include <chrono>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <rapidjson/document.h>

// The client side of ilchatd's admin socket (daemon/ops/admin_commands.h): one JSON request line
// {"command": ..., "arguments": {...}}, one JSON reply line {"result", "text", "arguments"}.
namespace ilchat::ctl {

constexpr const char* default_admin_socket = "/run/ilchatd/admin.sock";

struct AdminAnswer {
    int result = 0;  // 0 ok, 1 failed, 2 unknown command
    std::string text;
    rapidjson::Document arguments{rapidjson::kObjectType};  // empty when the command answers in its text alone
};

// Why no answer came, in words for the operator (says which socket, and what to do).
class AdminError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

using AdminArguments = std::vector<std::pair<std::string, std::string>>;

// Sends one command and waits up to `timeout` (zero: no limit) for its reply. Throws AdminError
// when the daemon is not running, refuses this user, or answers nothing or garbage.
AdminAnswer ask_admin(const std::string& socket_path, std::string_view command, const AdminArguments& arguments,
                      std::chrono::milliseconds timeout);

}  // namespace ilchat::ctl
