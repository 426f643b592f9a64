#include "ctl/config_files.h"

#include <cstdlib>
#include <iostream>
#include <unistd.h>

#include "common/config/json_file.h"

namespace ilchat::ctl {

std::string find_server_cfg(const std::string& option) {
    if (!option.empty()) return option;
    if (const char* variable = std::getenv(server_cfg_variable); variable && *variable) return variable;
    // A machine without that file, or an operator without access to it, goes on without it (the
    // live commands then try the default admin socket).
    return ::access(default_server_cfg, R_OK) == 0 ? default_server_cfg : std::string{};
}

std::string server_cfg_help(const std::string& what) {
    return what + " (default: $" + server_cfg_variable + ", else " + default_server_cfg + ")";
}

std::optional<config::ServerConfig> read_server_cfg(const std::string& path, bool lenient) {
    config::Diagnostics diag;
    auto doc = config::read_json_object(path, diag);
    config::ServerConfig server;
    if (doc) server = config::load_server_config(*doc, path, diag);
    std::cerr << diag.report();
    if (!doc || (!diag.ok() && !lenient)) return std::nullopt;
    return server;
}

std::optional<std::vector<config::ClientConfig>> read_client_cfgs(const std::vector<std::string>& paths) {
    config::Diagnostics diag;
    std::vector<config::ClientConfig> clients;
    for (const auto& path : paths)
        if (auto doc = config::read_json_object(path, diag))
            clients.push_back(config::load_client_config(*doc, path, diag));
    std::cerr << diag.report();
    if (!diag.ok()) return std::nullopt;
    return clients;
}

db::Endpoint endpoint_of(const config::ClientConfig& client) {
    return {client.db_host, client.db_port, client.db_name, client.db_user, client.db_pass};
}

std::string describe_database(const db::Endpoint& endpoint) {
    return endpoint.user + "@" + db::describe(endpoint) + "/" + endpoint.name;
}

}  // namespace ilchat::ctl
