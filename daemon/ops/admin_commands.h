#pragma once

#include <functional>
#include <span>
#include <string>
#include <string_view>

#include <rapidjson/document.h>

namespace ilchat::ops {

// A reply on the admin socket: {"result": 0 ok | 1 failed | 2 unknown command, "text", "arguments"}.
struct AdminReply {
    int result = 0;
    std::string text;
    std::string arguments_json = "{}";
};

using AdminDone = std::function<void(AdminReply)>;

// What the admin commands act on; implemented by the daemon. Each answers through `done`, on the
// control loop, possibly after asking the network loop.
class AdminTarget {
public:
    virtual ~AdminTarget() = default;
    virtual void status(AdminDone done) = 0;
    virtual void stats(AdminDone done) = 0;
    virtual void config_show(AdminDone done) = 0;
    virtual void reload(AdminDone done) = 0;
    virtual void log_reopen(AdminDone done) = 0;
    virtual void log_level(const std::string& level, AdminDone done) = 0;
    virtual void namespaces(AdminDone done) = 0;
    virtual void rooms(const std::string& nsp, AdminDone done) = 0;
    virtual void connections(const std::string& nsp, AdminDone done) = 0;
    virtual void shutdown(AdminDone done) = 0;
    virtual void purge_now(AdminDone done) = 0;
    virtual void db_status(AdminDone done) = 0;
};

struct AdminCommand {
    std::string_view name;
    std::string_view usage;  // arguments, for help
    std::string_view help;
    bool mutating;
    void (*run)(AdminTarget& target, const rapidjson::Value& arguments, AdminDone done);
};

std::span<const AdminCommand> admin_commands();

// Parses one request line, runs the command, answers with one JSON line (no newline).
void handle_admin_request(AdminTarget& target, std::string_view line, std::function<void(std::string)> reply);

std::string render_admin_reply(const AdminReply& reply);

}  // namespace ilchat::ops
