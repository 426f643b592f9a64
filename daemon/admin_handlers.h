#pragma once

#include <functional>
#include <span>
#include <string_view>

#include "common/admin/admin_protocol.h"

namespace ilchat {

class Daemon;

// The daemon's side of the admin commands: one handler per command of admin::commands(), in one
// table (daemon/admin_handlers.cpp). Adding a command is a row there and a row in
// common/admin/admin_protocol.cpp; ilchatctl and README follow from the latter.
struct AdminHandler {
    std::string_view command;
    // Control loop; answers through `done` on the control loop, possibly after asking the
    // network loop.
    void (*run)(Daemon& daemon, const admin::Request& request, std::function<void(admin::Reply)> done);
};

std::span<const AdminHandler> admin_handlers();

// Control loop: parses one request line and runs its command; `done` gets the reply (also for a
// malformed request or an unknown command).
void handle_admin_request(Daemon& daemon, std::string_view line, std::function<void(admin::Reply)> done);

}  // namespace ilchat
